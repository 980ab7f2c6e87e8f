"""Translate pictures with a trained translation run: CycleGAN (A <-> B) or Pix2Pix (A -> B).

``translate_tensor(run, images, direction)`` maps (N, C, H, W) images in [0, 1] from domain A to B (``a2b``)
or back (``b2a``, CycleGAN only); ``translate_folder`` does it for every picture of a folder and of its
sub-folders, writing PNGs of the same names in the same tree, and ``translate_file`` for one picture. Pictures
(files, arrays, Pillow images) are centre-cropped and resized to the run's training size (the generators are
fully convolutional, but they only learned the statistics of that scale) and given the domain's channels.
``translate(run, x)``, published as ``gf.translate``, takes any of these and gives back the same kind.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganforge import register_app
from ganforge.apps.upscale import Picture
from ganforge.errors import GanforgeError
from ganforge.runs import Run, load

DIRECTIONS = ("a2b", "b2a")


def _as_run(run: Run | str | Path) -> Run:
    run = run if isinstance(run, Run) else load(run)
    if not hasattr(run.gan, "translate"):
        raise GanforgeError(
            f"run {run.path} holds a {type(run.gan).__name__} model, not a translation model (cyclegan or pix2pix)"
        )
    return run


def domain_channels(run: Run, direction: str) -> int:
    """Channels of the source domain of ``direction``."""
    shape_a = list(run.data_info.sample_shape)
    shape_b = list(run.data_info.info.get("shape_b", shape_a))
    return int((shape_a if direction == "a2b" else shape_b)[0])


def translate_tensor(run: Run | str | Path, images: torch.Tensor, direction: str = "a2b") -> torch.Tensor:
    """(N, C, H, W) in [0, 1] of the source domain -> the other domain, in [0, 1], at the size given (the
    model's own input: no resizing, the source domain's channels required)."""
    run = _as_run(run)
    if direction not in DIRECTIONS:
        raise GanforgeError(f"--direction {direction}: choose a2b or b2a")
    if direction == "b2a" and run.data_info.kind == "paired-images":
        raise GanforgeError("--direction b2a: a Pix2Pix run translates A to B only; train on swapped pairs for B to A")
    want = domain_channels(run, direction)
    if images.dim() != 4 or images.shape[1] != want:
        raise GanforgeError(
            f"translate {direction}: expected images (N, {want}, H, W) in [0, 1], got {tuple(images.shape)}"
        )
    gan: Any = run.gan
    out = gan.translate(run.scaler.to_model(images.float().clamp(0, 1)), direction)
    return run.scaler.to_data(out).cpu().clamp(0.0, 1.0)


@register_app()
def translate(
    run: Run | str | Path,
    images: Picture | str | os.PathLike[str],
    direction: str = "a2b",
    *,
    size: int | None = None,
    out: str | Path | None = None,
) -> Picture | list[Path]:
    """``images`` translated from domain A to B (``direction="a2b"``) or back (``"b2a"``, CycleGAN only),
    returned as the same kind of thing.

    * a tensor (N, C, H, W) or (C, H, W) in [0, 1] with the source domain's channels: the model's input, used
      at its own size (the generator is fully convolutional), as :func:`translate_tensor`;
    * a picture: an array (H, W), (H, W, C) or a stack (N, H, W, C) (uint8, or floats in [0, 1]), or a Pillow
      image: read as ``ganforge translate`` reads a file (centre-cropped to a square, resized to ``size``,
      default the training size, and given the domain's channels), since the generator only learned that
      scale; an array comes back channels-last in its dtype ((H, W) for a 2-D input and a gray domain);
    * the path of a picture file: a Pillow image back; with ``out=``, a picture or a folder of pictures is
      translated as the command does (``out`` a file or folder; a folder's sub-folders mirrored, never over
      an existing file) and the written paths come back.
    """
    if isinstance(images, (str, os.PathLike)):
        if out is not None:
            return translate_path(run, images, out, direction, size)
        src = _picture_file(Path(images), "out='FOLDER' for its translations (a folder of PNGs)")
        run = _as_run(run)
        check_size_option(run, size)
        return _as_pil(translate_tensor(run, _read_domain_images(run, [src], direction, size), direction)[0])
    if out is not None:
        raise GanforgeError(
            "translate: out= writes the translations of a picture file or folder; give its path, or save the "
            "returned pictures yourself"
        )
    if isinstance(images, torch.Tensor):
        if size is not None:
            raise GanforgeError(
                "translate: size= resizes pictures (arrays, Pillow images, files); a tensor is the model's input, "
                "used at its own size: resize it first, or pass it as an array"
            )
        from ganforge.data.images import check_input_pictures

        single = images.dim() == 3
        result = translate_tensor(run, check_input_pictures(images[None] if single else images, "translate"),
                                  direction)
        return result[0] if single else result
    run = _as_run(run)
    check_size_option(run, size)
    from PIL import Image

    if isinstance(images, Image.Image):
        from ganforge.data.image_files import _pixels

        pixels = torch.from_numpy(np.ascontiguousarray(_pixels(images, Path("picture"))))
        return _as_pil(translate_tensor(run, _fit_pictures(run, pixels[None], direction, size), direction)[0])
    return _translate_array(run, np.asarray(images), direction, size)


def _picture_file(src: Path, folder_hint: str) -> Path:
    """``src`` checked as one picture file: a folder (``folder_hint`` says what to give instead), a missing
    path or a file that is no picture is refused in one line before the run is loaded."""
    from ganforge.data.image_files import IMAGE_SUFFIXES

    if src.is_dir():
        raise GanforgeError(f"'{src}' is a folder; give {folder_hint}, or one picture")
    if not src.is_file():
        raise GanforgeError(f"input picture '{src}' does not exist; check the path")
    if src.suffix.lower() not in IMAGE_SUFFIXES:
        raise GanforgeError(f"'{src}' is not a picture ({', '.join(IMAGE_SUFFIXES)})")
    return src


def _fit_pictures(run: Run, pictures: torch.Tensor, direction: str, size: int | None) -> torch.Tensor:
    """(N, C, H, W) pictures in [0, 1] as the translator reads them: centre-cropped to squares, resized to
    ``size`` (default the training size) and given the source domain's channels, as a file is read."""
    from ganforge.data.images import set_channels
    from ganforge.data.pairs import _fit_square

    side = int(size or run.data_info.sample_shape[-1])
    gray = domain_channels(run, direction) == 1
    return _fit_square([set_channels(p[None], gray)[0] for p in pictures], side)


def _translate_array(run: Run, array: np.ndarray, direction: str, size: int | None) -> np.ndarray:
    """A numpy picture (H, W), (H, W, C) or stack (N, H, W, C), uint8 or floats in [0, 1], translated and
    returned channels-last in the input's dtype (uint8 rounded)."""
    from ganforge.data.images import to_unit_range

    if array.ndim not in (2, 3, 4) or (array.ndim > 2 and array.shape[-1] not in (1, 3, 4)):
        raise GanforgeError(
            f"translate: expected a picture array (H, W), (H, W, C) or (N, H, W, C) with C in 1, 3 or 4, got shape "
            f"{array.shape}"
        )
    if array.ndim == 4 and array.shape[0] == 0:
        raise GanforgeError(f"translate: the stack holds no pictures (shape {array.shape})")
    x = torch.from_numpy(np.ascontiguousarray(to_unit_range(array, "translate")))
    stack = x[None, None] if x.dim() == 2 else (x.permute(2, 0, 1)[None] if x.dim() == 3 else x.permute(0, 3, 1, 2))
    if stack.shape[1] == 4:  # alpha composited on white, as a file's is
        stack = stack[:, :3] * stack[:, 3:] + (1 - stack[:, 3:])
    result = translate_tensor(run, _fit_pictures(run, stack, direction, size), direction).permute(0, 2, 3, 1).numpy()
    if array.ndim == 2 and result.shape[-1] == 1:
        result = result[..., 0]
    result = result if array.ndim == 4 else result[0]
    if array.dtype == np.uint8:
        return (result * 255 + 0.5).astype(np.uint8)
    return result.astype(array.dtype if array.dtype.kind == "f" else np.float32)


def _as_pil(image: torch.Tensor) -> Any:
    """(C, H, W) in [0, 1] as an 8-bit Pillow image ("L" or "RGB"), as the command writes it."""
    from ganforge.report.image_pictures import grid_image

    return grid_image(image[None], ncol=1, padding=0, scale=1)


def _read_domain_images(run: Run, files: list[Path], direction: str, size: int | None) -> torch.Tensor:
    from ganforge.data.image_files import read_image
    from ganforge.data.images import set_channels

    side = int(size or run.data_info.sample_shape[-1])
    want = domain_channels(run, direction)
    return torch.stack([set_channels(read_image(f, side).unsqueeze(0), want == 1)[0] for f in files])


def resize_note(
    run: Run | str | Path, source: str | Path, size: int | None = None, out: str | Path | None = None
) -> str:
    """``""``, or a sentence saying how many input pictures were not the translator's size and were centre-
    cropped and resized to it (a 40x30 picture given to a 16x16 translator comes back 16x16). ``out``: the
    output folder, whose pictures are not inputs when it lies inside ``source``."""
    from PIL import Image

    run = _as_run(run)
    side = int(size or run.data_info.sample_shape[-1])
    src = Path(source)
    files = [src] if src.is_file() else _pictures_in(src, out)  # the files translate_folder translated
    other = 0
    for f in files:
        with Image.open(f) as picture:
            other += picture.size != (side, side)
    if not other:
        return ""
    return f"{other} of {len(files)} pictures were not {side}x{side}: centre-cropped and resized to it (--size sets it)"


def _pictures_in(folder: Path, skip: str | Path | None = None) -> list[Path]:
    """The picture files in ``folder`` and in its sub-folders, at any depth, sorted: what
    :func:`translate_folder` translates and :func:`resize_note` counts. Training reads class sub-folders, so a
    folder that trained a run translates whole (the top level alone wrote 1 picture of 6 and skipped the
    rest without a word). Hidden files and folders (macOS's ``._x.png`` resource forks, ``.thumbnails/``) are
    skipped, a sub-folder named ``x.png`` is not a picture, links to folders are not followed (no loops), and
    ``skip`` (the output folder, when it lies inside the input) is left out: a second translation would
    otherwise read the first one's results."""
    from ganforge.data.image_files import IMAGE_SUFFIXES

    skip_at = None if skip is None else Path(skip).expanduser().resolve()
    found = []
    for root, dirs, names in os.walk(folder):
        here = Path(root)
        dirs[:] = [d for d in dirs if not d.startswith(".") and (here / d).resolve() != skip_at]
        found += [
            here / n for n in names
            if not n.startswith(".") and Path(n).suffix.lower() in IMAGE_SUFFIXES and (here / n).is_file()
        ]
    return sorted(found, key=lambda f: f.relative_to(folder).parts)


def _output_name(src: Path, file: Path) -> Path:
    """Where the translation of ``file`` (inside the input folder ``src``) goes, relative to the output
    folder: the same sub-folders, the same stem, as PNG (``nest/a/p.jpg`` -> ``a/p.png``)."""
    rel = file.relative_to(src)
    return rel.parent / f"{file.stem}.png"


def size_rule(run: Run) -> tuple[int, int]:
    """(step, smallest side) of the pictures the run's generator accepts: a U-Net needs sides that are
    multiples of ``2^depth``, CycleGAN's ResNet translator multiples of ``2^n_down`` and at least ``max(4,
    2 * step)``. Checked against ``--size`` before anything is written, so the message names the option."""
    from ganforge.nets.translation import ResnetTranslator
    from ganforge.nets.unet import UNetGenerator

    step, smallest = 1, 1
    for module in run.gan.modules():
        if isinstance(module, UNetGenerator):
            step = max(step, 2**module.depth)
            smallest = max(smallest, 2**module.depth)
        elif isinstance(module, ResnetTranslator):
            step = max(step, 2**module.n_down)
            smallest = max(smallest, 4, 2 * 2**module.n_down)
    return step, smallest


def check_size_option(run: Run, size: int | None) -> None:
    """Refuse a ``--size`` the generator cannot take, in the option's words (the network's own error names
    its class and the training size, not the option that chose the size)."""
    if size is None:
        return
    step, smallest = size_rule(run)
    if size % step or size < smallest:
        near = max(smallest, round(size / step) * step)
        least = f" and at least {smallest}" if smallest > step else ""
        raise GanforgeError(f"--size {size}: must be a multiple of {step}{least} for this run; e.g. --size {near}")


def _check_decodes(files: list[Path]) -> None:
    """Decode every picture fully and discard it: a truncated or corrupt file (its header reads, its pixels
    do not) stops the command before the first output is written, so a retry finds no partial results."""
    from ganforge.data.image_files import read_image

    for f in files:
        read_image(f)


def _refuse_shared_names(src: Path, files: list[Path]) -> None:
    """Every translation is written as ``<stem>.png`` in its sub-folder: two inputs of one stem in one folder
    (``a.png`` and ``a.jpg``) would give the same output file, and the second would silently replace the
    first; refused before any work."""
    seen: dict[Path, Path] = {}
    for f in files:
        first = seen.setdefault(_output_name(src, f), f)
        if first is not f:
            raise GanforgeError(
                f"'{first.relative_to(src)}' and '{f.relative_to(src)}' would both be written as "
                f"{_output_name(src, f)}; rename one of them (or translate them one at a time with -o NAME.png)"
            )


def _refuse_taken(dest: Path, names: list[str]) -> None:
    """An output folder may exist (``-o out/`` is new or existing), but a picture already in it is never
    replaced without a word: an earlier translation's results would be lost. Refused before any work."""
    taken = [name for name in names if (dest / name).exists()]
    if taken:
        more = f" and {len(taken) - 1} more" if len(taken) > 1 else ""
        raise GanforgeError(
            f"{dest / taken[0]}{more} already exist(s) (an earlier translation?); give a new folder with -o, or "
            "move those pictures away first"
        )


def _refuse_file_in_the_way(dest: Path, folders: set[Path]) -> None:
    """A sub-folder the tree mirrors (``out/a/``) where ``out/a`` is a file: creating it would fail halfway,
    after the pictures before it were written. Refused before any work."""
    for folder in sorted(folders):
        for part in (folder, *folder.parents):
            if part.parts and (dest / part).exists() and not (dest / part).is_dir():
                raise GanforgeError(
                    f"{dest / part} is a file, but the translations of the input's {part}/ go in a folder of that "
                    "name; give a new folder with -o, or move that file away first"
                )


def _refuse_picture_name(src: Path, out: str | Path) -> None:
    """A folder in gives a folder out: ``-o new.png`` would make a *folder* named ``new.png``, which the user
    took for a picture file. Refused unless that folder exists or the name ends with a separator."""
    from ganforge.data.image_files import IMAGE_SUFFIXES
    from ganforge.outputs import PICTURE_FORMATS, names_a_folder

    suffix = Path(out).suffix.lower()
    if not names_a_folder(out) and (suffix in IMAGE_SUFFIXES or suffix in PICTURE_FORMATS):
        raise GanforgeError(
            f"-o {out}: '{src}' is a folder, so the translations go to a folder of PNGs; give a folder name "
            f"without a picture suffix (e.g. -o {Path(out).with_suffix('')}/), or one picture as input"
        )


FOLDER_CHUNK = 64
"""Pictures of a folder read, translated and written at a time: a folder of 10,000 pictures at 256x256 RGB held
whole took about 16 GB (inputs and outputs as floats); a chunk takes about 100 MB."""


def _save(image: torch.Tensor, path: Path) -> Path:
    from ganforge.outputs import save_picture

    return save_picture(_as_pil(image), path)


def translate_folder(
    run: Run | str | Path, in_dir: str | Path, out_dir: str | Path, direction: str = "a2b", size: int | None = None
) -> list[Path]:
    """Translate every picture in ``in_dir`` and its sub-folders into ``out_dir`` (created), as PNG, mirroring
    the tree (``in/a/x.jpg`` -> ``out/a/x.png``). Every picture is decoded and every name checked before the
    first is written; no existing file is replaced."""
    from ganforge.data.image_files import IMAGE_SUFFIXES
    from ganforge.outputs import never_over, output_folder

    src = Path(in_dir)
    if not src.is_dir():
        raise GanforgeError(f"input folder '{src}' does not exist or is not a folder")
    _refuse_picture_name(src, out_dir)
    dest = output_folder(out_dir)
    never_over(dest, src)  # its pictures would be replaced by their translations
    run = _as_run(run)
    check_size_option(run, size)
    files = _pictures_in(src, dest)
    if not files:
        raise GanforgeError(
            f"input folder '{src}' holds no pictures ({', '.join(IMAGE_SUFFIXES)}), neither directly nor in "
            "sub-folders"
        )
    _refuse_shared_names(src, files)
    _refuse_taken(dest, [str(_output_name(src, f)) for f in files])
    _refuse_file_in_the_way(dest, {_output_name(src, f).parent for f in files})
    _check_decodes(files)  # every picture before the first chunk: nothing is written when one cannot be read
    written = []
    for start in range(0, len(files), FOLDER_CHUNK):  # memory bounded by a chunk, not by the folder's size
        chunk = files[start:start + FOLDER_CHUNK]
        out = translate_tensor(run, _read_domain_images(run, chunk, direction, size), direction)
        for f, img in zip(chunk, out, strict=True):
            target = dest / _output_name(src, f)
            target.parent.mkdir(parents=True, exist_ok=True)
            written.append(_save(img, target))
    return written


def translate_file(
    run: Run | str | Path, source: str | Path, out: str | Path, direction: str = "a2b", size: int | None = None
) -> Path:
    """Translate one picture. ``out`` is a picture file (its suffix picks the format) or a folder (new or
    existing; the result is written there under the source's name, as PNG)."""
    from ganforge.data.image_files import IMAGE_SUFFIXES
    from ganforge.outputs import PICTURE_FORMATS, names_a_folder, never_over, output_file, output_folder

    src = Path(source)
    if not src.is_file():
        raise GanforgeError(f"input picture '{src}' does not exist; check the path")
    if src.suffix.lower() not in IMAGE_SUFFIXES:
        raise GanforgeError(f"'{src}' is not a picture ({', '.join(IMAGE_SUFFIXES)})")
    if names_a_folder(out) or not Path(out).suffix:
        dest = output_folder(out) / f"{src.stem}.png"
        _refuse_taken(dest.parent, [dest.name])
    else:
        dest = output_file(out, tuple(PICTURE_FORMATS))
    never_over(dest, src)
    run = _as_run(run)
    check_size_option(run, size)
    image = translate_tensor(run, _read_domain_images(run, [src], direction, size), direction)[0]
    dest.parent.mkdir(parents=True, exist_ok=True)
    return _save(image, dest)


def translate_path(
    run: Run | str | Path, source: str | Path, out: str | Path, direction: str = "a2b", size: int | None = None
) -> list[Path]:
    """:func:`translate_file` for a picture, :func:`translate_folder` for a folder of pictures."""
    src = Path(source)
    if not src.exists():
        raise GanforgeError(f"input '{src}' does not exist; give a picture or a folder of pictures")
    if src.is_dir():
        return translate_folder(run, src, out, direction, size)
    return [translate_file(run, src, out, direction, size)]
