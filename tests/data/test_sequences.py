from pathlib import Path

import numpy as np
import pytest
import torch

from ganforge.data.registry import build_source
from ganforge.data.sequences import SequenceSource, column_formats, sine_sequences, sliding_windows
from ganforge.errors import GanforgeError


def test_sines_match_timegans_recipe() -> None:
    src = build_source("sines", {"n": 300, "seq_len": 24, "dim": 5, "seed": 3})
    assert isinstance(src, SequenceSource)
    assert src.kind == "sequences" and src.sample_shape == (24, 5)
    x = src.x.numpy().astype(np.float64)
    assert x.shape == (300, 24, 5)
    assert x.min() >= 0.0 and x.max() <= 1.0
    # invert x = (sin(f t + p) + 1) / 2: step 0 gives the phase, step 1 minus step 0 the frequency
    angles = np.arcsin(np.clip(2 * x - 1, -1, 1))  # arguments stay below pi / 2 for t < 15
    phase, freq = angles[:, 0], angles[:, 1] - angles[:, 0]
    for drawn in (phase, freq):
        assert drawn.min() >= -1e-4 and drawn.max() <= 0.1 + 1e-4
        assert abs(drawn.mean() - 0.05) < 0.005  # U(0, 0.1) has mean 0.05
    # TimeGAN's draw order: per sample, per feature, frequency then phase
    rng = np.random.default_rng(3)
    f0, p0 = rng.uniform(0, 0.1), rng.uniform(0, 0.1)
    assert np.allclose(x[0, :, 0], (np.sin(f0 * np.arange(24) + p0) + 1) / 2, atol=1e-6)


def test_sines_are_reproducible_per_seed() -> None:
    a = sine_sequences(10, 8, 2, np.random.default_rng(0))
    b = sine_sequences(10, 8, 2, np.random.default_rng(0))
    c = sine_sequences(10, 8, 2, np.random.default_rng(1))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_scaler_is_per_feature_and_shared_over_time() -> None:
    src = build_source("sines", {"n": 200, "seq_len": 12, "dim": 3, "seed": 0})
    src.fit_scaler("sigmoid")
    assert src.scaler.shift.shape == (3,)
    z = src.scaler.to_model(src.x)
    flat = z.reshape(-1, 3)
    assert torch.allclose(flat.amin(0), torch.zeros(3), atol=1e-5)
    assert torch.allclose(flat.amax(0), torch.ones(3), atol=1e-5)
    batch = src.batch(16, torch.Generator().manual_seed(0))
    assert batch.x.shape == (16, 12, 3)


def _write_csv(path: Path, series: np.ndarray, header: list[str] | None) -> None:
    lines = [",".join(header)] if header else []
    lines += [",".join(f"{v:.6f}" for v in row) for row in series]
    path.write_text("\n".join(lines) + "\n")


def test_csv_windows_and_scaling_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    series = np.stack([100 + np.cumsum(rng.normal(size=50)), rng.uniform(-5, 5, size=50), np.arange(50.0)], 1)
    path = tmp_path / "prices.csv"
    _write_csv(path, series, ["open", "volume", "day"])
    src = build_source("timeseries-csv", {"path": str(path), "seq_len": 10, "columns": ["open", 2]})
    assert src.info["columns"] == ["open", "day"]
    assert src.x.shape == (41, 10, 2)  # every window of 10 consecutive rows
    expected = series[:, [0, 2]]
    assert np.allclose(src.x[0].numpy(), expected[:10], atol=1e-4)
    assert np.allclose(src.x[-1].numpy(), expected[-10:], atol=1e-4)
    assert np.allclose(src.x[7, :, 1].numpy(), np.arange(7, 17))

    # TimeGAN's normalisation: each feature min-max scaled over the whole series, inverted exactly
    src.fit_scaler("sigmoid")
    z = src.scaler.to_model(src.x)
    timegan = (expected - expected.min(0)) / (expected.max(0) - expected.min(0))
    assert np.allclose(z[3].numpy(), timegan[3:13], atol=1e-4)
    assert torch.allclose(src.scaler.to_data(z), src.x, atol=1e-3)
    assert src.info["data_min"] == pytest.approx(expected.min(0).tolist())

    reverse = build_source("timeseries-csv", {"path": str(path), "seq_len": 10, "reverse": True, "stride": 5})
    assert reverse.x.shape == (9, 10, 3)
    assert np.allclose(reverse.x[0, :, 2].numpy(), np.arange(49, 39, -1))


