"""ganforge.evaluation."""
