"""The shipped recipes: YAML configs a user starts from (``ganforge recipes`` lists them)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ganforge.errors import GanforgeError, did_you_mean
from ganforge.fileio import CSV_ENCODING, csv_delimiter

DEFAULT_RECIPE = "digits-cgan"
FILE_RECIPE = "points"  # used for `ganforge train my_data.csv`
IMAGE_RECIPE = "images"  # used for `ganforge train my_images/` and an .npz of images
TABLE_RECIPE = "table"  # ... when the .csv is a table (data/tables.py: looks_like_table)
SEQUENCE_RECIPE = "timeseries-gru"  # ... an .npz whose (N, T, F) array is named ``samples``
SEQUENCE_KEY = "samples"  # the name `ganforge sample RUN -o x.npz` gives the windows of a sequence run
DATA_SUFFIXES = (".csv", ".npy", ".npz")
CATEGORICAL_MAX_LEVELS = 10  # whole-number columns with at most this many values count as categories


def _recipe_files() -> dict[str, Any]:
    folder = resources.files("ganforge.recipes")
    return {p.name[:-5]: p for p in folder.iterdir() if p.name.endswith(".yaml")}


def recipe_names() -> dict[str, str]:
    """Recipe name -> its one-line description."""
    out = {}
    for name, file in sorted(_recipe_files().items()):
        raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        out[name] = str(raw.get("description", "")).strip().split("\n")[0]
    return out


def recipe_text(name: str) -> str:
    files = _recipe_files()
    if name not in files:
        raise GanforgeError(f"unknown recipe '{name}'{did_you_mean(name, files)}; `ganforge recipes` lists them")
    return files[name].read_text(encoding="utf-8")


def load_recipe(name: str) -> dict[str, Any]:
    return yaml.safe_load(recipe_text(name))


def is_data_file(recipe: str | Path | None) -> bool:
    """Whether ``recipe`` names a user's numeric data file (trained with the file default, fitted to the
    data); an .npz of images is trained with the image default instead."""
    if recipe is None or Path(str(recipe)).suffix.lower() not in DATA_SUFFIXES:
        return False
    return not (Path(str(recipe)).suffix.lower() == ".npz" and npz_array_keys(Path(str(recipe)))[0] is not None)


def resolve_recipe(recipe: str | Path | None) -> dict[str, Any]:
    """Raw config for a recipe name, a YAML file, or a user data file (trained with the default GAN for
    its kind of data)."""
    from ganforge.config import read_yaml

    if recipe is None:
        return load_recipe(DEFAULT_RECIPE)
    text = str(recipe)
    suffix = Path(text).suffix.lower()
    if suffix in (".yaml", ".yml"):
        return read_yaml(text)
    if suffix in DATA_SUFFIXES:
        if not Path(text).is_file():
            raise GanforgeError(f"data file '{text}' does not exist; check the path")
        if suffix == ".csv" and looks_like_table(text):  # mixed columns, text, missing cells: a table
            raw = load_recipe(TABLE_RECIPE)
            raw["name"] = Path(text).stem
            raw["data"] = {"source": "table", "path": _absolute(text)}
            return raw
        images_key, labels_key = npz_array_keys(Path(text)) if suffix == ".npz" else (None, None)
        if suffix == ".npz" and images_key is None and holds_sequences(Path(text)):
            raw = load_recipe(SEQUENCE_RECIPE)
            raw["data"] = {"source": "sequences-npy", "path": _absolute(text), "key": SEQUENCE_KEY}
        elif images_key is not None:
            raw = load_recipe(IMAGE_RECIPE)
            raw["data"] = {"source": "images-npz", "path": _absolute(text), "images_key": images_key, "size": 32}
            if labels_key not in (None, "labels"):
                raw["data"]["labels_key"] = labels_key
        else:
            raw = load_recipe(FILE_RECIPE)
            raw["data"] = {"source": "file", "path": _absolute(text)}
        raw["name"] = Path(text).stem
        return raw
    # A bare recipe name is the recipe even where a folder of that name sits in the working directory (the run
    # folder of `ganforge train edges2digits --out edges2digits`); `./edges2digits` names the folder.
    shipped_name = text in _recipe_files() and "/" not in text
    if not shipped_name:
        refuse_run_folder(text)
    if Path(text).is_dir() and not shipped_name and not _holds_pairs(Path(text)):
        raw = load_recipe(IMAGE_RECIPE)
        raw["data"] = {**raw["data"], "source": "image-folder", "path": _absolute(text)}
        raw["name"] = Path(text).resolve().name or "images"
        return raw
    if Path(text).is_dir() and not shipped_name:
        raise GanforgeError(
            f"'{text}' is a folder; say which recipe trains on it, e.g. `ganforge train {text} --recipe pix2pix` "
            "for aligned pairs (A/ and B/, or side-by-side AB pictures), or `--recipe cyclegan` for unpaired "
            "pictures (A/ and B/, any names and counts)"
        )
    if Path(text).exists() and not suffix and not shipped_name:
        raise GanforgeError(f"'{text}' is neither a recipe, a folder of pictures, nor a .yaml/.csv/.npy/.npz file")
    return load_recipe(text)


def refuse_run_folder(path: str | Path) -> None:
    """A run folder given as data is refused: as a folder of pictures it would train on the run's own plots
    and sample grids (``ganforge train runs/x`` meant ``resume``, or the recipe)."""
    folder = Path(path)
    if folder.is_dir() and (folder / "config.yaml").is_file() and (folder / "data.json").is_file():
        raise GanforgeError(
            f"'{path}' is a run folder, not data to train on; `ganforge resume {path}` continues it, "
            f"`ganforge sample {path} -o pictures/` writes its samples, `ganforge train RECIPE` starts a new run"
        )


def _absolute(path: str | Path) -> str:
    """A data path as run folders store it: resolved, so `resume`/`eval` work from any directory."""
    return str(Path(path).expanduser().resolve())


LABEL_NAMES = ("labels", "label", "y", "target", "targets", "classes")


def npz_array_specs(path: Path) -> dict[str, tuple[tuple[int, ...], str]]:
    """``{name: (shape, dtype kind)}`` of the arrays in an .npz archive, read from their .npy headers alone
    (no array is loaded, so the loader that follows reads the data once); ``{}`` for a file that is not a
    readable archive: the loader then reports the problem."""
    import zipfile

    from numpy.lib import format as npy

    specs: dict[str, tuple[tuple[int, ...], str]] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if not member.endswith(".npy"):
                    continue  # np.load would hand such a member back as bytes, not an array
                with archive.open(member) as f:
                    version = npy.read_magic(f)
                    header = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
                    shape, _, dtype = header(f)
                specs[member.removesuffix(".npy")] = (tuple(shape), dtype.kind)
    except Exception:  # noqa: BLE001 - a damaged or foreign file: the loader words the error
        return {}
    return specs


def npz_array_keys(path: Path) -> tuple[str | None, str | None]:
    """The image stack and the labels of an .npz archive, by name or shape: the images are ``images`` or
    the first array of shape (N, H, W), (N, H, W, C) or (N, C, H, W) (a 3-D ``samples`` array is a sequence run's
    windows, not pictures); the labels are ``labels``, else the first 1-D integer array of N entries (names in
    :data:`LABEL_NAMES` first). ``(None, None)`` for tables (2-D arrays), sequences and unreadable files: the
    loader then reports the problem."""
    arrays = npz_array_specs(path)
    if len(arrays.get("images", ((),))[0]) in (3, 4):
        images: str | None = "images"
    else:
        images = next(
            (k for k, (shape, _) in arrays.items() if len(shape) == 4 or (len(shape) == 3 and k != SEQUENCE_KEY)),
            None,
        )
    if images is None:
        return None, None
    count = arrays[images][0][0]
    fits = [k for k, (shape, kind) in arrays.items() if shape == (count,) and kind in "iu"]
    labels = next((k for k in (*LABEL_NAMES, *fits) if k in fits), None)
    return images, labels


def holds_sequences(path: Path) -> bool:
    """Whether an .npz archive holds windows (N, T, F) under :data:`SEQUENCE_KEY`, as ``ganforge sample`` writes a
    sequence run's samples: they train as sequences, where another 3-D array reads as (N, H, W) pictures."""
    return len(npz_array_specs(path).get(SEQUENCE_KEY, ((),))[0]) == 3


