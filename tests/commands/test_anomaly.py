"""``ganforge anomaly fit`` / ``score``: rows with per-feature residuals, images with residual maps, windows of
a series, and one-line errors (exit 2) for a folder not fitted for scoring, mismatched columns, empty input."""

from pathlib import Path

import numpy as np
from PIL import Image


def write_csv(path: Path, rows: np.ndarray, header: str) -> Path:
    np.savetxt(path, rows, delimiter=",", header=header, comments="")
    return path


def test_rows_fit_and_score_with_residuals(tmp_path: Path, run_cli) -> None:
    rng = np.random.default_rng(0)
    normal = write_csv(tmp_path / "normal.csv", rng.normal(size=(150, 3)), "a,b,c")
    new = write_csv(tmp_path / "new.csv", np.r_[rng.normal(size=(10, 3)), rng.normal(size=(4, 3)) + 8], "a,b,c")
    code, out, err = run_cli("anomaly", "fit", str(normal), "--out", str(tmp_path / "ad"), "--steps", "200")
    assert code == 0, err
    assert "threshold" in out
    scores = tmp_path / "s.csv"
    code, out, err = run_cli("anomaly", "score", str(tmp_path / "ad"), str(new), "-o", str(scores), "--residuals")
    assert code == 0, err
    lines = scores.read_text().splitlines()
    assert lines[0] == "sample,score,threshold,anomaly,residual_a,residual_b,residual_c"
    assert len(lines) == 15
    flags = [int(line.split(",")[3]) for line in lines[1:]]
    assert flags[10:] == [1, 1, 1, 1]


def test_knn_score_from_the_command_line(tmp_path: Path, run_cli) -> None:
    rng = np.random.default_rng(0)
    normal = write_csv(tmp_path / "normal.csv", rng.normal(size=(150, 3)), "a,b,c")
    new = write_csv(tmp_path / "new.csv", np.r_[rng.normal(size=(10, 3)), rng.normal(size=(4, 3)) + 8], "a,b,c")
    code, _, err = run_cli("anomaly", "fit", str(normal), "--out", str(tmp_path / "ad"), "--steps", "200",
                           "--score", "knn")
    assert code == 0, err
    code, _, err = run_cli("anomaly", "score", str(tmp_path / "ad"), str(new), "-o", str(tmp_path / "s.csv"))
    assert code == 0, err
    flags = [int(line.split(",")[3]) for line in (tmp_path / "s.csv").read_text().splitlines()[1:]]
    assert flags[10:] == [1, 1, 1, 1]


def test_images_write_residual_maps(tmp_path: Path, run_cli) -> None:
    rng = np.random.default_rng(0)
    folder = tmp_path / "scans"
    folder.mkdir()
    for i in range(30):
        Image.fromarray((rng.uniform(0.4, 0.6, size=(6, 6)) * 255).astype(np.uint8)).save(folder / f"s{i:02d}.png")
    code, _, err = run_cli("anomaly", "fit", str(folder), "--out", str(tmp_path / "ad"), "--steps", "30")
    assert code == 0, err
    code, _, err = run_cli("anomaly", "score", str(tmp_path / "ad"), str(folder), "-o", str(tmp_path / "s.csv"),
                      "--maps", str(tmp_path / "maps"))
    assert code == 0, err
    maps = sorted((tmp_path / "maps").glob("*.png"))
    assert len(maps) == 30 and np.asarray(Image.open(maps[0])).shape == (6, 6)
    assert (tmp_path / "s.csv").read_text().splitlines()[1].startswith("s00.png,")


def test_series_windows(tmp_path: Path, run_cli) -> None:
    series = write_csv(tmp_path / "series.csv", np.sin(np.arange(300) / 4)[:, None], "value")
    code, _, err = run_cli("anomaly", "fit", str(series), "--window", "16", "--stride", "4", "--out",
                      str(tmp_path / "ad"), "--steps", "20")
    assert code == 0, err
    code, _, err = run_cli("anomaly", "score", str(tmp_path / "ad"), str(series), "-o", str(tmp_path / "s.csv"))
    assert code == 0, err
    rows = (tmp_path / "s.csv").read_text().splitlines()
    assert len(rows) == 1 + (300 - 16) // 4 + 1 and rows[2].startswith("4,")


