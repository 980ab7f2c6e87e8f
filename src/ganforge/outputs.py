"""Where a command writes its result: one check of every output path, and pictures in their suffix's format.

Every subcommand that writes (``sample``, ``upscale``, ``translate``, ...) checks its ``-o`` here *before*
any work, so a folder given where a file is expected (``-o out/``), a file given where a folder is
expected, a missing parent folder or a suffix the writer cannot produce is one :class:`GanforgeError`
line, never an ``IsADirectoryError`` / ``FileExistsError`` traceback after minutes of computing.

Pictures are written in the format their suffix names (``.jpg`` gets JPEG bytes, not PNG bytes under a
JPEG name), through a temporary file in the same folder and an atomic rename, so an existing file is
never left half-overwritten.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from ganforge.errors import GanforgeError
from ganforge.fileio import replaced_on_success

if TYPE_CHECKING:
    from PIL import Image

# suffix -> Pillow format name of the pictures ganforge writes
PICTURE_FORMATS: dict[str, str] = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".webp": "WEBP",
    ".bmp": "BMP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
}
JPEG_QUALITY = 95  # Pillow's default (75) visibly blurs the fine detail an upscaler adds


def names_a_folder(raw: str | os.PathLike[str]) -> bool:
    """Whether the user's spelling of a path says "folder": it ends with a separator or is an existing folder."""
    text = os.fspath(raw)
    return text.endswith(("/", os.sep)) or Path(text).expanduser().is_dir()


def _check_parent(path: Path, option: str) -> None:
    parent = path.parent
    if not parent.exists():
        raise GanforgeError(f"output folder '{parent}' does not exist; create it first ({option} {path})")
    if not parent.is_dir():
        raise GanforgeError(f"{option} {path}: '{parent}' is a file, not a folder")


def output_file(raw: str | os.PathLike[str], suffixes: tuple[str, ...], option: str = "-o") -> Path:
    """``raw`` checked as a file to write: not a folder, a suffix in ``suffixes``, an existing parent folder.

    An existing *file* is fine (writers replace it atomically); everything else is a one-line error that
    says which spelling works.
    """
    text = os.fspath(raw)
    path = Path(text).expanduser()
    kinds = ", ".join(suffixes)
    if names_a_folder(text):
        example = (path if path.name else Path(".")) / f"out{suffixes[0]}"
        raise GanforgeError(f"{option} {text}: is a folder; give a file name ending in {kinds} (e.g. {example})")
    suffix = path.suffix.lower()
    if suffix not in suffixes:
        raise GanforgeError(f"{option} {text}: unsupported file type '{suffix or '(none)'}'; use {kinds}")
    _check_parent(path, option)
    return path


def output_folder(raw: str | os.PathLike[str], option: str = "-o", empty: bool = False) -> Path:
    """``raw`` checked as a folder to write into: not an existing file, its parent exists; with ``empty``,
    an existing folder must hold nothing (so nothing of the user's is overwritten)."""
    path = Path(os.fspath(raw)).expanduser()
    if path.exists() and not path.is_dir():
        raise GanforgeError(f"{option} {path}: is a file, not a folder; give a new folder (or an existing one)")
    if empty and path.is_dir() and any(path.iterdir()):
        raise GanforgeError(f"{option} {path}: the folder is not empty; give a new or empty folder")
    _check_parent(path, option)
    return path


def never_over(
    output: str | os.PathLike[str], *inputs: str | os.PathLike[str], option: str = "-o", what: str = "the input"
) -> None:
    """Refuse an output that is one of the command's inputs (the same file, or the same folder): writing there
    would replace what the command reads, and a user's data is never overwritten. ``what`` names the input in
    the message (``"the file RUN was trained on"``)."""
    target = Path(os.fspath(output)).expanduser().resolve()
    for given in inputs:
        if target == Path(os.fspath(given)).expanduser().resolve():
            raise GanforgeError(
                f"{option} {output} is {what} ({given}); give another name (inputs are never overwritten)"
            )


def check_free_space(path: str | os.PathLike[str], needed: int, option: str = "-o") -> None:
    """Refuse, before any work, an output of about ``needed`` bytes that cannot fit in the free space of
    ``path``'s file system (``-n 10**12`` would otherwise write until the disk is full, for hours)."""
    folder = Path(path).expanduser().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if needed > free:
        raise GanforgeError(
            f"{option} {path}: the output would take about {_size(needed)} but only {_size(free)} is free there; "
            "ask for fewer samples (-n) or write elsewhere"
        )


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.3g} EB"


def save_picture(image: Image.Image, path: str | os.PathLike[str]) -> Path:
    """Write a Pillow image in the format of ``path``'s suffix (see :data:`PICTURE_FORMATS`), atomically.

    JPEG has no alpha channel: RGBA becomes RGB and LA becomes L before writing.
    """
    path = Path(path)
    fmt = PICTURE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise GanforgeError(f"{path}: unsupported picture type '{path.suffix}'; use {', '.join(PICTURE_FORMATS)}")
    options: dict[str, object] = {}
    if fmt == "JPEG":
        if image.mode in ("RGBA", "LA", "P", "I;16", "I", "F"):
            image = image.convert("L" if image.mode in ("LA", "I;16", "I", "F") else "RGB")
        options["quality"] = JPEG_QUALITY
    with replaced_on_success(path) as tmp:
        image.save(tmp, format=fmt, **options)
    return path
