"""Tables: column typing and overrides, splits, encoding round trip, legal values, bad input."""

import numpy as np
import pandas as pd
import pytest
import torch

from ganforge.data.tables import (
    TableTransformer,
    infer_schema,
    legal_numbers,
    looks_like_table,
    number_format,
    read_table,
    split_rows,
    table_source,
)
from ganforge.errors import GanforgeError
from ganforge.evaluation.tables import out_of_range_rate


def patients(n: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["F", "M"], n)
    age = rng.integers(20, 90, n)
    income = np.round(rng.lognormal(10, 0.5, n) + (sex == "M") * 5000, 2)
    frame = pd.DataFrame(
        {
            "patient_id": np.arange(1000, 1000 + n),
            "age": age,
            "income": income,
            "sex": sex,
            "stage": rng.integers(1, 5, n),
            "smoker": rng.random(n) < 0.3,
            "visit": pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D"),
            "outcome": np.where(age + rng.normal(0, 10, n) > 55, "yes", "no"),
        }
    )
    frame.loc[rng.random(n) < 0.1, "income"] = np.nan
    frame["visit"] = frame["visit"].dt.strftime("%Y-%m-%d")
    return frame


def test_kinds_are_inferred_and_overridable() -> None:
    frame = patients()
    schema = infer_schema(frame)
    assert schema == {
        "patient_id": "id",
        "age": "integer",
        "income": "numeric",
        "sex": "categorical",
        "stage": "categorical",
        "smoker": "boolean",
        "visit": "datetime",
        "outcome": "categorical",
    }
    assert infer_schema(frame, {"age": "categorical", "stage": "integer"})["age"] == "categorical"
    with pytest.raises(GanforgeError, match="no column named 'zip'"):
        infer_schema(frame, {"zip": "categorical"})
    with pytest.raises(GanforgeError, match="not a column kind"):
        infer_schema(frame, {"age": "number"})


def test_summary_line_names_ids_and_counts(capsys) -> None:
    table_source(patients(), "patients")
    line = capsys.readouterr().err.strip()
    assert line.count("\n") == 0
    assert "patients: 120 rows, 8 columns" in line and "patient_id left out" in line


def test_splits_are_disjoint_and_seeded() -> None:
    train, val, hold = split_rows(100, 0.1, 0.2, seed=0)
    assert (len(train), len(val), len(hold)) == (70, 10, 20)
    assert len(set(train) | set(val) | set(hold)) == 100
    assert np.array_equal(split_rows(100, 0.1, 0.2, seed=0)[0], train)


def test_round_trip_keeps_values_types_and_order() -> None:
    frame = patients()
    source = table_source(frame, "p", quiet=True)
    back = source.transformer.inverse(source.x.numpy())
    train = source.frame
    assert list(back.columns) == list(frame.columns)
    for name in ("sex", "stage", "smoker", "outcome", "visit"):
        assert back[name].astype(str).tolist() == train[name].astype(str).tolist(), name
    assert np.allclose(back["age"].astype(float), train["age"], atol=1.0)
    present = train["income"].notna()
    assert back["income"].isna().tolist() == (~present).tolist()
    assert np.allclose(back["income"][present], train["income"][present], rtol=0.02)
    assert back["patient_id"].min() > frame["patient_id"].max()  # fresh ids never equal real ones


