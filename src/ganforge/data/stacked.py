"""``stacked-digits``: three independently drawn digits as the channels of one image — 1000 modes.

The Stacked-MNIST construction of Metz et al. (2017), VEEGAN (Srivastava et al. 2017) and PacGAN (Lin
et al. 2018), built from scikit-learn's 8x8 digits instead of MNIST so it needs no download. An image
``(3, size, size)`` holds digits ``d_0, d_1, d_2`` drawn uniformly from the 1797 images; its label is
the mode ``100 d_0 + 10 d_1 + d_2`` (0..999), so a conditional GAN can be asked for a given triple and
:func:`ganforge.evaluation.stacked.count_stacked_modes` counts the modes a generator covers.

By default every batch is a fresh draw (an unlimited supply: 1797^3 distinct images); ``count`` fixes
a finite training set of that many images instead, as the papers do (128,000 in VEEGAN and PacGAN).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch

from ganforge.data.base import ArraySource, DistributionSource
from ganforge.data.images import check_size, resize_images
from ganforge.data.registry import register_source
from ganforge.data.scaling import OutputRange, Scaler
from ganforge.errors import GanforgeError

NUM_MODES = 1000
PLACE = torch.tensor([100, 10, 1])


@functools.lru_cache(maxsize=4)
def _digits(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The 1797 digits as ``(1797, 1, size, size)`` in [0, 1] (resized once per size) and their labels."""
    from ganforge.data.images import digits_images

    images, labels = digits_images()
    return resize_images(images, size), labels


def draw_stacked(n: int, rng: torch.Generator, size: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` stacked-digit images ``(n, 3, size, size)`` in [0, 1] and their modes ``(n,)``, drawn with
    ``rng``: each channel an independent uniform pick among the 1797 digits."""
    images, labels = _digits(size)
    pick = torch.randint(len(images), (n, 3), generator=rng)
    stacked = images[pick.reshape(-1)].reshape(n, 3, size, size)
    return stacked, (labels[pick] * PLACE).sum(dim=1)


@dataclass
class StackedDigitsSource(DistributionSource):
    """Fresh stacked digits for every batch. Scaled like every image source: one shift and scale for all
    pixels, mapping the known range [0, 1] (not the observed extremes) onto the generator's range."""

    def fit_scaler(self, output: OutputRange) -> None:
        x, _ = self._draw(20_000, torch.Generator().manual_seed(0))
        self.scaler = Scaler.fit(x, output, per_feature=False, bounds=(0.0, 1.0))


@register_source("stacked-digits")
def stacked_digits(size: int = 8, count: int | None = None, seed: int = 0) -> DistributionSource | ArraySource:
    """Three digits stacked as RGB channels: 1000 modes (labels 0..999 = 100 d0 + 10 d1 + d2), like
    Stacked MNIST. ``size``: 8 (native), 16, 28 or 32 (resized). ``count``: a fixed set of that many images
    (drawn with ``seed``) instead of fresh draws for every batch."""
    check_size(size, "data")
    size = int(size)
    # Scalars in ``info`` must be this factory's own arguments: a run built from Python objects
    # records them as its data config and rebuilds the source from them.
    info: dict[str, int] = {"size": size} if count is None else {"size": size, "count": int(count), "seed": int(seed)}
    if count is not None:
        if int(count) < 1:
            raise GanforgeError(f"data.count={count}: ask for at least one image (or leave it unset for fresh draws)")
        x, y = draw_stacked(int(count), torch.Generator().manual_seed(int(seed)), size)
        return ArraySource(
            kind="images",
            sample_shape=(3, size, size),
            name="stacked-digits",
            num_classes=NUM_MODES,
            info=info,
            x=x,
            y=y,
            bounds=(0.0, 1.0),
            per_feature_scaling=False,
        )
    return StackedDigitsSource(
        kind="images",
        sample_shape=(3, size, size),
        name="stacked-digits",
        num_classes=NUM_MODES,
        info=info,
        draw=lambda n, rng: draw_stacked(n, rng, size),
    )
