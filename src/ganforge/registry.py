"""The one plug-in mechanism: named entries of one kind, filled by decorators where each entry is defined.

Every extensible set of ganforge is a ``Registry``: data sources, networks, models, objectives, penalties,
evaluators, pictures, sample-picture writers, training callbacks and CLI commands. A module adds an entry
with the registry's decorator (``@register_source("ring8")``...) and nothing else: on the first lookup the
registry imports every module of its plug-in packages (``pkgutil``), so adding a file is enough; no list of
module names, no import kept only for its side effect.

That scan is also how a lower layer finds code of a higher one without importing it by name: ``runs``
looks evaluators up in ``EVALUATORS``, whose package is ``ganforge.evaluation``.

For factories, the keyword arguments are config keys: ``build`` checks every key against the signature
(unknown key -> the nearest valid name) and every value against the type annotations (via pydantic), so a
recipe's mistakes come back as one line naming the key.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import typing
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import pydantic

from ganforge.errors import GanforgeError, did_you_mean, is_allocation_failure, quote

T = TypeVar("T")
_MISSING: Any = object()
DEFAULT_ORDER = 100.0


class Registry:
    """Entries of one kind (e.g. ``data source``), found by name.

    ``packages``: where the modules defining entries live; each is scanned once, on the first lookup.
    Iteration follows ``order`` (given at registration, default 100), ties in registration order.
    """

    def __init__(self, kind: str, packages: str | tuple[str, ...] = (), hint: str = "") -> None:
        self.kind = kind
        self.packages = (packages,) if isinstance(packages, str) else tuple(packages)
        self.hint = hint
        self._entries: dict[str, Any] = {}
        self._order: dict[str, float] = {}
        self._loaded = False

    # --- filling ------------------------------------------------------------------------------------
    def register(self, *names: str, order: float = DEFAULT_ORDER) -> Callable[[T], T]:
        """Decorator: make the entry available under each of ``names`` (its ``__name__`` if none)."""

        def wrap(entry: T) -> T:
            for name in names or (entry.__name__,):  # type: ignore[attr-defined]
                self.add(name, entry, order=order)
            return entry

        return wrap

    def add(self, name: str, entry: Any, order: float = DEFAULT_ORDER) -> None:
        """Register ``entry`` under ``name`` (a later registration of the same name replaces it)."""
        self._entries[name] = entry
        self._order[name] = order

    __setitem__ = add

    def load(self) -> None:
        """Import every module of the plug-in packages once, so their decorators run."""
        if self._loaded:
            return
        self._loaded = True
        for package in self.packages:
            pkg = importlib.import_module(package)
            for mod in pkgutil.iter_modules(getattr(pkg, "__path__", [])):
                importlib.import_module(f"{package}.{mod.name}")

    # --- looking up ---------------------------------------------------------------------------------
    def names(self) -> dict[str, str]:
        """Registered names (sorted) with the first line of each entry's docstring."""
        self.load()
        return {n: (inspect.getdoc(e) or "").split("\n")[0] for n, e in sorted(self._entries.items())}

    def get(self, name: str, default: Any = _MISSING) -> Any:
        """The entry ``name``; an unknown name is a one-line error (or ``default`` when one is given)."""
        self.load()
        if name in self._entries:
            return self._entries[name]
        if default is not _MISSING:
            return default
        raise GanforgeError(
            f"unknown {self.kind} '{name}'{did_you_mean(name, self._entries)}; "
            f"known: {', '.join(sorted(self._entries))}{self.hint}"
        )

    __getitem__ = get

    def __contains__(self, name: object) -> bool:
        self.load()
        return name in self._entries

    def keys(self) -> list[str]:
        """Names in iteration order (``order``, then registration)."""
        self.load()
        index = {n: i for i, n in enumerate(self._entries)}
        return sorted(self._entries, key=lambda n: (self._order[n], index[n]))

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def values(self) -> list[Any]:
        return [self._entries[n] for n in self.keys()]

    def items(self) -> list[tuple[str, Any]]:
        return [(n, self._entries[n]) for n in self.keys()]

    # --- building from config -----------------------------------------------------------------------
    def check_settings(
        self, name: str, params: dict[str, Any], where: str, context: Iterable[str] = (), *, types: bool = True
    ) -> None:
        """Refuse, in one line, a key of ``params`` that is not a setting of entry ``name`` (its keyword
        arguments less the ``context`` ganforge supplies) and a value its annotation rejects. ``build`` runs
        it first, with ``types=False``: the factory call it then validates checks the annotations itself.
        ``ganforge config`` runs it alone, so a config that prints is one that trains."""
        fn = self.get(name)
        signature = inspect.signature(fn)
        supplied = set(context)
        accepted = [p for p in signature.parameters if p not in supplied]
        for key in params:
            if key not in accepted:
                raise GanforgeError(
                    f"{where}.{quote(key)[1:-1]}: not a setting of {self.kind} '{name}'{did_you_mean(key, accepted)}; "
                    f"its settings are: {', '.join(accepted) or 'none'}"
                )
        from ganforge.config import check_value  # same layer (foundation): the one set of value rules

        hints = _hints(fn.__init__ if inspect.isclass(fn) else fn)
        for key, value in params.items():
            param = signature.parameters[key]
            hint = hints.get(key, param.annotation)
            check_value(value, hint, f"{where}.{key}", param.default)
            adapter = _adapter(hint) if types else None
            try:
                if adapter is not None:
                    adapter.validate_python(value)
            except pydantic.ValidationError as exc:
                raise _invalid_setting(where, exc, key) from None

    def build(self, name: str, params: dict[str, Any], where: str, **context: Any) -> Any:
        """Call factory ``name`` with ``params`` (user config) and ``context`` (supplied by ganforge).

        ``where`` is the config path shown in error messages (e.g. ``data`` or ``model.generator``).
        """
        fn = self.get(name)
        self.check_settings(name, params, where, context, types=False)  # validate_call checks the types
        validate = pydantic.validate_call(config={"arbitrary_types_allowed": True})
        try:
            if inspect.isclass(fn):  # validate the constructor's arguments, then build as usual
                validate(fn.__init__)(fn.__new__(fn), **context, **params)
                return fn(**context, **params)
            return validate(fn)(**context, **params)
        except pydantic.ValidationError as exc:
            raise _invalid_setting(where, exc) from None
        except ValueError as exc:  # the factory (or torch under it) refused a value: `dropout: 2.5`
            if not params:
                raise
            detail = " ".join(str(exc).split())[:160] or type(exc).__name__
            raise GanforgeError(
                f"{where}: {self.kind} '{name}' refused its settings ({detail}); fix them in the recipe or with "
                f"--set {where}.KEY=VALUE"
            ) from None
        except (MemoryError, RuntimeError) as exc:  # a size the machine cannot hold: name the settings
            if not is_allocation_failure(exc):
                raise
            named = size_settings(where, params) or f"the settings of {where}"
            raise GanforgeError(
                f"{where}: building {self.kind} '{name}' needs more memory than this machine has; lower {named}"
            ) from None


