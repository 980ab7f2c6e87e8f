"""Files that hold programs (``torch.export`` archives, TorchScript modules): inspected before loading,
and run only when trusted.

Why: ``torch.export.load`` unpickles parts of its archive and, when the restricted unpickler refuses one,
retries with ``weights_only=False`` — any pickle in the archive then runs its code (a ``__reduce__`` calling
``os.system``). It also loads AOTInductor shared libraries, and an exported graph may call any attribute
of the ``torch`` module (``torch.os.system`` included). A TorchScript module is code by definition. So:

* :func:`check_export_archive` reads the zip's member list and its JSON records *before* torch sees the
  file and refuses everything torch would load with the full unpickler or as native code: pickled weights
  or constants (``use_pickle``), custom/opaque objects, legacy ``model.pt`` members, the pre-2.7 format,
  AOTInductor/ExecuTorch payloads, unknown or duplicated members. What is left is raw tensor bytes, JSON
  and the sample inputs, which must load with the restricted unpickler (``weights_only=True``), so torch's
  own first attempt succeeds and its ``weights_only=False`` retry never runs.
* :func:`check_program_graph` accepts an exported graph only when every call is a registered PyTorch
  operator (``torch.ops.aten`` / ``prims`` / ``higher_order``) or a function of ``operator`` / ``math``: the
  graphs ganforge itself exports (``RUN/generator.pt2``, ``ganforge export -o x.pt2``) pass; a graph that
  calls ``torch.os.system`` does not.
* A user's own network file (``eval.features=PATH``) is a program written by someone else: it is loaded
  only with an explicit opt-in (``--trust-code`` / ``eval.trust_code: true``), see :func:`refuse_untrusted`.
  A run folder's ``config.yaml`` never grants that trust; only the command being run does.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import operator
import os
import re
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ganforge.errors import GanforgeError

TRUST_HINT = (
    "a TorchScript or torch.export file is a program and can run any code; load it only if you made it or "
    "trust who did, with --trust-code (eval.trust_code: true when training)"
)

_WEIGHT = re.compile(r"^data/weights/(weight_\d+|[A-Za-z0-9_.-]+_weights_config\.json)$")
_CONSTANT = re.compile(r"^data/constants/(tensor_\d+|[A-Za-z0-9_.-]+_constants_config\.json)$")
_MODEL = re.compile(r"^models/[A-Za-z0-9_.-]+\.json$")
_SAMPLE_INPUTS = re.compile(r"^data/sample_inputs/[A-Za-z0-9_.-]+\.pt$")
_PLAIN = {"archive_format", "archive_version", "byteorder", ".data/version", ".data/serialization_id"}
SAFE_OP_NAMESPACES = frozenset({"aten", "prims", "higher_order"})
MAX_MEMBER_BYTES = 1 << 30  # one archive member; a real feature network or generator is far smaller


def archive_kind(path: str | os.PathLike[str]) -> str | None:
    """``"export"`` for a ``torch.export`` archive (.pt2), ``"torchscript"`` for ``torch.jit.save``, else None."""
    file = Path(path)
    try:
        if not zipfile.is_zipfile(file):
            return None
        with zipfile.ZipFile(file) as archive:
            names = archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return None
    if any(n == "archive_format" or n.endswith("/archive_format") or n.endswith("models/model.json") for n in names):
        return "export"
    if any(n == "version" or n.endswith("serialized_exported_program.json") for n in names):
        return "export"  # the pre-2.7 layout (refused by check_export_archive)
    if any("/code/" in n or n.endswith("/data.pkl") or n == "data.pkl" for n in names):
        return "torchscript"
    return None


def refuse_untrusted(path: str | os.PathLike[str], what: str, trust_code: bool) -> None:
    """Raise unless ``trust_code``: ``path`` is a program (TorchScript / torch.export) named as ``what``."""
    if not trust_code:
        raise GanforgeError(f"{what} {path} is a program, not weights: {TRUST_HINT}")


def _refused(path: Path, why: str) -> GanforgeError:
    return GanforgeError(
        f"{path}: refused to load ({why}); loading it could run code stored in the file — re-export it with "
        "torch.export.save from plain tensors, or use a .safetensors weights file"
    )


def check_export_archive(path: str | os.PathLike[str]) -> None:
    """Refuse a ``torch.export`` archive holding anything torch would unpickle unrestricted or run natively.

    Reads only the zip directory, the JSON payload records and the sample-inputs pickles (the latter with
    the restricted unpickler). Raises :class:`GanforgeError` (one line) naming the first offending member.
    """
    import torch

    file = Path(path)
    try:
        archive = zipfile.ZipFile(file)
    except (OSError, zipfile.BadZipFile) as err:
        raise GanforgeError(f"{file}: not a readable torch.export archive ({type(err).__name__}: {err})") from None
    with archive:
        infos = archive.infolist()
        names = [i.filename for i in infos]
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise _refused(file, f"member {dup!r} appears twice")
        prefixes = {n.split("/", 1)[0] for n in names}
        if len(prefixes) != 1 or any("/" not in n for n in names):
            raise _refused(file, "not the torch.export.save layout (one top folder); older archives are not read")
        prefix = prefixes.pop() + "/"
        for info in infos:
            rel = info.filename[len(prefix):]
            if info.is_dir() or rel == "":
                continue
            if info.file_size > MAX_MEMBER_BYTES:
                raise _refused(file, f"member {info.filename!r} is {info.file_size} bytes")
            plain = rel in _PLAIN or _MODEL.match(rel) or _WEIGHT.match(rel) or _CONSTANT.match(rel)
            if plain or (rel.startswith("extra/") and ".." not in rel):
                pass
            elif _SAMPLE_INPUTS.match(rel):
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        torch.load(io.BytesIO(archive.read(info)), map_location="cpu", weights_only=True)
                except Exception as err:  # noqa: BLE001 - torch would retry this one with weights_only=False
                    detail = (str(err).strip().splitlines() or [type(err).__name__])[0][:120]
                    why = f"{info.filename} is a pickle the restricted unpickler rejects: {detail}"
                    raise _refused(file, why) from None
            else:
                raise _refused(file, f"member {info.filename!r} is not plain tensors or JSON")
            if rel.endswith("_config.json"):
                _check_payload_config(file, archive, info)
        if prefix + "archive_format" not in names or archive.read(prefix + "archive_format").strip() != b"pt2":
            raise _refused(file, "no archive_format 'pt2' record")


def _check_payload_config(file: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """A weights/constants record may only point at raw tensor members (``use_pickle`` false)."""
    try:
        record = json.loads(archive.read(info))
        entries = record["config"]
        assert isinstance(entries, dict)
    except Exception:  # noqa: BLE001
        raise _refused(file, f"{info.filename} is not a payload record") from None
    for fqn, entry in entries.items():
        path_name = entry.get("path_name") if isinstance(entry, dict) else None
        if not isinstance(entry, dict) or entry.get("use_pickle") is not False:
            raise _refused(file, f"{info.filename} stores {fqn!r} as a pickle")
        if not isinstance(path_name, str) or not re.fullmatch(r"(weight|tensor)_\d+", path_name):
            raise _refused(file, f"{info.filename} stores {fqn!r} as {path_name!r}, not a raw tensor")


def _graph_targets(program: Any) -> Iterator[tuple[str, Any]]:
    """``(op, target)`` of every node of every graph in an ExportedProgram (submodules of control flow too)."""
    for module in program.graph_module.modules():
        graph = getattr(module, "graph", None)
        if graph is None:
            continue
        for node in graph.nodes:
            yield node.op, node.target


def check_program_graph(program: Any, where: str | os.PathLike[str]) -> None:
    """Refuse an exported graph that calls anything but PyTorch operators and ``operator``/``math``."""
    import torch

    for op, target in _graph_targets(program):
        if op in ("placeholder", "output", "get_attr"):
            continue
        ok = False
        if op == "call_function":
            if isinstance(target, (torch._ops.OpOverload, torch._ops.OpOverloadPacket)):
                ok = target.namespace in SAFE_OP_NAMESPACES
            elif isinstance(target, torch._ops.HigherOrderOperator):
                ok = True  # cond / map / while_loop: their bodies are graphs, checked by the same loop
            elif callable(target) and getattr(target, "__module__", None) in ("_operator", "operator", "math"):
                ok = getattr(operator, getattr(target, "__name__", ""), None) is target or getattr(
                    math, getattr(target, "__name__", ""), None
                ) is target
        if not ok:
            name = getattr(target, "__qualname__", None) or getattr(target, "__name__", None) or repr(target)
            raise GanforgeError(
                f"{where}: refused to run its program: it calls {op} {str(name)[:80]}, which is not a PyTorch "
                "operator; only graphs of torch operators are run without --trust-code"
            )


@contextlib.contextmanager
def quiet_torch() -> Iterator[None]:
    """torch.export (saving, loading, tracing) reports through ``warnings`` and the ``torch`` loggers: format
    details, graph dumps of a failed trace, notes on assigned tensor attributes. Inside a run or a command
    those are noise, and a failure is reported in one line by the caller. ``torch._logging`` gives some child
    loggers levels of their own, so every ``torch.*`` logger is raised to ERROR, not just ``torch``."""
    names = ["torch", *(n for n in logging.root.manager.loggerDict if n.startswith("torch."))]
    loggers = [logging.getLogger(n) for n in names]
    levels = [lg.level for lg in loggers]
    try:
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def load_exported_program(path: str | os.PathLike[str], *, trust_code: bool = False) -> Any:
    """An ExportedProgram from ``path``, after :func:`check_export_archive`; without ``trust_code`` its
    graph must pass :func:`check_program_graph`. Damaged files are one :class:`GanforgeError` line."""
    import torch

    file = Path(path)
    check_export_archive(file)
    try:
        with quiet_torch():
            program = torch.export.load(str(file))
    except Exception as err:  # noqa: BLE001 - a damaged archive: one line, not a traceback
        detail = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        raise GanforgeError(
            f"{file}: cannot be loaded as a torch.export program ({type(err).__name__}: {detail})"
        ) from None
    if not trust_code:
        check_program_graph(program, file)
    return program


def load_torchscript(path: str | os.PathLike[str], *, trust_code: bool) -> Any:
    """A TorchScript module, only with ``trust_code`` (TorchScript is code, there is nothing to inspect)."""
    import torch

    refuse_untrusted(path, "TorchScript file", trust_code)
    try:
        return torch.jit.load(str(path), map_location="cpu")
    except Exception as err:  # noqa: BLE001
        detail = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        raise GanforgeError(f"{path}: cannot be loaded as a TorchScript module ({detail})") from None
