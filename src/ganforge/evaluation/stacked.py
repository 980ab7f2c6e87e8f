"""Stacked digits: a 1000-mode image data set and the mode count of the PacGAN / VEEGAN protocol.

Stacked MNIST (Metz et al. 2017; Srivastava et al. 2017 "VEEGAN"; Lin et al. 2018 "PacGAN") stacks
three independently drawn digits as the channels of one colour image, giving 10^3 = 1000 equally likely
modes. Here the digits come from scikit-learn's 8x8 set. A generator's samples are scored by
classifying each channel with a pre-trained digit classifier (the shipped digits CNN), reading the
three predictions as one mode ``100 d_0 + 10 d_1 + d_2``, and reporting

* ``modes``: the number of the 1000 modes hit by at least one sample, and
* ``kl``: KL(p || u) = sum_m p(m) log(p(m) / (1/1000)) between the histogram p of predicted modes and
  the uniform distribution u (terms with p(m) = 0 contribute 0), in nats.

PacGAN reports both on 26,000 generated samples. A perfect sampler of n samples still shows a small
KL from finite sampling (about 999 / (2n), i.e. ~0.02 at n = 26,000).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ganforge.data.images import digits_images
from ganforge.errors import GanforgeError
from ganforge.nets.features import DigitsClassifier, load_digits_classifier

NUM_MODES = 1000


def stacked_digits(n: int, seed: int = 0, size: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` stacked-digit images ``(n, 3, size, size)`` in [0, 1] and their modes ``(n,)`` in 0..999.

    Each channel is an independent uniform draw from the 1797 digits (so every mode has probability
    1/1000 up to the digits' slightly unequal class sizes); mode = 100 * label_0 + 10 * label_1 + label_2.
    ``size`` other than 8 resizes bilinearly.
    """
    if n < 1 or size < 2:
        raise GanforgeError(f"stacked_digits needs n >= 1 and size >= 2; got n={n}, size={size}")
    images, labels = digits_images()
    gen = torch.Generator().manual_seed(seed)
    pick = torch.randint(len(images), (n, 3), generator=gen)
    stacked = images[pick.reshape(-1)].reshape(n, 3, *images.shape[-2:])
    if size != images.shape[-1]:
        stacked = torch.nn.functional.interpolate(
            stacked,
            size=(size, size),
            mode="bilinear",
            align_corners=False,
            antialias=size < images.shape[-1],
        ).clamp(0.0, 1.0)
    modes = (labels[pick] * torch.tensor([100, 10, 1])).sum(dim=1)
    return stacked, modes


def mode_kl(counts: torch.Tensor | np.ndarray) -> float:
    """KL(p || uniform) in nats for a histogram of counts over its bins (0 log 0 = 0)."""
    c = np.asarray(counts, dtype=np.float64)
    if c.sum() <= 0:
        raise GanforgeError("mode histogram is empty; classify at least one sample")
    p = c / c.sum()
    nz = p[p > 0]
    return float((nz * np.log(nz)).sum() + math.log(len(c)))


@torch.no_grad()
def count_stacked_modes(
    images: torch.Tensor, classifier: DigitsClassifier | None = None, batch_size: int = 1024
) -> dict[str, Any]:
    """Classify each channel of ``images`` (N, 3, H, W) in [0, 1]; count modes hit and KL to uniform.

    Returns ``{"modes": int, "kl": float, "n": N, "counts": LongTensor(1000)}``; ``classifier``
    defaults to the shipped digits CNN (anything with ``predict(images (M, 1, H, W)) -> (M,)`` works).
    """
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1] != 3 or len(images) == 0:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise GanforgeError(f"count_stacked_modes expects images shaped (N, 3, H, W) in [0, 1]; got {shape}")
    net = classifier if classifier is not None else load_digits_classifier()
    n = len(images)
    channels = images.detach().float().reshape(n * 3, 1, *images.shape[-2:])
    digits = net.predict(channels, batch_size=batch_size).reshape(n, 3).cpu()
    modes = (digits * torch.tensor([100, 10, 1])).sum(dim=1)
    counts = torch.bincount(modes, minlength=NUM_MODES)
    return {"modes": int((counts > 0).sum()), "kl": mode_kl(counts), "n": n, "counts": counts}
