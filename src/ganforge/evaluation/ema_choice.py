"""Which generator samples: the EMA copy or the raw one, decided once at the end of training.

An EMA generator is usually better (Yazıcı et al. 2019), but not always: on a short run, or with a decay
too slow for the run, it still holds much of its random start. So both are scored by one cheap metric on
real data drawn with a fixed evaluation seed, and the EMA is kept unless it measures worse. That real data is
the training data (a run holds no other; for digits, all 1,797 images): the choice is between two
generators of one run, never reported as a quality number, and the end-of-run evaluation reads the same
images. The metric is the sliced Wasserstein-1 distance in model units (standardized or scaled
data, so no feature network is needed and any kind of sample works):

    SW1(P, Q) = mean over K random unit directions u of W1(u·X, u·Y),  W1 of equal-size 1-D samples =
    mean |sort(u·X) - sort(u·Y)|

with K = 64 directions and 2 000 samples each (~0.1 s for points, ~1 s for 28x28 images on one core).
The choice is recorded in summary.json (``sampling_generator``) and honoured by ``ganforge.load``.
"""

from __future__ import annotations

from typing import Any

import torch

from ganforge.data.base import DataSource
from ganforge.gans.base import GANModel

CHOICE_SAMPLES = 2000
DIRECTIONS = 64
CHOICE_SEED = 9_876_543  # not the evaluation's default seed (the data are the same training samples)


def sliced_w1(x: torch.Tensor, y: torch.Tensor, directions: int = DIRECTIONS, seed: int = 0) -> float:
    """Sliced Wasserstein-1 distance between two equal-size samples (flattened per sample)."""
    x, y = x.flatten(1).double(), y.flatten(1).double()
    n = min(len(x), len(y))
    x, y = x[:n], y[:n]
    u = torch.randn(x.shape[1], directions, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    u = u / u.norm(dim=0, keepdim=True)
    px, _ = torch.sort(x @ u, dim=0)
    py, _ = torch.sort(y @ u, dim=0)
    return float((px - py).abs().mean())


@torch.no_grad()
def choose_sampling_generator(gan: GANModel, source: DataSource, n: int = CHOICE_SAMPLES) -> dict[str, Any] | None:
    """Score the EMA and the raw generator against the run's real data; set ``gan.sample_with_ema`` and
    return the record for summary.json (None when the model has no EMA or does not sample from noise)."""
    if gan.ema_generator is None or not gan.samples_from_noise:
        return None
    if _same_weights(gan.ema_generator, gan.generator):  # G never updated (a text run shorter than its encoder
        gan.sample_with_ema = True  # pre-training): both would score the same, after 2 x n samples (~20 s there)
        return {"used": "ema", "metric": "identical weights (the generator was never updated)", "n": 0}
    real = source.real(n, seed=CHOICE_SEED).x
    real = source.scaler.to_model(real.float())
    n = len(real)
    scores = {}
    state = torch.get_rng_state()
    for name, use_ema in (("ema", True), ("raw", False)):
        gan.sample_with_ema = use_ema
        torch.manual_seed(CHOICE_SEED)  # the same latents for both
        fake = gan.sample(n).to("cpu").float()
        scores[name] = sliced_w1(fake, real)
    torch.set_rng_state(state)
    gan.sample_with_ema = not scores["ema"] > scores["raw"]
    return {
        "used": "ema" if gan.sample_with_ema else "raw",
        "metric": "sliced_w1_model_units",
        "ema": round(scores["ema"], 6),
        "raw": round(scores["raw"], 6),
        "n": n,
    }


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    """Whether two networks of one architecture hold exactly the same parameters and buffers."""
    left, right = a.state_dict(), b.state_dict()
    return left.keys() == right.keys() and all(torch.equal(left[k], right[k]) for k in left)
