"""Hooks the trainer calls: monitors (diagnostics), periodic evaluation, sample snapshots."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
