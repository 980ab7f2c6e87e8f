"""Pictures of text-to-image runs: captions beside their samples, and a walk between two sentences.

* ``captions_grid.png``: one row per caption (the caption's text on the left, then samples for it with
  different noise), captions taken from real images so each row can be checked by eye.
* ``sentence_interpolation.png``: rows of fixed noise; along a row the sentence vector moves linearly
  from the first sentence's to the second's, ``e(t) = (1 - t) e_a + t e_b`` (the generator reads e only).
* ``ganforge sample RUN --text "..." -o x.png``: a grid of samples for that sentence.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from ganforge.report.image_pictures import _check_n, grid_image, save_grid, save_png
from ganforge.report.pictures import register_pictures, register_samples_png

if TYPE_CHECKING:
    from PIL import Image

    from ganforge.runs import Run

CAPTION_ROWS, PER_CAPTION = 8, 8
TEXT_WIDTH = 460  # pixels of caption text left of each row
INTERPOLATION = ("a large red circle at the top left", "a small blue square at the bottom right")


def _rows_with_text(rows: list[torch.Tensor], texts: list[str]) -> Image.Image:
    """Each row (k, C, H, W) as a grid strip with its text on the left, stacked vertically (RGB)."""
    from PIL import Image, ImageDraw

    strips = [grid_image(r, ncol=len(r)).convert("RGB") for r in rows]
    width = TEXT_WIDTH + max(s.width for s in strips)
    out = Image.new("RGB", (width, sum(s.height for s in strips)), "white")
    top = 0
    draw = ImageDraw.Draw(out)
    for strip, text in zip(strips, texts, strict=True):
        out.paste(strip, (TEXT_WIDTH, top))
        for j, line in enumerate(textwrap.wrap(text, 72)[:4]):
            draw.text((4, top + 4 + 12 * j), line, fill="black")
        top += strip.height
    return out


@torch.no_grad()
def captions_grid(run: Run, path: Path, captions: list[str] | None = None, per_caption: int = PER_CAPTION) -> Path:
    """Rows of ``per_caption`` samples for each caption (default: captions of 8 real images)."""
    gan = run.gan
    if captions is None:
        source = run.real_data()
        idx, k = source.real_index(CAPTION_ROWS, seed=2024)  # type: ignore[attr-defined]
        captions = [source.captions[int(i)][int(j)] for i, j in zip(idx, k, strict=True)]  # type: ignore[attr-defined]
    rows = [run.sample(per_caption, label=gan.tokens(c, per_caption)) for c in captions]
    return save_png(_rows_with_text(rows, captions), path)


@torch.no_grad()
def sentence_interpolation(
    run: Run, path: Path, first: str = INTERPOLATION[0], second: str = INTERPOLATION[1], steps: int = 8, rows: int = 4
) -> Path:
    """Generated images along ``e(t) = (1 - t) e(first) + t e(second)``, one row per fixed noise (with word
    attention the word vectors too, position by position, attending to the words of either caption)."""
    gan = run.gan
    e, words, mask = gan.condition(gan.tokens([first, second]))
    t = torch.linspace(0, 1, steps)[:, None]
    along = [(1 - t) * e[0] + t * e[1], None, None]
    if words is not None and mask is not None:
        along[1:] = [(1 - t[:, :, None]) * words[0] + t[:, :, None] * words[1], (mask[0] | mask[1]).expand(steps, -1)]
    z = gan.sample_latents(rows)
    images = [run.scaler.to_data(gan.sampling_generator()(z[r : r + 1].expand(steps, -1), *along)) for r in range(rows)]
    return save_png(_rows_with_text(images, [f"{first}  ->  {second}"] * rows), path)


@register_pictures("captioned-images")
def text2image_pictures(run: Run, folder: Path) -> dict[str, str]:
    out = {"captions_grid": str(captions_grid(run, folder / "captions_grid.png"))}
    words = run.gan.vocab
    if all(w in words for s in INTERPOLATION for w in s.split()):
        out["sentence_interpolation"] = str(sentence_interpolation(run, folder / "sentence_interpolation.png"))
    else:  # other data: walk between two of its own captions
        source = run.real_data()
        a, b = source.captions[0][0], source.captions[-1][0]  # type: ignore[attr-defined]
        out["sentence_interpolation"] = str(sentence_interpolation(run, folder / "sentence_interpolation.png", a, b))
    return out


@register_samples_png("captioned-images")
def text2image_samples_png(run: Run, n: int, path: Path, label: int | None = None) -> Path:
    """``ganforge sample RUN --text "..." -n 16 -o x.png``: a grid of ``n`` samples (random training captions
    without ``--text``)."""
    _check_n(n)
    return save_grid(run.sample(n, label=label), path)
