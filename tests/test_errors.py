"""The one error type: bounded quoting of values, and environment failures turned into one line."""

from __future__ import annotations

import errno
import time

import numpy as np
import pytest
import torch

from ganforge.errors import (
    GanforgeError,
    as_user_error,
    did_you_mean,
    in_range,
    is_allocation_failure,
    quote,
    range_text,
    real_number,
    whole_number,
)


def test_quote_is_bounded_and_fast_on_huge_shared_values() -> None:
    row = ["x" * 100] * 1000
    huge = [row] * 1000  # repr() of this is ~100 MB
    t0 = time.perf_counter()
    text = quote(huge)
    assert time.perf_counter() - t0 < 0.1
    assert len(text) <= 60 and text.startswith("[[")
    assert quote("short") == "'short'"
    assert "..." in quote("y" * 10_000) and len(quote("y" * 10_000)) <= 60


def test_quote_survives_values_repr_cannot_print() -> None:
    loop: list = []
    loop.append(loop)
    assert quote(loop)  # a self-referencing list
    assert len(quote(10**5000)) <= 60  # beyond Python's 4,300-digit str() limit


def test_did_you_mean_skips_huge_names() -> None:
    t0 = time.perf_counter()
    assert did_you_mean("a" * 100_000, ["alpha", "beta"]) == ""
    assert time.perf_counter() - t0 < 0.1
    assert "steps" in did_you_mean("stpes", ["steps", "seed"])


@pytest.mark.parametrize(
    "exc,words",
    [
        (OSError(errno.ENOSPC, "No space left on device", "/x/run/model.safetensors"), ["free disk space", "/x/run"]),
        (OSError(errno.EROFS, "Read-only file system", "/ro/out.csv"), ["read-only", "/ro/out.csv"]),
        (OSError(errno.EFBIG, "File too large", "/x/big.npy"), ["larger than this system allows"]),
        (IsADirectoryError(errno.EISDIR, "Is a directory", "/x/out"), ["it is a folder"]),
        (OSError(errno.ENOSPC, "No space left on device"), ["free disk space"]),  # no file name
    ],
)
def test_os_errors_become_one_line(exc: OSError, words: list[str]) -> None:
    err = as_user_error(exc)
    assert isinstance(err, GanforgeError)
    text = str(err)
    assert "\n" not in text and all(w in text for w in words), text


def test_allocation_failures_and_recursion_become_one_line_but_bugs_do_not() -> None:
    alloc = RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory: you "
                         "tried to allocate 800000000000 bytes.")
    assert is_allocation_failure(alloc) and is_allocation_failure(MemoryError())
    assert "lower the sizes" in str(as_user_error(alloc))
    assert "nested too deeply" in str(as_user_error(RecursionError("maximum recursion depth exceeded")))
    assert as_user_error(RuntimeError("shape mismatch")) is None  # a bug stays a traceback
    assert as_user_error(OSError("no errno, no file")) is None
    assert as_user_error(KeyError("x")) is None


def test_hints_name_what_is_wrong(tmp_path, run_cli) -> None:
    """CLI audit: each of these said something untrue (a file 'does not exist', `recipes --show` for keys, a
    pydantic class name, 'use .npy' for a table, a folder 'does not exist')."""
    data = tmp_path / "pts.csv"
    data.write_text("x\n1\n2\n")
    code, _, err = run_cli("eval", data)
    assert code == 2 and "is a file; give the run folder" in err
    code, _, err = run_cli("train", "ring8", "--set", "train=5")
    assert code == 2 and "is a section of settings" in err and "trainconfig" not in err.lower()
    code, _, err = run_cli("train", "ring8", "--set", "train.stepz=5")
    assert code == 2 and "`ganforge config NAME` lists every key" in err


def test_one_number_from_python_whole_or_real() -> None:
    """whole_number (counts, classes) and real_number (weights, shares, bounds) read numpy / torch scalars as
    Python's numbers and refuse bools, text and arrays of more than one value alike."""
    for value, whole, real in ((3, 3, 3.0), (2.0, 2, 2.0), (2.5, None, 2.5), (np.int64(4), 4, 4.0),
                               (np.float32(0.5), None, 0.5), (torch.tensor(7), 7, 7.0), (np.array(0.25), None, 0.25)):
        assert whole_number(value) == whole and real_number(value) == real
    for bad in (True, np.bool_(False), "0.1", b"1", [0.1], np.array([1.0, 2.0]), torch.ones(1, 1), None, 1 + 2j):
        assert whole_number(bad) is None and real_number(bad) is None
    assert real_number(float("inf")) == float("inf")  # the caller's range check refuses it


def test_a_range_in_words_and_its_test_agree() -> None:
    """The range augment's and AnomalyDetector's checks share: the words an error line prints and the test."""
    assert (range_text(0, False, 1), range_text(0, True, 1), range_text(1, False, None), range_text(0, True, None),
            range_text(0, False, 2**63)) == ("in [0, 1)", "in (0, 1)", ">= 1", "> 0", "in [0, 2**63)")
    assert in_range(0, 0, False, 1) and not in_range(0, 0, True, 1) and not in_range(1, 0, False, 1)
    assert in_range(5, 1, False, None) and not in_range(float("nan"), 0, False, None)
