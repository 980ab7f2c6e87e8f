"""The evaluator for ``sequences`` runs: TimeGAN's two scores with repeats, and cheap shape statistics.

What is compared (``ganforge eval RUN -n N`` or the end of training, ``eval.n``):

* real: ``min(N, len(data))`` sequences of the run's data (a seeded random subset, seed 2024), in data
  units; synthetic: the same number of generated sequences, mapped back to data units. Equal sizes, as
  TimeGAN's ``main_timegan.py`` (which compares all 10,000 sines with 10,000 synthetic ones).
* ``discriminative`` / ``predictive``: :func:`~ganforge.evaluation.sequences.discriminative_score_repeats`
  and :func:`~ganforge.evaluation.sequences.predictive_score_repeats` with the official iteration counts
  (2,000 and 5,000 Adam steps, batch 128), over ``REPEATS`` seeds; reported as ``*_score`` (mean) and
  ``*_std``. The paper averages 10 repeats (``benchmarks/sequences.py`` does); a run's end-of-training
  evaluation uses 3 to keep it under about a minute. Both work in TimeGAN's [0, 1] units (data outside
  [0, 1] is min-max scaled with the real set's per-feature range first).
* ``moments``: mean |mean_n x^ - mean_n x| and mean |sd_n x^ - sd_n x| per (step, feature), in [0, 1] units
  of the real set — TimeGAN's L_V statistics, instant to compute.
* ``autocorrelation``: mean |acf_k(x^) - acf_k(x)| over features and lags k = 1 .. min(T - 1, 10), the
  autocorrelation of each feature pooled over sequences — does the generator keep the temporal shape.
* ``discriminative_quick`` (only when asked for): one repeat of the discriminative score with
  ``QUICK_ITERATIONS`` (1,000) classifier steps and its own seed (``QUICK_SEED``, never one of the reported
  repeats' seeds), about a sixth of the 3-repeat score's cost. It is meant for ``eval.every`` +
  ``eval.best: min:discriminative_quick``: picking the checkpoint by a periodic, cheap estimate of the
  score (TimeGAN's adversarial training oscillates, so the last iterate is often not the best one). It is
  a weak proxy: after 1,000 steps the small classifier often has not learned to separate the sets yet, so
  it reads low (on sines: 0.017 at the chosen checkpoint, 0.167 +- 0.070 with the full protocol), and the
  minimum over many checks is biased low. The reported score is always recomputed in full on fresh
  samples with the reported seeds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from ganforge.errors import GanforgeError
from ganforge.evaluation.sequences import (
    discriminative_score,
    discriminative_score_repeats,
    predictive_score_repeats,
)
from ganforge.evaluation.suite import register_evaluator

if TYPE_CHECKING:
    from ganforge.runs import Run

REPEATS = 3
DISCRIMINATIVE_ITERATIONS = 2000  # TimeGAN's metrics/discriminative_metrics.py
PREDICTIVE_ITERATIONS = 5000  # TimeGAN's metrics/predictive_metrics.py
REAL_SEED = 2024
MAX_LAG = 10
QUICK_ITERATIONS = 1000
QUICK_SEED = 1000
DEFAULT_METRICS = ("discriminative", "predictive", "moments", "autocorrelation")
METRICS = (*DEFAULT_METRICS, "discriminative_quick")


def unit_scale(real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Both sets min-max scaled with the real set's per-feature range (pooled over samples and steps)."""
    flat = real.reshape(-1, real.shape[-1])
    lo, width = flat.amin(0), flat.amax(0) - flat.amin(0) + 1e-7
    return (real - lo) / width, (fake - lo) / width


def moment_errors(real: torch.Tensor, fake: torch.Tensor) -> dict[str, float]:
    """``mean_error`` = mean_{t,f} |E x^ - E x|, ``std_error`` = mean_{t,f} |sd x^ - sd x| (over samples)."""
    r, f = unit_scale(real.float(), fake.float())
    return {
        "mean_error": float((f.mean(0) - r.mean(0)).abs().mean()),
        "std_error": float((f.std(0, unbiased=False) - r.std(0, unbiased=False)).abs().mean()),
    }


