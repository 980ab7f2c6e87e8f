"""Upscale pictures of any size with a trained SRGAN run, tile by tile.

``upscale(run, image)`` takes a torch tensor (C, H, W) or (N, C, H, W) in [0, 1], a numpy array (H, W) or
(H, W, C) (uint8 or floats in [0, 1]) or a Pillow image, and returns the same kind of thing ``scale``
times larger; the path of a picture file gives a Pillow image back (or, with ``out=``, the file written).
Published as ``gf.upscale``. The generator runs on ``tile`` x ``tile`` pieces with an overlap of its receptive radius,
which gives exactly the untiled result (see :func:`ganforge.nets.superres.tiled_apply`) with the generator's
working memory bounded by the tile size; the input and the output pictures are held whole (a 1000x1000 picture
upscaled x4 peaked at about 1 GB). Channels: a gray model upscales every channel on its own; an RGB model
upscales gray pictures as RGB and returns their luma; an alpha channel is upscaled bicubically.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import numpy as np
import torch

from ganforge import register_app
from ganforge.errors import GanforgeError, whole_number
from ganforge.runs import Run, load

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

Picture = Union[torch.Tensor, np.ndarray, "PILImage"]
"""A picture in memory, as :func:`upscale` takes and returns it (and ``gf.translate``)."""


def _as_run(run: Run | str | Path) -> Run:
    run = run if isinstance(run, Run) else load(run)
    if not hasattr(run.gan, "upscale"):
        raise GanforgeError(
            f"run {run.path} holds a {type(run.gan).__name__} model, not a super-resolution model (srgan)"
        )
    return run


def upscale_tensor(run: Run, images: torch.Tensor, tile: int | None = 64) -> torch.Tensor:
    """(N, C, H, W) in [0, 1] -> (N, C, s H, s W) in [0, 1]."""
    from ganforge.data.images import LUMA
    from ganforge.data.paired import bicubic_upscale

    if images.dim() != 4 or images.shape[1] not in (1, 3, 4) or min(images.shape[-2:]) < 1:
        raise GanforgeError(f"upscale: expected images (N, 1/3/4, H, W) in [0, 1], got {tuple(images.shape)}")
    gan: Any = run.gan
    channels = int(run.data_info.sample_shape[0])
    x = images.float().clamp(0, 1)
    alpha = x[:, 3:] if x.shape[1] == 4 else None
    x = x[:, :3]
    n, c, h, w = x.shape

    def model(batch: torch.Tensor) -> torch.Tensor:
        out = gan.upscale(run.scaler.to_model(batch), tile=tile)
        return run.scaler.to_data(out).cpu().clamp(0, 1)

    if channels == 1:
        out = model(x.reshape(n * c, 1, h, w)).reshape(n, c, h * gan.scale, w * gan.scale)
    elif c == 1:
        rgb = model(x.repeat(1, 3, 1, 1))
        out = (rgb * torch.tensor(LUMA).view(1, 3, 1, 1)).sum(1, keepdim=True)
    else:
        out = model(x)
    if alpha is not None:
        out = torch.cat([out, bicubic_upscale(alpha, gan.scale)], dim=1)
    return out


@register_app()
def upscale(
    run: Run | str | Path, image: Picture | str | os.PathLike[str], tile: int | None = 64, *,
    out: str | Path | None = None,
) -> Picture | Path:
    """``image`` enlarged by the run's scale (x2 or x4), returned as the same type and layout.

    ``image``: a tensor (C, H, W) or (N, C, H, W) in [0, 1], an array (H, W) or (H, W, C) (uint8, or floats in
    [0, 1]), a Pillow image, or the path of a picture file (read as ``ganforge upscale`` reads it: upright, one
    line for a file Pillow refuses), which comes back as a Pillow image; with ``out=`` (a path input only) the
    result is written there as the command writes it (the suffix picks the format) and its path returned, so
    ``gf.upscale(run, "a.png", out="b.jpg")`` is ``ganforge upscale RUN a.png -o b.jpg``. ``tile``: the
    generator's tile side in input pixels (None: the whole picture at once).
    """
    if isinstance(image, (str, os.PathLike)):
        if out is not None:
            return upscale_file(run, image, out, tile)
        return upscale(run, read_picture(image), tile)
    if out is not None:
        raise GanforgeError(
            "upscale: out= writes the picture read from a path; give the picture's path, or save the returned "
            "picture yourself"
        )
    if tile is not None:
        side = whole_number(tile)
        if side is None or side < 1:
            raise GanforgeError(f"upscale: tile={tile!r}: give a whole number of input pixels >= 1, or None")
        tile = side
    run = _as_run(run)
    if isinstance(image, torch.Tensor):
        from ganforge.data.images import check_input_pictures

        single = image.dim() == 3
        out = upscale_tensor(run, check_input_pictures(image.unsqueeze(0) if single else image, "upscale"), tile)
        return out[0] if single else out
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is a dependency of matplotlib
        Image = None  # type: ignore[assignment]  # noqa: N806
    if Image is not None and isinstance(image, Image.Image):
        if image.mode.startswith("I;16") or image.mode in ("I", "F"):
            # 16-bit, 32-bit or float gray: Pillow's convert() clips them at 255 (a 16-bit picture came back
            # white), so they are read to [0, 1] as training reads pictures, and come back as 8-bit gray
            from ganforge.data.image_files import _pixels

            name = Path(getattr(image, "filename", "") or "picture")  # names the picture in a range error
            gray = upscale(run, _pixels(image, name)[0], tile)
            return Image.fromarray((np.clip(gray, 0.0, 1.0) * 255 + 0.5).astype(np.uint8), "L")
        array = np.asarray(
            image.convert("RGBA" if "A" in image.getbands() else ("L" if image.mode in ("1", "L") else "RGB"))
        )
        return Image.fromarray(upscale(run, array, tile))
    array = np.asarray(image)
    if array.ndim not in (2, 3):
        raise GanforgeError(f"upscale: expected an image array (H, W) or (H, W, C), got shape {array.shape}")
    from ganforge.data.images import to_unit_range

    as_uint8 = array.dtype == np.uint8
    x = torch.from_numpy(to_unit_range(array, "image"))
    x = x[None, None] if x.dim() == 2 else x.permute(2, 0, 1)[None]
    out = upscale_tensor(run, x, tile)[0]
    result = out[0].numpy() if array.ndim == 2 else out.permute(1, 2, 0).numpy()
    return (
        (result * 255 + 0.5).astype(np.uint8)
        if as_uint8
        else result.astype(array.dtype if array.dtype.kind == "f" else np.float32)
    )


def read_picture(source: str | Path) -> Any:
    """One picture file as a decoded, upright Pillow image (as viewers show it, not as a phone stored it).

    Refusals are those of the readers training and ``translate`` use (:func:`ganforge.data.image_files.
    read_image`): a folder, a missing or empty file, and whatever Pillow refuses (not a picture, truncated,
    larger than Pillow's decompression-bomb limit) each come back as one line naming the file, where Pillow's
    ``DecompressionBombError`` escaped as a traceback."""
    from PIL import Image

    from ganforge.data.image_files import _readable, check_readable, upright

    src = _one_picture(source)
    check_readable(src)
    with _readable(src), Image.open(src) as picture:
        picture.load()
        return upright(picture)


def _one_picture(source: str | Path) -> Path:
    """``source`` as the path of an existing file: a folder or a missing path is refused before any output
    is checked or written, in words that say what to give."""
    src = Path(source)
    if src.is_dir():
        raise GanforgeError(f"input '{src}' is a folder; upscale takes one picture (a .png or .jpg file)")
    if not src.is_file():
        raise GanforgeError(f"input picture '{src}' does not exist; check the path")
    return src


def upscale_file(run: Run | str | Path, source: str | Path, out: str | Path, tile: int | None = 64) -> Path:
    """Read a picture file, upscale it, write it in the format ``out``'s suffix names (.png, .jpg, ...)
    through a temporary file. A folder, a missing parent folder or an unknown suffix is refused first."""
    from ganforge.outputs import PICTURE_FORMATS, never_over, output_file, save_picture

    src = _one_picture(source)
    out = output_file(out, tuple(PICTURE_FORMATS))
    never_over(out, src)
    return save_picture(upscale(run, read_picture(src), tile), out)
