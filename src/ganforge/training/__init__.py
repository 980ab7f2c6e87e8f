"""ganforge.training."""
