"""Feature networks for image metrics: what FID, KID, PRDC and IS look through.

A *feature network* is any ``nn.Module`` that is called on images ``(N, C, H, W)`` in data units
([0, 1]) and returns features ``(N, d)``. Two are built in, both subclasses of :class:`FeatureNetwork`
(which adds ``name``, ``num_features`` and a ``logits(images)`` method for the Inception Score):

* :class:`DigitsClassifier` ("digits") — a small CNN trained on scikit-learn's 8x8 digits, shipped with
  the package (``weights/digits_cnn.safetensors``, protocol and test accuracy in ``digits_cnn.json``).
  It accepts single-channel images of any size, resizes them to 16x16 internally, and gives 64-d
  penultimate features and 10 class logits. Metrics computed with it are comparable between ganforge
  runs, not with published numbers.
* :class:`InceptionFeatures` ("inception") — the Inception-v3 network of the original TensorFlow FID
  code (2048-d pool features, 1008 logits), for numbers comparable with papers. Its weights are not
  shipped: give a local copy of ``pt_inception-2015-12-05-6726825d.pth`` as ``path=`` or in the
  environment variable ``GANFORGE_INCEPTION_WEIGHTS``.

:func:`resolve_features` turns ``"digits"``, ``"inception"`` or a module into a network.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ganforge.errors import GanforgeError, did_you_mean

WEIGHTS_DIR = Path(__file__).parent / "weights"
DIGITS_WEIGHTS = WEIGHTS_DIR / "digits_cnn.safetensors"
DIGITS_CARD = WEIGHTS_DIR / "digits_cnn.json"
DIGITS_INPUT_SIZE = 16
INCEPTION_ENV = "GANFORGE_INCEPTION_WEIGHTS"
INCEPTION_FILE = "pt_inception-2015-12-05-6726825d.pth"
INCEPTION_URL = "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + INCEPTION_FILE


class FeatureNetwork(nn.Module):
    """A network called on images in [0, 1] returning ``(N, num_features)``; ``logits`` feeds the IS."""

    name: str = "features"
    num_features: int = 0

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """Class logits ``(N, K)`` for the Inception Score and classification."""
        raise NotImplementedError


def feature_name(net: nn.Module) -> str:
    """The name a metric result records for ``net``: its ``name`` attribute, else its class name."""
    name = getattr(net, "name", None)
    return name if isinstance(name, str) else type(net).__name__


def _check_images(images: torch.Tensor, channels: int, who: str) -> None:
    if images.ndim != 4 or images.shape[1] != channels:
        raise GanforgeError(
            f"{who} expects images shaped (N, {channels}, H, W); got {tuple(images.shape)}; "
            f"pass {channels}-channel images in data units [0, 1]"
        )


# --------------------------------------------------------------------------------------------------
# Digits: data, split and classifier
# --------------------------------------------------------------------------------------------------


class DigitsClassifier(FeatureNetwork):
    """Small CNN for 10-class digits; penultimate 64-d features for FID/KID/PRDC, logits for IS.

    Input ``(N, 1, H, W)`` in [0, 1] at any size; it is resized to 16x16 (bilinear, antialiased when
    shrinking) so 8x8 digits and their 16x16 or 32x32 renderings land on the same grid. Layers:
    conv3x3(32) → pool → conv3x3(64) → pool → conv3x3(64) → linear(64) → linear(10), ReLU between.
    ``forward`` returns the 64 pre-activation outputs of the penultimate linear layer: unlike the
    post-ReLU values they have no dead (constant zero) dimensions and are closer to the Gaussian that
    FID fits.
    """

    name = "digits"
    num_features = 64

    def __init__(self, input_size: int = DIGITS_INPUT_SIZE) -> None:
        super().__init__()
        self.input_size = input_size
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(64, 64, 3, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(64 * (input_size // 4) ** 2, self.num_features),
        )
        self.head = nn.Sequential(nn.ReLU(), nn.Dropout(0.3), nn.Linear(self.num_features, 10))

    def _prepare(self, images: torch.Tensor) -> torch.Tensor:
        _check_images(images, 1, "DigitsClassifier")
        x = images.to(dtype=torch.float32)
        if tuple(x.shape[-2:]) != (self.input_size, self.input_size):
            shrink = x.shape[-1] > self.input_size or x.shape[-2] > self.input_size
            size = (self.input_size, self.input_size)
            x = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=shrink)
        return x

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Penultimate features ``(N, 64)``."""
        return self.body(self._prepare(images))

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """Class logits ``(N, 10)``."""
        return self.head(self.forward(images))

    @torch.no_grad()
    def predict(self, images: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
        """Predicted digit ``(N,)`` for each image, in batches."""
        out = [self.logits(images[i : i + batch_size]).argmax(1) for i in range(0, len(images), batch_size)]
        return torch.cat(out) if out else torch.zeros(0, dtype=torch.long)


def digits_card() -> dict[str, Any]:
    """The shipped classifier's record: test accuracy, split, epochs, seed, augmentation."""
    if not DIGITS_CARD.exists():
        raise GanforgeError(
            f"digits classifier record missing at {DIGITS_CARD}; "
            "run `python scripts/train_digits_classifier.py` to create it"
        )
    return json.loads(DIGITS_CARD.read_text())


def load_digits_classifier(path: str | os.PathLike[str] | None = None) -> DigitsClassifier:
    """The shipped (or a given) digits classifier, in eval mode with gradients off."""
    from safetensors.torch import load_file

    file = Path(path) if path is not None else DIGITS_WEIGHTS
    if not file.exists():
        raise GanforgeError(
            f"digits classifier weights not found at {file}; "
            "run `python scripts/train_digits_classifier.py` to create them"
        )
    net = DigitsClassifier()
    net.load_state_dict(load_file(str(file)))
    net.eval().requires_grad_(False)
    return net


# --------------------------------------------------------------------------------------------------
# Inception-v3 as used by the TensorFlow FID code (ported weights: pt_inception-2015-12-05)
# --------------------------------------------------------------------------------------------------


class _ConvBN(nn.Module):
    """conv (no bias) → batch norm (eps 1e-3, as the TensorFlow graph) → ReLU."""

    def __init__(self, cin: int, cout: int, kernel: int | tuple[int, int], **conv: Any) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, bias=False, **conv)
        self.bn = nn.BatchNorm2d(cout, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def _avg_pool_same(x: torch.Tensor) -> torch.Tensor:
    # TensorFlow's 3x3 SAME average pool ignores the zero padding in its mean.
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class _BlockA(nn.Module):
    """35x35 block: 1x1 | 1x1→5x5 | 1x1→3x3→3x3 | avgpool→1x1."""

    def __init__(self, cin: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = _ConvBN(cin, 64, 1)
        self.branch5x5_1 = _ConvBN(cin, 48, 1)
        self.branch5x5_2 = _ConvBN(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = _ConvBN(cin, 64, 1)
        self.branch3x3dbl_2 = _ConvBN(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = _ConvBN(96, 96, 3, padding=1)
        self.branch_pool = _ConvBN(cin, pool_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat(
            [
                self.branch1x1(x),
                self.branch5x5_2(self.branch5x5_1(x)),
                self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                self.branch_pool(_avg_pool_same(x)),
            ],
            1,
        )


class _BlockB(nn.Module):
    """35→17 reduction: 3x3/2 | 1x1→3x3→3x3/2 | maxpool/2."""

    def __init__(self, cin: int) -> None:
        super().__init__()
        self.branch3x3 = _ConvBN(cin, 384, 3, stride=2)
        self.branch3x3dbl_1 = _ConvBN(cin, 64, 1)
        self.branch3x3dbl_2 = _ConvBN(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = _ConvBN(96, 96, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat(
            [
                self.branch3x3(x),
                self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x))),
                F.max_pool2d(x, 3, stride=2),
            ],
            1,
        )


class _BlockC(nn.Module):
    """17x17 block with factorised 7x7 convolutions (1x7 and 7x1)."""

    def __init__(self, cin: int, c7: int) -> None:
        super().__init__()
        self.branch1x1 = _ConvBN(cin, 192, 1)
        self.branch7x7_1 = _ConvBN(cin, c7, 1)
        self.branch7x7_2 = _ConvBN(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7_3 = _ConvBN(c7, 192, (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = _ConvBN(cin, c7, 1)
        self.branch7x7dbl_2 = _ConvBN(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = _ConvBN(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = _ConvBN(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = _ConvBN(c7, 192, (1, 7), padding=(0, 3))
        self.branch_pool = _ConvBN(cin, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        d7 = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            d7 = layer(d7)
        return torch.cat([self.branch1x1(x), b7, d7, self.branch_pool(_avg_pool_same(x))], 1)


class _BlockD(nn.Module):
    """17→8 reduction: 1x1→3x3/2 | 1x1→1x7→7x1→3x3/2 | maxpool/2."""

    def __init__(self, cin: int) -> None:
        super().__init__()
        self.branch3x3_1 = _ConvBN(cin, 192, 1)
        self.branch3x3_2 = _ConvBN(192, 320, 3, stride=2)
        self.branch7x7x3_1 = _ConvBN(cin, 192, 1)
        self.branch7x7x3_2 = _ConvBN(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = _ConvBN(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = _ConvBN(192, 192, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b7 = self.branch7x7x3_1(x)
        for layer in (self.branch7x7x3_2, self.branch7x7x3_3, self.branch7x7x3_4):
            b7 = layer(b7)
        return torch.cat([self.branch3x3_2(self.branch3x3_1(x)), b7, F.max_pool2d(x, 3, stride=2)], 1)


class _BlockE(nn.Module):
    """8x8 block with split 1x3/3x1 outputs. The FID graph's last block pools with max, not average."""

    def __init__(self, cin: int, max_pool: bool) -> None:
        super().__init__()
        self.max_pool = max_pool
        self.branch1x1 = _ConvBN(cin, 320, 1)
        self.branch3x3_1 = _ConvBN(cin, 384, 1)
        self.branch3x3_2a = _ConvBN(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = _ConvBN(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = _ConvBN(cin, 448, 1)
        self.branch3x3dbl_2 = _ConvBN(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = _ConvBN(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = _ConvBN(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = _ConvBN(cin, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_1(x)
        d3 = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        pooled = F.max_pool2d(x, 3, stride=1, padding=1) if self.max_pool else _avg_pool_same(x)
        return torch.cat(
            [
                self.branch1x1(x),
                self.branch3x3_2a(b3),
                self.branch3x3_2b(b3),
                self.branch3x3dbl_3a(d3),
                self.branch3x3dbl_3b(d3),
                self.branch_pool(pooled),
            ],
            1,
        )


def _inception_weights_file(path: str | os.PathLike[str] | None) -> Path:
    given = path if path is not None else os.environ.get(INCEPTION_ENV)
    if not given:
        raise GanforgeError(
            f"Inception FID weights not available offline; download {INCEPTION_URL} and pass "
            f"InceptionFeatures(path=...) or set {INCEPTION_ENV}=/path/to/{INCEPTION_FILE}"
        )
    file = Path(given).expanduser()
    if not file.is_file():
        raise GanforgeError(
            f"Inception weights file {file} does not exist; download {INCEPTION_URL} "
            f"and point {INCEPTION_ENV} (or path=) at it"
        )
    return file


def _read_state_dict(file: Path) -> dict[str, torch.Tensor]:
    if file.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(file))
    try:
        state = torch.load(str(file), map_location="cpu", weights_only=True)
    except Exception as exc:  # a corrupt or non-tensor file: say so in one line
        raise GanforgeError(
            f"cannot read Inception weights from {file} ({type(exc).__name__}); re-download {INCEPTION_URL}"
        ) from None
    if not isinstance(state, dict):
        raise GanforgeError(f"{file} holds no state dict; expected {INCEPTION_FILE}")
    return state


class InceptionFeatures(FeatureNetwork):
    """Inception-v3 of the TensorFlow FID code: 2048-d pool3 features and 1008-way logits.

    Same graph as the FID reference (``pt_inception-2015-12-05`` weights, as ported by pytorch-fid):
    images in [0, 1] are resized to 299x299 (bilinear, no antialias), mapped to [-1, 1], and run through
    the stem, three A, one B, four C, one D and two E blocks; average pools ignore padding and the last
    E block max-pools. Grey images are repeated over three channels. With ``weights=False`` the network
    is randomly initialised (for tests of shapes only — never for reporting numbers).
    """

    name = "inception"
    num_features = 2048
    _BLOCKS = (
        "Mixed_5b",
        "Mixed_5c",
        "Mixed_5d",
        "Mixed_6a",
        "Mixed_6b",
        "Mixed_6c",
        "Mixed_6d",
        "Mixed_6e",
        "Mixed_7a",
        "Mixed_7b",
        "Mixed_7c",
    )

    def __init__(self, path: str | os.PathLike[str] | None = None, weights: bool = True) -> None:
        super().__init__()
        self.Conv2d_1a_3x3 = _ConvBN(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = _ConvBN(32, 32, 3)
        self.Conv2d_2b_3x3 = _ConvBN(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = _ConvBN(64, 80, 1)
        self.Conv2d_4a_3x3 = _ConvBN(80, 192, 3)
        self.Mixed_5b = _BlockA(192, 32)
        self.Mixed_5c = _BlockA(256, 64)
        self.Mixed_5d = _BlockA(288, 64)
        self.Mixed_6a = _BlockB(288)
        self.Mixed_6b = _BlockC(768, 128)
        self.Mixed_6c = _BlockC(768, 160)
        self.Mixed_6d = _BlockC(768, 160)
        self.Mixed_6e = _BlockC(768, 192)
        self.Mixed_7a = _BlockD(768)
        self.Mixed_7b = _BlockE(1280, max_pool=False)
        self.Mixed_7c = _BlockE(2048, max_pool=True)
        self.fc = nn.Linear(2048, 1008)
        if weights:
            self._load(_inception_weights_file(path))
        self.eval().requires_grad_(False)

    def _load(self, file: Path) -> None:
        state = _read_state_dict(file)
        own = self.state_dict()
        # Files saved by old torch versions lack batch norm's step counter; it is unused in eval mode.
        missing = sorted(k for k in set(own) - set(state) if not k.endswith("num_batches_tracked"))
        extra = sorted(k for k in set(state) - set(own) if not k.startswith("AuxLogits."))
        wrong = [k for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
        if missing or extra or wrong:
            raise GanforgeError(
                f"{file} is not the FID Inception-v3 ({len(missing)} missing, {len(extra)} unexpected, "
                f"{len(wrong)} mis-shaped tensors, e.g. {(missing + extra + wrong)[:2]}); "
                f"use {INCEPTION_FILE}"
            )
        self.load_state_dict({k: state.get(k, own[k]) for k in own})

    def train(self, mode: bool = True) -> InceptionFeatures:
        """Batch-norm statistics are part of the reference: the network always stays in eval mode."""
        del mode
        return super().train(False)

    def _pool(self, images: torch.Tensor) -> torch.Tensor:
        if images.ndim != 4 or images.shape[1] not in (1, 3):
            raise GanforgeError(
                f"InceptionFeatures expects images (N, 1 or 3, H, W) in [0, 1]; got {tuple(images.shape)}"
            )
        x = images.to(torch.float32)
        x = x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        x = 2 * x - 1
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, 3, stride=2)
        x = F.max_pool2d(self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x)), 3, stride=2)
        for name in self._BLOCKS:
            x = getattr(self, name)(x)
        return x.mean(dim=(2, 3))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """pool3 features ``(N, 2048)``."""
        return self._pool(images)

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """The 1008-way logits of the 2015 graph (index 0 is its background class)."""
        return self.fc(self._pool(images))


# --------------------------------------------------------------------------------------------------

BUILTIN_FEATURES = ("digits", "inception")


def resolve_features(features: str | nn.Module) -> nn.Module:
    """``"digits"`` → shipped :class:`DigitsClassifier`; ``"inception"`` → :class:`InceptionFeatures`
    (weights from ``GANFORGE_INCEPTION_WEIGHTS``); a module is returned as it is."""
    if isinstance(features, nn.Module):
        return features
    if features == "digits":
        return load_digits_classifier()
    if features == "inception":
        return InceptionFeatures()
    raise GanforgeError(
        f"unknown feature network '{features}'{did_you_mean(str(features), BUILTIN_FEATURES)}; "
        f"use one of {', '.join(BUILTIN_FEATURES)} or pass an nn.Module returning (N, d) features"
    )
