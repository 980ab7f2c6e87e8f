"""Diagnostics: training callbacks that may use evaluation and report — monitors (plain-language findings),
periodic evaluation with the best checkpoint, fixed-noise sample snapshots. Each module registers its
factory with ``@register_callbacks``; the trainer finds them by scanning this package."""
