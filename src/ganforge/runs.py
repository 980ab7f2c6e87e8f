"""A run folder and the one loader everything downstream of training uses.

Layout::

    RUN/config.yaml        the full, validated config (what `ganforge resume` rebuilds from)
    RUN/data.json          what the model was built for: data kind, sample shape, classes, mixture
    RUN/checkpoints/       step-XXXXXXXX/{model,train_state}.safetensors + meta.json (atomic)
    RUN/metrics.jsonl      one JSON record per logged step
    RUN/samples/, plots/   pictures
    RUN/summary.json       final numbers, diagnostics, timings
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ganforge.config import RunConfig, parse_config, read_yaml
from ganforge.data.base import DataSource, Mixture
from ganforge.data.scaling import Scaler
from ganforge.errors import GanforgeError
from ganforge.fileio import atomic_write_json, atomic_write_text
from ganforge.gans.base import GANModel

PYTHON_MODEL = "python"  # model.type of runs whose networks were built in Python by the user
_IN_PROCESS_MODELS: dict[
    str, GANModel
] = {}  # run path -> architecture template, for runs trained this session


def describe_data(source: DataSource) -> dict[str, Any]:
    mixture = None
    if source.mixture is not None:
        mixture = {"means": source.mixture.means.tolist(), "std": source.mixture.std}
    return {
        "name": source.name,
        "kind": source.kind,
        "sample_shape": list(source.sample_shape),
        "num_classes": source.num_classes,
        "mixture": mixture,
        "info": _jsonable(source.info),
    }


def _jsonable(obj: Any) -> Any:
    try:
        json.dumps(obj)
        return obj
    except TypeError:
        return {k: str(v) for k, v in obj.items()} if isinstance(obj, dict) else str(obj)


def data_from_description(desc: dict[str, Any]) -> DataSource:
    """A data description (no samples) that is enough to rebuild the model and label its samples."""
    mixture = desc.get("mixture")
    return DataSource(
        kind=desc["kind"],
        sample_shape=tuple(desc["sample_shape"]),
        name=desc.get("name", "data"),
        num_classes=desc.get("num_classes"),
        info=desc.get("info", {}),
        mixture=Mixture(torch.tensor(mixture["means"]), mixture["std"]) if mixture else None,
    )


def write_run_files(path: Path, config: RunConfig, source: DataSource) -> None:
    path.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path / "config.yaml", config.to_yaml())
    atomic_write_json(path / "data.json", describe_data(source))


def check_run_dir(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_dir():
        raise GanforgeError(
            f"run folder '{path}' does not exist; give the folder `ganforge train` wrote (--out)"
        )
    if not (path / "config.yaml").is_file():
        raise GanforgeError(f"'{path}' is not a ganforge run folder (no config.yaml in it)")
    return path


def register_in_process_model(path: Path, gan: GANModel) -> None:
    _IN_PROCESS_MODELS[str(path.resolve())] = gan


@dataclass
class Run:
    """A trained (or training) run: its config, model with trained weights, and data description."""

    path: Path
    config: RunConfig
    gan: GANModel
    data: DataSource
    step: int = 0
    summary: dict[str, Any] = field(default_factory=dict)
    source: DataSource | None = None  # the live data source, when the run was trained in this session

    @property
    def scaler(self) -> Scaler:
        return self.data.scaler

    def sample(self, n: int, label: int | torch.Tensor | None = None, **options: Any) -> torch.Tensor:
        """``n`` generated samples in the data's own units (EMA generator when enabled)."""
        return self.scaler.to_data(self.gan.sample(n, label=label, **options)).cpu()

    def real_data(self) -> DataSource:
        """The run's real data source (re-read from its config), scaled as in training."""
        from ganforge.data.registry import build_source

        if self.source is not None:
            return self.source
        section = dict(self.config.data)
        source = build_source(str(section.pop("source")), section)
        source.scaler = self.scaler
        return source

    def evaluate(self, n: int | None = None, metrics: list[str] | None = None) -> dict[str, Any]:
        from ganforge.evaluation.suite import evaluate_run

        return evaluate_run(self, n or self.config.eval.n, metrics or self.config.eval.metrics)


def load(path: str | Path, gan: GANModel | None = None, checkpoint: str | Path | None = None) -> Run:
    """Load a run folder: rebuild its model from ``config.yaml`` and load the newest valid checkpoint
    (or ``checkpoint``). Runs whose networks were written in Python are rebuilt from ``gan`` (or, in
    the session that trained them, from the architecture kept in memory); their weights always come
    from the checkpoint file."""
    from ganforge.gans.registry import build_model
    from ganforge.training.checkpoint import latest_checkpoint, load_checkpoint

    path = check_run_dir(path)
    config = parse_config(read_yaml(path / "config.yaml"), str(path / "config.yaml"))
    try:
        desc = json.loads((path / "data.json").read_text())
    except (OSError, ValueError):
        raise GanforgeError(
            f"{path}: data.json is missing or unreadable; the run folder is incomplete"
        ) from None
    data = data_from_description(desc)
    model_type = config.model.get("type")
    if gan is None and model_type == PYTHON_MODEL:
        gan = _IN_PROCESS_MODELS.get(str(path.resolve()))
        if gan is None:
            raise GanforgeError(
                f"{path} was trained with networks written in Python; load it with "
                "ganforge.load(path, gan=<the same GAN object, untrained is fine>)"
            )
    if gan is None:
        torch.manual_seed(config.seed)
        gan = build_model(config.model, data)
    if config.train.ema is not None and gan.ema_generator is None:
        gan.enable_ema(config.train.ema)
    if checkpoint is None:
        info = latest_checkpoint(path)
        if info is None:
            raise GanforgeError(
                f"{path}: no complete checkpoint yet; train longer or `ganforge resume {path}`"
            )
        checkpoint = info.path
    state, meta = load_checkpoint(checkpoint)
    try:
        gan.load_state_dict(state["model"])
    except RuntimeError as exc:
        first = str(exc).split("\n")[1].strip() if "\n" in str(exc) else str(exc)
        raise GanforgeError(f"{checkpoint}: weights do not fit the model in config.yaml ({first})") from None
    data.scaler = Scaler.from_state_dict(state["scaler"])
    gan.eval()
    summary = {}
    if (path / "summary.json").is_file():
        try:
            summary = json.loads((path / "summary.json").read_text())
        except ValueError:
            summary = {}
    return Run(path, config, gan, data, int(meta["step"]), summary)


def write_summary(path: Path, summary: dict[str, Any]) -> None:
    atomic_write_json(path / "summary.json", summary)
