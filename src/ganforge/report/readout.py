"""Reading an evaluation: each metric beside its real floor and what it means, and a one-line judgement.

An evaluation (``summary.json``'s ``evaluation``, ``ganforge eval``) is a flat dict of numbers. A number
alone says little: W1 0.04 is excellent on the unit ring and poor on data of scale 0.01. Every metric
that has one is therefore shown beside its **real floor**: the same metric computed between two real
samples (``w1_real``, ``fid_noise_floor``, ``precision_real`` ...), i.e. what a perfect generator would
score with the same sample sizes. Super-resolution shows bicubic upscaling in that column and
translation the classifier's accuracy on untranslated pictures (labelled so).

:func:`quality_verdict` turns the headline metrics into one line for ``ganforge diagnose``:
``close`` (within ``CLOSE`` times the floor, plus a small absolute slack), ``off`` or ``far`` (more than
``FAR`` times the floor); see :func:`judge`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TRAINING_DATA_MARK = " (no held-out split)"  # how an evaluator's ``reference`` says it scored the training data
CLOSE = 2.0  # generated within 2x its real floor: indistinguishable at this sample size, or nearly
FAR = 5.0  # more than 5x the floor: clearly not the data
NO_FLOOR = "-"  # the real-floor cell of a metric that has none (and any cell without a number)


@dataclass(frozen=True)
class Metric:
    """How to read one metric: its floor's key, whether lower is better, and a short phrase."""

    meaning: str
    floor: str | tuple[str, ...] | None = None  # key(s) of the reference value in the same evaluation (first found)
    lower_is_better: bool | None = True  # None: no direction (e.g. a count)
    floor_label: str = ""  # shown after the floor when it is not "real vs real"
    # judged against that labelled reference too: it is the same scorer on the real targets (a ceiling a
    # perfect translator reaches), not a baseline such as bicubic upscaling or the untranslated pictures
    judged_on_reference: bool = False


