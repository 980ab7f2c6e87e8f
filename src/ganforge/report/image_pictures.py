"""Pictures of image runs: grids of generated images, real beside generated, and ``ganforge sample -o x.png``.

A grid is drawn pixel for pixel with Pillow (no plotting library in between): images in data units
([0, 1]) are tiled row by row with a 1-pixel border and enlarged by an integer factor with
nearest-neighbour sampling, so an 8x8 digit stays crisp. For conditional models every row of a grid is one
class (``--label`` fixes the class of all samples instead).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from ganforge.errors import GanforgeError
from ganforge.fileio import replaced_on_success
from ganforge.report.pictures import register_pictures, register_samples_png

if TYPE_CHECKING:
    from PIL import Image

    from ganforge.runs import Run

MIN_TILE_PIXELS = 48  # tiles smaller than this are enlarged by an integer factor
GRID_SAMPLES = 64  # samples in the run's picture of generated images (unconditional)
PER_CLASS = 8  # samples per class in a conditional grid
MAX_GRID_SAMPLES = 10_000


def upscale_factor(side: int, min_pixels: int = MIN_TILE_PIXELS) -> int:
    """Smallest integer ``k >= 1`` with ``k * side >= min_pixels``."""
    return max(1, math.ceil(min_pixels / max(1, side)))


def grid_array(
    images: torch.Tensor, ncol: int | None = None, padding: int = 1, pad_value: float = 0.5, scale: int | None = None
) -> np.ndarray:
    """Tile images ``(N, C, H, W)`` in [0, 1] (C = 1 or 3) into one uint8 array ``(H', W')`` or ``(H', W', 3)``.

    ``ncol`` columns (default ``ceil(sqrt(N))``), ``padding`` pixels of ``pad_value`` gray between and
    around tiles; each tile is enlarged ``scale`` times (default: to at least ``MIN_TILE_PIXELS``).
    """
    if images.dim() != 4 or images.shape[1] not in (1, 3) or images.shape[0] == 0:
        raise GanforgeError(
            f"an image grid needs a non-empty batch (N, 1 or 3, H, W); got {tuple(images.shape)}"
        )
    x = images.detach().float().cpu().clamp(0.0, 1.0)
    n, c, h, w = x.shape
    k = scale if scale is not None else upscale_factor(max(h, w))
    if k > 1:
        x = x.repeat_interleave(k, dim=2).repeat_interleave(k, dim=3)
        h, w = h * k, w * k
    ncol = min(n, ncol or math.ceil(math.sqrt(n)))
    nrow = math.ceil(n / ncol)
    canvas = torch.full((c, padding + nrow * (h + padding), padding + ncol * (w + padding)), float(pad_value))
    for i in range(n):
        r, col = divmod(i, ncol)
        top, left = padding + r * (h + padding), padding + col * (w + padding)
        canvas[:, top : top + h, left : left + w] = x[i]
    array = (canvas * 255.0 + 0.5).clamp(0, 255).to(torch.uint8).numpy()
    return array[0] if c == 1 else array.transpose(1, 2, 0)


def grid_image(images: torch.Tensor, ncol: int | None = None, **options: float) -> Image.Image:
    """:func:`grid_array` as a Pillow image (mode ``L`` for gray, ``RGB`` for colour)."""
    from PIL import Image

    return Image.fromarray(grid_array(images, ncol, **options))  # type: ignore[arg-type]


def save_png(image: Image.Image, path: Path) -> Path:
    """Write ``image`` as PNG through a temporary file, so ``path`` is never left half-written."""
    path = Path(path)
    with replaced_on_success(path) as tmp:
        image.save(tmp, format="PNG")
    return path


def save_grid(
    images: torch.Tensor,
    path: Path,
    ncol: int | None = None,
    column_labels: list[str] | None = None,
    row_labels: list[str] | None = None,
    title: str = "",
) -> Path:
    """A PNG grid of ``images`` (N, C, H, W) in [0, 1], optionally with column headers, row labels
    (e.g. each row's class) and a title line (see :func:`labelled_grid`)."""
    if column_labels or row_labels or title:
        return save_png(labelled_grid(images, ncol, column_labels, row_labels, title), path)
    return save_png(grid_image(images, ncol), path)


def labelled_grid(
    images: torch.Tensor,
    ncol: int | None = None,
    column_labels: list[str] | None = None,
    row_labels: list[str] | None = None,
    title: str = "",
) -> Image.Image:
    """:func:`grid_image` on a white margin: ``column_labels`` centred above each column, ``row_labels``
    right-aligned left of each row, ``title`` above everything. The tiles stay pixel-exact (the labels
    are drawn with Pillow's bundled font around them, not over them)."""
    from PIL import Image, ImageDraw, ImageFont

    grid = grid_image(images, ncol)
    n, _, h, _ = images.shape
    ncol = min(n, ncol or math.ceil(math.sqrt(n)))
    nrow = math.ceil(n / ncol)
    tile_w = (grid.width - 1) / ncol - 1  # grid_array's padding is 1 pixel
    tile_h = (grid.height - 1) / nrow - 1
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))

    def width(text: str) -> int:
        box = probe.textbbox((0, 0), text, font=font)
        return int(box[2] - box[0])

    size = 16  # the largest size (down to 8) at which every column header fits its column
    font = ImageFont.load_default(size=size)
    while size > 8 and column_labels and max(width(t) for t in column_labels) > tile_w - 2:
        size -= 1
        font = ImageFont.load_default(size=size)

    line = size + 6
    left = (max(width(t) for t in row_labels) + 8) if row_labels else 0
    head = line if column_labels else 0
    top = (line if title else 0) + head
    right_edge = left + grid.width
    if title:
        right_edge = max(right_edge, width(title) + 8)
    canvas = Image.new(grid.mode, (right_edge, top + grid.height), "white")
    canvas.paste(grid, (left, top))
    draw = ImageDraw.Draw(canvas)
    ink = "black"
    if title:
        draw.text((4, line // 2), title, fill=ink, font=font, anchor="lm")
    for c, text in enumerate((column_labels or [])[:ncol]):
        x = left + 1 + c * (tile_w + 1) + tile_w / 2
        draw.text((x, top - head / 2), text, fill=ink, font=font, anchor="mm")
    for r, text in enumerate((row_labels or [])[:nrow]):
        y = top + 1 + r * (tile_h + 1) + tile_h / 2
        draw.text((left - 4, y), text, fill=ink, font=font, anchor="rm")
    return canvas


def class_rows(num_classes: int, per_class: int = PER_CLASS) -> torch.Tensor:
    """Labels for a grid with one row per class: ``[0]*per_class + [1]*per_class + ...``."""
    return torch.arange(num_classes).repeat_interleave(per_class)


def grid_layout(
    num_classes: int | None, label: int | None, n: int | None = None
) -> tuple[torch.Tensor | int | None, int, int]:
    """``(labels, n, ncol)`` of a sample grid: one row per class for a conditional model without a
    fixed ``label``; otherwise ``n`` (default 64) samples in a square-ish grid."""
    if num_classes is not None and label is None and num_classes <= 32:
        per_class = PER_CLASS if n is None else max(1, math.ceil(n / num_classes))
        return class_rows(num_classes, per_class), num_classes * per_class, per_class
    n = GRID_SAMPLES if n is None else n
    return label, n, math.ceil(math.sqrt(n))


def _check_n(n: int) -> None:
    if not 1 <= n <= MAX_GRID_SAMPLES:
        raise GanforgeError(f"-n {n}: a picture holds between 1 and {MAX_GRID_SAMPLES} images; use .npy for more")


@register_samples_png("images")
def save_images_png(run: Run, n: int, path: Path, label: int | None = None) -> Path:
    """``ganforge sample RUN -o grid.png [-n N] [--label K]``: a grid of ``n`` generated images.

    Conditional models without ``--label`` get one row per class (``ceil(n / classes)`` per row).
    """
    _check_n(n)
    labels, count, ncol = grid_layout(run.gan.num_classes, label, n)
    images = run.sample(count, label=labels)
    return save_grid(images, path, ncol, **class_labelling(run, labels, label, ncol))


def stack_pictures(pictures: list[Image.Image]) -> Image.Image:
    """Pictures one below the other on white, left-aligned (e.g. labelled grids with different headers)."""
    from PIL import Image

    mode = "RGB" if any(p.mode == "RGB" for p in pictures) else "L"
    height = sum(p.height for p in pictures) + 4 * (len(pictures) - 1)
    canvas = Image.new(mode, (max(p.width for p in pictures), height), "white")
    top = 0
    for picture in pictures:
        canvas.paste(picture.convert(mode), (0, top))
        top += picture.height + 4
    return canvas


def class_names(run: Run) -> list[str]:
    """The data's class names (:attr:`Run.class_names`, e.g. an image folder's sub-folders), else ``0..K-1``."""
    k = int(run.gan.num_classes or 0)
    names = run.class_names
    return names if names is not None and len(names) == k else [str(i) for i in range(k)]


def class_labelling(run: Run, labels: torch.Tensor | int | None, label: int | None, ncol: int) -> dict:
    """Row labels (one class per row) or a title (one fixed class) for a conditional model's grid."""
    if run.gan.num_classes is None:
        return {}
    names = class_names(run)
    if isinstance(labels, torch.Tensor):
        return {"row_labels": [names[int(labels[i])] for i in range(0, len(labels), ncol)]}
    if label is not None and 0 <= int(label) < len(names):
        return {"title": f"class {names[int(label)]}"}
    return {}


def save_images_folder(run: Run, n: int, folder: Path, label: int | None = None, batch: int = 256) -> Path:
    """``ganforge sample RUN -o folder/``: ``n`` generated images as one PNG each (``000000.png``, ...),
    at their own size; a conditional model without ``--label`` writes one sub-folder per class (classes
    balanced; named as the classes of the folder it was trained on, else by number), the layout ``ganforge
    train folder/`` and ``ganforge fid --per-class`` read back. The pictures go to a temporary folder renamed
    when complete; an existing folder must be empty."""
    import shutil

    from ganforge.outputs import output_folder
    from ganforge.sampling import balanced_labels

    if n <= 0:
        raise GanforgeError(f"-n must be a positive number of samples, got {n}")
    folder = output_folder(folder, empty=True)
    labels = balanced_labels(run, n) if label is None else None
    names = class_names(run)
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    try:
        tmp.mkdir()
        for start in range(0, n, batch):
            part = labels[start : start + batch] if labels is not None else label
            images = run.sample(min(batch, n - start), label=part)
            for i, image in enumerate(images):
                index = start + i
                where = tmp / names[int(labels[index])] if labels is not None else tmp
                where.mkdir(exist_ok=True)
                grid_image(image[None], ncol=1, padding=0, scale=1).save(where / f"{index:06d}.png", format="PNG")
        if folder.is_dir():
            folder.rmdir()  # empty (checked above)
        os.replace(tmp, folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return folder


def real_grid(run: Run, n: int, labels: torch.Tensor | None) -> torch.Tensor:
    """``n`` real images (data units, fixed seed); with ``labels``, image ``i`` is of class ``labels[i]``
    (a blank tile where the data has too few images of a class)."""
    source = run.real_data()
    if labels is None or source.num_classes is None:
        return source.real(n, seed=2024).x[:n]
    pool = source.real(max(2000, 20 * n), seed=2024)
    if pool.y is None:
        return pool.x[:n]
    out = torch.zeros((len(labels), *pool.x.shape[1:]))
    for cls in labels.unique().tolist():
        slots = (labels == cls).nonzero().flatten()
        found = (pool.y == cls).nonzero().flatten()[: len(slots)]
        out[slots[: len(found)]] = pool.x[found]
    return out


def save_real_vs_generated(real: torch.Tensor, fake: torch.Tensor, path: Path, ncol: int, title: str = "") -> Path:
    """Real images (left) beside generated ones (right), same grid, captioned."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    left, right = grid_array(real, ncol), grid_array(fake, ncol)
    height = 4.0 * left.shape[0] / left.shape[1]
    fig, axes = plt.subplots(1, 2, figsize=(8.4, height + 0.6))
    for ax, array, caption in ((axes[0], left, "real"), (axes[1], right, "generated")):
        ax.imshow(array, cmap="gray" if array.ndim == 2 else None, vmin=0, vmax=255, interpolation="nearest")
        ax.set_title(caption)
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


@register_pictures("images")
def image_pictures(run: Run, folder: Path) -> dict[str, str]:
    """``samples.png`` (a grid of generated images, one row per class for conditional models) and
    ``real_vs_generated.png`` (the same grid of real images beside it). Sampling draws from a fixed seed
    and leaves the global torch RNG as it was."""
    labels, n, ncol = grid_layout(run.gan.num_classes, None)
    state = torch.get_rng_state()
    try:
        torch.manual_seed(2024)
        fake = run.sample(n, label=labels)
    finally:
        torch.set_rng_state(state)
    files = {"samples": str(save_grid(fake, folder / "samples.png", ncol, **class_labelling(run, labels, None, ncol)))}
    real = real_grid(run, n, labels if isinstance(labels, torch.Tensor) else None)
    files["real_vs_generated"] = str(
        save_real_vs_generated(real, fake, folder / "real_vs_generated.png", ncol, run.config.name)
    )
    return files
