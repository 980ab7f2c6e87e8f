"""Captioned images for text-to-image GANs: exact captions made offline, and users' own captioned folders.

* ``shapes-text``: 32x32 colour scenes of one or two shapes, each with a known shape (circle, square,
  triangle), colour (red, green, blue, yellow), size (small, large) and position (the four quadrants).
  Every image gets several captions from different templates and synonyms ("a big crimson disc in the
  upper left"), so an encoder must read the words, not recognise a template. Some shape-colour pairs are
  held out of training entirely (default: green triangles, yellow circles): ``split: held-out`` draws
  scenes that contain at least one of them, to measure generalisation to unseen combinations.
* ``digits-text``: scikit-learn's digits with attribute captions ("a thick slanted seven"): the class,
  stroke thickness (ink mass above or below the class median) and slant (the shear of the pixel mass,
  -mu11/mu02, above or below the class median), measured from each image.
* ``captioned-folder``: a folder of pictures and a CSV of ``file,caption`` rows (several rows per file give
  several captions).

Images are in [0, 1]; a batch's ``y`` holds one caption per image as token ids (a random one of the
image's captions, drawn from the data stream's generator), padded with 0. The vocabulary travels in
``info["vocab"]`` so a trained run reads new sentences the same way.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ganforge.data.base import ArraySource, Batch
from ganforge.data.registry import register_source
from ganforge.data.vocabulary import Vocabulary, tokenize
from ganforge.errors import GanforgeError
from ganforge.fileio import CSV_ENCODING

SHAPES = ("circle", "square", "triangle")
COLOURS = ("red", "green", "blue", "yellow")
SIZES = ("small", "large")
POSITIONS = ("top left", "top right", "bottom left", "bottom right")
ATTRIBUTES = ("shape", "colour", "size", "position")
ATTRIBUTE_VALUES = {"shape": SHAPES, "colour": COLOURS, "size": SIZES, "position": POSITIONS}
RGB = {"red": (0.9, 0.12, 0.1), "green": (0.1, 0.75, 0.2), "blue": (0.15, 0.3, 0.95), "yellow": (0.95, 0.85, 0.1)}
HALF_SIZE = {"small": 3.5, "large": 6.5}  # pixels from the centre to the edge
CELL_CENTRES = ((8.0, 8.0), (24.0, 8.0), (8.0, 24.0), (24.0, 24.0))  # (x, y) of each position's quadrant
DEFAULT_HELD_OUT = ("green triangle", "yellow circle")
SCENE_SIZE = 32

SYNONYMS: dict[str, tuple[str, ...]] = {
    "circle": ("circle", "disc", "ball"),
    "square": ("square", "box", "block"),
    "triangle": ("triangle", "wedge", "pyramid"),
    "red": ("red", "crimson", "scarlet"),
    "green": ("green", "emerald", "lime"),
    "blue": ("blue", "navy", "azure"),
    "yellow": ("yellow", "golden", "lemon"),
    "small": ("small", "little", "tiny"),
    "large": ("large", "big", "huge"),
    "top left": ("top left", "upper left"),
    "top right": ("top right", "upper right"),
    "bottom left": ("bottom left", "lower left"),
    "bottom right": ("bottom right", "lower right"),
}
# one object: {s} size, {c} colour, {h} shape, {p} position
OBJECT_TEMPLATES = (
    "a {s} {c} {h} at the {p}",
    "a {c} {h} , {s} , in the {p}",
    "there is a {s} {c} {h} in the {p} corner",
    "{p} : a {s} {c} {h}",
    "the {p} holds a {c} {h} that is {s}",
)
JOINERS = (" and ", " , ", " ; also ", " , while ")


@dataclass
class CaptionSource(ArraySource):
    """Images (N, C, H, W) in [0, 1] with ``tokens`` (N, K, L): K captions per image as token ids.

    ``captions`` keeps the text; ``attributes`` (N, 2, 4) the shapes scenes' ground truth (shape, colour,
    size, position index per object, -1 where a scene has one object), ``None`` for other data."""

    tokens: torch.Tensor = field(default_factory=lambda: torch.empty(0, 1, 1, dtype=torch.long))
    captions: list[list[str]] = field(default_factory=list)
    attributes: torch.Tensor | None = None
    vocab: Vocabulary | None = None

    def caption_choice(self, idx: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        return torch.randint(0, self.tokens.shape[1], (idx.numel(),), generator=rng)

    def batch(self, n: int, rng: torch.Generator) -> Batch:
        idx = self._indices(n, rng)
        k = self.caption_choice(idx, rng)
        return Batch(self.scaler.to_model(self.x[idx]), self.tokens[idx, k])

    def real(self, n: int, seed: int = 12345) -> Batch:
        """``n`` real images and one of each image's captions (all chosen by ``seed``)."""
        idx, k = self.real_index(n, seed)
        return Batch(self.x[idx], self.tokens[idx, k])

    def real_index(self, n: int, seed: int = 12345) -> tuple[torch.Tensor, torch.Tensor]:
        """(image indices, caption indices) that :meth:`real` returns for ``n`` and ``seed``."""
        g = torch.Generator().manual_seed(seed)
        idx = torch.randperm(len(self), generator=g)[: min(n, len(self))]
        return idx, torch.randint(0, self.tokens.shape[1], (idx.numel(),), generator=g)


