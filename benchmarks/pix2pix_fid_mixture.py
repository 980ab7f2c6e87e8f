"""Which outputs decide edges2photos' whole-set FID (one seed; a diagnostic, no setting rides on it).

    python benchmarks/pix2pix_fid_mixture.py --seed 27          # about 6 CPU-minutes: two rows of 180 CPU-s

Round 19d found L1 + cGAN better than L1 on the edged test tiles and on the edgeless ones in every seed, and
worse on the 500 tiles together in four of six. This trains the two rows once under round 19d's protocol (test
tiles, 180 CPU-s each, the paper's schedule, the recipe's lambda 10) and prints, on photo statistics:

* each row's whole-set FID split into its two terms, ||mu_real - mu_gen||^2 and
  Tr(S_real + S_gen - 2 (S_real S_gen)^{1/2});
* two hybrids that swap the rows' outputs on the edgeless inputs only: if L1 + cGAN with L1's edgeless outputs
  beats L1, and L1 with L1 + cGAN's edgeless outputs loses to L1 + cGAN, the edgeless outputs decide the order.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch
from pix2pix import edgeless_inputs, heldout, run_one

from ganforge.evaluation.image_metrics import compute_features, frechet_distance
from ganforge.evaluation.paired_metrics import feature_network

SET = "edges2photos"
ROWS = ("L1", "L1 + cGAN")


def fid_terms(real: np.ndarray, generated: np.ndarray) -> dict[str, float]:
    """FID of two feature sets and its mean term ||mu_r - mu_g||^2; the covariance term is the rest."""
    total = frechet_distance(real, generated)
    mean = float(((real.mean(0) - generated.mean(0)) ** 2).sum())
    return {"fid": total, "mean_term": mean, "cov_term": total - mean}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=27)
    parser.add_argument("--budget", type=float, default=180.0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    test = heldout(SET, [])
    inputs, targets, _, _ = test.heldout(len(test), seed=2024)
    outputs = {}
    for row in ROWS:
        record, fake = run_one(SET, row, args.seed, args.budget, test, "paper")
        outputs[row] = fake
        print(json.dumps({"row": row, "seed": args.seed, "steps": record["steps"], "fid": record["fid"]}), flush=True)
    edgeless = edgeless_inputs(inputs)
    net = feature_network(SET, 3)
    real = compute_features(net, targets).double().numpy()
    cases = {row: outputs[row] for row in ROWS}
    flat = edgeless[:, None, None, None]
    cases["L1 + cGAN, L1's edgeless outputs"] = torch.where(flat, outputs["L1"], outputs["L1 + cGAN"])
    cases["L1, L1 + cGAN's edgeless outputs"] = torch.where(flat, outputs["L1 + cGAN"], outputs["L1"])
    print(f"\nedges2photos, seed {args.seed}, {int(edgeless.sum())} of {len(edgeless)} test tiles edgeless\n")
    print("| outputs | FID | mean term | covariance term |\n|---|---|---|---|")
    for name, images in cases.items():
        terms = fid_terms(real, compute_features(net, images).double().numpy())
        print(f"| {name} | {terms['fid']:.1f} | {terms['mean_term']:.1f} | {terms['cov_term']:.1f} |")


if __name__ == "__main__":
    main()
