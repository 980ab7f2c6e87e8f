"""`ganforge train digits-text / FOLDER --recipe text2image` and `ganforge sample RUN --text ...` end to end."""

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

TINY = ["--set", "train.steps=8", "--set", "model.encoder_steps=4", "--set", "train.batch_size=16",
        "--set", "model.g_width=8", "--set", "model.d_width=8", "--set", "eval.n=40",
        "--set", "eval.enabled=true", "-q"]


def ganforge(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ganforge", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_train_and_sample_with_text(tmp_path) -> None:
    run = tmp_path / "run"
    out = ganforge("train", "digits-text", *TINY, "--out", str(run))
    assert out.returncode == 0, out.stderr
    assert "r_precision" in out.stdout
    for name in ("plots/captions_grid.png", "plots/sentence_interpolation.png"):
        assert (run / name).is_file(), name
    png = tmp_path / "sevens.png"
    out = ganforge("sample", str(run), "--text", "a thick slanted seven", "-n", "16", "-o", str(png))
    assert out.returncode == 0, out.stderr
    assert Image.open(png).size[0] > 16
    out = ganforge("sample", str(run), "--text", "a thick purple seven", "-n", "4", "-o", str(tmp_path / "s.npy"))
    assert out.returncode == 0 and out.stderr.count("'purple'") == 1
    assert np.load(tmp_path / "s.npy").shape == (4, 1, 16, 16)
    out = ganforge("sample", str(run), "--text", " ", "-o", str(tmp_path / "e.png"))
    assert out.returncode == 2 and out.stderr.startswith("error:") and "empty" in out.stderr
    assert "Traceback" not in out.stderr and not (tmp_path / "e.png").exists()


@pytest.mark.slow
def test_users_captioned_folder(tmp_path) -> None:
    folder = tmp_path / "pics"
    folder.mkdir()
    rows = ["file,caption"]
    rng = np.random.default_rng(0)
    for i in range(24):
        colour = ("red", (220, 20, 20)) if i % 2 else ("blue", (20, 20, 220))
        Image.fromarray((rng.random((24, 24, 1)) * 40 + colour[1]).clip(0, 255).astype(np.uint8)).save(
            folder / f"{i}.png")
        rows.append(f"{i}.png,a {colour[0]} picture")
    (tmp_path / "captions.csv").write_text("\n".join(rows) + "\n")
    run = tmp_path / "run"
    captions = f"data.captions={tmp_path / 'captions.csv'}"
    attention = ["--set", "model.word_attention=true"]  # word attention saves, loads and draws the pictures too
    out = ganforge("train", str(folder), "--recipe", "text2image", "--set", captions, "--set", "data.size=16", *TINY,
                   *attention, "--out", str(run))
    assert out.returncode == 0, out.stderr
    assert (run / "plots" / "sentence_interpolation.png").is_file()
    out = ganforge("sample", str(run), "--text", "a red picture", "-n", "4", "-o", str(tmp_path / "r.png"))
    assert out.returncode == 0, out.stderr
    out = ganforge("train", str(folder), "--recipe", "text2image", "--set", "data.captions=nope.csv", *TINY)
    assert out.returncode == 2 and "nope.csv" in out.stderr


def test_text_needs_a_text_to_image_run(tmp_path) -> None:
    run = tmp_path / "ring"
    assert ganforge("train", "ring8", "--set", "train.steps=5", "-q", "--out", str(run)).returncode == 0
    out = ganforge("sample", str(run), "--text", "a red circle", "-o", str(tmp_path / "x.csv"))
    assert out.returncode == 2 and "not a text-to-image run" in out.stderr


def test_a_text_to_image_run_samples_into_a_folder_of_pictures(tmp_path) -> None:
    import ganforge as gf
    from ganforge.cli import main

    tiny = ["train.steps=2", "model.encoder_steps=2", "train.batch_size=8", "model.g_width=4", "model.d_width=4",
            "eval.enabled=false"]
    run = gf.train("digits-text", overrides=tiny, out=tmp_path / "run", show_progress=False)
    main(["sample", str(run.path), "--text", "a thick seven", "-n", "3", "-o", str(tmp_path / "sevens") + "/"])
    written = sorted(p.name for p in (tmp_path / "sevens").iterdir())
    assert written == ["000000.png", "000001.png", "000002.png"]
    with Image.open(tmp_path / "sevens" / "000000.png") as picture:
        assert picture.size == (16, 16)
