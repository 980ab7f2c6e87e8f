"""Benchmarks of the rest of the GAN family: LAPGAN, StyleGAN (vs DCGAN), SRGAN and CycleGAN.

    python benchmarks/family.py gans --only lapgan --budget 150   # and stylegan, dcgan: digits FID/KID, equal CPU
    python benchmarks/family.py srgan    --budget 150   # SRGAN x4: PSNR/SSIM/photo features on held-out patches
    python benchmarks/family.py srgan --split val --candidate lr1e-3=train.optimizer.lr=0.001  # choices
    python benchmarks/family.py cyclegan --budget 150 --transform invert   # label preservation, cycle error
    python benchmarks/family.py pyramid-floors   # FID of real digits through LAPGAN's low-pass path, per depth

Every model trains from its shipped recipe (``src/ganforge/recipes``) through the generic Trainer, for
the same budget of *CPU seconds of this process* (``time.process_time``, one torch thread), not wall
seconds: the machine is shared, and CPU time is what a model actually got. Results go to stdout as tables,
to ``benchmarks/results/family-<what>.json`` and pictures to ``docs/benchmarks/family-*.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

import torch

from ganforge.api import build_config
from ganforge.data.registry import source_from_config
from ganforge.gans.registry import build_model
from ganforge.runs import Run
from ganforge.training.seeding import seed_everything
from ganforge.training.trainer import Trainer

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
PICTURES = ROOT / "docs" / "benchmarks"


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def build(recipe: str, overrides: list[str] | None = None) -> tuple[Any, Any, Any, torch.Generator]:
    config = build_config(recipe, overrides)
    rng = seed_everything(config.seed)
    source = source_from_config(config.data)
    gan = build_model(config.model, source)
    if config.train.ema is not None:
        gan.enable_ema(config.train.ema)
    return config, source, gan, rng


def train_for(trainer: Trainer, cpu_seconds: float, chunk: int = 25) -> dict[str, float]:
    """Run ``trainer`` in chunks of ``chunk`` steps until this process has spent ``cpu_seconds`` more CPU."""
    start_cpu, start_wall = time.process_time(), time.perf_counter()
    while time.process_time() - start_cpu < cpu_seconds:
        trainer.train_cfg.steps = trainer.step + chunk
        trainer.fit()
    return {
        "steps": trainer.step,
        "cpu_seconds": round(time.process_time() - start_cpu, 1),
        "wall_seconds": round(time.perf_counter() - start_wall, 1),
    }


def make_trainer(config: Any, source: Any, gan: Any, rng: torch.Generator) -> Trainer:
    config.train.log_every = 10**9  # no logging work inside the budget
    return Trainer(gan, source, config, rng, run_dir=None, callbacks=[], show_progress=False)


# ------------------------------------------------------------------------------ LAPGAN / StyleGAN / DCGAN


def score_generators(gan: Any, source: Any, n: int, tag: str, slug: str) -> dict[str, Any]:
    """FID/KID of the raw and the EMA generator on the same latents, and which one ``ganforge sample`` would
    use (``evaluation.ema_choice``: the EMA unless its sliced W1 to the real training data is worse)."""
    from ganforge.evaluation.ema_choice import choose_sampling_generator
    from ganforge.evaluation.image_metrics import fid, kid
    from ganforge.report.image_pictures import save_grid

    real = source.x
    gan.eval()
    images = {}
    for name, use_ema in (("raw", False), ("ema", True)):
        gan.sample_with_ema = use_ema
        torch.manual_seed(123)
        images[name] = source.scaler.to_data(gan.sample(n)).clamp(0, 1)
    choice = choose_sampling_generator(gan, source) or {"used": "raw"}
    scores: dict[str, Any] = {"sample_uses": choice["used"]}
    for name, fake in images.items():
        f = fid(real, fake, reference="digits 32x32 (all 1797)")
        k = kid(real, fake, reference="digits 32x32 (all 1797)")
        suffix = "_raw" if name == "raw" else ""
        scores.update({f"fid{suffix}": f.value, f"kid{suffix}": k.value})
        scores.update({"fid_noise_floor": f.noise_floor, "kid_noise_floor": k.noise_floor})
        save_grid(fake[:64], PICTURES / f"family-samples-{slug}{tag}{'-raw' if name == 'raw' else ''}.png", ncol=8)
    scores["fid_sampled"] = scores["fid" if choice["used"] == "ema" else "fid_raw"]
    gan.train()
    return scores


def bench_gans(
    budget: float,
    n: int,
    only: str | None = None,
    recipe_overrides: list[str] | None = None,
    tag: str = "",
    score_at: list[float] | None = None,
) -> dict[str, Any]:
    """Each model trains until ``budget`` CPU-s, scored at every budget in ``score_at`` on the way (one run,
    so the 150-s and 600-s rows are the same trajectory; scoring time is not counted)."""
    from ganforge.evaluation.image_metrics import fid
    from ganforge.report.image_pictures import save_grid

    models = {
        "LAPGAN (16->32)": ("digits-lapgan", [], "lapgan"),
        "StyleGAN (small)": ("digits-stylegan", [], "stylegan"),
        "DCGAN": ("digits-dcgan", ["data.size=32"], "dcgan"),
    }
    checkpoints = sorted({*(score_at or []), budget})
    rows = {}
    for label, (recipe, overrides, slug) in models.items():
        if only is not None and slug != only:
            continue
        config, source, gan, rng = build(recipe, [*overrides, *(recipe_overrides or [])])
        trainer = make_trainer(config, source, gan, rng)
        source.fit_scaler(gan.output_activation)
        spent, steps_wall = 0.0, 0.0
        for at in checkpoints:
            timing = train_for(trainer, at - spent)
            spent += timing["cpu_seconds"]
            steps_wall += timing["wall_seconds"]
            scores = score_generators(gan, source, n, f"{tag}-{at:.0f}s" if len(checkpoints) > 1 else tag, slug)
            row_label = f"{label} @ {at:.0f} CPU-s" if len(checkpoints) > 1 else label
            rows[row_label] = {
                "steps": trainer.step,
                "cpu_seconds": round(spent, 1),
                "wall_seconds": round(steps_wall, 1),
                **scores,
                "n_fake": n,
                "parameters_g": sum(p.numel() for p in gan.generator.parameters()),
                "overrides": recipe_overrides or [],
            }
            print(f"{row_label}: {rows[row_label]}", flush=True)
        gan.eval()
        if slug == "stylegan":
            real = source.x
            rows[row_label]["fid_truncation_0.7"] = fid(
                real, source.scaler.to_data(gan.sample(n, truncation=0.7)).clamp(0, 1)
            ).value
            grid = source.scaler.to_data(gan.style_mix_grid(4, 6)).clamp(0, 1)
            save_grid(grid, PICTURES / "family-stylegan-mixing.png", ncol=7)
        if slug == "lapgan":
            levels = [source.scaler.to_data(x).clamp(0, 1) for x in gan.sample_levels(8)]
            from ganforge.nets.pyramid import upsample

            rows_ = torch.cat([upsample(x, (32, 32)) for x in reversed(levels)])
            save_grid(rows_, PICTURES / f"family-lapgan{tag}-levels.png", ncol=8)
    print(
        f"\nDigits 32x32, CPU-seconds of training (1 thread); FID/KID on digits-classifier features, "
        f"{n} generated vs 1797 real; 'uses' = the generator `ganforge sample` picks; load {load_average()}"
    )
    head = (
        f"{'model':<34}{'steps':>7}{'FID raw':>9}{'FID EMA':>9}{'uses':>6}{'floor':>8}"
        f"{'KID raw':>9}{'KID EMA':>9}{'floor':>8}"
    )
    print(head)
    for label, r in rows.items():
        print(
            f"{label:<34}{r['steps']:>7}{r['fid_raw']:>9.2f}{r['fid']:>9.2f}{r['sample_uses']:>6}"
            f"{r['fid_noise_floor']:>8.2f}{r['kid_raw']:>9.3f}{r['kid']:>9.3f}{r['kid_noise_floor']:>8.3f}"
        )
    return rows


def bench_pyramid_floors(n: int) -> dict[str, float]:
    """FID of REAL digits passed through the Laplacian pyramid's low-pass path, against all real digits: what a
    LAPGAN whose refiners add nothing would score with a perfect coarsest level, per pyramid depth (``n`` of
    the 1797 digits, a fixed random subset; depth 0 is that subset itself)."""
    from ganforge.data.images import digits
    from ganforge.evaluation.image_metrics import fid
    from ganforge.nets.pyramid import downsample, upsample

    real = digits(size=32).x
    subset = real[torch.randperm(len(real), generator=torch.Generator().manual_seed(0))[:n]]
    rows = {}
    for depth in range(3):
        low = subset
        for _ in range(depth):
            low = downsample(low)
        side = low.shape[-1]
        for size in (2 * side, 4 * side)[: depth]:  # upsampled octave by octave, as LAPGAN samples
            low = upsample(low, (size, size))
        rows[f"{side}x{side} level, upsampled to 32x32"] = fid(real, low.clamp(0, 1)).value
    print(f"\nReal digits through the pyramid's low-pass path ({n} of 1797), FID against all 1797")
    for label, value in rows.items():
        print(f"{label:<40}{value:>8.2f}")
    return rows


# ---------------------------------------------------------------------------------------------- SRGAN


def srgan_candidate(
    budget: float, n: int, overrides: list[str], split: str, tag: str
) -> dict[str, Any]:
    """One SRGAN configuration: half the budget SRResNet stage, half adversarial; bicubic, SRResNet and
    SRGAN scored on the same ``split`` pairs (PSNR/SSIM and the photo-feature measures)."""
    from ganforge.evaluation.superres_metrics import compare_with_bicubic, heldout_pairs
    from ganforge.report.family_pictures import superres_rows
    from ganforge.report.image_pictures import save_grid

    config, source, gan, rng = build("photos-srgan", overrides)
    gan.pretrain_steps = 10**9  # SRResNet stage: until half the budget is spent
    trainer = make_trainer(config, source, gan, rng)
    source.fit_scaler(gan.output_activation)
    run = Run(Path("."), config, gan, source)
    pre = train_for(trainer, budget / 2)
    high, low, reference = heldout_pairs(run, n, split)
    srresnet = compare_with_bicubic(run, high, low)
    gan.pretrain_steps = trainer.step
    adv = train_for(trainer, budget / 2)
    srgan = compare_with_bicubic(run, high, low)
    save_grid(superres_rows(run, high[:6], low[:6]), PICTURES / f"family-srgan{tag}.png", ncol=4)
    return {
        "overrides": overrides,
        "reference": reference,
        "pretrain": pre,
        "adversarial": adv,
        "bicubic": {k.removeprefix("bicubic_"): v for k, v in srresnet.items() if k.startswith("bicubic")},
        "srresnet_stage": {k: v for k, v in srresnet.items() if not k.startswith("bicubic")},
        "srgan": {k: v for k, v in srgan.items() if not k.startswith("bicubic")},
    }


def bench_srgan(
    budget: float, n: int, overrides: list[str], tag: str = "", candidates: list[str] | None = None, split: str = "test"
) -> dict[str, Any]:
    """The recipe (with ``overrides``) and each candidate ``LABEL=key=value,key=value`` on top of it, one after
    the other in this process, each with the full budget. ``split="val"`` trains on the columns left of a
    validation strip (``data.val_fraction=0.2``) and scores on that strip: for choosing settings; the
    held-out test split is for reporting the chosen ones once."""
    base = [*overrides, "data.val_fraction=0.2"] if split == "val" else list(overrides)
    configs = {"recipe": base}
    for spec in candidates or []:
        label, _, sets = spec.partition("=")
        configs[label] = [*base, *[x for x in sets.split(",") if x]]
    rows = {}
    for label, sets in configs.items():
        suffix = tag if label == "recipe" else f"{tag}-{label}"
        rows[label] = srgan_candidate(budget, n, sets, split, suffix)
        print(f"{label}: {rows[label]}", flush=True)
    first = next(iter(rows.values()))
    print(
        f"\nSRGAN x4, photo patches 32x32 -> {first['reference']}; {budget:.0f} CPU-s each "
        f"(half SRResNet stage, half adversarial) {' '.join(overrides)}; load {load_average()}; "
        "featdist / FIDphoto: shipped photo features, originals score 0, lower is better"
    )
    print(f"{'method':<40}{'steps':>7}{'PSNR(Y)':>9}{'SSIM(Y)':>9}{'PSNR(RGB)':>11}{'featdist':>10}{'FIDphoto':>10}")
    lines = [("bicubic", "", first["bicubic"])]
    for label, r in rows.items():
        lines.append((f"{label}: SRResNet stage", r["pretrain"]["steps"], r["srresnet_stage"]))
        lines.append((f"{label}: SRGAN", r["adversarial"]["steps"], r["srgan"]))
    for label, steps, r in lines:
        print(
            f"{label:<40}{steps!s:>7}{r['psnr']:>9.2f}{r['ssim']:>9.4f}{r['psnr_rgb']:>11.2f}"
            f"{r.get('feature_distance', float('nan')):>10.4f}{r.get('fid_photo', float('nan')):>10.3f}"
        )
    return {"split": split, "candidates": rows}


# ------------------------------------------------------------------------------------------- CycleGAN


def bench_cyclegan(budget: float, transform: str, overrides: list[str], tag: str) -> dict[str, Any]:
    from ganforge.evaluation.translation_metrics import evaluate_translation
    from ganforge.report.family_pictures import translation_pictures

    config, source, gan, rng = build("digits-cyclegan", [f"data.transform={transform}", *overrides])
    trainer = make_trainer(config, source, gan, rng)
    source.fit_scaler(gan.output_activation)
    timing = train_for(trainer, budget)
    run = Run(Path("."), config, gan, source)
    report = evaluate_translation(run, 450, [])
    picture = translation_pictures(run, PICTURES)["translation"]
    final = PICTURES / f"family-cyclegan-{transform}{tag}.png"
    os.replace(picture, final)
    result = {**timing, **report, "overrides": overrides, "picture": str(final.relative_to(ROOT))}
    print(
        f"\nCycleGAN digits <-> {transform} digits {' '.join(overrides)} (16x16), {budget:.0f} CPU-s = "
        f"{timing['steps']} steps; "
        f"{report['reference']}; load {load_average()}"
    )
    print(f"{'digits classifier accuracy on':<46}{'value':>8}")
    for key, label in (
        ("label_accuracy_originals", "original test digits (ceiling)"),
        ("label_accuracy_untranslated_b", f"{transform} digits, untranslated (floor)"),
        ("label_accuracy_a2b", "A->B translated, exact inverse applied"),
        ("label_accuracy_b2a", "B->A translated"),
    ):
        print(f"{label:<46}{report[key]:>8.3f}")
    print(
        f"cycle reconstruction error |F(G(a))-a|: {report['cycle_error_a']:.4f}, "
        f"|G(F(b))-b|: {report['cycle_error_b']:.4f} (mean abs, pixels in [0, 1])"
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=["gans", "srgan", "cyclegan", "pyramid-floors"])
    parser.add_argument("--budget", type=float, default=240.0, help="CPU seconds of training per model")
    parser.add_argument("--n", type=int, default=1000, help="generated images (gans) / test patches (srgan)")
    parser.add_argument("--transform", default="invert", choices=["invert", "rotate"])
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="recipe override (a=b)")
    parser.add_argument("--tag", default="", help="suffix of the result and picture names")
    parser.add_argument("--only", choices=["lapgan", "stylegan", "dcgan"], help="gans: one model (run in parallel)")
    parser.add_argument(
        "--candidate", action="append", default=[], help="srgan: LABEL=key=value,key=value measured beside the recipe"
    )
    parser.add_argument(
        "--score-at", type=float, action="append", default=[], help="gans: also score at this CPU budget (repeat)"
    )
    parser.add_argument("--split", default="test", choices=["val", "test"], help="srgan: val (choices) / test")
    args = parser.parse_args()
    torch.set_num_threads(1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    PICTURES.mkdir(parents=True, exist_ok=True)
    started = load_average()
    if args.what == "gans":
        result = bench_gans(args.budget, args.n, args.only, args.overrides, args.tag, args.score_at)
    elif args.what == "pyramid-floors":
        result = bench_pyramid_floors(args.n)
    elif args.what == "srgan":
        result = bench_srgan(args.budget, min(args.n, 500), args.overrides, args.tag, args.candidate, args.split)
    else:
        result = bench_cyclegan(args.budget, args.transform, args.overrides, args.tag)
    suffix = f"-{args.transform}" if args.what == "cyclegan" else (f"-{args.only}" if args.only else "")
    suffix += ("-val" if args.what == "srgan" and args.split == "val" else "") + args.tag
    record = {
        "what": args.what,
        "budget_cpu_seconds": args.budget,
        "load_at_start": started,
        "load_at_end": load_average(),
        "torch": torch.__version__,
        "result": result,
    }
    (RESULTS / f"family-{args.what}{suffix}.json").write_text(json.dumps(record, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
