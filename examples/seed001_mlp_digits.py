"""The course notes' image GAN (seeds 001 and 003): a fully connected generator 100 -> 128 -> 784 on digits.

The notes build, in Keras, a generator ``Dense(128, relu, input_dim=100) -> Dense(784, tanh)`` (seed 003:
``sigmoid``) and a discriminator ``Dense(128, LeakyReLU(0.2), input_dim=784) -> Dense(1, sigmoid)``,
compiled with binary cross-entropy and Adam, for 28x28 MNIST images; the training loop is left as
``...``. The same networks in PyTorch, trained by ganforge with the notes' loss (the generator's side in
its non-saturating form, as Keras' ``gan.compile(loss='binary_crossentropy')`` with "real" targets is):

    J_D = -mean log D(x) - mean log(1 - D(G(z)))        J_G = -mean log D(G(z))

MNIST needs a download, so the data is scikit-learn's bundled handwritten digits (1797 8x8 images)
enlarged to 28x28, which fits the notes' 784 outputs. ganforge scales pixels to [-1, 1] for the tanh
output and maps samples back to [0, 1]. One change to the notes, as in the ``digits-mlp`` recipe: Adam
with the DCGAN paper's lr 2e-4 and beta1 0.5 (Keras' default 1e-3 oscillates).

Success is judged with the shipped digits classifier on 2000 generated images: the FID in its feature
space against its real-data noise floor (two halves of the real digits), the share it classifies with
confidence >= 0.9 (beside the same share for real digits), and how many of the 10 digits appear. A fully
connected generator draws recognisable but noisy digits: at the default 4000 steps the classifier is
confident on about a third of them (real digits: 91 %); the target is >= 25 % with at least 9 of the 10
digits among them. The figure (real digits beside generated ones) is written to ``--figure``.

    python examples/seed001_mlp_digits.py [--steps 4000] [--seed 0] [--figure PATH]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch
from torch import nn

import ganforge as gf

FIGURE = Path(__file__).resolve().parent / "figures" / "seed001_mlp_digits.png"


def build_generator() -> nn.Module:
    """Dense(128, relu, input_dim=100) -> Dense(784, tanh), as a (1, 28, 28) image (tanh last: ganforge reads
    the output range from the last layer)."""
    return nn.Sequential(nn.Linear(100, 128), nn.ReLU(), nn.Linear(128, 784), nn.Unflatten(1, (1, 28, 28)), nn.Tanh())


def build_discriminator() -> nn.Module:
    """Dense(128, LeakyReLU(0.2), input_dim=784) -> Dense(1, sigmoid)."""
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.LeakyReLU(0.2), nn.Linear(128, 1), nn.Sigmoid())


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--figure", type=Path, default=None, help=f"picture to write (default: {FIGURE.name} "
                        "in the run folder)")
    args = parser.parse_args(argv)

    from ganforge.data.registry import build_source
    from ganforge.nets.features import load_digits_classifier
    from ganforge.report.image_pictures import real_grid, save_real_vs_generated

    torch.manual_seed(args.seed)
    gan = gf.GAN(build_generator(), build_discriminator(), noise_dim=100, objective="nonsaturating")
    run = gf.train(
        gan,
        data=build_source("digits", {"size": 28}),
        steps=args.steps,
        seed=args.seed,
        out=tempfile.mkdtemp(prefix="ganforge-seed001-"),
        show_progress=False,
        batch_size=64,
        overrides=[
            "train.optimizer.lr=0.0002",
            "train.optimizer.betas=[0.5,0.999]",
            "eval.n=2000",
            "eval.enabled=true",  # a short run: evaluated because this example reports its FID
        ],
    )
    evaluation = run.summary["evaluation"]
    torch.manual_seed(1)
    fake = run.sample(2000)
    classifier = load_digits_classifier()
    with torch.no_grad():
        probabilities = torch.softmax(classifier.logits(fake), dim=1)
        real_probabilities = torch.softmax(classifier.logits(run.real_data().real(2000, seed=2024).x), dim=1)
    confident = float((probabilities.max(1).values >= 0.9).float().mean())
    confident_real = float((real_probabilities.max(1).values >= 0.9).float().mean())
    digits = sorted(set(probabilities.argmax(1)[probabilities.max(1).values >= 0.9].tolist()))
    fid, floor = float(evaluation["fid"]), float(evaluation["fid_noise_floor"])
    figure = args.figure or run.path / FIGURE.name
    figure.parent.mkdir(parents=True, exist_ok=True)
    save_real_vs_generated(real_grid(run, 64, None), fake[:64], figure, 8, "the notes' MLP GAN, 100 -> 128 -> 784")
    ok = confident >= 0.25 and len(digits) >= 9
    print(f"run folder: {run.path} (`ganforge diagnose` / `ganforge report` read it)")
    print(f"FID (digits classifier features) {fid:.1f}; real-data noise floor {floor:.1f}")
    print(f"classified with confidence >= 0.9: generated {confident:.0%}, real {confident_real:.0%}; "
          f"digits among the generated: {digits}")
    print(f"figure: {figure}")
    print(f"result: {'PASS' if ok else 'FAIL'} (>= 25% confidently classified, >= 9 of 10 digits among them)")
    return {"fid": fid, "fid_floor": floor, "confident": confident, "confident_real": confident_real,
            "digits": float(len(digits)), "ok": float(ok)}


if __name__ == "__main__":
    main()
