"""Data augmentation with a class-conditional GAN trained on a small labelled set.

``augment(x, y, per_class=200)`` trains a conditional GAN on (x, y) — or samples a trained conditional
run (``run=``) — and returns the real samples followed by ``per_class`` synthetic ones per class, with
their labels and a mask of which rows are synthetic. Works for images (N, C, H, W), (N, H, W) or (N, H, W, C)
in [0, 1] (floats) or [0, 255] (uint8), and for table rows (N, D) of numbers (each column standardized; no
image augmentation; an integer-dtype column's synthetic values rounded and clipped to its observed range).
Samples and labels (integer class ids or any sortable names) come back in the layout, dtype and values given.

The little-data tools, all on by default, because a discriminator shown 50 images memorizes them in a
few hundred steps and then gives the generator no useful gradient:

* **DiffAugment** (``gans/augment.py``, Zhao et al. 2020) on every D input, real and fake, images only:
  ``translation`` (1/8 of the side; adding ``cutout`` scored lower on a validation split of digits); G is
  trained through the same transformations.
* **R1** (Mescheder et al. 2018): gamma/2 * E_x ||grad_x D(x)||^2 on real inputs, every D step.
* a **small D with dropout** (0.3) and projection conditioning (Miyato & Koyama 2018):
  D(x, y) = psi(phi(x)) + <embed(y), phi(x)>.
* **convolutional networks for images** (``arch="auto"``: square images of side 8, 16, 32, ...; MLPs for
  table rows and other shapes): on a validation split of the digits' training half they drew samples an
  SVC gained more from than the MLPs' (docs/benchmarks/augment.md).
* an **EMA** of the generator's weights (decay 0.999, over **4,000 steps**) samples the synthetic set. The
  decay is capped at 1 - 4 / steps, so the averaging window 1 / (1 - decay) is at most a quarter of the run
  and the initial weights keep at most e^-4 (1.8 %) of the average however few steps are asked for.

Loss: non-saturating, J_D = softplus(-D(x, y)) + softplus(D(G(z, y), y)), J_G = softplus(-D(G(z, y), y)).
Optional **LeCam** regularization of D (``lecam``, Tseng et al. 2021; off by default: weights 0.3 and 0.1 did
not raise real + GAN on the digits' validation split and cost the CNN 0.5-0.8 points, docs/benchmarks/augment.md).

Optional **filtering**: a logistic regression fitted on the real samples keeps a synthetic sample only when
it gives the sample's intended class a probability >= ``filter_confidence`` (generation repeats until
each class has its count, up to 20 rounds).

**Shift expansion** (``expand``: ``"auto"`` = ``"shifts"`` for images the GAN is trained on, ``"none"``
turns it off): the GAN trains on every image and its four one-pixel shifts (:func:`one_pixel_shifts`), so
its samples carry the translation invariance a classifier gains most from, instead of recombining the few
unshifted originals. The synthetic counts still follow the real samples, not the shifted copies.

``ratio`` sets the mix instead of ``per_class``: that many synthetic samples per real sample of the class (a
class with 5 images and ratio 4 gets 20); without either, max(``DEFAULT_RATIO`` x real, ``DEFAULT_MIN_PER_CLASS``)
per class (validation split of the digits: see those constants).
"""

from __future__ import annotations

import copy
import inspect
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge import register_app
from ganforge.data.python_objects import is_channels_last
from ganforge.errors import GanforgeError, did_you_mean, in_range, quote, range_text, whole_number
from ganforge.gans.augment import diff_augment, parse_policy
from ganforge.log_keys import D_FAKE, D_REAL, LOSS_D, LOSS_G

DEFAULT_STEPS = 4000
DEFAULT_EMA = 0.999
"""4,000 steps with an EMA decay of 0.999, against the earlier 2,000 and 0.99: on a validation split of the
digits' training half (seeds 0-1, 5 and 10 images per class, SVC) real + GAN rose from 88.7 / 92.9 % to
90.1 / 93.8 % and the classification accuracy score from 87.7 / 87.7 to 89.6 / 91.8; either change alone
moved real + GAN by 0.2 points or less (docs/benchmarks/augment.md, round 13)."""
LECAM_DECAY = 0.99  # the LeCam anchors' moving-average decay (the authors' value)

DEFAULT_RATIO = 2.0
DEFAULT_MIN_PER_CLASS = 50
"""Without a count, max(2 x real, 50) synthetic samples per class (round 10's choice). Round 14 raised it to 200 on
a validation split of the digits' training half scored by an SVC alone (real + GAN at 5 and 10 real images per
class +0.59 points); round 15 scored the small CNN on the same split too: 200 per class cost it 2.21 points of
real + shifts + GAN at 20 and 50 (100 per class cost it 0.44 at 5 and 10), so 50 came back
(docs/benchmarks/augment.md, round 15)."""