def _caption_source(
    x: torch.Tensor, captions: list[list[str]], name: str, vocab: Vocabulary, info: dict[str, object],
    attributes: torch.Tensor | None = None,
) -> CaptionSource:
    k = max(len(c) for c in captions)
    tokens = torch.zeros(len(captions), k, vocab.max_len, dtype=torch.long)
    for i, options in enumerate(captions):
        for j in range(k):  # images with fewer captions repeat theirs
            ids = vocab.encode(options[j % len(options)], f"{name} caption of image {i + 1}")
            tokens[i, j, : len(ids)] = torch.tensor(ids)
    return CaptionSource(
        kind="captioned-images", sample_shape=tuple(x.shape[1:]), name=name, x=x, bounds=(0.0, 1.0),
        per_feature_scaling=False, tokens=tokens, captions=captions, attributes=attributes, vocab=vocab,
        info={"vocab": vocab.to_dict(), **info},
    )


# ------------------------------------------------------------------------------------------- shapes


def parse_held_out(pairs: list[str] | tuple[str, ...]) -> set[tuple[int, int]]:
    """``["green triangle", ...]`` -> {(shape index, colour index)}; unknown words are one-line errors."""
    out = set()
    for pair in pairs:
        words = str(pair).lower().split()
        colour = [w for w in words if w in COLOURS]
        shape = [w for w in words if w in SHAPES]
        if len(words) != 2 or len(colour) != 1 or len(shape) != 1:
            raise GanforgeError(
                f"data.held_out: {pair!r} is not 'COLOUR SHAPE' (colours {', '.join(COLOURS)}; "
                f"shapes {', '.join(SHAPES)}), e.g. 'green triangle'"
            )
        out.add((SHAPES.index(shape[0]), COLOURS.index(colour[0])))
    if len(out) >= len(SHAPES) * len(COLOURS):
        raise GanforgeError("data.held_out: holding out every shape-colour pair leaves nothing to train on")
    return out


def sample_scenes(
    n: int, rng: np.random.Generator, held_out: set[tuple[int, int]], split: str = "train", max_objects: int = 2
) -> np.ndarray:
    """Attributes (n, 2, 4) of random scenes: 1..``max_objects`` objects in distinct quadrants, -1 rows
    for absent objects. ``train`` scenes contain no held-out shape-colour pair; ``held-out`` scenes
    contain at least one (the first object; a second one is any pair)."""
    out = np.full((n, 2, 4), -1, dtype=np.int64)
    allowed = [(s, c) for s in range(len(SHAPES)) for c in range(len(COLOURS)) if (s, c) not in held_out]
    held = sorted(held_out)
    if split == "held-out" and not held:
        raise GanforgeError("data.split 'held-out' needs data.held_out pairs, e.g. ['green triangle']")
    for i in range(n):
        count = int(rng.integers(1, max_objects + 1))
        positions = rng.permutation(len(POSITIONS))[:count]
        for j in range(count):
            pool = held if split == "held-out" and j == 0 else allowed if split == "train" else None
            if pool is None:
                s, c = int(rng.integers(len(SHAPES))), int(rng.integers(len(COLOURS)))
            else:
                s, c = pool[int(rng.integers(len(pool)))]
            out[i, j] = (s, c, int(rng.integers(len(SIZES))), positions[j])
    return out


