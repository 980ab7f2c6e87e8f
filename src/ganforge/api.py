"""The Python entry points: :func:`train` and :func:`resume` (``load`` lives in :mod:`ganforge.runs`).

``train`` takes either a recipe (name, YAML path, or :class:`~ganforge.config.RunConfig`) or a GAN built
in Python from the user's own networks, as in the course notes::

    run = gf.train(gf.GAN(G, D, noise_dim=1, objective="nonsaturating"), data=gf.data.normal(10, 1), steps=3000)
"""

from __future__ import annotations

import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import torch

from ganforge.config import RunConfig, apply_overrides, apply_settings, parse_config
from ganforge.data.base import DataSource
from ganforge.data.registry import source_from_config
from ganforge.errors import GanforgeError, whole_number
from ganforge.gans.base import GANModel
from ganforge.gans.compat import check_batch_size, check_compatible
from ganforge.gans.registry import build_model
from ganforge.recipes import FILE_RECIPE, IMAGE_RECIPE, SEQUENCE_RECIPE, TABLE_RECIPE, is_data_file, resolve_recipe
from ganforge.runs import (
    PYTHON_MODEL,
    Run,
    check_recorded_data,
    check_run_dir,
    localize_saved_data,
    register_in_process_model,
    write_run_files,
)
from ganforge.training import defaults
from ganforge.training.callbacks import build_callbacks
from ganforge.training.checkpoint import remove_checkpoints_after
from ganforge.training.distributed import from_main, is_main_process, shutdown_process_group, start_distributed
from ganforge.training.metrics_log import truncate_after
from ganforge.training.run_lock import hold_run_lock, release_run_lock
from ganforge.training.seeding import seed_everything
from ganforge.training.threads import choose_threads, torch_threads
from ganforge.training.trainer import Trainer


