"""Diagnostics that run while training and explain, in plain words, what is going wrong.

Each monitor looks at the logged scalars (cheap) or at a small batch of samples, and reports a
*finding*: ``{"step", "kind", "message", "remedy"}``. Findings appear in the progress line, in
``metrics.jsonl`` (field ``findings``), in ``summary.json`` and in ``ganforge diagnose RUN``. A monitor
reports a condition when it starts (after ``patience`` consecutive checks), not on every check, and
logs ``{"step", "kind"}`` under ``resolved`` when it stops holding.

Monitors, each configured (or turned off with ``false``) under ``monitors.<name>`` of a recipe:

* ``vanishing_gradients`` — the discriminator wins and the generator's gradient collapses;
* ``mode_collapse`` — modes covered on data with known mixture components (and their histogram);
* ``instability`` — losses diverging or oscillating, exploding gradient or weight norms, non-finite values;
* ``duplicates`` — near-identical samples among a fixed batch of generated samples;
* ``diversity`` — images: the feature diversity of a fixed batch of generated images falling.
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ganforge.config import RunConfig
from ganforge.data.base import DataSource
from ganforge.log_keys import (
    D_FAKE,
    FINDINGS,
    GRAD_NORM_D,
    GRAD_NORM_G,
    LOSS_D,
    LOSS_G,
    MEASUREMENT_SEP,
    is_measurement,
)
from ganforge.registry import Registry
from ganforge.training.callbacks import Callback, register_callbacks

if TYPE_CHECKING:
    from ganforge.training.trainer import Trainer


def finding(step: int, kind: str, message: str, remedy: str) -> dict[str, Any]:
    return {"step": step, "kind": kind, "message": message, "remedy": remedy}


MONITORS = Registry("monitor")
"""The monitors every run gets (``monitors: {name: false}`` turns one off); ``@MONITORS.register(name)`` on
a :class:`Monitor` subclass adds one, its constructor's keyword arguments are its settings."""
register_monitor = MONITORS.register


class Monitor(Callback):
    """Base: keeps the findings it raised and whether its condition is currently active."""

    kind = "monitor"

    def __init__(self, patience: int = 3) -> None:
        self.patience = patience
        self.streak = 0
        self.active = False
        self.findings: list[dict[str, Any]] = []

    def condition(self, trainer: Trainer, record: dict[str, Any]) -> dict[str, Any] | None:
        """Return a finding when the bad condition holds at this check, else None."""
        raise NotImplementedError

    def on_log(self, trainer: Trainer, record: dict[str, Any]) -> dict[str, Any] | None:
        found = self.condition(trainer, record)
        self.streak = self.streak + 1 if found else 0
        if found and self.streak >= self.patience and not self.active:
            self.active = True
            self.findings.append(found)
            # merge with what earlier monitors put in this record (the trainer updates the record with it)
            return {FINDINGS: [*record.get(FINDINGS, []), found]}
        if not found and self.active:
            self.active = False
            return {"resolved": [*record.get("resolved", []), {"step": record["step"], "kind": self.kind}]}
        return None

    def on_end(self, trainer: Trainer) -> dict[str, Any] | None:
        return None

    def state_dict(self) -> dict[str, Any]:
        return {"streak": self.streak, "active": self.active, "findings": self.findings}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.streak, self.active = int(state["streak"]), bool(state["active"])
        self.findings = list(state["findings"])


