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
    assert "threshold" in out and "on 135 rows of 3 columns (table)" in out  # 15 held out; not "(3,)"
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
    folder = image_detector(tmp_path, run_cli, steps=30)
    code, _, err = run_cli("anomaly", "score", str(tmp_path / "ad"), str(folder), "-o", str(tmp_path / "s.csv"),
                      "--maps", str(tmp_path / "maps"))
    assert code == 0, err
    maps = sorted((tmp_path / "maps").glob("*.png"))
    assert len(maps) == 30 and np.asarray(Image.open(maps[0])).shape == (6, 6)
    assert (tmp_path / "s.csv").read_text().splitlines()[1].startswith("s00.png,")


def test_series_windows(tmp_path: Path, run_cli) -> None:
    series = write_csv(tmp_path / "series.csv", np.sin(np.arange(300) / 4)[:, None], "value")
    code, out, err = run_cli("anomaly", "fit", str(series), "--window", "16", "--stride", "4", "--out",
                             str(tmp_path / "ad"), "--steps", "20")
    assert code == 0, err
    assert "windows of 16 steps x 1 feature (sequence)" in out
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


def image_detector(tmp_path: Path, run_cli, steps: int = 10) -> Path:
    """30 small gray pictures in tmp_path/scans and a detector fitted on them in tmp_path/ad."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "scans"
    folder.mkdir()
    for i in range(30):
        Image.fromarray((rng.uniform(0.4, 0.6, size=(6, 6)) * 255).astype(np.uint8)).save(folder / f"s{i:02d}.png")
    code, _, err = run_cli("anomaly", "fit", str(folder), "--out", str(tmp_path / "ad"), "--steps", str(steps))
    assert code == 0, err
    return folder


def test_maps_never_replace_the_scored_pictures_or_any_existing_file(tmp_path: Path, run_cli) -> None:
    folder = image_detector(tmp_path, run_cli)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    scores = tmp_path / "s.csv"
    code, _, err = run_cli("anomaly", "score", str(tmp_path / "ad"), str(folder), "-o", str(scores), "--maps",
                           str(folder))
    assert code == 2 and "never overwritten" in err and err.count("\n") == 1, err
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before and not scores.exists()
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "s03.png").write_bytes(b"an earlier map")
    code, _, err = run_cli("anomaly", "score", str(tmp_path / "ad"), str(folder), "-o", str(scores), "--maps",
                           str(maps))
    assert code == 2 and f"{maps / 's03.png'} already exists" in err and err.count("\n") == 1, err
    assert (maps / "s03.png").read_bytes() == b"an earlier map" and not scores.exists()
    (maps / "s03.png").unlink()
    (maps / "notes.txt").write_text("the user's\n")  # other files in the folder are fine and kept
    code, _, err = run_cli("anomaly", "score", str(tmp_path / "ad"), str(folder), "-o", str(scores), "--maps",
                           str(maps))
    assert code == 0, err
    assert len(list(maps.glob("*.png"))) == 30 and (maps / "notes.txt").read_text() == "the user's\n"


def test_a_single_picture_is_scored(tmp_path: Path, run_cli) -> None:
    folder = image_detector(tmp_path, run_cli)
    code, _, err = run_cli("anomaly", "score", str(tmp_path / "ad"), str(folder / "s05.png"), "-o",
                           str(tmp_path / "s.csv"), "--maps", str(tmp_path / "maps"))
    assert code == 0, err
    lines = (tmp_path / "s.csv").read_text().splitlines()
    assert len(lines) == 2 and lines[1].startswith("s05.png,") and (tmp_path / "maps" / "s05.png").exists()


def dated_series(tmp_path: Path, rows: int = 120) -> Path:
    t = np.arange(rows)
    lines = ["date,temp,sales"] + [f"2020-01-{1 + i // 24:02d} {i % 24:02d}:00,{np.sin(i / 4):.5f},{np.cos(i / 6):.5f}"
                                   for i in t]
    path = tmp_path / "series.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_columns_choose_csv_columns_and_score_reads_the_same(tmp_path: Path, run_cli) -> None:
    series = dated_series(tmp_path)
    code, _, err = run_cli("anomaly", "fit", str(series), "--window", "8", "--out", str(tmp_path / "x"), "--steps", "5")
    assert code == 2 and "--columns temp,sales" in err and not (tmp_path / "x").exists()
    code, out, err = run_cli("anomaly", "fit", str(series), "--window", "8", "--columns", "temp,sales", "--out",
                             str(tmp_path / "ad"), "--steps", "10")
    assert code == 0 and "columns temp, sales" in out, err
    code, _, err = run_cli("anomaly", "score", str(tmp_path / "ad"), str(series), "-o", str(tmp_path / "s.csv"))
    assert code == 0, err
    assert len((tmp_path / "s.csv").read_text().splitlines()) == 1 + 120 - 8 + 1
    bare = tmp_path / "bare.csv"  # no header row: the fitted columns are taken by place (1 and 2)
    np.savetxt(bare, np.c_[np.arange(40), np.sin(np.arange(40) / 4), np.cos(np.arange(40) / 6)], delimiter=",")
    code, _, err = run_cli("anomaly", "score", str(tmp_path / "ad"), str(bare), "-o", str(tmp_path / "s.csv"))
    assert code == 0, err
    assert len((tmp_path / "s.csv").read_text().splitlines()) == 1 + 40 - 8 + 1
    code, out, err = run_cli("anomaly", "fit", str(series), "--window", "8", "--columns", "1-2", "--out",
                             str(tmp_path / "ad2"), "--steps", "10")  # indices and a range name the same columns
    assert code == 0 and "columns temp, sales" in out, err
    for spec, message in (("temp,tmp", "no column named 'tmp' (did you mean 'temp'?)"),
                          ("3", "give indices from 0 to 2"), ("temp,1", "given twice")):
        code, _, err = run_cli("anomaly", "fit", str(series), "--window", "8", "--columns", spec, "--out",
                               str(tmp_path / "x"), "--steps", "5")
        assert code == 2 and message in err and err.count("\n") == 1, err


def test_a_saved_pandas_index_column_is_pointed_out(tmp_path: Path, run_cli) -> None:
    rng = np.random.default_rng(0)
    rows = [",a,b"] + [f"{i},{x:.4f},{y:.4f}" for i, (x, y) in enumerate(rng.normal(size=(60, 2)))]
    (tmp_path / "idx.csv").write_text("\n".join(rows) + "\n")
    code, out, err = run_cli("anomaly", "fit", str(tmp_path / "idx.csv"), "--out", str(tmp_path / "ad"), "--steps", "5")
    assert code == 0, err
    assert "columns (unnamed), a, b" in out and "pandas index" in out and "--columns 1-2" in out


def test_error_lines_name_the_right_file_flag_and_fix(tmp_path: Path, run_cli) -> None:
    rng = np.random.default_rng(0)
    normal = write_csv(tmp_path / "normal.csv", rng.normal(size=(60, 2)), "a,b")
    series = write_csv(tmp_path / "series.csv", rng.normal(size=(60, 2)), "a,b")
    short = write_csv(tmp_path / "short.csv", rng.normal(size=(10, 2)), "a,b")
    one = write_csv(tmp_path / "one.csv", rng.normal(size=(1, 2)), "a,b")
    code, _, err = run_cli("anomaly", "fit", str(series), "--window", "24", "--out", str(tmp_path / "ser"), "--steps",
                           "5")
    assert code == 0, err
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "detector.json").write_text((tmp_path / "ser" / "detector.json").read_text())
    s = str(tmp_path / "s.csv")
    cases = [
        (["score", str(tmp_path / "ser"), str(short), "-o", s], "10 rows, fewer than one window of 24",
         "give at least 24 rows"),
        (["score", str(tmp_path / "ser" / "detector.json"), str(series), "-o", s], "is a file", str(tmp_path / "ser")),
        (["score", str(broken), str(series), "-o", s], "detector.safetensors is missing", "fit again"),
        (["fit", str(normal), "--out", str(normal)], "is a file", "give a new folder"),
        (["fit", str(normal), "--out", str(tmp_path / "x"), "--false-alarm-rate", "1.5"], "--false-alarm-rate 1.5",
         "(0, 1)"),
        (["fit", str(one), "--out", str(tmp_path / "x")], f"{one}: 1 sample is too few", "at least 10"),
    ]
    for args, what, fix in cases:
        code, _, err = run_cli("anomaly", *args)
        assert code == 2 and what in err and fix in err and err.count("\n") == 1, (args, err)
        assert "shorter --window" not in err or "refit" in err
        assert "false_alarm_rate" not in err and "not an empty folder" not in err and "samples are" not in err
    assert not (tmp_path / "s.csv").exists() and not (tmp_path / "x").exists()


def test_options_the_data_does_not_use_are_refused(tmp_path: Path, run_cli) -> None:
    folder = image_detector(tmp_path, run_cli)
    rng = np.random.default_rng(0)
    rows = write_csv(tmp_path / "rows.csv", rng.normal(size=(60, 2)), "a,b")
    assert run_cli("anomaly", "fit", str(rows), "--window", "8", "--out", str(tmp_path / "ser"), "--steps", "5")[0] == 0
    s = str(tmp_path / "s.csv")
    cases = [
        (["score", str(tmp_path / "ad"), str(folder), "-o", s, "--residuals"], "--residuals", "--maps"),
        (["score", str(tmp_path / "ser"), str(rows), "-o", s, "--residuals"], "--residuals", "sequence"),
        (["fit", str(folder), "--window", "5", "--out", str(tmp_path / "x")], "--window 5", "drop --window"),
        (["fit", str(rows), "--stride", "5", "--out", str(tmp_path / "x")], "--stride 5", "--window"),
        (["fit", str(rows), "--size", "16", "--out", str(tmp_path / "x")], "--size 16", "drop --size"),
        (["fit", str(folder), "--columns", "a", "--out", str(tmp_path / "x")], "--columns", "drop --columns"),
    ]
    for args, what, fix in cases:
        code, _, err = run_cli("anomaly", *args)
        assert code == 2 and what in err and fix in err and err.count("\n") == 1, (args, err)
    assert not (tmp_path / "s.csv").exists() and not (tmp_path / "x").exists()
