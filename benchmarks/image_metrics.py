"""Image metrics: sanity checks of FID/KID/PRDC, and the shipped image recipes measured with noise floors.

Four tables, each printed as it is computed:

1. **Sanity** (digits features, all of scikit-learn's 1,797 digits): FID / KID / precision / recall of
   one random half of the digits (898 images) against the other (899) — the noise floor — next to the same
   half against uniform noise images, against heavily blurred digits, and against the other half split
   *by writer* (the file is ordered by writer, so its first and last halves differ in handwriting). For
   stacked digits the same with the per-channel digits features on 5,000 fresh draws per side.
2. **Noise removal**: FID (and precision / recall) of half B + Gaussian pixel noise N(0, sigma^2), clamped
   to [0, 1], against half A, for sigma from 1.0 down to 0: FID must fall monotonically towards the floor.
3. **Intra-FID** (Miyato and Koyama 2018): half B of the digits scored as a conditional generator's output
   against half A, with 0 / 10 / 30 / 100 % of its labels replaced by another digit, and with every class
   collapsed onto 5 of its images: FID cannot see a wrong label, intra-FID and conditional accuracy can, and
   only intra-FID sees the collapse within a class.
4. **Recipes**: each shipped image recipe (digits-dcgan, digits-cgan, digits-mlp, stacked-digits-dcgan;
   missing ones are reported and skipped) is trained as shipped — or an existing run is read with
   ``--run NAME=PATH`` — and evaluated by ``run.evaluate`` on ``--n`` images (seed 0): FID with its noise
   floor (mean ± std over 10 half-splits) and ``fid_matched`` (the model at the floor's sample size), KID
   with its floor, precision / recall / density / coverage (all real images, and at the floor's sample sizes)
   beside real-half-vs-real-half, Inception-free
   IS beside the real data's IS, conditional accuracy beside the classifier's accuracy on real digits.
   Stacked digits: modes and KL to uniform on 26,000 samples (PacGAN's count) beside the published
   Stacked-MNIST rows (those are MNIST 28x28 with a Keras MNIST classifier; ours are 8x8 scikit-learn
   digits upsampled to 16x16 with the shipped digits classifier, and a far shorter training run).

Run::

    python benchmarks/image_metrics.py                       # all three tables; trains the recipes
    python benchmarks/image_metrics.py --only sanity noise   # the fast tables (under a minute)
    python benchmarks/image_metrics.py --only intra          # intra-FID against FID (seconds)
    python benchmarks/image_metrics.py --run digits-dcgan=runs/digits-dcgan-... --out runs/bench
    python benchmarks/image_metrics.py --json results.json   # also write every number
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

RECIPES = ("digits-dcgan", "digits-cgan", "digits-mlp", "stacked-digits-dcgan")
# Published Stacked-MNIST results (1000 modes, 26,000 samples, MNIST classifier), as reported by the papers.
PUBLISHED = (
    ("DCGAN (VEEGAN paper, Table 2)", 99.0, 3.40),
    ("VEEGAN (Srivastava et al. 2017)", 150.0, 2.95),
    ("PacDCGAN2 (Lin et al. 2018, Table 3)", 1000.0, 0.06),
    ("WGAN-GP (as cited in issue 4)", 995.0, 0.148),
)


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def _table(headers: list[str], rows: list[list[Any]]) -> None:
    cells = [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    print(flush=True)


# --------------------------------------------------------------------------------------------------


def _sanity_row(name: str, r: dict[str, Any]) -> list[Any]:
    floor = f"{r['fid_noise_floor']:.4g} ± {r['fid_noise_floor_std']:.2g}"
    sizes = f"{r['n_real']} / {r['n_fake']}"
    return [name, sizes, r["fid"], r["fid_matched"], floor, r["kid"], r["kid_noise_floor"],
            _prdc_cell(r, "precision"), _prdc_cell(r, "recall")]


def sanity() -> dict[str, Any]:
    """Real vs real, vs noise, vs blur, vs other writers — digits and stacked digits."""
    from ganforge.data.images import digits_images, resize_images
    from ganforge.data.stacked import draw_stacked
    from ganforge.evaluation.image_suite import image_report

    images, _ = digits_images()
    perm = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
    half = len(images) // 2
    a, b = images[perm[:half]], images[perm[half:]]
    noise = torch.rand(len(b), 1, 8, 8, generator=torch.Generator().manual_seed(1))
    blurred = resize_images(resize_images(b, 4), 8)
    cases = {
        "real half vs real half (random split)": (a, b),
        "first half vs last half of the file (other writers)": (images[:half], images[half:]),
        "real half vs blurred digits (8->4->8 px)": (a, blurred),
        "real half vs uniform noise images": (a, noise),
    }
    metrics = ["fid", "kid", "prdc"]
    out: dict[str, Any] = {}
    rows = []
    for name, (ref, other) in cases.items():
        r = image_report(ref, other, metrics, "digits", reference=name)
        out[name] = r
        rows.append(_sanity_row(name, r))
    gen = torch.Generator().manual_seed(2)
    s_ref, _ = draw_stacked(5000, gen)
    s_other, _ = draw_stacked(5000, gen)
    s_noise = torch.rand(5000, 3, 8, 8, generator=gen)
    for name, (ref, other) in {
        "stacked: fresh draws vs fresh draws": (s_ref, s_other),
        "stacked: fresh draws vs uniform noise": (s_ref, s_noise),
    }.items():
        r = image_report(ref, other, metrics, "digits", reference=name)
        out[name] = r
        rows.append(_sanity_row(name, r))
    print("## Sanity: FID / KID / PRDC on real data (digits features)\n")
    headers = ["comparison", "n ref / other", "FID", "FID at floor n", "FID floor ± std", "KID", "KID floor"]
    _table([*headers, "precision (at floor n) / floor", "recall (at floor n) / floor"], rows)
    return out


def noise_removal() -> dict[str, Any]:
    """FID of real digits + N(0, sigma^2) pixel noise against the other real half, sigma 1.0 -> 0."""
    from ganforge.data.images import digits_images
    from ganforge.evaluation.image_suite import image_report
    from ganforge.nets.features import load_digits_classifier

    images, _ = digits_images()
    perm = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
    half = len(images) // 2
    a, b = images[perm[:half]], images[perm[half:]]
    net = load_digits_classifier()
    sigmas = (1.0, 0.5, 0.3, 0.2, 0.1, 0.05, 0.02, 0.01, 0.0)
    rows, fids = [], []
    for sigma in sigmas:
        noisy = (b + sigma * torch.randn(b.shape, generator=torch.Generator().manual_seed(3))).clamp(0, 1)
        r = image_report(a, noisy, ["fid", "prdc"], net)
        fids.append(r["fid"])
        rows.append([sigma, r["fid"], r["fid_matched"], r["fid_noise_floor"], r["precision"], r["recall"]])
    monotone = all(x > y for x, y in zip(fids, fids[1:], strict=False))
    print("## FID as Gaussian noise is removed from real digits (reference: the other half)\n")
    _table(["noise sigma", "FID", "FID at floor n", "FID floor", "precision", "recall"], rows)
    print(f"FID strictly decreasing as sigma falls: {'yes' if monotone else 'NO'}\n", flush=True)
    return {"sigma": list(sigmas), "fid": fids, "monotone": monotone}


def intra_fid() -> dict[str, Any]:
    """What intra-FID sees that FID does not: real digits (half B) scored as a conditional generator's output
    against half A, with a share of B's labels replaced by another digit (a generator that draws the wrong class
    that often), and with each class collapsed onto 5 of its images (right labels, little variety)."""
    from ganforge.data.images import digits_images
    from ganforge.evaluation.image_suite import image_report
    from ganforge.nets.features import load_digits_classifier

    images, labels = digits_images()
    perm = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))
    half = len(images) // 2
    a, a_y, b, b_y = images[perm[:half]], labels[perm[:half]], images[perm[half:]], labels[perm[half:]]
    classifier = load_digits_classifier()
    gen = torch.Generator().manual_seed(4)
    cases: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    for wrong in (0.0, 0.1, 0.3, 1.0):
        flip = torch.rand(len(b_y), generator=gen) < wrong
        other = (b_y + torch.randint(1, 10, (len(b_y),), generator=gen)) % 10  # any other digit
        cases[f"real half B, {wrong:.0%} of labels wrong"] = (b, torch.where(flip, other, b_y))
    collapsed = b.clone()
    for k in range(10):
        where = (b_y == k).nonzero().ravel()
        collapsed[where] = b[where[torch.arange(len(where)) % 5]]
    cases["real half B, each class collapsed onto 5 images"] = (collapsed, b_y)
    metrics = ["fid", "intra_fid", "conditional_accuracy"]
    out: dict[str, Any] = {}
    rows = []
    for name, (fake, fake_y) in cases.items():
        r = image_report(a, fake, metrics, "digits", real_labels=a_y, fake_labels=fake_y, classifier=classifier)
        out[name] = r
        rows.append(
            [name, r["fid"], r["fid_matched"], f"{r['fid_noise_floor']:.3g}", r["intra_fid"], r["intra_fid_matched"],
             r["intra_fid_noise_floor"], r["conditional_accuracy"]]
        )
    print("## Intra-FID against FID: the same real digits with wrong labels, or collapsed within each class\n")
    headers = ["generated set (reference: real half A, 898)", "FID", "FID at floor n", "FID floor", "intra-FID"]
    _table([*headers, "intra-FID at floor n", "intra-FID floor", "cond. acc."], rows)
    return out


# --------------------------------------------------------------------------------------------------


def _run_for(recipe: str, given: dict[str, str], out: Path) -> tuple[Any, float | None]:
    import ganforge as gf
    from ganforge.recipes import recipe_names

    if recipe in given:
        return gf.load(given[recipe]), None
    if recipe not in recipe_names():
        return None, None
    t0 = time.perf_counter()
    run = gf.train(recipe, out=out / recipe, show_progress=False)
    return run, time.perf_counter() - t0


def _prdc_cell(report: dict[str, Any], name: str) -> str:
    """``value (value at the floor's sample sizes) / floor``; the middle number is what the floor judges."""
    matched = f" ({report[name + '_matched']:.3f})" if name + "_matched" in report else ""
    return f"{report[name]:.3f}{matched} / {report[name + '_real']:.3f}"


def recipes(names: list[str], given: dict[str, str], out: Path, n: int, n_stacked: int) -> dict[str, Any]:
    """Train (or read) each recipe and evaluate it with noise floors."""
    import ganforge as gf

    results: dict[str, Any] = {}
    digit_rows, stacked = [], None
    for recipe in names:
        run, seconds = _run_for(recipe, given, out)
        if run is None:
            print(f"{recipe}: recipe not available yet — skipped\n", flush=True)
            continue
        run = gf.load(run.path)
        torch.manual_seed(0)
        t0 = time.perf_counter()
        report = run.evaluate(n_stacked if run.data_info.name == "stacked-digits" else n)
        report.update(steps=run.step, train_seconds=seconds, eval_seconds=time.perf_counter() - t0, path=str(run.path))
        results[recipe] = report
        print(f"{recipe}: evaluated step {run.step} in {report['eval_seconds']:.0f} s ({run.path})", flush=True)
        if run.data_info.name == "stacked-digits":
            stacked = (recipe, report)
            continue
        digit_rows.append(
            [
                recipe,
                run.step,
                report.get("n_fake"),
                f"{report['fid']:.3g} / {report['fid_noise_floor']:.3g} ± {report['fid_noise_floor_std']:.2g}",
                report["fid_matched"],
                f"{report['kid']:.3g} / {report['kid_noise_floor']:.3g}",
                *(_prdc_cell(report, name) for name in ("precision", "recall", "density", "coverage")),
                f"{report['is']:.3g} / {report['is_real']:.3g}",
                f"{report['conditional_accuracy']:.3f} / {report['conditional_accuracy_real']:.3f}"
                if "conditional_accuracy" in report
                else "-",
                f"{report['intra_fid']:.3g} ({report['intra_fid_matched']:.3g}) / {report['intra_fid_noise_floor']:.3g}"
                if "intra_fid" in report
                else "-",
            ]
        )
    if digit_rows:
        print("\n## Shipped image recipes: model / real reference\n")
        _table(
            [
                "recipe",
                "step",
                "n fake",
                "FID / floor ± std",
                "FID at floor n",
                "KID / floor",
                "precision (at floor n) / floor",
                "recall (at floor n) / floor",
                "density (at floor n) / floor",
                "coverage (at floor n) / floor",
                "IS",
                "cond. acc.",
                "intra-FID (at floor n) / floor",
            ],
            digit_rows,
        )
    if stacked is not None:
        recipe, report = stacked
        print("## Stacked digits: modes (of 1000) and KL(p_modes || uniform)\n")
        rows = [
            [
                f"ganforge {recipe} ({report['steps']} steps, 8x8 digits at 16x16)",
                report["modes"],
                report["kl"],
                report["n_fake"],
            ],
            [
                "real stacked digits, same count (finite-sample floor)",
                report["modes_real"],
                report["kl_real"],
                report["n_fake"],
            ],
        ]
        rows += [[name, modes, kl, 26000] for name, modes, kl in PUBLISHED]
        _table(["model", "modes", "KL", "samples"], rows)
        floor = f"{report['fid_noise_floor']:.3g} ± {report['fid_noise_floor_std']:.2g}"
        print(
            f"FID (digits-per-channel features): {report['fid']:.4g}, at floor n {report['fid_matched']:.4g}, "
            f"floor {floor}; IS {report['is']:.4g} (real {report['is_real']:.4g}, max 1000)\n"
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="+", choices=("sanity", "noise", "intra", "recipes"), default=None)
    parser.add_argument("--recipes", nargs="+", default=list(RECIPES))
    parser.add_argument("--run", action="append", default=[], help="NAME=PATH: evaluate an existing run")
    parser.add_argument("--out", type=Path, default=None, help="keep trained runs here (default: a temp dir)")
    parser.add_argument("--n", type=int, default=10000, help="generated images per digits recipe")
    parser.add_argument("--n-stacked", type=int, default=26000, help="generated images for stacked digits")
    parser.add_argument("--json", type=Path, default=None, help="write every number to this file")
    args = parser.parse_args()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    parts = args.only or ["sanity", "noise", "intra", "recipes"]
    given = dict(item.split("=", 1) for item in args.run)
    print(f"load average at start: {os.getloadavg()[0]:.1f}, torch threads {torch.get_num_threads()}\n", flush=True)
    t0 = time.perf_counter()
    results: dict[str, Any] = {}
    if "sanity" in parts:
        results["sanity"] = sanity()
    if "noise" in parts:
        results["noise_removal"] = noise_removal()
    if "intra" in parts:
        results["intra_fid"] = intra_fid()
    if "recipes" in parts:
        with tempfile.TemporaryDirectory() as tmp:
            out = args.out or Path(tmp)
            results["recipes"] = recipes(args.recipes, given, out, args.n, args.n_stacked)
    print(f"total {time.perf_counter() - t0:.0f} s; load average at end: {os.getloadavg()[0]:.1f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
