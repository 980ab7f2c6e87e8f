"""`ganforge studio FOLDER`: a folder of pictures trains live (as `ganforge train FOLDER`); only a run folder (one
holding config.yaml) is followed. The server is never left running: training runs with --exit-when-done, and
following a run is stubbed out."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import ganforge.studio.session as session

TINY = ["--set", "train.steps=2", "--set", "train.batch_size=2", "--set", "model.generator.width=4",
        "--set", "model.discriminator.width=4", "--set", "eval.enabled=false", "--set", "train.log_every=1"]


def _pictures(folder: Path, count: int = 4) -> Path:
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(count):
        Image.fromarray((rng.random((12, 12, 3)) * 255).astype(np.uint8)).save(folder / f"p{i}.png")
    return folder


@pytest.fixture
def followed(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The folders `studio` would follow, without serving them."""
    seen: list[Path] = []
    monkeypatch.setattr(session, "attach_studio", lambda path, **_: seen.append(Path(path)))
    return seen


def test_a_folder_of_pictures_trains_live_like_train_folder(tmp_path: Path, run_cli, followed) -> None:
    flat = _pictures(tmp_path / "flat")
    code, out, err = run_cli("studio", flat, *TINY, "--out", tmp_path / "run", "--port", "0", "--exit-when-done",
                             "-q")
    assert code == 0, err
    assert not followed and "is a run folder" not in err and "not a ganforge run folder" not in err
    assert f"run folder: {tmp_path / 'run'}" in out
    assert (tmp_path / "run" / "config.yaml").is_file()
    assert sorted(p.name for p in flat.iterdir()) == [f"p{i}.png" for i in range(4)]  # the data is left as it was


def test_a_run_folder_is_still_followed_and_refuses_training_options(tmp_path: Path, run_cli, followed) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text("name: x\n", encoding="utf-8")
    assert run_cli("studio", run)[0] == 0 and followed == [run]
    code, _, err = run_cli("studio", run, "--set", "train.steps=4")
    assert code == 2 and "is a run folder" in err and err.count("\n") == 1
