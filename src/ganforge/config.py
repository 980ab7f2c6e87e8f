"""The run configuration: a typed schema, YAML in and out, ``--set a.b=c`` overrides.

A recipe is a YAML file of this schema. ``seed`` and ``train.steps`` are part of the public contract.
The ``data`` and ``model`` sections name a registered factory (``source:`` / ``type:``) and pass the
rest as its settings; those are checked against the factory's signature when the run is built.
Every mistake is reported as one line naming the key, with the nearest valid key when there is one.
"""

from __future__ import annotations

import copy
import inspect
import math
import types
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
import pydantic_core
import yaml
from pydantic import BaseModel, ConfigDict, Field

from ganforge.errors import GanforgeError, did_you_mean, quote

MAX_CONFIG_BYTES = 256 << 10
"""A config file larger than this (256 KiB) is refused before parsing; the largest shipped recipe is 2 KB."""
MAX_SET_CHARS = 10_000
"""The longest ``--set KEY=VALUE`` read."""
MAX_YAML_VALUES = 100_000
"""The most values (mappings, lists, scalars) a YAML document may hold *with its aliases expanded*: a
``*alias`` is a reference, cheap to parse, but every consumer (validation, deep copies, error messages)
walks the expanded tree, 9**7 = 4.8 million items for a 7-level "billion laughs"."""
MAX_YAML_DEPTH = 64
"""The deepest nesting of mappings and lists in a config (recipes use 4)."""
MAX_INT_DIGITS = 40
"""Digits of the longest integer literal read (2**64 has 20): Python refuses to parse > 4300 and
arithmetic on huge ones is slow, while no setting needs more than 64 bits."""
YAML_INT_TAG = "tag:yaml.org,2002:int"
FLOAT32_MAX = 3.4028234663852886e38
"""Networks and losses compute in float32 (or less): a larger setting becomes ``inf`` in the first tensor."""
FLOAT32_TINY = 1.1754943508222875e-38
"""The smallest normal float32: a smaller nonzero setting (an ``eps`` of 1e-50) becomes 0 and divides by zero."""
INT64_LIMIT = 2**63
"""Integers go into int64 tensors and RNG seeds: a setting must be below this in magnitude."""
_NO_DEFAULT: Any = inspect.Parameter.empty


def check_value(value: Any, annotation: Any, key: str, default: Any = _NO_DEFAULT) -> None:
    """The type rules every config value passes, for the run schema and every registered factory alike
    (``Registry.build``), so one rule covers every key of its type instead of a check per key:

    - ``true``/``false`` only where the annotation admits a bool (YAML's ``true`` is not the number 1);
    - floats finite and within float32 (``|x| <= 3.4e38``, and 0 or ``|x| >= 1.2e-38``): NaN, inf or 1e39
      would reach the networks as non-finite numbers and be blamed on the learning rate much later;
    - integers below 2**63 in magnitude (int64 tensors and seeds);
    - an integer setting whose default is positive (a size, count or interval: ``hidden``, ``every``,
      ``n_critic``...) is >= 1; a setting for which 0 means something annotates itself
      ``Annotated[int, Field(ge=0)]`` and is then left to that bound.

    A violation is one :class:`GanforgeError` line naming ``key``.
    """
    if isinstance(value, bool):
        if not _admits_bool(annotation):
            raise GanforgeError(f"config key '{key}': expected a number or text, got {value} (true/false is not 1/0)")
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise GanforgeError(f"config key '{key}': {value} is not a finite number; give a finite value")
        if abs(value) > FLOAT32_MAX or 0 < abs(value) < FLOAT32_TINY:
            raise GanforgeError(
                f"config key '{key}': {value:g} is beyond float32 (1.2e-38 <= |x| <= 3.4e38, or 0), the precision "
                "ganforge computes in"
            )
        return
    if isinstance(value, int):
        if abs(value) >= INT64_LIMIT:
            raise GanforgeError(f"config key '{key}': {quote(value)} does not fit in 64 bits (|x| < 2**63)")
        if _positive_int(default) and _plain_int(annotation) and value < 1:
            raise GanforgeError(f"config key '{key}': must be >= 1 (a size, count or interval), got {value}")
        return
    if isinstance(value, str) and _numeric(annotation):  # YAML reads 1e39 as text; pydantic makes it a float
        try:
            number = float(value)
        except ValueError:
            return  # not a number at all: pydantic's type check says so
        check_value(number, annotation, key, _NO_DEFAULT)
        return
    if isinstance(value, (list, tuple)):
        element = _element_annotation(annotation)
        element_default = default[0] if isinstance(default, (list, tuple)) and default else _NO_DEFAULT
        for i, item in enumerate(value):
            check_value(item, element, f"{key}[{i}]", element_default)
    elif isinstance(value, dict):
        for k, item in value.items():
            check_value(item, Any, f"{key}.{k}")


