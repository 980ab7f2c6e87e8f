"""``ganforge augment``: an .npz of a few labelled images -> real + synthetic; a CSV's minority class balanced;
one-line errors (exit 2) for unlabelled data, a missing label column and a run that is not conditional."""

from pathlib import Path

import numpy as np


def test_npz_images(tmp_path: Path, run_cli) -> None:
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "small.npz", images=rng.uniform(size=(12, 8, 8)).astype(np.float32),
             labels=np.repeat([0, 1, 2], 4))
    code, _, err = run_cli("augment", str(tmp_path / "small.npz"), "--per-class", "5", "--steps", "20", "-o",
                   str(tmp_path / "aug.npz"))
    assert code == 0, err
    with np.load(tmp_path / "aug.npz") as out:
        assert out["images"].shape == (27, 8, 8) and out["images"].dtype == np.float32  # the archive's layout
        assert out["labels"].tolist()[12:] == [0] * 5 + [1] * 5 + [2] * 5
        assert out["synthetic"].sum() == 15


def test_npz_with_other_array_names_is_read_by_shape(tmp_path: Path, run_cli) -> None:
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "xy.npz", X=rng.uniform(size=(8, 8, 8)).astype(np.float32), y=np.repeat([3, 7], 4))
    code, _, err = run_cli("augment", str(tmp_path / "xy.npz"), "--per-class", "2", "--steps", "5", "-o",
                           str(tmp_path / "aug.npz"))
    assert code == 0, err
    with np.load(tmp_path / "aug.npz") as out:
        assert out["images"].shape == (12, 8, 8) and out["labels"].tolist()[8:] == [3, 3, 7, 7]


def test_arch_and_expand_reach_the_gan(tmp_path: Path, run_cli) -> None:
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "small.npz", images=rng.uniform(size=(6, 12, 12)).astype(np.float32), labels=np.arange(6) % 2)
    code, _, err = run_cli("augment", str(tmp_path / "small.npz"), "--arch", "conv", "-o", str(tmp_path / "a.npz"))
    assert code == 2 and "side 8, 16, 32" in err  # 12 x 12 is not a conv side: the choice reached the GAN
    code, _, err = run_cli("augment", str(tmp_path / "small.npz"), "--expand", "shifts", "--steps", "5",
                           "-o", str(tmp_path / "b.npz"))
    assert code == 0, err
    code, _, err = run_cli("augment", str(tmp_path / "small.npz"), "--expand", "flips", "-o", str(tmp_path / "c.npz"))
    assert code == 2 and "not one of auto, shifts, none" in err and not (tmp_path / "c.npz").exists()


def test_csv_balance(tmp_path: Path, run_cli) -> None:
    rng = np.random.default_rng(0)
    rows = np.r_[np.c_[rng.normal(size=(40, 2)), np.zeros(40)], np.c_[rng.normal(size=(8, 2)), np.ones(8)]]
    np.savetxt(tmp_path / "t.csv", rows[:, [0, 2, 1]], delimiter=",", header="x,label,y", comments="")
    code, _, err = run_cli("augment", str(tmp_path / "t.csv"), "--label-column", "label", "--balance", "--steps", "20",
                   "-o", str(tmp_path / "b.csv"))
    assert code == 0, err
    lines = (tmp_path / "b.csv").read_text().splitlines()
    assert lines[0] == "x,label,y" and len(lines) == 1 + 80
    assert sum(float(line.split(",")[1]) == 1 for line in lines[1:]) == 40


def test_bad_input(tmp_path: Path, run_cli) -> None:
    np.savez(tmp_path / "unlabelled.npz", images=np.zeros((4, 8, 8), np.float32))
    np.savetxt(tmp_path / "t.csv", np.zeros((4, 2)), delimiter=",", header="a,b", comments="")
    cases = [
        (["augment", str(tmp_path / "unlabelled.npz"), "-o", str(tmp_path / "o.npz")], "no labels"),
        (["augment", str(tmp_path / "t.csv"), "-o", str(tmp_path / "o.csv")], "--label-column"),
        (["augment", str(tmp_path / "t.csv"), "--label-column", "c", "-o", str(tmp_path / "o.csv")], "no column"),
        (["augment", str(tmp_path / "missing.npz"), "-o", str(tmp_path / "o.npz")], "missing.npz"),
    ]
    for args, message in cases:
        code, _, err = run_cli(*args)
        assert code == 2, (args, err)
        assert err.startswith("error: ") and message in err and err.count("\n") == 1, err


