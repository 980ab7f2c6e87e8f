"""Pictures of generated sequences: real vs generated series, and TimeGAN's PCA / t-SNE embeddings.

* ``series.png``: ``rows`` real sequences (left) beside ``rows`` generated ones (right), every feature
  of a sequence drawn as one line over time, in the data's own units and on a shared y-axis per feature
  set, so amplitude and shape can be compared by eye.
* ``pca.png`` / ``tsne.png``: :func:`ganforge.evaluation.sequences.embedding_plot` on up to 1,000 real and
  1,000 generated sequences (each reduced to its per-step mean over features).

``ganforge sample RUN -o FILE.png`` draws ``series.png``'s picture for ``n`` generated sequences alone.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from ganforge.report.pictures import register_pictures, register_samples_png

if TYPE_CHECKING:
    from ganforge.runs import Run

EMBEDDING_SAMPLES = 1000
SERIES_ROWS = 4
MAX_PNG_SEQUENCES = 16
REAL_SEED = 2024


def _feature_names(run: Run, features: int) -> list[str]:
    names = run.data.info.get("columns") if isinstance(run.data.info, dict) else None
    if isinstance(names, list) and len(names) == features:
        return [str(n) for n in names]
    return [f"x{i}" for i in range(features)]


def _draw(ax, seq: np.ndarray, names: list[str], legend: bool) -> None:  # noqa: ANN001 - a matplotlib Axes
    steps = np.arange(seq.shape[0])
    for f in range(seq.shape[1]):
        ax.plot(steps, seq[:, f], lw=1.2, label=names[f])
    if legend and seq.shape[1] <= 8:
        ax.legend(fontsize=6, loc="upper right")


def plot_series(
    real: torch.Tensor | None, fake: torch.Tensor, path: Path, title: str = "", names: list[str] | None = None
) -> Path:
    """Real (left column, if given) and generated (right) sequences (N, T, F), one panel per sequence."""
    from matplotlib.figure import Figure

    fake_np = fake.detach().cpu().numpy()
    real_np = None if real is None else real.detach().cpu().numpy()
    rows = len(fake_np) if real_np is None else min(len(fake_np), len(real_np))
    columns = 1 if real_np is None else 2
    if real_np is None and rows > SERIES_ROWS:  # a grid for many generated sequences
        columns = min(4, math.ceil(rows / SERIES_ROWS))
    grid_rows = math.ceil(rows / columns) if real_np is None else rows
    names = names or [f"x{i}" for i in range(fake_np.shape[-1])]
    both = fake_np if real_np is None else np.concatenate([real_np[:rows], fake_np[:rows]])
    lo, hi = float(both.min()), float(both.max())
    pad = 0.05 * (hi - lo + 1e-12)
    fig = Figure(figsize=(4 * columns, 1.8 * grid_rows + 0.6))
    axes = np.atleast_2d(fig.subplots(grid_rows, columns, squeeze=False))
    for r in range(grid_rows):
        for c in range(columns):
            ax = axes[r, c]
            if real_np is not None:
                seq = real_np[r] if c == 0 else fake_np[r]
                if r == 0:
                    ax.set_title("real" if c == 0 else "generated", fontsize=9)
            else:
                i = r * columns + c
                if i >= rows:
                    ax.axis("off")
                    continue
                seq = fake_np[i]
            _draw(ax, seq, names, legend=(r == 0 and c == columns - 1))
            ax.set_ylim(lo - pad, hi + pad)
            ax.tick_params(labelsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=100)
    return path


@register_pictures("sequences")
def sequence_pictures(run: Run, folder: Path) -> dict[str, str]:
    """Real vs generated series, and PCA and t-SNE pictures of real vs generated sequences."""
    from ganforge.evaluation.sequences import embedding_plot

    real = run.real_data().real(EMBEDDING_SAMPLES, seed=REAL_SEED).x
    state = torch.get_rng_state()
    try:
        fake = run.sample(len(real))
    finally:
        torch.set_rng_state(state)
    names = _feature_names(run, real.shape[-1])
    files = {
        "series": plot_series(real[:SERIES_ROWS], fake[:SERIES_ROWS], folder / "series.png", run.config.name, names)
    }
    for method in ("pca", "tsne"):
        files[method] = embedding_plot(real, fake, folder / f"{method}.png", method=method, seed=0)
    return {k: str(v) for k, v in files.items()}


@register_samples_png("sequences")
def sample_series_png(run: Run, n: int, path: Path, label: int | None = None, **options: object) -> Path:
    """Up to ``MAX_PNG_SEQUENCES`` of ``n`` generated sequences as a grid of line plots
    (``ganforge sample RUN -o FILE.png``); more would not be readable — write .csv/.npy for all of them."""
    fake = run.sample(min(n, MAX_PNG_SEQUENCES), label=label, **options)
    return plot_series(None, fake, path, run.config.name, _feature_names(run, fake.shape[-1]))