@MONITORS.register("vanishing_gradients", order=1)
class VanishingGradientMonitor(Monitor):
    """The discriminator wins: D(G(z)) -> 0 while the generator's gradient norm collapses.

    With the saturating minimax loss, dJ_G/dlogit = -D(G(z)) -> 0, so G stops learning exactly when it
    is worst: per sample its gradient is D(G(z)) / (1 - D(G(z))) times the non-saturating loss's
    (dJ_G/dlogit = -(1 - D(G(z)))), under 5 % once D(G(z)) < 0.05. So with ``minimax`` it fires when mean
    D(G(z)) < ``d_fake_below``, however large the norm was before (a discriminator trained ahead of
    the generator leaves no healthy peak to compare with). With other objectives it fires when D(G(z)) <
    ``d_fake_below`` *and* the generator's gradient norm is below ``collapse_ratio`` times its *healthy
    peak*: the largest norm logged on a step where the instability monitor found no problem.

    Why leave the unstable steps out rather than take a quantile: a blow-up (lr far too large) drives
    the norm up by 1e4-1e5 for as many logs as it lasts, which may be a large share of the run, so any
    quantile of the run's norms is still set by it, and every norm after it looks "vanished" (8.8e-1
    against a peak of 9.5e4 on ring8 with lr 1.0) — a remedy that weakens D when the cause is the
    learning rate. A norm logged at step t is folded into the peak at the next log, once the
    instability monitor (which runs after this one) has judged step t; with the instability monitor
    turned off every norm counts.
    """

    kind = "vanishing_gradients"

    def __init__(self, d_fake_below: float = 0.05, collapse_ratio: float = 0.05, patience: int = 3) -> None:
        super().__init__(patience)
        self.d_fake_below, self.collapse_ratio = d_fake_below, collapse_ratio
        self.max_norm = 0.0
        self.pending: float | None = None  # the previous log's norm, until the instability monitor judged it

    @staticmethod
    def _unstable(trainer: Trainer) -> bool:
        """Whether the instability monitor found a problem at the previous log (it runs after this one)."""
        for callback in getattr(trainer, "callbacks", ()):
            if isinstance(callback, InstabilityMonitor):
                return any(callback.streaks.values())
        return False

    def condition(self, trainer: Trainer, record: dict[str, Any]) -> dict[str, Any] | None:
        objective = getattr(trainer.gan, "objective", None)
        if objective is None or not objective.probability_outputs:
            return None
        norm, d_fake = record.get(GRAD_NORM_G), record.get(D_FAKE)
        if norm is None or d_fake is None:
            return None
        if self.pending is not None and not self._unstable(trainer) and math.isfinite(self.pending):
            self.max_norm = max(self.max_norm, self.pending)
        self.pending = float(norm)
        saturating = objective.name == "minimax"
        if d_fake >= self.d_fake_below or (not saturating and norm >= self.collapse_ratio * self.max_norm):
            return None
        cause = (
            "with the saturating minimax loss the generator's gradient vanishes"
            if saturating
            else "the generator gets little signal"
        )
        remedy = (
            "--set model.objective=nonsaturating (G minimizes -log D(G(z)), whose gradient does not vanish)"
            if saturating
            else "weaken the discriminator: a lower D learning rate (--set train.optimizers.discriminator.lr=...), "
            "an R1 penalty (--set model.penalties.r1.weight=1) or label smoothing (--set model.label_smoothing=0.1)"
        )
        peak = f" (healthy peak {self.max_norm:.2e})" if not saturating else ""
        return finding(
            record["step"],
            self.kind,
            f"vanishing gradients: discriminator wins (D(G(z)) = {d_fake:.4f}) and the generator's "
            f"gradient norm is {norm:.2e}{peak}; {cause}",
            remedy,
        )

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "max_norm": self.max_norm, "pending": self.pending}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.max_norm = float(state["max_norm"])
        self.pending = state.get("pending")


