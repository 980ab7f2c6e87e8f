"""Pictures of super-resolution and translation runs (registered for the kinds ``superres`` and
``unpaired-images``): low-res | bicubic | SRGAN | original rows, and A | G(A) | F(G(A)) rows."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from ganforge.report.image_pictures import labelled_grid, save_grid, save_png, stack_pictures
from ganforge.report.pictures import register_pictures

if TYPE_CHECKING:
    from ganforge.runs import Run


def superres_rows(run: Run, high: torch.Tensor, low: torch.Tensor) -> torch.Tensor:
    """For each pair: low-res (nearest-enlarged) | bicubic | the run's upscaling | original, data units."""
    from ganforge.data.paired import bicubic_upscale

    scale = int(run.gan.scale)  # type: ignore[attr-defined]
    sr = run.scaler.to_data(run.gan.upscale(run.scaler.to_model(low), tile=None)).cpu().clamp(0, 1)  # type: ignore[attr-defined]
    nearest = F.interpolate(low, scale_factor=scale, mode="nearest")
    return torch.stack([nearest, bicubic_upscale(low, scale), sr, high], dim=1).flatten(0, 1)


@register_pictures("superres")
def superres_pictures(run: Run, folder: Path, n: int = 6) -> dict[str, str]:
    """low-res | bicubic | SRGAN | original for ``n`` held-out pairs."""
    from ganforge.evaluation.superres_metrics import heldout_pairs

    high, low, _ = heldout_pairs(run, n)
    scale = int(run.gan.scale)  # type: ignore[attr-defined]
    headers = ["low-res", "bicubic", f"{type(run.gan).__name__} x{scale}", "original"]
    rows = superres_rows(run, high, low)
    return {"superres": str(save_grid(rows, folder / "superres.png", ncol=4, column_labels=headers))}


def translation_rows(run: Run, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Rows a | G(a) | F(G(a)) then b | F(b) | G(F(b)), data units."""
    from ganforge.evaluation.translation_metrics import translate_data

    ab = translate_data(run, a, "a2b")
    ba = translate_data(run, b, "b2a")
    columns = [a, ab, translate_data(run, ab, "b2a"), b, ba, translate_data(run, ba, "a2b")]
    if len({c.shape[1] for c in columns}) > 1:  # a gray domain beside a colour one: show every column in RGB
        columns = [c.expand(-1, 3, -1, -1) if c.shape[1] == 1 else c for c in columns]
    rows_a = torch.stack(columns[:3], dim=1).flatten(0, 1)
    rows_b = torch.stack(columns[3:], dim=1).flatten(0, 1)
    return torch.cat([rows_a, rows_b])


@register_pictures("unpaired-images")
def translation_pictures(run: Run, folder: Path, n: int = 8) -> dict[str, str]:
    """``n`` held-out images per domain with their translation and round trip (3 columns)."""
    from ganforge.evaluation.translation_metrics import evaluation_domains

    source, _ = evaluation_domains(run)
    a, b = source.real(n, seed=7).x, source.real_b(n, seed=7).x
    rows = translation_rows(run, a, b)
    half = len(rows) // 2
    picture = stack_pictures([
        labelled_grid(rows[:half], 6, ["A", "G(A)", "F(G(A))"] * 2, title="from A   (G: A -> B, F: B -> A)"),
        labelled_grid(rows[half:], 6, ["B", "F(B)", "G(F(B))"] * 2, title="from B"),
    ])
    picture = save_png(picture, folder / "translation.png")
    return {"translation": str(picture)}
