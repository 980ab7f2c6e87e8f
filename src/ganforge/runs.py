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
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch

from ganforge.config import RunConfig, parse_config, read_yaml
from ganforge.data.base import DataSource, Mixture
from ganforge.data.scaling import Scaler
from ganforge.errors import GanforgeError, did_you_mean, quote, whole_number
from ganforge.fileio import atomic_write_json, atomic_write_text
from ganforge.gans.base import GANModel
from ganforge.gans.rejection import calibrated_threshold, check_rejection_quantile, sample_accepted
from ganforge.registry import Registry
from ganforge.training.checkpoint import check_model_state, checkpoint_dir_name, checkpoint_step

EVALUATORS = Registry("evaluator", "ganforge.evaluation")
"""Evaluators by kind of data: ``fn(run, n, metrics) -> dict``, registered with ``@register_evaluator(kind)``
(``ganforge.evaluation.suite``) in any module of ``ganforge.evaluation``."""

# Real samples that set the discriminator-rejection threshold, drawn with their own seed (not the
# evaluation's) so the threshold does not peek at the samples metrics compare against.
REJECTION_REAL = 10_000
REJECTION_SEED = 7_919
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


_MAX_DIM = 1 << 16  # one axis of a sample; real data is far smaller, and a crafted data.json must not OOM


def _bad_description(where: str, what: str) -> GanforgeError:
    return GanforgeError(f"{where}: {what}; the run folder is damaged, re-create data.json by training again")


def check_description(desc: Any, where: str = "data.json") -> dict[str, Any]:
    """Validate a ``data.json`` record before anything is built from it: a known ``kind``, a
    ``sample_shape`` of 1-4 positive ints (each <= 65536), ``num_classes`` None or a positive int, and a
    mixture of finite numbers. Every problem is one :class:`GanforgeError` line."""
    from typing import get_args

    from ganforge.data.base import DataKind

    if not isinstance(desc, dict):
        raise _bad_description(where, f"holds a {type(desc).__name__}, not a JSON object")
    if desc.get("kind") not in get_args(DataKind):
        raise _bad_description(where, f"'kind' is {desc.get('kind')!r}, not one of {', '.join(get_args(DataKind))}")
    shape = desc.get("sample_shape")
    if (
        not isinstance(shape, list)
        or not 1 <= len(shape) <= 4
        or not all(type(d) is int and 0 < d <= _MAX_DIM for d in shape)
    ):
        raise _bad_description(where, f"'sample_shape' is {shape!r}, not a list of 1 to 4 positive sizes")
    classes = desc.get("num_classes")
    if classes is not None and not (type(classes) is int and 0 < classes <= _MAX_DIM):
        raise _bad_description(where, f"'num_classes' is {classes!r}, not a positive int or null")
    if not isinstance(desc.get("name", ""), str) or not isinstance(desc.get("info", {}), dict):
        raise _bad_description(where, "'name' must be a string and 'info' an object")
    mixture = desc.get("mixture")
    if mixture is not None:
        try:
            means = torch.tensor(mixture["means"], dtype=torch.float32)
            std = float(mixture["std"])
        except (TypeError, ValueError, KeyError, IndexError, RuntimeError):
            raise _bad_description(where, "'mixture' needs 'means' (a table of numbers) and 'std'") from None
        if means.ndim != 2 or not torch.isfinite(means).all() or not std > 0:
            raise _bad_description(where, "'mixture' means must be a finite (K, D) table and std positive")
    return desc


def recorded_kind(path: str | Path) -> str | None:
    """The data kind a run folder's ``data.json`` records (``table``, ``images``...), read without building
    anything: lets a command check its outputs before the model loads. None where it cannot be read (then
    ``load`` reports the damage)."""
    try:
        kind = json.loads((Path(path) / "data.json").read_text(encoding="utf-8")).get("kind")
    except (OSError, ValueError, AttributeError):
        return None
    return kind if isinstance(kind, str) else None


def data_from_description(desc: dict[str, Any]) -> DataSource:
    """A data description (no samples) that is enough to rebuild the model and label its samples."""
    desc = check_description(desc)
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
    if path.is_file():
        raise GanforgeError(f"'{path}' is a file; give the run folder `ganforge train` wrote (--out), not a data file")
    if not path.is_dir():
        raise GanforgeError(
            f"run folder '{path}' does not exist; give the folder `ganforge train` wrote (--out)"
        )
    if not (path / "config.yaml").is_file():
        raise GanforgeError(f"'{path}' is not a ganforge run folder (no config.yaml in it)")
    return path