def _signed_distance(shape: np.ndarray, dx: np.ndarray, dy: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Approximate signed distance (pixels, < 0 inside) to a circle, square or upright triangle of half-size r."""
    circle = np.sqrt(dx**2 + dy**2) - r
    square = np.maximum(np.abs(dx), np.abs(dy)) - 0.88 * r
    norm = np.hypot(1.85, 1.0)
    triangle = np.maximum(np.maximum(dy - 0.85 * r, (-1.85 * dx - (dy + r)) / norm), (1.85 * dx - (dy + r)) / norm)
    return np.where(shape == 0, circle, np.where(shape == 1, square, triangle))


def render_scenes(attributes: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
    """Images (n, 3, 32, 32) in [0, 1] of scenes (n, 2, 4): anti-aliased shapes (coverage = clip(0.5 - d))
    on a dark background, with jittered position (+-1.5 px), size (+-0.4 px) and colour (sd 0.04)."""
    n = attributes.shape[0]
    grid = np.arange(SCENE_SIZE, dtype=np.float32) + 0.5
    xs, ys = grid[None, None, :], grid[None, :, None]
    background = rng.uniform(0.0, 0.1, size=(n, 3, 1, 1)).astype(np.float32)
    image = np.broadcast_to(background, (n, 3, SCENE_SIZE, SCENE_SIZE)).copy()
    palette = np.array([RGB[c] for c in COLOURS], dtype=np.float32)
    half = np.array([HALF_SIZE[s] for s in SIZES], dtype=np.float32)
    centres = np.array(CELL_CENTRES, dtype=np.float32)
    for j in range(attributes.shape[1]):
        a = attributes[:, j]
        present = a[:, 0] >= 0
        if not present.any():
            continue
        s, c, z, p = (np.maximum(a[:, k], 0) for k in range(4))
        cx = centres[p, 0] + rng.uniform(-1.5, 1.5, n).astype(np.float32)
        cy = centres[p, 1] + rng.uniform(-1.5, 1.5, n).astype(np.float32)
        r = half[z] + rng.uniform(-0.4, 0.4, n).astype(np.float32)
        d = _signed_distance(s[:, None, None], xs - cx[:, None, None], ys - cy[:, None, None], r[:, None, None])
        cover = (np.clip(0.5 - d, 0.0, 1.0) * present[:, None, None])[:, None]
        colour = np.clip(palette[c] + rng.normal(0.0, 0.04, (n, 3)).astype(np.float32), 0.0, 1.0)
        image = image * (1 - cover) + colour[:, :, None, None] * cover
    return torch.from_numpy(image.astype(np.float32))


def _object_words(obj: np.ndarray, rng: np.random.Generator) -> dict[str, str]:
    def pick(value: str) -> str:
        options = SYNONYMS[value]
        return options[int(rng.integers(len(options)))]

    return {
        "h": pick(SHAPES[obj[0]]), "c": pick(COLOURS[obj[1]]), "s": pick(SIZES[obj[2]]), "p": pick(POSITIONS[obj[3]]),
    }


def scene_caption(scene: np.ndarray, rng: np.random.Generator) -> str:
    """One caption of a scene: each object through a random template and synonyms, objects in random order."""
    objects = [o for o in scene if o[0] >= 0]
    order = rng.permutation(len(objects))
    parts = [OBJECT_TEMPLATES[int(rng.integers(len(OBJECT_TEMPLATES)))].format(**_object_words(objects[k], rng))
             for k in order]
    return JOINERS[int(rng.integers(len(JOINERS)))].join(parts)


def caption_attributes(caption: str) -> np.ndarray:
    """The scene (2, 4) a shapes caption states, read back word by word (the inverse of the templates;
    used to check that captions say what the image holds)."""
    words = tokenize(caption)
    reverse = {syn: value for value, options in SYNONYMS.items() for syn in options if " " not in syn}
    out = np.full((2, 4), -1, dtype=np.int64)
    k, i = -1, 0
    while i < len(words):
        two = " ".join(words[i : i + 2])
        hit = next((v for v, opts in SYNONYMS.items() if v in POSITIONS and two in opts), None)
        value = hit or reverse.get(words[i])
        i += 2 if hit else 1
        if value is None:
            continue
        attr = next(a for a, values in ATTRIBUTE_VALUES.items() if value in values)
        slot = ATTRIBUTES.index(attr)
        if k < 0 or out[k, slot] >= 0:
            k += 1
        out[k, slot] = ATTRIBUTE_VALUES[attr].index(value)
    return out


def shapes_vocabulary(max_len: int = 28) -> Vocabulary:
    """Every word the shapes grammar can produce (templates, joiners, all synonyms), in a fixed order."""
    words: list[str] = []
    texts = [t.format(s="", c="", h="", p="") for t in OBJECT_TEMPLATES] + list(JOINERS)
    texts += [s for options in SYNONYMS.values() for s in options]
    for text in texts:
        for w in tokenize(text + " x")[:-1] if text.strip(" ,;:") else []:
            if w not in words:
                words.append(w)
    return Vocabulary(words, max_len)


def shape_scenes(
    n: int, seed: int, held_out: set[tuple[int, int]], split: str = "train", captions_per_image: int = 4,
    max_objects: int = 2,
) -> tuple[torch.Tensor, np.ndarray, list[list[str]]]:
    """(images, attributes, captions) of ``n`` scenes; deterministic for ``seed`` and ``split``."""
    salt = {"train": 0, "held-out": 1, "all": 2}[split]
    rng = np.random.default_rng([seed, salt])
    attributes = sample_scenes(n, rng, held_out, split, max_objects)
    images = render_scenes(attributes, rng)
    captions = [[scene_caption(a, rng) for _ in range(captions_per_image)] for a in attributes]
    return images, attributes, captions


@register_source("shapes-text")
def shapes_text(
    n: int = 8000,
    seed: int = 0,
    split: str = "train",
    held_out: list[str] = list(DEFAULT_HELD_OUT),  # noqa: B006 - read only
    captions_per_image: int = 4,
    max_objects: int = 2,
) -> CaptionSource:
    """32x32 colour scenes of 1-2 shapes with exact captions (several templates and synonyms per image).

    ``split``: ``train`` (no held-out shape-colour pair anywhere), ``held-out`` (every scene has one), or
    ``all``. ``held_out``: 'COLOUR SHAPE' pairs kept out of training (default green triangle, yellow
    circle). ``seed`` fixes the scenes; different splits of one seed never share a scene draw."""
    if split not in ("train", "held-out", "all"):
        raise GanforgeError(f"data.split: {split!r} is not one of train, held-out, all")
    if not 1 <= max_objects <= 2:
        raise GanforgeError(f"data.max_objects: {max_objects} objects do not fit; use 1 or 2")
    if not (1 <= n <= 1_000_000 and 1 <= captions_per_image <= 64 and seed >= 0):
        raise GanforgeError("data.n (1..1e6), data.captions_per_image (1..64) and data.seed (>= 0) are out of range")
    pairs = parse_held_out(held_out)
    images, attributes, captions = shape_scenes(n, seed, pairs, split, captions_per_image, max_objects)
    info = {
        "captions": "shapes", "split": split, "held_out": [str(p) for p in held_out], "attributes": list(ATTRIBUTES)
    }
    return _caption_source(
        images, captions, "shapes-text", shapes_vocabulary(), info, torch.from_numpy(attributes)
    )


# ------------------------------------------------------------------------------------------- digits

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
DIGIT_SYNONYMS = {
    "thick": ("thick", "bold", "heavy"), "thin": ("thin", "light", "fine"),
    "slanted": ("slanted", "leaning", "italic"), "upright": ("upright", "straight", "vertical"),
}
DIGIT_TEMPLATES = (
    "a {t} {s} {d}",
    "the digit {d} , {t} and {s}",
    "{d} written in a {t} {s} hand",
    "a {s} {d} with {t} strokes",
)


def digit_attributes(images: torch.Tensor, labels: torch.Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ink, shear, (thick, slanted) flags) of digit images (N, 1, H, W).

    ink = sum of pixel values; shear = -mu11 / mu02 of the pixel mass (x right, y down: a stroke leaning
    right has a positive shear). A digit is thick / slanted when its value is above its class's median."""
    x = images[:, 0].double()
    h, w = x.shape[1:]
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64), indexing="ij")
    mass = x.sum((1, 2)).clamp_min(1e-9)
    mx, my = (x * xs).sum((1, 2)) / mass, (x * ys).sum((1, 2)) / mass
    dx, dy = xs - mx[:, None, None], ys - my[:, None, None]
    mu11, mu02 = (x * dx * dy).sum((1, 2)) / mass, (x * dy * dy).sum((1, 2)) / mass
    ink, shear = mass.numpy(), (-mu11 / mu02.clamp_min(1e-9)).numpy()
    flags = np.zeros((len(labels), 2), dtype=np.int64)
    for k in np.unique(labels.numpy()):
        sel = labels.numpy() == k
        flags[sel, 0] = ink[sel] > np.median(ink[sel])
        flags[sel, 1] = shear[sel] > np.median(shear[sel])
    return ink, shear, flags


