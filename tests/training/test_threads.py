"""Torch's thread count chosen from the model's size (issue 16)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import ganforge as gf
from ganforge.training.threads import PARAMS_PER_THREAD, choose_threads, torch_threads


def test_small_models_get_one_thread_and_large_ones_more_up_to_the_cores() -> None:
    assert choose_threads(20_000, available=8) == 1
    assert choose_threads(3 * PARAMS_PER_THREAD, available=8) == 4
    assert choose_threads(100 * PARAMS_PER_THREAD, available=2) == 2
    assert choose_threads(100, requested=3, available=1) == 3  # train.threads wins


def test_the_previous_setting_is_restored() -> None:
    before = torch.get_num_threads()
    with torch_threads(before + 1):
        assert torch.get_num_threads() == before + 1
    assert torch.get_num_threads() == before


def test_progress_line_names_the_threads_and_the_key_overrides(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    gf.train("ring8", steps=20, out=tmp_path / "a", overrides=["train.log_every=10"])
    assert "ring8 [1 thread]" in capsys.readouterr().err
    before = torch.get_num_threads()
    gf.train("ring8", steps=20, out=tmp_path / "b", overrides=["train.log_every=10", "train.threads=2"])
    assert "ring8 [2 threads]" in capsys.readouterr().err
    assert torch.get_num_threads() == before


def test_more_threads_than_cores_are_kept_with_a_note(capsys: pytest.CaptureFixture) -> None:
    """`train.threads=64` on 2 cores ran at 15 it/s against 37 on one thread, without a word."""
    import os

    cores = os.cpu_count() or 1
    assert choose_threads(10, requested=cores + 1) == cores + 1
    assert f"note: train.threads={cores + 1} is more than the {cores} cores here" in capsys.readouterr().err
    assert choose_threads(10, requested=1) == 1 and capsys.readouterr().err == ""
