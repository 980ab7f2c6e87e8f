"""`ganforge train PAIRS --recipe pix2pix` and `ganforge translate RUN in.png -o out.png` / folder -> folder,
for Pix2Pix and CycleGAN runs alike; bad pairs are one-line errors with exit code 2."""

import json

import numpy as np
import pytest
from PIL import Image

from ganforge.cli import main

TINY = [
    "--set",
    "data.size=32",
    "--set",
    "model.width=4",
    "--set",
    "model.d_width=4",
    "--set",
    "train.steps=2",
    "--set",
    "train.batch_size=2",
    "--set",
    "eval.n=4",
    "-q",
]


def _pairs_folder(root, names=("p1", "p2", "p3"), b_names=None, b_size=40) -> None:
    rng = np.random.default_rng(0)
    for side, side_names in (("A", names), ("B", b_names or names)):
        (root / side).mkdir(parents=True)
        for name in side_names:
            Image.fromarray((rng.random((40, b_size if side == "B" else 40, 3)) * 255).astype(np.uint8)).save(
                root / side / f"{name}.png"
            )


@pytest.fixture(scope="module")
def pix2pix_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    _pairs_folder(root / "pairs")
    main(["train", str(root / "pairs"), "--recipe", "pix2pix", "--out", str(root / "run"), *TINY])
    return root / "run"


def test_train_on_a_pairs_folder_then_translate_a_file_and_a_folder(pix2pix_run, tmp_path, capsys) -> None:
    assert (pix2pix_run / "plots" / "translation.png").is_file()
    picture = tmp_path / "sketch.jpg"
    Image.fromarray((np.random.default_rng(1).random((50, 60, 3)) * 255).astype(np.uint8)).save(picture)
    main(["translate", str(pix2pix_run), str(picture), "-o", str(tmp_path / "photo.png")])
    with Image.open(tmp_path / "photo.png") as out:
        assert out.size == (32, 32) and out.mode == "RGB"
    (tmp_path / "in").mkdir()
    for name in ("a", "b"):
        Image.open(picture).save(tmp_path / "in" / f"{name}.png")
    main(["translate", str(pix2pix_run), str(tmp_path / "in"), "-o", str(tmp_path / "out")])
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "b.png"]
    assert "wrote 2 pictures" in capsys.readouterr().out


def test_a_folder_without_a_recipe_says_which_to_use(tmp_path, capsys) -> None:
    _pairs_folder(tmp_path / "pairs")
    with pytest.raises(SystemExit) as exc:
        main(["train", str(tmp_path / "pairs")])
    assert exc.value.code == 2 and "--recipe pix2pix" in capsys.readouterr().err


def test_translate_refuses_b2a_for_pix2pix(pix2pix_run, tmp_path, capsys) -> None:
    picture = tmp_path / "x.png"
    Image.fromarray(np.zeros((32, 32, 3), dtype=np.uint8)).save(picture)
    with pytest.raises(SystemExit) as exc:
        main(["translate", str(pix2pix_run), str(picture), "-o", str(tmp_path / "y.png"), "--direction", "b2a"])
    assert exc.value.code == 2 and "A to B only" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ("unmatched", "unmatched names"),
        ("sizes", "must have the same size"),
        ("empty", "holds no pictures"),
    ],
)
def test_bad_pairs_exit_2_with_one_line(tmp_path, capsys, layout: str, message: str) -> None:
    root = tmp_path / "pairs"
    if layout == "unmatched":
        _pairs_folder(root, names=("p1", "p2"), b_names=("p1", "q2"))
    elif layout == "sizes":
        _pairs_folder(root, b_size=48)
    else:
        _pairs_folder(root, names=("p1",), b_names=("p1",))
        for f in (root / "B").iterdir():
            f.unlink()
    with pytest.raises(SystemExit) as exc:
        main(["train", str(root), "--recipe", "pix2pix", "--out", str(tmp_path / "run"), *TINY])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and err.startswith("error: ") and message in err and "\n" not in err
    assert not (tmp_path / "run").exists()


def test_translate_a_single_file_with_a_cyclegan_run(tmp_path) -> None:
    import ganforge as gf

    config = {
        "name": "cyc",
        "data": {"source": "unpaired-digits", "size": 16, "transform": "invert"},
        "model": {"type": "cyclegan", "width": 4, "num_blocks": 1, "d_width": 4, "d_layers": 2},
        "train": {"steps": 1, "batch_size": 4, "log_every": 1},
        "eval": {"n": 8},
        "monitors": {"duplicates": False, "diversity": False},
    }
    run = gf.train(config, out=tmp_path / "cyc", show_progress=False)
    Image.fromarray(np.zeros((20, 20), dtype=np.uint8)).save(tmp_path / "digit.png")
    main(
        [
            "translate",
            str(run.path),
            str(tmp_path / "digit.png"),
            "-o",
            str(tmp_path / "inverted"),
            "--direction",
            "b2a",
        ]
    )
    with Image.open(tmp_path / "inverted" / "digit.png") as out:  # -o without a suffix names a folder
        assert out.size == (16, 16) and out.mode == "L"


def test_a_size_the_unet_cannot_take_names_the_option(pix2pix_run, tmp_path, capsys) -> None:
    picture = tmp_path / "x.png"
    Image.fromarray(np.zeros((32, 32, 3), dtype=np.uint8)).save(picture)
    with pytest.raises(SystemExit) as exc:
        main(["translate", str(pix2pix_run), str(picture), "--size", "48", "-o", str(tmp_path / "y.png")])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and err.startswith("error: --size 48: must be a multiple of 32 for this run")
    assert "UNetGenerator" not in err and not (tmp_path / "y.png").exists()


