"""``ganforge config RECIPE [--set k=v]``: the full config a run would use, every default filled in.

``ganforge recipes --show NAME`` prints a recipe as written (the keys its author chose). A run also uses
every key the recipe leaves out: the run-level defaults (``train``, ``eval``, ``monitors``...) of
:class:`~ganforge.config.RunConfig`, and the keyword defaults of the factories its ``data.source``,
``model.type``, networks (``model.generator`` / ``model.discriminator`` ``type``) and ``model.penalties``
name, and every monitor's settings (the registries' signatures are the config keys). This command
prints all of them, each filled-in key marked ``# default``, so a user sees every knob and its value
without reading the source.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any

import typer

from ganforge.cli import SetOption, register_command

DEFAULT_MARK = "  # default"
# parameters ganforge supplies itself (not config keys), by kind of factory
MODEL_CONTEXT = frozenset({"source"})
NETWORK_CONTEXT = frozenset({"role", "noise_dim", "sample_shape", "num_classes"})


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def signature_defaults(fn: Callable[..., Any], context: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Keyword defaults of a registered factory: its config keys and the values used when a recipe omits them."""
    out: dict[str, Any] = {}
    for name, p in inspect.signature(fn).parameters.items():
        if name in context or p.default is inspect.Parameter.empty:
            continue
        if p.kind in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL):
            continue
        out[name] = _plain(p.default)
    return out


def _merge(given: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """``given`` with the keys of ``defaults`` it lacks appended (given keys keep their order)."""
    return {**given, **{k: v for k, v in defaults.items() if k not in given}}


def _fill_network(spec: Any, role: str) -> Any:
    from ganforge.gans.registry import NETWORKS, split_type

    if not isinstance(spec, (str, dict)) or (isinstance(spec, dict) and "type" not in spec):
        return spec
    name, settings = split_type(spec, "model")
    NETWORKS.check_settings(name, settings, f"model.{role}", NETWORK_CONTEXT)
    return {"type": name, **_merge(settings, signature_defaults(NETWORKS.get(name), NETWORK_CONTEXT))}


def resolved_config(raw: dict[str, Any]) -> dict[str, Any]:
    """The validated config of ``raw`` with run-level and factory defaults filled in."""
    from ganforge.config import parse_config
    from ganforge.data.registry import SOURCES
    from ganforge.gans.registry import MODELS, split_type

    full = parse_config(raw).model_dump(mode="json")
    data = dict(full.get("data") or {})
    if isinstance(data.get("source"), str):
        # a null is a recipe's blank to fill (mnist-idx's `images: null`): printed, refused by train
        given = {k: v for k, v in data.items() if k != "source" and v is not None}
        SOURCES.check_settings(data["source"], given, "data")
        full["data"] = _merge(data, signature_defaults(SOURCES.get(data["source"])))
    model = dict(full.get("model") or {})
    if "type" in model:
        name, settings = split_type(model, "model")
        MODELS.check_settings(name, settings, "model", MODEL_CONTEXT)
        settings = _merge(settings, signature_defaults(MODELS.get(name), MODEL_CONTEXT))
        for role in ("generator", "discriminator"):
            if role in settings:
                settings[role] = _fill_network(settings[role], role)
        if isinstance(settings.get("penalties"), dict):
            settings["penalties"] = {k: _fill_penalty(k, v) for k, v in settings["penalties"].items()}
        full["model"] = {"type": name, **settings}
    full["monitors"] = _fill_monitors(dict(full.get("monitors") or {}))
    return full


def _fill_penalty(name: str, spec: Any) -> dict[str, Any]:
    """A penalty's settings with its defaults; a bare number is its weight, as ``build_penalties`` reads it."""
    from ganforge.gans.registry import PENALTIES, penalty_settings

    settings = penalty_settings(spec)
    PENALTIES.check_settings(name, settings, f"model.penalties.{name}")
    return _merge(settings, signature_defaults(PENALTIES.get(name)))


def _weights_as_settings(raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` with each bare penalty weight (``gp: 0.1``) written as ``{weight: 0.1}``, so the printed
    ``weight`` is marked as the recipe's, not as a default."""
    model = raw.get("model")
    if not isinstance(model, dict) or not isinstance(model.get("penalties"), dict):
        return raw
    from ganforge.gans.registry import penalty_settings

    penalties = {k: penalty_settings(v) for k, v in model["penalties"].items()}
    return {**raw, "model": {**model, "penalties": penalties}}


def _fill_monitors(given: dict[str, Any]) -> dict[str, Any]:
    """Every registered monitor with its settings (``false``: turned off by the recipe)."""
    from ganforge.diagnostics.monitors import MONITORS, default_monitors

    default_monitors(given)  # what a run builds: unknown monitors and settings refused the same way
    out = {}
    for name in MONITORS:
        opts = given.get(name, {})
        out[name] = opts if opts is False else _merge(opts if isinstance(opts, dict) else {},
                                                        signature_defaults(MONITORS.get(name)))
    return {**out, **{k: v for k, v in given.items() if k not in out}}


def _scalar(value: Any) -> str:
    import yaml

    text = yaml.safe_dump(value, default_flow_style=True, width=10**6, sort_keys=False, allow_unicode=True).strip()
    return text[: -len("...")].strip() if text.endswith("...") else text


def to_marked_yaml(full: dict[str, Any], given: Any, indent: int = 0) -> list[str]:
    """YAML lines of ``full``; each leaf absent from ``given`` (the recipe and overrides) ends in ``# default``."""
    lines = []
    for key, value in full.items():
        mine = given.get(key) if isinstance(given, dict) else None
        present = isinstance(given, dict) and key in given
        pad = " " * indent
        if isinstance(value, dict) and value:
            lines.append(f"{pad}{key}:" + ("" if present else DEFAULT_MARK))
            lines += to_marked_yaml(value, mine if isinstance(mine, dict) else {}, indent + 2)
        else:
            lines.append(f"{pad}{key}: {_scalar(value)}" + ("" if present else DEFAULT_MARK))
    return lines


def count_keys(tree: dict[str, Any]) -> int:
    return sum(count_keys(v) if isinstance(v, dict) and v else 1 for v in tree.values())


@register_command("config")
def config_(
    recipe: Annotated[str, typer.Argument(help="recipe name, YAML file, or a .csv/.npy/.npz data file")],
    set_: SetOption = None,
) -> None:
    """Print the full config a run of RECIPE would use: every key, defaults filled in and marked."""
    from ganforge.config import apply_overrides
    from ganforge.recipes import is_data_file, resolve_recipe

    if is_data_file(recipe):  # what `ganforge train FILE` uses: the default recipe fitted to the file's data
        from ganforge.api import fitted_file_recipe

        raw = fitted_file_recipe(recipe, list(set_ or []))[0]
    else:
        raw = apply_overrides(resolve_recipe(recipe), list(set_ or []))
    full = resolved_config(raw)
    print("\n".join(to_marked_yaml(full, _weights_as_settings(raw))))
    print(f"# {count_keys(full)} keys; '# default': not in the recipe, the value ganforge uses")
