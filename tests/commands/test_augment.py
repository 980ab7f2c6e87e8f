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
