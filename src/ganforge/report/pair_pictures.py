"""Pictures of paired translation runs (registered for the kind ``paired-images``): input | output | target."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import torch

from ganforge.report.image_pictures import save_grid
from ganforge.report.pictures import register_pictures

if TYPE_CHECKING:
    from ganforge.runs import Run


def pair_rows(inputs: torch.Tensor, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Rows input | output | target (data units); 1-channel images are shown in RGB beside colour ones."""
    if len({inputs.shape[1], outputs.shape[1], targets.shape[1]}) > 1:
        inputs, outputs, targets = (
            t.expand(-1, 3, -1, -1) if t.shape[1] == 1 else t for t in (inputs, outputs, targets)
        )
    return torch.stack([inputs, outputs, targets], dim=1).flatten(0, 1)


@register_pictures("paired-images")
def pair_pictures(run: Run, folder: Path, n: int = 12) -> dict[str, str]:
    """``n`` held-out pairs, two per row: input | the run's output | true target."""
    from ganforge.evaluation.paired_metrics import heldout_source, translate_pairs

    source, _ = heldout_source(run)
    a, b, _, _ = source.heldout(n, seed=7)
    rows = pair_rows(a, translate_pairs(run, a), b)
    labels = ["input", "output", "target"] * 2
    return {"translation": str(save_grid(rows, folder / "translation.png", ncol=6, column_labels=labels))}
