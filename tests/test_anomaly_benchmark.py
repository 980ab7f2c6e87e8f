"""The anomaly benchmark's splits (benchmarks/anomaly.py): the validation tasks that choose settings never see
a test image or, for the held-out-digit task, the held-out digit. Fast: splits only, no detector."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from anomaly import tabular_cases  # noqa: E402

X, Y = load_digits(return_X_y=True)
ROWS = {(X[i] / 16.0).astype(np.float32).tobytes(): int(Y[i]) for i in range(len(X))}  # the 1,797 rows are distinct


def rows(a: np.ndarray) -> set[bytes]:
    return {r.tobytes() for r in a}


@pytest.mark.parametrize("seed", [0, 3])
def test_held_out_digit_validation_never_sees_the_test_or_the_held_out_digit(seed: int) -> None:
    test_cases = tabular_cases("digits-holdout", seed)
    for d, (name, fit, scored, labels) in enumerate(tabular_cases("digits-holdout-validation", seed)):
        _, train, test, _ = test_cases[d]
        seen = rows(fit) | rows(scored)
        assert not seen & rows(test), name                   # no test image, normal or anomalous
        assert seen <= rows(train), name                     # only the test protocol's training normals
        assert d not in {ROWS[r] for r in seen}, name        # the held-out digit never appears
        pseudo = (d + 1) % 10
        assert {ROWS[r.tobytes()] for r in scored[labels == 1]} == {pseudo}
        assert pseudo not in {ROWS[r] for r in rows(fit)}


@pytest.mark.parametrize("seed", [0, 3])
def test_one_class_validation_and_test_use_disjoint_anomalies(seed: int) -> None:
    validation = tabular_cases("digits-oneclass-validation", seed)
    test = tabular_cases("digits-oneclass-test", seed)
    for d in range(10):
        _, v_fit, v_scored, v_labels = validation[d]
        _, t_train, t_test, t_labels = test[d]
        assert not (rows(v_fit) | rows(v_scored)) & rows(t_test)       # validation never scores a test image
        assert rows(v_fit) | rows(v_scored[v_labels == 0]) == rows(t_train)  # its normals are the training ones
        assert {ROWS[r] for r in rows(t_train)} == {d}
        anomalies = rows(v_scored[v_labels == 1]) | rows(t_test[t_labels == 1])
        assert len(anomalies) == int((d != Y).sum())                   # the two halves cover the other digits once
        assert abs(int(v_labels.sum()) - int(t_labels.sum())) <= 1


@pytest.mark.parametrize("seed", [0, 3])
def test_the_clean_validation_never_sees_an_image_any_clean_test_case_scores(seed: int) -> None:
    """digits-holdout-validation's pseudo-anomalies (digit d + 1) are every test case d + 1's anomalies; the
    clean pair splits every digit in a selection half and a test half, so no choice sees a scored test image."""
    validation, test = (tabular_cases(t, seed) for t in ("digits-holdout-clean-validation", "digits-holdout-clean"))
    seen = set().union(*(rows(fit) | rows(scored) for _, fit, scored, _ in validation))
    scored_in_test = set().union(*(rows(scored) for _, _, scored, _ in test))
    assert seen and scored_in_test and not seen & scored_in_test
    for d, (_, train, scored, labels) in enumerate(test):
        assert not rows(train) & rows(scored)
        assert {ROWS[r] for r in rows(scored[labels == 1])} == {d} and d not in {ROWS[r] for r in rows(train)}
    old = set().union(*(rows(scored[labels == 1]) for _, _, scored, labels in tabular_cases("digits-holdout", seed)))
    assert old & set().union(*(rows(s[lab == 1]) for _, _, s, lab in tabular_cases("digits-holdout-validation", seed)))
