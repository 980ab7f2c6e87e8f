"""Super-resolution quality: PSNR and SSIM of upscaled images against the originals, beside bicubic.

Protocol (the usual one of the SR literature, e.g. SRGAN's tables): images in [0, 1]; both metrics on
the luma channel Y = 0.299 R + 0.587 G + 0.114 B (gray images as they are), after cropping ``scale``
pixels from every border (where both methods lack context). PSNR = 10 log10(1 / MSE) per image (MSE
floored at 1e-10: at most 100 dB for a perfectly reproduced flat patch); SSIM with a Gaussian window
(sigma 1.5, 11 taps or the largest odd size that fits; Wang et al. 2004: ``gaussian_weights=True``,
``use_sample_covariance=False``) per image; both averaged over images. PSNR on all RGB channels is
reported too. MSE and SSIM come from :mod:`skimage.metrics`.

PSNR and SSIM reward the per-pixel mean of all plausible high-res images, i.e. blur; they cannot show
what an adversarial stage adds (the SRGAN paper needed a mean-opinion-score study for that). Two measures
on the shipped photo feature network (:mod:`ganforge.nets.photo_features`, trained on the *training*
columns only) sit beside them:

* ``feature_distance`` (LPIPS-like, Zhang et al. 2018, with unit layer weights instead of learned ones):
  per image pair ``d(x, y) = sum_l mean_{h,w} || f_l(x)_{hw} / |f_l(x)_{hw}| - f_l(y)_{hw} / |f_l(y)_{hw}| ||^2``
  over the layers relu1_2, relu2_2, relu3_1 (channel vectors unit-normalised, eps 1e-10), averaged over
  pairs: 0 for identical images; a paired measure of texture/edge agreement (lower is better).
* ``fid_photo``: Fréchet distance between the 64-d photo features (relu3_1, averaged over positions) of
  all upscaled patches and of all originals: does the *set* have the originals' feature statistics,
  sharpness included. The real-data reference is 0 (the originals themselves); the usual noise floor
  between two disjoint halves of the originals does not apply, because the two sets here are the *same*
  patches (paired), so bicubic beside it is the reference to beat.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ganforge.data.images import LUMA
from ganforge.errors import GanforgeError
from ganforge.evaluation.suite import register_evaluator

if TYPE_CHECKING:
    from ganforge.runs import Run


def luma(images: torch.Tensor) -> torch.Tensor:
    """(N, 1 or 3, H, W) -> (N, H, W): BT.601 luma of RGB images, gray images unchanged."""
    if images.shape[1] == 1:
        return images[:, 0]
    weights = torch.tensor(LUMA, dtype=images.dtype).view(1, 3, 1, 1)
    return (images[:, :3] * weights).sum(dim=1)


MSE_FLOOR = 1e-10  # caps PSNR at 100 dB, so a perfectly reproduced flat patch does not make the mean infinite


def psnr_db(mse: float) -> float:
    """``PSNR = 10 log10(1 / MSE)`` for images in [0, 1], with MSE floored at ``MSE_FLOOR`` (100 dB)."""
    return float(10.0 * np.log10(1.0 / max(float(mse), MSE_FLOOR)))


def sr_scores(upscaled: torch.Tensor, original: torch.Tensor, border: int) -> dict[str, float]:
    """Mean PSNR / SSIM on Y with ``border`` pixels cropped, and mean RGB PSNR, of images in [0, 1]."""
    from skimage.metrics import mean_squared_error, structural_similarity

    if upscaled.shape != original.shape:
        raise GanforgeError(f"sr_scores: shapes {tuple(upscaled.shape)} and {tuple(original.shape)} differ")
    up = upscaled.detach().cpu().double().clamp(0, 1)
    ref = original.detach().cpu().double().clamp(0, 1)
    h, w = up.shape[-2:]
    if not 0 <= border < min(h, w) // 2:
        raise GanforgeError(f"sr_scores: border {border} leaves nothing of {h}x{w} images")
    y_up = luma(up)[:, border : h - border, border : w - border]
    y_ref = luma(ref)[:, border : h - border, border : w - border]
    side = min(y_up.shape[-2:])
    window = min(11, side if side % 2 else side - 1)  # 11 = the Gaussian window of sigma 1.5; smaller images
    psnr, ssim, psnr_rgb = [], [], []
    for i in range(len(up)):
        a, r = y_up[i].numpy(), y_ref[i].numpy()
        psnr.append(psnr_db(mean_squared_error(r, a)))
        ssim.append(
            structural_similarity(
                r, a, data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, win_size=window
            )
        )
        psnr_rgb.append(psnr_db(mean_squared_error(ref[i].numpy(), up[i].numpy())))
    return {"psnr": float(np.mean(psnr)), "ssim": float(np.mean(ssim)), "psnr_rgb": float(np.mean(psnr_rgb))}


FEATURE_LAYERS = ("relu1_2", "relu2_2", "relu3_1")


def _unit(features: torch.Tensor, eps: float = 1e-10) -> torch.Tensor:
    """Channel vectors (dim 1) scaled to unit length, as LPIPS does before comparing them."""
    return features / (features.pow(2).sum(dim=1, keepdim=True).sqrt() + eps)


@torch.no_grad()
def feature_distance(
    images: torch.Tensor, references: torch.Tensor, net: torch.nn.Module | None = None, batch_size: int = 100
) -> torch.Tensor:
    """Per-pair LPIPS-like distance (unit layer weights) on the photo feature network, images in [0, 1]:
    ``d = sum_l mean_{h,w} ||unit(f_l(x)) - unit(f_l(y))||^2`` over relu1_2, relu2_2, relu3_1; shape (N,)."""
    from ganforge.nets.photo_features import load_photo_feature_net

    if images.shape != references.shape or images.ndim != 4:
        raise GanforgeError(
            f"feature_distance: need two image batches of one shape (N, C, H, W); got "
            f"{tuple(images.shape)} and {tuple(references.shape)}"
        )
    net = load_photo_feature_net() if net is None else net
    out = []
    for i in range(0, len(images), batch_size):
        a = images[i : i + batch_size].float().clamp(0, 1)
        b = references[i : i + batch_size].float().clamp(0, 1)
        total = torch.zeros(len(a))
        for layer in FEATURE_LAYERS:
            diff = _unit(net.trunk(a, layer)) - _unit(net.trunk(b, layer))
            total += diff.pow(2).sum(dim=1).mean(dim=(1, 2))
        out.append(total)
    return torch.cat(out)


def perceptual_scores(upscaled: torch.Tensor, original: torch.Tensor) -> dict[str, float]:
    """``feature_distance`` (mean over pairs) and ``fid_photo`` of upscaled images against the originals
    (the same patches, paired), both on the shipped photo feature network."""
    from ganforge.evaluation.image_metrics import fid
    from ganforge.nets.photo_features import PhotoEvalFeatures, load_photo_feature_net

    net = load_photo_feature_net()
    f = fid(original, upscaled.clamp(0, 1), features=PhotoEvalFeatures(), with_noise_floor=False)
    return {"feature_distance": float(feature_distance(upscaled, original, net).mean()), "fid_photo": f.value}


def heldout_pairs(run: Run, n: int, split: str | None = None) -> tuple[torch.Tensor, torch.Tensor, str]:
    """(high-res, low-res) evaluation pairs in data units and what they are: the held-out test split for
    ``sr-patches`` (no pixel shared with training; ``split="val"``: the validation columns, for choices;
    None: ``run.heldout_split``), else the run's own data."""
    from ganforge.data.registry import build_source

    split = split or run.heldout_split
    section = dict(run.config.data)
    name = str(section.pop("source"))
    if name == "sr-patches":
        section.update(split=split, count=n, seed=int(section.get("seed", 0)) + 1)
        source = build_source(name, section)
        reference = f"sr-patches split={split} ({n} held-out patches)"
    else:
        source = run.real_data()
        reference = f"{name} training data (no held-out split)"
    batch = source.real(n, seed=2024)
    assert batch.y is not None
    return batch.x, batch.y, reference