def test_any_encoded_matrix_decodes_to_legal_values() -> None:
    source = table_source(patients(), "p", quiet=True)
    noise = np.random.default_rng(1).normal(0, 3, (500, source.transformer.width)).astype(np.float32)
    synthetic = source.transformer.inverse(noise)
    assert out_of_range_rate(synthetic, source.transformer) == 0.0
    assert set(synthetic["sex"]) <= {"F", "M"}
    assert synthetic["age"].between(source.frame["age"].min(), source.frame["age"].max()).all()
    income = synthetic["income"].dropna()
    assert np.allclose(income, income.round(2))
    assert synthetic["visit"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()


def test_training_by_sampling_rows_have_their_condition() -> None:
    source = table_source(patients(), "p", quiet=True)
    batch = source.batch(300, torch.Generator().manual_seed(0))
    spans = source.transformer.discrete_spans
    offsets = np.cumsum([0] + [s.width for s in spans])
    for row, cat in zip(batch.x, batch.y.tolist(), strict=True):
        j = int(np.searchsorted(offsets, cat, side="right") - 1)
        assert row[spans[j].start + cat - offsets[j]] == 1.0
    again = source.batch(300, torch.Generator().manual_seed(0))
    assert torch.equal(again.y, batch.y)


def test_csv_detection_keeps_numeric_points(tmp_path) -> None:
    rng = np.random.default_rng(0)
    points = tmp_path / "points.csv"
    np.savetxt(points, rng.normal(size=(100, 2)), delimiter=",", header="x,y", comments="")
    assert not looks_like_table(points)
    wide = tmp_path / "wide.csv"
    np.savetxt(wide, rng.normal(size=(100, 4)), delimiter=",")
    assert not looks_like_table(wide)
    labelled = tmp_path / "labelled.csv"
    np.savetxt(labelled, np.column_stack([rng.normal(size=(100, 3)), rng.integers(0, 3, 100)]), delimiter=",")
    assert looks_like_table(labelled)
    counts = tmp_path / "counts.csv"  # age, income, visits: whole numbers of many values are a table's columns too
    np.savetxt(counts, np.column_stack([rng.integers(18, 80, 100), rng.integers(20000, 90000, 100),
                                        rng.integers(0, 40, 100)]), delimiter=",", fmt="%d", header="a,b,c",
               comments="")
    assert looks_like_table(counts)
    pair = tmp_path / "pair.csv"  # two columns stay a 2-D distribution, whole numbers or not
    np.savetxt(pair, rng.integers(0, 100, size=(100, 2)), delimiter=",", fmt="%d")
    assert not looks_like_table(pair)
    mixed = tmp_path / "mixed.csv"
    patients().to_csv(mixed, index=False)
    assert looks_like_table(mixed)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame(), "empty"),
        (pd.DataFrame({"a": [1.0], "b": ["x"]}), "one row"),
        (pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [np.nan] * 3}), "column 'b' has no values"),
    ],
)
def test_bad_tables_are_one_line_errors(frame, message) -> None:
    with pytest.raises(GanforgeError, match=message):
        table_source(frame, "t", quiet=True)


def test_target_must_be_a_column() -> None:
    with pytest.raises(GanforgeError, match="no column named 'outcom'"):
        table_source(patients(), "t", target="outcom", quiet=True)


def test_empty_csv_is_an_error(tmp_path) -> None:
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(GanforgeError, match="empty"):
        read_table(tmp_path / "e.csv")


def test_transformer_survives_json() -> None:
    import json

    source = table_source(patients(), "p", quiet=True)
    again = TableTransformer.from_dict(json.loads(json.dumps(source.transformer.to_dict())))
    assert again.width == source.transformer.width
    x = source.x.numpy()[:20]
    assert again.inverse(x).astype(str).equals(source.transformer.inverse(x).astype(str))


def test_whole_floats_are_the_same_categories_as_ints() -> None:
    frame = pd.DataFrame({"grade": [1.0, 2.0, np.nan, 2.0, 1.0, 3.0] * 5, "x": np.arange(30) * 0.5})
    source = table_source(frame, "g", quiet=True)
    col = source.transformer.columns[0]
    assert col.kind == "categorical" and col.categories == [1, 2, 3, None]
    back = source.transformer.inverse(source.x.numpy())
    assert back["grade"].isna().tolist() == source.frame["grade"].isna().tolist()
    present = source.frame["grade"].notna()
    assert back["grade"][present].astype(int).tolist() == source.frame["grade"][present].astype(int).tolist()
    assert out_of_range_rate(source.frame, source.transformer) == 0.0


