"""metrics.jsonl: value conversion, torn lines, and truncation on resume."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from ganforge import fileio
from ganforge.errors import GanforgeError
from ganforge.training.metrics_log import MetricsLog, read, truncate_after


def _fill(path: Path, steps: range) -> MetricsLog:
    log = MetricsLog(path)
    for s in steps:
        log.append({"step": s, "loss_d": 1.0 / (s + 1)})
    return log


def test_values_are_converted_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "run" / "metrics.jsonl"
    log = MetricsLog(path)
    log.append(
        {
            "step": np.int64(3),
            "loss_g": torch.tensor(0.5),
            "d_real": np.float32(0.75),
            "grad_norms": torch.tensor([1.0, 2.0]),
            "bad": float("nan"),
            "up": torch.tensor(float("inf")),
            "down": -math.inf,
            "phase": "D",
            "ok": True,
            "extra": {"fid": None},
        }
    )
    (line,) = path.read_text().splitlines()
    raw = json.loads(line, parse_constant=lambda c: pytest.fail(f"non-standard token {c}"))
    assert raw["bad"] == "NaN" and raw["up"] == "Infinity" and raw["down"] == "-Infinity"
    (rec,) = read(path)
    assert rec["step"] == 3 and type(rec["step"]) is int
    assert rec["loss_g"] == 0.5 and rec["d_real"] == 0.75 and rec["grad_norms"] == [1.0, 2.0]
    assert math.isnan(rec["bad"]) and rec["up"] == math.inf and rec["down"] == -math.inf
    assert rec["phase"] == "D" and rec["ok"] is True and rec["extra"] == {"fid": None}
    assert log.read() == read(path)


def test_read_missing_file_is_empty(tmp_path: Path) -> None:
    assert read(tmp_path / "none.jsonl") == []
    assert truncate_after(tmp_path / "none.jsonl", 3) == 0


def test_torn_last_line_is_skipped_and_cut_before_next_append(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    _fill(path, range(3))
    with open(path, "ab") as f:
        f.write(b'{"step": 3, "loss_d": 0.2')  # the process was killed mid-write
    assert [r["step"] for r in read(path)] == [0, 1, 2]

    MetricsLog(path).append({"step": 3, "loss_d": 0.25})  # e.g. the resumed run
    assert [r["step"] for r in read(path)] == [0, 1, 2, 3]
    for line in path.read_text().splitlines():
        json.loads(line)  # no glued fragments


def test_whole_record_without_newline_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_bytes(b'{"step": 0}\n{"step": 1}')
    assert [r["step"] for r in read(path)] == [0, 1]
    MetricsLog(path).append({"step": 2})
    assert [r["step"] for r in read(path)] == [0, 1, 2]


def test_blank_and_nul_lines_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_bytes(b'{"step": 0}\n\n{"step": 1}\n\x00\x00\x00')
    assert [r["step"] for r in read(path)] == [0, 1]


def test_damaged_middle_line_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    path.write_bytes(b'{"step": 0}\n{"step": \n{"step": 2}\n')
    with pytest.raises(GanforgeError, match="line 2") as info:
        read(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_truncate_after_keeps_steps_up_to_resume_point(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    log = MetricsLog(path)
    log.append({"event": "start"})  # no step: kept
    for s in range(1, 11):
        log.append({"step": s, "loss": float("nan") if s == 4 else s * 0.1})
    with open(path, "ab") as f:
        f.write(b'{"step": 11, "lo')
    before = {
        r["step"]: line for r, line in zip(read(path)[1:], path.read_text().splitlines()[1:], strict=False)
    }

    assert truncate_after(path, 5) == 5
    records = read(path)
    assert records[0] == {"event": "start"} and [r["step"] for r in records[1:]] == [1, 2, 3, 4, 5]
    assert math.isnan(records[4]["loss"])
    assert path.read_bytes().endswith(b"\n")
    assert path.read_text().splitlines()[1:] == [before[s] for s in range(1, 6)]  # kept byte for byte

    log.append({"step": 6, "loss": 0.6})  # the same log object keeps working after the rewrite
    assert [r.get("step") for r in read(path)] == [None, 1, 2, 3, 4, 5, 6]


def test_truncate_after_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "metrics.jsonl"
    _fill(path, range(10))
    original = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("killed")

    monkeypatch.setattr(fileio.os, "replace", crash)
    with pytest.raises(OSError):
        truncate_after(path, 2)
    monkeypatch.undo()
    assert path.read_bytes() == original
    assert os.listdir(tmp_path) == ["metrics.jsonl"]


def test_fsync_mode_and_non_dict_record(tmp_path: Path) -> None:
    log = MetricsLog(tmp_path / "m.jsonl", fsync=True)
    log.append({"step": 1})
    assert log.truncate_after(0) == 1 and log.read() == []
    with pytest.raises(TypeError, match="dict"):
        log.append([1, 2])  # type: ignore[arg-type]
