"""`ganforge train my_series.csv --recipe timeseries-gru` and `ganforge sample RUN -o series.csv` on a tiny CSV."""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from ganforge.cli import main

FAST = [
    "--set",
    "train.steps=3",
    "--set",
    "train.batch_size=8",
    "--set",
    "data.seq_len=6",
    "--set",
    "model.generator.hidden=4",
    "--set",
    "model.discriminator.hidden=4",
    "--set",
    "eval.metrics=[moments]",
    "--set",
    "eval.n=20",
]


def write_series(path: Path, rows: int = 40) -> np.ndarray:
    t = np.arange(rows)
    values = np.stack([100 + 10 * np.sin(t / 3), 5 + np.cos(t / 5)], axis=1)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["price", "volume"])
        writer.writerows(values.round(4).tolist())
    return values


def test_train_a_csv_with_a_named_recipe_then_sample_csv_and_png(tmp_path: Path) -> None:
    values = write_series(tmp_path / "my_series.csv")
    run = tmp_path / "run"
    main(["train", str(tmp_path / "my_series.csv"), "--recipe", "timeseries-gru", "-o", str(run), "-q", *FAST])
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["name"] == "my_series"
    assert config["data"]["source"] == "timeseries-csv" and config["data"]["path"] == str(tmp_path / "my_series.csv")
    assert config["model"]["type"] == "rcgan" and config["data"]["seq_len"] == 6
    assert (run / "summary.json").is_file() and (run / "plots" / "series.png").is_file()

    out = tmp_path / "series.csv"
    main(["sample", str(run), "-n", "5", "-o", str(out)])
    with out.open() as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["sample", "t", "price", "volume"]  # long format, the CSV's own column names
    body = np.array(rows[1:], dtype=float)
    assert body.shape == (5 * 6, 4)
    assert body[:, 0].tolist() == [i for i in range(5) for _ in range(6)]
    assert body[:, 1].tolist() == list(range(6)) * 5
    lo, hi = values.min(0), values.max(0)  # sigmoid outputs mapped back into the CSV's units
    assert np.all(body[:, 2:] >= lo - 1e-3) and np.all(body[:, 2:] <= hi + 1e-3)
    assert math.isclose(body[:, 2].mean(), 100, abs_tol=15)

    picture = tmp_path / "series.png"
    main(["sample", str(run), "-n", "3", "-o", str(picture)])
    assert picture.read_bytes()[:4] == b"\x89PNG"
    npy = tmp_path / "series.npy"
    main(["sample", str(run), "-n", "4", "-o", str(npy)])
    assert np.load(npy).shape == (4, 6, 2)


def test_recipe_without_a_file_source_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_series(tmp_path / "s.csv")
    with pytest.raises(SystemExit) as exc:
        main(["train", str(tmp_path / "s.csv"), "--recipe", "sines-timegan", "-o", str(tmp_path / "r")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "built-in data 'sines'" in err and err.count("\n") == 1


def test_data_file_without_recipe_keeps_the_points_default(tmp_path: Path) -> None:
    write_series(tmp_path / "pts.csv")
    run = tmp_path / "pts-run"
    main(["train", str(tmp_path / "pts.csv"), "-o", str(run), "-q", "--set", "train.steps=2", "--set", "eval.n=50"])
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["data"] == {"source": "file", "path": str(tmp_path / "pts.csv")}
    assert config["model"]["type"] == "gan"


def test_features_named_like_the_index_columns_keep_their_names(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    t = np.arange(60)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["t", "sample"])  # a user's series whose columns are called t and sample
        writer.writerows(np.stack([np.sin(t / 3), np.cos(t / 5)], axis=1).round(4).tolist())
    run = tmp_path / "run"
    main(["train", str(path), "--recipe", "timeseries-gru", "-o", str(run), "-q", *FAST])
    main(["sample", str(run), "-n", "2", "-o", str(tmp_path / "out.csv")])
    with (tmp_path / "out.csv").open() as handle:
        header = next(csv.reader(handle))
    assert header == ["_sample", "_t", "t", "sample"]  # was sample,t,t,sample: two columns of each name


def write_typed_series(path: Path, rows: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """A series with a price column at 2 decimals and a count column of whole numbers."""
    t = np.arange(rows)
    price = np.round(20 + 3 * np.sin(t / 3), 2)
    count = (50 + 10 * np.cos(t / 5)).round().astype(int)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["price", "count"])
        writer.writerows([[f"{p:.2f}", str(c)] for p, c in zip(price, count, strict=True)])
    return price, count


def _sampled_cells(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open() as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def test_sampled_csv_keeps_integer_columns_and_decimals_after_loading(tmp_path: Path) -> None:
    price, count = write_typed_series(tmp_path / "shop.csv")
    run = tmp_path / "run"
    main(["train", str(tmp_path / "shop.csv"), "--recipe", "timeseries-gru", "-o", str(run), "-q", *FAST])
    info = json.loads((run / "data.json").read_text())["info"]  # what a new process's ganforge.load reads
    assert info["dtypes"] == ["float", "int"] and info["decimals"] == [2, 0]
    from ganforge.data.sequences import column_formats
    from ganforge.runs import load

    formats = column_formats(load(run).data_info.info, 2)
    assert formats is not None and [(f.integer, f.decimals) for f in formats] == [(False, 2), (True, 0)]

    out = tmp_path / "out.csv"
    main(["sample", str(run), "-n", "20", "-o", str(out)])
    header, cells = _sampled_cells(out)
    assert header == ["sample", "t", "price", "count"] and len(cells) == 20 * 6
    for _, _, p, c in cells:
        assert re.fullmatch(r"-?\d+\.\d\d", p), p  # 20.28, not 20.2817
        assert re.fullmatch(r"-?\d+", c), c  # a count stays whole
        assert price.min() <= float(p) <= price.max() and count.min() <= int(c) <= count.max()


def test_a_run_folder_without_the_type_record_samples_as_before(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_typed_series(tmp_path / "shop.csv")
    run = tmp_path / "run"
    main(["train", str(tmp_path / "shop.csv"), "--recipe", "timeseries-gru", "-o", str(run), "-q", *FAST])
    desc = json.loads((run / "data.json").read_text())
    old = {**desc, "info": {k: v for k, v in desc["info"].items() if k not in ("dtypes", "decimals")}}
    (run / "data.json").write_text(json.dumps(old))  # a run folder written before the record existed
    out = tmp_path / "old.csv"
    main(["sample", str(run), "-n", "20", "-o", str(out)])
    _, cells = _sampled_cells(out)
    assert any("." in c for *_, c in cells)  # the counts come out as generated floats, as they always did

    damaged = {**desc, "info": {**desc["info"], "dtypes": ["float", "text"]}}
    (run / "data.json").write_text(json.dumps(damaged))
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(["sample", str(run), "-n", "2", "-o", str(tmp_path / "bad.csv")])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.startswith("error: ") and err.count("\n") == 1 and "damaged" in err
    assert not (tmp_path / "bad.csv").exists()