def _union_args(annotation: Any) -> tuple[Any, ...]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return typing.get_args(annotation)
    return (annotation,)


def _admits_bool(annotation: Any) -> bool:
    for ann in _union_args(annotation):
        if typing.get_origin(ann) is Annotated:
            ann = typing.get_args(ann)[0]
        if ann in (bool, Any, object, _NO_DEFAULT) or isinstance(ann, (str, typing.TypeVar)):
            return True  # unannotated, or an annotation we cannot read: no bool rule
        if typing.get_origin(ann) is Literal and any(isinstance(a, bool) for a in typing.get_args(ann)):
            return True
    return False


def _numeric(annotation: Any) -> bool:
    """Whether ``annotation`` takes a number and no text (so a string value would be converted)."""
    args = [a for a in _union_args(annotation) if a is not type(None)]
    args = [typing.get_args(a)[0] if typing.get_origin(a) is Annotated else a for a in args]
    return bool(args) and all(a in (int, float) for a in args)


def _plain_int(annotation: Any) -> bool:
    """Whether ``annotation`` is a bare ``int`` (optionally ``| None``, or a list of them): no bound of its own."""
    args = [a for a in _union_args(annotation) if a is not type(None)]
    if len(args) != 1:
        return False
    ann = args[0]
    if typing.get_origin(ann) in (list, tuple):
        return all(_plain_int(a) for a in typing.get_args(ann) if a is not Ellipsis)
    return ann is int


def _positive_int(default: Any) -> bool:
    if isinstance(default, (list, tuple)):
        return bool(default) and all(_positive_int(d) for d in default)
    return isinstance(default, int) and not isinstance(default, bool) and default > 0


def _element_annotation(annotation: Any) -> Any:
    for ann in _union_args(annotation):
        if typing.get_origin(ann) in (list, tuple) and typing.get_args(ann):
            return typing.get_args(ann)[0]
    return Any


def check_values(schema: type[BaseModel], data: Any, prefix: str = "") -> None:
    """:func:`check_value` for every key of ``data`` that ``schema`` declares (nested sections too)."""
    if not isinstance(data, dict):
        return
    for name, value in data.items():
        field = schema.model_fields.get(name) if isinstance(name, str) else None
        if field is None:
            continue
        key = f"{prefix}.{name}" if prefix else name
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            check_values(ann, value, key)
            continue
        default = field.default if field.default is not pydantic_core.PydanticUndefined else _NO_DEFAULT
        if any(hasattr(m, "ge") or hasattr(m, "gt") for m in field.metadata):
            default = _NO_DEFAULT  # the field declares its own lower bound (e.g. retries >= 0): pydantic checks it
        check_value(value, ann, key, default)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OptimizerConfig(Strict):
    """One optimizer. Adam's defaults follow DCGAN (lr 2e-4, betas (0.5, 0.999))."""

    name: Literal["adam", "sgd", "rmsprop"] = "adam"
    lr: float = Field(2e-4, gt=0)
    betas: tuple[Annotated[float, Field(ge=0, lt=1)], Annotated[float, Field(ge=0, lt=1)]] = (0.5, 0.999)
    momentum: float = Field(0.0, ge=0)
    weight_decay: float = Field(0.0, ge=0)
    eps: float = Field(1e-8, gt=0)


class GuardConfig(Strict):
    """Divergence guard: on a non-finite loss or gradient, roll back to the last good checkpoint and retry
    with every learning rate multiplied by ``lr_factor``, at most ``retries`` times per failing step."""

    retries: int = Field(3, ge=0, description="rollbacks per failing step before stopping (0: stop at once)")
    lr_factor: float = Field(0.5, gt=0, le=1, description="learning-rate multiplier applied at each rollback")
    check_gradients: bool = Field(True, description="also check gradient norms every step, not only losses")
    max_weight_growth: float = Field(
        1000.0, gt=1, description="stop when a phase's weight norm exceeds this many times its norm at step 0 "
        "(checked before each checkpoint)"
    )
    max_loss_growth: float = Field(
        1e6, gt=1, description="stop when a logged loss exceeds this many times its size in the first logged steps"
    )