METRICS: dict[str, Metric] = {
    # numbers and points (evaluation/suite.py)
    "w1": Metric("earth mover's distance to real data, data units", "w1_real"),
    "ks": Metric("largest gap between real and generated CDFs (0-1)", "ks_real"),
    "mean_error": Metric("gap between real and generated means", "mean_error_real"),
    "std_error": Metric("gap between real and generated spreads", "std_error_real"),
    "modes": Metric("mixture modes with samples near them", "modes_real", lower_is_better=False),
    "high_quality": Metric("share of samples within 3 std of a mode", "high_quality_real", lower_is_better=False),
    "kl": Metric("KL of the mode histogram from uniform", "kl_real"),
    # images (evaluation/image_suite.py)
    "fid": Metric("Fréchet distance of feature statistics", ("fid_noise_floor", "fid_floor")),
    "fid_matched": Metric("FID at the floor's sample size (compare with the floor)", "fid_noise_floor"),
    "intra_fid": Metric("FID within each class, averaged (sees wrong-class samples)", "intra_fid_noise_floor"),
    "intra_fid_matched": Metric("intra-FID at the floor's sample sizes (compare with the floor)",
                                "intra_fid_noise_floor"),
    "kid": Metric("kernel distance of features (unbiased; 0 = same)", "kid_noise_floor"),
    "is": Metric("Inception-style score: confident, varied classes", "is_real", lower_is_better=False),
    "precision": Metric("share of generated samples that look real", "precision_real", lower_is_better=False),
    "recall": Metric("share of real data the generator covers", "recall_real", lower_is_better=False),
    "density": Metric("how densely samples sit among real neighbours", "density_real", lower_is_better=False),
    "coverage": Metric("share of real samples with a generated neighbour", "coverage_real", lower_is_better=False),
    **{
        f"{name}_matched": Metric(f"{name} at the floor's sample sizes (compare with the floor)", f"{name}_real",
                                  lower_is_better=False)
        for name in ("precision", "recall", "density", "coverage")
    },
    "conditional_accuracy": Metric(
        "generated images classified as their requested label", "conditional_accuracy_real", lower_is_better=False
    ),
    # super-resolution and translation
    "psnr": Metric("peak signal-to-noise ratio, luma (dB)", "bicubic_psnr", False, "bicubic"),
    "ssim": Metric("structural similarity, luma (0-1)", "bicubic_ssim", False, "bicubic"),
    "psnr_rgb": Metric("PSNR on all colour channels (dB)", "bicubic_psnr_rgb", False, "bicubic"),
    "feature_distance": Metric(
        "LPIPS-like distance to the originals on photo features (originals: 0)",
        "bicubic_feature_distance", True, "bicubic",
    ),
    "fid_photo": Metric(
        "FID of the upscaled set vs the originals, photo features (originals: 0)", "bicubic_fid_photo", True, "bicubic"
    ),
    "label_accuracy_a2b": Metric(
        "A->B pictures that keep their label", "label_accuracy_originals", False, "untranslated"
    ),
    "label_accuracy_b2a": Metric(
        "B->A pictures that keep their label", "label_accuracy_originals", False, "untranslated"
    ),
    # paired translation (evaluation/paired_metrics.py): floors are the same scorer on the true targets
    "l1": Metric("mean absolute error to the true targets (0-1 units)", None),
    "label_accuracy": Metric(
        "generated digits the digits classifier reads as the true label", "label_accuracy_real", False, "real digits",
        judged_on_reference=True,
    ),
    **{
        f"{prefix}_{key}": Metric(f"FCN-score, {meaning} ({segmenter} segmenter)", f"{prefix}_{key}_real", False,
                                  "real scenes", judged_on_reference=True)
        for prefix, segmenter in (("fcn", "colour"), ("fcn_texture", "texture"))
        for key, meaning in (("pixel_accuracy", "pixels labelled as the input map"),
                             ("class_accuracy", "mean per-class pixel accuracy"),
                             ("class_iou", "mean class IoU"))
    },
    "cycle_error_a": Metric("A->B->A reconstruction error (mean abs)", None),
    "cycle_error_b": Metric("B->A->B reconstruction error (mean abs)", None),
    # text to image (evaluation/text2image_suite.py): the same readers on the real captioned pictures
    "r_precision": Metric(
        "true caption ranked first among 100 by the run's own DAMSM encoders (G trained against them: flattering)",
        "r_precision_real", False,
    ),
    "all_attributes_seen": Metric(
        "scenes whose every captioned attribute the shapes reader finds (seen shape-colour pairs)",
        "all_attributes_seen_real", False,
    ),
    "all_attributes_held_out": Metric(
        "the same on held-out shape-colour pairs", "all_attributes_held_out_real", False,
    ),
    # digits-text: the shipped digits classifier reads the class; ink and shear against the class's real median
    # give thickness and slant, as the captions were measured
    **{
        f"digit_{key}": Metric(f"digits drawn with the captioned {meaning}", f"digit_{key}_real", False)
        for key, meaning in (("class", "class (digits classifier)"), ("thickness", "stroke thickness (ink)"),
                             ("slant", "slant (shear)"), ("all", "class, thickness and slant"))
    },
    # sequences (evaluation/sequence_suite.py)
    "discriminative_score": Metric("|accuracy - 0.5| of a post-hoc real/fake GRU (0 = same)", None),
    "discriminative_quick": Metric("quick discriminative score (0 = same)", None),
    "predictive_score": Metric("next-step error of a GRU trained on generated data", None),
    "autocorrelation_error": Metric("gap between real and generated autocorrelations", None),
}
# The metrics diagnose's one-line verdict judges, where an evaluation has them. Paired translation is judged by
# what its reader finds (digit labels, the colour FCN's pixel accuracy), not by FID: trained photo translators sit
# at 19-220x FID's real-vs-real floor (docs/benchmarks/pix2pix.md), so FID's 2x / 5x rule would call them all far.
HEADLINE = ("w1", "ks", "high_quality", "fid_matched", "precision", "conditional_accuracy", "discriminative_score",
            "label_accuracy", "fcn_pixel_accuracy", "all_attributes_seen", "digit_all")
