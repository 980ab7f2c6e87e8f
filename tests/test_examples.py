"""Each example in examples/ runs (with few steps) and reaches the result it prints."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load_example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the examples' run folders go to a temporary folder
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


def test_uniform_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    result = load_example("seed000_uniform_numbers").main(["--steps", "3000"])
    out = capsys.readouterr().out
    assert "result: PASS" in out
    assert result["ks"] < 0.05
    assert abs(result["mean"] - 0.5) < 0.03
    assert abs(result["std"] - 12**-0.5) < 0.03


def test_numbers_around_10(capsys: pytest.CaptureFixture[str]) -> None:
    result = load_example("seed002_numbers_around_10").main(["--steps", "1000"])
    out = capsys.readouterr().out
    assert "result: PASS" in out
    assert abs(result["mean"] - 10) < 0.1
    assert abs(result["std"] - 1) < 0.1


def test_linear_pair_learns_the_mean_not_the_spread(capsys: pytest.CaptureFixture[str]) -> None:
    result = load_example("seed002_linear_pair").main(["--steps", "1000"])
    out = capsys.readouterr().out
    assert "linear D: mean near 10 (within 0.5): True" in out
    lin, quad = result["linear"], result["quadratic"]
    # a linear D sees only the mean: G finds the neighbourhood of 10 but its spread collapses
    assert abs(lin["mean"] - 10) < 0.5
    assert lin["std"] < 0.3
    # the same affine generator matches mean and std once D can see x^2
    assert abs(quad["mean"] - 10) < 0.1
    assert abs(quad["std"] - 1) < 0.1


def test_mlp_digits(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    figure = tmp_path / "digits.png"
    result = load_example("seed001_mlp_digits").main(["--steps", "1500", "--figure", str(figure)])
    out = capsys.readouterr().out
    assert "classified with confidence >= 0.9" in out and figure.is_file()
    # 1500 steps (the example's default is 4000): noisy but recognisable digits of (nearly) every class
    assert result["digits"] >= 9 and result["confident"] >= 0.1
    assert result["fid"] < 150 and result["fid_floor"] < 10