def digit_caption(label: int, flags: np.ndarray, rng: np.random.Generator) -> str:
    thick = "thick" if flags[0] else "thin"
    slant = "slanted" if flags[1] else "upright"
    digit = DIGIT_WORDS[label] if rng.random() < 0.7 else str(label)
    words = {
        "t": DIGIT_SYNONYMS[thick][int(rng.integers(3))], "s": DIGIT_SYNONYMS[slant][int(rng.integers(3))], "d": digit,
    }
    return DIGIT_TEMPLATES[int(rng.integers(len(DIGIT_TEMPLATES)))].format(**words)


@register_source("digits-text")
def digits_text(size: int = 16, seed: int = 0, captions_per_image: int = 4) -> CaptionSource:
    """scikit-learn's 1,797 digits (resized to ``size``) with captions of class, thickness and slant
    measured from each image ("a thick slanted seven", "the digit 7 , bold and leaning")."""
    from ganforge.data.images import digits_images, resize_images

    if size not in (16, 32):
        raise GanforgeError(f"data.size: {size}; digits-text images are 16 or 32 pixels wide")
    if not (1 <= captions_per_image <= 64 and seed >= 0):
        raise GanforgeError("data.captions_per_image (1..64) and data.seed (>= 0) are out of range")
    images, labels = digits_images()
    x = resize_images(images, size).clamp(0.0, 1.0)
    _, _, flags = digit_attributes(images, labels)
    rng = np.random.default_rng(seed)
    captions = [[digit_caption(int(labels[i]), flags[i], rng) for _ in range(captions_per_image)]
                for i in range(len(labels))]
    words: list[str] = []
    for t in DIGIT_TEMPLATES:
        words += [w for w in tokenize(t.format(t="", s="", d="x")) if w != "x"]
    words += [w for opts in DIGIT_SYNONYMS.values() for w in opts] + list(DIGIT_WORDS) + [str(i) for i in range(10)]
    vocab = Vocabulary(list(dict.fromkeys(words)), 12)
    attributes = torch.full((len(labels), 2, 4), -1, dtype=torch.long)
    attributes[:, 0, 0], attributes[:, 0, 1:3] = labels, torch.from_numpy(flags)
    info = {"captions": "digits", "attributes": ["class", "thick", "slanted"]}
    return _caption_source(x, captions, "digits-text", vocab, info, attributes)