# Metrics judged on a fixed scale where no real-vs-real floor is measured: (close up to, far beyond). The
# discriminative score is |accuracy - 0.5| of a post-hoc real/fake classifier: 0 for samples it cannot tell
# from real, 0.5 for samples it always tells. On sines TimeGAN (Yoon et al. 2019, Table 1) reports 0.011 for
# TimeGAN and 0.022 for RCGAN, 0.158-0.277 for WaveNet, C-RNN-GAN and WaveGAN; our TimeGAN runs score 0.03-0.05
# (docs/benchmarks/sequences.md). So up to 0.05 reads as close and above 0.2 as far.
FIXED_SCALE = {"discriminative_score": (0.05, 0.2)}
ABS_SLACK = {"ks": 0.01, "high_quality": 0.02, "precision": 0.02, "conditional_accuracy": 0.02, "kid": 1e-3}


def is_bookkeeping(key: str) -> bool:
    """Evaluation entries that describe the evaluation (sample and row counts, its time), not the samples'
    quality: never a metric to show, plot or choose a checkpoint by."""
    return key.startswith("n_") or key.endswith(("_n", "_seconds"))


PROVENANCE_KEYS = ("seed", "step")  # which draw and checkpoint an evaluation measured, added to its record
# In a record a resume kept from an earlier checkpoint (its own evaluation skipped): the sentence saying which
# step the numbers are of and why they were not measured again (report/summary.py ``kept_evaluation``).
OUTDATED = "outdated"


def is_measured(evaluation: Any) -> bool:
    """Whether ``evaluation`` (``summary.json``'s ``evaluation``) holds at least one measured number: False for
    none, ``{"skipped": reason}`` (the end-of-run evaluation did not run) or a record of counts only. What
    ``ganforge eval`` fills in, and what its agreement line compares with."""
    if not isinstance(evaluation, dict):
        return False
    return any(
        _number(value) is not None and not is_bookkeeping(key) and key not in PROVENANCE_KEYS
        for key, value in evaluation.items()
    )


def is_outdated(evaluation: Any) -> bool:
    """Whether ``evaluation`` is of an earlier checkpoint than its run's last (kept by a resume whose own
    evaluation was skipped): shown with that said, and replaced by the next ``ganforge eval``."""
    return isinstance(evaluation, dict) and bool(evaluation.get(OUTDATED))


def _floor_keys(metric: Metric) -> tuple[str, ...]:
    return (metric.floor,) if isinstance(metric.floor, str) else (metric.floor or ())


def _floor(evaluation: dict[str, Any], metric: Metric) -> Any:
    """The metric's reference value in ``evaluation``: its first floor key present (None without one)."""
    return next((evaluation[k] for k in _floor_keys(metric) if k in evaluation), None)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _fmt(value: Any) -> str:
    number = _number(value)
    if number is None:
        return NO_FLOOR
    return f"{int(number)}" if float(number).is_integer() and abs(number) < 1e6 else f"{number:.4g}"


