"""Anomaly detection with GANs trained on normal data: AnoGAN, EGBAD and GANomaly (``models.py``) behind a
scikit-learn-style :class:`AnomalyDetector` (``detector.py``); file inputs for the CLI in ``inputs.py``."""

from ganforge.apps.anomaly.detector import AnomalyDetector
from ganforge.apps.anomaly.models import METHODS

__all__ = ["METHODS", "AnomalyDetector"]