@MONITORS.register("mode_collapse", order=2)
class ModeCoverageMonitor(Monitor):
    """For data with known mixture components: how many modes the generator covers.

    Every ``every`` steps after ``warmup`` (a fraction of training), ``n`` samples are scored with the
    VEEGAN/PacGAN protocol (:func:`ganforge.evaluation.lowdim.mode_coverage`: a sample is high quality
    within 3 std of its nearest mode, a mode is covered by one high-quality sample); fewer than
    ``min_fraction`` of the modes covered is mode collapse — unless under ``min_high_quality`` of the
    samples are high quality. Then most samples lie between the modes (early training, or a learning
    rate too large to settle them), the covered count is set by how few samples landed rather than by
    where G puts its mass (grid25-wgangp at 3 000 steps: 19 % high quality, 23/25 modes by 2 500
    samples, 25/25 by the evaluation's larger sample), and it is reported as "not yet on the data".
    """

    kind = "mode_collapse"

    def __init__(
        self,
        every: int = 500,
        n: int = 2500,
        warmup: float = 0.3,
        min_fraction: float = 1.0,
        min_high_quality: float = 0.5,
        patience: int = 2,
    ) -> None:
        super().__init__(patience)
        self.every, self.n, self.warmup, self.min_fraction = every, n, warmup, min_fraction
        self.min_high_quality = min_high_quality
        self.last: dict[str, Any] | None = None

    def measure(self, trainer: Trainer) -> dict[str, Any]:
        from ganforge.evaluation.lowdim import mode_coverage

        mixture = trainer.source.mixture
        assert mixture is not None
        state = torch.get_rng_state()  # sampling here must not change the training's random stream
        try:
            fake = trainer.source.scaler.to_data(trainer.gan.sample(self.n)).cpu()
        finally:
            torch.set_rng_state(state)
        cov = mode_coverage(fake, mixture.means, mixture.std)
        return {
            "modes": cov.modes,
            "num_modes": cov.num_modes,
            "high_quality": cov.high_quality,
            "kl": cov.kl,
            "histogram": list(cov.histogram),
        }

    def condition(self, trainer: Trainer, record: dict[str, Any]) -> dict[str, Any] | None:
        if trainer.source.mixture is None:
            return None
        step = record["step"]
        if step % self.every and step != trainer.train_cfg.steps:
            return None
        self.last = self.measure(trainer)
        record.update({f"modes{MEASUREMENT_SEP}{k}": v for k, v in self.last.items()})
        if step < self.warmup * trainer.train_cfg.steps:
            return None
        modes, k = self.last["modes"], self.last["num_modes"]
        if modes >= self.min_fraction * k:
            return None
        hist, high_quality = self.last["histogram"], self.last["high_quality"]
        hq = "high-quality (within 3 std of a mode, the VEEGAN/PacGAN measure)"
        if high_quality < self.min_high_quality:
            return finding(
                step,
                self.kind,
                f"samples not yet on the data: only {high_quality:.0%} of {self.n} generated samples are "
                f"{hq}, so the {modes}/{k} modes they reach say little about mode collapse",
                "train longer (--set train.steps=...); if it persists, check the learning rate "
                "(--set train.optimizer.lr=..., too large a rate keeps samples between the modes)",
            )
        top = [i for i in sorted(range(k), key=lambda i: -hist[i])[:3] if hist[i] > 0]
        share = sum(hist[i] for i in top) / max(1, sum(hist))
        return finding(
            step,
            self.kind,
            f"mode collapse: the generator covers {modes}/{k} modes; {high_quality:.0%} of its samples are "
            f"{hq}, and modes {', '.join(map(str, top))} hold {share:.0%} of those",
            "an R1 penalty (--set model.penalties.r1.weight=1), packing (--set model.pack=4, PacGAN; plain "
            "unconditional GANs only, and with --set sample.discriminator_rejection=0 where the recipe sets "
            "it), a larger batch (--set train.batch_size=...) or a lower generator lr "
            "(--set train.optimizers.generator.lr=...)",
        )

    def on_log(self, trainer: Trainer, record: dict[str, Any]) -> dict[str, Any] | None:
        # only checks on evaluation steps count toward patience
        step = record["step"]
        if trainer.source.mixture is None or (step % self.every and step != trainer.train_cfg.steps):
            return None
        return super().on_log(trainer, record)