def test_bad_input_is_one_line_exit_2(tmp_path: Path, run_cli) -> None:
    rng = np.random.default_rng(0)
    normal = write_csv(tmp_path / "normal.csv", rng.normal(size=(60, 3)), "a,b,c")
    assert run_cli("anomaly", "fit", str(normal), "--out", str(tmp_path / "ad"), "--steps", "10")[0] == 0
    run = tmp_path / "gan-run"
    run.mkdir()
    (run / "config.yaml").write_text("seed: 0\n")
    other = write_csv(tmp_path / "other.csv", rng.normal(size=(5, 2)), "a,b")
    renamed = write_csv(tmp_path / "renamed.csv", rng.normal(size=(5, 3)), "a,b,d")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    no_header = tmp_path / "noheader.csv"
    np.savetxt(no_header, rng.normal(size=(5, 4)), delimiter=",")
    header_only = tmp_path / "header.csv"
    header_only.write_text("a,b,c\n")
    cases = [
        (["anomaly", "score", str(run), str(normal)], "not fitted for anomaly scoring"),
        (["anomaly", "score", str(tmp_path / "ad"), str(other)], "differ from the fitted a, b, c"),
        (["anomaly", "score", str(tmp_path / "ad"), str(renamed)], "columns"),
        (["anomaly", "score", str(tmp_path / "ad"), str(no_header)], "samples of shape (4,)"),
        (["anomaly", "score", str(tmp_path / "ad"), str(empty)], "empty"),
        (["anomaly", "score", str(tmp_path / "ad"), str(header_only)], "only a header"),
        (["anomaly", "fit", str(empty), "--out", str(tmp_path / "x")], "empty"),
        (["anomaly", "score", str(tmp_path / "ad"), str(normal), "--maps", str(tmp_path / "m")], "--maps needs image"),
        (["anomaly", "fit", str(normal), "--method", "alad", "--score", "knn"], "setting of --method ganomaly"),
        (["anomaly", "fit", str(normal), "--score", "nearest", "--steps", "5"], "ganomaly score 'nearest'"),
    ]
    for args, message in cases:
        code, _, err = run_cli(*args + ["-o", str(tmp_path / "s.csv")] if args[1] == "score" else args)
        assert code == 2, (args, err)
        assert err.startswith("error: ") and message in err and err.count("\n") == 1, err


def test_columns_named_x_in_another_order_are_refused_and_headerless_rows_still_score(tmp_path: Path, run_cli) -> None:
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(150, 3)) * [1, 10, 100]
    normal = write_csv(tmp_path / "normal.csv", rows, "x_a,x_b,x_c")
    assert run_cli("anomaly", "fit", str(normal), "--out", str(tmp_path / "ad"), "--steps", "20")[0] == 0
    reversed_ = write_csv(tmp_path / "rev.csv", rows[:20, ::-1], "x_c,x_b,x_a")
    code, _, err = run_cli("anomaly", "score", str(tmp_path / "ad"), str(reversed_), "-o", str(tmp_path / "s.csv"))
    assert code == 2 and "same columns in the same order" in err and not (tmp_path / "s.csv").exists()
    np.savetxt(tmp_path / "bare.csv", rows[:20], delimiter=",")  # no header row: columns x0, x1, x2
    code, _, err = run_cli("anomaly", "score", str(tmp_path / "ad"), str(tmp_path / "bare.csv"), "-o",
                           str(tmp_path / "s.csv"))
    assert code == 0, err


def test_fit_never_writes_into_a_folder_that_holds_something(tmp_path: Path, run_cli) -> None:
    normal = write_csv(tmp_path / "normal.csv", np.random.default_rng(0).normal(size=(80, 2)), "a,b")
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "config.yaml").write_text("a run of the user's\n")
    code, _, err = run_cli("anomaly", "fit", str(normal), "--out", str(taken), "--steps", "20")
    assert code == 2 and "not an empty folder" in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in taken.iterdir()) == ["config.yaml"]


def test_score_checks_its_outputs_before_writing_any(tmp_path: Path, run_cli) -> None:
    rng = np.random.default_rng(0)
    normal = write_csv(tmp_path / "normal.csv", rng.normal(size=(80, 2)), "a,b")
    assert run_cli("anomaly", "fit", str(normal), "--out", str(tmp_path / "ad"), "--steps", "20")[0] == 0
    kept = tmp_path / "kept.csv"
    kept.write_text("the user's file\n")
    code, _, err = run_cli("anomaly", "score", str(tmp_path / "ad"), str(normal), "-o", str(kept), "--maps",
                           str(tmp_path / "maps"))
    assert code == 2 and "--maps needs image data" in err
    assert kept.read_text() == "the user's file\n"  # the table detector's refusal came before the write
    for bad in (tmp_path / "s.xyz", tmp_path / "missing" / "s.csv"):
        code, _, err = run_cli("anomaly", "score", str(tmp_path / "ad"), str(normal), "-o", str(bad))
        assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "missing").exists()


def test_score_never_writes_over_the_data_it_scores(tmp_path: Path, run_cli) -> None:
    normal = write_csv(tmp_path / "normal.csv", np.random.default_rng(0).normal(size=(80, 2)), "a,b")
    assert run_cli("anomaly", "fit", str(normal), "--out", str(tmp_path / "ad"), "--steps", "20")[0] == 0
    before = normal.read_bytes()
    code, _, err = run_cli("anomaly", "score", str(tmp_path / "ad"), str(normal), "-o", str(normal))
    assert code == 2 and "never overwritten" in err and normal.read_bytes() == before


def test_a_window_of_fewer_than_two_rows_is_refused(tmp_path: Path, run_cli) -> None:
    series = write_csv(tmp_path / "s.csv", np.random.default_rng(0).normal(size=(60, 2)), "a,b")
    for bad in ("0", "1"):
        code, _, err = run_cli("anomaly", "fit", str(series), "--window", bad, "--out", str(tmp_path / "ad"))
        assert code == 2 and "at least 2 rows" in err and not (tmp_path / "ad").exists()