def pairs_hint(path: Path, stored_sizes: list[str]) -> str:
    """A note when data about to train as one set of pictures looks like aligned pairs: an .npz holding exactly
    two picture arrays of one count (``edges`` and ``photos``), or a folder whose pictures are all twice as wide
    as high (side-by-side AB pictures, as the public pix2pix sets ship). Either may be meant as pictures, so it
    is a note, not an error; ``""`` otherwise. ``stored_sizes`` are the smallest and largest ``"WxH"``."""
    suggestion = f"if they are aligned pairs, `ganforge train {path} --recipe pix2pix` trains a translator"
    if path.suffix.lower() == ".npz":
        pictures = {k: shape for k, (shape, _) in npz_array_specs(path).items() if len(shape) in (3, 4)}
        if len(pictures) == 2 and len({shape[0] for shape in pictures.values()}) == 1:
            first, second = pictures
            count = pictures[first][0]
            return f"note: {path.name} holds two picture arrays of {count} ({first}, {second}); {suggestion}"
        return ""
    sides = [tuple(int(v) for v in size.split("x")) for size in stored_sizes]
    if path.is_dir() and sides and all(w == 2 * h for w, h in sides):
        return f"note: every picture is twice as wide as high, like side-by-side AB pairs; {suggestion}"
    return ""


