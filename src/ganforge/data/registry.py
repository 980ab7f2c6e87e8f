"""Named data sources (``data.source`` in a recipe).

A loader registers itself with ``@register_source("name")``; its keyword arguments are its config keys.
Modules under ``ganforge.data`` are imported on first lookup, so adding a loader needs no edit here.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import pydantic

from ganforge.data.base import DataSource
from ganforge.errors import GanforgeError, did_you_mean, quote
from ganforge.registry import Registry

SOURCES = Registry("data source", "ganforge.data", hint=" (or give a path to a .csv/.npy/.npz file)")


def register_source(name: str) -> Callable[[Callable[..., DataSource]], Callable[..., DataSource]]:
    """Decorator: make ``fn(**params) -> DataSource`` available as ``data.source: name``."""
    return SOURCES.register(name)


F = TypeVar("F", bound=Callable[..., Any])


def checked_python_call(fn: F) -> F:
    """``fn`` as Python calls it (``gf.data.ring8(modes=0)``), each argument checked as a recipe's setting is
    (``Registry.build``): :func:`ganforge.config.check_value` (finite float32 numbers, no True for a number, an
    integer whose default is positive >= 1), then its annotation with its ``Field`` bounds through pydantic, whose
    converted value ``fn`` receives (``(1, 2)`` -> a list, ``np.int64(4)`` -> 4). Called directly, the sources
    took ``dim=2.5``, ``modes=0`` or ``mean="10"`` and failed at the first batch inside torch or scikit-learn
    (``ZeroDivisionError``, ``can only concatenate str``), or quietly (``modes=2.5`` made 3 modes). Text where a
    number belongs is refused rather than converted: Python that passes ``"10"`` has a bug. A violation is one
    line naming the argument. Stack it above ``@register_source``: the registry keeps the plain function,
    which ``build_source`` checks with a recipe's wording (``data.modes ... --set``)."""
    where = f"gf.data.{fn.__name__}"
    signature = inspect.signature(fn)

    @functools.cache
    def rules() -> tuple[dict[str, Any], dict[str, pydantic.TypeAdapter[Any]]]:  # on first call: importing stays cheap
        hints = typing.get_type_hints(fn, include_extras=True)
        return hints, {key: pydantic.TypeAdapter(hints[key]) for key in signature.parameters if key in hints}

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        from ganforge.config import check_value  # the one set of value rules, as Registry.check_settings uses

        hints, adapters = rules()
        for key in kwargs:
            if key not in signature.parameters:
                raise GanforgeError(f"{where}({key}=...): no such argument{did_you_mean(key, signature.parameters)}; "
                                    f"its arguments are: {', '.join(signature.parameters)}")
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:  # too many positional arguments
            raise GanforgeError(f"{where}: {exc}; its arguments are: {', '.join(signature.parameters)}") from None
        for key, value in bound.arguments.items():
            if key not in adapters:
                continue
            given = f"{where}({key}={quote(value)})"
            try:
                check_value(value, hints[key], key, signature.parameters[key].default)
            except GanforgeError as exc:  # its wording names a config key: keep only the reason
                reason = str(exc).split("': ", 1)[-1] if str(exc).startswith("config key '") else str(exc)
                raise GanforgeError(f"{given}: {reason}") from None
            try:
                checked = adapters[key].validate_python(value)
            except pydantic.ValidationError:
                raise GanforgeError(f"{given}: give {_wanted(hints[key])}") from None
            if _holds_text(value) and not _holds_text(checked):
                raise GanforgeError(f"{given}: text, not a number; give {_wanted(hints[key])}")
            bound.arguments[key] = checked
        source = fn(*bound.args, **bound.kwargs)
        # what it was called with, so a run records it and resume / eval rebuild the same data (a source's own
        # `info` holds only some settings: ring8's holds none, normal's no `dim`)
        bound.apply_defaults()
        source.call_settings = {key: list(v) if isinstance(v, tuple) else v for key, v in bound.arguments.items()}
        return source

    return call  # type: ignore[return-value]


def _wanted(hint: Any) -> str:
    """What an argument annotated ``hint`` takes, in words, its ``Field`` bounds included (``a number > 0``)."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) is Annotated:
        words = [_wanted(args[0])]
        for field in args[1:]:
            for bound in getattr(field, "metadata", [field]):  # pydantic keeps Field(gt=0) as annotated_types.Gt(0)
                for name, text in (("gt", "> {}"), ("ge", ">= {}"), ("min_length", "(at least {})")):
                    if getattr(bound, name, None) is not None:
                        words.append(text.format(getattr(bound, name)))
        return " ".join(words)
    if typing.get_origin(hint) in (list, tuple):
        return f"a list of {_wanted(args[0]).removeprefix('a ')}s" if args else "a list"
    return {int: "a whole number", float: "a number", bool: "True or False"}.get(hint, str(hint))


def _holds_text(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, (list, tuple)) and any(_holds_text(v) for v in value))


def full_settings(section: dict[str, Any]) -> dict[str, Any]:
    """A data section with every setting of its registered source, defaults filled in and tuples as lists, so
    two descriptions of the same data compare equal however they were written (``ring8()`` and ``ring8(modes=8)``;
    a section recorded before the settings were). Keys the source does not take (scalar ``info``) are left out."""
    name = section.get("source")
    try:
        params = inspect.signature(SOURCES.get(str(name))).parameters
    except GanforgeError:
        return dict(section)
    full = {k: p.default for k, p in params.items() if p.default is not inspect.Parameter.empty}
    full.update({k: v for k, v in section.items() if k in params})
    return {"source": name, **{k: list(v) if isinstance(v, tuple) else v for k, v in full.items()}}


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
