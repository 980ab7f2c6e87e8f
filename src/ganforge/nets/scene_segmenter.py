"""The "FCN-score" of Pix2Pix on ``labels2scenes``: a small segmenter trained on real scenes, run on generated ones.

The paper scores label -> photo translation by running an FCN-8s trained on real Cityscapes photos on the
generated photos and comparing its per-pixel classes with the input label map: per-pixel accuracy,
per-class accuracy (mean over classes of the fraction of that class's pixels labelled right) and class
IoU (mean over classes of |pred ∩ true| / |pred ∪ true|). If generated scenes look real, the segmenter
recovers the label map they were drawn from.

:class:`SceneSegmenter` is a fully convolutional net (3x3 convs with dilations 1, 2, 4, 8: a 31-pixel
receptive field, so it reads texture and context, not only colour) trained with cross-entropy on real
``labels2scenes`` training scenes (seed 0 stream) under random colour shifts (every class's colour varies
by +-25 %, the same shift for the whole image) and shipped as ``weights/scene_segmenter.safetensors``;
``weights/scene_segmenter.json`` records its protocol and its scores on held-out real scenes (the test
stream). ``scripts/train_scene_segmenter.py`` re-creates both.

That segmenter still tells the five classes apart by colour and layout, which a blurred, textureless output
keeps: it gives real scenes and *flat* ones (every class region filled with its mean colour,
:func:`flat_scenes`, what a pure L1 regressor converges to) nearly the same score, so it cannot see the
realism the paper's FCN-score is about (on Cityscapes, where a car may be any colour, the paper's L1 row
reads 0.42 against 0.80 for real photos). The *texture* segmenter (``variant="texture"``,
``weights/scene_texture_segmenter.*``) is the same net trained under colour jitter drawn independently for
every class region (:func:`class_color_jitter`), so colour says little about the class and texture decides;
its card records both segmenters' scores on real and on flat scenes of a validation stream.
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
TEXTURE_WEIGHTS = Path(__file__).parent / "weights" / "scene_texture_segmenter.safetensors"
TEXTURE_CARD = Path(__file__).parent / "weights" / "scene_texture_segmenter.json"
VARIANTS = {"colour": (WEIGHTS, CARD), "texture": (TEXTURE_WEIGHTS, TEXTURE_CARD)}


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
    [0, 1]: colours shift, textures stay, so the segmenter has to read texture as well as colour. It is
    :func:`class_color_jitter` with the whole image as one region (the same draws, the same result)."""
    whole = torch.zeros(x.shape[0], *x.shape[2:], dtype=torch.long, device=x.device)
    return class_color_jitter(x, whole, 1, generator, strength)


def class_color_jitter(
    x: torch.Tensor, maps: torch.Tensor, num_classes: int, generator: torch.Generator, strength: float
) -> torch.Tensor:
    """A colour change drawn independently for every class region of every image: pixel ``p`` of class ``c``
    in image ``i`` becomes ``x * gain[i, c] + offset[i, c]`` (per channel; gain in ``[1 - s, 1 + s]``, offset
    in ``[-s/2, s/2]``), clamped to [0, 1]. The classes' colours overlap, so a segmenter trained this way has
    to read texture to tell them apart."""
    n = x.shape[0]
    gain = 1 + strength * (2 * torch.rand(n, num_classes, 3, generator=generator) - 1)
    offset = strength * (torch.rand(n, num_classes, 3, generator=generator) - 0.5)
    rows = torch.arange(n).view(n, 1, 1)
    per_pixel_gain = gain[rows, maps].permute(0, 3, 1, 2)  # (n, H, W, 3) -> (n, 3, H, W)
    per_pixel_offset = offset[rows, maps].permute(0, 3, 1, 2)
    return (x * per_pixel_gain + per_pixel_offset).clamp(0, 1)


def flat_scenes(scenes: torch.Tensor, maps: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Every class region of every scene filled with that region's mean colour: the scene with its layout
    and colours and no texture (what an L1 regressor predicts when textures have random phase)."""
    n = scenes.shape[0]
    one_hot = F.one_hot(maps, num_classes).permute(0, 3, 1, 2).to(scenes.dtype)  # (n, K, H, W)
    sums = torch.einsum("nchw,nkhw->nkc", scenes, one_hot)
    means = sums / one_hot.sum(dim=(2, 3)).clamp_min(1).unsqueeze(-1)  # (n, K, 3)
    return means[torch.arange(n).view(n, 1, 1), maps].permute(0, 3, 1, 2).contiguous()


def train_scene_segmenter(
    images: torch.Tensor,
    maps: torch.Tensor,
    num_classes: int,
    steps: int = 1500,
    batch_size: int = 32,
    seed: int = 0,
    jitter: float = 0.25,
    per_class: bool = False,
) -> SceneSegmenter:
    """Cross-entropy training with Adam (lr 2e-3, cosine decay), random flips and colour jitter
    (:func:`color_jitter`, or :func:`class_color_jitter` with ``per_class``; ``jitter`` = 0 turns it off);
    deterministic for a seed."""
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
            x = class_color_jitter(x, y, num_classes, g, jitter) if per_class else color_jitter(x, g, jitter)
        if torch.rand((), generator=g) < 0.5:
            x, y = x.flip(-1), y.flip(-1)
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    return net.eval().requires_grad_(False)


def _variant_files(variant: str) -> tuple[Path, Path]:
    if variant not in VARIANTS:
        raise GanforgeError(f"scene segmenter variant {variant!r} unknown; choose one of {', '.join(VARIANTS)}")
    return VARIANTS[variant]


def scene_segmenter_card(variant: str = "colour") -> dict[str, Any]:
    """A shipped segmenter's record (training data, steps, held-out scores on real scenes)."""
    card = _variant_files(variant)[1]
    if not card.exists():
        script = f"python scripts/train_scene_segmenter.py --variant {variant}"
        raise GanforgeError(f"scene segmenter record missing at {card}; run `{script}`")
    return json.loads(card.read_text())


def load_scene_segmenter(path: str | Path | None = None, variant: str = "colour") -> SceneSegmenter:
    """A shipped segmenter (``variant`` "colour", the original, or "texture") or the one at ``path``, eval
    mode, gradients off."""
    from safetensors.torch import load_file

    file = Path(path) if path is not None else _variant_files(variant)[0]
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
