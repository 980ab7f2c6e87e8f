"""A user's own data as a new user brings it (issue 16): folders of pictures, .npz image stacks, data
sources switched with --set, --set key=null, and run folders used from another directory."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from typer.testing import CliRunner

from ganforge.api import build_config
from ganforge.cli import app
from ganforge.recipes import is_data_file, recipe_with_data_file, resolve_recipe


def _pictures(folder: Path, n: int = 12) -> Path:
    folder.mkdir()
    rs = np.random.RandomState(0)
    for i in range(n):
        img = np.zeros((20, 20, 3), np.uint8)
        x, y = rs.randint(2, 12, size=2)
        img[y : y + 6, x : x + 6] = (255, 40 * (i % 5), 0)
        Image.fromarray(img).save(folder / f"shape{i}.{'png' if i % 2 else 'jpg'}")
    return folder


def test_a_folder_of_pictures_trains_the_image_default(tmp_path: Path) -> None:
    folder = _pictures(tmp_path / "my_images")
    raw = resolve_recipe(str(folder))
    assert raw["data"]["source"] == "image-folder" and raw["data"]["path"] == str(folder.resolve())
    assert raw["model"]["generator"]["type"] == "dcgan" and raw["name"] == "my_images"
    result = CliRunner().invoke(
        app, ["train", str(folder), "--set", "train.steps=2", "--no-eval", "-q", "-o", str(tmp_path / "run")]
    )
    assert result.exit_code == 0, result.output
    config = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert config["data"]["source"] == "image-folder" and config["eval"]["enabled"] is False


@pytest.mark.parametrize("shape", [(10, 12, 12), (10, 12, 12, 3)])
def test_an_npz_of_images_trains_the_image_default(tmp_path: Path, shape: tuple[int, ...]) -> None:
    file = tmp_path / "images.npz"
    np.savez(file, pics=(np.random.RandomState(0).rand(*shape) * 255).astype(np.uint8))
    assert not is_data_file(file)
    config = build_config(str(file), ["train.steps=1"])
    assert config.data["source"] == "images-npz" and config.data["images_key"] == "pics"
    table = tmp_path / "table.npz"
    np.savez(table, x=np.zeros((10, 2)))
    assert is_data_file(table) and build_config(str(table)).data["source"] == "file"


def test_an_npz_of_images_with_labels_under_another_name_keeps_them(tmp_path: Path) -> None:
    """x / y, as scikit-learn users save them: the stack is found by shape and y by being one integer per image."""
    file = tmp_path / "xy.npz"
    np.savez(file, x=np.zeros((6, 8, 8), np.float32), y=np.arange(6) % 2, weights=np.ones(6))
    config = build_config(str(file), ["train.steps=1"])
    assert config.data["images_key"] == "x" and config.data["labels_key"] == "y"
    np.savez(file, images=np.zeros((6, 8, 8), np.float32), labels=np.arange(6) % 2)
    assert "labels_key" not in build_config(str(file)).data  # the loader's own default


def test_a_sequence_runs_sample_archive_trains_as_sequences(tmp_path: Path, run_cli) -> None:
    """`ganforge sample SEQ_RUN -o w.npz` stores windows (N, T, F) as ``samples``: training on that file trains a
    recurrent GAN on the windows, not (N, H, W) pictures; another 3-D array still reads as pictures."""
    windows = np.sin(np.linspace(0, 6, 24))[None, :, None] * np.ones((40, 1, 3), np.float32)
    file = tmp_path / "windows.npz"
    np.savez(file, samples=windows.astype(np.float32), labels=np.arange(40) % 2)
    config = build_config(str(file), ["train.steps=2"])
    assert config.data["source"] == "sequences-npy" and config.data["key"] == "samples"
    assert config.model["type"] == "rcgan"
    named = build_config(recipe_with_data_file("timeseries-gru", file))  # --recipe timeseries-gru: not read as CSV
    assert named.data["source"] == "sequences-npy" and named.data["key"] == "samples"
    np.savez(file, x=windows.astype(np.float32))
    assert build_config(str(file)).data["source"] == "images-npz"
    array = tmp_path / "windows.npy"
    np.save(array, windows)
    code, _, err = run_cli("train", array, "--set", "train.steps=2")
    assert code == 2 and "np.savez(FILE, samples=x)" in err and len(err.strip().splitlines()) == 1


def test_switching_the_data_source_drops_the_old_sources_keys() -> None:
    config = build_config("digits-cyclegan", ["data.source=digits"])
    assert config.data == {"source": "digits", "size": 16}  # 'transform' belonged to unpaired-digits
    config = build_config("digits-cgan", ["data.source=uniform", "data.high=2"])
    assert config.data == {"source": "uniform", "high": 2}


def test_set_null_removes_a_key() -> None:
    assert "ema" in build_config("digits-dcgan").train.model_fields_set
    assert build_config("digits-dcgan", ["train.ema=null"]).train.ema is None
    config = build_config("digits-cyclegan", ["data.transform=null"])
    assert "transform" not in config.data


def test_resume_and_eval_from_another_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work, elsewhere = tmp_path / "work", tmp_path / "elsewhere"
    (work / "data").mkdir(parents=True)
    elsewhere.mkdir()
    np.savetxt(work / "data" / "spiral.csv", np.random.RandomState(0).randn(300, 2), delimiter=",")
    monkeypatch.chdir(work)
    runner = CliRunner()
    result = runner.invoke(app, ["train", "data/spiral.csv", "--set", "train.steps=20", "-q", "-o", "runs/x"])
    assert result.exit_code == 0, result.output
    config = yaml.safe_load((work / "runs" / "x" / "config.yaml").read_text())
    assert config["data"]["path"] == str((work / "data" / "spiral.csv").resolve())
    monkeypatch.chdir(elsewhere)
    run = os.path.relpath(work / "runs" / "x")
    assert runner.invoke(app, ["eval", run, "--json", "-n", "200"]).exit_code == 0
    result = runner.invoke(app, ["resume", run, "--steps", "30", "-q", "--no-eval"])
    assert result.exit_code == 0, result.output


def test_a_folder_of_pictures_says_what_was_done_to_them(tmp_path: Path, run_cli) -> None:
    from PIL import Image

    folder = tmp_path / "pics"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i, side in enumerate((16, 40, 64)):
        shape = (side, side, 3) if i else (side, side)  # one gray picture among RGB ones
        Image.fromarray((rng.random(shape) * 255).astype(np.uint8)).save(folder / f"p{i}.png")
    code, _, err = run_cli("train", folder, "--set", "train.steps=1", "--no-eval", "--out", tmp_path / "r")
    assert code == 0, err
    assert "images: 3 pictures stored at 16x16 to 64x64 -> 32x32 RGB (1 converted to RGB); 1 steps" in err


def test_a_missing_path_with_a_recipe_says_it_does_not_exist(tmp_path: Path, run_cli) -> None:
    """`ganforge train bad/nonexist --recipe pix2pix` said --recipe goes with a data file, not that the path is
    missing."""
    code, _, err = run_cli("train", str(tmp_path / "nonexist"), "--recipe", "pix2pix")
    assert code == 2 and "does not exist" in err and "goes with a data file" not in err
    assert len(err.strip().splitlines()) == 1
    code, _, err = run_cli("train", "ring8", "--recipe", "ring9")  # the unknown recipe, not 'ring8', is named
    assert code == 2 and "ring9" in err and "does not exist" not in err


def test_pictures_that_look_like_aligned_pairs_get_a_note_naming_pix2pix(tmp_path: Path) -> None:
    """An .npz of two picture arrays of one count, or side-by-side AB pictures, trained silently as one set of
    pictures (the first array; centre crops straddling A and B)."""
    from ganforge.recipes import pairs_hint

    np.savez(tmp_path / "pairs.npz", edges=np.zeros((10, 32, 32), np.uint8), photos=np.zeros((10, 32, 32, 3), np.uint8))
    note = pairs_hint(tmp_path / "pairs.npz", [])
    assert "two picture arrays of 10 (edges, photos)" in note and "--recipe pix2pix" in note
    np.savez(tmp_path / "one.npz", images=np.zeros((10, 32, 32), np.uint8), labels=np.arange(10))
    np.savez(tmp_path / "uneven.npz", a=np.zeros((10, 32, 32), np.uint8), b=np.zeros((9, 32, 32), np.uint8))
    assert pairs_hint(tmp_path / "one.npz", []) == pairs_hint(tmp_path / "uneven.npz", []) == ""
    assert "side-by-side AB" in pairs_hint(tmp_path, ["64x32", "128x64"])
    assert pairs_hint(tmp_path, ["64x32", "64x64"]) == ""


def test_a_run_whose_training_data_moved_says_which_recorded_path_is_gone(tmp_path: Path, run_cli) -> None:
    """eval and resume after the data was moved said only "'...' does not exist; give a folder ...", not that it
    is the path the run recorded, nor where that record is."""
    data = tmp_path / "spiral.csv"
    np.savetxt(data, np.random.RandomState(0).randn(300, 2), delimiter=",")
    code, _, err = run_cli("train", str(data), "--set", "train.steps=5", "-q", "--no-eval", "-o", str(tmp_path / "r"))
    assert code == 0, err
    data.rename(tmp_path / "moved.csv")
    for args in (("eval", str(tmp_path / "r")), ("resume", str(tmp_path / "r"), "--steps", "10", "-q")):
        code, _, err = run_cli(*args)
        assert code == 2 and f"its training data '{data}' is gone (data.path in " in err, err
        assert "config.yaml" in err and len([line for line in err.splitlines() if line.startswith("error:")]) == 1
        assert "Traceback" not in err


def test_a_numeric_csv_of_several_columns_is_told_about_the_table_recipe(tmp_path: Path) -> None:
    """All-number CSVs read as points (the fitted MLP GAN): iris came back with 7 significant figures and values
    below a column's minimum, and nothing said that --recipe table keeps ranges and decimals."""
    from ganforge.api import fitted_file_recipe

    rng = np.random.default_rng(0)
    np.savetxt(tmp_path / "wide.csv", rng.normal(size=(200, 4)).round(1), delimiter=",", header="a,b,c,d", comments="")
    np.savetxt(tmp_path / "xy.csv", rng.normal(size=(200, 2)), delimiter=",", header="x,y", comments="")
    assert "--recipe table keeps each column's range" in fitted_file_recipe(tmp_path / "wide.csv", [])[1]
    assert "--recipe table" not in fitted_file_recipe(tmp_path / "xy.csv", [])[1]