def register_in_process_model(path: Path, gan: GANModel) -> None:
    _IN_PROCESS_MODELS[str(path.resolve())] = gan


def _plain_folder_name(name: str) -> bool:
    """A name that is one visible path component: no separator, no ``.``/``..`` (no leading dot), no control
    character, no surrounding spaces, at most 255 characters."""
    return (
        0 < len(name) <= 255
        and not name.startswith(".")
        and "/" not in name
        and "\\" not in name
        and all(c.isprintable() for c in name)
        and name.strip() == name
    )


@dataclass(repr=False)
class Run:
    """A trained (or training) run: its config, model with trained weights, and data description."""

    path: Path
    config: RunConfig
    gan: GANModel
    data_info: DataSource  # what the model was built for (kind, shapes, classes, scaler), from data.json: no samples
    step: int = 0
    summary: dict[str, Any] = field(default_factory=dict)
    source: DataSource | None = None  # the live data source, when the run was trained in this session
    _thresholds: dict[float, float] = field(default_factory=dict, repr=False)  # discriminator rejection
    # The held-out split evaluators of translation and super-resolution data read: "test" to report, "val" for
    # the evaluations during training that eval.best chooses on (ganforge.evaluation.selection_split)
    heldout_split: Literal["test", "val"] = "test"

    def __repr__(self) -> str:
        """One line: the dataclass's own repr printed the whole config, summary and data source (pages in a
        notebook)."""
        return (f"Run(path={str(self.path)!r}, step={self.step}, model={type(self.gan).__name__}, "
                f"data={self.data_info.kind} {tuple(self.data_info.sample_shape)})")

    @property
    def scaler(self) -> Scaler:
        return self.data_info.scaler

    @property
    def data(self) -> DataSource:
        """The former name of :attr:`data_info` (it holds the data's description, not the data)."""
        return self.data_info

    @property
    def class_names(self) -> list[str] | None:
        """The name of each class of a conditional run trained on one sub-folder per class (``data.json``'s
        ``info.classes``, label ``k`` is ``class_names[k]``); None when the data named no classes, or when a
        name could not be a folder name of its own (``sample -o folder/`` writes one sub-folder per class, and
        a run folder someone hands you must not write outside the folder asked for)."""
        names = self.data_info.info.get("classes") if isinstance(self.data_info.info, dict) else None
        classes = self.data_info.num_classes
        if not isinstance(names, list) or len(names) != classes or len(set(map(str, names))) != len(names):
            return None
        if not all(isinstance(n, str) and _plain_folder_name(n) for n in names):
            return None
        return names

    def class_index(self, label: str | int) -> int:
        """The label of class ``label``: its number, or its name among :attr:`class_names` (``--label cat``,
        ``run.sample(label="cat")``). A one-line error for a run without classes, or a name or number it does
        not have; it names both ``--label`` and ``label=``, because the command line and Python both reach it."""
        classes = self.data_info.num_classes
        if getattr(self.gan, "num_classes", None) is None:  # classes in the data, but a model that ignores them
            classes = None
        text = str(label).strip()
        if classes is None:
            raise GanforgeError(
                f"--label / label={quote(text)}: {self.path} is not a class-conditional run; drop --label / label="
            )
        names = self.class_names or []
        if text in names:
            return names.index(text)
        try:
            index = int(text)
        except ValueError:
            index = -1
        if not 0 <= index < classes:
            shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
            numbered = names == [str(k) for k in range(classes)]
            known = f"{shown} (or 0-{classes - 1})" if names and not numbered else f"0-{classes - 1}"
            raise GanforgeError(
                f"--label / label={quote(text)}: {self.path} has no such class; its classes are {known}"
            )
        return index

    def sample(
        self,
        n: int | None = None,
        label: int | str | torch.Tensor | None = None,
        *,
        rows: int | None = None,
        reject: float | None = None,
        **options: Any,
    ) -> Any:
        """``n`` generated samples in the data's own units (EMA generator when enabled). Tables: a pandas
        DataFrame of ``rows`` (or ``n``; 1000 when neither is given) rows; ``where="col=value"`` gives conditional
        rows. ``label``: a class number, labels per sample (a list, numpy array or tensor), or a class name (or a
        list of them) of a run trained on one sub-folder per class.

        ``reject`` (default: the config's ``sample.discriminator_rejection``) keeps only samples the
        discriminator scores at or above that quantile of its scores on real data (gans/rejection.py).

        Counts take ints, numpy / torch integer scalars and whole floats (:func:`ganforge.errors.whole_number`);
        ``0``, ``2.5`` and ``"4"`` are refused, on tables as everywhere (a table's ``0`` gave 1000 rows and
        ``2.5`` two). A misspelled keyword (``n_samples=``, ``row=``) is one line with a did-you-mean."""
        if self.data.kind == "table":
            return self._sample_table(n, label, rows, reject, options)
        if rows is not None:
            raise GanforgeError(
                f"sample(rows={quote(rows)}): rows= is for table runs; this is a {self.data.kind} run, give the "
                "count as n, e.g. run.sample(16)"
            )
        if n is None:
            raise _missing_count(options, ["n", "label", "reject", *_sampling_keywords(self.gan)], "n")
        n = _check_count(n, "sample(n)")
        label = self._class_labels(label)
        note = getattr(self.gan, "note_training_captions", None)  # text-to-image without a sentence: say what it drew
        if note is not None and label is None and options.get("text") is None:
            note()
        quantile = (self.config.sample.discriminator_rejection if reject is None
                    else check_rejection_quantile(reject, "reject="))
        if quantile:
            x = sample_accepted(self.gan, n, self.rejection_threshold(quantile), label=label, **options)
        else:
            x = self.gan.sample(n, label=label, **options)
        return self.scaler.to_data(x).cpu()

    def _class_labels(self, label: Any) -> Any:
        """Class names (one, or a list of them) as class numbers; anything else is the model's to check
        (``GANModel.class_labels``: lists, arrays, tensors, whole numbers)."""
        if isinstance(label, str):
            return self.class_index(label)
        if isinstance(label, (list, tuple)) and label and all(isinstance(x, str) for x in label):
            return torch.tensor([self.class_index(x) for x in label], dtype=torch.long)
        return label

    def _sample_table(self, n: Any, label: Any, rows: Any, reject: Any, options: dict[str, Any]) -> Any:
        """:meth:`sample` of a table run: ``n`` or ``rows`` (the same count when both are given), ``where=``
        conditions; a table has no class labels and no discriminator rejection."""
        sample_table = getattr(self.gan, "sample_table", None)
        if sample_table is None:
            raise GanforgeError(f"{self.path}: data.json says table data but the model makes no tables; "
                                "the run folder is damaged")
        if reject:
            raise GanforgeError("--reject / reject= / sample.discriminator_rejection: table runs do not support it; "
                                "drop it")
        if label is not None:
            raise GanforgeError(
                f"sample(label={quote(label)}): a table run has no class labels; condition rows on a column's "
                "value with where=\"column=value\" (--where), e.g. run.sample(rows=100, where=\"sex=F\")"
            )
        known = ["n", "rows", "where", "batch_size"]
        for key in options:
            if key not in known:
                raise GanforgeError(
                    f"sample({key}=...): a table run takes no such argument{did_you_mean(key, known)}; it takes "
                    "rows= (or n), where= and batch_size="
                )
        count_n = None if n is None else _check_count(n, "sample(n)", "rows")
        count_rows = None if rows is None else _check_count(rows, "sample(rows)", "rows")
        if count_n is not None and count_rows is not None and count_n != count_rows:
            raise GanforgeError(f"sample({count_n}, rows={count_rows}): two different counts; give one of n and rows")
        return sample_table(count_rows or count_n or 1000, **options)

    def rejection_threshold(self, quantile: float) -> float:
        """D's ``quantile`` on up to ``REJECTION_REAL`` real samples, capped at D's median on as many
        generated ones (gans/rejection.py); computed once per loaded run, on its own random stream (the
        samples drawn afterwards are those the same seed gives without rejection). ``quantile`` is checked
        first (``"0.1"`` reached a raw TypeError)."""
        quantile = check_rejection_quantile(quantile, "rejection_threshold(quantile)")
        if quantile not in self._thresholds:
            real = self.real_data().real(REJECTION_REAL, seed=REJECTION_SEED)
            threshold, capped = calibrated_threshold(self.gan, self.scaler.to_model(real.x), real.y, quantile,
                                                     seed=REJECTION_SEED)
            if capped:
                print(
                    f"note: discriminator rejection capped at half of the generated samples (D ranks most of them "
                    f"below {quantile:g} of real data: the model is still far from it, step {self.step})",
                    file=sys.stderr,
                )
            self._thresholds[quantile] = threshold
        return self._thresholds[quantile]

    def real_data(self) -> DataSource:
        """The run's real data source (re-read from its config), scaled as in training."""
        from ganforge.data.registry import source_from_config

        if self.source is not None:
            return self.source
        self.check_recorded_data()
        source = source_from_config(self.config.data)
        source.scaler = self.scaler
        return source

    def check_recorded_data(self) -> None:
        """:func:`check_recorded_data` of this run."""
        check_recorded_data(self.config.data, self.path)

    def evaluate(self, n: int | None = None, metrics: list[str] | str | None = None) -> dict[str, Any]:
        """The metrics of the evaluator registered for this run's kind of data (see ``EVALUATORS``); ``n``
        generated samples (default ``eval.n``), ``metrics`` a name or a list of names (default: all that apply)."""
        if n is not None:
            n = _check_count(n, "evaluate(n)")
        if isinstance(metrics, str):  # one name, not its letters
            metrics = [metrics]
        if metrics is not None and not (
            isinstance(metrics, (list, tuple)) and all(isinstance(m, str) for m in metrics)
        ):  # metrics=5 reached "'int' object is not iterable" in the evaluator
            raise GanforgeError(
                f"evaluate(metrics={quote(metrics)}): give a metric name or a list of names "
                "(metrics=['name', ...]), or leave it out for all that apply"
            )
        return evaluate_run(self, self.config.eval.n if n is None else n, metrics or self.config.eval.metrics)