def captions_hint(path: Path) -> str:
    """A note when a folder about to train as unconditional pictures holds a ``captions.csv`` (the file the
    ``text2image`` recipe reads): its captions would be ignored without a word. ``""`` otherwise."""
    table = path / "captions.csv"
    if not path.is_dir() or not table.is_file():
        return ""
    return (f"note: {table} holds captions, which the {IMAGE_RECIPE} recipe ignores; `ganforge train {path} --recipe "
            f"text2image --set data.captions={table}` trains text-to-image on them")


def _holds_pairs(folder: Path) -> bool:
    """A/ and B/ sub-folders: aligned pairs (Pix2Pix's layout), which could also read as two classes of
    pictures, so the user names the recipe instead of ganforge guessing."""
    names = {p.name.lower() for p in folder.iterdir() if p.is_dir()}
    return {"a", "b"} <= names


def recipe_with_data_file(recipe: str | Path, path: str | Path) -> dict[str, Any]:
    """Raw config of ``recipe`` (a name or YAML file) trained on the user's data file ``path``, as
    ``ganforge train my_series.csv --recipe timeseries-gru``: the recipe's ``data`` section keeps its
    settings (source, window length, columns...) and reads ``path``; the run is named after the file."""
    text = str(path)
    folder = Path(text).is_dir()  # a folder of pictures or pairs, e.g. `ganforge train pairs/ --recipe pix2pix`
    if not Path(text).exists():
        resolve_recipe(recipe)  # an unknown --recipe is named first (`train ring8 --recipe ring9` blamed 'ring8')
        raise GanforgeError(f"'{text}' does not exist; check the path of the data file or folder")
    refuse_run_folder(text)
    if not folder and Path(text).suffix.lower() not in DATA_SUFFIXES:
        raise GanforgeError(
            f"--recipe goes with a data file (.csv/.npy/.npz) or folder, got '{text}'; e.g. "
            "`ganforge train my_series.csv --recipe timeseries-gru`, or `ganforge train RECIPE` alone"
        )
    if not folder and not Path(text).is_file():
        raise GanforgeError(f"data file '{text}' does not exist; check the path")
    raw = resolve_recipe(recipe)
    data = dict(raw.get("data") or {})
    if "path" not in data:
        raise GanforgeError(
            f"recipe '{recipe}' trains on built-in data '{data.get('source')}', not on a file; choose a recipe "
            "that reads files (one with data.path, e.g. timeseries-gru, points, pix2pix, or cyclegan for a folder "
            "holding A/ and B/ of unpaired pictures)"
        )
    if data.get("source") == "timeseries-csv" and Path(text).suffix.lower() in (".npy", ".npz"):
        # windows already cut, e.g. a sequence run's samples: the array reader instead of the CSV one
        data = {"source": "sequences-npy", "key": SEQUENCE_KEY if holds_sequences(Path(text)) else None}
    data["path"] = _absolute(text)
    raw["data"] = data
    raw["name"] = Path(text).stem or Path(text).resolve().name
    return raw


def looks_like_table(path: str | Path, max_rows: int = 5000) -> bool:
    """Whether a .csv should be trained as a table rather than as points.

    A file is a table when it has a cell that is empty or not a number (text, dates, missing values),
    or when it has 3 or more columns one of which holds whole numbers only (a category code, a count, an
    age), in a file of at least 20 rows: the table GAN gives such columns back as integers within their
    observed range, where the points GAN returns floats such as 20.28 (and values beyond the range).
    Purely numeric files with 1 or 2 columns are always points (1-D / 2-D distributions), whatever their
    values."""
    import csv

    path = Path(path)
    try:
        delimiter = csv_delimiter(path)
        with path.open(newline="", encoding=CSV_ENCODING) as handle:
            rows = []
            for i, row in enumerate(csv.reader(handle, delimiter=delimiter)):
                if i > max_rows:
                    break
                if row and any(c.strip() for c in row):
                    rows.append([c.strip() for c in row])
    except (OSError, UnicodeDecodeError, csv.Error, GanforgeError):
        return False  # the points reader reports the problem
    if len(rows) < 2:
        return False

    def number(cell: str) -> float | None:
        try:
            return float(cell)
        except ValueError:
            return None

    header = rows[0] if any(number(c) is None for c in rows[0]) else None
    body = rows[1:] if header else rows
    width = len(rows[0])
    if any(len(r) != width for r in body):
        return False  # ragged: let the points reader name the line
    values = [[number(c) for c in r] for r in body]
    if any(v is None for r in values for v in r):
        return True
    if width < 3 or len(body) < 20:
        return False
    array = np.asarray(values, dtype=np.float64)
    for j in range(width):
        col = array[:, j]
        if np.all(np.isfinite(col)) and np.all(col == np.round(col)):
            return True
    return False
