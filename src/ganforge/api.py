"""The Python entry points: :func:`train` and :func:`resume` (``load`` lives in :mod:`ganforge.runs`).

``train`` takes either a recipe (name, YAML path, or :class:`~ganforge.config.RunConfig`) or a GAN built
in Python from the user's own networks, as in the course notes::

    run = gf.train(gf.GAN(G, D, noise_dim=1, objective="nonsaturating"), data=gf.data.normal(10, 1), steps=3000)
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

import torch

from ganforge.config import RunConfig, apply_overrides, parse_config
from ganforge.data.base import DataSource
from ganforge.data.registry import source_from_config
from ganforge.errors import GanforgeError
from ganforge.gans.base import GANModel
from ganforge.gans.compat import check_compatible
from ganforge.gans.registry import build_model
from ganforge.recipes import resolve_recipe
from ganforge.runs import PYTHON_MODEL, Run, check_run_dir, register_in_process_model, write_run_files
from ganforge.training.callbacks import build_callbacks
from ganforge.training.checkpoint import remove_checkpoints_after
from ganforge.training.distributed import from_main, is_main_process, shutdown_process_group, start_distributed
from ganforge.training.metrics_log import truncate_after
from ganforge.training.seeding import seed_everything
from ganforge.training.trainer import Trainer


def default_run_dir(name: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{name}-{stamp}"


def _fresh_run_dir(out: str | Path | None, name: str) -> Path:
    path = Path(out) if out is not None else default_run_dir(name)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise GanforgeError(
            f"output folder '{path}' already exists and is not empty; choose another --out, "
            f"or continue it with `ganforge resume {path}`"
        )
    return path


def _agreed_run_dir(out: str | Path | None, config: RunConfig) -> Path:
    """The new run folder; under torchrun rank 0 chooses and checks it and every rank gets its answer."""
    start_distributed(config)
    try:
        return from_main(lambda: _fresh_run_dir(out, config.name))
    except GanforgeError:
        shutdown_process_group()
        raise


def build_config(
    recipe: str | Path | RunConfig | dict[str, Any] | None, overrides: list[str] | None = None
) -> RunConfig:
    """A validated config from a recipe name, a YAML path, a data file path, a mapping, or a RunConfig."""
    if isinstance(recipe, RunConfig):
        raw = recipe.model_dump(mode="json")
    elif isinstance(recipe, dict):
        raw = recipe
    else:
        raw = resolve_recipe(recipe)
    raw = apply_overrides(raw, overrides or [])
    return parse_config(raw)


def _run(
    config: RunConfig,
    gan: GANModel,
    source: DataSource,
    data_rng: torch.Generator,
    path: Path,
    show_progress: bool,
    resume: bool,
    config_changed: bool = False,
) -> Run:
    from ganforge.report.summary import finish_run

    check_compatible(gan, source)
    if config.train.ema is not None and gan.ema_generator is None:
        gan.enable_ema(config.train.ema)
    start_distributed(config)  # under torchrun; only rank 0 writes the run folder, logs and checkpoints
    main = is_main_process()
    try:
        callbacks = build_callbacks(config, source, path) if main else []
        trainer = Trainer(gan, source, config, data_rng, path, callbacks, show_progress=show_progress and main)
        if resume:
            step = trainer.resume_from_latest()
            if step is not None and step > config.train.steps:
                raise GanforgeError(
                    f"{path}: train.steps={config.train.steps} is below the step of its newest checkpoint "
                    f"({step}); resume with --steps {step} or more"
                )
            if main and config_changed:  # only now: a resume that fails must leave the run as it was
                from ganforge.fileio import atomic_write_text

                atomic_write_text(path / "config.yaml", config.to_yaml())
            if main and step is not None:
                truncate_after(path / "metrics.jsonl", step)
                remove_checkpoints_after(path, step)
            elif main and (path / "metrics.jsonl").exists():
                truncate_after(path / "metrics.jsonl", 0)
        elif main:
            write_run_files(path, config, source)
        t0 = time.perf_counter()
        trainer.fit()
        if not main:
            return Run(path, config, trainer.gan, source, trainer.step)
        return finish_run(trainer, path, time.perf_counter() - t0)
    finally:
        shutdown_process_group()


def train(
    model: GANModel | str | Path | RunConfig | dict[str, Any] | None = None,
    data: DataSource | str | Any | None = None,
    steps: int | None = None,
    *,
    out: str | Path | None = None,
    seed: int | None = None,
    overrides: list[str] | None = None,
    show_progress: bool = True,
    **train_settings: Any,
) -> Run:
    """Train a GAN and return its :class:`~ganforge.runs.Run`.

    ``model`` is a recipe (name, YAML path, mapping, RunConfig; None = the default recipe) or a GAN object
    built in Python. ``data`` is a DataSource or a source name / file path (required with a GAN object,
    optional override with a recipe). ``steps``, ``seed`` and other ``train.*`` settings
    (``batch_size=...``) override the recipe. The run folder is ``out`` (default ``runs/NAME-TIMESTAMP``).
    """
    sets = list(overrides or [])
    if steps is not None:
        sets.append(f"train.steps={int(steps)}")
    if seed is not None:
        sets.append(f"seed={int(seed)}")
    sets += [f"train.{k}={v}" for k, v in train_settings.items()]
    if isinstance(model, GANModel):
        prepare = getattr(model, "prepare_data", None)  # models that build their networks for the data (tables)
        if prepare is not None:
            data = prepare(data)
        if not isinstance(data, DataSource):
            raise GanforgeError(
                "train(gan, data=...): give the real data as a DataSource, e.g. gf.data.normal(10, 1)"
            )
        data_section = {
            "source": data.name,
            **{k: v for k, v in data.info.items() if isinstance(v, (int, float, str))},
        }
        config = build_config(
            {"name": data.name, "data": data_section, "model": {"type": PYTHON_MODEL}}, sets
        )
        data_rng = seed_everything(config.seed)
        build = getattr(model, "build_for", None)  # networks sized for the data, initialized from the seed
        if build is not None:
            build(data)
        path = _agreed_run_dir(out, config)
        register_in_process_model(path, model)
        return _run(config, model, data, data_rng, path, show_progress, resume=False)
    if isinstance(data, str):
        sets.append(f"data.source={data}")
    config = build_config(model, sets)
    data_rng = seed_everything(config.seed)
    source = data if isinstance(data, DataSource) else source_from_config(config.data)
    gan = build_model(config.model, source)
    path = _agreed_run_dir(out, config)
    return _run(config, gan, source, data_rng, path, show_progress, resume=False)


def resume(
    path: str | Path,
    steps: int | None = None,
    show_progress: bool = True,
    *,
    gan: GANModel | None = None,
    data: DataSource | None = None,
) -> Run:
    """Continue a run from its newest valid checkpoint (from step 0 with its saved config if none was
    written), up to its ``train.steps`` or a new total ``steps``. On the CPU the result equals the
    uninterrupted run bit-for-bit. Runs built from Python networks need the same ``gan`` and ``data``."""
    from ganforge.config import read_yaml

    path = check_run_dir(path)
    raw = read_yaml(path / "config.yaml")
    if steps is not None:
        raw = apply_overrides(raw, [f"train.steps={int(steps)}"])
    config = parse_config(raw, str(path / "config.yaml"))
    data_rng = seed_everything(config.seed)
    if config.model.get("type") == PYTHON_MODEL:
        if gan is None or data is None:
            raise GanforgeError(
                f"{path} was trained with networks written in Python; resume it from Python with "
                "ganforge.resume(path, gan=<the same GAN>, data=<the same data>)"
            )
        source = data
        register_in_process_model(path, gan)
    else:
        source = source_from_config(config.data)
        gan = build_model(config.model, source)
    return _run(config, gan, source, data_rng, path, show_progress, resume=True, config_changed=steps is not None)
