"""``ganforge diagnose RUN``: what went wrong in a run, when, why, and what to try.

It reads the run's ``metrics.jsonl`` (every logged step, with the monitors' ``findings`` and ``resolved``
events) and prints:

1. the **timeline**: each finding at the step it started, with its explanation and remedy, and the step
   it stopped holding (or "still at the end");
2. the **vital signs** at about ten evenly spaced logged steps: losses, D(x), D(G(z)), gradient norms,
   and whatever the sample monitors measured (modes covered, high-quality fraction, duplicates,
   diversity), so a reader can see the finding happen in the numbers;
3. the **verdict**: which problems were still present at the end, and how close the samples are to the
   data: each headline metric of the run's evaluation beside its real floor (the same metric between two
   real samples), so calm training that produced the wrong distribution is not called healthy.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer

from ganforge.cli import register_command
from ganforge.errors import GanforgeError
from ganforge.log_keys import D_FAKE, D_REAL, GRAD_NORM_D, GRAD_NORM_G, LOSS_D, LOSS_G
from ganforge.report.timeline import resolution_key as _resolution_key
from ganforge.report.timeline import timeline

VITALS = (
    (LOSS_D, "loss_D"),
    (LOSS_G, "loss_G"),
    (D_REAL, "D(x)"),
    (D_FAKE, "D(G(z))"),
    (GRAD_NORM_D, "|grad D|"),
    (GRAD_NORM_G, "|grad G|"),
    ("modes/modes", "modes"),
    ("modes/high_quality", "HQ"),
    ("duplicates", "dup"),
    ("diversity", "divers."),
)


RAW_SCORE_LABELS = {"d_real": "score(x)", "d_fake": "score(G(z))"}


def outputs_are_probabilities(path: Path) -> bool:
    """Whether the run's objective reads D's output as a probability (hinge / Wasserstein critics: no)."""
    from ganforge.config import read_yaml
    from ganforge.errors import GanforgeError
    from ganforge.objectives import get_objective

    try:
        model = read_yaml(path / "config.yaml").get("model") or {}
        name = model.get("objective") if isinstance(model, dict) else None
        return True if not isinstance(name, str) else bool(get_objective(name).probability_outputs)
    except (GanforgeError, AttributeError):
        return True


def vital_rows(records: list[dict[str, Any]], rows: int = 10) -> list[dict[str, Any]]:
    """About ``rows`` records evenly spaced over the run (always the last), carrying forward the latest
    value of the sample monitors' measurements, which are only taken every few hundred steps."""
    if not records:
        return []
    latest: dict[str, Any] = {}
    carried = []
    for record in records:
        latest.update({k: v for k, v in record.items() if k.startswith("modes/") or k in ("duplicates", "diversity")})
        carried.append({**record, **{k: v for k, v in latest.items() if k not in record}})
    stride = max(1, math.ceil(len(carried) / rows))
    picked = carried[stride - 1 :: stride]
    if picked[-1] is not carried[-1]:
        picked.append(carried[-1])
    return picked


