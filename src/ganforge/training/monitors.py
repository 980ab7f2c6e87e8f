"""Diagnostics that run while training and explain, in plain words, what is going wrong.

Each monitor looks at the logged scalars (cheap) or at a small batch of samples, and reports a
*finding*: ``{"step", "kind", "message", "remedy"}``. Findings appear in the progress line, in
``metrics.jsonl`` (field ``findings``), in ``summary.json`` and in ``ganforge diagnose RUN``. A monitor
reports a condition when it starts (after ``patience`` consecutive checks), not on every check.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ganforge.config import RunConfig
from ganforge.data.base import DataSource
from ganforge.training.callbacks import Callback, register_callbacks

if TYPE_CHECKING:
    from ganforge.training.trainer import Trainer


def finding(step: int, kind: str, message: str, remedy: str) -> dict[str, Any]:
    return {"step": step, "kind": kind, "message": message, "remedy": remedy}


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
            return {"findings": [found]}
        if not found:
            self.active = False
        return None

    def on_end(self, trainer: Trainer) -> dict[str, Any] | None:
        return None

    def state_dict(self) -> dict[str, Any]:
        return {"streak": self.streak, "active": self.active, "findings": self.findings}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.streak, self.active = int(state["streak"]), bool(state["active"])
        self.findings = list(state["findings"])


class VanishingGradientMonitor(Monitor):
    """The discriminator wins: D(G(z)) -> 0 while the generator's gradient norm collapses.

    With the saturating minimax loss, dJ_G/dlogit = -D(G(z)) -> 0, so G stops learning exactly when it
    is worst. Fires when mean D(G(z)) < ``d_fake_below`` and the generator's gradient norm is below
    ``collapse_ratio`` times the largest norm seen so far in the run.
    """

    kind = "vanishing_gradients"

    def __init__(self, d_fake_below: float = 0.05, collapse_ratio: float = 0.05, patience: int = 3) -> None:
        super().__init__(patience)
        self.d_fake_below, self.collapse_ratio = d_fake_below, collapse_ratio
        self.max_norm = 0.0

    def condition(self, trainer: Trainer, record: dict[str, Any]) -> dict[str, Any] | None:
        objective = getattr(trainer.gan, "objective", None)
        if objective is None or not objective.probability_outputs:
            return None
        norm, d_fake = record.get("grad_norm_g"), record.get("d_fake")
        if norm is None or d_fake is None:
            return None
        self.max_norm = max(self.max_norm, norm)
        if d_fake >= self.d_fake_below or norm >= self.collapse_ratio * self.max_norm:
            return None
        saturating = objective.name == "minimax"
        cause = (
            "with the saturating minimax loss the generator's gradient vanishes"
            if saturating
            else "the generator gets little signal"
        )
        remedy = (
            "use objective: nonsaturating (-log D(G(z)))"
            if saturating
            else "weaken the discriminator: lower its learning rate, add a gradient penalty (r1) or label smoothing"
        )
        return finding(
            record["step"],
            self.kind,
            f"vanishing gradients: discriminator wins (D(G(z)) = {d_fake:.4f}) and the generator's "
            f"gradient norm fell to {norm:.2e} (peak {self.max_norm:.2e}); {cause}",
            remedy,
        )

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "max_norm": self.max_norm}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.max_norm = float(state["max_norm"])


class ModeCoverageMonitor(Monitor):
    """For data with known mixture components: how many modes the generator covers.

    Every ``every`` steps after ``warmup`` (a fraction of training), ``n`` samples are scored with the
    VEEGAN/PacGAN protocol (:func:`ganforge.evaluation.lowdim.mode_coverage`); fewer than
    ``min_fraction`` of the modes covered is mode collapse.
    """

    kind = "mode_collapse"

    def __init__(
        self,
        every: int = 500,
        n: int = 2500,
        warmup: float = 0.3,
        min_fraction: float = 1.0,
        patience: int = 2,
    ) -> None:
        super().__init__(patience)
        self.every, self.n, self.warmup, self.min_fraction = every, n, warmup, min_fraction
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
        }

    def condition(self, trainer: Trainer, record: dict[str, Any]) -> dict[str, Any] | None:
        if trainer.source.mixture is None:
            return None
        step = record["step"]
        if step % self.every and step != trainer.train_cfg.steps:
            return None
        self.last = self.measure(trainer)
        record.update({f"modes/{k}": v for k, v in self.last.items()})
        if step < self.warmup * trainer.train_cfg.steps:
            return None
        modes, k = self.last["modes"], self.last["num_modes"]
        if modes >= self.min_fraction * k:
            return None
        return finding(
            step,
            self.kind,
            f"mode collapse: the generator covers {modes}/{k} modes "
            f"({self.last['high_quality']:.0%} high-quality samples)",
            "try a WGAN-GP or PacGAN recipe, an R1 penalty, a larger batch, or a lower generator lr",
        )

    def on_log(self, trainer: Trainer, record: dict[str, Any]) -> dict[str, Any] | None:
        # only checks on evaluation steps count toward patience
        step = record["step"]
        if trainer.source.mixture is None or (step % self.every and step != trainer.train_cfg.steps):
            return None
        return super().on_log(trainer, record)


@register_callbacks
def monitors_for_run(config: RunConfig, source: DataSource, run_dir: Path | None) -> list[Callback]:
    return list(default_monitors(config.monitors))


def default_monitors(settings: dict[str, Any]) -> list[Monitor]:
    """The monitors a run gets; ``monitors: {name: false}`` turns one off, a mapping configures it."""
    from ganforge.errors import GanforgeError, did_you_mean

    known = {"vanishing_gradients": VanishingGradientMonitor, "mode_collapse": ModeCoverageMonitor}
    for key in settings:
        if key not in known:
            raise GanforgeError(
                f"unknown monitor 'monitors.{key}'{did_you_mean(key, known)}; known: {', '.join(known)}"
            )
    monitors = []
    for name, cls in known.items():
        opts = settings.get(name, {})
        if opts is False:
            continue
        try:
            monitors.append(cls(**(opts if isinstance(opts, dict) else {})))
        except TypeError as exc:
            raise GanforgeError(f"monitors.{name}: {exc}") from None
    return monitors
