"""One writer per run folder: an OS lock (``flock``) on the run folder itself.

Why: two ``train`` processes into the same ``--out`` (or a ``resume`` while a ``train`` runs) both
succeed otherwise, interleaving ``metrics.jsonl`` and overwriting each other's checkpoints. Every command
that writes a run folder (train, resume) holds an exclusive ``fcntl.flock`` on the lock file for as long
as it runs; a second writer is refused in one line. ``ganforge eval`` holds it only while it stores an
evaluation in ``summary.json`` (and only notes a refusal). Readers (sample, diagnose, eval's measuring) take no
lock.

Why ``flock``: the kernel releases it when the process dies however it dies (SIGKILL included), so a dead
writer never blocks anyone — only a *held* lock does. Why on the folder and not on a lock file inside it:
nothing is written, so there is no stale lock file to clean, no file a failing command would leave changed
(a refused or failing command must leave the run byte-for-byte as it was), and no race between deleting a
lock file and locking a new one. Linux and macOS lock a directory descriptor like any file.

Under torchrun only rank 0 takes the lock (the ranks of one job are one writer). Where ``fcntl`` does not
exist (Windows) no lock is taken.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from ganforge.errors import GanforgeError

# resolved run folder -> [file descriptor, hold count, whether this lock created the folder]: one process may
# hold its own lock re-entrantly (the CLI's resume, then api.resume inside it); flock on a second descriptor
# would refuse ourselves.
_HELD: dict[str, list[int]] = {}


def _is_rank_zero() -> bool:
    return os.environ.get("RANK", "0") == "0"


def hold_run_lock(path: str | os.PathLike[str], action: str) -> None:
    """Take the writer's lock of run folder ``path`` (created if missing) for ``action`` ("train", "resume").

    Raises :class:`GanforgeError` when another live process holds it. Pair with :func:`release_run_lock`.
    """
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks here
        return
    if not _is_rank_zero():
        return
    folder = Path(path)
    key = str(folder.resolve())
    if key in _HELD:
        _HELD[key][1] += 1
        return
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as err:
        raise GanforgeError(f"cannot lock run folder {folder} ({err.strerror or err}); check its permissions") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise GanforgeError(
            f"run folder {folder} is being written by another ganforge process (a train or resume); wait for "
            f"it to finish or stop it before you {action} — two writers would interleave its checkpoints and "
            "metrics"
        ) from None
    _HELD[key] = [fd, 1, created]


def release_run_lock(path: str | os.PathLike[str]) -> None:
    """Give back one hold of the lock taken by :func:`hold_run_lock` (no-op if this process holds none)."""
    key = str(Path(path).resolve())
    entry = _HELD.get(key)
    if entry is None:
        return
    entry[1] -= 1
    if entry[1] > 0:
        return
    del _HELD[key]
    os.close(entry[0])  # closing the descriptor releases the flock
    if entry[2]:  # a folder this lock created and nothing wrote into (the command failed first): leave no trace
        with contextlib.suppress(OSError):
            Path(path).rmdir()  # only succeeds while empty


def holds_run_lock(path: str | os.PathLike[str]) -> bool:
    """Whether this process holds the writer's lock of ``path``."""
    return str(Path(path).resolve()) in _HELD
