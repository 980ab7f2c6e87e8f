"""The "FCN-score" of Pix2Pix on ``labels2scenes``: a small segmenter trained on real scenes, run on generated ones.

The paper scores label -> photo translation by running an FCN-8s trained on real Cityscapes photos on the
generated photos and comparing its per-pixel classes with the input label map: per-pixel accuracy,
per-class accuracy (mean over classes of the fraction of that class's pixels labelled right) and class
IoU (mean over classes of |pred ∩ true| / |pred ∪ true|). If generated scenes look real, the segmenter
recovers the label map they were drawn from.

:class:`SceneSegmenter` is a fully convolutional net (3x3 convs with dilations 1, 2, 4, 8: a 31-pixel
receptive field, so it reads texture and context, not only colour) trained with cross-entropy on real
``labels2scenes`` training scenes (seed 0 stream) under random colour shifts (every class's colour varies
by +-25 %, so colour alone does not decide and a flat, textureless region is not a confident guess) and
shipped as ``weights/scene_segmenter.safetensors``;
``weights/scene_segmenter.json`` records its protocol and its scores on held-out real scenes (the test
stream). ``scripts/train_scene_segmenter.py`` re-creates both.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ganforge.errors import GanforgeError

WEIGHTS = Path(__file__).parent / "weights" / "scene_segmenter.safetensors"
CARD = Path(__file__).parent / "weights" / "scene_segmenter.json"


class SceneSegmenter(nn.Module):
    """(N, 3, H, W) scenes in [0, 1] -> (N, K, H, W) class logits."""

    def __init__(self, num_classes: int = 5, width: int = 24) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        ch = 3
        for dilation in (1, 2, 4, 8):
            layers += [nn.Conv2d(ch, width, 3, padding=dilation, dilation=dilation), nn.BatchNorm2d(width), nn.ReLU()]
            ch = width
        layers.append(nn.Conv2d(ch, num_classes, 1))
        self.net = nn.Sequential(*layers)
        self.num_classes = num_classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - 0.5) / 0.25)

    @torch.no_grad()
    def predict(self, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        """(N, H, W) predicted class of every pixel."""
        if images.dim() != 4 or images.shape[1] != 3:
            raise GanforgeError(f"scene segmenter expects RGB images (N, 3, H, W), got {tuple(images.shape)}")
        out = [self(images[i : i + batch_size].float()).argmax(1) for i in range(0, len(images), batch_size)]
        return torch.cat(out)


def segmentation_scores(pred: torch.Tensor, true: torch.Tensor, num_classes: int) -> dict[str, float]:
    """Per-pixel accuracy, per-class accuracy and class IoU (means over the classes present in ``true``)
    from the confusion matrix of predicted and true class maps."""
    conf = torch.bincount(true.flatten() * num_classes + pred.flatten(), minlength=num_classes**2)
    conf = conf.reshape(num_classes, num_classes).double()  # rows: true class, columns: predicted
    tp = conf.diag()
    per_true, per_pred = conf.sum(1), conf.sum(0)
    present = per_true > 0
    class_acc = tp[present] / per_true[present]
    iou = tp[present] / (per_true[present] + per_pred[present] - tp[present])
    return {
        "pixel_accuracy": float(tp.sum() / conf.sum()),
        "class_accuracy": float(class_acc.mean()),
        "class_iou": float(iou.mean()),
    }


def color_jitter(x: torch.Tensor, generator: torch.Generator, strength: float = 0.25) -> torch.Tensor:
    """Per-image random gain of each channel in ``[1 - s, 1 + s]`` and offset in ``[-s/2, s/2]``, clamped to
    [0, 1]: colours shift, textures stay, so the segmenter has to read texture as well as colour."""
    n = x.shape[0]
    gain = 1 + strength * (2 * torch.rand(n, 3, 1, 1, generator=generator) - 1)
    offset = strength * (torch.rand(n, 3, 1, 1, generator=generator) - 0.5)
    return (x * gain + offset).clamp(0, 1)


def train_scene_segmenter(
    images: torch.Tensor,
    maps: torch.Tensor,
    num_classes: int,
    steps: int = 1500,
    batch_size: int = 32,
    seed: int = 0,
    jitter: float = 0.25,
) -> SceneSegmenter:
    """Cross-entropy training with Adam (lr 2e-3, cosine decay), random flips and colour jitter
    (:func:`color_jitter`, ``jitter`` = 0 turns it off); deterministic for a seed."""
    torch.manual_seed(seed)
    net = SceneSegmenter(num_classes)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    g = torch.Generator().manual_seed(seed)
    net.train()
    for _ in range(steps):
        idx = torch.randint(0, len(images), (batch_size,), generator=g)
        x, y = images[idx], maps[idx]
        if jitter > 0:
            x = color_jitter(x, g, jitter)
        if torch.rand((), generator=g) < 0.5:
            x, y = x.flip(-1), y.flip(-1)
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    return net.eval().requires_grad_(False)


def scene_segmenter_card() -> dict[str, Any]:
    """The shipped segmenter's record (training data, steps, held-out scores on real scenes)."""
    if not CARD.exists():
        raise GanforgeError(f"scene segmenter record missing at {CARD}; run `python scripts/train_scene_segmenter.py`")
    return json.loads(CARD.read_text())


def load_scene_segmenter(path: str | Path | None = None) -> SceneSegmenter:
    """The shipped (or a given) segmenter, eval mode, gradients off."""
    from safetensors.torch import load_file

    file = Path(path) if path is not None else WEIGHTS
    if not file.exists():
        raise GanforgeError(
            f"scene segmenter weights not found at {file}; run `python scripts/train_scene_segmenter.py`"
        )
    state = load_file(str(file))
    net = SceneSegmenter(num_classes=int(state["net.12.weight"].shape[0]))
    net.load_state_dict(state)
    return net.eval().requires_grad_(False)


def fcn_scores(segmenter: SceneSegmenter, scenes: torch.Tensor, maps: torch.Tensor) -> dict[str, float]:
    """The segmenter's scores on ``scenes`` (N, 3, H, W) against the true class maps (N, H, W)."""
    return segmentation_scores(segmenter.predict(scenes), maps, segmenter.num_classes)
