"""What FID on digit features can see in the Pix2Pix edges -> digits benchmark (no training; about 4.4 CPU-s).

    python benchmarks/pix2pix_fid_probe.py

The benchmark scores a row by FID between its translations of the 450 held-out edge maps and the 450 true
digits those edge maps came from (``evaluation/paired_metrics.py``), on the shipped digits classifier's
64-d features. Every generated image there has its own target in the reference set, so the score is far
below the library's noise floor (FID between two *disjoint* halves of the real digits), and it rewards
outputs whose features sit close to their own targets: the per-pixel answer that L1 trains for. This
probe applies controlled changes to the real test digits themselves and prints the same FID for each, so
the size of a "blurred like L1" or "sharpened / speckled like a GAN" change can be set beside the gap
between the benchmark's rows:

* paired: FID(real test digits, changed real test digits), the benchmark's pairing;
* unpaired reference: FID(real training digits, real test digits) and the benchmark's 225-vs-225 floor,
  the level an unpaired comparison of two *real* sets already reaches.
"""

from __future__ import annotations

import json

import numpy as np
import torch
from scipy.ndimage import gaussian_filter

from ganforge.data.builtin_pairs import edges2digits
from ganforge.evaluation.image_metrics import fid
from ganforge.nets.features import load_digits_classifier


def blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian blur of (N, 1, H, W) images in [0, 1], sigma in pixels (spatial axes only)."""
    return torch.from_numpy(gaussian_filter(images.numpy(), sigma=(0, 0, sigma, sigma))).float()


def sharpen(images: torch.Tensor, sigma: float, amount: float) -> torch.Tensor:
    """Unsharp mask ``x + amount * (x - blur(x))``, clipped to [0, 1]: crisper strokes than the targets."""
    return (images + amount * (images - blur(images, sigma))).clamp(0, 1)


def speckle(images: torch.Tensor, std: float, seed: int = 0) -> torch.Tensor:
    """Additive Gaussian noise of ``std`` (a stand-in for high-frequency adversarial texture), clipped."""
    g = torch.Generator().manual_seed(seed)
    return (images + std * torch.randn(images.shape, generator=g)).clamp(0, 1)


def main() -> None:
    torch.set_num_threads(1)
    net = load_digits_classifier()
    test = edges2digits(split="test")
    train = edges2digits(split="train")
    _, real, _, _ = test.heldout(len(test), seed=2024)
    _, train_real, _, _ = train.heldout(len(train), seed=2024)

    def score(fake: torch.Tensor) -> float:
        return round(fid(real, fake, net, with_noise_floor=False).value, 3)

    changes = {
        "identical": real,
        "blur sigma 0.5 px": blur(real, 0.5),
        "blur sigma 1.0 px": blur(real, 1.0),
        "sharpen (sigma 1, amount 1)": sharpen(real, 1.0, 1.0),
        "speckle std 0.05": speckle(real, 0.05),
        "speckle std 0.10": speckle(real, 0.10),
    }
    rows = {name: score(images) for name, images in changes.items()}
    psnr = {
        name: round(float(10 * np.log10(1.0 / max(float(((images - real) ** 2).mean()), 1e-12))), 2)
        for name, images in changes.items()
    }
    unpaired = round(fid(train_real, real, net, with_noise_floor=True).value, 3)
    floor = fid(real, real, net, with_noise_floor=True).noise_floor
    print(f"paired FID to the 450 real test digits (digits-classifier features), n={len(real)}:")
    for name in changes:
        print(f"  {name:30s} FID {rows[name]:7.3f}   PSNR {psnr[name]:6.2f} dB")
    print(f"unpaired: FID(1347 real training digits, 450 real test digits) = {unpaired:.3f}")
    print(f"benchmark's fid_floor (225 vs 225 disjoint real test digits) = {floor:.3f}")
    print(json.dumps({"paired": rows, "psnr": psnr, "unpaired_train_vs_test": unpaired, "fid_floor": floor}))


if __name__ == "__main__":
    main()