def test_uint8_archives_come_back_as_uint8_with_the_real_images_unchanged(tmp_path: Path, run_cli) -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(6, 8, 8), dtype=np.uint8)
    np.savez(tmp_path / "u8.npz", images=images, labels=np.arange(6) % 2)
    code, _, err = run_cli("augment", str(tmp_path / "u8.npz"), "--per-class", "2", "--steps", "5", "-o",
                           str(tmp_path / "aug.npz"))
    assert code == 0, err
    with np.load(tmp_path / "aug.npz") as out:
        assert out["images"].dtype == np.uint8 and out["images"].shape == (10, 8, 8)
        assert np.array_equal(out["images"][:6], images)


def test_csv_with_named_classes_and_integer_columns(tmp_path: Path, run_cli) -> None:
    rng = np.random.default_rng(0)
    lines = ["age,kind,score"] + [f"{rng.integers(20, 60)},{'cat' if i < 30 else 'dog'},{rng.normal():.4f}"
                                   for i in range(36)]
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    code, _, err = run_cli("augment", str(tmp_path / "t.csv"), "--label-column", "kind", "--balance", "--steps", "20",
                           "-o", str(tmp_path / "b.csv"))
    assert code == 0, err
    out = (tmp_path / "b.csv").read_text().splitlines()
    def values(rows: list[str]) -> list[tuple[int, str, float]]:
        return [(int(a), k, float(v)) for a, k, v in (row.split(",") for row in rows)]

    assert out[0] == "age,kind,score" and values(out[1:37]) == values(lines[1:])  # the real rows' values, exactly
    synthetic = [row.split(",") for row in out[37:]]
    assert len(synthetic) == 24 and {r[1] for r in synthetic} == {"dog"}
    assert all(r[0].isdigit() and 20 <= int(r[0]) <= 59 for r in synthetic)  # integers within the observed range


def test_text_features_and_writing_over_the_input_are_refused(tmp_path: Path, run_cli) -> None:
    (tmp_path / "t.csv").write_text("colour,label,x\n" + "".join(f"red,{i % 2},{i}.5\n" for i in range(10)))
    code, _, err = run_cli("augment", str(tmp_path / "t.csv"), "--label-column", "label", "-o", str(tmp_path / "o.csv"))
    assert code == 2 and "column 'colour' is not numeric" in err
    before = (tmp_path / "t.csv").read_bytes()
    code, _, err = run_cli("augment", str(tmp_path / "t.csv"), "--label-column", "label", "-o", str(tmp_path / "t.csv"))
    assert code == 2 and "is the input file" in err and (tmp_path / "t.csv").read_bytes() == before


# First-time-user audit: named labels, a folder's class names and size, error wording, options that would be
# ignored or add nothing, progress, a one-sample class, CSV decimals.


def test_npz_labels_may_be_class_names_or_whole_number_floats(tmp_path: Path, run_cli) -> None:
    """gf.augment(x, names) works, so the CLI reads an archive's names too and writes them back as given."""
    images = np.random.default_rng(0).integers(0, 256, size=(6, 8, 8), dtype=np.uint8)
    np.savez(tmp_path / "names.npz", images=images, labels=np.array(["zero", "one", "two"])[np.arange(6) % 3])
    code, _, err = run_cli("augment", tmp_path / "names.npz", "--per-class", "2", "--steps", "3", "-q",
                           "-o", tmp_path / "a.npz")
    assert code == 0, err
    with np.load(tmp_path / "a.npz") as out:
        assert out["labels"].tolist() == ["zero", "one", "two"] * 2 + ["one"] * 2 + ["two"] * 2 + ["zero"] * 2
        assert out["images"].dtype == np.uint8 and np.array_equal(out["images"][:6], images)
    code, _, err = run_cli("augment", tmp_path / "names.npz", "--per-class", "1", "--steps", "3", "-q", "--size", "16",
                           "-o", tmp_path / "b.npz")
    assert code == 0, err
    with np.load(tmp_path / "b.npz") as out:
        assert out["images"].shape == (9, 1, 16, 16) and out["labels"].dtype.kind == "U"
    np.savez(tmp_path / "floats.npz", images=images, labels=(np.arange(6) % 2).astype(np.float64))
    code, _, err = run_cli("augment", tmp_path / "floats.npz", "--per-class", "1", "--steps", "3", "-q",
                           "-o", tmp_path / "c.npz")
    assert code == 0, err
    with np.load(tmp_path / "c.npz") as out:
        assert out["labels"].tolist() == [0, 1, 0, 1, 0, 1, 0, 1]
    np.savez(tmp_path / "halves.npz", images=images, labels=np.arange(6) / 2)
    code, _, err = run_cli("augment", tmp_path / "halves.npz", "--steps", "3", "-o", tmp_path / "d.npz")
    assert code == 2 and "integer class ids or names" in err and err.count("\n") == 1
    assert not (tmp_path / "d.npz").exists()