F = TypeVar("F", bound=Callable[..., Any])


def size_settings(where: str, params: dict[str, Any], most: int = 3) -> str:
    """``where.key=value, ...`` for the ``most`` largest size settings in ``params`` (ints and lists of
    them, not booleans), largest first: the settings to lower when a build needs too much memory."""
    sizes = sorted(
        ((k, v) for k, v in params.items() if isinstance(v, (int, list, tuple)) and not isinstance(v, bool)),
        key=lambda kv: -_magnitude(kv[1]),
    )
    return ", ".join(f"{where}.{k}={quote(v)}" for k, v in sizes[:most])


def _magnitude(value: Any) -> float:
    """The largest number in a setting (an int or a list of them), for naming the sizes to lower."""
    if isinstance(value, (list, tuple)):
        return max((_magnitude(v) for v in value), default=0.0)
    return float(abs(value)) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _invalid_setting(where: str, exc: pydantic.ValidationError, key: str = "") -> GanforgeError:
    """pydantic's first complaint about a setting as one line naming its key and how to set it."""
    err = exc.errors()[0]
    loc = ".".join([key, *(str(p) for p in err["loc"])] if key else [str(p) for p in err["loc"]])
    if err["type"] == "missing_argument":  # its input is pydantic's ArgsKwargs of every other setting: not shown
        return GanforgeError(
            f"{where}.{loc}: required, but not set; set it in the recipe or with --set {where}.{loc}=VALUE"
        )
    return GanforgeError(
        f"{where}.{loc}: {err['msg'].lower()} (got {quote(err.get('input'))}); fix it in the recipe or "
        f"with --set {where}.{loc}=VALUE"
    )


def _adapter(hint: Any) -> pydantic.TypeAdapter[Any] | None:
    """A validator of one annotation, or None where it has none (no annotation, a type pydantic cannot
    check alone: those are left to the factory's own validation in ``build``)."""
    if hint is inspect.Parameter.empty:
        return None
    try:
        return pydantic.TypeAdapter(hint, config=pydantic.ConfigDict(arbitrary_types_allowed=True))
    except (pydantic.PydanticSchemaGenerationError, pydantic.PydanticUserError, TypeError, NameError):
        return None


def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    """Resolved type annotations of ``fn`` (the raw ones where a name cannot be resolved)."""
    try:
        return typing.get_type_hints(fn, include_extras=True)  # keep Annotated bounds (NonNegativeInt)
    except (NameError, TypeError):
        return dict(getattr(fn, "__annotations__", {}))


def with_settings_of(target: Callable[..., Any], *, skip: Iterable[str] = ()) -> Callable[[F], F]:
    """Decorator for a builder ``fn(context..., own settings..., **settings)`` that forwards ``**settings``
    to ``target`` (a class or a function): the builder's signature — what ``Registry.build`` checks config
    keys and types against, and what the docs list — becomes its own parameters followed by ``target``'s
    parameters that it does not name itself and that are not in ``skip``. A model's settings are so
    declared once, on its class, instead of being listed again by its builder."""

    def wrap(fn: F) -> F:
        own_signature = inspect.signature(fn)
        own_hints = _hints(fn)
        own = [
            p.replace(annotation=own_hints.get(p.name, p.annotation))
            for p in own_signature.parameters.values()
            if p.kind is not p.VAR_KEYWORD
        ]
        init = target.__init__ if inspect.isclass(target) else target
        target_hints = _hints(init)
        taken = {p.name for p in own} | set(skip) | {"self"}
        forwarded = [
            p.replace(kind=p.KEYWORD_ONLY, annotation=target_hints.get(p.name, p.annotation))
            for p in inspect.signature(init).parameters.values()
            if p.name not in taken and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ]
        signature = own_signature.replace(
            parameters=[*own, *forwarded], return_annotation=own_hints.get("return", own_signature.return_annotation)
        )
        fn.__signature__ = signature  # type: ignore[attr-defined]
        fn.__annotations__ = {
            **{p.name: p.annotation for p in signature.parameters.values() if p.annotation is not p.empty},
            "return": signature.return_annotation,
        }
        return fn

    return wrap