def compare_with_bicubic(
    run: Run, high: torch.Tensor, low: torch.Tensor, perceptual: bool = True
) -> dict[str, Any]:
    """PSNR/SSIM (and, with ``perceptual``, feature distance and photo FID) of the run's generator and of
    bicubic upsampling on the same pairs (data units); bicubic's keys carry the prefix ``bicubic_``."""
    from ganforge.data.paired import bicubic_upscale

    scale = int(run.gan.scale)
    sr = run.scaler.to_data(run.gan.upscale(run.scaler.to_model(low), tile=None)).cpu().clamp(0, 1)
    bicubic_sr = bicubic_upscale(low, scale).clamp(0, 1)
    ours = sr_scores(sr, high, border=scale)
    bicubic = sr_scores(bicubic_sr, high, border=scale)
    if perceptual and high.shape[1] in (1, 3):
        ours.update(perceptual_scores(sr, high))
        bicubic.update(perceptual_scores(bicubic_sr, high))
    return {**ours, **{f"bicubic_{k}": v for k, v in bicubic.items()}}


@register_evaluator("superres")
def evaluate_superres(run: Run, n: int, metrics: list[str]) -> dict[str, Any]:
    """PSNR / SSIM (Y channel, border cropped) of the generator beside bicubic on held-out pairs."""
    high, low, reference = heldout_pairs(run, min(n, 500))
    report = compare_with_bicubic(run, high, low)
    if metrics:
        unknown = [m for m in metrics if m not in report]
        if unknown:
            raise GanforgeError(
                f"metric '{unknown[0]}' does not apply to super-resolution; available: {', '.join(report)}"
            )
        report = {k: v for k, v in report.items() if k in metrics}
    return {
        "n_images": len(high),
        "scale": int(run.gan.scale),
        "reference": reference,
        "protocol": "Y channel (BT.601), border = scale cropped; PSNR_rgb on all channels",
        "perceptual": "feature_distance: LPIPS-like distance to the originals on the shipped photo features "
        "(0 = identical, lower is better); fid_photo: FID of the upscaled set vs the same originals on "
        "those features (originals: 0; paired sets, so no halves noise floor; bicubic is the reference)",
        **report,
    }
