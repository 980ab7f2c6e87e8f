"""The run configuration: a typed schema, YAML in and out, ``--set a.b=c`` overrides.

A recipe is a YAML file of this schema. ``seed`` and ``train.steps`` are part of the public contract.
The ``data`` and ``model`` sections name a registered factory (``source:`` / ``type:``) and pass the
rest as its settings; those are checked against the factory's signature when the run is built.
Every mistake is reported as one line naming the key, with the nearest valid key when there is one.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Literal

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, Field

from ganforge.errors import GanforgeError, did_you_mean


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OptimizerConfig(Strict):
    """One optimizer. Adam's defaults follow DCGAN (lr 2e-4, betas (0.5, 0.999))."""

    name: Literal["adam", "sgd", "rmsprop"] = "adam"
    lr: float = Field(2e-4, gt=0)
    betas: tuple[float, float] = (0.5, 0.999)
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


class RunConfig(Strict):
    name: str = "run"
    description: str = ""
    seed: int = 0
    device: str = "auto"
    data: dict[str, Any] = Field(default_factory=lambda: {"source": "ring8"})
    model: dict[str, Any] = Field(default_factory=lambda: {"type": "gan"})
    train: TrainConfig = TrainConfig()
    eval: EvalConfig = EvalConfig()
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


def _one_line(exc: pydantic.ValidationError, where: str, schema: type[BaseModel]) -> GanforgeError:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"] if not isinstance(p, int) or True)
    key = f"{where}.{loc}" if where else loc
    if err["type"] == "extra_forbidden":
        return GanforgeError(
            f"unknown config key '{key}'{did_you_mean(key, _known_keys(RunConfig))}; "
            "see `ganforge recipes --show NAME` for a full config"
        )
    return GanforgeError(f"config key '{key}': {err['msg'].lower()} (got {err.get('input')!r})")


def validate_section(schema: type[BaseModel], data: dict[str, Any], where: str = "") -> Any:
    try:
        return schema.model_validate(data)
    except pydantic.ValidationError as exc:
        raise _one_line(exc, where, schema) from None


def parse_config(raw: Any, source: str = "config") -> RunConfig:
    """Validate a raw mapping (from YAML) into a :class:`RunConfig`."""
    if not isinstance(raw, dict):
        raise GanforgeError(f"{source}: a config must be a mapping of keys to values, got {type(raw).__name__}")
    for section in ("data", "model"):
        if section in raw and not isinstance(raw[section], dict):
            raise GanforgeError(f"{source}: config key '{section}' must be a mapping, got {raw[section]!r}")
    return validate_section(RunConfig, raw)


def read_yaml(path: str | Path) -> dict[str, Any]:
    """A YAML mapping from ``path``, with one-line errors for missing, unreadable or malformed files."""
    path = Path(path)
    if not path.is_file():
        raise GanforgeError(f"config file '{path}' does not exist; check the path or run `ganforge recipes`")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise GanforgeError(f"{path}: not a text file; a config must be UTF-8 YAML") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise GanforgeError(f"{path}: invalid YAML{where}: {problem}") from None
    if raw is None:
        raise GanforgeError(f"{path}: the file is empty; a config needs at least `data` and `model`")
    if not isinstance(raw, dict):
        raise GanforgeError(f"{path}: a config must be a mapping of keys to values")
    return raw


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``--set a.b.c=value`` overrides (values parsed as YAML: numbers, lists, booleans); ``null``
    removes the key."""
    raw = copy.deepcopy(raw)
    for item in overrides:
        if "=" not in item:
            raise GanforgeError(f"--set {item!r}: expected KEY=VALUE, e.g. --set train.steps=5000")
        key, _, text = item.partition("=")
        try:
            value = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError:
            raise GanforgeError(f"--set {item!r}: cannot read value {text!r}; quote strings with '...'") from None
        _set_key(raw, key.strip(), value, f"--set {item!r}", none_removes=True)
    return raw


def apply_settings(raw: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """Set typed Python values at dotted keys (``{"train.ema": None, "train.steps": 500}``), as they are:
    no string or YAML round trip, so ``None``, tuples and floats mean what they say."""
    raw = copy.deepcopy(raw)
    for key, value in settings.items():
        _set_key(raw, key, copy.deepcopy(value), f"setting {key}={value!r}")
    return raw


def _set_key(raw: dict[str, Any], key: str, value: Any, where: str, none_removes: bool = False) -> None:
    """Set ``value`` at dotted ``key``; with ``none_removes`` (``--set key=null``) a None removes the key
    instead, so its default applies again."""
    parts = key.split(".")
    if not key or any(not p for p in parts):
        raise GanforgeError(f"{where}: '{key}' is not a config key like train.steps")
    node = raw
    for i, part in enumerate(parts[:-1]):
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise GanforgeError(f"{where}: '{'.'.join(parts[: i + 1])}' is a value, not a section")
        node = child
    if value is None and none_removes:
        node.pop(parts[-1], None)
    else:
        node[parts[-1]] = value