def test_quantile_encoding_round_trips_hand_made_columns_exactly() -> None:
    """data.encoding=quantile: every training value comes back exactly (ties, extremes, decimals, dates,
    missing cells), and the encoded column is one near-normal scalar per continuous column."""
    frame = patients()
    frame["ties"] = np.repeat([1.5, 2.25, 7.0], 40)  # heavy ties: every value is a quantile plateau
    source = table_source(frame, "p", quiet=True, encoding="quantile")
    transformer = source.transformer
    assert transformer.encoding == "quantile"
    continuous = [s for s in transformer.spans if s.activation == "tanh"]
    assert [s.column for s in continuous] == ["age", "income", "visit", "ties"]
    assert all(s.width == 1 for s in continuous)
    back = transformer.inverse(source.x.numpy())
    train = source.frame
    for name in ("age", "sex", "stage", "smoker", "outcome", "visit", "ties"):
        assert back[name].astype(str).tolist() == train[name].astype(str).tolist(), name
    present = train["income"].notna()
    assert back["income"].isna().tolist() == (~present).tolist()
    assert back["income"][present].tolist() == train["income"][present].tolist()  # exact, 2 decimals
    z = source.x[:, continuous[0].start].numpy() * 4.0  # age's normal scores
    assert abs(z.mean()) < 0.1 and 0.8 < z.std() < 1.2


def test_quantile_encoding_decodes_any_matrix_to_legal_values() -> None:
    source = table_source(patients(), "p", quiet=True, encoding="quantile")
    noise = np.random.default_rng(1).normal(0, 3, (500, source.transformer.width)).astype(np.float32)
    synthetic = source.transformer.inverse(noise)
    assert out_of_range_rate(synthetic, source.transformer) == 0.0
    income = synthetic["income"].dropna()
    assert np.allclose(income, income.round(2))
    assert synthetic["age"].between(source.frame["age"].min(), source.frame["age"].max()).all()
    # the extremes are reachable: saturated outputs decode to the training minimum and maximum
    ends = source.transformer.inverse(np.sign(noise) * np.ones_like(noise))
    assert {ends["age"].min(), ends["age"].max()} == {source.frame["age"].min(), source.frame["age"].max()}


def test_quantile_transformer_survives_json_and_old_runs_mean_modes() -> None:
    source = table_source(patients(), "p", quiet=True, encoding="quantile")
    raw = source.transformer.to_dict()
    again = TableTransformer.from_dict(raw)
    assert again.encoding == "quantile" and again.width == source.transformer.width
    old = table_source(patients(), "p", quiet=True, encoding="modes").transformer.to_dict()
    old.pop("encoding")  # a run saved before data.encoding existed
    for column in old["columns"]:
        column.pop("quantiles")
    assert TableTransformer.from_dict(old).encoding == "modes"


def test_target_share_conditions_on_the_target_that_often() -> None:
    source = table_source(patients(), "p", target="outcome", quiet=True, target_share=0.6)
    spans = source.transformer.discrete_spans
    assert source.info["condition_probs"][[s.column for s in spans].index("outcome")] == pytest.approx(0.6)
    batch = source.batch(4000, torch.Generator().manual_seed(0))
    offsets = np.cumsum([0] + [s.width for s in spans])
    j = [s.column for s in spans].index("outcome")
    on_target = ((batch.y >= int(offsets[j])) & (batch.y < int(offsets[j + 1]))).float().mean().item()
    assert on_target == pytest.approx(0.6, abs=0.03)
    for row, cat in zip(batch.x[:300], batch.y[:300].tolist(), strict=True):  # the condition still holds
        k = int(np.searchsorted(offsets, cat, side="right") - 1)
        assert row[spans[k].start + cat - offsets[k]] == 1.0
    plain = table_source(patients(), "p", target="outcome", quiet=True)
    assert "condition_probs" not in plain.info  # default: CTGAN's uniform choice of the column


