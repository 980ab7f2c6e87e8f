"""A small convnet trained on patches of scikit-image's bundled photographs, shipped as the offline
feature network of SRGAN's content loss (the paper's VGG19 needs ImageNet weights we cannot download).

Architecture (VGG-like, 3 stages): conv3x3(16) ReLU conv3x3(16) ReLU [relu1_2] maxpool, conv3x3(32) ReLU
conv3x3(32) ReLU [relu2_2] maxpool, conv3x3(64) ReLU [relu3_1], global average pool, and two linear heads
trained jointly with cross-entropy: which photograph a patch comes from, and by how much (0, 90, 180 or
270 degrees) it was rotated. The rotation task (Gidaris et al. 2018) forces features that see edge
orientation and structure; the photo task forces texture statistics. Only the training columns of each
photo are used (``photo-patches`` split ``train``), so held-out SR test patches are never seen.

Differences from VGG19 content loss, for the record: ~30k parameters instead of 20M; trained on ~10k
32x32 patches of 17 photographs instead of 1.2M ImageNet images; features at relu2_2 (half resolution,
like SRGAN's "VGG22") rather than relu5_4. It captures local edges and textures, not object semantics.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ganforge.errors import GanforgeError

WEIGHTS = Path(__file__).parent / "weights" / "photo_features.safetensors"
CARD = Path(__file__).parent / "weights" / "photo_features.json"
LAYERS = ("relu1_2", "relu2_2", "relu3_1")


class PhotoFeatureNet(nn.Module):
    """The trunk (three stages) and the two heads; ``forward`` returns the trunk's ``layer`` output."""

    def __init__(self, num_photos: int, widths: tuple[int, int, int] = (16, 32, 64)) -> None:
        super().__init__()
        w1, w2, w3 = widths
        self.stage1 = nn.Sequential(
            nn.Conv2d(3, w1, 3, padding=1), nn.ReLU(), nn.Conv2d(w1, w1, 3, padding=1), nn.ReLU()
        )
        self.stage2 = nn.Sequential(
            nn.MaxPool2d(2), nn.Conv2d(w1, w2, 3, padding=1), nn.ReLU(), nn.Conv2d(w2, w2, 3, padding=1), nn.ReLU()
        )
        self.stage3 = nn.Sequential(nn.MaxPool2d(2), nn.Conv2d(w2, w3, 3, padding=1), nn.ReLU())
        self.photo_head = nn.Linear(w3, num_photos)
        self.rotation_head = nn.Linear(w3, 4)
        self.register_buffer("mean", torch.full((1, 3, 1, 1), 0.5))
        self.register_buffer("std", torch.full((1, 3, 1, 1), 0.25))

    def trunk(self, x: torch.Tensor, layer: str = "relu3_1") -> torch.Tensor:
        """Features at ``layer`` for images (N, 1 or 3, H, W) in [0, 1]."""
        if layer not in LAYERS:
            raise GanforgeError(f"photo features: unknown layer '{layer}'; choose one of {', '.join(LAYERS)}")
        if x.shape[1] == 1:
            x = x.repeat(1, 3, 1, 1)
        h = self.stage1((x - self.mean) / self.std)
        if layer == "relu1_2":
            return h
        h = self.stage2(h)
        return h if layer == "relu2_2" else self.stage3(h)

    def heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pooled = self.trunk(x).mean(dim=(2, 3))
        return self.photo_head(pooled), self.rotation_head(pooled)


class PhotoFeatures(nn.Module):
    """Frozen :class:`PhotoFeatureNet` up to ``layer``, for generator-unit inputs in ``input_range``."""

    def __init__(
        self,
        path: str | Path | None = None,
        layer: str = "relu2_2",
        input_range: tuple[float, float] = (-1.0, 1.0),
    ) -> None:
        super().__init__()
        self.net = load_photo_feature_net(path)
        self.layer = layer
        if layer not in LAYERS:
            raise GanforgeError(f"model.feature_layer='{layer}': choose one of {', '.join(LAYERS)}")
        self.lo, self.hi = float(input_range[0]), float(input_range[1])
        self.requires_grad_(False)
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.trunk((x - self.lo) / (self.hi - self.lo), self.layer)


def photo_features_card() -> dict[str, Any]:
    """The shipped network's record (training data, epochs, held-out accuracies)."""
    if not CARD.exists():
        raise GanforgeError(f"photo feature record missing at {CARD}; run `python scripts/train_photo_features.py`")
    return json.loads(CARD.read_text())


def load_photo_feature_net(path: str | Path | None = None) -> PhotoFeatureNet:
    """The shipped (or a given) feature network, eval mode, gradients off."""
    from safetensors.torch import load_file

    file = Path(path) if path is not None else WEIGHTS
    if not file.exists():
        raise GanforgeError(f"photo feature weights not found at {file}; run `python scripts/train_photo_features.py`")
    state = load_file(str(file))
    net = PhotoFeatureNet(num_photos=int(state["photo_head.weight"].shape[0]))
    net.load_state_dict(state)
    return net.eval().requires_grad_(False)


def rotation_batch(x: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Each image rotated by a random multiple of 90 degrees, and that multiple (the label)."""
    k = torch.randint(0, 4, (x.shape[0],), generator=generator)
    rotated = torch.stack([torch.rot90(im, int(r), dims=(-2, -1)) for im, r in zip(x, k, strict=True)])
    return rotated, k


def train_photo_feature_net(
    train_x: torch.Tensor,
    train_photo: torch.Tensor,
    test_x: torch.Tensor,
    test_photo: torch.Tensor,
    num_photos: int,
    epochs: int = 6,
    batch_size: int = 128,
    lr: float = 2e-3,
    seed: int = 0,
) -> tuple[PhotoFeatureNet, dict[str, float]]:
    """Train on (patch, photo index) pairs with the photo and rotation tasks; returns the net and its
    held-out accuracies (test patches: the right-hand columns of every photo)."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    net = PhotoFeatureNet(num_photos)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs * ((len(train_x) + batch_size - 1) // batch_size))
    for _ in range(epochs):
        net.train()
        order = torch.randperm(len(train_x), generator=gen)
        for i in range(0, len(order), batch_size):
            idx = order[i : i + batch_size]
            x, rot = rotation_batch(train_x[idx], gen)
            flip = torch.rand(len(x), generator=gen) < 0.5  # horizontal flips keep photo identity
            x = torch.where(flip[:, None, None, None], x.flip(-1), x)
            photo_logits, rot_logits = net.heads(x)
            loss = F.cross_entropy(photo_logits, train_photo[idx]) + F.cross_entropy(rot_logits, rot)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    net.eval()
    with torch.no_grad():
        x, rot = rotation_batch(test_x, torch.Generator().manual_seed(seed + 1))
        photo_logits, rot_logits = net.heads(x)
        scores = {
            "test_photo_accuracy": float((photo_logits.argmax(1) == test_photo).float().mean()),
            "test_rotation_accuracy": float((rot_logits.argmax(1) == rot).float().mean()),
        }
    return net.requires_grad_(False), scores
