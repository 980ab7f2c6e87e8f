"""The ``sequences`` evaluator: metric selection, the cheap shape statistics, and its use on a run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ganforge.api import train
from ganforge.data.sequences import sine_sequences
from ganforge.errors import GanforgeError
from ganforge.evaluation import sequence_suite
from ganforge.evaluation.sequence_suite import autocorrelation, autocorrelation_error, moment_errors, sequence_report


def sines_tensor(n: int, seed: int, seq_len: int = 12, dim: int = 2) -> torch.Tensor:
    return torch.from_numpy(sine_sequences(n, seq_len, dim, np.random.default_rng(seed)))


def test_moment_and_autocorrelation_errors_separate_similar_from_different_data() -> None:
    real, other = sines_tensor(300, 0), sines_tensor(300, 1)
    noise = torch.rand(300, 12, 2)
    assert moment_errors(real, real) == {"mean_error": 0.0, "std_error": 0.0}
    assert autocorrelation_error(real, real) == 0.0
    same, different = moment_errors(real, other), moment_errors(real, noise)
    assert same["mean_error"] < 0.05 < different["mean_error"]
    assert autocorrelation_error(real, other) < 0.05 < autocorrelation_error(real, noise)


def test_autocorrelation_of_white_noise_is_near_zero_and_of_a_constant_trend_near_one() -> None:
    torch.manual_seed(0)
    acf = autocorrelation(torch.randn(500, 20, 1), max_lag=3)
    assert acf.shape == (3, 1) and float(acf.abs().max()) < 0.05
    ramp = torch.linspace(-1, 1, 20).reshape(1, 20, 1).repeat(10, 1, 1)
    assert float(autocorrelation(ramp, 1)[0, 0]) > 0.8


def test_unknown_metric_is_a_one_line_error() -> None:
    with pytest.raises(GanforgeError, match="available: discriminative"):
        sequence_report(torch.rand(4, 3, 1), torch.rand(4, 3, 1), ["fid"])


def test_evaluate_run_on_a_trained_sequence_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sequence_suite, "DISCRIMINATIVE_ITERATIONS", 20)
    monkeypatch.setattr(sequence_suite, "PREDICTIVE_ITERATIONS", 20)
    config = {
        "name": "seq-eval",
        "data": {"source": "sines", "n": 40, "seq_len": 5, "dim": 2},
        "model": {"type": "rcgan", "noise_dim": 2, "generator": {"type": "gru", "hidden": 4}},
        "train": {"steps": 2, "batch_size": 8, "log_every": 1},
        "eval": {"n": 30, "enabled": True},
    }
    run = train(config, out=tmp_path / "run", show_progress=False)
    evaluation = run.summary["evaluation"]
    assert evaluation["n_real"] == evaluation["n_fake"] == 30
    assert evaluation["repeats"] == sequence_suite.REPEATS
    for key in ("discriminative_score", "predictive_score", "mean_error", "std_error", "autocorrelation_error"):
        assert np.isfinite(evaluation[key]), key
    assert 0 <= evaluation["discriminative_score"] <= 0.5
    only = run.evaluate(n=10, metrics=["moments"])
    assert set(only) == {"n_real", "n_fake", "repeats", "reference", "mean_error", "std_error"}
    plots = run.summary["plots"]
    assert {"series", "pca", "tsne"} <= set(plots) and all(Path(plots[k]).is_file() for k in ("series", "pca", "tsne"))


def test_quick_discriminative_score_is_only_computed_when_asked_and_separates_different_data(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sequence_suite, "QUICK_ITERATIONS", 400)
    real, other = sines_tensor(400, 0, seq_len=24, dim=5), sines_tensor(400, 1, seq_len=24, dim=5)
    noise = torch.rand(400, 24, 5, generator=torch.Generator().manual_seed(0))
    assert "discriminative_quick" not in sequence_report(real, other, ["moments"])
    same = sequence_report(real, other, ["discriminative_quick"])["discriminative_quick"]
    different = sequence_report(real, noise, ["discriminative_quick"])["discriminative_quick"]
    assert same < 0.1 < 0.4 < different
    # one fixed seed: the same inputs give the same number, so checkpoints are compared on equal terms
    assert sequence_report(real, other, ["discriminative_quick"])["discriminative_quick"] == same
