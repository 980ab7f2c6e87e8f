"""Text-to-image benchmark: does the generated picture show what the sentence says?

Protocol, per training seed (recipe ``shapes-text`` unless ``--recipe``; seed set by ``--seeds``):

1. Train (text encoder with the DAMSM sentence loss, then DF-GAN) and measure the CPU time of the whole
   ``ganforge.train`` call in this process (``time.process_time``, torch with one thread; it includes the
   end-of-run evaluation and pictures, whose own CPU time is printed separately so training alone is the
   difference).
2. Attribute accuracy: 1,000 captions of training-split scenes (seen shape-colour pairs) and 1,000 captions
   of scenes holding a held-out pair (green triangle / yellow circle, never in training), one sample each;
   the shipped attribute reader (``nets/weights/shapes_attributes.*``, its test accuracy on fresh real
   scenes printed first) reads every quadrant; "all attributes" = every stated object's shape, colour and
   size in its stated quadrant and no unstated object. Beside it: the same reader on the real images of
   those captions.
3. R-precision (AttnGAN): each generated image's true caption ranked among 100 (99 captions of other
   images) by cosine similarity of the run's own DAMSM image and sentence encoders; share ranked first.
   Beside it: the same on the real images. Note: G's loss includes the DAMSM term of those encoders
   (``matching_weight``, as AttnGAN), which AttnGAN's R-precision shares.
4. FID on shape features: the reader's 256-d quadrant features, 1,000 generated vs 1,000 real scenes,
   beside real vs other real scenes (the floor).

    heavy env PYTHONPATH=src python3 benchmarks/text_to_image.py --seeds 0          # one seed
    heavy env PYTHONPATH=src python3 benchmarks/text_to_image.py --seeds 0 1 2      # the three seeds
    python3 benchmarks/text_to_image.py --summarize benchmarks/results/text_to_image-seed*.json
    python3 benchmarks/text_to_image.py --evaluate benchmarks/results/text_to_image-seed0.json   # re-score a run

Each seed writes ``benchmarks/results/text_to_image-seed<S>.json``; ``--summarize`` prints the table
(mean and range over the seeds found) for docs/benchmarks/text_to_image.md.

``--oracle`` (an upper bound, shapes captions only): the learned sentence encoder is replaced by one that
parses the caption back to its exact scene and writes it per quadrant (present, shape, colour and size
one-hots, 4 x 10 numbers zero-padded to the sentence vector's size); everything else is the recipe. It
says how far the generator gets when the sentence vector states plainly what goes where.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch

TARGETS = {"all_attributes_seen": 0.90, "all_attributes_held_out": 0.70, "r_precision": 0.90, "train_cpu_min": 30.0}
RESULTS = Path(__file__).parent / "results"


def evaluate_record(path: Path) -> dict:
    """Re-evaluate the run of a result file with the current evaluator (training CPU numbers kept)."""
    from ganforge.evaluation.text2image_suite import evaluate_text2image
    from ganforge.runs import load

    record = json.loads(path.read_text())
    run = load(record["run"])
    torch.manual_seed(0)  # after load, as run_seed does
    record.update(evaluate_text2image(run, 1000, []))
    path.write_text(json.dumps(record, indent=2) + "\n")
    return record


def run_seed(seed: int, recipe: str, out: Path, overrides: list[str]) -> dict:
    from ganforge.api import train
    from ganforge.evaluation.text2image_suite import evaluate_text2image
    from ganforge.runs import load

    t0 = time.process_time()
    run = train(recipe, out=out / f"{recipe}-seed{seed}", overrides=[f"seed={seed}", *overrides], show_progress=False)
    total = time.process_time() - t0
    t1 = time.process_time()
    loaded = load(run.path)
    torch.manual_seed(0)
    metrics = evaluate_text2image(loaded, 1000, [])
    evaluation = time.process_time() - t1
    return {
        "seed": seed, "recipe": recipe, "overrides": overrides, "run": str(run.path),
        "train_and_final_eval_cpu_s": round(total, 1), "eval_cpu_s": round(evaluation, 1),
        "train_cpu_min": round((total - evaluation) / 60, 2), "load": os.getloadavg(), **metrics,
    }


ROWS = [
    ("all attributes right, seen pairs", "all_attributes_seen", "all_attributes_seen_real", ">= 0.90"),
    ("all attributes right, held-out pairs", "all_attributes_held_out", "all_attributes_held_out_real", ">= 0.70"),
    ("all right, seen captions of one object", "all_one_object_seen", None, ""),
    ("all right, seen captions of two objects", "all_two_objects_seen", None, ""),
    ("two objects of different colours: both colours right (seen)", "two_objects_colour_right_seen", None, ""),
    ("two objects of different colours: colours exchanged (seen)", "two_objects_colour_exchanged_seen", None, ""),
    ("two objects of different shapes: both shapes right (seen)", "two_objects_shape_right_seen", None, ""),
    ("two objects of different shapes: shapes exchanged (seen)", "two_objects_shape_exchanged_seen", None, ""),
    ("shape right (seen)", "shape_seen", None, ""),
    ("colour right (seen)", "colour_seen", None, ""),
    ("size right (seen)", "size_seen", None, ""),
    ("position right (seen)", "position_seen", None, ""),
    ("no extra object (seen)", "no_extra_seen", None, ""),
    ("digits: class, thickness and slant all right", "digit_all", "digit_all_real", ""),
    ("digits: class right", "digit_class", "digit_class_real", ""),
    ("digits: thickness right", "digit_thickness", "digit_thickness_real", ""),
    ("digits: slant right", "digit_slant", "digit_slant_real", ""),
    ("R-precision (R=1, 100 captions)", "r_precision", "r_precision_real", ">= 0.90"),
    ("FID on shape features", "fid_shapes", "fid_shapes_floor", ""),
    ("encoder: shape changed, true caption closer (diagnostic)", "encoder_swap_shape", None, ""),
    ("encoder: colours exchanged between two objects, true caption closer", "encoder_binding_colour", None, ""),
    ("encoder: shapes exchanged between two objects, true caption closer", "encoder_binding_shape", None, ""),
    ("D: colours exchanged between two objects, true caption scored higher", "discriminator_binding_colour", None, ""),
    ("D: shapes exchanged between two objects, true caption scored higher", "discriminator_binding_shape", None, ""),
    ("diversity: RMS pixel distance between two samples of one caption", "diversity", "diversity_real", ""),
    ("training CPU minutes", "train_cpu_min", None, "<= 30"),
]


def summarize(records: list[dict]) -> str:
    seeds = ", ".join(str(r["seed"]) for r in records)
    lines = [f"| metric | generated, per seed ({seeds}) | mean | real images | target |", "|---|---|---|---|---|"]
    for label, key, real_key, target in ROWS:
        values = [r[key] for r in records if key in r]
        if not values:
            continue
        real = [r[real_key] for r in records if real_key and real_key in r]
        real_text = f"{sum(real) / len(real):.3f}" if real else ""
        per = " / ".join(f"{v:.3f}" for v in values)
        lines.append(f"| {label} | {per} | {sum(values) / len(values):.3f} | {real_text} | {target} |")
    return "\n".join(lines)


class SceneOracleEncoder(torch.nn.Module):
    """A stand-in for ``SentenceEncoder`` (same constructor): the caption's exact scene, per quadrant."""

    def __init__(self, vocab_size: int, embed_dim: int = 32, hidden: int = 64, cell: str = "gru", grid: int = 0):
        super().__init__()
        from ganforge.data.captions import shapes_vocabulary

        del vocab_size, embed_dim, cell, grid
        self.out_dim = 2 * hidden
        self.words = shapes_vocabulary().words
        self.unused = torch.nn.Parameter(torch.zeros(1))  # the encoder optimizer needs a parameter

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.encode(tokens)[0]

    def encode(self, tokens: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        from ganforge.data.captions import caption_attributes

        out = torch.zeros(len(tokens), self.out_dim)
        for n, row in enumerate(tokens.tolist()):
            for shape, colour, size, position in caption_attributes(" ".join(self.words[t] for t in row if t > 1)):
                if position >= 0:
                    out[n, [10 * position, 10 * position + 1 + shape, 10 * position + 4 + colour,
                            10 * position + 8 + size]] = 1.0
        return (out + 0 * self.unused).to(tokens.device), None, None


def fid_floor(recipe: str) -> str:
    """The FID on shape features between the end-of-run evaluation's real scenes (``eval.n`` of them, seed
    2024) and as many *other* real scenes, as the evaluator computes it, beside the floor before 2026-12-07
    (a second independent draw, which shared scenes with the first)."""
    from ganforge.config import parse_config
    from ganforge.data.registry import source_from_config
    from ganforge.evaluation.text2image_suite import other_scenes, shape_fid
    from ganforge.nets.shapes_classifier import load_shapes_classifier
    from ganforge.recipes import load_recipe

    config = parse_config(load_recipe(recipe))
    source = source_from_config(config.data)
    idx, _ = source.real_index(config.eval.n, seed=2024)
    reader, real = load_shapes_classifier(), source.x[idx]
    before = source.real_index(config.eval.n, seed=99)[0]
    shared = len(set(idx.tolist()) & set(before.tolist()))
    floor, overlapping = (shape_fid(reader, real, source.x[i]) for i in (other_scenes(idx, len(source.x)), before))
    return (f"{recipe}: FID floor on shape features, {len(idx)} real scenes against {len(idx)} others: {floor:.1f} "
            f"(before 2026-12-07, a second draw sharing {shared} scenes: {overlapping:.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=[0])
    parser.add_argument("--recipe", default="shapes-text")
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="recipe override KEY=VALUE")
    parser.add_argument("--out", type=Path, default=None, help="folder for the run folders (default: a temp dir)")
    parser.add_argument("--summarize", nargs="*", type=Path, default=None, help="print the table of result files")
    parser.add_argument("--oracle", action="store_true", help="the upper bound: exact scenes as sentence vectors")
    parser.add_argument("--evaluate", nargs="*", type=Path, default=None,
                        help="re-evaluate the runs of these result files with the current evaluator")
    parser.add_argument("--floor", action="store_true",
                        help="the FID floor alone: the evaluation's real scenes against other real scenes")
    args = parser.parse_args()
    if args.floor:
        torch.set_num_threads(1)
        print(fid_floor(args.recipe))
        return
    if args.evaluate is not None:
        torch.set_num_threads(1)
        print(summarize([evaluate_record(p) for p in sorted(args.evaluate)]))
        return
    if args.summarize is not None:
        records = [json.loads(p.read_text()) for p in sorted(args.summarize)]
        print(summarize(records))
        return
    torch.set_num_threads(1)
    from ganforge.nets.shapes_classifier import shapes_card

    print("attribute reader on fresh real scenes:", json.dumps({k: v for k, v in shapes_card().items() if "test" in k}))
    if args.oracle:
        import ganforge.gans.text2image as text2image

        text2image.SentenceEncoder = SceneOracleEncoder  # type: ignore[misc]
    out = args.out or Path(tempfile.mkdtemp(prefix="t2i-bench-"))
    RESULTS.mkdir(exist_ok=True)
    records = []
    for seed in args.seeds:
        record = run_seed(seed, args.recipe, out, args.overrides)
        records.append(record)
        tag = "-oracle" if args.oracle else "-custom" if args.overrides else ""
        stem = "text_to_image" if args.recipe == "shapes-text" else f"text_to_image-{args.recipe}"
        name = f"{stem}-seed{seed}{tag}.json"
        (RESULTS / name).write_text(json.dumps(record, indent=2) + "\n")
        print(json.dumps(record))
    print(summarize(records))


if __name__ == "__main__":
    main()
