"""Atomic writes and the run-folder JSON convention."""

from __future__ import annotations

import json
import math
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from ganforge import fileio
from ganforge.errors import GanforgeError
from ganforge.fileio import (
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    from_jsonable,
    read_state_dict,
    refuse_damaged_numpy_file,
    to_jsonable,
)


def _strict_loads(text: str):
    def refuse(token: str):
        raise AssertionError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=refuse)


def test_write_creates_parents_and_overwrites_without_leftovers(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "file.bin"
    atomic_write_bytes(target, b"first")
    atomic_write_bytes(target, b"second, longer")
    assert target.read_bytes() == b"second, longer"
    assert sorted(p.name for p in target.parent.iterdir()) == ["file.bin"]


def test_temp_file_lives_next_to_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[Path, Path]] = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append((Path(src), Path(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(fileio.os, "replace", spy)
    atomic_write_text(tmp_path / "x.txt", "héllo\n")
    ((src, dst),) = seen
    assert src.parent == dst.parent == tmp_path and src.name != dst.name
    assert (tmp_path / "x.txt").read_text(encoding="utf-8") == "héllo\n"


@pytest.mark.parametrize("fail_at", ["fsync", "replace"])
def test_failed_write_keeps_old_file_and_removes_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_at: str
) -> None:
    target = tmp_path / "state.json"
    atomic_write_text(target, "old")

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(fileio.os, fail_at, boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(target, "new content that never lands")
    monkeypatch.undo()
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
def test_new_file_mode_follows_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        atomic_write_bytes(tmp_path / "f", b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "f").stat().st_mode & 0o777 == 0o640


def test_json_non_finite_floats_are_strict_json_and_read_back(tmp_path: Path) -> None:
    obj = {
        "loss": float("nan"),
        "best": math.inf,
        "worst": -math.inf,
        "t": torch.tensor(1.5),
        "v": torch.tensor([1, 2]),
        "np": np.float32(0.25),
        "arr": np.arange(3),
        "pair": (1, "a"),
        "path": tmp_path,
    }
    atomic_write_json(tmp_path / "m.json", obj)
    raw = _strict_loads((tmp_path / "m.json").read_text())
    assert raw["loss"] == "NaN" and raw["best"] == "Infinity" and raw["worst"] == "-Infinity"
    back = from_jsonable(json.loads((tmp_path / "m.json").read_text()))
    assert math.isnan(back["loss"]) and back["best"] == math.inf and back["worst"] == -math.inf
    assert back["t"] == 1.5 and back["v"] == [1, 2] and back["np"] == 0.25 and back["arr"] == [0, 1, 2]
    assert back["pair"] == [1, "a"] and back["path"] == str(tmp_path)


def test_jsonable_round_trip_and_unknown_type() -> None:
    nested = {"a": [1.0, float("inf"), {"b": float("-inf")}], "s": "text"}
    assert from_jsonable(to_jsonable(nested)) == nested
    with pytest.raises(TypeError, match="object"):
        to_jsonable({"x": object()})


# weight files: safetensors, or .pt through the restricted unpickler only


class _Payload:
    """Unpickling this object would create the marker file: the stand-in for malicious code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize("writer", ["torch.save", "pickle.dump"])
def test_pt_weights_refuses_code_and_never_runs_it(tmp_path: Path, writer: str) -> None:
    # the payload is real: an ordinary unpickle does run it
    probe = tmp_path / "probe"
    pickle.loads(pickle.dumps(_Payload(probe))).close()
    assert probe.exists()

    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pt"
    obj = {"weight": torch.ones(2), "extra": _Payload(marker)}
    if writer == "torch.save":
        torch.save(obj, evil)
    else:
        with open(evil, "wb") as f:
            pickle.dump(obj, f)
    with pytest.raises(GanforgeError, match="refuses to unpickle code") as info:
        read_state_dict(evil)
    assert str(evil) in str(info.value) and "\n" not in str(info.value)
    assert not marker.exists()


def test_pt_weights_reads_plain_state_dicts(tmp_path: Path) -> None:
    sd = nn.Linear(2, 2).state_dict()
    torch.save(sd, tmp_path / "ok.pt")
    back = read_state_dict(tmp_path / "ok.pt")
    assert set(back) == set(sd) and all(torch.equal(back[k], sd[k]) for k in sd)
    torch.save(torch.ones(2), tmp_path / "tensor.pt")
    with pytest.raises(GanforgeError, match="not a dict"):
        read_state_dict(tmp_path / "tensor.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(GanforgeError, match="junk.pt: it cannot be loaded safely"):
        read_state_dict(tmp_path / "junk.pt")
    with pytest.raises(GanforgeError, match="does not exist"):
        read_state_dict(tmp_path / "missing.pt")


def test_safetensors_weights_read_back_and_damaged_ones_are_one_line(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    save_file({"w": torch.ones(2)}, str(tmp_path / "w.safetensors"))
    assert torch.equal(read_state_dict(tmp_path / "w.safetensors")["w"], torch.ones(2))
    (tmp_path / "bad.safetensors").write_bytes(b"\x00" * 3)
    with pytest.raises(GanforgeError, match="cannot read Inception weights") as info:
        read_state_dict(tmp_path / "bad.safetensors", "Inception weights", "re-download it")
    assert "\n" not in str(info.value) and str(info.value).endswith("re-download it")


# --- read_json: every way a JSON file of a run can be bad is one line (issue 23) ----------------------


@pytest.mark.parametrize(
    "data,message",
    [
        (b'{"a": 1', "is not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "is not valid JSON"),  # RecursionError in the parser
        (b'{"step": ' + b"9" * 5000 + b"}", "is not valid JSON"),  # beyond Python's int digit limit
        (b"\xff\xfe junk", "is not valid JSON"),  # not UTF-8
    ],
)
def test_read_json_refuses_damage_in_one_line(tmp_path: Path, data: bytes, message: str) -> None:
    path = tmp_path / "summary.json"
    path.write_bytes(data)
    with pytest.raises(GanforgeError, match=message) as err:
        fileio.read_json(path, "summary")
    assert "\n" not in str(err.value) and len(str(err.value)) < 400


def test_read_json_reads_non_finite_strings_back(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    fileio.atomic_write_json(path, {"x": math.nan, "y": [1, math.inf]})
    value = fileio.read_json(path)
    assert math.isnan(value["x"]) and value["y"] == [1, math.inf]
    with pytest.raises(GanforgeError, match="does not exist"):
        fileio.read_json(tmp_path / "missing.json")


def test_csv_delimiter_reads_semicolon_tab_and_pipe_files_and_refuses_decimal_commas(tmp_path) -> None:
    from ganforge.data.files import read_csv
    from ganforge.data.tables import read_table
    from ganforge.fileio import csv_delimiter

    for sep in (",", ";", "\t", "|"):
        path = tmp_path / "t.csv"
        path.write_text(sep.join(["a", "b", "c"]) + "\n" + "\n".join(sep.join(["1.5", "2", "x"]) for _ in range(3)))
        assert csv_delimiter(path) == sep
        assert list(read_table(path).columns) == ["a", "b", "c"]
    path.write_text("a;b\n1.5;2\n3;4.25\n")
    values, names = read_csv(path)
    assert names == ["a", "b"] and values.tolist() == [[1.5, 2.0], [3.0, 4.25]]
    path.write_text("a;b\n1,5;2\n3;4,25\n")
    with pytest.raises(GanforgeError, match="decimal commas"):
        csv_delimiter(path)
    path.write_text("name\nfoo; bar\nbaz\n")  # one column whose text holds a ';' on one line only: still ','
    assert csv_delimiter(path) == ","


def test_csv_delimiter_counts_cells_not_characters(tmp_path) -> None:
    """A quoted cell holding ';' made the per-line counts differ (read as ','); a comma in a text cell of a ';'
    file was called a decimal comma."""
    from ganforge.data.tables import read_table
    from ganforge.fileio import csv_delimiter

    path = tmp_path / "t.csv"
    path.write_text('a;b;c\n1.5;"x;q";2\n2.5;y;3\n')
    assert csv_delimiter(path) == ";"
    assert read_table(path)["b"].tolist() == ["x;q", "y"]
    path.write_text("a;city;c\n1.5;Rome, IT;2\n2.5;Paris, FR;3\n")
    assert csv_delimiter(path) == ";"
    assert read_table(path)["city"].tolist() == ["Rome, IT", "Paris, FR"]
    path.write_text("a;city;c\n1.5;Rome, IT;2\n2,5;Paris, FR;3\n")  # a number with a comma still is one
    with pytest.raises(GanforgeError, match="decimal commas"):
        csv_delimiter(path)
    path.write_text('"a,b";c\n1;2\n')  # the header's comma is inside quotes: cells are split by ';'
    assert csv_delimiter(path) == ";"


def test_a_damaged_numpy_file_is_called_damaged_not_pickled(tmp_path: Path) -> None:
    """NumPy's message for bytes that are neither an .npz nor an .npy suggests allow_pickle=True: loading a
    corrupt, possibly hostile file unsafely. Every reader of NumPy files says what it is instead."""
    from ganforge.data.files import read_array
    from ganforge.data.image_files import images_npz

    bad = tmp_path / "g.npz"
    bad.write_bytes(b"PK garbage")
    for read in (lambda: read_array(bad), lambda: images_npz(str(bad))):
        with pytest.raises(GanforgeError, match=r"not a readable .npz file \(no NumPy archive") as exc:
            read()
        assert "pickle" not in str(exc.value)
    np.savez(tmp_path / "ok.npz", images=np.zeros((2, 8, 8), np.uint8))
    refuse_damaged_numpy_file(tmp_path / "ok.npz")  # real archives and arrays pass
    np.save(tmp_path / "ok.npy", np.zeros(3))
    refuse_damaged_numpy_file(tmp_path / "ok.npy")


def test_replaced_on_success_renames_a_finished_file_and_leaves_nothing_after_a_failure(tmp_path: Path) -> None:
    from ganforge.fileio import replaced_on_success

    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), replaced_on_success(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("the writer failed")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["out.csv"]
    with replaced_on_success(target, keep_suffix=True) as tmp:
        assert tmp.name == f".out.tmp-{os.getpid()}.csv"
        tmp.write_text("new")
    assert target.read_text() == "new" and [p.name for p in tmp_path.iterdir()] == ["out.csv"]
