"""Hooks the trainer calls: monitors (diagnostics), periodic evaluation, sample snapshots."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from ganforge.config import RunConfig
from ganforge.data.base import DataSource
from ganforge.registry import DEFAULT_ORDER, Registry

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
CALLBACKS = Registry("callback factory", "ganforge.diagnostics")
"""Factories asked for the callbacks of every run; modules of ``ganforge.diagnostics`` register them."""


@overload
def register_callbacks(factory: CallbackFactory, *, order: float = ...) -> CallbackFactory: ...
@overload
def register_callbacks(
    factory: None = None, *, order: float = ...
) -> Callable[[CallbackFactory], CallbackFactory]: ...
def register_callbacks(
    factory: CallbackFactory | None = None, *, order: float = DEFAULT_ORDER
) -> CallbackFactory | Callable[[CallbackFactory], CallbackFactory]:
    """Decorator (bare or with ``order=``): ``factory(config, source, run_dir) -> [callbacks]`` is asked
    for the callbacks of every run. Callbacks run in ``order``, ties in discovery order; the position is
    part of the checkpoint format (callback states are saved by position), so a new factory keeps the
    default order (after the built-in ones: monitors 10, snapshots 20, periodic evaluation 30)."""
    if factory is None:
        return CALLBACKS.register(order=order)
    return CALLBACKS.register(order=order)(factory)


def build_callbacks(config: RunConfig, source: DataSource, run_dir: Path | None) -> list[Callback]:
    """All callbacks of a run, in ``order`` (monitors first)."""
    out: list[Callback] = []
    for factory in CALLBACKS.values():
        out.extend(factory(config, source, run_dir))
    return out
