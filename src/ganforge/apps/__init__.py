"""ganforge.apps."""
