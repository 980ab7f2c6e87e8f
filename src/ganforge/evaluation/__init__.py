"""ganforge.evaluation: metrics per kind of data, each number with what it was computed on.

Images: ``fid``, ``kid``, ``image_inception_score``, ``prdc`` on image tensors (with noise floors),
the formulas on feature vectors (``frechet_distance``, ``kernel_inception_distance``,
``inception_score``, ``precision_recall_density_coverage``), ``image_report`` (everything for two image
sets), the feature networks and ``count_stacked_modes``. ``evaluate_run`` evaluates a run folder.
"""

from ganforge.evaluation.image_metrics import (
    MetricResult,
    fid,
    frechet_distance,
    image_inception_score,
    inception_score,
    kernel_inception_distance,
    kid,
    noise_floor,
    prdc,
    precision_recall_density_coverage,
)
from ganforge.evaluation.image_suite import ChannelwiseDigits, image_report
from ganforge.evaluation.stacked import count_stacked_modes, stacked_digits
from ganforge.evaluation.suite import evaluate_run
from ganforge.nets.features import DigitsClassifier, InceptionFeatures, load_digits_classifier

__all__ = [
    "ChannelwiseDigits",
    "DigitsClassifier",
    "InceptionFeatures",
    "MetricResult",
    "count_stacked_modes",
    "evaluate_run",
    "fid",
    "frechet_distance",
    "image_inception_score",
    "image_report",
    "inception_score",
    "kernel_inception_distance",
    "kid",
    "load_digits_classifier",
    "noise_floor",
    "prdc",
    "precision_recall_density_coverage",
    "stacked_digits",
]
