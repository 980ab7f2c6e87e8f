"""Paired translation quality (Pix2Pix runs): outputs against the true targets of held-out pairs.

Every paired run gets, on held-out pairs (the ``test`` split of built-in pairs and of pairs folders
that have ``test/`` or ``val/``; else the training pairs, said so in ``reference``; during training the
validation split where the data has one, :mod:`ganforge.evaluation.selection_split`):

* ``l1`` (mean absolute error), ``psnr`` and ``ssim`` to the true target (the super-resolution protocol
  of :mod:`ganforge.evaluation.superres_metrics` with no border: luma, Gaussian-window SSIM), and for colour
  targets ``psnr_rgb`` (a gray -> colour translator that keeps the luma is only judged by its colours);
* ``fid`` between outputs and true targets on offline features: the shipped digits classifier's 64-d
  features for ``edges2digits``, else :class:`PhotoStatistics` (mean and standard deviation over
  positions of the shipped photo network's relu3_1 maps: 128-d texture statistics), beside
  ``fid_floor`` (the same distance between two halves of the real targets); FID needs at least 10
  pairs, its floor 20;
* ``edges2digits``: ``label_accuracy``, the digits classifier reading the generated digits, beside
  ``label_accuracy_real`` on the true digits;
* ``labels2scenes``: the FCN-score (per-pixel / per-class accuracy, class IoU of the shipped segmenter
  on the generated scenes against the input label map), beside the same scores on the real scenes;
  ``fcn_*`` from the colour segmenter (which also gives flat, textureless scenes 0.96 per-pixel accuracy)
  and ``fcn_texture_*`` from the texture segmenter (trained under per-class colour jitter: 0.63 per-class
  accuracy on flat scenes against 1.00 on real ones), the one that can see whether texture looks real.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from ganforge.errors import GanforgeError
from ganforge.evaluation.suite import register_evaluator

if TYPE_CHECKING:
    from ganforge.data.pairs import ImagePairSource
    from ganforge.runs import Run

BUILTIN_SPLITS = ("edges2digits", "edges2photos", "gray2color", "labels2scenes")
HELDOUT_COUNT = 500
MIN_FID_PAIRS = 10


class PhotoStatistics(nn.Module):
    """128-d features of (N, 1 or 3, H, W) images in [0, 1]: per-channel mean and std of the shipped photo
    network's relu3_1 maps (first- and second-order texture statistics, as style losses use)."""

    name = "photo-stats"
    num_features = 128

    def __init__(self) -> None:
        super().__init__()
        from ganforge.nets.photo_features import load_photo_feature_net

        self.net = load_photo_feature_net()

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        maps = self.net.trunk(images.float(), "relu3_1")
        return torch.cat([maps.mean(dim=(2, 3)), maps.std(dim=(2, 3))], dim=1)


def heldout_source(run: Run) -> tuple[ImagePairSource, str]:
    """The evaluation pairs of ``run`` and what they are: its data's ``run.heldout_split`` ("test", or "val"
    for the evaluations during training, :mod:`ganforge.evaluation.selection_split`)."""
    from ganforge.data.registry import build_source

    run.check_recorded_data()
    section = dict(run.config.data)
    name = str(section.pop("source"))
    split = run.heldout_split
    if name in BUILTIN_SPLITS:
        section["split"] = split
        if "count" in section:
            section["count"] = HELDOUT_COUNT
        source = build_source(name, section)
        return source, f"{name} split={split} ({len(source)} held-out pairs)"  # type: ignore[return-value, arg-type]
    if name == "pairs":
        try:
            source = build_source(name, {**section, "split": split})
        except GanforgeError:
            source = None
        if source is not None and split in str(source.info.get("split", "")):
            return source, f"pairs {source.info['split']} ({len(source)} held-out pairs)"  # type: ignore[return-value, arg-type]
    source = run.real_data()
    return source, f"{name} training pairs (no held-out split)"  # type: ignore[return-value]


def translate_pairs(run: Run, inputs: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """The run's outputs for inputs in data units, in data units [0, 1]."""
    out = run.gan.translate(run.scaler.to_model(inputs), "a2b", batch_size)  # type: ignore[attr-defined]
    return run.scaler.to_data(out).cpu().clamp(0.0, 1.0)


def feature_network(source_name: str, channels: int) -> nn.Module:
    """Digits features for digits, photo statistics otherwise."""
    if source_name == "edges2digits" and channels == 1:
        from ganforge.nets.features import load_digits_classifier

        return load_digits_classifier()
    return PhotoStatistics()


def paired_scores(
    fake: torch.Tensor,
    real: torch.Tensor,
    source_name: str,
    labels: torch.Tensor | None = None,
    maps: torch.Tensor | None = None,
    with_real: bool = True,
) -> dict[str, float]:
    """Every score of generated targets ``fake`` against the true ``real`` (data units, aligned)."""
    from ganforge.evaluation.image_metrics import fid
    from ganforge.evaluation.superres_metrics import sr_scores

    pixel = sr_scores(fake, real, border=0)
    report: dict[str, float] = {"l1": float((fake - real).abs().mean()), "psnr": pixel["psnr"], "ssim": pixel["ssim"]}
    if real.shape[1] == 3:  # colour targets: a colorizer that keeps the luma is judged on RGB
        report["psnr_rgb"] = pixel["psnr_rgb"]
    if len(real) >= MIN_FID_PAIRS:  # a Gaussian fit needs some images; the floor splits them in halves
        net = feature_network(source_name, int(real.shape[1]))
        result = fid(real, fake, net, with_noise_floor=with_real and len(real) >= 2 * MIN_FID_PAIRS)
        report["fid"] = result.value
        if result.noise_floor is not None:
            report["fid_floor"] = result.noise_floor
    if source_name == "edges2digits" and labels is not None:
        from ganforge.nets.features import load_digits_classifier

        classifier = load_digits_classifier()
        report["label_accuracy"] = float((classifier.predict(fake) == labels).float().mean())
        if with_real:
            report["label_accuracy_real"] = float((classifier.predict(real) == labels).float().mean())
    if source_name == "labels2scenes" and maps is not None:
        from ganforge.nets.scene_segmenter import fcn_scores, load_scene_segmenter

        for prefix, variant in (("fcn", "colour"), ("fcn_texture", "texture")):
            segmenter = load_scene_segmenter(variant=variant)
            report.update({f"{prefix}_{k}": v for k, v in fcn_scores(segmenter, fake, maps).items()})
            if with_real:
                report.update({f"{prefix}_{k}_real": v for k, v in fcn_scores(segmenter, real, maps).items()})
    return report


@register_evaluator("paired-images")
def evaluate_pairs(run: Run, n: int, metrics: list[str]) -> dict[str, Any]:
    """L1 / PSNR / SSIM / FID to the true targets of held-out pairs, plus label accuracy or FCN-score."""
    source, reference = heldout_source(run)
    a, b, labels, maps = source.heldout(n, seed=2024)
    fake = translate_pairs(run, a)
    report = paired_scores(fake, b, str(run.config.data.get("source")), labels, maps)
    if metrics:
        unknown = [m for m in metrics if m not in report]
        if unknown:
            raise GanforgeError(
                f"metric '{unknown[0]}' does not apply to paired translation; available: {', '.join(report)}"
            )
        report = {k: v for k, v in report.items() if k in metrics}
    return {"n_pairs": len(a), "reference": reference, **report}
