"""Train the digits feature network shipped in ``src/ganforge/nets/weights/``.

Deterministic (one thread, fixed seed, deterministic algorithms): the same torch version reproduces the
same weights. Protocol: scikit-learn's 1797 digits, stratified 75/25 split (``digits_split(seed)``),
Adam with a cosine learning-rate schedule and label smoothing. Each batch is lightly augmented so the
network also reads generated digits: a random affine jitter (shift up to 1 pixel of the 8x8 grid,
rotation up to 10 degrees, scale 0.9-1.1), a random rendering size (8, 12, 16, 24 or 32 pixels), random
contrast (x0.8-1.0) and Gaussian pixel noise (std up to 0.08). Test accuracy is measured on the
untouched 8x8 test images and on their 32x32 bilinear upsamplings; both go into ``digits_cnn.json``.

    python scripts/train_digits_classifier.py [--epochs 40] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import math
import time

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from ganforge.data.images import digits_images, digits_split
from ganforge.nets.features import DIGITS_CARD, DIGITS_INPUT_SIZE, DIGITS_WEIGHTS, DigitsClassifier

RENDER_SIZES = (8, 12, 16, 24, 32)


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random affine jitter, rendering size, contrast and pixel noise for a batch of 8x8 digits."""
    n = x.shape[0]
    angle = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(10)
    scale = 0.9 + 0.2 * torch.rand(n, generator=gen)
    shift = (torch.rand(n, 2, generator=gen) * 2 - 1) * (2.0 / x.shape[-1])  # ±1 px in [-1, 1] units
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    size = RENDER_SIZES[int(torch.randint(len(RENDER_SIZES), (1,), generator=gen))]
    grid = F.affine_grid(theta, [n, 1, size, size], align_corners=False)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    out = out * (0.8 + 0.2 * torch.rand(n, 1, 1, 1, generator=gen))
    out = out + torch.randn(out.shape, generator=gen) * 0.08 * torch.rand(n, 1, 1, 1, generator=gen)
    return out.clamp(0.0, 1.0)


@torch.no_grad()
def accuracy(net: DigitsClassifier, images: torch.Tensor, labels: torch.Tensor) -> float:
    return float((net.predict(images) == labels).float().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)

    images, labels = digits_images()
    train_idx, test_idx = digits_split(args.seed)
    x_train, y_train = images[train_idx], labels[train_idx]
    x_test, y_test = images[test_idx], labels[test_idx]

    net = DigitsClassifier()
    steps_per_epoch = math.ceil(len(x_train) / args.batch_size)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs * steps_per_epoch)
    start = time.perf_counter()
    for epoch in range(args.epochs):
        net.train()
        order = torch.randperm(len(x_train), generator=gen)
        total = 0.0
        for i in range(0, len(order), args.batch_size):
            idx = order[i : i + args.batch_size]
            loss = F.cross_entropy(net.logits(augment(x_train[idx], gen)), y_train[idx], label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        if epoch % 5 == 4 or epoch == args.epochs - 1:
            net.eval()
            print(
                f"epoch {epoch + 1:3d}  loss {total / len(x_train):.4f}  test acc {accuracy(net, x_test, y_test):.4f}"
            )
    seconds = time.perf_counter() - start

    net.eval()
    acc8 = accuracy(net, x_test, y_test)
    up32 = F.interpolate(x_test, size=(32, 32), mode="bilinear", align_corners=False)
    acc32 = accuracy(net, up32, y_test)
    state = {k: v.contiguous() for k, v in net.state_dict().items()}
    DIGITS_WEIGHTS.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(DIGITS_WEIGHTS))
    DIGITS_WEIGHTS.chmod(0o644)  # package data must be readable by every user
    card = {
        "network": "DigitsClassifier",
        "input_size": DIGITS_INPUT_SIZE,
        "num_features": DigitsClassifier.num_features,
        "test_accuracy": round(acc8, 6),
        "test_accuracy_32x32": round(acc32, 6),
        "data": "sklearn.datasets.load_digits (1797 images, 8x8, pixel / 16)",
        "split": {
            "function": "ganforge.data.images.digits_split",
            "method": "sklearn train_test_split, stratified",
            "test_fraction": 0.25,
            "seed": args.seed,
            "n_train": len(train_idx),
            "n_test": len(test_idx),
            "test_indices": [int(i) for i in test_idx],
        },
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "optimizer": f"Adam lr={args.lr}, cosine schedule, label smoothing 0.05",
        "augmentation": "affine (shift <=1px, rot <=10deg, scale 0.9-1.1), render size in "
        f"{list(RENDER_SIZES)}, contrast x0.8-1.0, Gaussian noise std <=0.08",
        "seed": args.seed,
        "torch": torch.__version__,
        "train_seconds": round(seconds, 1),
    }
    DIGITS_CARD.write_text(json.dumps(card, indent=1) + "\n")
    size_kb = DIGITS_WEIGHTS.stat().st_size / 1024
    print(
        f"test accuracy {acc8:.4f} (8x8), {acc32:.4f} (32x32); {seconds:.0f} s; "
        f"wrote {DIGITS_WEIGHTS} ({size_kb:.0f} KiB) and {DIGITS_CARD}"
    )


if __name__ == "__main__":
    main()
