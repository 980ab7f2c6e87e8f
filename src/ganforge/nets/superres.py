"""SRGAN building blocks (Ledig et al. 2017): SRResNet generator, discriminator, content loss, tiling.

The generator is fully convolutional, so it upscales any input size; :func:`tiled_apply` runs it on
large images tile by tile with enough overlap that the result equals the untiled one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from ganforge.errors import GanforgeError
from ganforge.fileio import read_state_dict
from ganforge.nets.layers import ResidualBlock


class SRResNetGenerator(nn.Module):
    """SRResNet: LR image (N, C, H, W) -> SR image (N, C, s*H, s*W).

    conv9x9 + PReLU -> ``num_blocks`` residual blocks (conv3x3-BN-PReLU-conv3x3-BN + skip) -> conv3x3-BN,
    added to the first layer's output (long skip) -> log2(scale) upsampling blocks (conv3x3 to 4x channels,
    PixelShuffle(2), PReLU) -> conv9x9 to C channels.

    ``output="tanh"`` (default) bounds the output to [-1, 1], the range SRGAN scales its HR targets to, so
    data is scaled to [-1, 1] by the tanh Scaler; ``"linear"`` leaves it unbounded (for standardized data).
    BatchNorm makes outputs depend on the batch in train mode; use eval mode for inference and tiling.
    ``norm="none"`` drops every BatchNorm (EDSR, Lim et al. 2017: BN normalises away the range of
    features that SR must reproduce exactly, and its train/eval statistics differ on small batches).
    """

    def __init__(
        self,
        channels: int = 3,
        scale: Literal[2, 4] = 4,
        num_blocks: int = 16,
        width: int = 64,
        output: Literal["tanh", "linear"] = "tanh",
        norm: Literal["batch", "none"] = "batch",
    ) -> None:
        super().__init__()
        if norm not in ("batch", "none"):
            raise GanforgeError(f"SRResNetGenerator: norm must be 'batch' or 'none', got '{norm}'")
        if scale not in (2, 4):
            raise GanforgeError(f"SRResNetGenerator: scale must be 2 or 4, got {scale}")
        if output not in ("tanh", "linear"):
            raise GanforgeError(f"SRResNetGenerator: output must be 'tanh' or 'linear', got '{output}'")
        if channels < 1 or width < 1 or num_blocks < 0:
            raise GanforgeError("SRResNetGenerator: channels and width must be >= 1, num_blocks >= 0")
        self.channels, self.scale, self.num_blocks = channels, scale, num_blocks
        self.output_activation = output
        self.head = nn.Sequential(nn.Conv2d(channels, width, 9, padding=4), nn.PReLU(width))
        self.body = nn.Sequential(
            *[ResidualBlock(width, norm=norm, activation="prelu") for _ in range(num_blocks)],
            nn.Conv2d(width, width, 3, padding=1),
            nn.BatchNorm2d(width) if norm == "batch" else nn.Identity(),
        )
        ups: list[nn.Module] = []
        for _ in range(int(math.log2(scale))):
            ups += [nn.Conv2d(width, width * 4, 3, padding=1), nn.PixelShuffle(2), nn.PReLU(width)]
        self.upsample = nn.Sequential(*ups)
        self.tail = nn.Conv2d(width, channels, 9, padding=4)

    def receptive_radius(self) -> int:
        """How many LR pixels either side of a pixel can influence its SR output (ceil).

        A layer of radius k working at f times the LR size reaches ``ceil(k / f)`` LR pixels: 9x9 head (4),
        2 per residual block, 1 for the body conv, 1 per upsampling conv (at scales 1 and 2), and
        ``ceil(4 / s)`` for the 9x9 tail. Overlap >= this makes :func:`tiled_apply` exact.
        """
        n_up = int(math.log2(self.scale))
        return 4 + 2 * self.num_blocks + 1 + n_up + math.ceil(4 / self.scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.channels:
            raise GanforgeError(
                f"SRResNetGenerator expects images shaped (N, {self.channels}, H, W), got {tuple(x.shape)}"
            )
        features = self.head(x)
        y = self.tail(self.upsample(features + self.body(features)))
        return torch.tanh(y) if self.output_activation == "tanh" else y


class SRDiscriminator(nn.Module):
    """SRGAN's discriminator, made size-agnostic: one logit (N, 1) for an image of any size >= 16.

    Eight conv3x3 + leaky ReLU(0.2) layers with widths w, w, 2w, 2w, 4w, 4w, 8w, 8w and strides
    1, 2, 1, 2, 1, 2, 1, 2 (BatchNorm on all but the first), then global average pooling (the paper's
    flatten needs a fixed 96x96 input), a 1x1 conv to 16w (the paper's dense 1024 at w=64), leaky ReLU and a
    1x1 conv to one logit. No sigmoid: objectives take logits.
    """

    def __init__(self, channels: int = 3, width: int = 64) -> None:
        super().__init__()
        if channels < 1 or width < 1:
            raise GanforgeError("SRDiscriminator: channels and width must be >= 1")
        self.channels = channels
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, padding=1), nn.LeakyReLU(0.2)]
        plan = [
            (width, 2),
            (2 * width, 1),
            (2 * width, 2),
            (4 * width, 1),
            (4 * width, 2),
            (8 * width, 1),
            (8 * width, 2),
        ]
        in_ch = width
        for out_ch, stride in plan:
            layers += [
                nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1),
                nn.BatchNorm2d(out_ch),
                nn.LeakyReLU(0.2),
            ]
            in_ch = out_ch
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(in_ch, 16 * width, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(16 * width, 1, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.channels:
            raise GanforgeError(
                f"SRDiscriminator expects images shaped (N, {self.channels}, H, W), got {tuple(x.shape)}"
            )
        return self.head(self.features(x)).flatten(1)


# ---------------------------------------------------------------------------------------------- VGG19

# torchvision's VGG19 "features" layout: conv widths per stage, "M" = 2x2 max pool.
_VGG19_CFG: list[int | str] = [
    64,
    64,
    "M",
    128,
    128,
    "M",
    256,
    256,
    256,
    256,
    "M",
    512,
    512,
    512,
    512,
    "M",
    512,
    512,
    512,
    512,
    "M",
]
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def _vgg19_layers() -> list[nn.Module]:
    layers: list[nn.Module] = []
    in_ch = 3
    for item in _VGG19_CFG:
        if item == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(in_ch, int(item), 3, padding=1), nn.ReLU(inplace=False)]
            in_ch = int(item)
    return layers


def _vgg19_layer_index(layer: str) -> int:
    """Index in ``features`` of the ReLU after conv ``j`` of stage ``i``, for ``layer = "relu{i}_{j}"``."""
    stage, conv, index = 1, 0, 0
    for item in _VGG19_CFG:
        if item == "M":
            stage, conv = stage + 1, 0
            index += 1
            continue
        conv += 1
        if f"relu{stage}_{conv}" == layer:
            return index + 1
        index += 2
    raise GanforgeError(
        f"unknown VGG19 layer '{layer}'; use 'relu<stage>_<conv>', "
        "e.g. relu2_2 (SRGAN's VGG22) or relu5_4 (VGG54)"
    )


def _load_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Tensors from a safetensors file or a torch state dict (restricted unpickler: no code runs)."""
    return read_state_dict(path, "VGG19 weights", "pass a state dict or safetensors file")


class VGG19Features(nn.Module):
    """Frozen VGG19 ``features`` up to ``layer`` (default relu5_4, SRGAN's VGG54) for a perceptual loss.

    Inputs are generator-unit images in ``input_range`` (default [-1, 1]); they are mapped to [0, 1] and
    normalized with the ImageNet mean/std the weights were trained with. One channel is repeated to three.
    Weights come from a torchvision-style state dict (keys ``features.<i>.weight`` or ``<i>.weight``);
    only the layers up to ``layer`` are kept.
    """

    def __init__(
        self,
        weights_path: str | Path,
        layer: str = "relu5_4",
        input_range: tuple[float, float] = (-1.0, 1.0),
    ) -> None:
        super().__init__()
        path = Path(weights_path)
        if not path.is_file():
            raise GanforgeError(
                f"VGG19 weights not found at '{path}'; pass the path of a torchvision vgg19 state dict "
                "(.pth/.safetensors), or give ContentLoss any frozen nn.Module as features="
            )
        last = _vgg19_layer_index(layer)
        self.layers = nn.Sequential(*_vgg19_layers()[: last + 1])
        state = {k.removeprefix("features."): v for k, v in _load_state_dict(path).items()}
        wanted = self.layers.state_dict()
        missing = [k for k in wanted if k not in state]
        if missing:
            raise GanforgeError(
                f"VGG19 weights at '{path}' lack features.{missing[0]} (and {len(missing) - 1} more); "
                "expected torchvision vgg19 keys such as features.0.weight"
            )
        try:
            self.layers.load_state_dict({k: state[k] for k in wanted})
        except RuntimeError as exc:
            raise GanforgeError(
                f"VGG19 weights at '{path}' do not fit VGG19: {str(exc).splitlines()[0]}"
            ) from None
        lo, hi = input_range
        self.register_buffer("mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.lo, self.hi = float(lo), float(hi)
        self.requires_grad_(False)
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] == 1:
            x = x.repeat(1, 3, 1, 1)
        x = (x - self.lo) / (self.hi - self.lo)
        return self.layers((x - self.mean) / self.std)


class ContentLoss(nn.Module):
    """SRGAN content loss: ``pixel_weight * pixel(SR, HR) + feature_weight * MSE(phi(SR), phi(HR))``.

    ``pixel``: "mse" (SRResNet's MSE loss), "l1", or None. ``features``: a frozen feature network phi — any
    nn.Module (kept in eval mode with gradients off for its own parameters; gradients still flow to SR),
    e.g. :class:`VGG19Features` or a small trained net. The paper's VGG54 loss uses
    ``feature_weight = 1 / 12.75**2 ~ 0.006`` (its rescaling of VGG feature maps). The adversarial term
    is added by the GAN, not here.
    """

    def __init__(
        self,
        pixel: Literal["mse", "l1"] | None = "mse",
        features: nn.Module | None = None,
        pixel_weight: float = 1.0,
        feature_weight: float = 0.006,
    ) -> None:
        super().__init__()
        if pixel not in ("mse", "l1", None):
            raise GanforgeError(f"ContentLoss: pixel must be 'mse', 'l1' or None, got '{pixel}'")
        if pixel is None and features is None:
            raise GanforgeError("ContentLoss: give a pixel loss, a features network, or both")
        self.pixel, self.pixel_weight, self.feature_weight = pixel, pixel_weight, feature_weight
        self.features = features
        if features is not None:
            features.requires_grad_(False)
            features.eval()

    def train(self, mode: bool = True) -> ContentLoss:
        """Switching modes never puts the frozen feature net into train mode (its BN/dropout stay fixed)."""
        super().train(mode)
        if self.features is not None:
            self.features.eval()
        return self

    def pixel_term(self, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor | None:
        """The unweighted pixel loss, MSE or L1 (``None`` when not configured)."""
        if sr.shape != hr.shape:
            raise GanforgeError(
                f"ContentLoss: SR shape {tuple(sr.shape)} differs from HR shape {tuple(hr.shape)}"
            )
        if self.pixel == "mse":
            return F.mse_loss(sr, hr)
        if self.pixel == "l1":
            return F.l1_loss(sr, hr)
        return None

    def terms(self, sr: torch.Tensor, hr: torch.Tensor) -> dict[str, torch.Tensor]:
        """The unweighted terms, for logging: ``{"pixel": ..., "features": ...}`` (those configured)."""
        out: dict[str, torch.Tensor] = {}
        pixel = self.pixel_term(sr, hr)
        if pixel is not None:
            out["pixel"] = pixel
        if self.features is not None:
            with torch.no_grad():
                target = self.features(hr)
            out["features"] = F.mse_loss(self.features(sr), target)
        return out

    def total(self, terms: dict[str, torch.Tensor]) -> torch.Tensor:
        """``pixel_weight * pixel + feature_weight * features`` over the ``terms`` given."""
        total = next(iter(terms.values())).new_zeros(())
        if "pixel" in terms:
            total = total + self.pixel_weight * terms["pixel"]
        if "features" in terms:
            total = total + self.feature_weight * terms["features"]
        return total

    def forward(self, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        return self.total(self.terms(sr, hr))


# ---------------------------------------------------------------------------------------------- tiling


def tiled_apply(
    fn: Callable[[torch.Tensor], torch.Tensor],
    image: torch.Tensor,
    tile: int,
    overlap: int,
    scale: int,
) -> torch.Tensor:
    """Apply a fully-convolutional upscaler ``fn`` (x -> scale * size) to ``image`` tile by tile.

    The input is cut into ``tile`` x ``tile`` cores; each core is run with ``overlap`` extra input pixels of
    real context on every side (clipped at the image border, where ``fn`` sees the same border as it would
    untiled), and only the output of the core, ``scale * tile`` a side, is kept. An output pixel depends on
    the input within ``fn``'s receptive radius r, so with ``overlap >= r`` every kept pixel saw exactly the
    inputs it sees untiled and the result equals ``fn(image)`` (up to float rounding). Batch-dependent
    layers (BatchNorm in train mode) break this: put the model in eval mode.
    """
    if image.dim() != 4:
        raise GanforgeError(f"tiled_apply expects images shaped (N, C, H, W), got {tuple(image.shape)}")
    if tile < 1 or overlap < 0 or scale < 1:
        raise GanforgeError(
            f"tiled_apply: need tile >= 1, overlap >= 0, scale >= 1; got {tile}, {overlap}, {scale}"
        )
    n, _, h, w = image.shape
    if n == 0 or h == 0 or w == 0:
        raise GanforgeError(f"tiled_apply: the image batch is empty, shape {tuple(image.shape)}")
    out: torch.Tensor | None = None
    for top in range(0, h, tile):
        for left in range(0, w, tile):
            bottom, right = min(top + tile, h), min(left + tile, w)
            y0, x0 = max(top - overlap, 0), max(left - overlap, 0)
            y1, x1 = min(bottom + overlap, h), min(right + overlap, w)
            result = fn(image[:, :, y0:y1, x0:x1])
            expected = ((y1 - y0) * scale, (x1 - x0) * scale)
            if result.dim() != 4 or result.shape[0] != n or tuple(result.shape[-2:]) != expected:
                raise GanforgeError(
                    f"tiled_apply: fn turned a {(y1 - y0, x1 - x0)} tile into {tuple(result.shape)}, "
                    f"not {scale}x its size; pass the model's true scale"
                )
            if out is None:
                out = result.new_empty(n, result.shape[1], h * scale, w * scale)
            core = result[
                :, :, (top - y0) * scale : (bottom - y0) * scale, (left - x0) * scale : (right - x0) * scale
            ]
            out[:, :, top * scale : bottom * scale, left * scale : right * scale] = core
    if out is None:  # unreachable: h, w >= 1 means at least one tile ran
        raise GanforgeError("tiled_apply: no tile was processed")
    return out