def test_csv_without_header(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    _write_csv(path, np.arange(12.0).reshape(6, 2), None)
    src = build_source("timeseries-csv", {"path": str(path), "seq_len": 3, "columns": [1]})
    assert src.x.shape == (4, 3, 1)
    assert src.x[:, 0, 0].tolist() == [1.0, 3.0, 5.0, 7.0]


@pytest.mark.parametrize(
    "content,params,message",
    [
        ("a,b\n1,2\n3,x\n", {}, "line 3, column 'b': 'x' is not a number"),
        ("a,b\n1,2\n3,nan\n", {}, "not a finite number"),
        ("a,b\n1,2\n3,4\n", {"seq_len": 5}, "too few"),
        ("a,b\n1,2\n3,4\n", {"columns": ["c"], "seq_len": 2}, "'c' is not a column"),
        ("a,b\n1,2\n3\n", {"seq_len": 2}, "line 3: 1 cells"),
    ],
)
def test_csv_errors_are_one_line(tmp_path: Path, content: str, params: dict, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(GanforgeError, match=message) as info:
        build_source("timeseries-csv", {"path": str(path), **params})
    assert "\n" not in str(info.value)


def test_missing_files() -> None:
    with pytest.raises(GanforgeError, match="no such file"):
        build_source("timeseries-csv", {"path": "/nonexistent/series.csv"})
    with pytest.raises(GanforgeError, match="no such file"):
        build_source("sequences-npy", {"path": "/nonexistent/seqs.npy"})


def test_npy_and_npz(tmp_path: Path) -> None:
    x = np.random.default_rng(0).normal(size=(20, 6, 2)).astype(np.float32)
    np.save(tmp_path / "seqs.npy", x)
    src = build_source("sequences-npy", {"path": str(tmp_path / "seqs.npy")})
    assert src.sample_shape == (6, 2) and torch.equal(src.x, torch.from_numpy(x))

    labels = np.arange(20) % 3
    np.savez(tmp_path / "seqs.npz", data=x, labels=labels)
    params = {"path": str(tmp_path / "seqs.npz"), "key": "data", "labels_key": "labels"}
    src = build_source("sequences-npy", params)
    assert src.num_classes == 3 and src.y.tolist() == labels.tolist()
    with pytest.raises(GanforgeError, match="choose one with data.key"):
        build_source("sequences-npy", {"path": str(tmp_path / "seqs.npz")})
    with pytest.raises(GanforgeError, match="'nope' is not in"):
        build_source("sequences-npy", {"path": str(tmp_path / "seqs.npz"), "key": "nope"})


@pytest.mark.parametrize(
    "array,message",
    [
        (np.zeros((5, 4)), "must be 3-D"),
        (np.zeros((2, 3, 4, 5)), "must be 3-D"),
        (np.array([[[1.0], [np.nan]]]), "NaN/inf"),
    ],
)
def test_npy_errors(tmp_path: Path, array: np.ndarray, message: str) -> None:
    np.save(tmp_path / "bad.npy", array)
    with pytest.raises(GanforgeError, match=message):
        build_source("sequences-npy", {"path": str(tmp_path / "bad.npy")})


def test_sliding_windows_stride() -> None:
    series = np.arange(20.0).reshape(10, 2)
    w = sliding_windows(series, 4, stride=3)
    assert w.shape == (3, 4, 2)
    assert np.array_equal(w[1], series[3:7])


def test_sequences_from_python_keep_their_units_and_labels_and_refuse_bad_arrays() -> None:
    import ganforge as gf

    x = np.random.default_rng(0).normal(5.0, 2.0, (12, 7, 2))
    source = gf.data.sequences(torch.from_numpy(x), labels=np.arange(12) % 3)
    assert source.kind == "sequences" and source.sample_shape == (7, 2) and source.num_classes == 3
    assert torch.allclose(source.x, torch.from_numpy(x).float())  # data units, scaled only for training
    with pytest.raises(GanforgeError, match="sequences must be 3-D"):
        gf.data.sequences(x[:, :, 0])
    with pytest.raises(GanforgeError, match="12 non-negative integers"):
        gf.data.sequences(x, labels=np.arange(11))


def test_a_users_series_with_a_date_column_semicolons_and_one_window_too_few(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("date;temp;sales\n" + "".join(f"2024-01-{i % 28 + 1:02d};{i * 0.5};{i}\n" for i in range(30)))
    with pytest.raises(GanforgeError, match=r"leave the column out \(--set 'data.columns=\[temp,sales\]'\)"):
        build_source("timeseries-csv", {"path": str(path), "seq_len": 5})
    source = build_source("timeseries-csv", {"path": str(path), "seq_len": 5, "columns": "temp"})  # one name
    assert source.sample_shape == (5, 1) and source.info["columns"] == ["temp"]  # ';' read as the separator
    with pytest.raises(GanforgeError, match="give 1 window of seq_len=20 with stride=50"):
        build_source("timeseries-csv", {"path": str(path), "seq_len": 20, "stride": 50, "columns": ["temp"]})


def test_a_csv_series_records_each_columns_type_and_reads_it_back(tmp_path: Path) -> None:
    path = tmp_path / "shop.csv"
    path.write_text("price,count,rate\n" + "".join(f"{20 + i / 4:.2f},{3 * i},{i / 7}\n" for i in range(12)))
    src = build_source("timeseries-csv", {"path": str(path), "seq_len": 4})
    assert src.info["dtypes"] == ["float", "int", "float"]
    assert src.info["decimals"] == [2, 0, None]  # 20.25, 20.50: two places; i / 7 needs more than six
    formats = column_formats(src.info, 3)
    assert formats is not None and [(f.integer, f.decimals) for f in formats] == [(False, 2), (True, 0), (False, None)]
    assert (formats[0].minimum, formats[0].maximum) == (20.0, 22.75)
    assert formats[0].legal(np.array([20.2817, 19.0, 30.0])).tolist() == [20.28, 20.0, 22.75]
    assert formats[1].legal(np.array([4.6, -2.0])).tolist() == [5.0, 0.0]
    assert formats[2].legal(np.array([0.123456789])).tolist() == [0.123456789]


def test_column_formats_of_old_and_damaged_records() -> None:
    assert column_formats({"columns": ["a"], "data_min": [0.0], "data_max": [1.0]}, 1) is None  # before the record
    assert column_formats(None, 1) is None
    good = {"dtypes": ["int"], "decimals": [0], "data_min": [0.0], "data_max": [9.0]}
    assert column_formats(good, 1) is not None
    for bad in (
        {"dtypes": ["int", "int"]},
        {"dtypes": ["text"]},
        {"decimals": [99]},
        {"decimals": ["2"]},
        {"data_min": [10.0]},
        {"data_max": [10**400]},
        {"data_max": None},
    ):
        with pytest.raises(GanforgeError, match="data.json.*damaged"):
            column_formats({**good, **bad}, 1)


def test_a_text_column_error_suggests_only_numeric_columns(tmp_path: Path) -> None:
    """data.columns=[temp,city] with city text suggested every other column: the date and city itself."""
    from ganforge.data.sequences import read_numeric_csv

    path = tmp_path / "s.csv"
    path.write_text("date,temp,sales,city\n2021-01-01,9.4,61,x\n2021-01-02,11.7,66,y\n")
    with pytest.raises(GanforgeError, match=r"column 'city': 'x' is not a number") as exc:
        read_numeric_csv(path, ["temp", "city"])
    assert "--set 'data.columns=[temp,sales]'" in str(exc.value)


def test_sines_called_from_python_refuses_a_negative_seed() -> None:
    """gf.data.sines(seed=-1) reached numpy's "Seed must be between 0 and 2**32 - 1"."""
    import ganforge as gf
    from ganforge.errors import GanforgeError

    with pytest.raises(GanforgeError, match=r"^gf.data.sines\(seed=-1\): give a whole number >= 0$"):
        gf.data.sines(n=4, seed=-1)
