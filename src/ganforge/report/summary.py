"""End of a run: final evaluation, plots and ``summary.json``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ganforge.log_keys import FINDINGS
from ganforge.report.plots import plot_discriminator, plot_losses, plot_real_vs_fake
from ganforge.report.readout import is_measured
from ganforge.runs import Run, load, write_summary
from ganforge.training import metrics_log

if TYPE_CHECKING:
    from ganforge.training.trainer import Trainer

EVAL_SEED = 0  # torch seed of the end-of-run evaluation; `ganforge eval --seed` defaults to the same


def sample_pictures(run: Run, plots: Path) -> dict[str, str]:
    """The kind-specific picture of generated samples (2-D scatter, 1-D histogram, image grid...)."""
    from ganforge.report import pictures

    return pictures.save_sample_pictures(run, plots)


def findings_of(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for r in records for f in r.get(FINDINGS, [])]


def finish_run(trainer: Trainer, path: Path, seconds: float, untrained: str = "") -> Run:
    """Evaluate the trained model, draw the plots, write ``summary.json``; return the loaded run. ``untrained``:
    the note that the run ended before its generator was trained (kept as ``untrained_generator``, which
    ``ganforge diagnose`` reads: its losses alone look calm)."""
    from ganforge.runs import _IN_PROCESS_MODELS

    callback_summary = trainer.finish()
    gan = _IN_PROCESS_MODELS.get(str(path.resolve()))
    state = torch.get_rng_state()
    run = load(path, gan=gan if gan is not None else trainer.gan, trust_code=trainer.config.eval.trust_code)
    run.source = trainer.source
    from ganforge.evaluation.ema_choice import choose_sampling_generator

    ema_choice = choose_sampling_generator(run.gan, trainer.source)
    records = metrics_log.read(path / "metrics.jsonl")
    plots = path / "plots"
    plots.mkdir(exist_ok=True)
    probability = bool(getattr(getattr(run.gan, "objective", None), "probability_outputs", True))
    files = {
        "losses": str(plot_losses(records, plots / "losses.png")),
        "discriminator": str(plot_discriminator(records, plots / "discriminator.png", probability)),
    }
    files.update(sample_pictures(run, plots))
    from ganforge.report.end_eval import run_end_evaluation

    torch.manual_seed(EVAL_SEED)  # what `ganforge eval RUN` (--seed 0) draws, so both print the same numbers
    wanted = trainer.config.eval  # this session's: `resume --no-eval` sets it without rewriting config.yaml
    evaluation = run_end_evaluation(
        run.evaluate, wanted.enabled, run.data_info.kind, seconds, wanted.n, trainer.show_progress,
        wanted.metrics, str(path),
    )
    if is_measured(evaluation):  # a record may also say why one metric was skipped (intra-FID, R-precision)
        evaluation = evaluation_record(evaluation, EVAL_SEED, run.step)
    else:
        why = str(evaluation.get("skipped", "nothing was measured"))
        evaluation = kept_evaluation(path / "summary.json", run.step, why) or evaluation
    torch.set_rng_state(state)
    last = trainer.last_record
    summary = {
        "name": run.config.name,
        "steps": trainer.step,
        "train_seconds": round(trainer.elapsed, 2),
        "this_session_seconds": round(seconds, 2),
        "final": {k: v for k, v in last.items() if isinstance(v, (int, float))},
        "evaluation": evaluation,
        "diagnostics": findings_of(records),
        "plots": files,
        "environment": environment(),
        **callback_summary,
    }
    if ema_choice is not None:
        summary["sampling_generator"] = ema_choice
    if untrained:
        summary["untrained_generator"] = untrained
    from ganforge.runs import PYTHON_MODEL

    model = run.config.model
    if model.get("type") == PYTHON_MODEL and "builtin" not in model:  # the user's classes are not importable elsewhere
        from ganforge.gans.exported import export_generator

        summary["exported_generator"] = export_generator(run.gan, path)
    write_summary(path, summary)
    run.summary = summary
    write_run_report(run, path)
    return run


def environment() -> dict[str, Any]:
    """What a run's numbers depend on besides its config.yaml: the versions of the packages that compute
    them, the Python and the platform, and the torch threads used (config.yaml says ``threads: null`` when
    they were chosen from the machine, and convolutions' float sums depend on the thread count)."""
    import importlib.metadata
    import platform

    versions = {}
    for package in ("ganforge", "torch", "numpy", "scikit-learn"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {**versions, "python": platform.python_version(), "platform": platform.platform(terse=True),
            "threads": torch.get_num_threads()}


def evaluation_record(evaluation: dict[str, Any], seed: int, step: int) -> dict[str, Any]:
    """What ``summary.json`` keeps under ``evaluation``: the evaluator's result with the seed it drew with and
    the checkpoint step it measured, so a later ``ganforge eval`` can tell whether its numbers should match.
    The end-of-run evaluation and :func:`store_evaluation` both write this one format."""
    return {**evaluation, "seed": seed, "step": step}


def kept_evaluation(file: Path, step: int, reason: str) -> dict[str, Any] | None:
    """The measured evaluation of an earlier checkpoint that ``file`` (the run's ``summary.json`` before a
    ``resume``) holds, marked as of that step (``OUTDATED``: a sentence saying so and why this session's was
    skipped), or None when it holds none. A resume too short to evaluate (or ``--no-eval``) replaced numbers
    measured earlier, often by ``ganforge eval``, with "skipped"; they are kept, and are never presented as
    the numbers of the new step."""
    from ganforge.errors import GanforgeError
    from ganforge.fileio import read_json
    from ganforge.report.readout import OUTDATED

    if not file.is_file():
        return None
    try:
        summary = read_json(file, "summary")
    except GanforgeError:  # a damaged summary is rewritten by this run; nothing in it to keep
        return None
    earlier = summary.get("evaluation") if isinstance(summary, dict) else None
    if not isinstance(earlier, dict) or not is_measured(earlier):
        return None
    measured_at = earlier.get("step", summary.get("steps"))  # a record written before it named its step
    if type(measured_at) is not int or measured_at == step:
        return None  # of no known step, or of this one: nothing tells the reader it is not of this checkpoint
    note = (f"these numbers are of checkpoint step {measured_at}, measured before the run trained on to step {step}, "
            f"whose evaluation was skipped: {reason}")
    return {**earlier, "step": measured_at, OUTDATED: note}


def store_evaluation(run: Run, evaluation: dict[str, Any], *, replace: bool = False) -> str:
    """Keep a later evaluation (``ganforge eval RUN``) in the run folder, as the end-of-run one would have been:
    ``summary.json``'s ``evaluation`` (:func:`evaluation_record`), written atomically, then ``report.html``
    rewritten from it, so the report and ``ganforge diagnose`` show numbers instead of "evaluation skipped".

    Stored only when the summary holds no measured evaluation of its step (skipped, none, or an earlier step's
    kept by a resume too short to evaluate: :func:`kept_evaluation`), unless ``replace``; a stored one is the
    record of the run and is not changed behind the user's back. Nothing is written for a run that
    has not finished (no ``summary.json``: ``resume`` reads its presence as "finished"), a summary of another
    checkpoint step, a damaged ``summary.json`` (left as it is), or while a train or resume holds the run's
    lock. Returns one line for the user ("" when an existing evaluation was kept); never raises for a folder
    it cannot write (read-only, full disk): the results were printed, and the note says why they were not kept.
    """
    from ganforge.errors import GanforgeError
    from ganforge.fileio import atomic_write_json, read_json
    from ganforge.report.readout import is_outdated
    from ganforge.training.run_lock import hold_run_lock, release_run_lock

    path = run.path
    file = path / "summary.json"
    if not file.is_file():
        return f"note: not stored in {path}: it has no summary.json (the run has not finished)"
    try:
        hold_run_lock(path, "store an evaluation in it")
    except GanforgeError as err:  # another writer holds it, or the folder cannot be opened
        return f"note: not stored: {err}"
    try:
        try:
            summary = read_json(file, "summary")
        except GanforgeError as err:
            return f"note: not stored: {err}"
        if not isinstance(summary, dict):
            return f"note: not stored: {file} holds a {type(summary).__name__}, not an object; left as it is"
        had = is_measured(summary.get("evaluation"))
        outdated = had and is_outdated(summary["evaluation"])  # an earlier step's, kept by a skipped resume
        if had and not replace and not outdated:
            return ""
        replaced = f"replaced the evaluation of step {summary['evaluation'].get('step')}" if outdated else (
            "replaced the evaluation" if had else "stored")
        steps = summary.get("steps")
        if type(steps) is int and steps != run.step:
            return (
                f"note: not stored in {file}: it describes step {steps} and this evaluation measured checkpoint "
                f"step {run.step}"
            )
        summary["evaluation"] = evaluation
        try:
            atomic_write_json(file, summary)
        except OSError as err:  # read-only folder, full disk: the old file is untouched (atomic write)
            return f"note: not stored in {file} ({err.strerror or err}); the results above are complete"
        except (TypeError, ValueError) as err:  # a value JSON cannot hold: nothing was written
            return f"note: not stored in {file} ({err}); the results above are complete"
        run.summary = summary
        done = f"{replaced} in {file}"
        state = torch.get_rng_state()
        try:
            from ganforge.report.html import write_report

            write_report(path, run)
        except Exception as err:  # noqa: BLE001 - the evaluation is stored; the page can be written later
            first = (str(err).splitlines() or [type(err).__name__])[0][:160]
            return (
                f"{done}; `ganforge diagnose {path}` shows it, report.html was not rewritten ({first}): "
                f"`ganforge report {path}` writes it"
            )
        finally:
            torch.set_rng_state(state)
        return f"{done}; report.html and `ganforge diagnose {path}` show it"
    finally:
        release_run_lock(path)


def write_run_report(run: Run, path: Path) -> None:
    """``report.html`` at the end of a run; a failure there is a warning, never a lost run."""
    import warnings

    from ganforge.report.html import write_report

    state = torch.get_rng_state()
    try:
        write_report(path, run)
    except Exception as err:  # noqa: BLE001 - the run itself is complete and saved
        warnings.warn(f"{path}: report.html was not written ({err}); write it with `ganforge report {path}`",
                      stacklevel=2)
    finally:
        torch.set_rng_state(state)


__all__ = ["finish_run", "plot_real_vs_fake"]