class TrainConfig(Strict):
    steps: int = Field(5000, gt=0, description="training steps (one step = D phase(s) + G phase)")
    batch_size: int = Field(256, gt=0)
    optimizer: OptimizerConfig = OptimizerConfig()
    optimizers: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="per-phase overrides of `optimizer`, e.g. generator: {lr: 1e-4}"
    )
    lr_decay: Literal["none", "linear", "cosine"] = "none"
    lr_final: float = Field(0.0, ge=0, le=1, description="final learning rate as a fraction of the initial one")
    lr_hold: float = Field(
        0.0, ge=0, lt=1, description="share of the steps at the full rate before lr_decay begins (Pix2Pix: 0.5)"
    )

    @pydantic.model_validator(mode="after")
    def _hold_needs_a_decay(self) -> TrainConfig:
        """``lr_hold`` without a decay would be accepted and do nothing."""
        if self.lr_hold and self.lr_decay == "none":
            raise ValueError("lr_hold holds the rate before a decay; set train.lr_decay=linear or cosine too")
        return self
    ema: float | None = Field(None, ge=0, lt=1, description="generator EMA decay; sampling uses the EMA")
    log_every: int = Field(50, gt=0)
    checkpoint_every: int = Field(1000, gt=0)
    keep_checkpoints: int = Field(3, gt=0)
    snapshot_every: int = Field(0, ge=0, description="save a sample picture every N steps (0: at the end only)")
    tensorboard: bool = Field(False, description="also log to TensorBoard (RUN/tensorboard; the tensorboard extra)")
    guard: GuardConfig = GuardConfig()
    precision: Literal["fp32", "bf16", "fp16"] = Field(
        "fp32", description="fp32; bf16 autocast (CPU or GPU); fp16 autocast with loss scaling (GPU only)"
    )
    compile: bool = Field(False, description="torch.compile each trained network's forward")
    channels_last: bool = Field(False, description="NHWC memory layout for conv networks and image batches")
    sync_batchnorm: bool = Field(False, description="under torchrun: batch norm statistics over the global batch")
    dist_timeout: float = Field(1800.0, gt=0, description="seconds a rank waits on its peers before failing")
    threads: int | None = Field(
        None, gt=0, description="torch CPU threads (default: chosen from the model's size, 1 for small MLPs)"
    )


class EvalConfig(Strict):
    enabled: bool | None = Field(
        None, description="evaluate at the end of training: true, false, or unset (auto: skipped for runs much "
        "shorter than their evaluation)"
    )
    every: int = Field(0, ge=0, description="evaluate every N steps during training (0: only at the end)")
    n: int = Field(2500, gt=0, description="generated samples per evaluation")
    metrics: list[str] = Field(default_factory=list, description="metric names; empty = defaults for the data")
    features: str = Field(
        "auto", description="image feature network: auto, digits, inception, or a weights / TorchScript file"
    )
    trust_code: bool = Field(
        False, description="run a TorchScript / torch.export feature file (a program: it can run any code); "
        "honoured only for the command that sets it, never from a run folder's config.yaml"
    )
    best: str | None = Field(
        None, description="keep the checkpoint best by this metric (e.g. fid; max:NAME / min:NAME to say which way)"
    )


class SampleConfig(Strict):
    discriminator_rejection: float = Field(
        0.0, ge=0, lt=0.5,
        description="drop generated samples the trained D scores below this quantile of its scores on real "
        "data, e.g. 0.01 (0: keep all; GAN, StyleGAN and TimeGAN models; see ganforge/gans/rejection.py)",
    )


class RunConfig(Strict):
    """A run's whole configuration, as ``config.yaml`` holds it: ``data`` and ``model`` (a registered source and
    model ``type`` with their settings), ``train`` (steps, batch, optimizer, schedule, EMA, checkpoints), ``eval``,
    ``monitors``, ``sample``, ``seed`` and ``device``. Build one with :func:`ganforge.build_config` (a recipe plus
    ``--set`` overrides); ``ganforge config NAME`` prints every key with its default."""

    name: str = "run"
    description: str = ""
    seed: int = Field(0, ge=0)
    device: str = "auto"
    data: dict[str, Any] = Field(default_factory=lambda: {"source": "ring8"})
    model: dict[str, Any] = Field(default_factory=lambda: {"type": "gan"})
    train: TrainConfig = TrainConfig()
    eval: EvalConfig = EvalConfig()
    sample: SampleConfig = SampleConfig()
    monitors: dict[str, Any] = Field(default_factory=dict)

    def optimizer_for(self, phase: str) -> OptimizerConfig:
        """The optimizer of ``phase``: ``train.optimizer`` updated by ``train.optimizers[phase]``."""
        merged = {**self.train.optimizer.model_dump(), **self.train.optimizers.get(phase, {})}
        return validate_section(OptimizerConfig, merged, f"train.optimizers.{phase}")

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)


