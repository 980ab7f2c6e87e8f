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
    :func:`resize_note` counts (a sub-folder named ``x.png`` is not a picture, and opening it fails). Hidden
    files (macOS's ``._x.png`` resource forks) are skipped by the rule training uses, so a folder that trained
    a run also translates."""
    from ganforge.data.image_files import _images_in

    return _images_in(folder, recursive=False)


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
    from ganforge.report.image_pictures import grid_image

    return save_picture(grid_image(image[None], ncol=1, padding=0, scale=1), path)


def translate_folder(
    run: Run | str | Path, in_dir: str | Path, out_dir: str | Path, direction: str = "a2b", size: int | None = None
) -> list[Path]:
    """Translate every picture in ``in_dir`` (non-recursive) into ``out_dir`` (created), as PNG."""
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
    files = _pictures_in(src)
    if not files:
        raise GanforgeError(f"input folder '{src}' holds no pictures ({', '.join(IMAGE_SUFFIXES)})")
    _refuse_shared_names(files)
    _refuse_taken(dest, [f"{f.stem}.png" for f in files])
    _check_decodes(files)  # every picture before the first chunk: nothing is written when one cannot be read
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
    check_size_option(run, size)
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
