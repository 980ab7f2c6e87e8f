"""Named data sources (``data.source`` in a recipe) and how to build them from config.

A loader registers itself with ``@register_source("name")``; its keyword arguments are its config keys
(validated by name and type from the function signature). Modules under ``ganforge.data`` are imported on
first lookup, so adding a loader needs no edit here.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from typing import Any

from ganforge.data.base import DataSource
from ganforge.errors import GanforgeError, did_you_mean

SourceFactory = Callable[..., DataSource]
_SOURCES: dict[str, SourceFactory] = {}
_DESCRIPTIONS: dict[str, str] = {}


def register_source(name: str) -> Callable[[SourceFactory], SourceFactory]:
    """Decorator: make ``fn(**params) -> DataSource`` available as ``data.source: name``."""

    def wrap(fn: SourceFactory) -> SourceFactory:
        _SOURCES[name] = fn
        _DESCRIPTIONS[name] = (inspect.getdoc(fn) or "").split("\n")[0]
        return fn

    return wrap


def _import_all() -> None:
    import ganforge.data as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        importlib.import_module(f"ganforge.data.{mod.name}")


def source_names() -> dict[str, str]:
    """Registered source names with their one-line descriptions."""
    _import_all()
    return dict(sorted(_DESCRIPTIONS.items()))


def build_source(name: str, params: dict[str, Any]) -> DataSource:
    """Build the source ``name`` with ``params``; unknown names and keys get a one-line error."""
    _import_all()
    if name not in _SOURCES:
        raise GanforgeError(
            f"unknown data source '{name}'{did_you_mean(name, _SOURCES)}; "
            f"known sources: {', '.join(sorted(_SOURCES))} (or give a path to a .csv/.npy/.npz file)"
        )
    fn = _SOURCES[name]
    accepted = inspect.signature(fn).parameters
    for key in params:
        if key not in accepted:
            raise GanforgeError(
                f"data.{key}: not a parameter of data source '{name}'{did_you_mean(key, accepted)}; "
                f"its parameters are: {', '.join(accepted) or 'none'}"
            )
    try:
        return fn(**params)
    except TypeError as exc:
        raise GanforgeError(f"data source '{name}': {exc}") from None