def _check_count(n: Any, where: str, unit: str = "samples") -> int:
    """A count of samples given from Python, as an int: a positive whole number (0 and -1 reached torch's shape
    errors, ``"10"`` a TypeError deep in sampling). numpy / torch integer scalars and whole floats count
    (:func:`ganforge.errors.whole_number`, the rule ``gf.train(steps=)`` follows): ``len(x) / 2`` or
    ``np.int64`` from an array are counts, and were refused with "give a positive whole number"."""
    count = whole_number(n)
    if count is None or count < 1:
        raise GanforgeError(f"{where}: give a positive whole number of {unit}, got {quote(n)}")
    return count


# Keywords people write for the number of samples: each is "did you mean 'n'?" (difflib finds no match for most)
_COUNT_WORDS = {"n_samples", "num_samples", "nsamples", "num", "number", "count", "samples", "size", "n_rows",
                "num_rows", "nrows", "N"}


def _sampling_keywords(gan: GANModel) -> list[str]:
    """The sampling options ``gan.sample`` takes (``truncation``, ``text``...): what a misspelling is compared to."""
    import inspect

    params = inspect.signature(gan.generate).parameters
    named = [k for k, p in params.items() if k not in ("z", "y") and p.kind is not p.VAR_KEYWORD]
    return named + list(getattr(gan, "sampling_options_of_sample", ()))


