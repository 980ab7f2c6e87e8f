"""``RUN/report.html``: one self-contained page that tells the story of a run, readable offline.

Everything is inside the one file: styles inline, every picture embedded as a base64 ``data:`` URI, no
script and no link to anything outside it, so the file can be mailed, archived or opened on a machine
without network. Sections:

1. the run: name, description, data, model, steps, training time;
2. the numbers: every evaluation metric beside its real-data floor — what the same metric gives when the
   "generated" set is a second sample of real data (image runs record these floors in their evaluation:
   ``fid_noise_floor``, ``kid_noise_floor``, ``is_real``, ``precision_real`` ...; for 1-D/2-D runs the report
   computes them: the metrics of one real sample against another of the same size). A model is only
   distinguishable from the data by a metric when its value clearly exceeds the floor;
3. the diagnosis timeline: every monitor finding, when it started and stopped, its explanation and remedy,
   and the divergence guard's rollbacks;
4. the pictures: plots of the run, real vs generated samples, fixed-noise snapshots over time;
5. the config that reproduces the run (``config.yaml``).
"""

from __future__ import annotations

import base64
import html
import json
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ganforge.fileio import atomic_write_text
from ganforge.report.readout import BASELINES_TITLE, METRICS, OUTDATED, baseline_table, is_bookkeeping, is_outdated
from ganforge.report.timeline import timeline