def metric_rows(evaluation: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """``(metric, generated, real floor, meaning)`` for every metric of ``evaluation`` with a known reading,
    in the evaluation's order; floors and protocol keys are not rows of their own."""
    floors = {key for m in METRICS.values() for key in _floor_keys(m)}
    rows = []
    for key, value in evaluation.items():
        metric = METRICS.get(key)
        if metric is None or key in floors or _number(value) is None:
            continue
        floor = _floor(evaluation, metric)
        floor_text = _fmt(floor) if floor is not None else NO_FLOOR
        if floor is not None and metric.floor_label:
            floor_text += f" ({metric.floor_label})"
        direction = {True: " (lower is better)", False: " (higher is better)", None: ""}[metric.lower_is_better]
        rows.append((key, _fmt(value), floor_text, metric.meaning + direction))
    return rows


def format_table(rows: list[tuple[str, str, str, str]], header: tuple[str, str, str, str] | None = None) -> str:
    """Rows as aligned plain-text columns (what the terminal and a log file both show well). The real-floor
    column is left out when no row has a floor (a table run's metrics, whose baselines ``ganforge eval``
    prints beside; a sequence run's): a column of dashes only beside that said nothing."""
    header = header or ("metric", "generated", "real floor", "what it means")
    table = [header, *rows]
    columns = [0, 1, 2, 3] if any(r[2] != NO_FLOOR for r in rows) else [0, 1, 3]
    widths = {i: max(len(r[i]) for r in table) for i in columns[:-1]}
    lines = []
    for row in table:
        cells = [f"{row[i]:<{widths[i]}}" if i == 0 else f"{row[i]:>{widths[i]}}" for i in columns[:-1]]
        lines.append(f"  {'  '.join(cells)}  {row[3]}".rstrip())
    return "\n".join(lines)


def protocol_line(evaluation: dict[str, Any]) -> str:
    """What the numbers were computed on: sample sizes, seed, feature network, real reference."""
    parts = []
    for key, label in (("n_fake", "generated"), ("n_real", "real"), ("floor_n", "floor of")):
        if _number(evaluation.get(key)) is not None:
            parts.append(f"{label} {int(evaluation[key])}")
    if "seed" in evaluation:
        parts.append(f"seed {evaluation['seed']}")
    if evaluation.get("features"):
        parts.append(f"features {evaluation['features']}")
    return ", ".join(parts)


BASELINES_TITLE = "beside: the same metrics for the baselines (identity = the real training rows)"


def baseline_table(evaluation: dict[str, Any]) -> tuple[list[str], list[list[str]]] | None:
    """(header, rows) of a table run's baselines (``comparison``: identity, Gaussian copula, independent
    columns) on the same metrics as the model, for ``ganforge eval``, the end-of-run summary and report.html
    alike; None for other runs."""
    comparison = evaluation.get("comparison")
    if not isinstance(comparison, dict) or not comparison:
        return None
    names = [str(n) for n in comparison]
    first = next(iter(comparison.values()))
    keys = list(first) if isinstance(first, dict) else []
    rows = [[str(key), *(_cell_text((comparison[n] or {}).get(key)) for n in comparison)] for key in keys]
    return ["metric", *names], rows


def _cell_text(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def baseline_text(evaluation: dict[str, Any]) -> str:
    """:func:`baseline_table` as aligned plain text under its title ("" for runs without baselines)."""
    table = baseline_table(evaluation)
    if table is None:
        return ""
    header, rows = table
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [f"  {BASELINES_TITLE}"]
    for row in [header, *rows]:
        cells = [f"{c:<{widths[0]}}" if i == 0 else f"{c:>{widths[i]}}" for i, c in enumerate(row)]
        lines.append(f"  {'  '.join(cells)}".rstrip())
    return "\n".join(lines)


def evaluation_text(evaluation: dict[str, Any]) -> str:
    """The evaluation block the end-of-run summary and ``ganforge eval`` print: which earlier checkpoint the
    numbers are of where they are not the last's (:data:`OUTDATED`), the table, the protocol, a note on offline
    features, and why any metric (or the whole evaluation) was skipped."""
    rows = metric_rows(evaluation)
    lines = [f"  note: {evaluation[OUTDATED]}"] if is_outdated(evaluation) else []  # before numbers read as the last
    if rows:
        lines.append(format_table(rows))
    else:
        lines.extend(_unnamed_rows(evaluation))
    protocol = protocol_line(evaluation)
    if protocol:
        lines.append(f"  ({protocol})")
    if str(evaluation.get("features", "")).startswith("photo"):
        lines.append(
            "  note: photo features are ganforge's shipped offline network, not Inception-v3: compare these "
            "FIDs only with each other; set GANFORGE_INCEPTION_WEIGHTS for numbers comparable with papers"
        )
    reference = str(evaluation.get("reference", ""))
    if reference.endswith(TRAINING_DATA_MARK):
        lines.append(f"  note: measured on the data the model trained on ({reference.removesuffix(TRAINING_DATA_MARK)}"
                     "), so these scores flatter it; Pix2Pix pairs held out in a test/ (or val/) folder beside "
                     "train/ are scored instead")
    if evaluation.get("skipped"):
        lines.append(f"  skipped: {evaluation['skipped']}")
    return "\n".join(lines)


def _unnamed_rows(evaluation: dict[str, Any]) -> list[str]:
    """An evaluation none of whose metrics :data:`METRICS` names (a text-to-image run's 40 or so): one line per
    metric, beside its ``<name>_real`` / ``<name>_floor`` where the evaluation has one; counts and the seed go
    to the protocol line. (They were printed as one line of 1,500 characters.)"""
    shown = {k: v for k, v in evaluation.items()
             if _number(v) is not None and not is_bookkeeping(k) and k not in PROVENANCE_KEYS}
    floors = {f"{k}{suffix}" for k in shown for suffix in ("_real", "_floor")} & set(shown)
    rows = [(k, _fmt(v), _fmt(shown.get(f"{k}_real", shown.get(f"{k}_floor"))), "")
            for k, v in shown.items() if k not in floors]
    return [format_table(rows, ("metric", "generated", "real floor", ""))] if rows else []


def judge(evaluation: dict[str, Any], key: str) -> tuple[str, float, float] | None:
    """``(close | off | far, generated, floor)`` of one metric against its real floor (None without one).

    Lower-is-better metrics: ``close`` when ``value <= CLOSE * floor + slack``, ``far`` when
    ``value > FAR * floor + slack``. Higher-is-better ones (shares, accuracies) by their relative
    shortfall ``(floor - value) / floor``: ``close`` up to 5 %, ``far`` beyond 25 %. ``slack`` absorbs
    sampling noise for metrics whose floor can be ~0 (:data:`ABS_SLACK`).
    """
    metric = METRICS.get(key)
    value = _number(evaluation.get(key))
    if key in FIXED_SCALE and value is not None:
        close, far = FIXED_SCALE[key]
        return ("close" if value <= close else "far" if value > far else "off"), value, 0.0
    floor = _number(_floor(evaluation, metric)) if metric else None
    if metric is None or value is None or floor is None or metric.lower_is_better is None:
        return None
    if metric.floor_label and not metric.judged_on_reference:
        return None
    slack = ABS_SLACK.get(key.removesuffix("_matched"), 0.0)  # a metric's floor-size twin has its slack
    if metric.lower_is_better:
        base = max(floor, 0.0)
        verdict = "close" if value <= CLOSE * base + slack else ("far" if value > FAR * base + slack else "off")
    else:
        shortfall = (floor - value - slack) / max(abs(floor), 1e-12)
        verdict = "close" if shortfall <= 0.05 else ("far" if shortfall > 0.25 else "off")
    return verdict, value, floor


def quality_verdict(evaluation: dict[str, Any] | None) -> tuple[str, str]:
    """``(state, sentence)`` about the generated samples: state ``close`` / ``off`` / ``far`` / ``unknown``
    (the worst headline metric), the sentence naming each headline metric beside its floor."""
    if not evaluation:
        return "unknown", "sample quality unknown (no evaluation in summary.json; run `ganforge eval RUN`)"
    if evaluation.get("skipped") and not is_measured(evaluation):  # else: why one metric was left out
        skipped = str(evaluation["skipped"])
        remedy = "" if "`ganforge eval " in skipped else "; run `ganforge eval RUN`"  # the reason names it
        return "unknown", f"sample quality not measured (evaluation skipped: {skipped}{remedy})"
    words = {"close": "near the real-data floor", "off": "off the data", "far": "far from the data"}
    table = _table_verdict(evaluation)
    if table is not None:
        return table[0], f"samples {words[table[0]]}: {table[1]}{_outdated_text(evaluation)}"
    judged = [(key, judge(evaluation, key)) for key in _headline_keys(evaluation)]
    judged = [(key, j) for key, j in judged if j is not None]
    if not judged:
        return "unknown", "sample quality has no real-data floor to compare with"
    order = {"close": 0, "off": 1, "far": 2}
    worst = max((j[0] for _, j in judged), key=order.__getitem__)
    detail = ", ".join(f"{key} {_fmt(v)} ({_reference_text(key, f)})" for key, (_, v, f) in judged)
    return worst, f"samples {words[worst]}: {detail}{_outdated_text(evaluation)}"


def _outdated_text(evaluation: dict[str, Any]) -> str:
    """Said after a verdict on numbers of an earlier checkpoint (:data:`OUTDATED`), so it is not read as one on
    the run's last."""
    if not is_outdated(evaluation):
        return ""
    return (f" (measured at checkpoint step {evaluation.get('step', '?')}, before the run trained further; "
            "`ganforge eval RUN` measures its last)")


def _headline_keys(evaluation: dict[str, Any]) -> list[str]:
    """:data:`HEADLINE`, each metric replaced by its ``<name>_matched`` twin where the evaluation has one: the
    twin is measured at the floor's sample sizes, so it is the one a floor can judge (an evaluation stored
    before the twin existed is judged on the metric itself)."""
    return [f"{key}_matched" if f"{key}_matched" in evaluation else key for key in HEADLINE]


def _reference_text(key: str, floor: float) -> str:
    """What a judged value stands beside in the verdict: its floor, or for a metric on a fixed scale (no real
    floor is measured; :data:`FIXED_SCALE`) the scale itself, not a "real floor 0" that ``eval`` never showed."""
    if key in FIXED_SCALE:
        close, far = FIXED_SCALE[key]
        return f"close up to {_fmt(close)}, far above {_fmt(far)}"
    return f"{_reference_name(key)} {_fmt(floor)}"


def _reference_name(key: str) -> str:
    """What a judged metric was compared with: the real floor, or a labelled reference ("real digits")."""
    metric = METRICS.get(key)
    return f"on {metric.floor_label}" if metric is not None and metric.floor_label else "real floor"


TABLE_MARGIN = 0.05  # within this of the real rows' quality is close; this far below independent columns' is far


def _table_verdict(evaluation: dict[str, Any]) -> tuple[str, str] | None:
    """A table run judged by its overall ``quality`` beside the baselines the evaluation scores the same way:
    the real training rows themselves (``identity``, the floor) and a sampler of independent columns (which
    keeps every column's shape and no relation between columns). ``close`` within ``TABLE_MARGIN`` of the real
    rows, ``far`` more than that below the independent baseline (the GAN has not learned what a per-column
    sampler gives for free), ``off`` between. The shipped table GAN scores about the independent baseline
    (docs/benchmarks/tables.md: 0.79-0.93 against 0.79-0.97), CTGAN up to 0.11 below it. None for other data."""
    comparison = evaluation.get("comparison")
    value = _number(evaluation.get("quality"))
    if not isinstance(comparison, dict) or value is None:
        return None
    real = _number((comparison.get("identity") or {}).get("quality"))
    independent = _number((comparison.get("independent") or {}).get("quality"))
    if real is None or independent is None:
        return None
    state = "close" if value >= real - TABLE_MARGIN else "far" if value < independent - TABLE_MARGIN else "off"
    return state, (f"quality {_fmt(value)} (the real rows themselves {_fmt(real)}; independent columns "
                   f"{_fmt(independent)})")
