"""Runs trained from Python with the user's own networks, sampled without their classes (issue 16)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import ganforge as gf

ROOT = Path(__file__).resolve().parents[2]


class UserGenerator(nn.Module):  # a class the new process cannot import
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 2))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(z) * 1.5


def _env() -> dict[str, str]:
    import os

    return {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def python_run(tmp_path_factory: pytest.TempPathFactory) -> gf.Run:
    torch.manual_seed(0)
    points = np.random.RandomState(0).randn(600, 2) * [1.0, 3.0] + [5.0, -2.0]
    gan = gf.GAN(UserGenerator(), nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1)), noise_dim=2)
    out = tmp_path_factory.mktemp("py") / "run"
    return gf.train(gan, data=points, steps=150, out=out, show_progress=False)


def test_exported_generator_matches_the_original(python_run: gf.Run) -> None:
    assert python_run.summary["exported_generator"]["ok"] is True
    from ganforge.gans.exported import load_exported

    exported = load_exported(Path(python_run.path))
    z = torch.randn(5, 2)
    python_run.gan.eval()
    assert torch.allclose(exported.generate(z), python_run.gan.generate(z), atol=1e-5)
    assert exported.sample(1).shape == (1, 2)  # dynamic batch dimension, down to one sample


def test_python_run_is_sampled_and_evaluated_from_the_cli_in_a_new_process(python_run: gf.Run, tmp_path: Path) -> None:
    out = tmp_path / "s.npy"
    cmd = [sys.executable, "-m", "ganforge", "sample", str(python_run.path), "-n", "300", "-o", str(out)]
    done = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=300)
    assert done.returncode == 0, done.stderr
    x = np.load(out)
    assert x.shape == (300, 2) and np.isfinite(x).all()
    assert abs(x[:, 0].mean() - 5.0) < 1.5  # data units: the scaler came back with the checkpoint
    cmd = [sys.executable, "-m", "ganforge", "eval", str(python_run.path), "--json", "-n", "300"]
    done = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=300)
    assert done.returncode == 0, done.stderr
    assert '"w1"' in done.stdout  # the array given to gf.train was kept beside the run (data.npy)


@pytest.mark.parametrize("kind", ["tensor", "dataset", "loader"])
def test_train_takes_tensors_datasets_and_loaders(kind: str, tmp_path: Path) -> None:
    x = torch.randn(200, 2) + 3
    data = {
        "tensor": x,
        "dataset": torch.utils.data.TensorDataset(x),
        "loader": torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x), batch_size=32),
    }[kind]
    gan = gf.GAN(nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1)), noise_dim=2)
    run = gf.train(gan, data=data, steps=5, out=tmp_path / "r", show_progress=False)
    assert run.data.kind == "points" and run.sample(4).shape == (4, 2)


def test_train_takes_image_arrays(tmp_path: Path) -> None:
    images = (np.random.RandomState(0).rand(40, 8, 8) * 255).astype(np.uint8)
    g = nn.Sequential(nn.Linear(4, 64), nn.Sigmoid(), nn.Unflatten(1, (1, 8, 8)))
    d = nn.Sequential(nn.Flatten(), nn.Linear(64, 1))
    run = gf.train(gf.GAN(g, d, noise_dim=4), data=images, steps=3, out=tmp_path / "r", show_progress=False)
    assert run.data.kind == "images" and tuple(run.sample(2).shape) == (2, 1, 8, 8)


def test_bad_arrays_are_one_line_errors() -> None:
    from ganforge.data.python_objects import source_from_object
    from ganforge.errors import GanforgeError

    with pytest.raises(GanforgeError, match="neither"):
        source_from_object(np.zeros((3, 4, 5, 6, 7)))
    with pytest.raises(GanforgeError, match="NaN"):
        source_from_object(np.array([[1.0, np.nan]]))