def _missing_count(options: dict[str, Any], known: list[str], count: str) -> GanforgeError:
    """``sample()`` without ``n``: one line naming the keyword given instead (``n_samples=5``), with a
    did-you-mean; a bare ``TypeError`` said neither which keyword nor how to fix it."""
    example = "run.sample(16)" if count == "n" else "run.sample(rows=100)"
    for key in options:
        if key not in known:
            hint = f" (did you mean '{count}'?)" if key in _COUNT_WORDS else did_you_mean(key, known)
            return GanforgeError(f"sample({key}=...): no such argument{hint}; give the number of samples as "
                                 f"{count}=, e.g. {example}")
    return GanforgeError(f"sample(): give the number of samples as {count}=, e.g. {example}")


SAVED_DATA_FILES = ("data.npy", "data.npz")  # what gf.train writes into a run folder for in-memory data


def localize_saved_data(data: dict[str, Any], run_path: Path) -> None:
    """Point ``data.path`` at the run folder's own copy of the data ``gf.train`` saved into it (``data.npy`` /
    ``data.npz``), when the recorded path is that file of another folder: the path is stored absolute, so a run
    folder copied or moved elsewhere read the original's data, or failed once the original was gone."""
    recorded = data.get("path")
    if not isinstance(recorded, str) or Path(recorded).name not in SAVED_DATA_FILES:
        return
    own = Path(run_path) / Path(recorded).name
    original = Path(recorded).parent
    if own.is_file() and original.resolve() != Path(run_path).resolve() and (
        not Path(recorded).exists() or (original / "config.yaml").is_file()
    ):
        data["path"] = str(own.resolve())


