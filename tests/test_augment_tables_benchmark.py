"""The table-balancing benchmark's split (benchmarks/augment_tables.py): the test half is the stratified half
untouched, the training minority is cut to the asked fraction, and no test row is trained on. Fast: splits only."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from augment_tables import imbalanced_split, tables  # noqa: E402


@pytest.mark.parametrize("name", list(tables()))
def test_minority_is_cut_and_the_test_half_is_untouched(name: str) -> None:
    x, y, minority = tables()[name]
    x_tr, y_tr, x_te, y_te = imbalanced_split(x, y, minority, 0.1, seed=3)
    majority = int((y_tr != minority).sum())
    assert int((y_tr == minority).sum()) == max(6, round(0.1 * majority))
    assert len(y_te) == len(y) - len(y) // 2 and abs((y_te == minority).mean() - (y == minority).mean()) < 0.02
    train_rows = {r.tobytes() for r in x_tr.astype(np.float64)}
    assert not train_rows & {r.tobytes() for r in x_te.astype(np.float32).astype(np.float64)}
    again = imbalanced_split(x, y, minority, 0.1, seed=3)
    np.testing.assert_array_equal(again[0], x_tr)