def _folder(root: Path, side: int) -> Path:
    from PIL import Image

    rng = np.random.default_rng(0)
    for name in ("zebra", "apple"):
        (root / name).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(rng.integers(0, 256, (side, side), dtype=np.uint8)).save(root / name / f"{i}.png")
    return root


def test_an_image_folder_keeps_its_side_and_writes_its_class_names(tmp_path: Path, run_cli) -> None:
    """8x8 pictures were read as 32x32 without a word and the class names were lost."""
    code, _, err = run_cli("augment", _folder(tmp_path / "eights", 8), "--per-class", "2", "--steps", "3", "-q",
                           "-o", tmp_path / "a.npz")
    assert code == 0, err
    assert "resized" not in err
    with np.load(tmp_path / "a.npz") as out:
        assert out["images"].shape == (10, 1, 8, 8)
        assert out["class_names"].tolist() == ["apple", "zebra"]  # sorted sub-folders: label k is class_names[k]
        assert out["labels"].tolist() == [0, 0, 0, 1, 1, 1, 0, 0, 1, 1]
    code, _, err = run_cli("augment", _folder(tmp_path / "tens", 10), "--per-class", "1", "--steps", "3", "-q",
                           "-o", tmp_path / "b.npz")
    assert code == 0, err
    assert "resized the images" in err and "10x10" in err and "--size" in err
    with np.load(tmp_path / "b.npz") as out:
        assert out["images"].shape == (8, 1, 32, 32)
    code, _, err = run_cli("augment", tmp_path / "eights", "--size", "16", "--per-class", "1", "--steps", "3", "-q",
                           "-o", tmp_path / "c.npz")
    assert code == 0 and "resized" not in err
    with np.load(tmp_path / "c.npz") as out:
        assert out["images"].shape == (8, 1, 16, 16)


def test_csv_errors_name_the_file_line_and_column(tmp_path: Path, run_cli) -> None:
    (tmp_path / "header.csv").write_text("a,b\n")
    (tmp_path / "label.csv").write_text("y,x\n0,1.5\n\n1,2.5\n,3.5\n1,4.5\n")  # a blank line pandas skips
    (tmp_path / "cell.csv").write_text("y,x,z\n0,1.5,1\n1,,2\n0,2.5,3\n")
    cases = [
        ("header.csv", "a", "header.csv: a header and no rows"),
        ("label.csv", "y", "label.csv, line 5, column 'y': the label is empty"),
        ("cell.csv", "y", "cell.csv, line 3, column 'x': '' is not a number; fill the empty cell"),
    ]
    for name, column, message in cases:
        code, _, err = run_cli("augment", tmp_path / name, "--label-column", column, "-o", tmp_path / "o.csv")
        assert code == 2 and message in err and err.count("\n") == 1, err


def test_api_parameter_names_read_as_the_options_and_one_class_is_singular(tmp_path: Path, run_cli) -> None:
    np.savez(tmp_path / "one.npz", images=np.random.default_rng(0).random((4, 8, 8), dtype=np.float32),
             labels=np.zeros(4, int))
    code, _, err = run_cli("augment", tmp_path / "one.npz", "--filter-confidence", "1.5", "-o", tmp_path / "o.npz")
    assert code == 2 and "--filter-confidence 1.5 must lie in (0, 1)" in err and "filter_confidence" not in err
    assert "training" not in err  # refused before the line announcing training
    code, _, err = run_cli("augment", tmp_path / "one.npz", "--arch", "conv", "--expand", "none", "--steps", "2",
                           "--per-class", "1", "-o", tmp_path / "o.npz")
    assert code == 0, err
    code, out, err = run_cli("augment", tmp_path / "one.npz", "--per-class", "1", "--steps", "2", "-q",
                             "-o", tmp_path / "o.npz")
    assert code == 0 and out.strip().endswith("4 real + 1 synthetic samples, 1 class"), out