SEED_MAX = 2**63 - 1  # torch.manual_seed's largest seed (the CLI's --seed range)
LIMITS: dict[str, tuple[bool, float, bool, float | None, str]] = {
    # name: (whole number, lower bound, bound excluded, upper bound (always excluded) or None, what the bounds mean)
    "per_class": (True, 0, False, None, ""),
    "ratio": (False, 0, False, None, ""),
    "steps": (True, 1, False, None, ""),
    "seed": (True, 0, False, SEED_MAX + 1, ""),
    "batch_size": (True, 1, False, None, ""),
    "noise_dim": (True, 1, False, None, ""),
    "hidden": (True, 1, False, None, ""),
    "lr": (False, 0, True, None, ""),
    "r1": (False, 0, False, None, " (0 turns R1 off)"),
    "ema": (False, 0, False, 1, " (0 samples the raw generator)"),
    "lecam": (False, 0, False, None, " (0 turns the regularizer off)"),
    "filter_confidence": (False, 0, True, 1, ""),
}
"""The numeric arguments of :func:`augment` and :func:`train_conditional_gan` and their ranges, checked by
:func:`checked` (one rule each instead of a comparison per argument that a string or NaN slips through)."""


def checked(name: str, value: Any) -> Any:
    """``value`` of the numeric argument ``name`` if it is in :data:`LIMITS`' range, else a one-line error naming
    ``name``. A whole number comes back as an ``int``: a whole float (``2.0``, what ``n / 2`` or a
    hyperparameter search gives), ``np.int64`` or a 0-d tensor (:func:`~ganforge.errors.whole_number`'s rule) is
    taken as ``2``, since ``torch.randn(2.0)`` and ``range(2.0)`` would raise deep inside training; 2.5, text
    (``"2"``), booleans (``True`` is not 1) and NaN / infinity are refused
    (``int(round(nan))`` raised a bare ValueError, ``"2" < 0`` a TypeError)."""
    whole, low, open_low, high, note = LIMITS[name]
    bounds = range_text(low, open_low, high)
    kind = "a whole number" if whole else "a finite number"
    number = whole_number(value) if whole else None
    if number is None:
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise GanforgeError(f"augment: {name} must be {kind} {bounds}{note}, got {quote(value)} "
                                f"({type(value).__name__})")
        if whole or not math.isfinite(value):
            raise GanforgeError(f"augment: {name} {value} must be {kind} {bounds}{note}")
    value = number if whole else float(value)
    if not in_range(value, low, open_low, high):
        word = "lie" if high is not None else "be"
        raise GanforgeError(f"augment: {name} {value} must {word} {bounds}{note}")
    return value


@dataclass
class Augmented:
    """``x`` (real rows first, then synthetic; the input's layout and dtype), ``y`` labels (the input's), ``synthetic``
    mask; iterable as (x, y). ``x`` is a DataFrame and ``y`` a Series where the input was one, else arrays."""

    x: Any  # np.ndarray, or a pandas DataFrame
    y: Any  # np.ndarray, or a pandas Series
    synthetic: np.ndarray

    def __repr__(self) -> str:
        """One line (the dataclass repr printed every array in full)."""
        n_syn = int(np.asarray(self.synthetic).sum())
        return (f"Augmented({len(self.synthetic) - n_syn} real + {n_syn} synthetic, x {tuple(np.shape(self.x))}, "
                f"y {tuple(np.shape(self.y))})")

    def __iter__(self) -> Any:
        return iter((self.x, self.y))


class CondGenerator(nn.Module):
    """G(z, y): an MLP on [z, embed(y)], output flattened sample (tanh for images, linear for rows)."""

    def __init__(self, noise_dim: int, num_classes: int, out_dim: int, hidden: int, image: bool) -> None:
        super().__init__()
        self.embed = nn.Embedding(num_classes, 16)
        self.net = nn.Sequential(
            nn.Linear(noise_dim + 16, hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, out_dim), nn.Tanh() if image else nn.Identity(),
        )

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        return self.net(torch.cat([z, self.embed(y)], dim=1))


class CondDiscriminator(nn.Module):
    """D(x, y) = psi(phi(x)) + <embed(y), phi(x)> with dropout in phi (projection discriminator)."""

    def __init__(self, in_dim: int, num_classes: int, hidden: int, dropout: float = 0.3) -> None:
        super().__init__()
        self.phi = nn.Sequential(
            nn.Flatten(), nn.Linear(in_dim, hidden), nn.LeakyReLU(0.2), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.LeakyReLU(0.2), nn.Dropout(dropout),
        )
        self.psi = nn.Linear(hidden, 1)
        self.embed = nn.Embedding(num_classes, hidden)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        h = self.phi(x)
        return self.psi(h).squeeze(1) + (self.embed(y) * h).sum(dim=1)