def default_run_dir(name: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{name}-{stamp}"


def fresh_run_dir(out: str | Path | None, name: str) -> Path:
    """The folder a new run of ``name`` writes (``out`` or ``runs/NAME-TIMESTAMP``), refused when it holds something."""
    path = Path(out) if out is not None else default_run_dir(name)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise GanforgeError(
            f"output folder '{path}' already exists and is not empty; choose another out= (--out), "
            f"or continue it with ganforge.resume('{path}') (`ganforge resume {path}`)"
        )
    return path


def _claim_fresh_run_dir(out: str | Path | None, name: str) -> Path:
    """:func:`fresh_run_dir`, then its writer's lock, then the check again under the lock (another
    ``train`` into the same folder may have started between the two)."""
    path = fresh_run_dir(out, name)
    hold_run_lock(path, "train")
    try:
        return fresh_run_dir(path, name)
    except GanforgeError:
        release_run_lock(path)
        raise


def _agreed_run_dir(out: str | Path | None, config: RunConfig) -> Path:
    """The new run folder, locked for this process (training/run_lock.py); under torchrun rank 0 chooses,
    checks and locks it and every rank gets its answer."""
    start_distributed(config)
    try:
        return from_main(lambda: _claim_fresh_run_dir(out, config.name))
    except GanforgeError:
        shutdown_process_group()
        raise


def build_config(
    recipe: str | Path | RunConfig | dict[str, Any] | None,
    overrides: list[str] | None = None,
    settings: dict[str, Any] | None = None,
) -> RunConfig:
    """A validated config from a recipe name, a YAML path, a data file path, a mapping, or a RunConfig;
    then ``overrides`` (``--set`` strings, values read as YAML) and ``settings`` (typed values at dotted
    keys, set as they are)."""
    if isinstance(recipe, RunConfig):
        raw = recipe.model_dump(mode="json")
    elif isinstance(recipe, dict):
        raw = recipe
    else:
        raw = resolve_recipe(recipe)
    overrides = _override_strings(overrides)
    if settings is not None and not isinstance(settings, dict):
        raise GanforgeError(f"settings={settings!r}: give a mapping of dotted keys to values: {{'train.steps': 3}}")
    before = raw.get("data") if isinstance(raw.get("data"), dict) else {}
    raw = apply_overrides(raw, overrides)
    raw = apply_settings(raw, settings or {})
    raw = _drop_keys_of_old_source(before, raw, [*overrides, *(f"{k}=" for k in settings or {})])
    config = parse_config(raw)
    _resolve_data_paths(config)
    return config


def _override_strings(overrides: list[str] | None) -> list[str]:
    """``overrides`` as a list; one string was read letter by letter ("--set 't': expected KEY=VALUE")."""
    if isinstance(overrides, str):
        raise GanforgeError(f"overrides={overrides!r}: give a list of KEY=VALUE strings, e.g. [{overrides!r}]")
    return list(overrides or [])


def _drop_keys_of_old_source(before: dict[str, Any], raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """When an override switches ``data.source``, the old source's settings that the new source does not
    take are dropped (digits-cyclegan's ``transform`` under ``--set data.source=digits``); settings the
    user set in the same overrides are kept, so a wrong one is still reported."""
    import inspect

    from ganforge.data.registry import SOURCES

    data = raw.get("data")
    if not isinstance(data, dict) or data.get("source") == before.get("source") or "source" not in data:
        return raw
    try:
        accepted = set(inspect.signature(SOURCES.get(str(data["source"]))).parameters)
    except GanforgeError:
        return raw  # an unknown source: the builder reports it
    given = {k.partition("=")[0].strip()[len("data."):] for k in overrides if k.startswith("data.")}
    kept = {k: v for k, v in data.items() if k == "source" or k in accepted or k in given}
    return {**raw, "data": kept}


PATH_KEYS = ("path", "images", "labels")  # data settings that name files (the file, image and IDX sources)


def _resolve_data_paths(config: RunConfig) -> None:
    """Relative data paths that exist from here become absolute, so the run folder's config.yaml reads the
    same files when `resume` or `eval` runs from another directory."""
    for key in PATH_KEYS:
        value = config.data.get(key)
        if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
            candidate = Path(value).expanduser()
            if candidate.exists():
                config.data[key] = str(candidate.resolve())


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
    check_batch_size(gan, config.train.batch_size)
    check_compatible(gan, source)
    if source.kind == "images":
        from ganforge.evaluation.image_suite import check_feature_file

        check_feature_file(config.eval.features, config.eval.trust_code)  # before anything is trained
    if config.train.ema is not None and gan.ema_generator is None:
        gan.enable_ema(config.train.ema)
    start_distributed(config)  # under torchrun; only rank 0 writes the run folder, logs and checkpoints
    main = is_main_process()
    threads = choose_threads(sum(p.numel() for p in gan.parameters()), config.train.threads)
    try:
        with torch_threads(threads):
            return _train_and_finish(config, gan, source, data_rng, path, show_progress, resume, config_changed, main)
    finally:
        shutdown_process_group()


def untrained_generator_note(gan: GANModel, steps: int) -> str:
    """A note when the run ends before its generator is ever updated: a text-to-image model pre-trains its
    encoders (``model.encoder_steps``), TimeGAN its embedder, before the generator's phases begin, so a short
    smoke run (``--set train.steps=40``) would end with a generator still at its random start, silently.
    Stages only move forward, so the last step's phases tell (asked of a shallow copy: ``phases`` may record
    the step it was asked for, and training must start as if it had not been asked)."""
    import copy

    last = copy.copy(gan).phases(steps - 1)
    if any(p.name.startswith("generator") or "generator" in p.networks for p in last):
        return ""
    return (
        f"note: train.steps={steps} ends before the generator is trained: the {type(gan).__name__} model first "
        f"pre-trains other networks (its last step runs {', '.join(p.name for p in last)} only), so its samples "
        "will be noise; give more steps (`ganforge config RECIPE` shows the pre-training steps)"
    )


def _train_and_finish(
    config: RunConfig,
    gan: GANModel,
    source: DataSource,
    data_rng: torch.Generator,
    path: Path,
    show_progress: bool,
    resume: bool,
    config_changed: bool,
    main: bool,
) -> Run:
    from ganforge.report.summary import finish_run

    callbacks = build_callbacks(config, source, path) if main else []
    trainer = Trainer(gan, source, config, data_rng, path, callbacks, show_progress=show_progress and main)
    if resume:
        step = trainer.resume_from_latest()
        if step is not None and step > config.train.steps:
            raise GanforgeError(
                f"{path}: train.steps={config.train.steps} is below the step of its newest checkpoint "
                f"({step}); resume with steps={step} (--steps {step}) or more"
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
    note = untrained_generator_note(gan, config.train.steps) if main else ""
    if note:
        print(note, file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    trainer.fit()
    if trainer.gan.finish_training(trainer.source):  # e.g. Pix2Pix's standing statistics, on every rank:
        trainer.save()  # the final checkpoint holds the finished state (saving is a collective under torchrun)
    if not main:
        return Run(path, config, trainer.gan, source, trainer.step)
    return finish_run(trainer, path, time.perf_counter() - t0, untrained=note)


def _save_array_data(source: DataSource, path: Path) -> dict[str, Any]:
    """Write an in-memory ArraySource into the run folder (rank 0) and return the data section that reads
    it back: ``data.npy`` through the ``file`` source, or ``data.npz`` through ``images-npz``."""
    import numpy as np

    folder = path.resolve()
    images = source.kind == "images"
    file = folder / ("data.npz" if images else "data.npy")
    if is_main_process():
        folder.mkdir(parents=True, exist_ok=True)
        x = source.x.numpy()  # type: ignore[attr-defined]
        if images:
            arrays = {"images": x.astype(np.float32)}
            if source.y is not None:  # type: ignore[attr-defined]
                arrays["labels"] = source.y.numpy().astype(np.int64)  # type: ignore[attr-defined]
            np.savez(file, **arrays)
        else:
            np.save(file, x)
    if images:
        return {"source": "images-npz", "path": str(file), "layout": "NCHW"}
    return {"source": "file", "path": str(file)}


TABLE_HINT_COLUMNS = 3  # numeric CSVs this wide may be records (iris, breast_cancer) rather than points


def fitted_file_recipe(
    path: str | Path, overrides: list[str], typed: dict[str, Any] | None = None
) -> tuple[dict[str, Any], str, DataSource]:
    """(raw config, the one line saying what was chosen, the data) of ``ganforge train FILE``: the shipped
    default recipe for the file's kind, fitted to its data (``training/defaults.py``; keys in ``overrides``
    and ``typed`` are the user's and never changed). ``ganforge config FILE`` prints the same config."""
    typed = typed or {}
    raw = apply_settings(apply_overrides(resolve_recipe(path), overrides), typed)
    source = source_from_config(parse_config(raw).data)
    raw, line = defaults.for_user_file(raw, source, [*overrides, *(f"{k}=" for k in typed)])
    if line and raw["data"].get("source") == "file" and Path(path).suffix.lower() == ".csv" and (
        int(source.sample_shape[-1]) >= TABLE_HINT_COLUMNS
    ):  # all-number columns read as points: say how to keep a table's ranges and decimals instead
        line += "; a table of records? --recipe table keeps each column's range, decimals and kind"
    if line:
        raw["description"] = f"{raw.get('description', '')} — {line}".strip(" —")
    return raw, line, source


# gf.train(data=x) with no recipe: the shipped default for x's kind of data, as `ganforge train FILE` chooses
# for a file (the package default, digits-cgan, is a conditional GAN for the built-in digits)
DEFAULT_FOR_KIND = {"numbers": FILE_RECIPE, "points": FILE_RECIPE, "images": IMAGE_RECIPE, "sequences": SEQUENCE_RECIPE}
MODEL_ARGUMENT_TYPES = (GANModel, str, Path, RunConfig, dict)


def _is_table(data: Any) -> bool:
    """A pandas DataFrame (not a Series): trained by ``gf.train(data=df)`` as a table, columns, names and types kept."""
    from ganforge.data.python_objects import is_frame

    return is_frame(data) and hasattr(data, "columns")


def _discard_unstarted_run(path: Path) -> None:
    """After a new run failed before its first log and its first checkpoint (a network that fails at step 1,
    a setting refused at the first step), remove what this call wrote into its folder, which was empty when
    it was claimed: the config and data copy left behind blocked the same ``out=`` ("already exists ...
    continue it with resume"), and the resume it suggested had nothing to continue. A run that logged or
    saved anything is kept for ``diagnose`` and ``resume``."""
    import shutil

    from ganforge.training.checkpoint import CHECKPOINTS_DIR

    if not is_main_process() or not path.is_dir():
        return
    log = path / "metrics.jsonl"
    if any((path / CHECKPOINTS_DIR).glob("*")) or (log.exists() and log.stat().st_size > 0):
        return
    for entry in path.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def labelled_points(source: DataSource, handed_over: bool, user_set: list[str]) -> bool:
    """Whether ``gf.train(data=(x, y) points)`` with no recipe trains a conditional GAN: points the user handed
    over with two or more classes, as labelled pictures are; a built-in mixture's mode labels
    (``gf.data.ring8()``) are not the user's classes, and ``model.conditional`` given by the user wins."""
    return handed_over and source.kind in defaults.LOWDIM_KINDS and (source.num_classes or 0) >= 2 and (
        "model.conditional" not in defaults.user_keys(user_set))


def _source_section(source: DataSource) -> dict[str, Any]:
    """The data section recording a DataSource made in Python: its registered name, the settings it was called
    with (``gf.data.ring8(modes=4, radius=3.0)``: ``checked_python_call`` keeps them) and its scalar info."""
    from ganforge.data.registry import full_settings

    info = {k: v for k, v in source.info.items() if isinstance(v, (int, float, str))}
    # a registered source keeps only its own settings (sines' info also says `features`, which it does not take)
    return full_settings({"source": source.name, **info, **getattr(source, "call_settings", {})})


def _check_model_argument(model: Any, data: Any) -> None:
    """``gf.train``'s first argument is the model; data given there (``gf.train(x)``) is refused in one line
    naming ``data=``, instead of being read as a recipe path (pathlib's "File name too long")."""
    if model is None or isinstance(model, MODEL_ARGUMENT_TYPES):
        return
    from ganforge.data.python_objects import is_data_object

    what = type(model).__name__
    if is_data_object(model) or isinstance(model, DataSource):
        hint = "gf.train(data=x) trains the default GAN for it" if data is None else "give the data as data="
        raise GanforgeError(
            f"gf.train: the first argument is the recipe or GAN, got data (a {what}); {hint}, or "
            "gf.train(\"RECIPE\", x) a recipe on it"
        )
    raise GanforgeError(
        f"gf.train: the first argument is a recipe name, a YAML path, a mapping, a RunConfig or a GAN object; "
        f"got {what} {str(model)[:40]!r}"
    )


def _fitted_default_for(
    source: DataSource, sets: list[str], typed: dict[str, Any], user_set: list[str], given_object: bool
) -> tuple[RunConfig, str]:
    """(config, the one line saying what was fitted) of ``gf.train(data=source)`` with no recipe: the kind's
    shipped default (:data:`DEFAULT_FOR_KIND`), fitted to the data as ``ganforge train FILE`` fits it.
    An in-memory array's data section is replaced by the copy saved in the run folder; a DataSource made
    in Python (``gf.data.normal(10, 1)``) is recorded by its name and settings, so resume and eval rebuild it."""
    from ganforge.recipes import load_recipe

    raw = load_recipe(DEFAULT_FOR_KIND[source.kind])
    raw["name"] = source.name
    if not given_object:
        raw["data"] = _source_section(source)
    raw = apply_settings(apply_overrides(raw, sets), typed)
    raw, line = defaults.for_user_file(raw, source, user_set)  # pictures: nothing fitted, their line comes later
    config = parse_config(raw)
    _resolve_data_paths(config)
    return config, line


def _source_for_model(model: GANModel | None, data: Any, call: str) -> tuple[DataSource, bool]:
    """(the DataSource for ``data`` given from Python with ``model``, whether it is an in-memory object that is
    saved beside the run). A model that prepares its own data (TableGAN: a DataFrame or .csv) reads it itself;
    arrays, tensors, Datasets and DataLoaders become an ArraySource (``data/python_objects.py``)."""
    prepare = getattr(model, "prepare_data", None)
    if prepare is not None:
        return prepare(data), False
    from ganforge.data.python_objects import is_data_object, source_from_object

    if is_data_object(data):
        return source_from_object(data), True
    if not isinstance(data, DataSource):
        raise GanforgeError(
            f"{call}(gan, data=...): give the real data as a DataSource (e.g. gf.data.normal(10, 1)), a numpy "
            "array, a tensor, a torch Dataset or a DataLoader"
        )
    return data, False


def _with_recipe_training(raw: dict[str, Any], recipe: str | None) -> dict[str, Any]:
    """``raw`` with the ``train`` and ``eval`` sections of ``recipe``: ``gf.train(gf.TableGAN(), data=df)``
    then trains as ``ganforge train table.csv`` does (a batch that is a multiple of the PacGAN pack, the
    recipe's steps, optimizer and best-checkpoint choice), not with a bare RunConfig's defaults."""
    if recipe is None:
        return raw
    sections = resolve_recipe(recipe)
    return {**raw, **{key: sections[key] for key in ("train", "eval") if key in sections}}


def _saved_array_data(config: RunConfig, path: Path) -> bool:
    """Whether the run's data section reads the array :func:`_save_array_data` wrote into the run folder."""
    file = config.data.get("path")
    return config.data.get("source") in ("file", "images-npz") and isinstance(file, str) and (
        Path(file).resolve().parent == path.resolve()
    )


def _check_same_data(config: RunConfig, path: Path, source: DataSource, given_object: bool, saved: bool) -> None:
    """``gf.resume(path, gan=..., data=...)`` continues on the data the run was trained on, or says how it
    differs: other settings of a source made in Python (``normal(0, 5)`` for a run of ``normal(10, 1)``)
    trained on silently, and an array for a run of a named source failed as "training state does not fit this
    run ('order')", blaming the checkpoint. An array for a run that saved its array is compared with that
    copy. A table (``TableGAN``) is checked by the model itself."""
    if source.kind == "table":
        return
    import numpy as np

    recorded = {k: v for k, v in config.data.items() if isinstance(v, (int, float, str, list))}
    if saved and given_object:
        file = Path(str(config.data["path"]))
        copy = np.load(file)["images"] if file.suffix == ".npz" else np.load(file)
        x = source.x.numpy()  # type: ignore[attr-defined]
        if copy.shape != x.shape or not np.array_equal(copy.astype(np.float32), x.astype(np.float32)):
            raise GanforgeError(
                f"resume: data= differs from the data the run trained on, saved in {file.name}; leave data= out "
                "to continue on that copy, or train a new run on this data"
            )
        return
    given = {k: v for k, v in _source_section(source).items() if isinstance(v, (int, float, str, list))}
    from ganforge.data.registry import full_settings

    if saved or given != full_settings(recorded):
        def shown(section: dict[str, Any]) -> str:
            name = section.get("source", "?")
            return f"{name}({', '.join(f'{k}={v!r}' for k, v in section.items() if k != 'source')})"

        raise GanforgeError(
            f"resume: data= is {'an array' if given_object else shown(given)}, but the run was trained on "
            f"{shown(recorded)}; give that data again (a run continues on the data it trained on)"
        )


def _announce(line: str, show_progress: bool) -> None:
    """Print the one line that explains the chosen defaults (rank 0 only, not with --quiet)."""
    if line and show_progress and is_main_process():
        print(line, file=sys.stderr, flush=True)


def _path_argument(value: Any, name: str) -> Path:
    """A folder or file argument given from Python as a str or an os.PathLike (out=123 reached pathlib's
    TypeError)."""
    import os

    if not isinstance(value, (str, os.PathLike)):
        raise GanforgeError(f"{name}={value!r}: give a path (a str or pathlib.Path)")
    return Path(value)


def _whole_number(value: Any, name: str) -> int:
    """``steps`` / ``seed`` given from Python as a whole number (``int("abc")``'s ValueError said nothing of
    which argument); the config's own checks (e.g. steps > 0) follow. The rule is ``errors.whole_number``'s:
    steps=1e4 and numpy integers are whole numbers, "3", 2.5 and True are not."""
    number = whole_number(value)
    if number is None:
        raise GanforgeError(f"{name}={value!r}: give a whole number")
    return number


def _use_loader_batch(data: Any, sets: list[str], typed: dict[str, Any], user_set: list[str]) -> None:
    """A DataLoader's ``batch_size`` becomes ``train.batch_size`` (put into ``typed``): its user built it to
    train with batches of that size, and ganforge draws its own batches from the loader's dataset, so the
    recipe's batch would silently replace it. A ``train.batch_size`` the user set (``batch_size=``, or in
    ``overrides``) wins; when the two differ one note says so. ``user_set``: the keys the user chose, as
    ``train`` lists them for :func:`defaults.user_keys`."""
    from ganforge.data.python_objects import loader_batch_size

    batch = loader_batch_size(data)
    key = "train.batch_size"
    keys = defaults.user_keys(user_set)
    if batch is None or "train" in keys:  # a whole train section given: the user's, as it is
        return
    if key not in keys:
        typed[key] = batch
        return
    if key in typed:
        given = str(typed[key])
    else:  # the last override that sets it is the one that counts
        given = next(o.partition("=")[2].strip() for o in reversed(sets) if o.partition("=")[0].strip() == key)
    if given != str(batch) and is_main_process():
        print(f"note: training uses train.batch_size={given} as you set it, not the DataLoader's "
              f"batch_size={batch}", file=sys.stderr, flush=True)


def _names_data_path(data: Any) -> bool:
    """Whether ``data`` names a file or folder of data (a ``Path``; a string ending in .csv/.npy/.npz; a string
    naming an existing folder) rather than a built-in source (``"moons"``, which wins over a folder of that name,
    as a bare recipe name does on the command line)."""
    from ganforge.data.registry import source_names
    from ganforge.recipes import DATA_SUFFIXES

    if isinstance(data, Path):
        return True
    if not isinstance(data, str) or data in source_names():
        return False
    return Path(data).suffix.lower() in DATA_SUFFIXES or Path(data).is_dir()


def train(
    model: GANModel | str | Path | RunConfig | dict[str, Any] | None = None,
    data: Any = None,
    steps: int | None = None,
    *,
    out: str | Path | None = None,
    seed: int | None = None,
    overrides: list[str] | None = None,
    show_progress: bool = True,
    **train_settings: Any,
) -> Run:
    """Train a GAN and return its :class:`~ganforge.runs.Run`.

    ``model`` is a recipe (name, YAML path, mapping, RunConfig) or a GAN object built in Python; None = the
    default for ``data``'s kind: the ``points`` recipe fitted to numbers or points, ``images`` for pictures
    (as ``ganforge train FILE`` chooses), ``TableGAN`` for a DataFrame, else the package's default recipe.
    ``data`` is a DataSource, a numpy array, a tensor, a list, a torch Dataset or a DataLoader (required with
    a GAN object; a DataFrame or .csv path for ``TableGAN``; a DataLoader's ``batch_size`` is the run's
    unless ``batch_size`` is given); with a recipe it is optional and may also be a source name
    (``"moons"``) or a data file or folder (``"series.csv"``, a ``Path``: the recipe trained on it, as
    ``ganforge train series.csv --recipe timeseries-gru``; with no recipe, the file's own default GAN, as
    ``ganforge train series.csv``). ``steps``,
    ``seed`` and other ``train.*`` settings (``batch_size=...``) override the recipe. The run folder is
    ``out`` (default ``runs/NAME-TIMESTAMP``).
    """
    _check_model_argument(model, data)
    if isinstance(data, (int, float)) and not isinstance(data, bool):  # numpy scalars reach the data reader's error
        hint = f"; did you mean steps={data!r}?" if steps is None else ""
        raise GanforgeError(f"gf.train: the second argument is the data, got {data!r}{hint}")
    if out is not None:
        out = _path_argument(out, "out")
    if "recipe" in train_settings:
        raise GanforgeError(
            f"gf.train(recipe=...): the recipe is the first argument, gf.train({train_settings['recipe']!r}, data, ...)"
        )
    if model in (None, TABLE_RECIPE) and _is_table(data):  # a DataFrame: the table GAN, as `ganforge train t.csv`
        from ganforge.gans.tablegan import TableGAN

        model = TableGAN()
    sets = _override_strings(overrides)
    typed: dict[str, Any] = {}  # Python values go into the config as they are (no string round trip)
    if steps is not None:
        typed["train.steps"] = _whole_number(steps, "steps")
    if seed is not None:
        typed["seed"] = _whole_number(seed, "seed")
    typed.update({f"train.{k}": v for k, v in train_settings.items()})
    user_set = [*sets, *(f"{k}=" for k in typed)]  # keys the user chose: fitted defaults never change them
    _use_loader_batch(data, sets, typed, user_set)
    if isinstance(model, GANModel):
        prepare = getattr(model, "prepare_data", None)  # models that build their networks for the data (tables)
        data, given_object = _source_for_model(model, data, "train")
        data_section = _source_section(data)
        model_section: dict[str, Any] = {"type": PYTHON_MODEL}
        section = getattr(model, "config_section", None)  # a built-in model made in Python (TableGAN)
        if section is not None:
            model_section["builtin"] = section()  # what `load` rebuilds it from in another process
        raw: dict[str, Any] = {"name": data.name, "data": data_section, "model": model_section}
        line = ""
        if prepare is None:
            raw, line = defaults.for_user_model(raw, model, data, user_set)
        else:  # a model that prepares its own data (tables) trains as the recipe it ships with
            raw = _with_recipe_training(raw, getattr(model, "default_recipe", None))
        config = build_config(raw, sets, typed)
        _announce(line, show_progress)
        data_rng = seed_everything(config.seed)
        build = getattr(model, "build_for", None)  # networks sized for the data, initialized from the seed
        if build is not None:
            build(data)
        if given_object:  # the data is saved beside the run: fail on a mismatch before anything is written
            check_batch_size(model, config.train.batch_size)
            check_compatible(model, data)
        path = _agreed_run_dir(out, config)
        try:
            if given_object:  # keep the data beside the run, so `ganforge eval` and resume can read it again
                config.data = _save_array_data(data, path)
            register_in_process_model(path, model)
            return _run(config, model, data, data_rng, path, show_progress, resume=False)
        except BaseException:
            _discard_unstarted_run(path)
            raise
        finally:
            release_run_lock(path)
    if _names_data_path(data):  # gf.train("timeseries-gru", data="series.csv"): as `ganforge train FILE --recipe`
        from ganforge.recipes import recipe_with_data_file

        if model is None:
            model, data = str(data), None
        elif isinstance(model, (str, Path)):
            model, data = recipe_with_data_file(model, str(data)), None
    if model is None and isinstance(data, str):  # a source name and no recipe: the default for its kind of data
        data = source_from_config({"source": data})
    if isinstance(data, str):
        typed["data.source"] = data
    given_object = False
    if data is None and isinstance(model, (str, Path)) and is_data_file(model):
        raw, line, source = fitted_file_recipe(model, sets, typed)
        config = parse_config(raw)
        _resolve_data_paths(config)
        _announce(line, show_progress)
        data_rng = seed_everything(config.seed)
    else:
        if data is not None and not isinstance(data, (DataSource, str)):
            from ganforge.data.python_objects import source_from_object

            data = source_from_object(data)  # an array, tensor, Dataset or DataLoader with a recipe's model
            given_object = True
        defaulted = model is None and isinstance(data, DataSource) and data.kind in DEFAULT_FOR_KIND
        if defaulted:
            config, line = _fitted_default_for(data, sets, typed, user_set, given_object)
            _announce(line, show_progress)
        else:
            config = build_config(model, sets, typed)
        data_rng = seed_everything(config.seed)
        source = data if isinstance(data, DataSource) else source_from_config(config.data)
        user_pictures = data is None and isinstance(model, (str, Path)) and Path(model).exists()
        if source.kind == "images" and (user_pictures or defaulted):
            labelled = (source.num_classes or 0) >= 2 and "model.conditional" not in defaults.user_keys(user_set)
            if labelled and config.model.get("conditional") is None:  # class sub-folders, or an .npz's labels
                config.model["conditional"] = True
            line = defaults.image_line(source, config.train.steps, config.train.batch_size)
            if labelled:
                line += (f"; conditional on its {source.num_classes} classes (sample one with --label NAME; "
                         "--set model.conditional=false for one GAN of all pictures)")
            _announce(line, show_progress)
            if user_pictures:
                from ganforge.recipes import captions_hint, pairs_hint

                _announce(pairs_hint(Path(model), list(source.info.get("stored_sizes") or [])), show_progress)
                _announce(captions_hint(Path(model)), show_progress)
        elif labelled_points(source, defaulted and given_object, user_set):
            config.model["conditional"] = True
            _announce(f"conditional on the data's {source.num_classes} classes (sample one with label=K; "
                      "overrides=['model.conditional=false'] for one GAN of all points)", show_progress)
        elif source.kind == "paired-images" and data is None:  # the user's pairs: how they were cropped and resized
            from ganforge.data.pairs import pairs_line

            _announce(pairs_line(source), show_progress)
    gan = build_model(config.model, source)
    if given_object:  # as above: nothing is written for data the model cannot train on
        check_batch_size(gan, config.train.batch_size)
        check_compatible(gan, source)
    path = _agreed_run_dir(out, config)
    try:
        if given_object:  # keep the data beside the run, so `ganforge eval` and resume read the same rows
            config.data = _save_array_data(source, path)
        return _run(config, gan, source, data_rng, path, show_progress, resume=False)
    except BaseException:
        _discard_unstarted_run(path)
        raise
    finally:
        release_run_lock(path)


def resume(
    path: str | Path,
    steps: int | None = None,
    show_progress: bool = True,
    *,
    gan: GANModel | None = None,
    data: Any = None,
    evaluate: bool | None = None,
    trust_code: bool = False,
) -> Run:
    """Continue a run from its newest valid checkpoint (from step 0 with its saved config if none was
    written), up to its ``train.steps`` or a new total ``steps``. On the CPU a run resumed to its planned
    steps equals the uninterrupted run bit-for-bit; a larger ``steps`` under a decaying learning rate
    stretches the schedule from the checkpoint on (a note says so), which a run of that length in one go
    would not have done. Runs built from Python networks need the same ``gan``, and the same
    ``data`` unless it was an array, tensor or Dataset (those are saved in the run folder and read back).
    ``evaluate``: force (True) or skip (False) the end-of-run evaluation of this session. ``trust_code``:
    let the evaluation run a TorchScript / torch.export feature file (the folder's own
    ``eval.trust_code`` is ignored: a run folder never grants trust)."""
    path = check_run_dir(path.path if isinstance(path, Run) else _path_argument(path, "path"))
    steps = None if steps is None else _whole_number(steps, "steps")  # 12.5 was cut to 12 without a word
    import numpy as np

    if isinstance(evaluate, np.bool_):  # numpy's True from a comparison
        evaluate = bool(evaluate)
    if evaluate is not None and not isinstance(evaluate, bool):
        raise GanforgeError(f"resume(evaluate={evaluate!r}): give True, False or None (the run's own eval.enabled)")
    hold_run_lock(path, "resume")  # one writer per run folder; refused here before anything is read
    try:
        return _resume_locked(path, steps, show_progress, gan, data, evaluate, trust_code)
    finally:
        release_run_lock(path)


def stretched_schedule_note(planned: int, steps: int, decay: str) -> str:
    """A resume that raises ``train.steps`` under a decaying learning rate is not the longer run trained in one
    go: the schedule is a function of ``train.steps``, so the steps already taken decayed on the shorter one
    and the rest follow the longer one from the newest checkpoint on (a linear decay rises again there). A run
    stopped early and resumed to its planned steps is the uninterrupted run, bit for bit."""
    if steps == planned or decay not in ("linear", "cosine"):
        return ""
    return (
        f"note: train.steps {'grows' if steps > planned else 'shrinks'} from {planned} to {steps}: the {decay} "
        f"learning-rate decay, planned over "
        f"{planned} steps, follows a {steps}-step schedule from the newest checkpoint on, so this run will not "
        f"equal a {steps}-step run trained in one go"
    )


def check_resumable(path: Path) -> None:
    """Everything a resume needs that training would only read at its end, checked before the first write:
    ``data.json`` (the end-of-run summary loads the run through it), and at least one valid checkpoint
    when damaged ones hold intact weights (restarting from step 0 would delete what could be recovered).
    A failing resume must leave the run folder exactly as it was."""
    import json

    from ganforge.fileio import read_json
    from ganforge.runs import check_description
    from ganforge.training import metrics_log
    from ganforge.training.checkpoint import list_checkpoints, recoverable_damaged

    where = path / "data.json"
    try:
        desc = json.loads(where.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise GanforgeError(
            f"{where} is missing or unreadable; the run folder is damaged (nothing was changed) — restore "
            "data.json or train a new run"
        ) from None
    check_description(desc, str(where))
    metrics_log.read(path / "metrics.jsonl")  # resume truncates and appends to it: a damaged line stops here
    if (path / "summary.json").is_file():
        read_json(path / "summary.json", "summary")  # rewritten at the end: damage is said before any write
    recoverable = recoverable_damaged(path)
    if recoverable and not list_checkpoints(path):
        first, problem = recoverable[0]
        raise GanforgeError(
            f"{path}: no valid checkpoint to resume from, and restarting from step 0 would delete "
            f"{len(recoverable)} damaged one(s) whose weights are intact (first: {first.name}: {problem}); "
            f"nothing was changed — restore a checkpoint, or move {path / 'checkpoints'} aside to retrain"
        )


def _resume_locked(
    path: Path,
    steps: int | None,
    show_progress: bool,
    gan: GANModel | None,
    data: Any,
    evaluate: bool | None,
    trust_code: bool,
) -> Run:
    from ganforge.config import read_yaml

    check_resumable(path)
    raw = read_yaml(path / "config.yaml")
    planned = parse_config(raw, str(path / "config.yaml")).train
    if steps is not None:
        raw = apply_settings(raw, {"train.steps": int(steps)})
    config = parse_config(raw, str(path / "config.yaml"))
    _announce(stretched_schedule_note(planned.steps, config.train.steps, planned.lr_decay), show_progress)
    localize_saved_data(config.data, path)
    config.eval.trust_code = trust_code
    if evaluate is not None:  # --no-eval (saved in config.yaml only if --steps rewrites it)
        config.eval.enabled = evaluate
    data_rng = seed_everything(config.seed)
    if config.model.get("type") == PYTHON_MODEL:
        saved = _saved_array_data(config, path)
        if gan is None or (data is None and not saved):
            raise GanforgeError(
                f"{path} was trained with networks written in Python; resume it from Python with "
                "ganforge.resume(path, gan=<the same GAN>, data=<the same data>)"
            )
        if data is None:
            source = source_from_config(config.data)
        else:
            source, given_object = _source_for_model(gan, data, "resume")
            _check_same_data(config, path, source, given_object, saved)
        build = getattr(gan, "build_for", None)  # an unbuilt gf.TableGAN(): its networks for this data
        if build is not None:
            build(source)
        register_in_process_model(path, gan)
    else:
        check_recorded_data(config.data, path)
        source = source_from_config(config.data)
        gan = build_model(config.model, source)
    return _run(config, gan, source, data_rng, path, show_progress, resume=True, config_changed=steps is not None)
