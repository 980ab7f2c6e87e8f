"""Pictures of a table run: every column real vs synthetic (histograms / bars), the column-pair trend
differences as a heat map, and the validation quality measured during training (``eval.every``)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from ganforge.data.tables import DISCRETE_KINDS, TableTransformer  # noqa: E402
from ganforge.report.pictures import register_pictures  # noqa: E402

if TYPE_CHECKING:
    from ganforge.runs import Run

MAX_COLUMNS = 24  # columns drawn in the per-column figure (the first ones, in table order)
MAX_BARS = 12


def plot_columns(real: Any, synthetic: Any, transformer: TableTransformer, path: Path, title: str = "") -> Path:
    """Per column: overlaid density histograms (continuous) or side-by-side category shares (categorical)."""
    from ganforge.evaluation.tables import _category_index, _numeric

    columns = [c for c in transformer.columns if c.kind != "id"][:MAX_COLUMNS]
    cols = min(4, len(columns))
    rows = math.ceil(len(columns) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.4 * rows), squeeze=False)
    for ax, col in zip(axes.flat, columns, strict=False):
        if col.kind in DISCRETE_KINDS:
            k = len(col.categories)
            p = np.bincount(_category_index(real[col.name], col), minlength=k) / max(len(real), 1)
            q = np.bincount(_category_index(synthetic[col.name], col), minlength=k) / max(len(synthetic), 1)
            order = np.argsort(-p)[:MAX_BARS]
            x = np.arange(len(order))
            ax.bar(x - 0.2, p[order], 0.4, label="real", color="#4c72b0")
            ax.bar(x + 0.2, q[order], 0.4, label="synthetic", color="#dd8452")
            ax.set_xticks(
                x,
                ["(missing)" if col.categories[i] is None else str(col.categories[i])[:8] for i in order],
                rotation=45,
                fontsize=7,
            )
        else:
            r, s = _numeric(real, col), _numeric(synthetic, col)
            r, s = r[~np.isnan(r)], s[~np.isnan(s)]
            bins = np.linspace(min(r.min(), s.min()), max(r.max(), s.max()) + 1e-9, 30) if len(r) and len(s) else 30
            ax.hist(r, bins=bins, density=True, alpha=0.55, label="real", color="#4c72b0")
            ax.hist(s, bins=bins, density=True, alpha=0.55, label="synthetic", color="#dd8452")
            ax.tick_params(labelsize=7)
        ax.set_title(col.name, fontsize=9)
    for ax in list(axes.flat)[len(columns) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(title or "columns: real (holdout) vs synthetic", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def plot_pair_differences(pairs: dict[tuple[str, str], float], names: list[str], path: Path) -> Path:
    """Heat map of 1 - pair-trend similarity (0: the synthetic pair relation matches the real one)."""
    index = {n: i for i, n in enumerate(names)}
    matrix = np.zeros((len(names), len(names)))
    for (a, b), score in pairs.items():
        matrix[index[a], index[b]] = matrix[index[b], index[a]] = 1.0 - score
    size = max(4.0, 0.28 * len(names) + 2)
    fig, ax = plt.subplots(figsize=(size, size * 0.85))
    image = ax.imshow(matrix, cmap="magma_r", vmin=0, vmax=max(0.5, float(matrix.max())))
    ax.set_xticks(range(len(names)), names, rotation=90, fontsize=7)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    fig.colorbar(image, ax=ax, label="1 - pair-trend similarity (correlation / contingency)")
    ax.set_title("column pairs: how far the synthetic relation is from the real one", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def plot_quality_curve(metrics_file: Path, path: Path) -> Path | None:
    """Validation quality against the step (the evaluations of ``eval.every``); the best one marked."""
    steps, values, best = [], [], None
    if not metrics_file.is_file():
        return None
    for line in metrics_file.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        value = (record.get("eval") or {}).get("validation_quality")
        if isinstance(value, (int, float)):
            steps.append(record["step"])
            values.append(value)
            if record["eval"].get("is_best"):
                best = (record["step"], value)
    if not steps:
        return None
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.plot(steps, values, marker="o", ms=3, label="validation quality")
    if best is not None:
        ax.scatter([best[0]], [best[1]], color="red", zorder=3, label=f"best (step {best[0]})")
    ax.set_xlabel("step")
    ax.set_ylabel("quality (shapes + pair trends) / 2")
    ax.legend(fontsize=8)
    ax.set_title("quality on the validation rows during training", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


@register_pictures("table")
def table_pictures(run: Run, folder: Path) -> dict[str, str]:
    """Columns real vs synthetic, pair-trend differences, and the validation quality curve."""
    from ganforge.evaluation.tables import quality_report

    source = run.real_data()
    transformer = source.transformer
    real = source.holdout_frame if len(source.holdout_frame) else source.frame
    state = torch.get_rng_state()
    try:
        synthetic = run.sample(rows=max(len(source.frame), 1000))
    finally:
        torch.set_rng_state(state)
    files = {
        "table_columns": str(plot_columns(real, synthetic, transformer, folder / "table_columns.png", run.config.name))
    }
    report = quality_report(real, synthetic, transformer)
    names = [c.name for c in transformer.columns if c.kind != "id"]
    if len(names) >= 2:
        files["pair_differences"] = str(
            plot_pair_differences(report["per_pair"], names, folder / "pair_differences.png")
        )
    curve = plot_quality_curve(run.path / "metrics.jsonl", folder / "quality_curve.png")
    if curve is not None:
        files["quality_curve"] = str(curve)
    return files
