"""Table metrics on hand-made tables: identical tables score 1, shuffled columns lose pair trends, a copied
table has DCR 0 and every row an exact copy; chunked nearest distances equal the brute force."""

import numpy as np
import pandas as pd
import pytest

from ganforge.data.tables import table_source
from ganforge.evaluation.tables import (
    evaluate_table,
    ml_efficacy,
    nearest_distances,
    out_of_range_rate,
    privacy_report,
    problem_type,
    quality_report,
)


def correlated(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    label = np.where(x + rng.normal(0, 0.3, n) > 0, "hi", "lo")
    return pd.DataFrame(
        {
            "x": np.round(x, 3),
            "y": np.round(2 * x + rng.normal(0, 0.2, n), 3),
            "group": rng.choice(["a", "b", "c"], n),
            "label": label,
        }
    )


@pytest.fixture(scope="module")
def source():
    return table_source(correlated(), "c", target="label", quiet=True)


def test_identical_tables_score_one(source) -> None:
    report = quality_report(source.frame, source.frame.copy(), source.transformer)
    assert report["column_shapes"] == pytest.approx(1.0)
    assert report["pair_trends"] == pytest.approx(1.0)
    assert report["quality"] == pytest.approx(1.0)


def test_shuffled_columns_keep_shapes_and_lose_trends(source) -> None:
    rng = np.random.default_rng(1)
    shuffled = source.frame.apply(lambda col: col.sample(frac=1.0, random_state=int(rng.integers(1e6))).to_numpy())
    report = quality_report(source.frame, shuffled, source.transformer)
    assert report["column_shapes"] == pytest.approx(1.0)
    assert report["pair_trends"] < 0.85


def test_a_copied_table_has_dcr_zero(source) -> None:
    report = privacy_report(source.frame, source.frame, source.holdout_frame, source.transformer)
    assert report["dcr_median"] == 0.0
    assert report["exact_copies"] == len(source.frame)
    assert report["dcr_share"] > 0.5 and report["dcr_share_low"] <= report["dcr_share"] <= report["dcr_share_high"]


def test_fresh_rows_are_no_closer_to_train_than_to_holdout() -> None:
    frame = correlated(1200, seed=3)
    src = table_source(frame, "c", quiet=True)
    fresh = table_source(correlated(400, seed=9), "c", quiet=True).frame  # same population, never seen
    report = privacy_report(fresh, src.frame, src.holdout_frame, src.transformer)
    assert report["dcr_share_low"] < 0.5 < report["dcr_share_high"] or abs(report["dcr_share"] - 0.5) < 0.08
    assert report["exact_copies"] == 0


def test_chunked_nearest_distance_equals_brute_force() -> None:
    rng = np.random.default_rng(0)
    q, r = rng.normal(size=(53, 5)).astype(np.float32), rng.normal(size=(71, 5)).astype(np.float32)
    brute = np.sqrt(((q[:, None] - r[None]) ** 2).sum(-1)).min(1)
    assert np.allclose(nearest_distances(q, r, chunk=7), brute, atol=1e-4)


def test_an_exact_copy_is_at_distance_zero() -> None:
    """|q|^2 - 2 q.r + |r|^2 in float32 left copies of 40-column rows up to 3e-3 away from themselves (a tie
    tolerance of 1e-6 then read them as farther than an equally copied holdout row)."""
    rows = np.random.default_rng(0).uniform(0, 5, size=(500, 40))
    shuffled = rows[np.random.default_rng(1).permutation(500)]
    assert nearest_distances(shuffled, rows, chunk=64).max() == 0.0


def test_ml_efficacy_follows_sdgym_problem_types(source) -> None:
    assert problem_type(source.transformer, "label") == "binary_classification"
    assert problem_type(source.transformer, "group") == "multiclass_classification"
    assert problem_type(source.transformer, "y") == "regression"
    real = ml_efficacy(source.frame, source.holdout_frame, source.transformer, "label", source.frame)
    assert [m["model"] for m in real["models"]] == [
        "DecisionTreeClassifier",
        "AdaBoostClassifier",
        "LogisticRegression",
        "MLPClassifier",
    ]
    assert real["ml_efficacy"] > 0.8
    regression = ml_efficacy(source.frame, source.holdout_frame, source.transformer, "y", source.frame)
    assert [m["model"] for m in regression["models"]] == ["LinearRegression", "MLPRegressor"]


def test_out_of_range_cells_are_counted(source) -> None:
    bad = source.frame.copy()
    bad.loc[0, "x"] = 99.0
    bad.loc[1, "group"] = "zzz"
    bad.loc[2, "y"] = 0.12345
    assert out_of_range_rate(bad, source.transformer) == pytest.approx(2 / (4 * len(bad)))
    assert out_of_range_rate(bad, source.transformer, decimals=True) == pytest.approx(1 / (4 * len(bad)))


def test_identity_report(source) -> None:
    report = evaluate_table(source.frame, source.frame, source.holdout_frame, source.transformer, "label")
    assert report["out_of_range"] == 0.0 and report["exact_copies"] == len(source.frame)
    assert 0.8 < report["quality"] <= 1.0


def test_rows_far_from_the_origin_find_their_nearest_row_and_no_reference_is_infinitely_far() -> None:
    """At 1e4 the float32 expansion was mostly rounding: 198 of 200 rows were matched to a far-off row."""
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(200, 5)) + 1e4
    queries = reference + 1e-3 * rng.normal(size=reference.shape)
    brute = np.sqrt(((queries[:, None] - reference[None]) ** 2).sum(-1)).min(1)
    assert np.allclose(nearest_distances(queries, reference), brute, atol=1e-9)
    assert np.isinf(nearest_distances(queries, reference[:0])).all()
