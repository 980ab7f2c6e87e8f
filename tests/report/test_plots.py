"""Training curves (report/plots.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from ganforge.log_keys import LOSS_D
from ganforge.report.plots import plot_losses


def test_a_single_logged_step_is_drawn_as_a_dot(tmp_path: Path) -> None:
    """A run of steps <= log_every logs one point; a line through one point draws nothing (the audit found
    blank loss charts in such runs' reports)."""
    path = plot_losses([{"step": 100, LOSS_D: 1.3}], tmp_path / "losses.png")  # one series: its point is central
    pixels = np.asarray(Image.open(path).convert("RGB")).astype(int)
    h, w, _ = pixels.shape
    centre = pixels[int(0.3 * h) : int(0.7 * h), int(0.35 * w) : int(0.75 * w)]  # the lone point, away from the legend
    blue = np.abs(centre - np.array([31, 119, 180])).sum(axis=2) < 60  # matplotlib's first colour, C0
    assert blue.sum() > 20