def _known_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        keys.append(prefix + name)
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            keys.extend(_known_keys(ann, prefix + name + "."))
    return keys


def _one_line(
    exc: pydantic.ValidationError, where: str, schema: type[BaseModel], also_known: Iterable[str] = ()
) -> GanforgeError:
    """The first validation error as one line; an unknown key gets the nearest known one, ``also_known``
    included (the config's own ``data.*`` / ``model.*`` keys: ``train.pretrain_steps`` -> ``model.pretrain_steps``)."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"] if not isinstance(p, int) or True)
    key = f"{where}.{loc}" if where else loc
    if err["type"] == "model_type":  # `--set train=5`: a section given a value (pydantic names its class)
        return GanforgeError(f"config key '{key}' is a section of settings; set one of its keys, e.g. {key}.NAME=VALUE "
                             "(`ganforge config NAME` lists them)")
    if err["type"] == "extra_forbidden":
        return GanforgeError(
            f"unknown config key {quote(key)}{did_you_mean(key, [*_known_keys(RunConfig), *also_known])}; "
            "`ganforge config NAME` lists every key"
        )
    if err["type"] == "value_error":  # a check across keys (a model validator): its own words, not the section
        return GanforgeError(f"config key '{key}': {err['msg'].removeprefix('Value error, ')}")
    return GanforgeError(f"config key '{key}': {err['msg'].lower()} (got {quote(err.get('input'))})")


def validate_section(
    schema: type[BaseModel], data: dict[str, Any], where: str = "", also_known: Iterable[str] = ()
) -> Any:
    """``data`` as ``schema``: :func:`check_values`' type rules, then pydantic's; one line on the first error."""
    check_values(schema, data, where)
    try:
        return schema.model_validate(data)
    except pydantic.ValidationError as exc:
        raise _one_line(exc, where, schema, also_known) from None


def parse_config(raw: Any, source: str = "config") -> RunConfig:
    """Validate a raw mapping (from YAML) into a :class:`RunConfig`."""
    if not isinstance(raw, dict):
        raise GanforgeError(f"{source}: a config must be a mapping of keys to values, got {type(raw).__name__}")
    for section in ("data", "model"):
        if section in raw and not isinstance(raw[section], dict):
            raise GanforgeError(f"{source}: config key '{section}' must be a mapping, got {quote(raw[section])}")
    own = [f"{section}.{key}" for section in ("data", "model") for key in raw.get(section) or {}]
    return validate_section(RunConfig, raw, also_known=own)


def read_yaml(path: str | Path) -> dict[str, Any]:
    """A YAML mapping from ``path``, with one-line errors for missing, unreadable, oversized or malformed
    files (see :func:`load_yaml_text` for what a config's YAML may hold)."""
    path = Path(path)
    if not path.is_file():
        raise GanforgeError(f"config file '{path}' does not exist; check the path or run `ganforge recipes`")
    size = path.stat().st_size
    if size > MAX_CONFIG_BYTES:
        raise GanforgeError(
            f"{path}: {size:,} bytes is too large for a config (at most {MAX_CONFIG_BYTES:,}); is it the right file?"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise GanforgeError(f"{path}: not a text file; a config must be UTF-8 YAML") from None
    raw = load_yaml_text(text, str(path))
    if raw is None:
        raise GanforgeError(f"{path}: the file is empty; a config needs at least `data` and `model`")
    if not isinstance(raw, dict):
        raise GanforgeError(f"{path}: a config must be a mapping of keys to values")
    return raw


_Loader: type = yaml.SafeLoader
"""The pure-Python loader, not libyaml's ``CSafeLoader``: libyaml's composer recurses in C, so a document
nested 100,000 deep overflows the C stack and kills the process (a segmentation fault, no message), while
the Python composer raises ``RecursionError``, answered in one line. Its speed (~0.6 s for a 1 MB scalar,
~3 s for a 100,000-item flow list) is bounded by :data:`MAX_CONFIG_BYTES`."""


def load_yaml_text(text: str, where: str) -> Any:
    """Parse config YAML safely: YAML's safe subset (no Python objects), and, checked on the composed node
    graph *before* any value is built, at most :data:`MAX_YAML_VALUES` values with aliases expanded, at
    most :data:`MAX_YAML_DEPTH` levels, no alias that contains itself, no key twice in one mapping (plain
    YAML keeps the last silently) and no integer longer than :data:`MAX_INT_DIGITS` digits. Every problem
    is one :class:`GanforgeError` line naming ``where`` and the line."""
    loader = None
    try:
        loader = _Loader(text)  # its reader already refuses control characters (a ReaderError)
        node = loader.get_single_node()
        if node is None:
            return None
        _check_yaml_node(node, where)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or getattr(exc, "reason", None) or type(exc).__name__
        if isinstance(exc, yaml.reader.ReaderError):  # a control character: where, and which
            at = f" at character {exc.position + 1}"
            code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
            problem = f"{problem} (#x{code:04x}); a config is plain text"
        raise GanforgeError(f"{where}: invalid YAML{at}: {problem}") from None
    except RecursionError:
        raise GanforgeError(f"{where}: YAML nested more than {MAX_YAML_DEPTH} levels deep") from None
    finally:
        if loader is not None:
            loader.dispose()


def _check_yaml_node(root: yaml.Node, where: str) -> None:
    """Walk the node graph once per distinct node (memoized), counting the expanded size; see
    :func:`load_yaml_text` for the rules."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def line(node: yaml.Node) -> str:
        return f"{where}, line {node.start_mark.line + 1}"

    def walk(node: yaml.Node, depth: int) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        if depth > MAX_YAML_DEPTH:
            raise GanforgeError(f"{line(node)}: YAML nested more than {MAX_YAML_DEPTH} levels deep")
        if id(node) in open_nodes:
            raise GanforgeError(f"{line(node)}: a YAML alias contains itself; a config must be a finite tree")
        if isinstance(node, yaml.ScalarNode):
            if node.tag == YAML_INT_TAG and len(node.value) > MAX_INT_DIGITS:
                raise GanforgeError(
                    f"{line(node)}: an integer of {len(node.value):,} characters (at most {MAX_INT_DIGITS}); "
                    "no setting needs more than 64 bits"
                )
            sizes[id(node)] = 1
            return 1
        open_nodes.add(id(node))
        total = 1
        if isinstance(node, yaml.MappingNode):
            seen: set[tuple[str, str]] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                    if (key.tag, key.value) in seen:
                        raise GanforgeError(
                            f"{line(key)}: key {quote(key.value)} appears twice in one mapping; keep one "
                            "(YAML would silently use the last)"
                        )
                    seen.add((key.tag, key.value))
                total += walk(key, depth + 1) + walk(value, depth + 1)
                if total > MAX_YAML_VALUES:
                    break
        else:
            for child in node.value:
                total += walk(child, depth + 1)
                if total > MAX_YAML_VALUES:
                    break
        if total > MAX_YAML_VALUES:
            raise GanforgeError(
                f"{line(node)}: more than {MAX_YAML_VALUES:,} values once its aliases (*name) are expanded; "
                "a config this large is a mistake or an alias bomb"
            )
        open_nodes.discard(id(node))
        sizes[id(node)] = total
        return total

    walk(root, 0)


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``--set a.b.c=value`` overrides (values parsed as YAML: numbers, lists, booleans); ``null``
    removes the key."""
    raw = copy.deepcopy(raw)
    for item in overrides:
        if len(item) > MAX_SET_CHARS:
            raise GanforgeError(
                f"--set {quote(item)}: {len(item):,} characters is too long (at most {MAX_SET_CHARS:,})"
            )
        if "=" not in item:
            raise GanforgeError(f"--set {quote(item)}: expected KEY=VALUE, e.g. --set train.steps=5000")
        key, _, text = item.partition("=")
        try:
            value = load_yaml_text(text, f"--set {quote(item)}") if text.strip() else None
        except GanforgeError as err:
            raise GanforgeError(f"{err}; quote strings with '...'") from None
        _set_key(raw, key.strip(), value, f"--set {quote(item)}", none_removes=True)
    return raw


def apply_settings(raw: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """Set typed Python values at dotted keys (``{"train.ema": None, "train.steps": 500}``), as they are:
    no string or YAML round trip, so ``None``, tuples and floats mean what they say."""
    raw = copy.deepcopy(raw)
    for key, value in settings.items():
        _set_key(raw, key, copy.deepcopy(value), f"setting {key}={quote(value)}")
    return raw


def _set_key(raw: dict[str, Any], key: str, value: Any, where: str, none_removes: bool = False) -> None:
    """Set ``value`` at dotted ``key``; with ``none_removes`` (``--set key=null``) a None removes the key
    instead, so its default applies again."""
    parts = key.split(".")
    if not key or any(not p for p in parts):
        raise GanforgeError(f"{where}: {quote(key)} is not a config key like train.steps")
    node = raw
    for i, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise GanforgeError(f"{where}: {quote('.'.join(parts[: i + 1]))} is a value, not a section")
        node = child
    if value is None and none_removes:
        node.pop(parts[-1], None)
    else:
        node[parts[-1]] = value
