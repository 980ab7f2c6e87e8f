"""The low-dimensional evaluation (evaluation/suite.py): what it compares with, and at which sample sizes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import ganforge as gf


def test_rows_from_a_file_are_compared_at_the_floors_size_and_called_what_they_are(tmp_path: Path, run_cli) -> None:
    path = tmp_path / "pts.csv"
    np.savetxt(path, np.random.default_rng(0).normal(size=(600, 2)), delimiter=",", header="a,b", comments="")
    run = gf.train(str(path), out=tmp_path / "r", show_progress=False, overrides=["train.steps=20", "eval.n=1000"])
    report = run.evaluate(1000)
    assert report["n_fake"] == report["n_real"] == report["floor_n"] == 300  # half the rows each, as the floor
    assert "rows the run trained on" in report["reference"] and "held-out" not in report["reference"].split("(")[0]
    code, out, _ = run_cli("eval", run.path, "--json", "-n", "1000")
    assert code == 0 and json.loads(out)["floor_n"] == 300  # strict JSON (a NaN used to print as a bare token)


def test_eval_json_writes_non_finite_numbers_as_strict_json(tmp_path: Path, run_cli, monkeypatch) -> None:
    run = gf.train("ring8", out=tmp_path / "r", show_progress=False, overrides=["train.steps=2", "eval.n=64"])
    monkeypatch.setattr(gf.Run, "evaluate", lambda self, n=None, metrics=None: {"kl": float("nan"), "w1": 1.0})
    code, out, err = run_cli("eval", run.path, "--json")
    assert code == 0, err
    assert json.loads(out)["kl"] == "NaN"  # json.loads of a bare NaN token would pass; strict parsers refuse it
    assert "NaN," not in out and ": NaN" not in out