def test_training_on_pairs_says_how_the_pictures_were_cropped_and_resized(tmp_path, capsys) -> None:
    """The `images` source printed what it did to a folder of pictures; pairs said nothing (48x40 pictures were
    enlarged six-fold, 70x50 ones lost 20 columns, silently)."""
    _pairs_folder(tmp_path / "pairs")
    loud = [arg for arg in TINY if arg != "-q"]
    main(["train", str(tmp_path / "pairs"), "--recipe", "pix2pix", "--out", str(tmp_path / "run"), *loud, "--no-eval"])
    assert "pairs: 3 pairs (A/B folders) stored at 40x40 -> " in capsys.readouterr().err


CYCLE_TINY = [*TINY, "--set", "model.num_blocks=1", "--set", "model.d_layers=2"]


def _domains_folder(root) -> None:
    """root/A: 3 RGB 40x48 pictures; root/B: 2 of other names, 36x36: unpaired, counts and sizes differ."""
    rng = np.random.default_rng(2)
    for side, names, shape in (("A", ("a1", "a2", "a3"), (40, 48, 3)), ("B", ("z1", "z2"), (36, 36, 3))):
        (root / side).mkdir(parents=True)
        for name in names:
            Image.fromarray((rng.random(shape) * 255).astype(np.uint8)).save(root / side / f"{name}.png")


def test_train_the_cyclegan_recipe_on_two_unpaired_folders_then_translate(tmp_path, capsys) -> None:
    """CycleGAN on a user's own two folders was undocumented: `ganforge train domains/ --recipe cyclegan`
    named no recipe, and the built-in one's refusal pointed to timeseries-gru, points or pix2pix."""
    from ganforge.recipes import load_recipe, recipe_with_data_file

    recipe = load_recipe("cyclegan")
    assert recipe["data"]["source"] == "unpaired-folders" and recipe["model"]["type"] == "cyclegan"
    assert (recipe["data"]["size"], recipe["data"]["jitter"], recipe["data"]["flip"]) == (256, True, True)
    _domains_folder(tmp_path / "domains")
    assert recipe_with_data_file("cyclegan", tmp_path / "domains")["data"]["path"] == str(tmp_path / "domains")
    main(["train", str(tmp_path / "domains"), "--recipe", "cyclegan", "--out", str(tmp_path / "run"), *CYCLE_TINY])
    capsys.readouterr()
    main(["translate", str(tmp_path / "run"), str(tmp_path / "domains" / "A"), "-o", str(tmp_path / "b")])
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["a1.png", "a2.png", "a3.png"]
    main(["translate", str(tmp_path / "run"), str(tmp_path / "domains" / "B" / "z1.png"), "-o",
          str(tmp_path / "z1_as_a.png"), "--direction", "b2a"])
    with Image.open(tmp_path / "z1_as_a.png") as out:
        assert out.size == (32, 32) and out.mode == "RGB"
    # the two folders named apart, as before
    main(["train", "cyclegan", "--set", f"data.path_a={tmp_path / 'domains' / 'A'}", "--set",
          f"data.path_b={tmp_path / 'domains' / 'B'}", "--out", str(tmp_path / "run2"), *CYCLE_TINY])
    assert (tmp_path / "run2" / "summary.json").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{d}/A", "--recipe", "digits-cyclegan"], "or cyclegan for a folder holding A/ and B/ of unpaired pictures"),
        (["{d}"], "or `--recipe cyclegan` for unpaired pictures"),
        (["{d}/A", "--recipe", "cyclegan"], "has no A/ sub-folder; put domain A's pictures in"),
        (["digits-cyclegan", "--set", "data.source=unpaired-folders", "--set", "data.path_a={d}/A"],
         "data.path_b: not set, but data.path_a is; give the folder of domain B's pictures with --set data.path_b="),
    ],
)
def test_obvious_tries_at_two_folders_get_advice_that_works(tmp_path, capsys, args, message) -> None:
    _domains_folder(tmp_path / "domains")
    with pytest.raises(SystemExit) as exc:
        main(["train", *(a.format(d=tmp_path / "domains") for a in args), "--out", str(tmp_path / "run"), "-q"])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and message in err and "\n" not in err and "ArgsKwargs" not in err
    assert not (tmp_path / "run").exists()


def test_a_pairs_folder_with_val_and_test_keeps_a_best_checkpoint_chosen_on_val(tmp_path, capsys) -> None:
    """train/ + val/ + test/: the evaluations during training read val/, `eval --best` reports on test/."""
    for split in ("train", "val", "test"):
        _pairs_folder(tmp_path / "pairs" / split)
    main(["train", str(tmp_path / "pairs"), "--recipe", "pix2pix", "--out", str(tmp_path / "run"), *TINY,
          "--set", "eval.every=1", "--set", "eval.best=min:l1", "--set", "train.log_every=1"])
    best = json.loads((tmp_path / "run" / "summary.json").read_text())["best"]
    assert best["evaluation_reference"].startswith("pairs val split (val/)")
    capsys.readouterr()
    main(["eval", str(tmp_path / "run"), "--best", "--json"])
    assert json.loads(capsys.readouterr().out)["reference"].startswith("pairs test split (test/)")
    (tmp_path / "pairs" / "val").rename(tmp_path / "val")  # test/ alone: nothing apart from it to choose on
    with pytest.raises(SystemExit) as exc:
        main(["train", str(tmp_path / "pairs"), "--recipe", "pix2pix", "--out", str(tmp_path / "run2"), *TINY,
              "--set", "eval.every=1", "--set", "eval.best=min:l1"])
    assert exc.value.code == 2 and "give the pairs folder a val/ beside train/ and test/" in capsys.readouterr().err
