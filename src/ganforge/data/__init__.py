"""Real data: built-in distributions and data sets, and loaders for users' files."""