def test_options_that_would_be_ignored_or_add_nothing_are_refused(tmp_path: Path, run_cli, monkeypatch) -> None:  # noqa: ANN001
    from ganforge.apps import augment as augment_module

    def no_training(*args: object, **kwargs: object) -> None:
        raise AssertionError("trained a GAN that could add nothing")

    monkeypatch.setattr(augment_module, "train_conditional_gan", no_training)
    np.savez(tmp_path / "even.npz", images=np.zeros((6, 8, 8), np.float32), labels=np.arange(6) % 2)
    code, _, err = run_cli("augment", tmp_path / "even.npz", "--run", tmp_path / "runs" / "cgan", "--steps", "100",
                           "--arch", "conv", "-o", tmp_path / "o.npz")
    assert code == 2 and "--steps and --arch configure" in err and "--run" in err and err.count("\n") == 1
    cases = [(["--balance"], "every class already has 3 samples, so --balance has nothing to add"),
             (["--per-class", "0"], "--per-class 0 asks for no synthetic samples"),
             (["--ratio", "0.1"], "--ratio 0.1 asks for no synthetic samples")]
    for options, message in cases:
        code, _, err = run_cli("augment", tmp_path / "even.npz", *options, "-o", tmp_path / "o.npz")
        assert code == 2 and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "o.npz").exists()


def test_training_shows_progress_on_stderr_unless_quiet(tmp_path: Path, run_cli) -> None:
    np.savez(tmp_path / "s.npz", images=np.zeros((4, 8, 8), np.float32), labels=np.arange(4) % 2)
    code, out, err = run_cli("augment", tmp_path / "s.npz", "--per-class", "1", "--steps", "20", "--expand", "none",
                             "-o", tmp_path / "o.npz")
    assert code == 0, err
    assert "training a class-conditional GAN on 4 samples for 20 steps" in err
    assert "augment 20/20" in err and "loss_D" in err and "eta" in err and "augment 20/20" not in out
    code, _, err = run_cli("augment", tmp_path / "s.npz", "--per-class", "1", "--steps", "20", "--expand", "none",
                           "--quiet", "-o", tmp_path / "p.npz")
    assert code == 0 and err == ""


def test_a_class_with_one_sample_is_named_in_a_warning(tmp_path: Path, run_cli) -> None:
    rows = [f"{'rare' if i == 0 else 'common'},{i}.5" for i in range(8)]
    (tmp_path / "t.csv").write_text("kind,x\n" + "\n".join(rows) + "\n")
    code, _, err = run_cli("augment", tmp_path / "t.csv", "--label-column", "kind", "--balance", "--steps", "3", "-q",
                           "-o", tmp_path / "o.csv")
    assert code == 0, err
    assert err.count("\n") == 1 and "warning: class 'rare'" in err and "has 1 sample" in err


def test_csv_synthetic_rows_keep_each_columns_decimals(tmp_path: Path, run_cli) -> None:
    rng = np.random.default_rng(0)
    lines = ["label,one,two,whole,count"] + [
        f"{i % 2},{rng.normal(5, 1):.1f},{rng.normal():.2f},{rng.integers(1, 9)}.0,{rng.integers(0, 9)}"
        for i in range(12)]
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    code, _, err = run_cli("augment", tmp_path / "t.csv", "--label-column", "label", "--per-class", "5", "--steps",
                           "3", "-q", "-o", tmp_path / "o.csv")
    assert code == 0, err
    written = (tmp_path / "o.csv").read_text().splitlines()
    assert written[1:13] == lines[1:]
    for row in written[13:]:
        _, one, two, whole, count = row.split(",")
        assert len(one.split(".")[1]) == 1 and len(two.split(".")[1]) <= 2, row
        assert whole.endswith(".0") and count.lstrip("-").isdigit(), row
