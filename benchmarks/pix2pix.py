"""The Pix2Pix ablation (Isola et al. 2017, Tables 1 and 2) on ganforge's built-in pairs.

    python benchmarks/pix2pix.py --sets labels2scenes --budget 60 --seeds 0 1 2
    python benchmarks/pix2pix.py --sets edges2digits edges2photos --budget 60 --seeds 0 1 2
    python benchmarks/pix2pix.py --report     # the tables of the saved results (benchmarks/results/pix2pix-*.json)

Rows, all from the shipped recipe of the set (U-Net + PatchGAN, 32x32) and differing in one setting each:
``L1`` (gan_weight 0), ``cGAN`` (l1_weight 0), ``L1 + GAN`` (conditional false: D sees the output alone),
``L1 + cGAN`` (the recipe). Every row trains for the same budget of CPU seconds of this process
(``time.process_time``, one torch thread; the machine is shared, so wall time is not what a model got),
with a constant learning rate (the recipe's linear decay needs a known step count), then translates the
held-out test pairs (test-time dropout on, as the paper) and is scored on them:

* ``labels2scenes``: the FCN-score (per-pixel accuracy, per-class accuracy, class IoU of the shipped scene
  segmenters, trained on real scenes, run on the generated scenes against the input label map), beside
  the segmenters on the real test scenes: ``fcn_*`` from the colour segmenter, ``fcn_texture_*`` from the
  texture segmenter (per-class colour jitter: it scores flat, textureless scenes far below real ones);
  FID on photo statistics; PSNR/SSIM to the true scene;
* ``edges2digits``: the shipped digits classifier's accuracy on the generated digits (beside the real
  digits), FID on its 64-d features; PSNR/SSIM;
* ``edges2photos`` / ``gray2color``: FID on photo statistics (shipped photo network), PSNR/SSIM.

Means and standard deviations over the seeds go to stdout as Markdown tables and every run to
``benchmarks/results/pix2pix-<set>.json``; a picture of seed 0 (input | four rows | target) to
``docs/benchmarks/pix2pix-<set>.png``.

``--set KEY=VALUE`` (repeatable) appends one override to every row, so a setting is compared fairly across
the ablation (``--set train.ema=0.999``; give a ``--tag`` to keep its results apart). With ``train.ema`` the
rows are scored through the EMA generator (what ``ganforge translate`` uses) and the raw generator of the
same run is scored too (``raw`` in the results, ``--report --raw`` for its table).

``--validation`` scores on pairs carved from the TRAINING pairs (a fixed quarter, at most 500, never
trained on: the rows train on the rest), never the held-out test pairs: for choosing a setting before the
test split is looked at. The photo sets (since round 13) validate on 500 patches of their validation tiles
(20 % of every photograph's tiles, apart from the test tiles) and train on the remaining 60 %.
Results go to ``pix2pix-<set>-validation<tag>.json``.

The ordering check reads "holds" when L1 + cGAN wins on the mean and in most paired seeds, "holds on the mean
only" when the mean wins but at most half the seeds do. ``--split-check`` compares the real targets of the
training, validation and test pairs (FID and texture; no translator involved).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganforge.api import build_config
from ganforge.data.pairs import ImagePairSource
from ganforge.data.registry import build_source, source_from_config
from ganforge.evaluation.paired_metrics import paired_scores
from ganforge.evaluation.superres_metrics import luma
from ganforge.gans.registry import build_model
from ganforge.training.seeding import seed_everything
from ganforge.training.trainer import Trainer

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
PICTURES = ROOT / "docs" / "benchmarks"
ROWS = {
    "L1": ["model.gan_weight=0"],
    "cGAN": ["model.l1_weight=0"],
    "L1 + GAN": ["model.conditional=false"],
    "L1 + cGAN": [],
}
SETS = ("labels2scenes", "edges2digits", "edges2photos", "gray2color")
HELDOUT = 500
VALIDATION_SEED = 31_337  # the carving of the validation pairs (fixed: every row and seed scores the same pairs)
SHOWN = {
    "labels2scenes": (
        "fcn_pixel_accuracy",
        "fcn_class_accuracy",
        "fcn_class_iou",
        "fcn_texture_pixel_accuracy",
        "fcn_texture_class_accuracy",
        "fcn_texture_class_iou",
        "fid",
        "psnr",
        "ssim",
    ),
    "edges2digits": ("label_accuracy", "fid", "psnr", "ssim", "l1"),
    "edges2photos": ("fid", "psnr", "ssim", "l1"),
    "gray2color": ("fid", "psnr_rgb", "psnr", "ssim", "l1"),
}


def paper_schedule(fraction: float) -> float:
    """The paper's learning-rate multiplier at ``fraction`` of the training budget: 1 for the first half,
    then linear to 0 (the reference code's ``n_epochs`` + ``n_epochs_decay``, 100 + 100 epochs), here in
    fractions of the CPU budget because the step count a budget buys is not known in advance."""
    return 1.0 if fraction < 0.5 else max(0.0, 2.0 * (1.0 - fraction))


def train_for(trainer: Trainer, cpu_seconds: float, chunk: int = 25, schedule: str = "constant") -> dict[str, float]:
    """Run ``trainer`` in chunks of ``chunk`` steps until this process has spent ``cpu_seconds`` more CPU.

    ``schedule`` "paper": before every chunk the learning rate is set to ``paper_schedule`` of the CPU
    fraction spent so far (one multiplier per chunk of 25 steps); "constant" leaves it alone; "recipe" ignores
    the budget and trains the config's own steps with its own decay, as ``ganforge train`` does."""
    start_cpu, start_wall = time.process_time(), time.perf_counter()
    if schedule == "recipe":
        trainer.fit()
    factor = {"now": 1.0}
    if schedule == "paper":
        for sched in trainer.schedulers.values():
            sched.lr_lambdas = [lambda _t: factor["now"] for _ in sched.lr_lambdas]
    while schedule != "recipe" and time.process_time() - start_cpu < cpu_seconds:
        if schedule == "paper":
            factor["now"] = paper_schedule((time.process_time() - start_cpu) / cpu_seconds)
            for sched, opt in zip(trainer.schedulers.values(), trainer.optimizers.values(), strict=True):
                for group, base in zip(opt.param_groups, sched.base_lrs, strict=True):
                    group["lr"] = base * factor["now"]
        trainer.train_cfg.steps = trainer.step + chunk
        trainer.fit()
    return {
        "steps": trainer.step,
        "cpu_seconds": round(time.process_time() - start_cpu, 1),
        "wall_seconds": round(time.perf_counter() - start_wall, 1),
    }


def split_pairs(name: str, split: str, overrides: list[str] | None = None) -> Any:
    """``HELDOUT`` pairs (where the set has a count) of split ``split`` of set ``name``; the ``data.*``
    overrides among ``overrides`` apply (``--set data.holdout=strip`` gives the photo sets' split before
    round 13)."""
    section = dict(build_config(name, [o for o in overrides or [] if o.startswith("data.")]).data)
    section.pop("source")
    section["split"] = split
    if "count" in section:
        section["count"] = HELDOUT
    return build_source(name, section)


def heldout(name: str, overrides: list[str] | None = None) -> Any:
    """The held-out test pairs of set ``name`` (see :func:`split_pairs`)."""
    return split_pairs(name, "test", overrides)


def split_check(names: tuple[str, ...] = ("edges2photos", "gray2color"), n: int = HELDOUT, draws: int = 5) -> list[str]:
    """FID (photo statistics) of ``n`` real TRAINING targets against the ``n`` real test targets, beside the
    floor of two halves of the test targets and of two disjoint draws of ``n`` training targets, each the mean
    over ``draws`` random draws, for each way of holding photo patches out. A test split whose real images sit
    far from the training images (well above the floors) judges translators on pictures they never saw. The
    tiles are also checked as ``--validation`` uses them: the validation tiles against the training pairs
    that leave them out. Real images only; no translator is involved."""
    from ganforge.evaluation.image_metrics import frechet_distance
    from ganforge.evaluation.paired_metrics import PhotoStatistics

    net = PhotoStatistics().eval()
    lines = [f"FID on photo statistics, mean over {draws} draws of {n} training targets", "",
             "| set | holdout | train vs held out | held out half vs half | train vs train |", "|---|---|---|---|---|"]
    tile_targets: dict[tuple[str, str], torch.Tensor] = {}  # the real targets of the tiles, for the texture table
    tile_inputs: dict[tuple[str, str], torch.Tensor] = {}  # and their inputs, for the edge table (round 18)
    for name in names:
        for holdout, validation in (("strip", False), ("tiles", False), ("tiles", True)):
            extra = [f"data.holdout={holdout}"]
            train = source_from_config(build_config(name, extra + PHOTO_VALIDATION * validation).data)
            held = validation_pairs(name, extra) if validation else heldout(name, extra)
            train_x, held_x = train.x_b, held.x_b
            if holdout == "tiles":
                protocol = "validation" if validation else "test"
                tile_targets[(name, f"training ({protocol} protocol)")] = train_x
                tile_targets[(name, protocol)] = held_x
                tile_inputs[(name, f"training ({protocol} protocol)")] = train.x
                tile_inputs[(name, protocol)] = held.x
            with torch.no_grad():
                tr, te = net(train_x), net(held_x)
            gen = torch.Generator().manual_seed(0)
            cross, test_floor, train_floor = [], [], []
            for _ in range(draws):
                a, b = torch.randperm(len(tr), generator=gen)[: 2 * n].split(n)
                t = torch.randperm(len(te), generator=gen)
                cross.append(frechet_distance(tr[a], te))
                test_floor.append(frechet_distance(te[t[: len(te) // 2]], te[t[len(te) // 2 :]]))
                train_floor.append(frechet_distance(tr[a], tr[b]))
            split = f"{holdout}, {'validation' if validation else 'test'}"
            lines.append(f"| {name} | {split} | {np.mean(cross):.1f} | {np.mean(test_floor):.1f} | "
                         f"{np.mean(train_floor):.1f} |")
    lines += ["", "Texture of the real targets (tiles; round 15): mean |luma gradient| between neighbouring pixels,",
              f"its median over patches, and the share of flat patches (luma sd < {FLAT_SD})", "",
              "| set | targets | mean gradient | median gradient | flat share |", "|---|---|---|---|---|"]
    order = ("training (test protocol)", "training (validation protocol)", "validation", "test")
    for name in names:
        for which in order:
            gradient, flat = texture(tile_targets[(name, which)])
            lines.append(f"| {name} | {which} | {gradient.mean():.4f} | {gradient.median():.4f} | {flat:.2f} |")
    edge_sets = [name for name in names if name.startswith("edges")]
    if edge_sets:
        lines += ["", "Edge inputs (tiles; round 18): the share of inputs with no edge at all (one uniform picture, on",
                  "which a translator's only noise is dropout) and the median share of edge pixels per input", "",
                  "| set | inputs | edgeless share | median edge-pixel share |", "|---|---|---|---|"]
        for name in edge_sets:
            for which in order:
                edgeless, edge_pixels = edge_inputs(tile_inputs[(name, which)])
                lines.append(f"| {name} | {which} | {edgeless:.3f} | {edge_pixels:.4f} |")
    return lines


def edgeless_inputs(inputs: torch.Tensor) -> torch.Tensor:
    """(N,) bool: which edge maps (N, C, H, W) are one uniform value, i.e. hold no edge at all."""
    flat = inputs.float().flatten(1)
    return flat.amax(1) == flat.amin(1)


def edge_inputs(inputs: torch.Tensor) -> tuple[float, float]:
    """(share of inputs that hold no edge; median over inputs of the share of pixels above the input's minimum,
    i.e. on an edge) for edge maps (N, C, H, W)."""
    flat = inputs.float().flatten(1)
    on_edge = (flat > flat.amin(1, keepdim=True)).float().mean(1)
    return float(edgeless_inputs(inputs).float().mean()), float(on_edge.median())


def edge_split_fids(
    fake: torch.Tensor, inputs: torch.Tensor, real: torch.Tensor, name: str
) -> dict[str, dict[str, float]]:
    """``{"edgeless"|"edged": {"n", "fid"}}``: the FID of the outputs for edgeless inputs against their own true
    targets, and of the others against theirs (a group under ``MIN_FID_PAIRS`` is left out). A diagnostic of where
    a row's FID comes from; each group has fewer images than the whole set, so its small-sample bias is larger,
    and the two do not add up to the whole set's FID."""
    from ganforge.evaluation.image_metrics import fid
    from ganforge.evaluation.paired_metrics import MIN_FID_PAIRS, feature_network

    net = feature_network(name, int(real.shape[1]))
    edgeless = edgeless_inputs(inputs)
    out = {}
    for key, mask in (("edgeless", edgeless), ("edged", ~edgeless)):
        if int(mask.sum()) >= MIN_FID_PAIRS:
            out[key] = {"n": int(mask.sum()), "fid": fid(real[mask], fake[mask], net, with_noise_floor=False).value}
    return out


def edge_split_lines(runs: list[dict[str, Any]]) -> str:
    """One line: each row's mean FID over seeds on edged and on edgeless inputs (:func:`edge_split_fids`), and in
    how many seeds L1 + cGAN beats L1 on each; "" unless every run recorded ``by_edges`` (since round 19). A
    description of where the whole-set FID comes from, not a score of the protocol."""
    if not runs or not all("by_edges" in r for r in runs):
        return ""
    cells = []
    for row in ROWS:
        mine = [r["by_edges"] for r in runs if r["row"] == row]
        if mine:
            means = [
                f"{np.mean([m[group]['fid'] for m in mine]):.1f}" if all(group in m for m in mine) else "-"
                for group in ("edged", "edgeless")
            ]
            cells.append(f"{row} {means[0]} / {means[1]}")
    counts = []
    for group in ("edged", "edgeless"):
        scored = [{**r, "fid": r["by_edges"][group]["fid"]} for r in runs if group in r["by_edges"]]
        won, seeds = seed_wins(scored, "fid", "lower")
        if seeds:
            counts.append(f"{group} {won}/{seeds}")
    wins = "; ".join(counts)
    return f"fid by input, edged / edgeless (mean over seeds): {'; '.join(cells)}; L1 + cGAN beats L1 in seeds: {wins}"


FLAT_SD = 0.05  # luma standard deviation (images in [0, 1]) below which a 32x32 patch counts as flat


def texture(images: torch.Tensor) -> tuple[torch.Tensor, float]:
    """(per-patch mean absolute luma difference between horizontal and vertical neighbours, share of patches
    whose luma standard deviation is below ``FLAT_SD``). Blurry L1 outputs cost little FID on flat targets and
    much on textured ones, so two splits of different texture can rank the rows differently."""
    y = luma(images)
    gradient = ((y[:, :, 1:] - y[:, :, :-1]).abs().mean((1, 2)) + (y[:, 1:] - y[:, :-1]).abs().mean((1, 2))) / 2
    return gradient, float((y.flatten(1).std(1) < FLAT_SD).float().mean())


def split_validation(source: ImagePairSource, seed: int = VALIDATION_SEED) -> tuple[ImagePairSource, ImagePairSource]:
    """(training pairs, validation pairs) of a training source: a random quarter of its pairs (at most
    ``HELDOUT``) set aside for scoring, the rest kept for training; the two share no pair."""
    n_val = min(HELDOUT, len(source) // 4)
    order = torch.randperm(len(source), generator=torch.Generator().manual_seed(seed))
    val, keep = order[:n_val].sort().values, order[n_val:].sort().values

    def part(idx: torch.Tensor) -> ImagePairSource:
        return dataclasses.replace(
            source,
            x=source.x[idx],
            x_b=source.x_b[idx],
            y=None if source.y is None else source.y[idx],
            label_maps=None if source.label_maps is None else source.label_maps[idx],
            info=dict(source.info),
            _order=torch.empty(0, dtype=torch.long),
            _cursor=0,
        )

    return part(keep), part(val)


PHOTO_SETS = ("edges2photos", "gray2color")
PHOTO_VALIDATION = ["data.val_fraction=0.2"]
"""Since round 13 the photo sets validate on their own held-out tiles (20 % of every photograph's tiles, apart
from the test tiles), training on the other 60 %: a random quarter of the training patches would overlap the
patches trained on, pixel for pixel."""


def validation_pairs(name: str, overrides: list[str] | None = None) -> ImagePairSource:
    """The validation pairs of set ``name``: the photo sets' validation tiles (or strip, with ``--set
    data.holdout=strip``: ``data.*`` overrides apply as in :func:`split_pairs`), else a quarter of the training
    pairs (see :func:`split_validation`)."""
    if name in PHOTO_SETS:
        return split_pairs(name, "val", [*PHOTO_VALIDATION, *(overrides or [])])
    return split_validation(source_from_config(build_config(name).data))[1]


def run_one(
    name: str,
    row: str,
    seed: int,
    budget: float,
    test: Any,
    schedule: str = "constant",
    extra: list[str] | None = None,
    validation: bool = False,
) -> tuple[dict[str, Any], torch.Tensor]:
    """Train one row for ``budget`` CPU-s and score it on ``test`` (the held-out pairs, or the validation
    pairs when ``validation``: then it trains on the training pairs less those). ``extra`` overrides are
    appended to the row's. With ``train.ema`` the scores are the EMA generator's and ``raw`` holds the raw
    generator's scores of the same run."""
    extra = list(extra or [])
    if validation and name in PHOTO_SETS:
        extra = [*PHOTO_VALIDATION, *extra]  # train without the validation tiles
    constant = [] if schedule == "recipe" else ["train.lr_decay=none"]  # the recipe schedule keeps its decay
    config = build_config(name, [*ROWS[row], f"seed={seed}", *constant, *extra])
    rng = seed_everything(config.seed)
    source = source_from_config(config.data)
    if validation and name not in PHOTO_SETS:
        source = split_validation(source)[0]
    gan = build_model(config.model, source)
    if config.train.ema is not None:
        gan.enable_ema(config.train.ema)  # as api.train does before training
    config.train.log_every = 10**9  # no logging work inside the budget
    trainer = Trainer(gan, source, config, rng, run_dir=None, callbacks=[], show_progress=False)
    source.fit_scaler(gan.output_activation)
    timing = train_for(trainer, budget, schedule=schedule)
    gan.finish_training(source)  # what a run does when its steps are done (model.test_norm=standing)
    final_lr = trainer.optimizers["generator"].param_groups[0]["lr"]
    a, b, labels, maps = test.heldout(len(test), seed=2024)
    t0 = time.process_time()
    fake = source.scaler.to_data(gan.translate(source.scaler.to_model(a))).clamp(0, 1)
    scores = paired_scores(fake, b, name, labels, maps)
    if name == "edges2photos":  # round 19: where the FID comes from, edgeless inputs or the others
        scores["by_edges"] = edge_split_fids(fake, a, b, name)
    if gan.ema_generator is not None:
        gan.sample_with_ema = False
        raw = source.scaler.to_data(gan.translate(source.scaler.to_model(a))).clamp(0, 1)
        gan.sample_with_ema = True
        scores["raw"] = paired_scores(raw, b, name, labels, maps, with_real=False)
    try:  # a diagnostic only: the paper's test-time batch norm (statistics of the test batch)
        scores["batch_stats"] = batch_stats_scores(gan, source, a, b, name, labels, maps)
    except Exception as exc:  # noqa: BLE001 - never lose a run's main scores to the diagnostic
        scores["batch_stats"] = {"error": repr(exc)}
    record = {
        "row": row,
        "seed": seed,
        "schedule": schedule,
        "overrides": extra,
        "scored_on": "validation" if validation else "heldout",
        "final_lr": final_lr,
        **timing,
    }
    return {**record, "eval_cpu_seconds": round(time.process_time() - t0, 1), **scores}, fake


def batch_stats_scores(
    gan: Any, source: Any, a: torch.Tensor, b: torch.Tensor, name: str, labels: Any, maps: Any
) -> dict[str, dict[str, float]]:
    """Scores of the EMA (if any) and raw generators translating with ``test_norm: batch`` (batch norm on the
    statistics of each chunk of 256 test images, as the paper's inference does) instead of the running
    statistics of the run's own setting. The model is left as it was."""
    out = {}
    choices = [("ema", True), ("raw", False)] if gan.ema_generator is not None else [("raw", False)]
    setting = gan.test_norm
    try:
        gan.test_norm = "batch"
        for key, use_ema in choices:
            gan.sample_with_ema = use_ema
            fake = source.scaler.to_data(gan.translate(source.scaler.to_model(a))).clamp(0, 1)
            out[key] = paired_scores(fake, b, name, labels, maps, with_real=False)
    finally:
        gan.test_norm, gan.sample_with_ema = setting, True
    return out


def seed_wins(runs: list[dict[str, Any]], key: str, better: str) -> tuple[int, int]:
    """(k, n): in k of n seeds L1 + cGAN beats L1 on ``key``, each seed's two runs compared with each other
    (a seed fixes the initialisation and the batch order of both rows, so the comparison is paired)."""
    by_seed = {
        seed: {r["row"]: r[key] for r in runs if r["seed"] == seed and r["row"] in ("L1", "L1 + cGAN")}
        for seed in sorted({r["seed"] for r in runs})
    }
    pairs = [(v["L1 + cGAN"], v["L1"]) for v in by_seed.values() if len(v) == 2]
    wins = sum(a > b if better == "higher" else a < b for a, b in pairs)
    return wins, len(pairs)


def ordering_verdict(cgan: float, l1: float, better: str, wins: int, seeds: int) -> str:
    """"holds" when L1 + cGAN's mean ``cgan`` beats L1's ``l1`` and so does L1 + cGAN in more than half of the
    ``seeds`` paired seeds (``wins`` of them, as :func:`seed_wins` counts); "holds on the mean only" when the mean
    wins but at most half the seeds do (one lucky seed can carry a mean of three); "fails" when the mean does not."""
    if not (cgan > l1 if better == "higher" else cgan < l1):
        return "fails"
    return "holds" if 2 * wins > seeds else "holds on the mean only"


def summarize(name: str, runs: list[dict[str, Any]], raw: bool = False, batch_stats: bool = False) -> str:
    """Markdown table of ``runs`` (mean ± std over seeds per row), the paper's checks and the FID per seed;
    ``raw``: the raw generator's scores of EMA runs instead of the EMA generator's; ``batch_stats``: the
    scores with batch norm on the test batch's statistics (:func:`batch_stats_scores`)."""
    if batch_stats:
        which = "raw" if raw else "ema"
        runs = [{**r, **r["batch_stats"][which]} for r in runs if which in r.get("batch_stats", {})]
        if not runs:
            return f"{name}: no batch-statistics scores of the {which} generator"
    elif raw:
        runs = [{**r, **r["raw"]} for r in runs if "raw" in r]
        if not runs:
            return f"{name}: no raw-generator scores (the runs had no train.ema)"
    shown = tuple(k for k in SHOWN[name] if all(k in r for r in runs))  # psnr_rgb: since round 11
    lines = [
        f"| {name} | " + " | ".join(shown) + " | steps | CPU s |",
        "|---" * (len(shown) + 3) + "|",
    ]
    for row in ROWS:
        mine = [r for r in runs if r["row"] == row]
        if not mine:
            continue
        cells = []
        for key in shown:
            values = np.array([r[key] for r in mine], dtype=float)
            cells.append(f"{values.mean():.3f} ± {values.std():.3f}")
        steps = np.mean([r["steps"] for r in mine])
        cpu = np.mean([r["cpu_seconds"] for r in mine])
        lines.append(f"| {row} | " + " | ".join(cells) + f" | {steps:.0f} | {cpu:.0f} |")
    means = {
        row: {k: float(np.mean([r[k] for r in runs if r["row"] == row])) for k in shown}
        for row in ROWS
        if any(r["row"] == row for r in runs)
    }
    if "L1" in means and "L1 + cGAN" in means:
        checks = []
        fcn_keys = [k for k in shown if k.startswith("fcn_")]  # every FCN-score shown, higher is better
        for key, better in (*((k, "higher") for k in fcn_keys), ("fid", "lower")):
            if key in shown:
                a, b = means["L1 + cGAN"][key], means["L1"][key]
                wins, seeds = seed_wins(runs, key, better)
                checks.append(
                    f"{key}: L1 + cGAN {a:.3f} vs L1 {b:.3f} ({ordering_verdict(a, b, better, wins, seeds)}, "
                    f"{a - b:+.3f}; per seed {wins}/{seeds})"
                )
        # colour from gray keeps the luma (model.keep_luma): PSNR on it says nothing, so RGB PSNR decides there
        psnr = "psnr_rgb" if name == "gray2color" and "psnr_rgb" in shown else "psnr"
        best_psnr = max(means, key=lambda row: means[row][psnr])
        checks.append(f"best {psnr}: {best_psnr} ({means[best_psnr][psnr]:.2f} dB; L1 {means['L1'][psnr]:.2f} dB)")
        lines += ["", "paper's ordering: " + "; ".join(checks)]
    if "fid" in shown:
        per_seed = "; ".join(
            f"{row} " + " / ".join(f"{r['fid']:.1f}" for r in runs if r["row"] == row)
            for row in ROWS
            if any(r["row"] == row for r in runs)
        )
        lines += [
            "",
            f"fid per seed ({', '.join(str(r['seed']) for r in runs if r['row'] == runs[0]['row'])}): {per_seed}",
        ]
    by_edges = edge_split_lines(runs)
    if by_edges:
        lines += ["", by_edges]
    real = {k: v for k, v in runs[0].items() if k.endswith("_real") or k == "fid_floor"}
    lines.append("")
    lines.append("real test targets: " + ", ".join(f"{k} {v:.3f}" for k, v in real.items()))
    return "\n".join(lines)


def choose_ema(candidates: dict[str, list[dict[str, Any]]]) -> tuple[str, dict[str, float]]:
    """The setting with the lowest geometric-mean validation FID over every (set, row) run, and each
    candidate's value: ``exp(mean log FID)`` (a ratio scale, so no set's FID range outweighs another's).

    ``candidates`` maps an EMA decay (as written in ``train.ema``) to its validation runs; "raw" (the
    raw generators, no EMA) is scored from the ``raw`` entries of those same runs, every run counted. Fixed
    before any validation result was seen: FID over all four rows, not the ordering the paper predicts."""
    logs: dict[str, list[float]] = {"raw": []}
    for decay, runs in candidates.items():
        logs[decay] = [float(np.log(r["fid"])) for r in runs]
        logs["raw"] += [float(np.log(r["raw"]["fid"])) for r in runs if "raw" in r]
    means = {k: float(np.exp(np.mean(v))) for k, v in logs.items() if v}
    return min(means, key=means.__getitem__), means


def saved_results(name: str, suffix: str) -> Path:
    """The result file of ``name`` with ``suffix``; a one-line error (exit 2) naming the saved ones if absent."""
    path = RESULTS / f"pix2pix-{name}{suffix}.json"
    if not path.exists():
        files = RESULTS.glob(f"pix2pix-{name}*.json")
        saved = sorted(p.stem.removeprefix(f"pix2pix-{name}") or "(no tag)" for p in files)
        print(
            f"error: no saved results at {path}; run the benchmark with that set and tag first, "
            f"or pick a saved suffix of {name}: {', '.join(saved) or 'none'}",
            file=sys.stderr,
        )
        sys.exit(2)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", nargs="+", default=["labels2scenes", "edges2digits", "edges2photos"], choices=SETS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--budget", type=float, default=60.0, help="CPU seconds of training per row and seed")
    parser.add_argument("--rows", nargs="+", default=list(ROWS), choices=list(ROWS))
    parser.add_argument("--tag", default="", help="suffix of the result file and picture (pix2pix-<set><tag>.json)")
    parser.add_argument(
        "--schedule",
        default="constant",
        choices=["constant", "paper", "recipe"],
        help="learning rate: constant, or the paper's (constant for the first half of the budget, then linear to "
        "0); recipe: no budget, the recipe's own steps and decay (what `ganforge train` gives)",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an override appended to every row (repeatable), e.g. --set train.ema=0.999",
    )
    parser.add_argument(
        "--validation",
        action="store_true",
        help="score on pairs carved from the training pairs (not trained on), never the held-out test pairs",
    )
    parser.add_argument("--raw", action="store_true", help="with --report: the raw generator's scores of EMA runs")
    parser.add_argument(
        "--batch-stats",
        action="store_true",
        help="with --report: the scores with batch norm on the test batch's statistics (a diagnostic)",
    )
    parser.add_argument("--report", action="store_true", help="print the tables of the saved results; no training")
    parser.add_argument(
        "--choose-ema",
        nargs="+",
        metavar="DECAY",
        help="print the EMA decay (or raw) with the lowest geometric-mean FID over the saved validation runs "
        "of --sets, tags -ema<DECAY> (choose_ema); no training",
    )
    parser.add_argument(
        "--split-check",
        action="store_true",
        help="print how far the real test targets of the photo sets lie from the real training targets; no training",
    )
    args = parser.parse_args()
    if args.split_check:
        torch.set_num_threads(1)
        print("\n".join(split_check()))
        return
    suffix = ("-validation" if args.validation else "") + args.tag
    if args.choose_ema:
        candidates = {
            d: [
                r
                for name in args.sets
                for r in json.loads(saved_results(name, f"-validation-ema{d}").read_text())["runs"]
            ]
            for d in args.choose_ema
        }
        best, means = choose_ema(candidates)
        for key, value in means.items():
            n = sum(map(len, candidates.values())) if key == "raw" else len(candidates[key])
            print(f"{key}: geometric-mean validation FID {value:.3f} over {n} runs")
        print(f"chosen: {best}")
        return
    if args.report:
        for name in args.sets:
            saved = json.loads(saved_results(name, suffix).read_text())
            print(summarize(name, saved["runs"], raw=args.raw, batch_stats=args.batch_stats) + "\n")
        return
    torch.set_num_threads(1)
    from ganforge.report.image_pictures import save_grid

    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in args.sets:
        test = validation_pairs(name, args.overrides) if args.validation else heldout(name, args.overrides)
        runs, pictures = [], {}
        for seed in args.seeds:
            for row in args.rows:
                record, fake = run_one(
                    name, row, seed, args.budget, test, args.schedule, args.overrides, args.validation
                )
                runs.append(record)
                print(json.dumps({"set": name, **record}), flush=True)
                if seed == args.seeds[0]:
                    pictures[row] = fake[:8]
                out = {
                    "set": name,
                    "budget_cpu_seconds": args.budget,
                    "schedule": args.schedule,
                    "overrides": args.overrides,
                    "scored_on": "validation" if args.validation else "heldout",
                    "seeds": args.seeds,
                    "heldout_pairs": len(test),
                    "runs": runs,
                }  # rewritten after every run: a stop loses one run
                (RESULTS / f"pix2pix-{name}{suffix}.json").write_text(json.dumps(out, indent=1) + "\n")
        print(summarize(name, runs), flush=True)
        if args.validation:
            continue  # pictures of the test pairs only
        a, b, _, _ = test.heldout(len(test), seed=2024)
        columns = [a[:8], *pictures.values(), b[:8]]
        if len({c.shape[1] for c in columns}) > 1:
            columns = [c.expand(-1, 3, -1, -1) if c.shape[1] == 1 else c for c in columns]
        grid = torch.stack(columns, dim=1).flatten(0, 1)
        save_grid(grid, PICTURES / f"pix2pix-{name}{suffix}.png", ncol=len(columns))


if __name__ == "__main__":
    main()