@pytest.mark.parametrize(
    ("options", "message"),
    [({"encoding": "quantil"}, "did you mean 'quantile'"), ({"target_share": 1.0}, "target_share")],
)
def test_bad_encoding_settings_are_one_line_errors(options, message) -> None:
    with pytest.raises(GanforgeError, match=message):
        table_source(patients(), "p", quiet=True, **options)


def test_number_format_is_the_rule_that_types_table_columns() -> None:
    """number_format (shared with CSV time series) gives what a table's integer / numeric column records."""
    frame = pd.DataFrame({"count": np.arange(30) * 7 % 23 + 100, "price": np.round(np.linspace(1, 9, 30), 2),
                          "ratio": np.linspace(0, 1, 30) / 7})
    source = table_source(frame, "t", quiet=True)
    for col in source.transformer.columns:
        assert number_format(frame[col.name].to_numpy(dtype=np.float64)) == (col.dtype, col.decimals), col.name
    assert number_format(np.array([3.0, 4.0])) == ("int", 0)
    assert number_format(np.array([1.5, 2.25])) == ("float", 2)
    assert legal_numbers(np.array([0.126, -3.0, 9.0]), 0.0, 1.5, 2).tolist() == [0.13, 0.0, 1.5]
    assert legal_numbers(np.array([0.1234567]), 0.0, 1.0, None).tolist() == [0.1234567]


def test_day_first_dates_are_read_one_way_and_written_in_their_format(tmp_path) -> None:
    """Row-by-row guessing read 02/01/2022 as February 1 in a dd/mm/yyyy column (and wrote ISO back)."""
    days = ["08/01/2022", "26/02/2022", "02/01/2022", "15/05/2022", "03/02/2022", "28/05/2022"]
    path = tmp_path / "d.csv"
    path.write_text("dmy,x\n" + "".join(f"{d},{i}.5\n" for i, d in enumerate(days)))
    frame = read_table(path)
    assert infer_schema(frame)["dmy"] == "datetime"
    source = table_source(frame, "d", validation=0.0, holdout=0.0, quiet=True)
    col = next(c for c in source.transformer.columns if c.name == "dmy")
    assert col.date_format == "%d/%m/%Y"
    first, last = pd.Timestamp("2022-01-02"), pd.Timestamp("2022-05-28")
    assert (col.minimum, col.maximum) == (first.value / 86_400e9, last.value / 86_400e9)
    noise = np.random.default_rng(0).normal(0, 3, (200, source.transformer.width)).astype(np.float32)
    out = source.transformer.inverse(noise)["dmy"]
    assert out.str.fullmatch(r"\d{2}/\d{2}/2022").all()
    assert pd.to_datetime(out, format="%d/%m/%Y").between(first, last).all()
    back = source.transformer.inverse(source.x.numpy())["dmy"]
    assert sorted(back) == sorted(source.frame["dmy"])


@pytest.mark.parametrize(
    ("cells", "kind"),
    [
        (["01/13/2022", "02/01/2022", "03/01/2022"], "datetime"),  # month-first: 13 is a day
        (["13/01/2022", "01/13/2022", "03/01/2022"], "categorical"),  # no one reading fits every cell
        (["01/02/2022", "02/01/2022", "03/01/2022"], "categorical"),  # either reading fits: not guessed
        (["2022-01-02", "2022-02-01", "2022-03-01"], "datetime"),
    ],
)
def test_numeric_dates_need_one_order_of_day_and_month(cells, kind) -> None:
    assert infer_schema(pd.DataFrame({"d": cells}))["d"] == kind