class ConvCondGenerator(nn.Module):
    """G(z, y) for square images of side 2^k >= 8: [z, embed(y)] -> linear -> (128, 2, 2), then k - 1 blocks
    of (nearest x2 upsampling, 3x3 conv, leaky ReLU) halving the channels down to 32, a 3x3 conv to the
    image's channels and tanh; output flattened like :class:`CondGenerator`'s. The convolutions draw every
    stroke the same way wherever it sits, which an MLP must learn position by position."""

    def __init__(self, noise_dim: int, num_classes: int, shape: tuple[int, ...]) -> None:
        super().__init__()
        channels, side = shape[0], shape[-1]
        self.embed = nn.Embedding(num_classes, 16)
        self.stem = nn.Linear(noise_dim + 16, 128 * 4)
        blocks: list[nn.Module] = []
        width, size = 128, 2
        while size < side:
            out = max(width // 2, 32)
            blocks += [nn.Upsample(scale_factor=2), nn.Conv2d(width, out, 3, padding=1), nn.LeakyReLU(0.2)]
            width, size = out, size * 2
        self.body = nn.Sequential(*blocks, nn.Conv2d(width, channels, 3, padding=1), nn.Tanh(), nn.Flatten())

    def forward(self, z: Tensor, y: Tensor) -> Tensor:
        h = F.leaky_relu(self.stem(torch.cat([z, self.embed(y)], dim=1)), 0.2)
        return self.body(h.view(len(h), 128, 2, 2))


class ConvCondDiscriminator(CondDiscriminator):
    """The projection discriminator of :class:`CondDiscriminator` with a convolutional phi: 3x3 stride-2
    convolutions (32, 64, 128, ... channels) from the image's side down to 2x2, then a dropout-regularized
    linear layer to ``hidden`` features."""

    def __init__(self, shape: tuple[int, ...], num_classes: int, hidden: int, dropout: float = 0.3) -> None:
        super().__init__(1, num_classes, hidden, dropout)
        layers: list[nn.Module] = []
        width, size, channels = 32, shape[-1], shape[0]
        while size > 2:
            layers += [nn.Conv2d(channels, width, 3, stride=2, padding=1), nn.LeakyReLU(0.2)]
            channels, width, size = width, min(width * 2, 256), size // 2
        self.phi = nn.Sequential(*layers, nn.Flatten(), nn.Dropout(dropout), nn.Linear(channels * 4, hidden),
                                 nn.LeakyReLU(0.2), nn.Dropout(dropout))


ARCHITECTURES = ("auto", "mlp", "conv")


def _conv_fits(shape: tuple[int, ...]) -> bool:
    """Square images (C, S, S) with S a power of two >= 8: the sides :class:`ConvCondGenerator` builds."""
    side = shape[-1]
    return len(shape) == 3 and shape[-2] == side and side >= 8 and side & (side - 1) == 0


@dataclass
class _Layout:
    """How the caller's samples map to the model's (images (N, C, H, W) in [0, 1], rows (N, D)) and back."""

    shape: tuple[int, ...]  # the caller's sample shape: (C, H, W), (H, W), (H, W, C) or (D,)
    dtype: np.dtype  # the dtype the samples are returned in
    channels_last: bool = False  # (N, H, W, C) given
    scale: float | None = None  # 255: integer images read as value / 255
    bounds: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # integer columns: (mask, min, max)

    def to_model(self, x: np.ndarray) -> np.ndarray:
        """The caller's array (N, *shape) -> float32 model units."""
        xa = x.astype(np.float32)
        if self.scale is not None:
            xa /= np.float32(self.scale)
        if self.channels_last:
            xa = xa.transpose(0, 3, 1, 2)
        elif len(self.shape) == 2:
            xa = xa[:, None]
        return np.ascontiguousarray(xa)

    def restore(self, x: np.ndarray) -> np.ndarray:
        """Samples in model units (float32, images clipped to [0, 1]) -> the caller's layout and dtype."""
        if self.scale is not None:
            x = np.clip(np.rint(x * self.scale), 0, self.scale)
        elif self.bounds is not None:
            mask, lo, hi = self.bounds
            x = x.astype(np.float64)
            x[:, mask] = np.clip(np.rint(x[:, mask]), lo, hi)
        if self.channels_last:
            x = x.transpose(0, 2, 3, 1)
        return x.reshape(len(x), *self.shape).astype(self.dtype, copy=False)


LABEL_KINDS = "iufbUSOMm"  # numpy dtype kinds of labels: numbers, booleans, strings, objects, dates


def _as_numpy(a: Any) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu()
        return (a.float() if a.dtype == torch.bfloat16 else a).numpy()
    return np.asarray(a)


def _integer_columns(x: Any, raw: np.ndarray) -> np.ndarray | None:
    """Which columns of a table hold integers: all of an integer-dtype array's, or a DataFrame's integer-dtype
    columns (their values come back rounded and clipped); None when there are none."""
    if raw.dtype.kind in "iu":
        return np.ones(raw.shape[1], bool)
    dtypes = getattr(x, "dtypes", None)
    if dtypes is None or np.ndim(dtypes) != 1 or len(dtypes) != raw.shape[1]:
        return None
    mask = np.array([getattr(d, "kind", "O") in "iu" for d in dtypes], bool)
    return mask if mask.any() else None


def _check_x(x: Any) -> tuple[np.ndarray, np.ndarray, _Layout]:
    """(the caller's samples as an array, float32 samples in model units, their layout)."""
    if isinstance(x, (str, Path)):  # a file name reached numpy's "could not convert string to float"
        raise GanforgeError(f"augment: x={quote(str(x))} is a file name; read it first (pandas.read_csv, numpy.load) "
                            "and pass the samples, or run `ganforge augment FILE`")
    try:
        raw = _as_numpy(x)
        xa = np.asarray(raw, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise GanforgeError(f"augment: samples must be numbers ({exc})") from None
    if xa.ndim not in (2, 3, 4) or xa.shape[0] == 0:
        raise GanforgeError(f"augment: expected images (N, C, H, W), (N, H, W) or (N, H, W, C), or rows (N, D) with "
                            f"N >= 1, got shape {xa.shape}")
    if not np.isfinite(xa).all():
        raise GanforgeError("augment: the samples hold NaN or infinity; remove or fill them")
    kind = raw.dtype.kind
    dtype = raw.dtype if kind in "fiu" else np.dtype(np.float32)
    if xa.ndim == 2:
        mask = _integer_columns(x, raw)
        bounds = None if mask is None else (mask, raw[:, mask].min(axis=0).astype(np.float64),
                                            raw[:, mask].max(axis=0).astype(np.float64))
        if mask is not None and kind not in "iu" and kind != "f":
            dtype = np.dtype(np.float64)  # a DataFrame of mixed columns: integers kept exact
        return raw, xa, _Layout(xa.shape[1:], dtype, bounds=bounds)
    channels_last = is_channels_last(xa.shape)  # the rule gf.train reads arrays by
    lo, hi = float(xa.min()), float(xa.max())
    scale = None
    if kind in "iu" and (raw.dtype == np.uint8 or hi > 1):
        if lo < 0 or hi > 255:
            raise GanforgeError(f"augment: integer images must lie in [0, 255], got [{lo:.3g}, {hi:.3g}]")
        scale = 255.0
    elif lo < 0 or hi > 1:
        raise GanforgeError(f"augment: images must lie in [0, 1], got [{lo:.3g}, {hi:.3g}]; divide them by their "
                            "largest possible value (or give uint8 0-255)")
    elif kind in "iu":
        dtype = np.dtype(np.float32)  # integer images of 0 and 1: read as [0, 1], returned as floats
    layout = _Layout(xa.shape[1:], dtype, channels_last=channels_last, scale=scale)
    if xa.ndim == 4 and not channels_last and scale is None:
        return raw, xa, layout  # (N, C, H, W) in [0, 1]: the model's units already
    return raw, layout.to_model(raw), layout


def _check_y(y: Any, n: int, trained_run: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(the caller's labels as an array, class ids 0..K-1 (N,) int64, the label of each id or None where the
    labels are the ids themselves: non-negative integers, kept as given so a run's class ids line up)."""
    try:
        ya = _as_numpy(y)
    except (TypeError, ValueError) as exc:
        raise GanforgeError(f"augment: labels must be an array of class labels ({exc})") from None
    if ya.ndim != 1 or ya.shape[0] != n:
        raise GanforgeError(f"augment: {n} samples but labels of shape {ya.shape}; give one label per sample")
    if ya.dtype.kind not in LABEL_KINDS:
        raise GanforgeError(f"augment: labels must be integer class ids or names, got {ya.dtype}")
    if ya.dtype.kind == "f":
        if not np.all(ya == np.round(ya)):
            bad = ya[ya != np.round(ya)][0]
            raise GanforgeError(f"augment: labels must be integer class ids or names, got {ya.dtype} values such as "
                                f"{bad:g}")
        ya = ya.astype(np.int64)
    if ya.dtype.kind in "iu":
        if ya.min() >= 0:
            return ya.astype(np.int64), ya.astype(np.int64), None
        if trained_run:
            raise GanforgeError(f"augment: label {int(ya.min())} is negative; use class ids 0..K-1")
    elif trained_run:
        raise GanforgeError(f"augment: a trained --run generates class ids 0..K-1; labels of {ya.dtype} such as "
                            f"{str(ya[0])!r} cannot name them")
    try:
        names, ids = np.unique(ya, return_inverse=True)
    except TypeError as exc:
        raise GanforgeError(f"augment: labels must be comparable to sort them into classes "
                            f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    return ya, ids.reshape(-1).astype(np.int64), names


EXPANSIONS = ("auto", "shifts", "none")


def one_pixel_shifts(x: np.ndarray, fill: str = "edge") -> np.ndarray:
    """Images (N, C, H, W) followed by their shifts by one pixel down, up, right and left: (5N, C, H, W).

    The vacated row or column is filled with ``fill``: ``"edge"`` repeats the border (no dark seam on
    photographs), ``"zero"`` writes 0 (the background of digits)."""
    if fill not in ("edge", "zero"):
        raise GanforgeError(f"one_pixel_shifts: fill {fill!r} must be 'edge' or 'zero'")
    out = [x]
    for axis, step in ((2, 1), (2, -1), (3, 1), (3, -1)):
        s = np.roll(x, step, axis=axis)
        vacated = [slice(None)] * 4
        vacated[axis] = 0 if step == 1 else -1
        source = list(vacated)
        source[axis] = 1 if step == 1 else -2
        s[tuple(vacated)] = 0 if fill == "zero" else s[tuple(source)]
        out.append(s)
    return np.concatenate(out)


def _counts(y: np.ndarray, classes: np.ndarray, per_class: int | None, ratio: float | None,
            balance: bool) -> dict[int, int]:
    real = {int(c): int((y == c).sum()) for c in classes}
    if balance:
        top = max(real.values())
        return {c: top - n for c, n in real.items()}
    if ratio is not None:
        return {c: int(round(ratio * n)) for c, n in real.items()}
    if per_class is None:
        return {c: max(int(round(DEFAULT_RATIO * n)), DEFAULT_MIN_PER_CLASS) for c, n in real.items()}
    return dict.fromkeys(real, per_class)


def train_conditional_gan(x: np.ndarray, y: np.ndarray, num_classes: int, steps: int = DEFAULT_STEPS,
                          batch_size: int = 64,
                          noise_dim: int = 32, hidden: int = 128, lr: float = 1e-3, r1: float = 1.0,
                          policy: str | None = "translation", ema: float = DEFAULT_EMA, arch: str = "auto",
                          lecam: float = 0.0, seed: int = 0,
                          progress: Callable[[int, dict[str, float]], None] | None = None,
                          ) -> tuple[nn.Module, dict[str, Any]]:
    """Train the conditional GAN of the module doc on ``x`` in model units; returns (EMA G, info).

    ``progress(step, record)``, when given, is called with step 0 and an empty record once every option has
    been checked and training starts, then about 100 times a run and after the last step with the losses and
    D's mean outputs as probabilities (the keys of ``ganforge.log_keys``): ``ganforge augment`` draws
    ``ganforge train``'s progress line with it, since the default 4,000 steps take minutes on a CPU.

    ``r1``: R1's gamma, the term gamma/2 E||grad_x D(x)||^2 on real batches (a recipe's
    ``penalties.r1.weight`` is gamma/2 instead). ``arch``: ``"mlp"`` (any shape), ``"conv"`` (square images
    of side 2^k >= 8) or ``"auto"`` (conv where it fits, else mlp). ``lecam``: weight of the LeCam regularizer
    (Tseng et al. 2021) added to D's loss,
    lecam * (E[relu(D(x) - a_F)^2] + E[relu(a_R - D(G(z)))^2]) with a_R, a_F moving averages (decay 0.99)
    of D's mean output on real and fake batches: it keeps D's outputs near where they have been instead
    of pushing real and fake apart without bound on a few images. 0 (the default) turns it off."""
    image = x.ndim == 4
    shape = x.shape[1:]
    dim = int(np.prod(shape))
    steps, batch_size, noise_dim, hidden, lr, r1, ema, lecam, seed = (
        checked(name, value) for name, value in (
            ("steps", steps), ("batch_size", batch_size), ("noise_dim", noise_dim), ("hidden", hidden), ("lr", lr),
            ("r1", r1), ("ema", ema), ("lecam", lecam), ("seed", seed)))
    if arch not in ARCHITECTURES:
        raise GanforgeError(f"augment: arch {arch!r} is not one of {', '.join(ARCHITECTURES)}")
    if arch == "auto":
        arch = "conv" if _conv_fits(shape) else "mlp"
    if arch == "conv" and not _conv_fits(shape):
        raise GanforgeError(f"augment: arch 'conv' needs square images of side 8, 16, 32, ...; got samples of "
                            f"shape {tuple(shape)}; use arch='mlp'")
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    if arch == "conv":
        g: nn.Module = ConvCondGenerator(noise_dim, num_classes, shape)
        d: nn.Module = ConvCondDiscriminator(shape, num_classes, hidden)
    else:
        g = CondGenerator(noise_dim, num_classes, dim, hidden, image)
        d = CondDiscriminator(dim, num_classes, hidden)
    g_ema = copy.deepcopy(g).eval()
    for p in g_ema.parameters():
        p.requires_grad_(False)
    opt_g = torch.optim.Adam(g.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=lr, betas=(0.5, 0.999))
    ops = parse_policy(policy) if (policy and image) else ()
    decay = min(ema, 1.0 - 4.0 / steps) if steps > 4 else 0.0
    xt = torch.from_numpy(x).float()
    yt = torch.from_numpy(y).long()
    n = xt.shape[0]
    anchors: Tensor | None = None  # moving averages of D's mean output (real, fake): LeCam's anchors

    def view(t: Tensor) -> Tensor:
        t = t.view(t.shape[0], *shape)
        return diff_augment(t, ops) if ops else t

    report_every = max(1, steps // 100)
    if progress is not None:
        progress(0, {})
    for step in range(steps):
        idx = torch.randint(0, n, (batch_size,), generator=gen)
        real, labels = xt[idx], yt[idx]
        z = torch.randn(batch_size, noise_dim)
        fake = g(z, labels)
        real_in = view(real).detach().requires_grad_(r1 > 0)
        d_real = d(real_in, labels)
        d_fake = d(view(fake.detach()), labels)
        loss_d = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
        means = torch.stack([d_real.mean(), d_fake.mean()]).detach()
        anchors = means if anchors is None else anchors.lerp(means, 1 - LECAM_DECAY)
        if lecam > 0:
            loss_d = loss_d + lecam * (F.relu(d_real - anchors[1]).pow(2).mean()
                                       + F.relu(anchors[0] - d_fake).pow(2).mean())
        if r1 > 0:
            (grad,) = torch.autograd.grad(d_real.sum(), real_in, create_graph=True)
            loss_d = loss_d + 0.5 * r1 * grad.pow(2).reshape(batch_size, -1).sum(1).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        for p in d.parameters():
            p.requires_grad_(False)
        loss_g = F.softplus(-d(view(fake), labels)).mean()
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        for p in d.parameters():
            p.requires_grad_(True)
        with torch.no_grad():
            for pe, pg in zip(g_ema.parameters(), g.parameters(), strict=True):
                pe.lerp_(pg, 1.0 - decay)
        if progress is not None and ((step + 1) % report_every == 0 or step + 1 == steps):
            progress(step + 1, {LOSS_D: float(loss_d.detach()), LOSS_G: float(loss_g.detach()),
                                D_REAL: float(torch.sigmoid(d_real.detach()).mean()),
                                D_FAKE: float(torch.sigmoid(d_fake.detach()).mean())})
    g_ema.noise_dim = noise_dim
    info = {"noise_dim": noise_dim, "steps": steps, "ema": decay, "last_d_loss": float(loss_d.detach()),
            "last_g_loss": float(loss_g.detach()), "lecam": lecam,
            "d_output_averages": {"real": float(anchors[0]), "fake": float(anchors[1])}}
    return g_ema, info


@register_app()
def augment(x: Any, y: Any, per_class: int | None = None, *, ratio: float | None = None, balance: bool = False,
            run: str | Path | Any | None = None, steps: int | None = None, filter_confidence: float | None = None,
            include_real: bool = True, expand: str = "auto", seed: int = 0, **gan_options: Any) -> Augmented:
    """Real samples plus class-conditional GAN samples (see the module doc).

    ``per_class`` synthetic samples per class, or ``ratio`` per real sample of the class (default: max(2 x
    real, 50) per class), or ``balance=True``: fill every class up to the largest one (a CSV's minority
    class); one of the three, since two together left one ignored without a word. Whole counts may be given
    as whole floats (``2.0``); an unknown keyword is named with a did-you-mean. ``run``: sample a trained
    conditional ganforge run instead of training (the GAN's options and ``steps`` are then refused: they would do
    nothing). ``steps``: the GAN's training steps (None: 4,000).
    ``expand``: "auto" (shifts for images the GAN trains on), "shifts" or "none" (module doc). ``gan_options``
    go to :func:`train_conditional_gan`.

    Samples: images (N, C, H, W), (N, H, W) or (N, H, W, C) with C in 1 or 3 (the layouts ``gf.train`` reads),
    floats in [0, 1] or integers in [0, 255] (uint8 always: read as value / 255); or table rows (N, D). They
    come back in the layout and dtype given: the real rows exactly as given, the synthetic ones cast to the
    input's dtype (integer images rounded and clipped to [0, 255]). The columns of an integer-dtype table
    (or a DataFrame's integer columns) get synthetic values rounded and clipped to the column's [min, max]
    in ``x``; float columns are left as generated. A DataFrame comes back as a DataFrame (its columns and their
    dtypes) and a Series of labels as a Series (its name), each with a fresh 0..N-1 index. Labels: class ids
    0..K-1 (also whole-number floats), or any labels numpy can sort (names, negative numbers, booleans), which
    the GAN sees as 0..K-1 in sorted order and which come back as given; a trained ``run`` needs its class ids.
    When no synthetic sample is asked for (``balance`` on balanced classes, ``per_class=0``) no GAN is trained
    or loaded: the real samples come back alone.
    """
    per_class, ratio, steps, seed, filter_confidence, gan_options = _check_options(
        per_class, ratio, balance, run, steps, seed, filter_confidence, gan_options)
    x_given, xa, layout = _check_x(x)
    y_given, ya, names = _check_y(y, len(xa), run is not None)
    if expand not in EXPANSIONS:
        raise GanforgeError(f"augment: expand {expand!r} is not one of {', '.join(EXPANSIONS)}")
    if expand == "shifts" and xa.ndim != 4:
        raise GanforgeError(f"augment: expand='shifts' shifts images; these samples are table rows {xa.shape}")
    if expand == "shifts" and run is not None:
        raise GanforgeError("augment: expand trains the GAN on expanded data; it does not apply to a trained --run")
    shift = expand == "shifts" or (expand == "auto" and xa.ndim == 4 and run is None)
    classes = np.unique(ya)
    counts = _counts(ya, classes, per_class, ratio, balance)
    image = xa.ndim == 4
    nothing = not any(counts.values())  # no synthetic sample asked for (balanced already, 0 per class): no GAN
    if run is not None and not nothing:
        sampler, num_classes = _run_sampler(run, xa.shape[1:])
        missing = [int(c) for c in classes if int(c) >= num_classes]  # a label the run cannot generate
        if missing:
            raise GanforgeError(
                f"augment: label {missing[0]} but the run generates {num_classes} classes (0..{num_classes - 1})"
            )
    elif not nothing:
        num_classes = int(ya.max()) + 1
        if image:
            mean, scale = np.float32(0.5), np.float32(0.5)
        else:
            mean = xa.mean(axis=0)
            sd = xa.std(axis=0)
            scale = np.where(sd > 1e-8, sd, 1.0).astype(np.float32)
        x_gan, y_gan = (one_pixel_shifts(xa), np.tile(ya, 5)) if shift else (xa, ya)
        g, _ = train_conditional_gan((x_gan - mean) / scale, y_gan, num_classes, steps=steps, seed=seed,
                                     **gan_options)

        def sampler(label: int, n: int, gen: torch.Generator) -> np.ndarray:
            z = torch.randn(n, g.noise_dim, generator=gen)
            with torch.no_grad():
                out = g(z, torch.full((n,), label, dtype=torch.long)).numpy()
            out = out.reshape(n, *xa.shape[1:]) * scale + mean
            return np.clip(out, 0, 1) if image else out

    keep = _filter(xa, ya, filter_confidence) if filter_confidence is not None and not nothing else None
    gen = torch.Generator().manual_seed(seed + 1)
    xs, ys = [], []
    for c in classes:
        want = counts[int(c)]
        got: list[np.ndarray] = []
        have = 0
        for _ in range(20 if keep is not None else 1):
            if have >= want:
                break
            batch = sampler(int(c), max(want - have, 1) * (2 if keep is not None else 1), gen)
            if keep is not None:
                batch = batch[keep(batch, int(c))]
            got.append(batch)
            have += batch.shape[0]
        if want and have < want:
            label = int(c) if names is None else names[int(c)]
            raise GanforgeError(f"augment: only {have} of {want} samples of class {label} pass filter_confidence "
                                f"{filter_confidence}; lower it or train longer")
        if want:
            xs.append(np.concatenate(got)[:want])
            ys.append(np.full(want, c, dtype=np.int64))
    syn_x = np.concatenate(xs).astype(np.float32) if xs else np.zeros((0, *xa.shape[1:]), np.float32)
    syn_y = np.concatenate(ys) if ys else np.zeros(0, np.int64)
    syn_x = layout.restore(syn_x)
    if names is not None:
        syn_y = names[syn_y]
    if not include_real:
        return Augmented(*_in_given_types(x, y, syn_x, syn_y), np.ones(len(syn_y), bool))
    real_x = x_given if x_given.dtype == layout.dtype else x_given.astype(layout.dtype)
    return Augmented(*_in_given_types(x, y, np.concatenate([real_x, syn_x]), np.concatenate([y_given, syn_y])),
                     np.concatenate([np.zeros(len(ya), bool), np.ones(len(syn_y), bool)]))


GAN_OPTIONS = tuple(name for name in inspect.signature(train_conditional_gan).parameters
                    if name not in ("x", "y", "num_classes", "steps", "seed"))
"""The keywords :func:`augment` passes on to :func:`train_conditional_gan` (``**gan_options``)."""
ARGUMENTS = ("per_class", "ratio", "balance", "run", "steps", "filter_confidence", "include_real", "expand", "seed",
             *GAN_OPTIONS)
"""Every keyword :func:`augment` takes: an unknown one is named against these."""
SYNONYMS = {"n": "per_class", "n_samples": "per_class", "num_samples": "per_class", "count": "per_class",
            "epochs": "steps", "iterations": "steps", "width": "hidden", "latent_dim": "noise_dim",
            "z_dim": "noise_dim", "learning_rate": "lr"}
"""Other libraries' words for augment's arguments, for the did-you-mean of an unknown keyword (difflib alone
suggests ``run`` for ``n``: one letter in common)."""


def _check_options(per_class: Any, ratio: Any, balance: Any, run: Any, steps: Any, seed: Any,
                   filter_confidence: Any, gan_options: dict[str, Any]) -> tuple[Any, ...]:
    """The count, mix and training arguments of :func:`augment`, checked before any data is read, as
    (per_class, ratio, steps, seed, filter_confidence, gan_options) with whole numbers as ``int``.

    - ``per_class``, ``ratio`` and ``balance`` are alternatives: given together, one used to win without a
      word (``ratio`` over ``per_class``: 3x the samples asked for), so two of them are refused;
    - an unknown keyword is named against augment's own arguments with a did-you-mean (it used to reach
      :func:`train_conditional_gan` and fail as that function's ``TypeError``);
    - the GAN's options do nothing with ``run`` (the run is sampled as trained), so they are refused there;
    - every number passes :func:`checked`."""
    for name in gan_options:
        if name not in GAN_OPTIONS:
            hint = (f" (did you mean '{SYNONYMS[name]}'?)" if name in SYNONYMS
                    else did_you_mean(name, ARGUMENTS)
                    or next((f" (did you mean '{SYNONYMS[w]}'?)" for w in SYNONYMS if did_you_mean(name, [w])), ""))
            raise GanforgeError(f"augment: unknown argument {quote(name)}{hint}; augment takes x, y, "
                                f"{', '.join(ARGUMENTS)}")
    if not isinstance(balance, (bool, np.bool_)):
        raise GanforgeError(f"augment: balance must be True or False, got {quote(balance)}")
    given = [name for name, on in (("per_class", per_class is not None), ("ratio", ratio is not None),
                                   ("balance", bool(balance))) if on]
    if len(given) > 1:
        raise GanforgeError(f"augment: {' and '.join(given)} are alternatives (a count per class, a count per real "
                            f"sample, or filling up to the largest class); give one of them")
    training = sorted(gan_options.keys() - {"progress"}) + (["steps"] if steps is not None else [])
    if run is not None and training:
        raise GanforgeError(f"augment: {', '.join(training)} configure the GAN augment trains, which run= skips "
                            "(it samples the trained run); drop them or run=")
    options = {k: checked(k, v) if k in LIMITS else v for k, v in gan_options.items()}
    steps = DEFAULT_STEPS if steps is None else steps  # None: the default, so a given steps= can be told apart
    return (None if per_class is None else checked("per_class", per_class),
            None if ratio is None else checked("ratio", ratio), checked("steps", steps), checked("seed", seed),
            None if filter_confidence is None else checked("filter_confidence", filter_confidence), options)


def _in_given_types(x: Any, y: Any, xs: np.ndarray, ys: np.ndarray) -> tuple[Any, Any]:
    """(samples, labels) as the caller gave them: a DataFrame comes back as a DataFrame with its columns and
    their numeric dtypes, a Series as a Series of its name and dtype (both with a fresh 0..N-1 index: the
    synthetic rows have no index of their own), so ``pd.concat`` or a pipeline's column names keep working;
    anything else as the arrays themselves."""
    import sys

    pd = sys.modules.get("pandas")  # a DataFrame or Series was given only if pandas is already imported
    if pd is None:
        return xs, ys
    if isinstance(x, pd.DataFrame) and xs.ndim == 2:
        frame = pd.DataFrame(xs, columns=x.columns)
        xs = frame.astype({c: t for c, t in x.dtypes.items() if getattr(t, "kind", "O") in "iuf"})
    if isinstance(y, pd.Series):
        series = pd.Series(ys, name=y.name)
        try:
            ys = series.astype(y.dtype)  # e.g. a categorical Series stays categorical
        except (TypeError, ValueError):
            ys = series
    return xs, ys


def _filter(x: np.ndarray, y: np.ndarray, confidence: float) -> Any:
    """keep(batch, label) -> mask: the classifier fitted on the real samples is confident of ``label``."""
    from sklearn.linear_model import LogisticRegression

    if np.unique(y).size < 2:
        raise GanforgeError("augment: filtering by a classifier needs at least two classes")
    clf = LogisticRegression(max_iter=2000).fit(x.reshape(len(x), -1), y)
    column = {int(c): i for i, c in enumerate(clf.classes_)}

    def keep(batch: np.ndarray, label: int) -> np.ndarray:
        return clf.predict_proba(batch.reshape(len(batch), -1))[:, column[label]] >= confidence

    return keep


def _run_sampler(path: Any, shape: tuple[int, ...]) -> tuple[Any, int]:
    from ganforge.runs import Run, load

    run = path if isinstance(path, Run) else load(path)
    path = run.path  # a Run given in memory is named by its folder, not by its repr (pages of tensors)
    num_classes = int(getattr(run.gan, "num_classes", 0) or 0)
    if not num_classes:
        raise GanforgeError(f"run {path} is not class-conditional; train one with model.conditional: true "
                            "(e.g. the digits-cgan recipe) or omit --run to train a GAN on the data")
    run_shape = tuple(int(s) for s in run.data.sample_shape)
    if run_shape != tuple(shape):
        side = run_shape[-1] if len(run_shape) == 3 and run_shape[-2] == run_shape[-1] else None
        how = "" if side is None else f" to {side}x{side} (`ganforge augment --size {side}`)"
        raise GanforgeError(f"run {path} generates samples of shape {run_shape}, the data has {tuple(shape)}; "
                            f"resize the data{how} or use a run trained on it")

    def sampler(label: int, n: int, gen: torch.Generator) -> np.ndarray:
        state = torch.random.get_rng_state()
        torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=gen)))
        try:
            out = run.sample(n, label=label).numpy()
        finally:
            torch.random.set_rng_state(state)
        return np.clip(out, 0, 1) if len(shape) == 3 else out

    return sampler, num_classes
