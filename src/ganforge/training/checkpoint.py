"""Crash-safe checkpoints: tensors in safetensors, everything else in JSON, never pickle.

One checkpoint is one folder::

    run_dir/checkpoints/step-00001000/
        model.safetensors        the GAN module's flat ``state_dict`` (``state["model"]``)
        train_state.safetensors  every tensor of the rest of the state (optimizers, RNG, data position, ...)
        meta.json                written last: step, time, versions, user meta, the skeleton of the rest of
                                 the state, size + sha256 of both safetensors files, and the sha256 of
                                 meta.json's own content (``checksum``)

Why it is crash-safe: the folder is assembled under a temporary name (``.tmp-step-00001000-<pid>``), every
file is ``fsync``ed, and only then is the folder renamed to ``step-00001000`` (an atomic rename) and the
parent ``fsync``ed. A process killed at any moment leaves either no ``step-*`` folder or a complete one;
leftover temporary folders of dead processes are removed on the next save. Readers additionally check
that ``meta.json`` parses and that sizes (and optionally hashes) match, so a checkpoint damaged later (a
truncated copy, a full disk) is skipped and the previous one is used — and the reader says so on stderr
(:func:`latest_checkpoint`). Everything a checkpoint restores is checksummed: the tensors by the sha256 of
their files, the rest (optimizer hyper-parameters such as Adam's betas, eps and lr, scheduler
``last_epoch``, parameter indices, RNG states, the step) by ``checksum``, the sha256 of meta.json's
canonical JSON without that key — a one-bit flip anywhere is a damaged checkpoint, not a silently
different run. Format 1 (no ``checksum``) is still read.

Why no pickle: unpickling runs arbitrary code named in the file. Tensors are stored with safetensors and
the structure around them (dicts with int keys, tuples, floats incl. inf/nan) as a JSON *skeleton* with
placeholders, see :func:`flatten_state`. Weight files in PyTorch's ``.pt`` format are only ever read by
the restricted unpickler (:func:`ganforge.fileio.read_state_dict`).

Not thread-safe: one process (rank 0 under DDP) writes a run's checkpoints.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import math
import os
import re
import shutil
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import safetensors.torch
import torch

from ganforge.errors import GanforgeError
from ganforge.fileio import atomic_write_json, from_jsonable, fsync_dir, fsync_file, to_jsonable

CHECKPOINTS_DIR = "checkpoints"
MODEL_FILE = "model.safetensors"
STATE_FILE = "train_state.safetensors"
META_FILE = "meta.json"
FORMAT = "ganforge-checkpoint"
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)  # 1: before meta.json carried its own checksum
CHECKSUM_KEY = "checksum"
DAMAGED_PREFIX = "damaged-"  # a damaged checkpoint set aside by a resume (kept: its weights may be intact)

_STEP_DIR = re.compile(r"^step-(\d+)$")
_TMP_DIR = re.compile(r"^\.tmp-.+-(\d+)$")

# Skeleton tags: every container and every non-JSON leaf becomes a one-key JSON object, so a bare JSON
# object in a skeleton is always a tag and a bare JSON scalar is always a plain value.
TENSOR_TAG = "__tensor__"
NDARRAY_TAG = "__ndarray__"
DICT_TAG = "__dict__"
LIST_TAG = "__list__"
TUPLE_TAG = "__tuple__"
FLOAT_TAG = "__float__"


# ---------------------------------------------------------------------------------------------------------
# flatten / unflatten


def _non_finite_name(x: float) -> str:
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")


def _encode_key(key: Any, where: str) -> Any:
    if isinstance(key, np.generic):
        key = key.item()
    if key is None or isinstance(key, (str, bool, int)):
        return key
    if isinstance(key, float) and math.isfinite(key):
        return key
    raise TypeError(f"cannot checkpoint a dict key {key!r} of type {type(key).__name__} at '{where}'")


def flatten_state(state: Any) -> tuple[dict[str, torch.Tensor], Any]:
    """Split a nested state into a flat dict of tensors and a JSON-serialisable skeleton.

    ``state`` may nest dicts (any JSON-scalar keys, e.g. the int keys of ``optimizer.state_dict()["state"]``),
    lists and tuples of tensors, numpy arrays and JSON scalars (int, float incl. inf/nan, str, bool, None).
    Tensors are named by their path, ``"optim/generator/state/0/exp_avg"`` (``#1``, ``#2`` ... appended if
    two paths spell the same name); the skeleton replaces each by ``{"__tensor__": name}``. Containers
    become ``{"__dict__": [[key, value], ...]}``, ``{"__list__": [...]}``, ``{"__tuple__": [...]}`` so key
    types and tuple-ness survive JSON; non-finite floats become ``{"__float__": "nan" | "inf" | "-inf"}``.
    Numpy arrays are stored as their raw bytes (a uint8 tensor) with dtype and shape in the skeleton, so
    e.g. ``np.random.get_state()`` round-trips exactly. Tensors are detached, not copied.
    """
    tensors: dict[str, torch.Tensor] = {}

    def new_name(path: list[str]) -> str:
        base = "/".join(path) or "tensor"
        name, i = base, 1
        while name in tensors:
            name, i = f"{base}#{i}", i + 1
        return name

    def walk(obj: Any, path: list[str]) -> Any:
        where = "/".join(path)
        if isinstance(obj, torch.Tensor):
            if obj.layout != torch.strided:
                raise TypeError(f"cannot checkpoint a {obj.layout} tensor at '{where}'; convert it to dense")
            name = new_name(path)
            tensors[name] = obj.detach()
            return {TENSOR_TAG: name}
        if isinstance(obj, np.ndarray):
            if obj.dtype.hasobject or obj.dtype.fields is not None:
                raise TypeError(f"cannot checkpoint a numpy array of dtype {obj.dtype} at '{where}'")
            name = new_name(path)
            tensors[name] = torch.tensor(np.frombuffer(obj.tobytes(), dtype=np.uint8))
            return {NDARRAY_TAG: {"tensor": name, "dtype": obj.dtype.str, "shape": list(obj.shape)}}
        if isinstance(obj, np.generic):
            return walk(obj.item(), path)
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return float(obj) if math.isfinite(obj) else {FLOAT_TAG: _non_finite_name(obj)}
        if isinstance(obj, Mapping):
            items = []
            for key, value in obj.items():
                items.append([_encode_key(key, where), walk(value, [*path, str(key)])])
            return {DICT_TAG: items}
        if isinstance(obj, list):
            return {LIST_TAG: [walk(v, [*path, str(i)]) for i, v in enumerate(obj)]}
        if isinstance(obj, tuple):
            return {TUPLE_TAG: [walk(v, [*path, str(i)]) for i, v in enumerate(obj)]}
        raise TypeError(
            f"cannot checkpoint a {type(obj).__name__} at '{where}'; state may hold only tensors, numpy "
            "arrays, dicts, lists, tuples and JSON scalars"
        )

    skeleton = walk(state, [])
    return tensors, skeleton


def unflatten_state(tensors: Mapping[str, torch.Tensor], skeleton: Any) -> Any:
    """Rebuild the structure :func:`flatten_state` split: the exact inverse.

    Dict keys keep their types (int keys stay int), tuples stay tuples, tensors keep their dtypes and
    non-finite floats come back as floats. Raises ``ValueError`` for a malformed skeleton or a tensor
    the skeleton names but ``tensors`` lacks.
    """

    def tensor(name: Any) -> torch.Tensor:
        if not isinstance(name, str) or name not in tensors:
            raise ValueError(f"skeleton names tensor {name!r}, which is not stored")
        return tensors[name]

    def build(node: Any) -> Any:
        if isinstance(node, dict):
            if len(node) != 1:
                raise ValueError(f"malformed skeleton node with keys {sorted(node)}")
            ((tag, value),) = node.items()
            if tag == TENSOR_TAG:
                return tensor(value)
            if tag == DICT_TAG:
                return {key: build(v) for key, v in value}
            if tag == LIST_TAG:
                return [build(v) for v in value]
            if tag == TUPLE_TAG:
                return tuple(build(v) for v in value)
            if tag == FLOAT_TAG:
                return float(value)
            if tag == NDARRAY_TAG:
                raw = tensor(value["tensor"]).numpy().tobytes()
                return np.frombuffer(raw, dtype=np.dtype(value["dtype"])).reshape(value["shape"]).copy()
            raise ValueError(f"unknown skeleton tag {tag!r}")
        if isinstance(node, list):
            raise ValueError("malformed skeleton: bare list (lists are stored as {'__list__': [...]})")
        return node

    return build(skeleton)


# ---------------------------------------------------------------------------------------------------------
# small helpers


def checkpoint_dir_name(step: int) -> str:
    """The folder name of the checkpoint for ``step``: ``step-00001000`` (zero-padded so names sort)."""
    return f"step-{step:08d}"


def _parse_step(name: str) -> int | None:
    m = _STEP_DIR.match(name)
    return int(m.group(1)) if m else None


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _record_checksum(record: Mapping[str, Any]) -> str:
    """sha256 of a meta.json record's canonical JSON (sorted keys, no spaces), ``checksum`` left out."""
    body = {k: v for k, v in record.items() if k != CHECKSUM_KEY}
    text = json.dumps(to_jsonable(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _ganforge_version() -> str:
    try:
        return importlib.metadata.version("ganforge")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _storable(tensors: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Tensors safetensors accepts: on CPU, contiguous, each owning its whole storage.

    safetensors refuses tensors that share memory (tied weights, the same tensor under two names) or
    that are views into a larger buffer; those, and only those, are copied.
    """
    out: dict[str, torch.Tensor] = {}
    seen: set[int] = set()
    for name, t in tensors.items():
        t = t.detach().cpu()
        if not t.is_contiguous():
            t = t.contiguous()
        storage = t.untyped_storage()
        ptr = storage.data_ptr()
        if storage.nbytes() != 0 and (ptr in seen or storage.nbytes() != t.numel() * t.element_size()):
            t = t.clone()
            ptr = t.untyped_storage().data_ptr()
        if t.numel():
            seen.add(ptr)
        out[name] = t
    return out


def _pid_alive(pid: int, path: Path) -> bool:
    """Whether the process that owns a temporary folder may still be writing it."""
    if pid == os.getpid():
        return False  # our own leftover from an earlier failed save: we are not writing it now
    if os.name == "nt":  # os.kill would terminate the process on Windows; fall back to the folder's age
        try:
            return time.time() - path.stat().st_mtime < 24 * 3600
        except OSError:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user
    except OSError:
        return False
    return True


def _remove_dir(path: Path, root: Path) -> None:
    """Delete a checkpoint folder: rename it to a ``.tmp-`` name first, so a kill mid-delete never leaves
    a half-deleted ``step-*`` folder behind (the renamed remains are cleaned on the next save)."""
    doomed = root / f".tmp-delete-{path.name}-{os.getpid()}"
    if doomed.exists():
        shutil.rmtree(doomed, ignore_errors=True)
    os.rename(path, doomed)
    shutil.rmtree(doomed, ignore_errors=True)


def _clean_stale_tmp(root: Path) -> None:
    for entry in root.iterdir():
        m = _TMP_DIR.match(entry.name)
        if m and entry.is_dir() and not _pid_alive(int(m.group(1)), entry):
            shutil.rmtree(entry, ignore_errors=True)


# ---------------------------------------------------------------------------------------------------------
# inspection


@dataclass(frozen=True)
class CheckpointInfo:
    """A complete, valid checkpoint: its folder, its step and its ``meta.json`` (user meta decoded)."""

    path: Path
    step: int
    meta: dict[str, Any] = field(compare=False, repr=False)


def _inspect(ckpt: Path, verify_hashes: bool) -> tuple[dict[str, Any] | None, str | None]:
    """Return ``(meta, None)`` for a valid checkpoint folder, else ``(None, what is wrong)``."""
    meta_path = ckpt / META_FILE
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, f"{meta_path} is missing (the save did not finish)"
    except (OSError, ValueError, RecursionError) as err:  # bad JSON, bad UTF-8, an integer past the digit limit
        return None, f"{meta_path} is unreadable ({type(err).__name__})"
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        return None, f"{meta_path} is not a ganforge checkpoint record"
    version = meta.get("format_version")
    if type(version) is not int or version not in READABLE_VERSIONS:
        newer = type(version) is int and version > FORMAT_VERSION
        return None, f"{meta_path} has format {version!r}" + ("; a newer ganforge wrote it" if newer else " (damaged)")
    if version >= 2 or CHECKSUM_KEY in meta:
        try:
            same = meta.get(CHECKSUM_KEY) == _record_checksum(meta)
        except (TypeError, ValueError):
            same = False
        if not same:
            return None, f"{meta_path} does not match its checksum (damaged)"
    step = _parse_step(ckpt.name)
    if step is not None and meta.get("step") != step:
        return None, f"{meta_path} records step {meta.get('step')!r} but the folder is {ckpt.name}"
    files = meta.get("files")
    if not isinstance(files, dict) or "skeleton" not in meta:
        return None, f"{meta_path} lacks its file list or skeleton"
    for name in (MODEL_FILE, STATE_FILE):
        spec = files.get(name)
        path = ckpt / name
        if not isinstance(spec, dict) or "bytes" not in spec or "sha256" not in spec:
            return None, f"{meta_path} has no size and hash for {name}"
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return None, f"{path} is missing"
        if size != spec["bytes"]:
            return None, f"{path} has {size} bytes, {spec['bytes']} were written (truncated or damaged)"
        if verify_hashes and _sha256_file(path) != spec["sha256"]:
            return None, f"{path} does not match its sha256 (damaged)"
    meta["user"] = from_jsonable(meta.get("user", {}))
    return meta, None


def scan_checkpoints(
    run_dir: str | os.PathLike[str], *, verify_hashes: bool = True
) -> tuple[list[CheckpointInfo], list[tuple[Path, str]]]:
    """``(valid checkpoints oldest first, [(damaged step folder, what is wrong)] oldest first)``."""
    root = Path(run_dir) / CHECKPOINTS_DIR
    if not root.is_dir():
        return [], []
    found, damaged = [], []
    for entry in root.iterdir():
        step = _parse_step(entry.name)
        if step is None or not entry.is_dir():
            continue
        meta, problem = _inspect(entry, verify_hashes)
        if problem is None and meta is not None:
            found.append(CheckpointInfo(entry, step, meta))
        else:
            damaged.append((entry, problem or "unreadable"))
    return sorted(found, key=lambda c: c.step), sorted(damaged)


def list_checkpoints(run_dir: str | os.PathLike[str], *, verify_hashes: bool = True) -> list[CheckpointInfo]:
    """All complete, valid checkpoints of a run, oldest first.

    Skipped: temporary folders, folders without a parsable ``meta.json`` or whose record does not match its
    checksum, and folders whose safetensors files are missing or differ in size from what ``meta.json``
    records — or, with ``verify_hashes`` (the default; pass ``False`` to skip reading every byte), in sha256.
    """
    return scan_checkpoints(run_dir, verify_hashes=verify_hashes)[0]


_REPORTED: set[tuple[str, str]] = set()  # (damaged folder, problem) already announced by this process


def latest_checkpoint(
    run_dir: str | os.PathLike[str], *, verify_hashes: bool = True, announce: bool = True
) -> CheckpointInfo | None:
    """The newest valid checkpoint of a run, or ``None``.

    A damaged newer one is passed over, and (``announce``) that is said on stderr once per process — a
    fallback the user does not hear about reads as "my last steps were lost" later.
    """
    found, damaged = scan_checkpoints(run_dir, verify_hashes=verify_hashes)
    chosen = found[-1] if found else None
    if announce and chosen is not None:
        for path, problem in damaged:
            if (_parse_step(path.name) or 0) > chosen.step and (str(path), problem) not in _REPORTED:
                _REPORTED.add((str(path), problem))
                print(
                    f"warning: checkpoint {path.name} is damaged ({problem}); using the previous one, "
                    f"{chosen.path.name}",
                    file=sys.stderr,
                    flush=True,
                )
    return chosen


def recoverable_damaged(run_dir: str | os.PathLike[str]) -> list[tuple[Path, str]]:
    """Damaged checkpoint folders whose ``model.safetensors`` still reads as a whole safetensors file: their
    weights could be recovered by hand, so nothing may delete them (a restart from step 0 would)."""
    out = []
    for path, problem in scan_checkpoints(run_dir, verify_hashes=False)[1]:
        try:
            safetensors.torch.load_file(str(path / MODEL_FILE))
        except Exception:  # noqa: BLE001, S112 - unreadable weights: nothing to recover there
            continue
        out.append((path, problem))
    return out


def damage_report(run_dir: str | os.PathLike[str]) -> str:
    """A clause for "no valid checkpoint" errors: how many step folders exist and the first problem."""
    _, damaged = scan_checkpoints(run_dir, verify_hashes=False)
    if not damaged:
        return ""
    return f"; all {len(damaged)} checkpoint folder(s) are damaged (first: {damaged[0][1]})"


# ---------------------------------------------------------------------------------------------------------
# saving


def _prune(root: Path, keep: int, keep_steps: set[int], written: int) -> None:
    """Delete checkpoints older than ``written`` beyond the newest ``keep`` (counting ``written`` itself).

    Kept: the one just written, ``keep_steps``, and the newest ``keep - 1`` valid ones before it. Damaged
    folders older than ``written`` are deleted too (they can never be loaded). Folders *newer* than
    ``written`` (a run resumed from an earlier step) are left alone; see :func:`remove_checkpoints_after`.
    """
    older = sorted((s, e) for e in root.iterdir() if (s := _parse_step(e.name)) is not None and s < written)
    valid_older = [s for s, e in older if _inspect(e, verify_hashes=False)[1] is None]
    keep_set = {written, *keep_steps, *valid_older[max(0, len(valid_older) - (keep - 1)) :]}
    for step, entry in older:
        if step not in keep_set:
            _remove_dir(entry, root)
    fsync_dir(root)


def save_checkpoint(
    run_dir: str | os.PathLike[str],
    step: int,
    state: Mapping[str, Any],
    meta: Mapping[str, Any] | None = None,
    keep: int = 3,
    keep_steps: Iterable[int] | None = None,
) -> Path:
    """Write the checkpoint of ``step`` atomically and prune old ones; return its folder.

    ``state["model"]`` (a flat ``state_dict``) goes to ``model.safetensors``; every other entry is split
    by :func:`flatten_state` into ``train_state.safetensors`` and a skeleton in ``meta.json``. ``meta`` is
    any JSON-able user data (non-finite floats allowed), stored under ``"user"``. ``meta.json`` is written
    last, then the whole folder is renamed into place. Saving a step that already exists replaces it.
    Afterwards only the newest ``keep`` checkpoints up to ``step`` (plus ``keep_steps``, e.g. the best one)
    are kept.
    """
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ValueError(f"step must be a non-negative int, got {step!r}")
    if keep < 1:
        raise GanforgeError(f"checkpoint keep={keep} would delete every checkpoint; set keep to 1 or more")
    if "model" not in state or not isinstance(state["model"], Mapping):
        raise ValueError("state['model'] must be the GAN module's state_dict")
    for name, value in state["model"].items():
        if not isinstance(name, str) or not isinstance(value, torch.Tensor):
            raise TypeError(f"state['model'] must map str to Tensor; got {name!r}: {type(value).__name__}")

    root = Path(run_dir) / CHECKPOINTS_DIR
    root.mkdir(parents=True, exist_ok=True)
    _clean_stale_tmp(root)

    model_tensors = _storable(state["model"])
    flat, skeleton = flatten_state({k: v for k, v in state.items() if k != "model"})
    state_tensors = _storable(flat)

    name = checkpoint_dir_name(step)
    tmp = root / f".tmp-{name}-{os.getpid()}"
    final = root / name
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        files: dict[str, dict[str, Any]] = {}
        for file_name, tensors in ((MODEL_FILE, model_tensors), (STATE_FILE, state_tensors)):
            path = tmp / file_name
            # one metadata key: safetensors writes a map's keys in a random order, so two keys gave two identical
            # runs' checkpoints different bytes and sha256s; the file name already says which file it is
            safetensors.torch.save_file(tensors, str(path), metadata={"format": "pt"})
            fsync_file(path)
            files[file_name] = {"bytes": path.stat().st_size, "sha256": _sha256_file(path)}
        now = time.time()
        record = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "step": step,
            "created": datetime.fromtimestamp(now, timezone.utc).isoformat(timespec="seconds"),
            "created_unix": now,
            "ganforge_version": _ganforge_version(),
            "torch_version": torch.__version__,
            "user": dict(meta or {}),
            "files": files,
            "skeleton": skeleton,
        }
        record[CHECKSUM_KEY] = _record_checksum(record)
        atomic_write_json(tmp / META_FILE, record)  # last: its presence marks the folder complete
        fsync_dir(tmp)
        replaced = root / f".tmp-replaced-{name}-{os.getpid()}"
        if final.exists():  # re-saving a step: move the old one aside first, drop it once the new is in
            shutil.rmtree(replaced, ignore_errors=True)
            os.rename(final, replaced)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    fsync_dir(root)
    shutil.rmtree(replaced, ignore_errors=True)
    _prune(root, keep, set(keep_steps or ()), step)
    return final


def remove_checkpoints_after(run_dir: str | os.PathLike[str], step: int) -> list[Path]:
    """Clear every checkpoint folder with a step greater than ``step``; return their paths.

    Call it when resuming from an earlier checkpoint than the newest, so the abandoned future can never
    be mistaken for the latest checkpoint of the resumed run (the checkpoint twin of
    :func:`ganforge.training.metrics_log.truncate_after`). A valid one is deleted; a damaged one (the
    usual reason to resume from an earlier step) is renamed ``damaged-step-…`` and kept, with a line on
    stderr: its weights file may well be intact and recoverable by hand.
    """
    root = Path(run_dir) / CHECKPOINTS_DIR
    if not root.is_dir():
        return []
    removed = []
    for entry in sorted(root.iterdir()):
        s = _parse_step(entry.name)
        if s is not None and s > step:
            problem = _inspect(entry, verify_hashes=True)[1]
            if problem is None:
                _remove_dir(entry, root)
            else:
                aside = root / f"{DAMAGED_PREFIX}{entry.name}"
                n = 1
                while aside.exists():
                    aside, n = root / f"{DAMAGED_PREFIX}{entry.name}.{n}", n + 1
                os.rename(entry, aside)
                print(f"warning: set the damaged checkpoint {entry.name} aside as {aside} ({problem})",
                      file=sys.stderr, flush=True)
            removed.append(entry)
    fsync_dir(root)
    return removed


# ---------------------------------------------------------------------------------------------------------
# loading


def _unusable(ckpt: Path, problem: str) -> GanforgeError:
    """One-line error for a damaged checkpoint that points at the previous valid one."""
    step = _parse_step(ckpt.name)
    earlier = [
        c for c in list_checkpoints(ckpt.parent.parent, verify_hashes=False) if step is None or c.step < step
    ]
    if earlier:
        hint = f"resume from the previous checkpoint {earlier[-1].path} instead"
    else:
        hint = "no earlier valid checkpoint exists, so training has to restart"
    return GanforgeError(f"checkpoint {ckpt} is unusable: {problem}; {hint}")


def _read_tensors(ckpt: Path, file_name: str, meta: dict[str, Any], verify: bool) -> dict[str, torch.Tensor]:
    path = ckpt / file_name
    try:
        data = path.read_bytes()
    except OSError as err:
        raise _unusable(ckpt, f"cannot read {path} ({err.strerror or err})") from None
    if verify and hashlib.sha256(data).hexdigest() != meta["files"][file_name]["sha256"]:
        raise _unusable(ckpt, f"{path} does not match its sha256 (damaged)")
    try:
        return safetensors.torch.load(data)
    except Exception as err:  # safetensors raises its own error type for every malformed file
        raise _unusable(ckpt, f"{path} is not a readable safetensors file ({err})") from None


def _resolve(path: str | os.PathLike[str]) -> Path:
    """A checkpoint folder, or a run folder (meaning its latest valid checkpoint)."""
    p = Path(path)
    if not (p / META_FILE).exists() and (p / CHECKPOINTS_DIR).is_dir():
        info = latest_checkpoint(p, verify_hashes=False)
        if info is None:
            raise GanforgeError(
                f"run {p} has no complete checkpoint in {p / CHECKPOINTS_DIR}; train it first"
            )
        return info.path
    if not p.is_dir():
        raise GanforgeError(
            f"no checkpoint at {p}; pass a run folder or a checkpoint folder "
            "such as run/checkpoints/step-00001000"
        )
    return p


def load_checkpoint(
    path: str | os.PathLike[str], *, weights_only: bool = False, verify: bool = True
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Load a checkpoint folder (or a run folder's latest checkpoint): return ``(state, meta)``.

    ``state`` has the structure given to :func:`save_checkpoint` (``state["model"]`` plus the rest, rebuilt
    by :func:`unflatten_state`); with ``weights_only`` it holds only ``"model"`` and the training state is
    not read. ``meta`` is the ``meta.json`` record (``step``, ``created``, ``ganforge_version``,
    ``user`` ...). With ``verify`` every file is checked against its sha256. A damaged or truncated
    checkpoint raises :class:`GanforgeError` naming the file and the previous valid checkpoint.
    """
    ckpt = _resolve(path)
    meta, problem = _inspect(ckpt, verify_hashes=False)  # sizes now; hashes below, from the bytes read once
    if problem is not None or meta is None:
        raise _unusable(ckpt, problem or "unreadable")
    state: dict[str, Any] = {"model": _read_tensors(ckpt, MODEL_FILE, meta, verify)}
    if not weights_only:
        flat = _read_tensors(ckpt, STATE_FILE, meta, verify)
        try:
            rest = unflatten_state(flat, meta["skeleton"])
        except (ValueError, TypeError, KeyError) as err:
            raise _unusable(
                ckpt, f"{ckpt / META_FILE} has a skeleton that does not match its tensors ({err})"
            ) from None
        if not isinstance(rest, dict):
            raise _unusable(ckpt, f"{ckpt / META_FILE} has a skeleton that is not a dict")
        state.update(rest)
    return state, meta


def check_model_state(weights: Any, gan: torch.nn.Module, where: str | Path) -> None:
    """Check a checkpoint's weights against ``gan`` *before* loading them: the same tensor names, shapes and
    kinds of dtype. A mismatch (another architecture, a hand-edited or crafted file) is one line naming
    the first difference, and ``gan`` is left untouched."""
    expected = gan.state_dict()
    if not isinstance(weights, dict) or not all(isinstance(t, torch.Tensor) for t in weights.values()):
        raise GanforgeError(f"{where}: the weights are not a flat mapping of tensors; the checkpoint is damaged")
    missing = [k for k in expected if k not in weights]
    extra = [k for k in weights if k not in expected]
    if missing or extra:
        first = f"missing '{missing[0]}'" if missing else f"unexpected '{extra[0]}'"
        raise GanforgeError(
            f"{where}: weights do not fit the model in config.yaml ({first}; {len(missing)} missing, "
            f"{len(extra)} unexpected); load it with the config it was trained with"
        )
    for name, tensor in expected.items():
        got = weights[name]
        if tuple(got.shape) != tuple(tensor.shape) or got.is_floating_point() != tensor.is_floating_point():
            raise GanforgeError(
                f"{where}: weights do not fit the model in config.yaml ('{name}' is {tuple(got.shape)} "
                f"{got.dtype}, the model needs {tuple(tensor.shape)} {tensor.dtype})"
            )


def checkpoint_step(meta: Any, where: str | Path) -> int:
    """The step a checkpoint's ``meta.json`` records, validated as a non-negative int."""
    step = meta.get("step") if isinstance(meta, dict) else None
    if type(step) is not int or step < 0:
        raise GanforgeError(f"{where}: meta.json records step {step!r}, not a step number; the checkpoint is damaged")
    return step