def _cell(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "-"
    if isinstance(value, int) or float(value).is_integer() and abs(value) < 1e6:
        return f"{int(value)}"
    return f"{value:.3g}"


def format_report(
    path: Path, records: list[dict[str, Any]], summary: dict[str, Any] | None = None, probability: bool = True
) -> str:
    """The text ``ganforge diagnose`` prints for a run's records (``probability=False``: D's outputs are raw
    critic scores, labelled ``score(x)`` / ``score(G(z))``)."""
    events = timeline(records)
    last = records[-1]["step"] if records else 0
    lines = [f"{path}: {len(records)} logged steps up to step {last}, {len(events)} finding(s)", ""]
    lines.append("timeline")
    if not events:
        lines.append("  no problems detected: no vanishing gradients, mode collapse, instability, duplicates "
                     "or falling diversity")
    for e in events:
        span = f"until step {e['until']}" if e["until"] is not None else "still at the end"
        lines.append(f"  step {e['step']:>7}  {e['kind']} ({span})")
        lines.append(f"{'':>16}{e['message']}")
        lines.append(f"{'':>16}remedy: {e['remedy']}")
    for g in (summary or {}).get("guard", {}).get("events", []):
        lines.append(
            f"  step {g.get('step', '?'):>7}  non_finite ({g.get('what', 'a value')} was not finite): the divergence "
            f"guard rolled back to step {g.get('rolled_back_to', '?')} with learning rates x{g.get('lr_scale', 1):g}"
        )
    rows = vital_rows(records)
    labels = VITALS if probability else tuple((k, RAW_SCORE_LABELS.get(k, label)) for k, label in VITALS)
    present = [(k, label) for k, label in labels if any(isinstance(r.get(k), (int, float)) for r in rows)]
    if rows and present:
        lines += ["", "vital signs"]
        header = ["step", *(label for _, label in present)]
        table = [header] + [[str(r["step"]), *(_cell(r.get(k)) for k, _ in present)] for r in rows]
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        lines += ["  " + "  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in table]
    if summary is None:  # no summary.json: training stopped before its end, or is still going
        lines += ["", f"verdict: unfinished: the run has no summary.json (interrupted at step {last}, or still "
                      f"training); {continue_command(path, 'N')} finishes it and evaluates it"]
        return "\n".join(lines)
    if summary.get("untrained_generator"):  # calm losses of pre-training phases are no verdict on samples
        lines += ["", f"verdict: not trained yet: {str(summary['untrained_generator']).removeprefix('note: ')}"]
        return "\n".join(lines)
    lines += ["", verdict(summary.get("evaluation"), events, path)]
    return "\n".join(lines)


def continue_command(path: Path | str, steps: str) -> str:
    """The command that trains run ``path`` on to ``steps``: ``ganforge resume`` for a recipe's run; in Python
    for a run whose networks were written in Python (``ganforge resume`` cannot rebuild those and refuses)."""
    from ganforge.config import read_yaml
    from ganforge.runs import PYTHON_MODEL

    try:
        model = read_yaml(Path(path) / "config.yaml").get("model")
    except GanforgeError:  # no readable config: resume says why
        model = None
    if isinstance(model, dict) and model.get("type") == PYTHON_MODEL:
        return (f"`ganforge.resume({str(path)!r}, gan=<the same GAN>, data=<the same data>, steps={steps})` "
                "(its networks were written in Python)")
    return f"`ganforge resume {path} --steps {steps}`"


def verdict(evaluation: dict[str, Any] | None, events: list[dict[str, Any]], path: Path | str = "RUN") -> str:
    """The verdict: training problems still present at the end, and the samples against the real-data floor
    (a run with calm training can still produce a shapeless cloud: healthy needs both); the remedy names the
    command that continues this run (``path``, :func:`continue_command`), not a setting of a new one."""
    from ganforge.report.readout import quality_verdict

    state, quality = quality_verdict(evaluation)
    quality = quality.replace("`ganforge eval RUN`", f"`ganforge eval {path}`")
    still = sorted({_resolution_key(e) for e in events if e["until"] is None})
    if still:
        return f"verdict: still present at the end: {', '.join(still)}; {quality}"
    cleared = "every problem found during training had cleared by the end; " if events else ""
    if state == "close":
        return f"verdict: healthy: {cleared}{quality}"
    if state == "unknown":
        return f"verdict: healthy training dynamics; {cleared}{quality}"
    training = "training problems had cleared by the end" if events else "training showed no problem"
    return (
        f"verdict: not healthy: {quality} ({training}); remedy: train longer ({continue_command(path, 'N')}, N "
        "above its last step) or start from a shipped recipe for similar data (`ganforge recipes`), and compare "
        "generated with real in report.html"
    )


@register_command()
def diagnose(
    run: Annotated[Path, typer.Argument(help="run folder")],
    as_json: Annotated[bool, typer.Option("--json", help="print the timeline as JSON")] = False,
) -> None:
    """The timeline of diagnostic findings of a run, with explanations, remedies and vital signs."""
    from ganforge.fileio import read_json  # imports torch: inside, so `ganforge --help` stays fast
    from ganforge.runs import check_run_dir
    from ganforge.training.metrics_log import read

    path = check_run_dir(run)
    records = read(path / "metrics.jsonl") if (path / "metrics.jsonl").exists() else []
    summary_file = path / "summary.json"
    summary = read_json(summary_file, "summary") if summary_file.is_file() else None
    if summary is not None and not isinstance(summary, dict):
        raise GanforgeError(f"{summary_file} holds a {type(summary).__name__}, not an object; the run folder is "
                            "damaged")
    if as_json:
        from ganforge.report.readout import quality_verdict

        state, quality = quality_verdict((summary or {}).get("evaluation"))
        print(json.dumps({"run": str(path), "findings": timeline(records), "samples": state, "quality": quality},
                         default=str))
        return
    print(format_report(path, records, summary, outputs_are_probabilities(path)))
