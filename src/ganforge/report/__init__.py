"""ganforge.report."""