def check_recorded_data(data: dict[str, Any], run_path: Path) -> None:
    """A one-line error when a data file or folder a run trained on (``data.path``, ``path_a``, ``path_b``) is
    gone: the source's own message ("give a folder ...") does not say that the path is the one the run recorded,
    nor where to point it elsewhere."""
    for key in ("path", "path_a", "path_b"):
        value = data.get(key)
        if isinstance(value, str) and value and not Path(value).expanduser().exists():
            raise GanforgeError(
                f"{run_path}: its training data '{value}' is gone (data.{key} in {Path(run_path) / 'config.yaml'}); "
                "put the data back there, or edit that line to where it is now"
            )


def evaluate_run(run: Run, n: int, metrics: list[str]) -> dict[str, Any]:
    """Metrics of ``run`` on ``n`` generated samples (names in ``metrics``; empty = all that apply)."""
    evaluator = EVALUATORS.get(run.data_info.kind, None)
    if evaluator is None:
        raise GanforgeError(f"no evaluation is available for {run.data_info.kind} data yet")
    return evaluator(run, n, list(metrics))


def load(
    path: str | Path, gan: GANModel | None = None, checkpoint: str | Path | None = None, *, trust_code: bool = False
) -> Run:
    """Load a run folder: rebuild its model from ``config.yaml`` and load the newest valid checkpoint
    (or ``checkpoint``). Runs whose networks were written in Python are rebuilt from ``gan`` (or, in
    the session that trained them, from the architecture kept in memory); their weights always come
    from the checkpoint file.

    ``trust_code`` (``eval --trust-code``) lets the evaluation run a TorchScript / torch.export feature
    file the config names; the folder's own ``eval.trust_code`` is ignored, because opening a run folder
    someone hands you must never run their code (:mod:`ganforge.programs`).

    ``path`` may be a :class:`Run` (its folder is loaded again); a wrong type of ``path``, ``gan`` or
    ``checkpoint`` is one line naming the argument (``load(path, "runs/x")`` put the string in ``gan=`` and
    failed far inside with an AttributeError; ``checkpoint=20`` reached pathlib's TypeError)."""
    from ganforge.gans.registry import build_model
    from ganforge.training.checkpoint import damage_report, latest_checkpoint, load_checkpoint

    path, gan, checkpoint = _load_arguments(path, gan, checkpoint, trust_code)
    path = check_run_dir(path)
    config = parse_config(read_yaml(path / "config.yaml"), str(path / "config.yaml"))
    localize_saved_data(config.data, path)
    config.eval.trust_code = trust_code  # never from the folder: only the caller can trust code
    try:
        desc = json.loads((path / "data.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise GanforgeError(
            f"{path}: data.json is missing or unreadable; the run folder is incomplete"
        ) from None
    data = data_from_description(check_description(desc, str(path / "data.json")))
    model_type = config.model.get("type")
    exported = None
    if gan is None and model_type == PYTHON_MODEL:
        gan = _IN_PROCESS_MODELS.get(str(path.resolve()))
        builtin = config.model.get("builtin")  # a built-in model the user made in Python (gf.TableGAN())
        if gan is None and isinstance(builtin, dict):
            torch.manual_seed(config.seed)
            gan = build_model(builtin, data)
        if gan is None:
            from ganforge.gans.exported import load_exported

            exported = load_exported(path)  # the sampling path saved by torch.export (gans/exported.py)
            if exported is None:
                raise GanforgeError(
                    f"{path} was trained with networks written in Python and has no generator.pt2; load it "
                    "with ganforge.load(path, gan=<the same GAN object, untrained is fine>)"
                )
    if exported is not None:
        return _load_exported_run(path, config, data, exported, checkpoint)
    if gan is None:
        torch.manual_seed(config.seed)
        gan = build_model(config.model, data)
    build_for = getattr(gan, "build_for", None)  # an unbuilt gf.TableGAN(): its networks from data.json
    if build_for is not None:
        build_for(data)
    if config.train.ema is not None and gan.ema_generator is None:
        gan.enable_ema(config.train.ema)
    if checkpoint is None:
        info = latest_checkpoint(path)
        if info is None:
            raise GanforgeError(
                f"{path}: no complete checkpoint{damage_report(path) or ' yet'}; train longer or "
                f"`ganforge resume {path}`"
            )
        checkpoint = info.path
    state, meta = load_checkpoint(checkpoint)
    step = checkpoint_step(meta, checkpoint)
    check_model_state(state["model"], gan, checkpoint)
    scaler = scaler_from_state(state.get("scaler"), checkpoint)
    gan.load_state_dict(state["model"])
    data.scaler = scaler
    gan.eval()
    summary = {}
    if (path / "summary.json").is_file():
        try:
            summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
        except (ValueError, OSError):
            summary = {}
        summary = summary if isinstance(summary, dict) else {}
    choice = summary.get("sampling_generator")
    if isinstance(choice, dict) and choice.get("used") == "raw":
        gan.sample_with_ema = False  # the end-of-run check found the EMA generator worse (evaluation/ema_choice.py)
    return Run(path, config, gan, data, step, summary)


def _load_arguments(path: Any, gan: Any, checkpoint: Any, trust_code: Any) -> tuple[Path, Any, Any]:
    """:func:`load`'s arguments checked for their types: a run folder (or a :class:`Run`), a ``GANModel`` or
    None, a checkpoint folder or None, a bool."""
    import os

    if isinstance(path, Run):
        path = path.path
    if not isinstance(path, (str, os.PathLike)):
        raise GanforgeError(
            f"load(path={quote(path)}): give the run folder as a str or pathlib.Path, e.g. ganforge.load('runs/x')"
        )
    if gan is not None and not isinstance(gan, GANModel):
        if isinstance(gan, (str, os.PathLike)):
            fix = "load takes one run folder; a checkpoint folder goes in checkpoint="
        else:
            fix = "give the GAN object the run was trained with (untrained is fine), or leave it out"
        raise GanforgeError(f"load(gan={quote(gan)}): gan= takes a ganforge GAN model, not a {type(gan).__name__}; "
                            f"{fix}")
    if checkpoint is not None and not isinstance(checkpoint, (str, os.PathLike)):
        step = whole_number(checkpoint)
        example = f"{Path(path) / 'checkpoints' / checkpoint_dir_name(step if step is not None and step >= 0 else 0)}"
        raise GanforgeError(
            f"load(checkpoint={quote(checkpoint)}): give a checkpoint folder as a str or pathlib.Path, e.g. "
            f"checkpoint='{example}', or leave it out for the newest"
        )
    if not isinstance(trust_code, bool):
        raise GanforgeError(f"load(trust_code={quote(trust_code)}): give True or False")
    return Path(path), gan, checkpoint


def _read_summary(path: Path) -> dict[str, Any]:
    try:
        summary = json.loads((path / "summary.json").read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return {}
    return summary if isinstance(summary, dict) else {}


def _load_exported_run(
    path: Path, config: RunConfig, data: DataSource, gan: GANModel, checkpoint: str | Path | None
) -> Run:
    """A Python-networks run sampled through its exported generator: the weights are in generator.pt2;
    the checkpoint gives the step and the data scaler."""
    from ganforge.training.checkpoint import damage_report, latest_checkpoint, load_checkpoint

    if checkpoint is None:
        info = latest_checkpoint(path)
        if info is None:
            raise GanforgeError(
                f"{path}: no complete checkpoint{damage_report(path) or ' yet'}; train longer or resume it from Python"
            )
        checkpoint = info.path
    state, meta = load_checkpoint(checkpoint)
    data.scaler = scaler_from_state(state.get("scaler"), checkpoint)
    gan.eval()
    return Run(path, config, gan, data, checkpoint_step(meta, checkpoint), _read_summary(path))


def scaler_from_state(state: Any, where: str | Path) -> Scaler:
    """The checkpoint's data scaler, validated: finite ``shift`` and non-zero finite ``scale`` tensors."""
    try:
        scaler = Scaler.from_state_dict(state)
        ok = all(
            isinstance(t, torch.Tensor) and t.is_floating_point() and bool(torch.isfinite(t).all())
            for t in (scaler.shift, scaler.scale)
        ) and bool((scaler.scale != 0).all())
    except (TypeError, KeyError, AttributeError, ValueError, RuntimeError):
        ok = False
    if not ok:
        raise GanforgeError(f"{where}: the data scaler in the checkpoint is missing or damaged")
    return scaler


def write_summary(path: Path, summary: dict[str, Any]) -> None:
    atomic_write_json(path / "summary.json", summary)
