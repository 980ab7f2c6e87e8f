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


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """A tiny digits-text run trained in-process (seconds), for the sampling checks below."""
    import ganforge as gf

    tiny = ["train.steps=2", "model.encoder_steps=1", "train.batch_size=8", "model.g_width=4", "model.d_width=4",
            "eval.enabled=false"]
    return gf.train("digits-text", overrides=tiny, out=tmp_path_factory.mktemp("t2i") / "run", show_progress=False)


def test_sampling_options_of_other_families_are_refused(digits_run, tmp_path, run_cli) -> None:
    """`--truncation 0.5 --mix-styles` on a text run exited 0 and drew pictures as if unsaid."""
    png = tmp_path / "t.png"
    code, _, err = run_cli("sample", digits_run.path, "--text", "a thick seven", "--truncation", "0.5",
                           "--mix-styles", "-n", "4", "-o", png)
    assert code == 2 and err.startswith("error: truncation (--truncation): this TextToImageGAN model has no such")
    assert "options: text (--text)" in err and not png.exists()
    code, _, err = run_cli("sample", digits_run.path, "--mix-styles", "-n", "2", "-o", f"{tmp_path / 'm'}/")
    assert code == 2 and "mix_styles (--mix-styles)" in err and not (tmp_path / "m").exists()


def test_sampling_without_text_says_so_and_keeps_the_captions_in_an_npz(digits_run, tmp_path, run_cli) -> None:
    """Without --text the samples were drawn for random training captions, and nothing said which."""
    code, _, err = run_cli("sample", digits_run.path, "-n", "5", "-o", tmp_path / "x.npz")
    assert code == 0, err
    assert err.count("note: no --text") == 1 and "random caption of the training set" in err and '--text "' in err
    with np.load(tmp_path / "x.npz") as archive:
        captions, samples = archive["captions"], archive["samples"]
    assert samples.shape == (5, 1, 16, 16) and captions.shape == (5,) and all(len(c.split()) >= 3 for c in captions)
    code, _, err = run_cli("sample", digits_run.path, "--text", "a thick seven", "-n", "3", "-o", tmp_path / "y.npz")
    assert code == 0 and "note: no --text" not in err
    with np.load(tmp_path / "y.npz") as archive:
        assert list(archive["captions"]) == ["a thick seven"] * 3 and archive["samples"].shape == (3, 1, 16, 16)
    code, _, err = run_cli("sample", digits_run.path, "-n", "4", "-o", tmp_path / "g.png")
    assert code == 0 and err.count("note: no --text") == 1


def test_empty_text_hint_is_a_caption_of_the_run_itself(digits_run, tmp_path, run_cli) -> None:
    """A digits-text run's hint was a shapes caption, "a small red circle at the top left"."""
    code, _, err = run_cli("sample", digits_run.path, "--text", "", "-o", tmp_path / "e.png")
    example = digits_run.gan.example_caption()
    assert code == 2 and "empty" in err and f'e.g. --text "{example}"' in err and "circle" not in err
    assert any(word in example.split() for word in ("thick", "thin", "bold", "light", "heavy", "fine"))


def test_python_text_that_is_not_a_sentence_is_one_line(digits_run) -> None:
    from ganforge.errors import GanforgeError

    with pytest.raises(GanforgeError, match=r"^text=5: give a caption or a list of captions"):
        digits_run.sample(2, text=5)
    with pytest.raises(GanforgeError, match=r"^truncaton \(--truncaton\): this TextToImageGAN model"):
        digits_run.sample(2, text="a thick seven", truncaton=0.5)


def test_a_folder_with_captions_is_told_about_the_text2image_recipe(tmp_path, run_cli) -> None:
    """`ganforge train cap/` trained the unconditional images recipe and ignored its captions.csv without a word;
    `ganforge train text2image` alone said only that the folder 'images' does not exist."""
    folder = tmp_path / "cap"
    folder.mkdir()
    for i in range(4):
        Image.fromarray(np.full((16, 16, 3), 60 * i, dtype=np.uint8)).save(folder / f"{i}.png")
    (folder / "captions.csv").write_text("file,caption\n" + "".join(f"{i}.png,shade {i}\n" for i in range(4)))
    code, _, err = run_cli("train", folder, "--steps", "1", "--no-eval", "-o", tmp_path / "run")
    assert code == 0, err
    assert f"--recipe text2image --set data.captions={folder / 'captions.csv'}" in err
    code, _, err = run_cli("train", "text2image", "--steps", "1", "-o", tmp_path / "t")
    assert code == 2 and "`ganforge train FOLDER --recipe text2image --set data.captions=captions.csv`" in err
