"""Translate pictures with a trained translation run: CycleGAN (A <-> B) or Pix2Pix (A -> B).

``translate(run, images, direction)`` maps (N, C, H, W) images in [0, 1] from domain A to B (``a2b``) or
back (``b2a``, CycleGAN only); ``translate_folder`` does it for every picture of a folder, writing PNGs of
the same names, and ``translate_file`` for one picture. Pictures are centre-cropped and resized to the
run's training size (the generators are fully convolutional, but they only learned the statistics of that
scale) and given the domain's channels.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ganforge.errors import GanforgeError
from ganforge.runs import Run, load

DIRECTIONS = ("a2b", "b2a")


def _as_run(run: Run | str | Path) -> Run:
    run = run if isinstance(run, Run) else load(run)
    if not hasattr(run.gan, "translate"):
        raise GanforgeError(
            f"run {run.path} is a {type(run.gan).__name__}, not a translation model (cyclegan or pix2pix)"
        )
    return run


def domain_channels(run: Run, direction: str) -> int:
    """Channels of the source domain of ``direction``."""
    shape_a = list(run.data_info.sample_shape)
    shape_b = list(run.data_info.info.get("shape_b", shape_a))
    return int((shape_a if direction == "a2b" else shape_b)[0])


def translate(run: Run | str | Path, images: torch.Tensor, direction: str = "a2b") -> torch.Tensor:
    """(N, C, H, W) in [0, 1] of the source domain -> the other domain, in [0, 1]."""
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


def _read_domain_images(run: Run, files: list[Path], direction: str, size: int | None) -> torch.Tensor:
    from ganforge.data.image_files import read_image
    from ganforge.data.images import set_channels

    side = int(size or run.data_info.sample_shape[-1])
    want = domain_channels(run, direction)
    return torch.stack([set_channels(read_image(f, side).unsqueeze(0), want == 1)[0] for f in files])


def resize_note(run: Run | str | Path, source: str | Path, size: int | None = None) -> str:
    """``""``, or a sentence saying how many input pictures were not the translator's size and were centre-
    cropped and resized to it (a 40x30 picture given to a 16x16 translator comes back 16x16)."""
    from PIL import Image

    run = _as_run(run)
    side = int(size or run.data_info.sample_shape[-1])
    src = Path(source)
    files = [src] if src.is_file() else _pictures_in(src)  # the files translate_folder translated
    other = 0
    for f in files:
        with Image.open(f) as picture:
            other += picture.size != (side, side)
    if not other:
        return ""
    return f"{other} of {len(files)} pictures were not {side}x{side}: centre-cropped and resized to it (--size sets it)"


def _pictures_in(folder: Path) -> list[Path]:
    """The picture files directly in ``folder``, sorted: what :func:`translate_folder` translates and
    :func:`resize_note` counts (a sub-folder named ``x.png`` is not a picture, and opening it fails)."""
    from ganforge.data.image_files import IMAGE_SUFFIXES

    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _refuse_shared_names(files: list[Path]) -> None:
    """Every translation is written as ``<stem>.png``: two inputs of one stem (``a.png`` and ``a.jpg``) would
    give the same output file, and the second would silently replace the first; refused before any work."""
    seen: dict[str, Path] = {}
    for f in files:
        first = seen.setdefault(f.stem, f)
        if first is not f:
            raise GanforgeError(
                f"'{first.name}' and '{f.name}' would both be written as {first.stem}.png; rename one of them "
                "(or translate them one at a time with -o NAME.png)"
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


FOLDER_CHUNK = 64
"""Pictures of a folder read, translated and written at a time: a folder of 10,000 pictures at 256x256 RGB held
whole took about 16 GB (inputs and outputs as floats); a chunk takes about 100 MB."""


def _save(image: torch.Tensor, path: Path) -> Path:
    from ganforge.outputs import save_picture
    from ganforge.report.image_pictures import grid_image

    return save_picture(grid_image(image[None], ncol=1, padding=0, scale=1), path)


def translate_folder(
    run: Run | str | Path, in_dir: str | Path, out_dir: str | Path, direction: str = "a2b", size: int | None = None
) -> list[Path]:
    """Translate every picture in ``in_dir`` (non-recursive) into ``out_dir`` (created), as PNG."""
    from ganforge.data.image_files import IMAGE_SUFFIXES, check_readable
    from ganforge.outputs import never_over, output_folder

    src = Path(in_dir)
    if not src.is_dir():
        raise GanforgeError(f"input folder '{src}' does not exist or is not a folder")
    dest = output_folder(out_dir)
    never_over(dest, src)  # its pictures would be replaced by their translations
    run = _as_run(run)
    files = _pictures_in(src)
    if not files:
        raise GanforgeError(f"input folder '{src}' holds no pictures ({', '.join(IMAGE_SUFFIXES)})")
    _refuse_shared_names(files)
    _refuse_taken(dest, [f"{f.stem}.png" for f in files])
    for f in files:  # every header before the first chunk: a file that is not a picture stops it before any output
        check_readable(f)
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for start in range(0, len(files), FOLDER_CHUNK):  # memory bounded by a chunk, not by the folder's size
        chunk = files[start:start + FOLDER_CHUNK]
        out = translate(run, _read_domain_images(run, chunk, direction, size), direction)
        written += [_save(img, dest / f"{f.stem}.png") for f, img in zip(chunk, out, strict=True)]
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
    image = translate(run, _read_domain_images(run, [src], direction, size), direction)[0]
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
