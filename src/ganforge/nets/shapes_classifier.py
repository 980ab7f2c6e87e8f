"""The fixed attribute reader of ``shapes-text`` scenes: what is in each quadrant of a 32x32 image.

A shapes scene puts each object in one of four 16x16 quadrants (its position), so the reader is one small
CNN applied to each quadrant with four heads: object present (2), shape (3), colour (4), size (2). It is
trained on real scenes of *every* shape-colour pair (``split="all"``, data seed 1) so it can also read the
pairs held out of GAN training, and tested on fresh scenes (data seed 2, both the ``all`` and ``held-out``
splits). The weights ship in ``weights/shapes_attributes.safetensors`` with their protocol and test
accuracy in ``shapes_attributes.json`` (``scripts/train_shapes_classifier.py`` reproduces them
bit-for-bit on the CPU). Its 64-d hidden layer over the four quadrants (256 numbers) is the feature space
for FID on shapes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.data.captions import COLOURS, DEFAULT_HELD_OUT, SHAPES, SIZES, parse_held_out, shape_scenes

WEIGHTS = Path(__file__).parent / "weights" / "shapes_attributes.safetensors"
CARD = WEIGHTS.with_suffix(".json")
HEADS = {"present": 2, "shape": len(SHAPES), "colour": len(COLOURS), "size": len(SIZES)}
# (top, left) of the positions top left, top right, bottom left, bottom right
QUADRANTS = ((0, 0), (0, 16), (16, 0), (16, 16))


def quadrants(images: Tensor) -> Tensor:
    """(N, 3, 32, 32) -> (N * 4, 3, 16, 16), quadrants in position order for each image."""
    crops = [images[:, :, t : t + 16, s : s + 16] for t, s in QUADRANTS]
    return torch.stack(crops, 1).flatten(0, 1)


def cell_targets(attributes: Tensor) -> dict[str, Tensor]:
    """Per-quadrant targets (N * 4,) from scenes (N, 2, 4); -100 (ignored) for the attributes of empty cells."""
    n = attributes.shape[0]
    out = {name: torch.full((n, 4), -100, dtype=torch.long) for name in HEADS}
    out["present"].zero_()
    for j in range(attributes.shape[1]):
        a = attributes[:, j]
        rows = torch.nonzero(a[:, 0] >= 0).flatten()
        pos = a[rows, 3]
        out["present"][rows, pos] = 1
        for k, name in enumerate(("shape", "colour", "size")):
            out[name][rows, pos] = a[rows, k]
    return {k: v.flatten() for k, v in out.items()}


class ShapesClassifier(nn.Module):
    """Quadrant reader: conv 3->16->32->32 with 2x2 max-pooling, a 64-d hidden layer, four heads."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(32 * 16, 64), nn.ReLU(),
        )
        self.heads = nn.ModuleDict({name: nn.Linear(64, k) for name, k in HEADS.items()})

    def hidden(self, images: Tensor) -> Tensor:
        """(N, 3, 32, 32) in [0, 1] -> per-quadrant hidden features (N, 4, 64)."""
        return self.body(quadrants(images.float()) * 2 - 1).view(images.shape[0], 4, 64)

    def forward(self, images: Tensor) -> dict[str, Tensor]:
        """Logits per head, shape (N * 4, classes)."""
        h = self.hidden(images).flatten(0, 1)
        return {name: head(h) for name, head in self.heads.items()}

    @torch.no_grad()
    def features(self, images: Tensor, batch_size: int = 1024) -> Tensor:
        """(N, 256): the four quadrants' hidden features, for FID on shapes."""
        self.eval()
        parts = [self.hidden(images[i : i + batch_size]).flatten(1) for i in range(0, len(images), batch_size)]
        return torch.cat(parts)

    @torch.no_grad()
    def read(self, images: Tensor, batch_size: int = 1024) -> dict[str, Tensor]:
        """Predicted attributes per quadrant, each (N, 4): present (0/1), shape, colour, size indices."""
        self.eval()
        parts: dict[str, list[Tensor]] = {name: [] for name in HEADS}
        for i in range(0, len(images), batch_size):
            logits = self(images[i : i + batch_size])
            for name in HEADS:
                parts[name].append(logits[name].argmax(1).view(-1, 4))
        return {name: torch.cat(p) for name, p in parts.items()}


def score_scenes(read: dict[str, Tensor], attributes: Tensor) -> dict[str, Tensor]:
    """Per-image correctness (N,) of predicted quadrants against the stated scenes (N, 2, 4).

    ``all``: every quadrant right (a stated object present there with its shape, colour and size, and no
    object where none is stated); ``shape``/``colour``/``size``/``position``: every stated object's
    attribute right (position: an object is present in its quadrant); ``no_extra``: no unstated object."""
    t = cell_targets(attributes)
    n = attributes.shape[0]
    present = t["present"].view(n, 4) == 1
    ok_present = read["present"] == t["present"].view(n, 4)
    out = {"position": (ok_present | ~present).all(1), "no_extra": (ok_present | present).all(1)}
    cell_ok = ok_present.clone()
    for name in ("shape", "colour", "size"):
        right = (read[name] == t[name].view(n, 4)) | ~present
        out[name] = right.all(1)
        cell_ok &= right
    out["all"] = cell_ok.all(1)
    return out


def train_shapes_classifier(
    n: int = 6000, epochs: int = 4, seed: int = 0, batch_size: int = 64, lr: float = 2e-3
) -> tuple[ShapesClassifier, dict[str, Any]]:
    """Train the reader on ``n`` real scenes of every pair (data seed 1) with Adam; test on 4000 fresh
    scenes of each split (data seed 2). Deterministic on the CPU for a ``seed``."""
    torch.manual_seed(seed)
    net = ShapesClassifier()
    images, attributes, _ = shape_scenes(n, 1, set(), "all")
    targets = cell_targets(torch.from_numpy(attributes))
    opt = torch.optim.Adam(net.parameters(), lr)
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for idx in torch.randperm(n, generator=g).split(batch_size):
            logits = net(images[idx])
            cells = (idx[:, None] * 4 + torch.arange(4)).flatten()
            loss = sum(F.cross_entropy(logits[k], targets[k][cells], ignore_index=-100) for k in HEADS)
            opt.zero_grad()
            loss.backward()  # type: ignore[union-attr]
            opt.step()
    report: dict[str, Any] = {
        "train_scenes": n, "epochs": epochs, "seed": seed, "data_seed_train": 1, "data_seed_test": 2
    }
    held = parse_held_out(list(DEFAULT_HELD_OUT))
    for split in ("all", "held-out"):
        x, a, _ = shape_scenes(4000, 2, held if split == "held-out" else set(), split)
        scores = score_scenes(net.read(x), torch.from_numpy(a))
        report[f"test_{split}"] = {k: round(float(v.float().mean()), 4) for k, v in scores.items()}
    return net, report


def load_shapes_classifier(path: str | Path | None = None) -> ShapesClassifier:
    """The shipped reader (``weights/shapes_attributes.safetensors``), in eval mode."""
    from safetensors.torch import load_file

    net = ShapesClassifier()
    net.load_state_dict(load_file(str(path or WEIGHTS)))
    return net.eval().requires_grad_(False)


def shapes_card() -> dict[str, Any]:
    """The shipped reader's protocol and test accuracy."""
    return json.loads(CARD.read_text(encoding="utf-8")) if CARD.is_file() else {}