def test_leading_zero_codes_keep_their_zeros(tmp_path) -> None:
    """01234 was read as the number 1234, even with data.columns.zip=categorical."""
    path = tmp_path / "z.csv"
    codes = ["01234", "98765", "00042", "01234", "98765", "00042"]
    path.write_text("zip,share,x\n" + "".join(f"{z},0.{i},{i}.5\n" for i, z in enumerate(codes)))
    frame = read_table(path)
    assert frame["zip"].tolist() == codes
    assert frame["share"].dtype == np.float64  # 0.5 is a plain decimal, not a code
    for columns in (None, {"zip": "categorical"}):
        source = table_source(frame, "z", columns=columns, validation=0.0, holdout=0.0, quiet=True)
        col = next(c for c in source.transformer.columns if c.name == "zip")
        assert (col.kind, col.dtype, set(col.categories)) == ("categorical", "str", set(codes))
        noise = np.random.default_rng(0).normal(0, 3, (50, source.transformer.width)).astype(np.float32)
        assert set(source.transformer.inverse(noise)["zip"]) <= set(codes)


def test_a_number_column_declared_categorical_keeps_its_cells_as_written(tmp_path) -> None:
    """data.columns.price=categorical on 1.50 / 2.00 gave the categories 1.5 and 2.0: the file was read as numbers
    before the declaration was seen."""
    from ganforge.data.tables import table_file

    path = tmp_path / "p.csv"
    path.write_text("price,x\n" + "".join(f"{p},{i}.5\n" for i, p in enumerate(["1.50", "2.00", "1.50"] * 4)))
    source = table_file(str(path), columns={"price": "categorical"}, validation=0.0, holdout=0.0)
    col = next(c for c in source.transformer.columns if c.name == "price")
    assert (col.kind, set(col.categories)) == ("categorical", {"1.50", "2.00"})
    assert read_table(path)["price"].dtype == np.float64  # undeclared, it is a number column as before


def test_tables_too_small_for_a_holdout_are_refused_before_training() -> None:
    """A 2-row table trained, then `ganforge eval` found no holdout rows."""
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    with pytest.raises(GanforgeError, match="too few for a holdout split"):
        table_source(frame, "t", quiet=True)
    assert len(table_source(frame, "t", holdout=0.0, validation=0.0, quiet=True).frame) == 2


def test_a_header_naming_two_columns_alike_is_refused(tmp_path) -> None:
    """pandas read `a,b,a` as columns a, b, a.1, and synthetic rows came back under `a.1`."""
    path = tmp_path / "dup.csv"
    path.write_text("a, b, a\n1,x,2\n3,y,4\n5,x,6\n", encoding="utf-8")
    with pytest.raises(GanforgeError, match=r"columns 1 and 3 are both named 'a'"):
        read_table(path)
    path.write_text("a,b,a.1\n1,x,2\n3,y,4\n", encoding="utf-8")  # a name that only looks like pandas' renaming
    assert list(read_table(path).columns) == ["a", "b", "a.1"]


def test_a_table_with_infinite_numbers_is_refused_where_every_table_is_checked() -> None:
    """`ganforge train t.csv` with an inf cell diverged at step 1 and blamed the learning rate."""
    import pandas as pd

    from ganforge.data.tables import check_frame

    frame = pd.DataFrame({"a": [1.0, 2.0, float("-inf")], "b": ["x", "y", "x"]})
    with pytest.raises(GanforgeError, match=r"^t: column 'a' holds -inf \(row 3 below the header\); .*\(NaN\)"):
        check_frame(frame, "t")
    with pytest.raises(GanforgeError, match=r"holds inf \(index 'r2'\)"):
        check_frame(frame.assign(a=[1.0, 2.0, float("inf")]).set_axis(["r0", "r1", "r2"]), "t")
    with pytest.raises(GanforgeError, match=r"holds -inf \(index 102\)"):  # a slice keeps its row labels
        check_frame(frame.set_axis(pd.RangeIndex(100, 103)), "t")