REPORT_NAME = "report.html"
MAX_SNAPSHOTS = 12  # fixed-noise grids shown (evenly spaced over the run, the last always included)
MAX_PICTURE_BYTES = 8 << 20  # larger pictures are listed by name instead of embedded
# suffixes of the keys an evaluation uses for a metric's reference value computed on real data
FLOOR_SUFFIXES = ("_noise_floor", "_real", "_floor")
SKIP_KEYS = ("n_fake", "n_real", "noise_floor_n", "floor_n", "seed", "step", "reference", "protocol", "skipped")
PICTURE_TYPES = {".png": "image/png", ".gif": "image/gif", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


def data_uri(path: Path) -> str | None:
    """``data:image/...;base64,...`` of a picture file (None when missing, unknown type or too large)."""
    kind = PICTURE_TYPES.get(path.suffix.lower())
    if kind is None or not path.is_file() or path.stat().st_size > MAX_PICTURE_BYTES:
        return None
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else f"{value:.4g}"
    return html.escape(str(value))


def metric_rows(evaluation: dict[str, Any], floors: dict[str, float] | None = None) -> list[dict[str, Any]]:
    """``[{metric, value, floor, floor_std, matched}]`` for every numeric metric of an evaluation; keys that
    are themselves floors, spreads or sizes are folded into their metric's row."""
    floors = dict(floors or {})
    numeric = {k: v for k, v in evaluation.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    folded = set()
    rows = []
    for key, value in numeric.items():
        folded_suffix = key.endswith(("_std", "_matched", "_subsets", "_subset_size", "_k"))
        if key in SKIP_KEYS or folded_suffix or is_bookkeeping(key):
            continue
        if any(key.endswith(s) and key[: -len(s)] in numeric for s in FLOOR_SUFFIXES):
            continue  # a floor of another metric
        floor = floors.get(key)
        for suffix in FLOOR_SUFFIXES:
            if floor is None and f"{key}{suffix}" in numeric:
                floor = numeric[f"{key}{suffix}"]
                folded.add(f"{key}{suffix}")
        rows.append(
            {
                "metric": key,
                "value": value,
                "spread": numeric.get(f"{key}_std"),
                "floor": floor,
                "floor_std": numeric.get(f"{key}_noise_floor_std"),
                "matched": numeric.get(f"{key}_matched"),
            }
        )
    return rows


def lowdim_floors(run: Any, n: int) -> dict[str, float]:
    """The 1-D/2-D metrics of one real sample against another of ``n`` (the value a perfect generator
    would get, up to sampling noise). Uses seeds 2024 (the evaluation's reference) and 2025."""
    import hashlib

    from ganforge.evaluation.lowdim import lowdim_report

    source = run.real_data()
    reference = source.real(n, seed=2024).x
    mixture = run.data_info.mixture
    # the floor depends only on the data: remembered per data (hashed), size and mixture in this process
    key = (hashlib.sha256(reference.float().numpy().tobytes()).hexdigest(), n,
           None if mixture is None else (tuple(mixture.means.flatten().tolist()), float(mixture.std)))
    if key not in _FLOORS:
        other = source.real(n, seed=2025).x
        report = lowdim_report(reference, other, mixture.means if mixture else None, mixture.std if mixture else None)
        _FLOORS[key] = {k: float(v) for k, v in report.items() if isinstance(v, (int, float))}
    return dict(_FLOORS[key])


_FLOORS: dict[tuple, dict[str, float]] = {}


def _pictures(path: Path, summary: dict[str, Any]) -> list[tuple[str, Path]]:
    """(caption, file) of the run's pictures: its plots, then the fixed-noise snapshots over time."""
    seen: set[Path] = set()
    out: list[tuple[str, Path]] = []
    for name, file in (summary.get("plots") or {}).items():
        p = Path(file)
        p = p if p.is_absolute() else path / p
        if p.suffix.lower() in PICTURE_TYPES and p.is_file() and p.resolve() not in seen:
            seen.add(p.resolve())
            out.append((str(name).replace("_", " "), p))
    plots = path / "plots"
    if plots.is_dir():
        for p in sorted(plots.iterdir()):
            if p.suffix.lower() in PICTURE_TYPES and p.resolve() not in seen:
                seen.add(p.resolve())
                out.append((p.stem.replace("_", " "), p))
    return out


def _snapshots(path: Path) -> list[tuple[int, Path]]:
    folder = path / "samples"
    found = []
    if folder.is_dir():
        for p in folder.glob("step-*.png"):
            try:
                found.append((int(p.stem.split("-", 1)[1]), p))
            except ValueError:
                continue
    found.sort()
    if len(found) > MAX_SNAPSHOTS:
        keep = {round(i * (len(found) - 1) / (MAX_SNAPSHOTS - 1)) for i in range(MAX_SNAPSHOTS)}
        found = [f for i, f in enumerate(found) if i in keep]
    return found


STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d232b;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d6dae0;padding-bottom:4px}
.sub{color:#5b6572} table{border-collapse:collapse;background:#fff;margin:6px 0}
td,th{border:1px solid #d6dae0;padding:4px 10px;text-align:left} th{background:#eef1f5}
td.num{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#fff;border:1px solid #d6dae0;padding:10px;overflow:auto;font-size:12px}
figure{display:inline-block;margin:6px 10px 10px 0;background:#fff;
border:1px solid #d6dae0;padding:6px;vertical-align:top}
figure img{display:block;max-width:520px;image-rendering:pixelated}
figcaption{color:#5b6572;font-size:12px;margin-top:4px}
.event{background:#fff;border-left:4px solid #d9822b;padding:6px 10px;margin:6px 0}
.event.resolved{border-left-color:#2b8a3e} .remedy{color:#3b4450} .ok{color:#2b8a3e}
.snaps figure img{max-width:250px}
"""


def _best_and_environment(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """The Run table's rows for the best checkpoint ``eval.best`` kept (and the split it was chosen on) and for
    what the numbers depend on besides config.yaml (summary.json's ``environment``: package versions, Python,
    platform, torch threads), where summary.json records them."""
    rows = []
    best = summary.get("best")
    if isinstance(best, dict) and "step" in best:
        value = best.get("value")
        shown = f"{value:.4g}" if isinstance(value, (int, float)) else "?"
        where = ", chosen on the validation split" if best.get("split") == "val" else ""
        rows.append(("best checkpoint", f"step {best['step']}, {best.get('metric', '?')} {shown}{where}"))
    env = summary.get("environment")
    if isinstance(env, dict) and env:
        packages = ", ".join(f"{k} {env[k]}" for k in ("ganforge", "torch", "numpy", "scikit-learn") if env.get(k))
        rows.append(("environment", f"{packages}; Python {env.get('python', '?')} on {env.get('platform', '?')}, "
                                    f"{env.get('threads', '?')} torch threads"))
    return rows


def render_report(path: Path, run: Any | None = None, floors: dict[str, float] | None = None) -> str:
    """The report page of run folder ``path`` as one HTML string (see the module docstring)."""
    from ganforge.training import metrics_log

    summary = _read_json(path / "summary.json")
    data = _read_json(path / "data.json")
    config_text = (path / "config.yaml").read_text(encoding="utf-8") if (path / "config.yaml").is_file() else ""
    records = metrics_log.read(path / "metrics.jsonl") if (path / "metrics.jsonl").is_file() else []
    name = summary.get("name") or (run.config.name if run is not None else path.name)
    description = run.config.description if run is not None else ""
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>ganforge report: {esc(str(name))}</title><style>{STYLE}</style></head><body><main>",
        f"<h1>{esc(str(name))}</h1>",
    ]
    if description:
        parts.append(f'<div class="sub">{esc(description)}</div>')
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts.append(f'<div class="sub">run folder {esc(str(path))} &middot; report written {generated}</div>')

    # --- the run -----------------------------------------------------------------------------------
    parts.append("<h2>Run</h2><table>")
    facts = [
        ("data", f"{data.get('name', '?')} ({data.get('kind', '?')}, sample shape {data.get('sample_shape', '?')})"),
        ("steps", summary.get("steps", records[-1]["step"] if records else "?")),
        ("training time", f"{summary['train_seconds']:.1f} s" if "train_seconds" in summary else "?"),
        ("logged steps", len(records)),
    ]
    if run is not None:
        facts.insert(1, ("model", f"{run.config.model.get('type', '?')} ({type(run.gan).__name__})"))
    facts += _best_and_environment(summary)
    for key, value in facts:
        parts.append(f"<tr><th>{esc(key)}</th><td>{_fmt(value)}</td></tr>")
    parts.append("</table>")

    # --- numbers -----------------------------------------------------------------------------------
    evaluation = summary.get("evaluation") or {}
    parts.append("<h2>Numbers</h2>")
    rows = metric_rows(evaluation, floors)
    if rows:
        parts.append(
            '<p class="sub">The real-data floor is the same metric between two samples of real data: the value '
            "a perfect generator would get, up to sampling noise.</p>"
        )
        parts.append("<table><tr><th>metric</th><th>generated</th><th>real-data floor</th><th>notes</th></tr>")
        for r in rows:
            value = _fmt(r["value"]) + (f" &plusmn; {_fmt(r['spread'])}" if r["spread"] is not None else "")
            floor = "&ndash;" if r["floor"] is None else _fmt(r["floor"])
            if r["floor_std"] is not None and r["floor"] is not None:
                floor += f" &plusmn; {_fmt(r['floor_std'])}"
            known = METRICS.get(r["metric"])
            notes = known.meaning if known else ""  # what `ganforge eval` prints beside the number
            if r["matched"] is not None:
                notes += f"{'; ' if notes else ''}at the floor's sample size: {_fmt(r['matched'])}"
            parts.append(
                f'<tr><td>{esc(r["metric"])}</td><td class="num">{value}</td><td class="num">{floor}</td>'
                f"<td>{esc(notes)}</td></tr>"
            )
        parts.append("</table>")
        baselines = baseline_table(evaluation)  # a table run's baselines, as `ganforge eval` prints them
        if baselines is not None:
            header, body = baselines
            parts.append(f'<p class="sub">{esc(BASELINES_TITLE)}</p><table><tr>'
                         + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr>")
            for row in body:
                parts.append(f"<tr><td>{esc(row[0])}</td>"
                             + "".join(f'<td class="num">{esc(c)}</td>' for c in row[1:]) + "</tr>")
            parts.append("</table>")
        if evaluation.get("reference"):
            parts.append(f'<p class="sub">reference: {esc(str(evaluation["reference"]))}</p>')
        if is_outdated(evaluation):  # kept by a resume whose own evaluation was skipped: not the last step's
            parts.append(f'<p class="sub">note: {esc(str(evaluation[OUTDATED]))}</p>')
    elif evaluation.get("skipped"):
        parts.append(f'<p class="sub">evaluation skipped: {esc(str(evaluation["skipped"]))}; '
                     "<code>ganforge eval RUN</code> evaluates it</p>")
    else:
        reason = "the run has not finished" if not summary else "summary.json holds none"
        parts.append(f'<p class="sub">no evaluation recorded ({reason}); <code>ganforge eval RUN</code> '
                     "evaluates it</p>")
    final = {k: v for k, v in (summary.get("final") or (records[-1] if records else {})).items()
             if isinstance(v, (int, float)) and not isinstance(v, bool) and k not in ("step", "time")}
    if final:
        parts.append("<h3>Last logged training scalars</h3><table>")
        parts += [f'<tr><td>{esc(k)}</td><td class="num">{_fmt(v)}</td></tr>' for k, v in final.items()]
        parts.append("</table>")

    # --- diagnosis timeline -----------------------------------------------------------------------------
    parts.append("<h2>Diagnosis timeline</h2>")
    events = timeline(records)
    guard = (summary.get("guard") or {}).get("events", [])
    if not events and not guard:
        parts.append('<p class="ok">no problems detected by the monitors (vanishing gradients, mode collapse, '
                     "instability, duplicates, falling diversity)</p>")
    for e in events:
        span = f"until step {e['until']}" if e["until"] is not None else "still at the end"
        cls = "event resolved" if e["until"] is not None else "event"
        parts.append(
            f'<div class="{cls}"><b>step {_fmt(e.get("step"))} &middot; {esc(str(e.get("kind")))}</b> ({span})<br>'
            f'{esc(str(e.get("message", "")))}<br><span class="remedy">remedy: {esc(str(e.get("remedy", "")))}'
            "</span></div>"
        )
    for g in guard:
        parts.append(
            f'<div class="event"><b>step {_fmt(g.get("step", "?"))} &middot; divergence guard</b><br>'
            f"{esc(str(g.get('what', 'a value')))} was not finite: rolled back to step "
            f"{_fmt(g.get('rolled_back_to', '?'))} with learning rates x{_fmt(g.get('lr_scale', 1))}</div>"
        )

    # --- pictures -----------------------------------------------------------------------------------
    parts.append("<h2>Pictures</h2>")
    pictures = _pictures(path, summary)
    for caption, file in pictures:
        uri = data_uri(file)
        body = f'<img alt="{esc(caption)}" src="{uri}">' if uri else f"<i>{esc(file.name)} (too large to embed)</i>"
        parts.append(f"<figure>{body}<figcaption>{esc(caption)}</figcaption></figure>")
    if not pictures:
        parts.append('<p class="sub">no pictures yet</p>')
    snaps = _snapshots(path)
    if snaps:
        parts.append('<h3>Fixed-noise samples over training</h3><div class="snaps">')
        for step, file in snaps:
            uri = data_uri(file)
            if uri:
                caption = f"<figcaption>step {step}</figcaption>"
                parts.append(f'<figure><img alt="step {step}" src="{uri}">{caption}</figure>')
        parts.append("</div>")
        gif = data_uri(path / "samples" / "progress.gif")
        if gif:
            parts.append(f'<figure><img alt="progress" src="{gif}"><figcaption>animation</figcaption></figure>')

    # --- config -------------------------------------------------------------------------------------
    parts.append("<h2>Config</h2>")
    parts.append(f'<p class="sub">reproduce with <code>ganforge train config.yaml</code> from the run folder</p>'
                 f"<pre>{esc(config_text)}</pre>")
    parts.append("</main></body></html>")
    return "\n".join(parts)


def write_report(path: str | Path, run: Any | None = None, floors: dict[str, float] | None = None) -> Path:
    """Write ``RUN/report.html`` (atomically) and return its path.

    ``run`` (a loaded :class:`~ganforge.runs.Run`) adds the model's description; 1-D/2-D runs with an
    evaluation get their real-data floors computed here unless ``floors`` is given."""
    path = Path(path)
    if floors is None and run is not None and run.data_info.kind in ("numbers", "points"):
        evaluation = _read_json(path / "summary.json").get("evaluation") or {}
        n = int(evaluation.get("n_real", 0) or 0)
        recorded = "floor_n" in evaluation  # the evaluator's own real-vs-real floors (<metric>_real): shown as is
        floors = lowdim_floors(run, n) if n > 1 and not recorded else None
    out = path / REPORT_NAME
    atomic_write_text(out, render_report(path, run, floors))
    return out


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}