@MONITORS.register("instability", order=3)
class InstabilityMonitor(Monitor):
    """Training that is coming apart: losses diverging or oscillating, gradient or weight norms exploding,
    non-finite values. Checked on every logged step from the logged scalars and the networks' weight
    norms (one pass over the parameters), so it costs next to nothing.

    Each cause is tracked on its own (a new cause is a new finding while another is active):

    * ``non_finite``: a logged scalar or a weight is NaN/inf (at once, no patience);
    * ``confidently_wrong_d``: with a BCE objective (``probability_outputs``: nonsaturating, minimax), a
      discriminator loss above ``max_bce_loss_d`` (at once, from the first log: no history, warm-up or
      patience). J_D = mean softplus(-l(x)) + mean softplus(l(G(z))) on D's logits l is 2 ln 2 = 1.39
      for a D that cannot tell real from fake, and only a D that is *wrong with confidence* raises it
      far above that: J_D > 10 needs the two terms to average 5 nats, i.e. logits beyond about 5 on the
      wrong side (D gives the right label a probability under e^-5 = 0.7 %) on average, or a few logits in
      the hundreds. Gradient descent on J_D itself pulls such logits back within a step or two, so a D
      loss that stays there is D's updates overshooting (a learning rate far too large) or its weights
      blowing up — while the relative checks below still wait for a history to compare with (ring8 with
      lr 1.0 logs J_D = 7e3 at step 100). Healthy shipped BCE recipes (ring8, grid25, moons, normal,
      uniform, points, digits-dcgan) log J_D <= 2.1 per batch over their whole runs, a margin of 5x;
      hinge/LS/Wasserstein losses have no such scale (a critic's loss is unbounded by design);
    * ``exploding_gradients``: ``grad_norm_d`` or ``grad_norm_g`` above ``explode_ratio`` times the
      median of its previous ``window`` logged values (after ``min_history`` of them);
    * ``exploding_weights``: the L2 norm of a phase's weights (those its optimizer trains) above
      ``weight_growth`` times its norm at step 0, before any update: the divergence guard's own step-0
      norms (``trainer.guard.weight_norm0``), else a snapshot taken in :meth:`on_start`. Not the first
      logged check's norms: a run whose lr is far too large is already 19-33x its initial norm by then;
    * ``diverging_losses``: a loss's median over the last ``window`` logged values above
      ``diverge_ratio`` times the smallest such median seen earlier, and above ``min_level`` in size;
    * ``oscillating_losses``: a loss's range (max - min) over the last ``window`` logged values above
      ``swing_ratio`` times its median size, and above ``min_level``.
    """

    kind = "instability"
    LOSSES = (LOSS_D, LOSS_G)
    NORMS = (GRAD_NORM_D, GRAD_NORM_G)

    def __init__(
        self,
        window: int = 10,
        min_history: int = 5,
        explode_ratio: float = 100.0,
        weight_growth: float = 10.0,
        diverge_ratio: float = 10.0,
        swing_ratio: float = 3.0,
        min_level: float = 2.0,  # per-batch GAN losses of order 1 swing by ~1 in healthy runs (hinge cGAN)
        warmup: float = 0.1,
        max_bce_loss_d: float = 10.0,
        patience: int = 2,
    ) -> None:
        super().__init__(patience)
        self.window, self.min_history = window, min_history
        self.max_bce_loss_d = max_bce_loss_d
        self.explode_ratio, self.weight_growth = explode_ratio, weight_growth
        self.diverge_ratio, self.swing_ratio, self.min_level = diverge_ratio, swing_ratio, min_level
        self.warmup = warmup
        self.history: dict[str, list[float]] = {}
        self.lowest: dict[str, float] = {}
        self.initial_weights: dict[str, float] = {}
        self.streaks: dict[str, int] = {}
        self.causes_active: dict[str, bool] = {}

    # --- measurements -------------------------------------------------------------------------------
    @staticmethod
    def weight_norms(trainer: Trainer) -> dict[str, float]:
        """L2 norm of each phase's weights (generator, discriminator, ...) by the guard's
        :func:`ganforge.training.guard.weight_norms`, so that they compare with its step-0 norms; a trainer
        without phases (a test's stand-in): each top-level network of the GAN, EMA copy excluded."""
        from ganforge.training.guard import weight_norms

        params = getattr(trainer, "_params", None)
        if params is None:
            params = {
                name: list(module.parameters())
                for name, module in trainer.gan.named_children()
                if name != "ema_generator"
            }
        return weight_norms(params)

    def on_start(self, trainer: Trainer) -> None:
        # a trainer's guard keeps the step-0 norms (``_initial_weights`` reads them): no second pass over the
        # weights; a resumed run keeps the snapshot from its checkpoint
        if getattr(trainer, "guard", None) is None and not self.initial_weights:
            self.initial_weights = self.weight_norms(trainer)

    def _initial_weights(self, trainer: Trainer, weights: dict[str, float]) -> dict[str, float]:
        """Step-0 weight norms: the guard's (set when training starts), else this monitor's own."""
        guard = getattr(getattr(trainer, "guard", None), "weight_norm0", None)
        if guard:
            return guard
        for name, norm in weights.items():  # never started (a bare monitor): the first check's norms
            self.initial_weights.setdefault(name, norm)
        return self.initial_weights

    def _push(self, key: str, value: float) -> list[float]:
        values = self.history.setdefault(key, [])
        values.append(value)
        del values[: -(self.window + 1)]
        return values

    def problems(self, trainer: Trainer, record: dict[str, Any]) -> dict[str, str]:
        """``{cause: description}`` of every cause holding at this check."""
        found: dict[str, str] = {}
        bad = [
            k for k, v in record.items() if isinstance(v, float) and not math.isfinite(v) and not is_measurement(k)
        ]
        weights = self.weight_norms(trainer)
        bad += [f"{k} weights" for k, v in weights.items() if not math.isfinite(v)]
        if bad:
            found["non_finite"] = f"non-finite values in {', '.join(bad)}"
        for key in self.NORMS:
            value = record.get(key)
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                continue
            past = self.history.get(key, [])[-self.window :]
            if len(past) >= self.min_history:
                ref = statistics.median(past)
                if ref > 0 and value > self.explode_ratio * ref:
                    found["exploding_gradients"] = (
                        f"{key} jumped to {value:.3g}, {value / ref:.0f}x its recent median {ref:.3g}"
                    )
            self._push(key, float(value))
        objective = getattr(trainer.gan, "objective", None)
        if getattr(objective, "probability_outputs", False):
            for key, value in record.items():
                if not (key == LOSS_D or key.startswith(f"{LOSS_D}_")) or not isinstance(value, (int, float)):
                    continue
                if math.isfinite(value) and value > self.max_bce_loss_d:
                    found["confidently_wrong_d"] = (
                        f"{key} is {value:.3g}, above {self.max_bce_loss_d:g}: a BCE discriminator this far "
                        "above 2 ln 2 = 1.39 is confidently wrong (logits beyond ~5 on the wrong side), "
                        "its updates overshoot"
                    )
                    break
        initial = self._initial_weights(trainer, weights)
        for name, norm in weights.items():
            first = initial.get(name, 0.0)
            if not math.isfinite(norm) or first <= 0:
                continue
            if norm > self.weight_growth * first:
                found["exploding_weights"] = (
                    f"the {name}'s weight norm grew to {norm:.3g}, {norm / first:.0f}x its norm at step 0 {first:.3g}"
                )
        warm = record["step"] >= self.warmup * trainer.train_cfg.steps
        for key in self.LOSSES:
            value = record.get(key)
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                continue
            values = self._push(key, float(value))[-self.window :]
            if len(values) < self.window or not warm:
                continue
            level = statistics.median(abs(v) for v in values)
            lowest = self.lowest.get(key, math.inf)
            if level > self.min_level and lowest < math.inf and level > self.diverge_ratio * max(lowest, 1e-12):
                found["diverging_losses"] = f"{key} diverges: median {level:.3g}, up from {lowest:.3g}"
            swing = max(values) - min(values)
            if swing > self.min_level and swing > self.swing_ratio * level:
                found["oscillating_losses"] = (
                    f"{key} oscillates: it swung over {swing:.3g} in the last {self.window} logs "
                    f"(median size {level:.3g})"
                )
            self.lowest[key] = min(lowest, level)
        return found

    _LR = "lower the learning rate (--set train.optimizer.lr=...)"
    _PENALTY = (
        "a gradient penalty (--set model.penalties.r1.weight=1; WGAN critics: --set model.penalties.gp.weight=10)"
    )
    _SN = "spectral norm in D (--set model.discriminator.spectral_norm=true; MLP/DCGAN discriminators)"
    REMEDIES = {
        "non_finite": f"{_LR}, add {_PENALTY}, check the data for extreme values",
        "confidently_wrong_d": f"{_LR}: D's steps overshoot; then {_PENALTY} or {_SN}",
        "exploding_gradients": f"{_LR}, add {_PENALTY} or {_SN}",
        "exploding_weights": f"{_LR}, add {_PENALTY} or {_SN}, "
        "or weight decay (--set train.optimizer.weight_decay=1e-4)",
        "diverging_losses": f"{_LR}, balance D and G (--set model.n_critic=..., "
        f"--set train.optimizers.discriminator.lr=...), add {_PENALTY}",
        "oscillating_losses": f"{_LR}, Adam betas (0.5, 0.999) (--set 'train.optimizer.betas=[0.5,0.999]'), "
        f"add {_PENALTY}",
    }

    def on_log(self, trainer: Trainer, record: dict[str, Any]) -> dict[str, Any] | None:
        problems = self.problems(trainer, record)
        new, resolved = [], []
        for cause in self.REMEDIES:
            holds = cause in problems
            self.streaks[cause] = self.streaks.get(cause, 0) + 1 if holds else 0
            patience = 1 if cause in ("non_finite", "confidently_wrong_d") else self.patience
            if holds and self.streaks[cause] >= patience and not self.causes_active.get(cause):
                self.causes_active[cause] = True
                message = f"instability ({cause}): {problems[cause]}"
                f = finding(record["step"], self.kind, message, self.REMEDIES[cause])
                self.findings.append(f)
                new.append(f)
            elif not holds and self.causes_active.get(cause):
                self.causes_active[cause] = False
                resolved.append({"step": record["step"], "kind": f"{self.kind}:{cause}"})
        self.active = any(self.causes_active.values())
        out: dict[str, Any] = {}
        if new:
            out[FINDINGS] = [*record.get(FINDINGS, []), *new]
        if resolved:
            out["resolved"] = [*record.get("resolved", []), *resolved]
        return out or None

    def state_dict(self) -> dict[str, Any]:
        return {
            **super().state_dict(),
            "history": self.history,
            "lowest": self.lowest,
            "initial_weights": self.initial_weights,
            "streaks": self.streaks,
            "causes_active": self.causes_active,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.history = {k: list(v) for k, v in state["history"].items()}
        self.lowest = dict(state["lowest"])
        self.initial_weights = dict(state["initial_weights"])
        self.streaks = dict(state["streaks"])
        self.causes_active = dict(state["causes_active"])


def fixed_batch(trainer: Trainer, n: int, seed: int = 20240) -> torch.Tensor:
    """``n`` generated samples in data units from the same latents at every call (a fixed batch), drawn
    without touching the training's random stream."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return trainer.source.scaler.to_data(trainer.gan.sample(n)).detach().float().cpu()


class SampleMonitor(Monitor):
    """Base of the monitors that look at a fixed batch of generated samples every ``every`` steps
    (and at the last step); only those checks count toward ``patience``."""

    def __init__(self, every: int = 500, n: int = 500, warmup: float = 0.2, patience: int = 2) -> None:
        super().__init__(patience)
        self.every, self.n, self.warmup = every, n, warmup

    def due(self, trainer: Trainer, step: int) -> bool:
        return step % self.every == 0 or step == trainer.train_cfg.steps

    def on_log(self, trainer: Trainer, record: dict[str, Any]) -> dict[str, Any] | None:
        if not self.generates_from_noise(trainer) or not self.applies(trainer):
            return None
        if not self.due(trainer, record["step"]):
            return None
        return super().on_log(trainer, record)

    @staticmethod
    def generates_from_noise(trainer: Trainer) -> bool:
        """Image-to-image models (SRGAN, CycleGAN) have no ``sample(n)``: nothing to look at."""
        return getattr(trainer.gan, "samples_from_noise", True)

    def applies(self, trainer: Trainer) -> bool:
        return True


def nearest_neighbour_distances(x: torch.Tensor) -> torch.Tensor:
    """For each row of ``x`` (flattened), the Euclidean distance to its nearest *other* row."""
    flat = x.flatten(1).double()
    d = torch.cdist(flat, flat)
    d.fill_diagonal_(math.inf)
    return d.min(dim=1).values


@MONITORS.register("duplicates", order=4)
class DuplicateMonitor(SampleMonitor):
    """Near-identical generated samples: the blunt form of mode collapse (many z, one output).

    A generated sample is a *duplicate* when its nearest other sample (of a fixed batch of ``n``) lies
    closer than ``tolerance`` times the median nearest-neighbour distance of ``n`` real samples. Real
    data has almost none (in 2-D a fraction ~ tolerance^2), so more than ``max_fraction`` duplicates is
    reported.
    """

    kind = "duplicates"

    def __init__(
        self,
        every: int = 500,
        n: int = 500,
        tolerance: float = 0.01,
        max_fraction: float = 0.1,
        warmup: float = 0.2,
        patience: int = 2,
    ) -> None:
        super().__init__(every, n, warmup, patience)
        self.tolerance, self.max_fraction = tolerance, max_fraction
        self.real_scale: float | None = None

    def condition(self, trainer: Trainer, record: dict[str, Any]) -> dict[str, Any] | None:
        if self.real_scale is None:
            real = trainer.source.real(self.n, seed=4321).x.float()
            self.real_scale = float(nearest_neighbour_distances(real).median())
        nn_fake = nearest_neighbour_distances(fixed_batch(trainer, self.n))
        fraction = float((nn_fake < self.tolerance * self.real_scale).double().mean())
        record["duplicates"] = fraction
        if record["step"] < self.warmup * trainer.train_cfg.steps or fraction <= self.max_fraction:
            return None
        return finding(
            record["step"],
            self.kind,
            f"duplicates: {fraction:.0%} of {self.n} generated samples have a near-identical twin "
            f"(closer than {self.tolerance:g}x the typical distance between real samples); the generator "
            "maps many latents to the same output",
            "mode collapse remedies: --set model.discriminator.minibatch_std=true (MLP/DCGAN discriminators), "
            "--set model.pack=4 (PacGAN; plain unconditional GANs, with --set sample.discriminator_rejection=0 "
            "where the recipe sets it), --set model.penalties.r1.weight=1, "
            "or a lower lr (--set train.optimizer.lr=...)",
        )

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "real_scale": self.real_scale}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.real_scale = state.get("real_scale")


def feature_diversity(features: torch.Tensor) -> float:
    """Mean pairwise Euclidean distance between rows: E_{i != j} ||f_i - f_j||."""
    f = features.flatten(1).double()
    n = f.shape[0]
    return float(torch.cdist(f, f).sum() / (n * (n - 1))) if n > 1 else 0.0


def image_features(images: torch.Tensor) -> torch.Tensor:
    """What the diversity monitor compares images by: the shipped digits classifier's 64-d features for
    one-channel images, else the pixels average-pooled to at most 16x16 (cheap and label-free)."""
    if images.shape[1] == 1:
        from ganforge.nets.features import load_digits_classifier

        net = _DIGITS.get("net")
        if net is None:
            net = _DIGITS["net"] = load_digits_classifier()
        with torch.no_grad():
            return net(images.clamp(0, 1))
    side = max(images.shape[-1] // 16, 1)
    return torch.nn.functional.avg_pool2d(images, side).flatten(1)


_DIGITS: dict[str, torch.nn.Module] = {}


@MONITORS.register("diversity", order=5)
class FeatureDiversityMonitor(SampleMonitor):
    """Images: the diversity of a fixed batch of generated images, relative to real images, falling.

    Diversity is the mean pairwise feature distance (:func:`feature_diversity` of
    :func:`image_features`) of ``n`` images, divided by that of ``n`` real images: about 1 for a
    generator as varied as the data, towards 0 as it collapses. Reported when the ratio falls below
    ``min_ratio``, or below ``fall`` times the highest ratio it reached earlier in the run.
    """

    kind = "low_diversity"

    def __init__(
        self,
        every: int = 500,
        n: int = 256,
        min_ratio: float = 0.5,
        fall: float = 0.5,
        warmup: float = 0.2,
        patience: int = 2,
    ) -> None:
        super().__init__(every, n, warmup, patience)
        self.min_ratio, self.fall = min_ratio, fall
        self.real_diversity: float | None = None
        self.peak = 0.0

    def applies(self, trainer: Trainer) -> bool:
        return len(trainer.source.sample_shape) == 3

    def condition(self, trainer: Trainer, record: dict[str, Any]) -> dict[str, Any] | None:
        if self.real_diversity is None:
            self.real_diversity = feature_diversity(image_features(trainer.source.real(self.n, seed=4321).x.float()))
        ratio = feature_diversity(image_features(fixed_batch(trainer, self.n))) / max(self.real_diversity, 1e-12)
        record["diversity"] = ratio
        peak, self.peak = self.peak, max(self.peak, ratio)
        if record["step"] < self.warmup * trainer.train_cfg.steps:
            return None
        if ratio >= self.min_ratio and ratio >= self.fall * peak:
            return None
        why = f"below {self.min_ratio:g}" if ratio < self.min_ratio else f"down from its peak {peak:.2f}"
        return finding(
            record["step"],
            self.kind,
            f"falling diversity: generated images are {ratio:.2f}x as varied as real ones ({why}); "
            "the generator is collapsing onto fewer kinds of images",
            "--set model.discriminator.minibatch_std=true (DCGAN/MLP discriminators), --set model.pack=2 (plain "
            "unconditional GANs), DiffAugment (--set model.augment.diffaugment=color,translation), "
            "--set model.penalties.r1.weight=1, or a lower lr (--set train.optimizer.lr=...)",
        )

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "real_diversity": self.real_diversity, "peak": self.peak}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.real_diversity, self.peak = state.get("real_diversity"), float(state.get("peak", 0.0))


@register_callbacks(order=10)
def monitors_for_run(config: RunConfig, source: DataSource, run_dir: Path | None) -> list[Callback]:
    return list(default_monitors(config.monitors))


def default_monitors(settings: dict[str, Any]) -> list[Monitor]:
    """The monitors a run gets; ``monitors: {name: false}`` turns one off, a mapping configures it."""
    from ganforge.errors import GanforgeError, did_you_mean

    for key in settings:
        if key not in MONITORS:
            raise GanforgeError(
                f"unknown monitor 'monitors.{key}'{did_you_mean(key, MONITORS)}; known: {', '.join(MONITORS)}"
            )
    monitors = []
    for name in MONITORS:
        opts = settings.get(name, {})
        if opts is False:
            continue
        monitors.append(MONITORS.build(name, opts if isinstance(opts, dict) else {}, f"monitors.{name}"))
    return monitors
