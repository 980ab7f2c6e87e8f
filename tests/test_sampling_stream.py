"""`ganforge sample` streams: bounded blocks, a correct .npy, and resident memory that does not grow with N."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import ganforge as gf
from ganforge.sampling import BLOCK_BYTES, STREAM_BATCH, _write_npy, write_samples


class CountingRun:
    """Stands in for a Run: sample(m) returns rows numbered consecutively and records each m."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.data_info = SimpleNamespace(sample_shape=shape)
        self.gan = SimpleNamespace()  # unconditional
        self.calls: list[int] = []
        self.next = 0

    def sample(self, m: int, label: int | None = None) -> torch.Tensor:
        del label
        self.calls.append(m)
        rows = torch.arange(self.next, self.next + m, dtype=torch.float32)
        self.next += m
        return rows.view(m, *[1] * len(self.data_info.sample_shape)).expand(m, *self.data_info.sample_shape).clone()


def test_npy_is_written_in_blocks_and_reads_back_as_a_memmap(tmp_path: Path) -> None:
    run = CountingRun((2,))
    n = 3 * STREAM_BATCH + 17
    out = write_samples(run, n, tmp_path / "x.npy")  # type: ignore[arg-type]
    assert run.calls == [STREAM_BATCH] * 3 + [17]
    array = np.load(out, mmap_mode="r")
    assert isinstance(array, np.memmap) and array.shape == (n, 2) and array.dtype == np.float32
    assert np.array_equal(array[:, 0], np.arange(n, dtype=np.float32))
    assert not list(tmp_path.glob(".x.npy.tmp-*"))  # the temporary file was renamed into place


def test_large_samples_get_smaller_blocks(tmp_path: Path) -> None:
    run = CountingRun((3, 64, 64))
    write_samples(run, 3000, tmp_path / "img.npy")  # type: ignore[arg-type]
    rows = BLOCK_BYTES // (4 * 3 * 64 * 64)
    assert max(run.calls) == rows < STREAM_BATCH and sum(run.calls) == 3000
    assert np.load(tmp_path / "img.npy", mmap_mode="r").shape == (3000, 3, 64, 64)


def test_csv_is_written_in_blocks(tmp_path: Path) -> None:
    run = CountingRun((2,))
    write_samples(run, STREAM_BATCH + 5, tmp_path / "x.csv")  # type: ignore[arg-type]
    assert run.calls == [STREAM_BATCH, 5]
    values = np.loadtxt(tmp_path / "x.csv", delimiter=",", skiprows=1)
    assert values.shape == (STREAM_BATCH + 5, 2) and values[-1, 0] == STREAM_BATCH + 4


def test_a_short_stream_is_an_error_not_a_wrong_file(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="wrote 3 rows"):
        _write_npy(tmp_path / "x.npy", (5, 2), [np.zeros((3, 2))])


def test_resident_memory_does_not_grow_with_n(tmp_path: Path) -> None:
    """In a fresh process: peak RSS after writing 4M 2-D samples (32 MB of output) exceeds the peak after
    4096 samples by less than a quarter of the output; holding the samples, or mapping the file being
    written, would add at least the whole 32 MB."""
    run = tmp_path / "run"
    tiny = ["model.generator.hidden=[16]", "model.discriminator.hidden=[16]", "monitors.mode_collapse=false"]
    gf.train("ring8", steps=2, out=run, overrides=[*tiny, "eval.n=200"], show_progress=False)
    script = textwrap.dedent(
        f"""
        import resource, torch
        torch.set_num_threads(1)
        from ganforge.runs import load
        from ganforge.sampling import write_samples
        run = load({str(run)!r})
        peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        write_samples(run, 4096, {str(tmp_path / "small.npy")!r})
        small = peak()
        write_samples(run, 4_000_000, {str(tmp_path / "big.npy")!r})
        print(small, peak())
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    small, big = map(int, done.stdout.split())
    output_bytes = 4_000_000 * 2 * 4
    assert big - small < output_bytes / 4, f"peak RSS grew by {(big - small) / 2**20:.1f} MiB"
    assert np.load(tmp_path / "big.npy", mmap_mode="r").shape == (4_000_000, 2)


class LabelEchoRun(CountingRun):
    """A conditional stand-in: each sample is its label plus a fraction that float32 holds exactly only with
    9 significant digits."""

    def __init__(self) -> None:
        super().__init__((2,))
        self.gan = SimpleNamespace(num_classes=3)
        self.class_names = None

    def sample(self, m: int, label: torch.Tensor | int | None = None) -> torch.Tensor:
        assert isinstance(label, torch.Tensor), "every format draws its classes as .npz does"
        return torch.stack([label.float(), torch.full((m,), 1 / 3)], 1)


def test_every_format_draws_the_balanced_classes_and_csv_keeps_float32(tmp_path: Path) -> None:
    """.npy and .csv of a conditional model drew random labels that no file kept, so they were other samples
    than .npz's with the same seed; .csv's 7 significant digits changed float32 values by up to 5e-7."""
    run = LabelEchoRun()
    for name in ("x.npy", "x.csv"):
        write_samples(run, 7, tmp_path / name)  # type: ignore[arg-type]
    npy = np.load(tmp_path / "x.npy")
    assert npy[:, 0].tolist() == [0, 1, 2, 0, 1, 2, 0]  # sample i is of class i mod K
    csv = np.loadtxt(tmp_path / "x.csv", delimiter=",", skiprows=1, dtype=np.float64).astype(np.float32)
    assert np.array_equal(csv, npy)