# ------------------------------------------------------------------------------------------- user data


def read_caption_csv(path: Path) -> list[tuple[str, str, int]]:
    """(file, caption, line) rows of a caption CSV; a first row ``file,caption`` is a header."""
    try:
        with path.open(newline="", encoding=CSV_ENCODING) as handle:
            rows = list(csv.reader(handle))
    except UnicodeDecodeError:
        raise GanforgeError(f"{path}: not UTF-8 text; save the captions as a UTF-8 CSV of file,caption") from None
    out = []
    for line, row in enumerate(rows, 1):
        if not row or all(not cell.strip() for cell in row):
            continue
        if line == 1 and [c.strip().lower() for c in row[:2]] == ["file", "caption"]:
            continue
        if len(row) < 2:
            raise GanforgeError(f"{path}, line {line}: expected 'file,caption', got {','.join(row)!r}")
        out.append((row[0].strip(), ",".join(row[1:]).strip(), line))
    if not out:
        raise GanforgeError(f"{path}: no 'file,caption' rows; write one row per captioned image")
    return out


def _note_uncaptioned(folder: Path, table: Path, listed: dict[str, list[str]]) -> None:
    """One note on stderr with the count of pictures directly in ``folder`` that ``table`` gives no caption:
    they are left out of training, which a user who captioned only some of them (or misspelt a name) should
    hear of rather than find a smaller data set."""
    from ganforge.data.image_files import _images_in

    pictures = _images_in(folder, recursive=False)
    used = {(folder / f).resolve() for f in listed}
    missing = sum(p.resolve() not in used for p in pictures)
    if missing:
        print(f"note: {missing} of {len(pictures)} pictures in {folder} have no caption in {table.name} and are "
              "left out", file=sys.stderr)


