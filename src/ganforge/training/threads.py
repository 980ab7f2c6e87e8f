"""How many CPU threads torch uses while training, chosen from the model's size.

torch's default is one intra-op thread per core. A small MLP's matrix products are far too small to
split: every op then pays the threads' synchronisation, and on a machine where other jobs hold the cores
each op waits for a descheduled thread — measured 5-12x slower (docs/benchmarks/untuned_defaults.md).
So a model below ``PARAMS_PER_THREAD`` parameters trains on one thread, and larger ones get one more
thread per ``PARAMS_PER_THREAD`` parameters, at most the cores torch would use. ``train.threads`` sets
the count explicitly. The previous setting is restored when the run ends.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import torch

PARAMS_PER_THREAD = 1_000_000


def choose_threads(parameters: int, requested: int | None = None, available: int | None = None) -> int:
    """``requested`` if given, else ``1 + parameters // PARAMS_PER_THREAD`` capped at ``available``
    (torch's current intra-op thread count: its default is the number of cores). A request for more threads
    than the machine has cores is kept, with a note: they only wait on each other (64 on 2 cores trained at
    15 it/s against 37 on one)."""
    if requested is not None:
        cores = os.cpu_count() or 1
        if int(requested) > cores:
            print(f"note: train.threads={requested} is more than the {cores} cores here; threads beyond the cores "
                  "slow training down", file=sys.stderr, flush=True)
        return max(1, int(requested))
    cap = available if available is not None else torch.get_num_threads()
    return max(1, min(cap, 1 + parameters // PARAMS_PER_THREAD))


@contextmanager
def torch_threads(count: int) -> Iterator[int]:
    """Run the block with ``count`` intra-op threads; restores the previous count afterwards."""
    previous = torch.get_num_threads()
    if count != previous:
        torch.set_num_threads(count)
    try:
        yield count
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)
