"""Named data sources (``data.source`` in a recipe).

A loader registers itself with ``@register_source("name")``; its keyword arguments are its config keys.
Modules under ``ganforge.data`` are imported on first lookup, so adding a loader needs no edit here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ganforge.data.base import DataSource
from ganforge.registry import Registry

SOURCES = Registry("data source", "ganforge.data", hint=" (or give a path to a .csv/.npy/.npz file)")


def register_source(name: str) -> Callable[[Callable[..., DataSource]], Callable[..., DataSource]]:
    """Decorator: make ``fn(**params) -> DataSource`` available as ``data.source: name``."""
    return SOURCES.register(name)


def source_names() -> dict[str, str]:
    """Registered source names with their one-line descriptions."""
    return SOURCES.names()


def build_source(name: str, params: dict[str, Any]) -> DataSource:
    """Build source ``name`` from its config ``params``; mistakes are one-line errors."""
    source = SOURCES.build(name, params, where="data")
    source.name = name if source.name == "data" else source.name
    return source


def source_from_config(section: dict[str, Any]) -> DataSource:
    """The source a config's ``data`` section describes: ``source`` names it, the other keys configure it."""
    from ganforge.errors import GanforgeError

    settings = dict(section)
    if "source" not in settings:
        raise GanforgeError(
            "config key 'data.source' is missing; name a data source or a file, e.g. data.source=ring8"
        )
    return build_source(str(settings.pop("source")), settings)