def autocorrelation(x: torch.Tensor, max_lag: int) -> torch.Tensor:
    """acf (max_lag, F): corr(x_t, x_{t+k}) per feature, centred by each feature's mean over all steps and
    sequences, acf_k = sum (x_t - m)(x_{t+k} - m) / sum (x_t - m)^2 with the sums over samples and t."""
    centred = x - x.mean(dim=(0, 1), keepdim=True)
    denom = (centred**2).sum(dim=(0, 1)).clamp_min(1e-12)
    lags = [(centred[:, :-k] * centred[:, k:]).sum(dim=(0, 1)) / denom for k in range(1, max_lag + 1)]
    return torch.stack(lags)


def autocorrelation_error(real: torch.Tensor, fake: torch.Tensor, max_lag: int = MAX_LAG) -> float:
    """Mean |acf_k(x^) - acf_k(x)| over lags 1 .. min(T - 1, max_lag) and features."""
    lag = min(real.shape[1] - 1, max_lag)
    if lag < 1:
        return 0.0
    return float((autocorrelation(fake.float(), lag) - autocorrelation(real.float(), lag)).abs().mean())


def sequence_report(
    real: torch.Tensor,
    fake: torch.Tensor,
    metrics: list[str] | None = None,
    repeats: int = REPEATS,
    seed: int = 0,
    iterations: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """The sequence metrics named in ``metrics`` (empty / None: all) for real and synthetic (N, T, F).

    ``iterations``: training steps of the discriminative and predictive post-hoc GRUs (default: TimeGAN's
    2,000 and 5,000)."""
    d_iters, p_iters = iterations or (DISCRIMINATIVE_ITERATIONS, PREDICTIVE_ITERATIONS)
    chosen = list(metrics) if metrics else list(DEFAULT_METRICS)
    unknown = [m for m in chosen if m not in METRICS]
    if unknown:
        raise GanforgeError(f"metric '{unknown[0]}' does not apply to sequence data; available: {', '.join(METRICS)}")
    out: dict[str, Any] = {}
    if "discriminative" in chosen:
        mean, std = discriminative_score_repeats(real, fake, repeats=repeats, seed=seed, iterations=d_iters)
        out.update(discriminative_score=mean, discriminative_std=std)
    if "discriminative_quick" in chosen:
        out["discriminative_quick"] = discriminative_score(real, fake, iterations=QUICK_ITERATIONS, seed=QUICK_SEED)
    if "predictive" in chosen:
        mean, std = predictive_score_repeats(real, fake, repeats=repeats, seed=seed, iterations=p_iters)
        out.update(predictive_score=mean, predictive_std=std)
    if "moments" in chosen:
        out.update(moment_errors(real, fake))
    if "autocorrelation" in chosen:
        out["autocorrelation_error"] = autocorrelation_error(real, fake)
    return out


@register_evaluator("sequences")
def evaluate_sequences(run: Run, n: int, metrics: list[str]) -> dict[str, Any]:
    """TimeGAN's discriminative and predictive scores (mean and std over ``REPEATS`` seeds), moment and
    autocorrelation errors, on ``min(n, len(data))`` real sequences and as many synthetic ones."""
    real = run.real_data().real(n, seed=REAL_SEED).x.float()
    state = torch.get_rng_state()
    try:
        fake = run.sample(len(real)).float()
    finally:
        torch.set_rng_state(state)
    report = sequence_report(real, fake, metrics)
    return {
        "n_real": int(real.shape[0]),
        "n_fake": int(fake.shape[0]),
        "repeats": REPEATS,
        "reference": f"real sequences of the run's data (random subset, seed {REAL_SEED})",
        **report,
    }
