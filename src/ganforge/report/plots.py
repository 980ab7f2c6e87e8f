"""Pictures of a run: loss curves, D(x) and D(G(z)) over time, real vs generated samples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

from ganforge.log_keys import D_FAKE, D_REAL, LOSS_D, LOSS_G

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

# every plot of real vs generated data uses these (t-SNE / PCA in evaluation/sequences.py included)
REAL_COLOR, GENERATED_COLOR = "C0", "C1"


def _series(records: list[dict[str, Any]], key: str) -> tuple[list[int], list[float]]:
    pts = [(r["step"], r[key]) for r in records if isinstance(r.get(key), (int, float))]
    return [p[0] for p in pts], [p[1] for p in pts]


def _legend(ax: Any, **kwargs: Any) -> None:
    """A legend when something was drawn; a short run may not have logged a series yet (e.g. TimeGAN's
    adversarial losses during its embedding stage), and an empty legend only warns."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kwargs)
    else:
        ax.text(0.5, 0.5, "not logged yet", ha="center", va="center", transform=ax.transAxes, color="grey")


def plot_losses(records: list[dict[str, Any]], path: Path) -> Path:
    """Discriminator and generator losses over training steps."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for key, label in ((LOSS_D, "discriminator"), (LOSS_G, "generator")):
        steps, values = _series(records, key)
        if steps:
            ax.plot(steps, values, label=label, marker="o" if len(steps) == 1 else None)  # one point: a dot
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title("losses")
    _legend(ax)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_discriminator(records: list[dict[str, Any]], path: Path, probability: bool = True) -> Path:
    """Mean D(x) and D(G(z)) over training; 0.5 is where D cannot tell them apart."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    labels = ((D_REAL, "D(x)"), (D_FAKE, "D(G(z))")) if probability else (
        (D_REAL, "score(x)"), (D_FAKE, "score(G(z))"))
    for key, label in labels:
        steps, values = _series(records, key)
        if steps:
            ax.plot(steps, values, label=label, marker="o" if len(steps) == 1 else None)  # one point: a dot
    if probability:
        ax.axhline(0.5, color="grey", lw=0.8, ls="--")
        ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("step")
    ax.set_ylabel("discriminator output" + (" (probability)" if probability else " (score)"))
    _legend(ax)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_real_vs_fake(
    real: torch.Tensor, fake: torch.Tensor, path: Path, title: str = "", names: list[str] | None = None
) -> Path:
    """Histograms for 1-D data, scatter for 2-D, pairwise first two features beyond; axes named after the
    data's columns when given. Real is always :data:`REAL_COLOR`, generated :data:`GENERATED_COLOR`."""
    real, fake = real.detach().cpu().float(), fake.detach().cpu().float()
    fig, ax = plt.subplots(figsize=(5, 4.2))
    if real.shape[1] == 1:
        lo = float(min(real.min(), fake.min()))
        hi = float(max(real.max(), fake.max()))
        bins = torch.linspace(lo, hi, 60).numpy()
        ax.hist(real[:, 0].numpy(), bins=bins, alpha=0.5, density=True, label="real", color=REAL_COLOR)
        ax.hist(fake[:, 0].numpy(), bins=bins, alpha=0.5, density=True, label="generated", color=GENERATED_COLOR)
        ax.set_xlabel(names[0] if names else "x")
        ax.legend(markerscale=4)
    else:
        ax.scatter(real[:, 0], real[:, 1], s=3, alpha=0.4, label="real", color=REAL_COLOR)
        ax.scatter(fake[:, 0], fake[:, 1], s=3, alpha=0.4, label="generated", color=GENERATED_COLOR)
        ax.set_aspect("equal", adjustable="datalim")
        if names and len(names) >= 2:
            ax.set_xlabel(names[0])
            ax.set_ylabel(names[1])
        # above the axes, never over the points (a legend inside covered a corner mode of grid25)
        ax.legend(markerscale=4, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
    ax.set_title(title or "real vs generated", pad=22 if real.shape[1] > 1 else 6)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