@register_source("captioned-folder")
def captioned_folder(
    path: str,
    captions: str | None = None,
    size: int = 32,
    grayscale: bool | None = None,
    max_len: int | None = None,
) -> CaptionSource:
    """A folder of pictures and a CSV of ``file,caption`` rows (default ``PATH/captions.csv``; a relative
    ``captions`` path is looked up in the working directory, then in the folder). Pictures are centre-cropped
    and resized to ``size``; files listed several times get several captions; the vocabulary is every word
    of the captions, ``max_len`` words per caption (default: the longest)."""
    from ganforge.data.image_files import read_image
    from ganforge.data.images import check_size, set_channels

    check_size(size, "data")
    if max_len is not None and not 1 <= max_len <= 1024:
        raise GanforgeError(f"data.max_len: {max_len} words per caption; use 1 to 1024")
    folder = Path(path).expanduser()
    if not folder.is_dir():  # `ganforge train text2image` alone reads the recipe's placeholder folder 'images'
        raise GanforgeError(
            f"image folder '{folder}' does not exist or is not a folder; train on your captioned pictures with "
            "`ganforge train FOLDER --recipe text2image --set data.captions=captions.csv` (or check data.path)"
        )
    table = Path(captions).expanduser() if captions else folder / "captions.csv"
    if not table.is_file() and not table.is_absolute() and (folder / table).is_file():
        table = folder / table
    if not table.is_file():
        raise GanforgeError(
            f"caption file '{table}' does not exist; give a CSV of file,caption rows with --set data.captions=FILE"
        )
    per_file: dict[str, list[str]] = {}
    for file, caption, line in read_caption_csv(table):
        if not (folder / file).is_file():
            if line == 1 and not Path(file).suffix:  # `image,text`: a header, but not the one read as such
                raise GanforgeError(
                    f"{table}, line 1: '{file},{caption}' looks like a header; the header must be 'file,caption' "
                    "(or leave it out): rename its columns"
                )
            raise GanforgeError(f"{table}, line {line}: image '{file}' is not in {folder}; fix the file name")
        tokenize(caption, f"{table}, line {line}")
        per_file.setdefault(file, []).append(caption)
    _note_uncaptioned(folder, table, per_file)
    pictures = [read_image(folder / f, size) for f in per_file]
    color = grayscale is False or (grayscale is None and any(p.shape[0] == 3 for p in pictures))
    x = torch.stack([set_channels(p.unsqueeze(0), not color)[0] for p in pictures]).clamp(0.0, 1.0)
    texts = list(per_file.values())
    vocab = Vocabulary.from_captions([c for cs in texts for c in cs], max_len)
    info = {"captions": "user", "path": str(folder), "files": len(per_file)}
    return _caption_source(x, texts, folder.name or "captioned-images", vocab, info)
