"""Translation quality for CycleGAN runs: does the content survive, and does the cycle close?

* **Label preservation** (built-in ``unpaired-digits`` data): held-out digits (the digits classifier's
  test split, never trained on) are translated A -> B and B -> A. A translated B image is mapped back to
  the digit domain by the *exact* inverse of the domain transform (un-invert / un-rotate), a translated A
  image is already a digit; the shipped digits classifier then reads it, and the accuracy against the
  original label is reported. Beside it: the classifier on the untouched test digits (the ceiling) and on
  the transformed digits fed directly (what ignoring the domain gap gives).
* **Cycle reconstruction error**: mean absolute error in data units [0, 1] of ``F(G(a))`` against ``a`` and
  ``G(F(b))`` against ``b`` (any unpaired data).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from ganforge.errors import GanforgeError
from ganforge.evaluation.suite import register_evaluator

if TYPE_CHECKING:
    from ganforge.data.paired import UnpairedImageSource
    from ganforge.runs import Run


def translate_data(run: Run, images: torch.Tensor, direction: str) -> torch.Tensor:
    """Translate images in data units with the run's generators; returns data units in [0, 1]."""
    out = run.gan.translate(run.scaler.to_model(images), direction)  # type: ignore[attr-defined]
    return run.scaler.to_data(out).cpu().clamp(0.0, 1.0)


def cycle_errors(run: Run, a: torch.Tensor, b: torch.Tensor) -> dict[str, float]:
    """Mean |F(G(a)) - a| and |G(F(b)) - b| in data units."""
    rec_a = translate_data(run, translate_data(run, a, "a2b"), "b2a")
    rec_b = translate_data(run, translate_data(run, b, "b2a"), "a2b")
    return {"cycle_error_a": float((rec_a - a).abs().mean()), "cycle_error_b": float((rec_b - b).abs().mean())}


def evaluation_domains(run: Run) -> tuple[UnpairedImageSource, str]:
    """The evaluation domains: the held-out ``run.heldout_split`` of ``unpaired-digits`` (test, or val during
    training), else the run's own data."""
    from ganforge.data.registry import build_source

    section = dict(run.config.data)
    name = str(section.pop("source"))
    if name == "unpaired-digits":
        section["split"] = split = run.heldout_split
        what = "digits classifier's held-out digits" if split == "test" else "training digits held out for choosing"
        return build_source(name, section), f"unpaired-digits split={split} ({what})"  # type: ignore[return-value]
    return run.real_data(), f"{name} training data (no held-out split)"  # type: ignore[return-value]


def label_preservation(run: Run, source: UnpairedImageSource) -> dict[str, float]:
    """Digits-classifier accuracy on translated held-out digits, both ways, with ceiling and floor."""
    from ganforge.data.paired import inverse_domain_transform
    from ganforge.nets.features import load_digits_classifier

    transform = source.info["transform"]
    classifier = load_digits_classifier()
    a, labels_a, b, labels_b = source.x, source.y, source.x_b, source.y_b
    assert labels_a is not None and labels_b is not None

    def accuracy(images: torch.Tensor, labels: torch.Tensor) -> float:
        return float((classifier.predict(images) == labels).float().mean())

    a2b = inverse_domain_transform(translate_data(run, a, "a2b"), transform)
    b2a = translate_data(run, b, "b2a")
    return {
        "label_accuracy_a2b": accuracy(a2b, labels_a),
        "label_accuracy_b2a": accuracy(b2a, labels_b),
        "label_accuracy_originals": accuracy(a, labels_a),
        "label_accuracy_untranslated_b": accuracy(b, labels_b),
    }


@register_evaluator("unpaired-images")
def evaluate_translation(run: Run, n: int, metrics: list[str]) -> dict[str, Any]:
    """Label preservation (digits demo) and cycle reconstruction error on held-out images."""
    source, reference = evaluation_domains(run)
    report: dict[str, Any] = {}
    if source.info.get("transform") in ("invert", "rotate") and source.y is not None:
        report.update(label_preservation(run, source))
    a, b = source.real(n, seed=2024).x, source.real_b(n, seed=2024).x
    report.update(cycle_errors(run, a, b))
    if metrics:
        unknown = [m for m in metrics if m not in report]
        if unknown:
            raise GanforgeError(f"metric '{unknown[0]}' does not apply to translation; available: {', '.join(report)}")
        report = {k: v for k, v in report.items() if k in metrics}
    return {"n_a": len(source.x), "n_b": len(source.x_b), "reference": reference, **report}
