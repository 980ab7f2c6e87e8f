"""Hooks the trainer calls: monitors (diagnostics), periodic evaluation, sample snapshots."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganforge.config import RunConfig
from ganforge.data.base import DataSource

if TYPE_CHECKING:
    from ganforge.training.trainer import Trainer


class Callback:
    """Override what you need. ``on_log`` may return extra fields to merge into the logged record."""

    def on_start(self, trainer: Trainer) -> None:
        """Called once before the first step (also on resume)."""

    def on_log(self, trainer: Trainer, record: dict[str, Any]) -> dict[str, Any] | None:
        """Called every ``train.log_every`` steps with the logged scalars."""
        return None

    def on_end(self, trainer: Trainer) -> dict[str, Any] | None:
        """Called after the last step; may return fields for ``summary.json``."""
        return None

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        del state


CallbackFactory = Callable[[RunConfig, DataSource, "Path | None"], list[Callback]]
_FACTORIES: list[CallbackFactory] = []
# Modules that register callback factories when imported (monitors, sample snapshots, periodic metrics).
CALLBACK_MODULES = (
    "ganforge.training.monitors",
    "ganforge.report.snapshots",
    "ganforge.evaluation.periodic",
    "ganforge.training.tensorboard",
)


def register_callbacks(factory: CallbackFactory) -> CallbackFactory:
    """Decorator: ``factory(config, source, run_dir) -> [callbacks]`` is asked for callbacks of every run."""
    _FACTORIES.append(factory)
    return factory


def build_callbacks(config: RunConfig, source: DataSource, run_dir: Path | None) -> list[Callback]:
    """All callbacks of a run, in registration order (monitors first)."""
    import importlib
    import importlib.util

    for module in CALLBACK_MODULES:
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)
    out: list[Callback] = []
    for factory in _FACTORIES:
        out.extend(factory(config, source, run_dir))
    return out
