"""Named, configurable factories: data sources, networks and GAN models.

A factory registers under a name; its keyword arguments are its config keys. Building from config checks
every key against the signature (unknown key -> the nearest valid name) and every value against the type
annotations (via pydantic), so a recipe's mistakes come back as one line naming the key.
Modules of the registry's package are imported on first lookup, so adding a factory needs no edit here.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from typing import Any

import pydantic

from ganforge.errors import GanforgeError, did_you_mean


class Registry:
    """Factories of one kind (e.g. ``data source``), found by name, configured by keyword."""

    def __init__(self, kind: str, package: str, hint: str = "") -> None:
        self.kind = kind
        self.package = package
        self.hint = hint
        self._factories: dict[str, Callable[..., Any]] = {}
        self._loaded = False

    def register(self, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator: make the factory available as ``name``."""

        def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
            self._factories[name] = fn
            return fn

        return wrap

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        pkg = importlib.import_module(self.package)
        for mod in pkgutil.iter_modules(pkg.__path__):
            importlib.import_module(f"{self.package}.{mod.name}")

    def names(self) -> dict[str, str]:
        """Registered names with the first line of each factory's docstring."""
        self._load()
        return {n: (inspect.getdoc(f) or "").split("\n")[0] for n, f in sorted(self._factories.items())}

    def get(self, name: str) -> Callable[..., Any]:
        self._load()
        if name not in self._factories:
            raise GanforgeError(
                f"unknown {self.kind} '{name}'{did_you_mean(name, self._factories)}; "
                f"known: {', '.join(sorted(self._factories))}{self.hint}"
            )
        return self._factories[name]

    def build(self, name: str, params: dict[str, Any], where: str, **context: Any) -> Any:
        """Call factory ``name`` with ``params`` (user config) and ``context`` (supplied by ganforge).

        ``where`` is the config path shown in error messages (e.g. ``data`` or ``model.generator``).
        """
        fn = self.get(name)
        signature = inspect.signature(fn)
        accepted = [p for p in signature.parameters if p not in context]
        for key in params:
            if key not in accepted:
                raise GanforgeError(
                    f"{where}.{key}: not a setting of {self.kind} '{name}'{did_you_mean(key, accepted)}; "
                    f"its settings are: {', '.join(accepted) or 'none'}"
                )
        try:
            return pydantic.validate_call(config={"arbitrary_types_allowed": True})(fn)(**context, **params)
        except pydantic.ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            raise GanforgeError(
                f"{where}.{loc}: {err['msg'].lower()} (got {err.get('input')!r}); fix it in the recipe or "
                f"with --set {where}.{loc}=VALUE"
            ) from None
