"""Every subcommand that writes checks its ``-o`` first (one-line errors, exit 2, nothing overwritten), and
what ``sample`` writes reads back: ``sample -> fid`` on .npy, .npz and a folder of PNGs; CSV columns keep
the user's names."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import ganforge as gf

QUICK = {"train": {"steps": 3, "batch_size": 16, "log_every": 1}, "monitors": {"duplicates": False, "diversity": False}}


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory: pytest.TempPathFactory) -> gf.Run:
    config = {"name": "d", "data": {"source": "digits", "size": 8},
              "model": {"type": "gan", "noise_dim": 8, "generator": {"type": "dcgan", "width": 8, "output": "tanh"},
                        "discriminator": {"type": "dcgan", "width": 8}},
              "eval": {"n": 32}, **QUICK}
    return gf.train(config, out=tmp_path_factory.mktemp("d") / "run", show_progress=False)


@pytest.fixture(scope="module")
def csv_run(tmp_path_factory: pytest.TempPathFactory) -> gf.Run:
    folder = tmp_path_factory.mktemp("c")
    data = folder / "temps.csv"
    rng = np.random.default_rng(0)
    np.savetxt(data, rng.normal(size=(200, 2)), delimiter=",", header="temp_c,rain_mm", comments="")
    return gf.train({"name": "c", "data": {"source": "file", "path": str(data)}, "eval": {"n": 64}, **QUICK},
                    out=folder / "run", show_progress=False)


def test_csv_samples_keep_the_users_column_names(csv_run: gf.Run, tmp_path: Path, run_cli) -> None:
    code, _, err = run_cli("sample", csv_run.path, "-n", "7", "-o", tmp_path / "s.csv")
    assert code == 0, err
    lines = (tmp_path / "s.csv").read_text().splitlines()
    assert lines[0] == "temp_c,rain_mm" and len(lines) == 8


def test_points_npz_and_bad_outputs(csv_run: gf.Run, tmp_path: Path, run_cli) -> None:
    assert run_cli("sample", csv_run.path, "-n", "9", "-o", tmp_path / "s.npz")[0] == 0
    with np.load(tmp_path / "s.npz") as archive:
        assert archive.files == ["samples"] and archive["samples"].shape == (9, 2)
    (tmp_path / "dir").mkdir()
    (tmp_path / "keep.csv").write_text("mine")
    for target, message in (
        (tmp_path / "dir", "a folder of pictures is for image runs"),
        (tmp_path / "s.txt", "unsupported file type '.txt'"),
        (tmp_path / "no" / "s.csv", "does not exist; create it first"),
    ):
        code, _, err = run_cli("sample", csv_run.path, "-n", "5", "-o", target)
        assert code == 2 and message in err and "Traceback" not in err, err
        assert len(err.strip().splitlines()) == 1
    assert (tmp_path / "keep.csv").read_text() == "mine"



def test_sample_without_o_writes_a_picture_for_an_image_run_and_a_csv_else(
    digits_run: gf.Run, csv_run: gf.Run, tmp_path: Path, run_cli, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli("sample", digits_run.path, "-n", "4")  # samples.csv cannot hold pictures
    assert code == 0 and "to samples.png" in out, err
    with Image.open(tmp_path / "samples.png") as picture:
        assert picture.format == "PNG"
    assert run_cli("sample", csv_run.path, "-n", "4")[0] == 0
    assert (tmp_path / "samples.csv").read_text().startswith("temp_c,rain_mm")



def test_an_npz_needs_room_for_its_samples_twice(digits_run: gf.Run, tmp_path: Path, run_cli, monkeypatch) -> None:
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    size = 1000 * 64 * 4  # 1000 float32 8x8 digits
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage(10**12, 0, int(1.5 * size)))  # room for one copy
    code, _, err = run_cli("sample", digits_run.path, "-n", "1000", "-o", tmp_path / "s.npz")
    assert code == 2 and "the output would take about" in err and not (tmp_path / "s.npz").exists(), err
    assert run_cli("sample", digits_run.path, "-n", "1000", "-o", tmp_path / "s.npy")[0] == 0  # one copy fits


def test_sample_to_fid_round_trips(digits_run: gf.Run, tmp_path: Path, run_cli) -> None:
    for name in ("ref.npz", "gen.npy", "gen.npz", "folder/"):
        code, _, err = run_cli("sample", digits_run.path, "-n", "40" if name == "ref.npz" else "12",
                               "-o", f"{tmp_path}/{name}")
        assert code == 0, err
    with np.load(tmp_path / "gen.npz") as archive:
        assert archive["images"].shape == (12, 1, 8, 8) and archive["images"].dtype == np.float32
    pictures = sorted((tmp_path / "folder").rglob("*.png"))
    assert len(pictures) == 12
    with Image.open(pictures[0]) as picture:
        assert picture.size == (8, 8)
    results = []
    for other in ("gen.npy", "gen.npz", "folder"):
        code, out, err = run_cli("fid", tmp_path / "ref.npz", tmp_path / other, "--features", "digits",
                                 "--json")
        assert code == 0, err
        results.append(__import__("json").loads(out)["fid"])
    assert results[0] == pytest.approx(results[1], rel=1e-5)  # the same 12 images (seed 0) as .npy and .npz
    assert results[2] > 0
    from ganforge.commands.fid import read_image_set

    # the PNGs hold the same images (seed 0), rounded to 8 bits
    gap = (read_image_set(tmp_path / "folder") - read_image_set(tmp_path / "gen.npy")).abs().max()
    assert float(gap) <= 0.5 / 255 + 1e-6
    code, _, err = run_cli("sample", digits_run.path, "-n", "4", "-o", f"{tmp_path}/folder/")
    assert code == 2 and "not empty" in err


def test_folder_output_of_a_conditional_run_has_one_folder_per_class(tmp_path_factory, tmp_path, run_cli) -> None:
    config = {"name": "cd", "data": {"source": "digits", "size": 8},
              "model": {"type": "gan", "noise_dim": 8, "conditional": True,
                        "generator": {"type": "dcgan", "width": 8, "output": "tanh"},
                        "discriminator": {"type": "dcgan", "width": 8}},
              "eval": {"n": 32}, **QUICK}
    run = gf.train(config, out=tmp_path_factory.mktemp("cd") / "run", show_progress=False)
    assert run_cli("sample", run.path, "-n", "20", "-o", f"{tmp_path}/out/")[0] == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [str(k) for k in range(10)]
    assert len(list((tmp_path / "out").rglob("*.png"))) == 20
    # the grid picture names each row's class in a left margin
    from ganforge.report.image_pictures import grid_array

    assert run_cli("sample", run.path, "-n", "20", "-o", tmp_path / "grid.png")[0] == 0
    with Image.open(tmp_path / "grid.png") as grid:
        plain = grid_array(torch.rand(20, 1, 8, 8), 2)
        assert grid.height == plain.shape[0] and grid.width > plain.shape[1]
    with Image.open(run.path / "plots" / "samples.png") as samples:
        assert samples.width > grid_array(torch.rand(80, 1, 8, 8), 8).shape[1]


@pytest.fixture(scope="module")
def picture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pic")
    Image.fromarray((np.random.default_rng(0).random((12, 12, 3)) * 255).astype(np.uint8)).save(folder / "in.png")
    return folder / "in.png"


def test_upscale_output_paths(tmp_path_factory, tmp_path: Path, picture: Path, run_cli) -> None:
    config = {"name": "sr", "data": {"source": "sr-patches", "patch_size": 16, "scale": 4, "count": 8},
              "model": {"type": "srgan", "num_blocks": 1, "width": 8, "d_width": 4, "features": "none",
                        "pretrain_steps": 1},
              "train": {"steps": 2, "batch_size": 4, "log_every": 1}, "eval": {"n": 4}}
    run = gf.train(config, out=tmp_path_factory.mktemp("sr") / "run", show_progress=False)
    with Image.open(run.summary["plots"]["superres"]) as shown:  # column headers above 48-pixel tiles
        assert shown.width == 1 + 4 * 49 and (shown.height - 1) % 49 != 0
    (tmp_path / "existing").mkdir()
    for target, message in ((f"{tmp_path}/existing/", "is a folder"), (f"{tmp_path}/existing", "is a folder"),
                            (f"{tmp_path}/x.foo", "unsupported file type")):
        code, _, err = run_cli("upscale", run.path, picture, "-o", target)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    for name, fmt in (("x.jpg", "JPEG"), ("x.png", "PNG")):
        assert run_cli("upscale", run.path, picture, "-o", tmp_path / name)[0] == 0
        with Image.open(tmp_path / name) as out:
            assert out.format == fmt and out.size == (48, 48)


def test_translate_one_picture_and_output_paths(tmp_path_factory, tmp_path: Path, picture: Path, run_cli) -> None:
    config = {"name": "cyc", "data": {"source": "unpaired-digits", "size": 16, "transform": "invert"},
              "model": {"type": "cyclegan", "width": 4, "num_blocks": 1, "d_width": 4, "d_layers": 2},
              "train": {"steps": 2, "batch_size": 4, "log_every": 1}, "eval": {"n": 16},
              "monitors": {"duplicates": False, "diversity": False}}
    run = gf.train(config, out=tmp_path_factory.mktemp("cyc") / "run", show_progress=False)
    with Image.open(run.summary["plots"]["translation"]) as shown:  # two labelled blocks: from A, from B
        assert shown.height > 2 * (1 + 4 * 49)
    (tmp_path / "afile").write_text("mine")
    code, _, err = run_cli("translate", run.path, picture.parent, "-o", tmp_path / "afile")
    assert code == 2 and "is a file, not a folder" in err and (tmp_path / "afile").read_text() == "mine"
    assert run_cli("translate", run.path, picture, "-o", tmp_path / "one.jpg")[0] == 0
    with Image.open(tmp_path / "one.jpg") as out:
        assert out.format == "JPEG" and out.size == (16, 16)
    assert run_cli("translate", run.path, picture, "-o", tmp_path / "into")[0] == 0
    assert [p.name for p in (tmp_path / "into").iterdir()] == ["in.png"]
    code, _, err = run_cli("translate", run.path, tmp_path / "missing.png")
    assert code == 2 and "does not exist" in err


# --- output-path OSErrors (issue 23): one line, exit 2, nothing written before is lost -----------------

import os  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

SRC = str(Path(__file__).resolve().parents[1] / "src")


def _ganforge(*args: object, fsize: int | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python -m ganforge ARGS`` as a user runs it; ``fsize`` caps every file it writes (RLIMIT_FSIZE),
    so writes fail with EFBIG, as on a full disk (SIGXFSZ ignored, inherited through exec)."""
    import resource

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    env = {**os.environ, "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "ganforge", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=timeout, preexec_fn=limit)


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr and len(lines) == 1 and lines[0].startswith("error: "), stderr
    return lines[0]


def test_a_file_too_large_for_the_disk_is_one_line_and_the_old_file_stays(csv_run: gf.Run, tmp_path: Path) -> None:
    out = tmp_path / "s.npy"
    assert _ganforge("sample", csv_run.path, "-n", "10", "-o", out).returncode == 0
    before = out.read_bytes()
    proc = _ganforge("sample", csv_run.path, "-n", "100000", "-o", out, fsize=64_000)
    assert proc.returncode == 2
    line = _one_error_line(proc.stderr)
    assert "File too large" in line and str(tmp_path) in line
    assert out.read_bytes() == before  # the earlier samples are intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.npy"]  # no temp file left


def test_a_full_disk_during_training_is_one_line_and_keeps_every_checkpoint(tmp_path: Path) -> None:
    """A real full disk: a 1 MB tmpfs (skipped where mounting is not allowed)."""
    from ganforge.training.checkpoint import list_checkpoints, load_checkpoint

    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here; the RLIMIT_FSIZE test covers the same error path")
    try:
        proc = _ganforge("train", "ring8", "-o", disk / "run", "--no-eval", "-q", "--set", "train.steps=400",
                         "--set", "train.checkpoint_every=5", "--set", "train.keep_checkpoints=1000",
                         "--set", "train.log_every=5")
        assert proc.returncode == 2
        line = _one_error_line(proc.stderr)
        assert "No space left on device" in line and "intact" in line
        checkpoints = list_checkpoints(disk / "run")
        assert checkpoints  # some were written before the disk filled ...
        finished = {p.name for p in (disk / "run" / "checkpoints").iterdir() if p.name.startswith("step-")}
        assert finished == {info.path.name for info in checkpoints}  # ... and none under a final name is damaged
        for info in checkpoints:
            load_checkpoint(info.path)
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_sample_never_writes_over_the_file_the_run_trained_on(tmp_path, run_cli) -> None:
    import numpy as np

    data = tmp_path / "pts.csv"
    np.savetxt(data, np.random.default_rng(0).normal(size=(64, 2)), delimiter=",")
    before = data.read_bytes()
    code, _, err = run_cli("train", data, "--set", "train.steps=4", "--no-eval", "-q", "--out", tmp_path / "r")
    assert code == 0, err
    code, _, err = run_cli("sample", tmp_path / "r", "-n", "5", "-o", data)
    assert code == 2 and "was trained on" in err and data.read_bytes() == before


def test_export_never_replaces_a_file_of_the_run_folder(tmp_path, run_cli) -> None:
    import ganforge as gf

    run = gf.train("ring8", steps=2, out=tmp_path / "r", show_progress=False, overrides=["eval.n=64"])
    before = (run.path / "config.yaml").read_bytes()
    code, _, err = run_cli("export", run.path, "-o", run.path / "config.yaml")
    assert code == 2 and "-o" in err
    (run.path / "generator.pt2").write_bytes(b"the run's own sampling program")
    code, _, err = run_cli("export", run.path, "-o", run.path / "generator.pt2")
    assert code == 2 and "a file of the run folder itself" in err
    assert (run.path / "generator.pt2").read_bytes() == b"the run's own sampling program"
    assert (run.path / "config.yaml").read_bytes() == before


def test_exporting_a_table_run_says_how_to_get_its_rows(tmp_path, run_cli) -> None:
    import ganforge as gf

    run = gf.train("penguins-table", steps=2, out=tmp_path / "t", show_progress=False, overrides=["eval.enabled=false"])
    code, _, err = run_cli("export", run.path, "-o", tmp_path / "g.pt2")
    assert code == 2 and "ganforge sample RUN --rows N" in err and "per-pixel" not in err


def test_sampling_a_translation_run_names_translate_not_other_file_types(tmp_path: Path, run_cli) -> None:
    config = {"name": "cyc", "data": {"source": "unpaired-digits", "size": 16, "transform": "invert"},
              "model": {"type": "cyclegan", "width": 4, "num_blocks": 1, "d_width": 4, "d_layers": 2},
              "train": {"steps": 1, "batch_size": 4, "log_every": 1}, "eval": {"enabled": False},
              "monitors": {"duplicates": False, "diversity": False}}
    run = gf.train(config, out=tmp_path / "run", show_progress=False)
    for target in ("x.png", "x.csv", "pictures/"):  # each used to point at another type that failed too
        code, _, err = run_cli("sample", run.path, "-n", "2", "-o", f"{tmp_path}/{target}")
        assert code == 2 and "does not sample from noise; use `ganforge translate" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
