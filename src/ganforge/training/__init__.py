"""Training: the loop, checkpoints, metrics log, monitors, progress."""

from ganforge.training import checkpoint, metrics_log, trainer

__all__ = ["checkpoint", "metrics_log", "trainer"]
