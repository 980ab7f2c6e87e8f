"""End of a run: final evaluation, plots and ``summary.json``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ganforge.log_keys import FINDINGS
from ganforge.report.plots import plot_discriminator, plot_losses, plot_real_vs_fake
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


def finish_run(trainer: Trainer, path: Path, seconds: float) -> Run:
    """Evaluate the trained model, draw the plots, write ``summary.json``; return the loaded run."""
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
    evaluation = run_end_evaluation(
        run.evaluate, run.config.eval.enabled, run.data_info.kind, seconds, run.config.eval.n, trainer.show_progress,
        run.config.eval.metrics,
    )
    if "skipped" not in evaluation:
        evaluation = {**evaluation, "seed": EVAL_SEED, "step": run.step}
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
        **callback_summary,
    }
    if ema_choice is not None:
        summary["sampling_generator"] = ema_choice
    from ganforge.runs import PYTHON_MODEL

    model = run.config.model
    if model.get("type") == PYTHON_MODEL and "builtin" not in model:  # the user's classes are not importable elsewhere
        from ganforge.gans.exported import export_generator

        summary["exported_generator"] = export_generator(run.gan, path)
    write_summary(path, summary)
    run.summary = summary
    write_run_report(run, path)
    return run


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
