"""Generated hostile inputs for the real ``ganforge`` CLI: the case definitions and the classifier.

Imported by ``benchmarks/hostile_inputs.py`` (the full set, ``--all``, and the table) and by
``tests/test_hostile_cases.py`` (a fixed sample in bounded time). Each :class:`Case` is a command line
(placeholders ``{tmp}``: a fresh folder per case, ``{run}``: a per-case copy of a small trained run) and
the files to write before it runs, with what a correct CLI must do:

- ``fail``: refuse with exit code 2 and one ``error:`` line (a value that must not be accepted);
- ``ok``: succeed (exit 0);
- ``any``: either, but never a traceback, a hang, or a changed run folder after a failure.

Every case is classified by :func:`classify` into exactly one of :data:`OUTCOMES`. Groups:

- ``config``: every config key of the ring8 run (the run schema and its factories' settings) x bad
  values (wrong type, negative, zero, huge, NaN/inf, bool, strings, nested), given with ``--set``;
- ``yaml``: whole config files (alias bombs, duplicate keys, deep nesting, long integers, big files,
  binary junk);
- ``data``: csv/npy/npz/IDX/images/folders that are empty, truncated, mis-shaped, NaN, huge or junk;
- ``cli``: each subcommand x bad flags and values, and output paths (a folder for a file, a missing
  parent, a read-only folder);
- ``run-folder``: every file of a trained run deleted, emptied, truncated, bit-flipped or replaced by junk
  / deeply nested / huge-integer JSON, then ``sample`` / ``eval`` / ``diagnose`` / ``resume`` on it.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

OUTCOMES = ("one-line", "success", "traceback", "hang", "accepted", "folder-changed")
FAILURES = ("traceback", "hang", "accepted", "folder-changed")
TIMEOUT_S = 60.0
RO_EXPECT = "fail" if os.geteuid() != 0 else "any"  # root writes into a read-only (0o555) folder anyway
BASE = ["--set", "train.steps=1", "--set", "train.log_every=1", "--no-eval", "-q"]


@dataclass(frozen=True)
class Case:
    """One hostile input: ``args`` for ``ganforge`` and ``files`` (relative path -> bytes, or ``None`` to
    delete) written before it runs; ``damage`` applies to the run copy (``{run}``) when given."""

    group: str
    name: str
    args: tuple[str, ...]
    expect: str = "any"  # fail / ok / any
    files: tuple[tuple[str, bytes | None], ...] = ()
    needs_run: bool = False
    readonly: tuple[str, ...] = ()  # folders (relative to tmp) made read-only before the run


@dataclass
class Result:
    case: Case
    outcome: str
    rc: int | None
    seconds: float
    tail: str = field(default="")


# --- config values ----------------------------------------------------------------------------------

BAD_VALUES: dict[str, str] = {
    "string": "abc",
    "empty-string": "''",
    "negative": "-5",
    "zero": "0",
    "fraction": "2.5",
    "huge-int": str(10**30),
    "huge-float": "1.0e39",
    "tiny-float": "1.0e-50",
    "nan": ".nan",
    "inf": ".inf",
    "-inf": "-.inf",
    "bool": "true",
    "nested": "{a: {b: 1}}",
    "list": "[1, [2, 3]]",
    "long-string": "x" * 3000,
    "seed-2^64": str(2**64),
}


def _key_kinds() -> dict[str, tuple[str, object]]:
    """Every leaf key of a ring8 run's full config (``ganforge config ring8``) -> (kind, default)."""
    import yaml

    from ganforge.commands.config import resolved_config
    from ganforge.recipes import recipe_text

    full = resolved_config(yaml.safe_load(recipe_text("ring8")))
    out: dict[str, tuple[str, object]] = {}

    def walk(node: object, prefix: str) -> None:
        if isinstance(node, dict) and node and not prefix.endswith("optimizers"):
            for k, v in node.items():
                walk(v, f"{prefix}.{k}" if prefix else str(k))
            return
        if prefix in ("data.source", "model.type", "model.generator.type", "model.discriminator.type"):
            out[prefix] = ("name", node)
        elif isinstance(node, bool):
            out[prefix] = ("bool", node)
        elif isinstance(node, int):
            out[prefix] = ("int", node)
        elif isinstance(node, float):
            out[prefix] = ("float", node)
        elif isinstance(node, list):
            out[prefix] = ("list", node)
        elif node is None:
            out[prefix] = ("none", node)
        else:
            out[prefix] = ("str", node)

    walk(full, "")
    return out


def _must_fail(kind: str, default: object, bad: str) -> bool:
    """Whether ``bad`` (a :data:`BAD_VALUES` name) is wrong for every key of ``kind`` with ``default``."""
    numeric = kind in ("int", "float")
    if bad in ("nan", "inf", "-inf", "huge-float", "tiny-float", "nested") and (numeric or kind == "list"):
        return True
    if numeric and bad in ("string", "empty-string", "bool", "list", "long-string", "huge-int", "seed-2^64"):
        return True
    if kind == "int" and bad == "fraction":
        return True
    if kind == "int" and isinstance(default, int) and default > 0 and bad in ("negative", "zero"):
        return True
    if kind == "bool" and bad in ("string", "nested", "list", "negative", "huge-int", "long-string"):
        return True
    if kind in ("str", "name") and bad in ("nested", "list"):
        return True
    return kind == "name" and bad in ("string", "long-string", "empty-string", "negative")


# int keys with a positive default whose 0 is a documented setting, not a bad value
ZERO_MEANS_SOMETHING = frozenset({"train.guard.retries"})  # 0: stop at the first non-finite step, no rollback


def config_cases() -> list[Case]:
    cases = []
    for key, (kind, default) in sorted(_key_kinds().items()):
        for bad, text in BAD_VALUES.items():
            expect = "fail" if _must_fail(kind, default, bad) else "any"
            if bad == "zero" and key in ZERO_MEANS_SOMETHING:
                expect = "any"
            if key == "seed" and bad in ("negative", "seed-2^64"):
                expect = "fail"
            cases.append(Case("config", f"{key}={bad}", ("train", "ring8", "-o", "{tmp}/run", *BASE,
                                                          "--set", f"{key}={text}"), expect))
    extra = {  # named breaks of issue 23
        "optimizers-misspelt-phase": ("train.optimizers.generater.lr=0.1", "fail"),
        "optimizers-unknown-key": ("train.optimizers.generator.lrr=0.1", "fail"),
        "betas-1": ("train.optimizer.betas=[1.0, 0.9]", "fail"),
        "betas-negative": ("train.optimizer.betas=[-0.1, 0.9]", "fail"),
        "betas-3": ("train.optimizer.betas=[0.5, 0.9, 0.9]", "fail"),
        "n_critic-0": ("model.n_critic=0", "fail"),
        "hidden-1e9": ("model.generator.hidden=[1000000000]", "fail"),
        "batch-1e11": ("train.batch_size=100000000000", "fail"),
        "set-huge-value": ("name=" + "y" * 20_000, "fail"),
        "set-deep": ("train.steps=" + "[" * 300 + "]" * 300, "fail"),
        "set-alias-bomb": ("train.steps=" + _bomb_flow(), "fail"),
        "unknown-section": ("nosuch.key=1", "fail"),
        "value-is-section": ("train.steps.x=1", "fail"),
        "empty-key": ("=1", "fail"),
        "no-equals": ("train.steps", "fail"),
    }
    for name, (item, expect) in extra.items():
        cases.append(Case("config", name, ("train", "ring8", "-o", "{tmp}/run", *BASE, "--set", item), expect))
    return cases


def _bomb_flow() -> str:
    return "&a [x,x,x,x,x,x,x,x,x]"  # one anchor (a flow sequence); the file cases hold real bombs


def _bomb_yaml(levels: int = 8) -> bytes:
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ",".join([f"*l{i-1}"] * 9) + "]")
    return ("\n".join(lines) + f"\ntrain:\n  steps: *l{levels-1}\n").encode()


def yaml_cases() -> list[Case]:
    recipe = Path(__file__).resolve().parents[1] / "src" / "ganforge" / "recipes" / "ring8.yaml"
    good = recipe.read_bytes()
    files: dict[str, tuple[bytes, str]] = {
        "alias-bomb-typed-key": (_bomb_yaml(), "fail"),
        "alias-bomb-name": (_bomb_yaml().replace(b"train:\n  steps:", b"name:"), "fail"),
        "recursive-alias": (b"data: &a {source: ring8, x: *a}\n", "fail"),
        "duplicate-top-key": (good + b"\ntrain: {steps: 2}\n", "fail"),
        "duplicate-nested-key": (b"data: {source: ring8, source: ring8}\ntrain: {steps: 1}\n", "fail"),
        "nested-1000": (b"train: " + b"[" * 1000 + b"]" * 1000 + b"\n", "fail"),
        "nested-maps-1000": (b"train: " + b"{a: " * 1000 + b"1" + b"}" * 1000 + b"\n", "fail"),
        "int-5000-digits": (b"seed: " + b"9" * 5000 + b"\n", "fail"),
        "scalar-5MB": (b"name: " + b"x" * 5_000_000 + b"\n", "fail"),
        "empty": (b"", "fail"),
        "only-comment": (b"# nothing\n", "fail"),
        "a-list": (b"- 1\n- 2\n", "fail"),
        "a-scalar": (b"42\n", "fail"),
        "binary-junk": (bytes(random.Random(1).randrange(256) for _ in range(4000)), "fail"),
        "utf16": (good.decode().encode("utf-16"), "fail"),
        "bom-utf8": (b"\xef\xbb\xbf" + good, "any"),
        "tabs": (b"data:\n\tsource: ring8\n", "fail"),
        "python-tag": (b"data: !!python/object/apply:os.system ['touch /tmp/pwned']\n", "fail"),
        "truncated": (good[: len(good) // 2], "any"),
        "data-is-list": (b"data: [1, 2]\n", "fail"),
        "model-is-string": (b"model: gan\n", "fail"),
        "multi-document": (good + b"\n---\n" + good, "fail"),
        "null-bytes": (good.replace(b"\n", b"\x00\n", 3), "fail"),
    }
    cases = []
    for name, (data, expect) in files.items():
        cases.append(Case("yaml", name, ("train", "{tmp}/c.yaml", "-o", "{tmp}/run", *BASE), expect,
                          files=(("c.yaml", data),)))
    return cases


# --- data files -------------------------------------------------------------------------------------


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=arr.dtype == object)
    return buf.getvalue()


def _npz(**arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _idx(arr: np.ndarray, dims: tuple[int, ...] | None = None) -> bytes:
    dims = dims if dims is not None else arr.shape
    return struct.pack(">BBBB", 0, 0, 0x08, len(dims)) + struct.pack(f">{len(dims)}I", *dims) + arr.tobytes()


def _png(size: tuple[int, int] = (8, 8), mode: str = "L") -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new(mode, size, 128).save(buf, format="PNG")
    return buf.getvalue()


def data_cases() -> list[Case]:
    rng = np.random.default_rng(0)
    good = rng.normal(size=(64, 2))
    csv_good = "x,y\n" + "\n".join(f"{a:.4f},{b:.4f}" for a, b in good) + "\n"
    junk = bytes(random.Random(2).randrange(256) for _ in range(2000))
    csv: dict[str, tuple[bytes, str]] = {
        "empty": (b"", "fail"),
        "header-only": (b"x,y\n", "fail"),
        "one-row": (b"x,y\n1,2\n", "any"),
        "nan": (csv_good.replace("\n1", "\nnan", 5).encode() + b"nan,nan\n", "any"),
        "inf": (csv_good.encode() + b"inf,1\n", "fail"),
        "huge": (csv_good.encode() + b"1e308,1\n", "fail"),
        "ragged": (csv_good.encode() + b"1,2,3,4\n", "any"),
        "text-column": (b"x,y\n" + b"".join(b"a%d,%d\n" % (i, i) for i in range(40)), "any"),
        "binary-junk": (junk, "fail"),
        "truncated": (csv_good.encode()[: len(csv_good) // 2], "any"),
        "bom-no-header": (("\ufeff" + "\n".join(f"{a:.4f},{b:.4f}" for a, b in good) + "\n").encode(), "ok"),
        "bom-header": (("\ufeff" + csv_good).encode(), "ok"),
        "latin1": (("x,y\n" + "é,1\n" * 30).encode("latin-1"), "any"),
        "semicolons": (csv_good.replace(",", ";").encode(), "any"),
        "one-column": (b"x\n" + b"".join(b"%d\n" % i for i in range(50)), "any"),
        "10k-columns": (
            (",".join(f"c{i}" for i in range(10000)) + "\n" + ",".join("1" * 10000) + "\n").encode(), "any"
        ),
        "long-line": (b"x,y\n" + b"1" * 2_000_000 + b",2\n", "any"),
        "null-bytes": (csv_good.encode().replace(b",", b"\x00,", 10), "any"),
    }
    npy: dict[str, tuple[bytes, str]] = {
        "empty-file": (b"", "fail"),
        "empty-array": (_npy(np.zeros((0, 2))), "fail"),
        "1-d": (_npy(np.arange(50.0)), "any"),
        "4-d": (_npy(np.zeros((2, 2, 2, 2))), "any"),
        "nan": (_npy(np.full((40, 2), np.nan)), "fail"),
        "inf": (_npy(np.full((40, 2), np.inf)), "fail"),
        "huge": (_npy(np.full((40, 2), 1e300)), "fail"),
        "object-pickle": (_npy(np.array([{"a": 1}] * 4, dtype=object)), "fail"),
        "strings": (_npy(np.array(["a", "b"] * 20)), "fail"),
        "complex": (_npy(np.ones((40, 2), dtype=complex)), "any"),
        "bool": (_npy(np.ones((40, 2), dtype=bool)), "any"),
        "truncated": (_npy(good)[:-100], "fail"),
        "header-only": (_npy(good)[:128], "fail"),
        "binary-junk": (junk, "fail"),
        "bad-header": (b"\x93NUMPY\x01\x00\x20\x00{'descr': '<f8', 'shape': (1e9,)}     \n", "fail"),
        "huge-shape": (b"\x93NUMPY\x01\x00v\x00" + (b"{'descr': '<f8', 'fortran_order': False, 'shape': "
                                                    b"(9999999999999, 2), }").ljust(117) + b"\n", "fail"),
        "zero-width": (_npy(np.zeros((40, 0))), "fail"),
    }
    npz: dict[str, tuple[bytes, str]] = {
        "empty-zip": (_npz(), "fail"),
        "two-arrays": (_npz(a=good, b=good), "any"),
        "nan": (_npz(x=np.full((40, 2), np.nan)), "fail"),
        "not-zip": (junk, "fail"),
        "member-not-npy": (_zip({"x.npy": b"hello"}), "fail"),
        "truncated-zip": (_npz(x=good)[:-40], "fail"),
        "zip-bomb": (_zip({"x.npy": _npy(np.zeros((1, 2)))[:-16] + b"\0" * 50_000_000}, deflate=True), "any"),
        "images-4d": (_npz(x=rng.random((16, 1, 8, 8)).astype(np.float32)), "any"),
        "object": (_zip({"x.npy": _npy(np.array([{"a": 1}] * 4, dtype=object))}), "fail"),
    }
    img = rng.integers(0, 255, size=(20, 8, 8), dtype=np.uint8)
    idx: dict[str, tuple[bytes, str]] = {
        "good": (_idx(img), "any"),
        "truncated": (_idx(img)[:-50], "fail"),
        "dims-overflow": (_idx(img, (2**31, 2**31, 2**31)), "fail"),
        "dims-product-wraps": (_idx(img, (2**16, 2**16, 1)), "fail"),
        "zero-items": (_idx(np.zeros((0, 8, 8), np.uint8), (0, 8, 8)), "fail"),
        "ndim-0": (struct.pack(">BBBB", 0, 0, 8, 0), "fail"),
        "ndim-255": (struct.pack(">BBBB", 0, 0, 8, 255) + b"\0" * 1020, "fail"),
        "bad-type": (struct.pack(">BBBB", 0, 0, 0x77, 3) + struct.pack(">3I", 20, 8, 8) + img.tobytes(), "fail"),
        "junk": (junk, "fail"),
        "empty": (b"", "fail"),
    }
    idx_gz = {f"gz-{k}": (gzip.compress(v), e) for k, (v, e) in list(idx.items())[:4]}
    idx_gz["gz-bomb"] = (gzip.compress(struct.pack(">BBBB", 0, 0, 8, 3) + struct.pack(">3I", 2**20, 64, 64)
                                       + b"\0" * 200_000_000, compresslevel=1), "fail")
    idx_gz["gz-truncated"] = (gzip.compress(_idx(img))[:-30], "fail")
    idx.update(idx_gz)
    pics: dict[str, tuple[tuple[tuple[str, bytes | None], ...], str]] = {
        "empty-folder": ((("pics/.keep", b""),), "fail"),
        "junk-png": ((("pics/a.png", junk),), "fail"),
        "truncated-png": ((("pics/a.png", _png()[:30]), ("pics/b.png", _png())), "any"),
        "zero-byte-png": ((("pics/a.png", b""),), "fail"),
        "huge-dims-png": ((("pics/a.png", _png((1, 1))[:16] + struct.pack(">II", 60000, 60000) + _png((1, 1))[24:]),),
                          "fail"),
        "mixed-modes": ((("pics/a.png", _png((8, 8), "RGB")), ("pics/b.png", _png((8, 8), "L")),
                         ("pics/c.png", _png((9, 5), "RGBA"))), "any"),
        "text-file": ((("pics/a.png", b"hello"), ("pics/notes.txt", b"x")), "fail"),
        "nested-only": ((("pics/sub/a.png", _png()),), "any"),
        "one-pixel": ((("pics/a.png", _png((1, 1))),), "any"),
    }
    cases = []
    for name, (data, expect) in csv.items():
        cases.append(Case("data", f"csv-{name}", ("train", "{tmp}/d.csv", "-o", "{tmp}/run", *BASE), expect,
                          files=(("d.csv", data),)))
    for name, (data, expect) in npy.items():
        cases.append(Case("data", f"npy-{name}", ("train", "{tmp}/d.npy", "-o", "{tmp}/run", *BASE), expect,
                          files=(("d.npy", data),)))
    for name, (data, expect) in npz.items():
        cases.append(Case("data", f"npz-{name}", ("train", "{tmp}/d.npz", "-o", "{tmp}/run", *BASE), expect,
                          files=(("d.npz", data),)))
    for name, (data, expect) in idx.items():
        fname = "d.idx.gz" if name.startswith("gz-") else "d.idx"
        cases.append(Case("data", f"idx-{name}", ("train", "mnist-idx", "-o", "{tmp}/run", *BASE,
                                                   "--set", f"data.path={{tmp}}/{fname}"), expect,
                          files=((fname, data),)))
    for name, (files, expect) in pics.items():
        cases.append(Case("data", f"images-{name}", ("train", "{tmp}/pics", "-o", "{tmp}/run", *BASE), expect,
                          files=files))
    for name, (data, expect) in {**csv}.items():  # the same CSVs as sequences
        cases.append(Case("data", f"timeseries-csv-{name}", ("train", "{tmp}/d.csv", "--recipe", "timeseries-gru",
                                                             "-o", "{tmp}/run", *BASE), expect,
                          files=(("d.csv", data),)))
    return cases


def _zip(members: dict[str, bytes], deflate: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


# --- CLI arguments and output paths -----------------------------------------------------------------


def cli_cases() -> list[Case]:
    R = "{run}"
    spec: dict[str, list[tuple[tuple[str, ...], str]]] = {
        "sample": [
            (("sample", R, "-n", "-1", "-o", "{tmp}/s.csv"), "fail"),
            (("sample", R, "-n", "0", "-o", "{tmp}/s.csv"), "fail"),
            (("sample", R, "-n", "abc", "-o", "{tmp}/s.csv"), "fail"),
            (("sample", R, "-n", str(10**12), "-o", "{tmp}/s.npy"), "fail"),
            (("sample", R, "-n", str(10**30), "-o", "{tmp}/s.csv"), "fail"),
            (("sample", R, "-o", "{tmp}/s.txt"), "fail"),
            (("sample", R, "-o", "{tmp}/"), "fail"),
            (("sample", R, "-o", "{tmp}/missing/s.csv"), "fail"),
            (("sample", R, "-o", "{tmp}/ro/s.csv"), RO_EXPECT),
            (("sample", R, "-o", "{tmp}/adir"), "fail"),
            (("sample", R, "-o", ""), "fail"),
            (("sample", R, "--label", "3", "-o", "{tmp}/s.csv"), "fail"),
            (("sample", R, "--seed", "-1", "-o", "{tmp}/s.csv"), "any"),
            (("sample", R, "--seed", str(2**70), "-o", "{tmp}/s.csv"), "fail"),
            (("sample", R, "--truncation", "0.5", "-o", "{tmp}/s.csv"), "fail"),
            (("sample", R, "--truncation", "nan", "-o", "{tmp}/s.csv"), "fail"),
            (("sample", R, "--mix-styles", "-o", "{tmp}/s.csv"), "fail"),
            (("sample", R, "--where", "x=1", "-o", "{tmp}/s.csv"), "fail"),
            (("sample", R, "--text", "a red square", "-o", "{tmp}/s.csv"), "fail"),
            (("sample", R, "--best", "-o", "{tmp}/s.csv"), "fail"),
            (("sample", "{tmp}/nothere", "-o", "{tmp}/s.csv"), "fail"),
            (("sample", "{tmp}/afile", "-o", "{tmp}/s.csv"), "fail"),
            (("sample", R, "-o", "{tmp}/s.csv", "--bogus"), "fail"),
            (("sample", R, "-o", "{tmp}/s.png"), "any"),
            (("sample", R, "-o", "{tmp}/pics/"), "fail"),
        ],
        "eval": [
            (("eval", R, "-n", "-5"), "fail"),
            (("eval", R, "-n", "0"), "fail"),
            (("eval", R, "-n", "abc"), "fail"),
            (("eval", R, "-n", str(10**12)), "fail"),
            (("eval", R, "--metrics", "nosuch"), "fail"),
            (("eval", R, "--metrics", ",,,"), "fail"),
            (("eval", R, "--features", "{tmp}/afile"), "fail"),
            (("eval", R, "--features", "nosuch"), "fail"),
            (("eval", R, "--best"), "fail"),
            (("eval", "{tmp}/nothere"), "fail"),
            (("eval", R, "--seed", str(2**70)), "fail"),
        ],
        "resume": [
            (("resume", R, "--steps", "-1"), "fail"),
            (("resume", R, "--steps", "0"), "fail"),
            (("resume", R, "--steps", "1"), "fail"),
            (("resume", R, "--steps", "abc"), "fail"),
            (("resume", R, "--steps", str(10**30)), "fail"),
            (("resume", "{tmp}/nothere"), "fail"),
            (("resume", "{tmp}/afile"), "fail"),
            (("resume", "{tmp}/adir"), "fail"),
        ],
        "diagnose": [
            (("diagnose", "{tmp}/nothere"), "fail"),
            (("diagnose", "{tmp}/afile"), "fail"),
            (("diagnose", "{tmp}/adir"), "fail"),
            (("diagnose", R, "--bogus"), "fail"),
        ],
        "train": [
            (("train", "nosuch-recipe", "-o", "{tmp}/run"), "fail"),
            (("train", "ring8", "-o", "{tmp}/afile", *BASE), "fail"),
            (("train", "ring8", "-o", "{tmp}/missing/deeper/run", *BASE), "any"),
            (("train", "ring8", "-o", "{tmp}/ro/run", *BASE), RO_EXPECT),
            (("train", "ring8", "-o", R, *BASE), "fail"),
            (("train", "{tmp}/afile", "-o", "{tmp}/run", *BASE), "fail"),
            (("train", "ring8", "--recipe", "nosuch", "-o", "{tmp}/run", *BASE), "fail"),
            (("train", "{tmp}/nothere.csv", "-o", "{tmp}/run", *BASE), "fail"),
            (("train", "ring8", "--set", "x", "-o", "{tmp}/run"), "fail"),
            (("train", "ring8", "--bogus"), "fail"),
            (("train", "-o", "{tmp}/run", *BASE), "any"),  # the default recipe, 1 step
        ],
        "other": [
            (("export", R, "-o", "{tmp}/g.txt"), "fail"),
            (("export", R, "-o", "{tmp}/missing/g.onnx"), "fail"),
            (("export", R, "-o", "{tmp}/"), "fail"),
            (("export", "{tmp}/nothere", "-o", "{tmp}/g.onnx"), "fail"),
            (("report", "{tmp}/nothere"), "fail"),
            (("report", "{tmp}/afile"), "fail"),
            (("fid", "{tmp}/nothere", "{tmp}/nothere2"), "fail"),
            (("fid", "{tmp}/afile", "{tmp}/afile"), "fail"),
            (("fid", "{tmp}/adir", "{tmp}/adir", "--size", "-3"), "fail"),
            (("upscale", R, "{tmp}/afile", "-o", "{tmp}/u.png"), "fail"),
            (("upscale", R, "{tmp}/nothere.png", "-o", "{tmp}/u.png"), "fail"),
            (("translate", R, "{tmp}/adir", "-o", "{tmp}/t"), "fail"),
            (("translate", R, "{tmp}/adir", "--direction", "sideways"), "fail"),
            (("augment", "{tmp}/afile", "-o", "{tmp}/a.npz"), "fail"),
            (("augment", "{tmp}/nothere", "-o", "{tmp}/a.npz"), "fail"),
            (("augment", "{tmp}/afile", "-o", "{tmp}/a.npz", "--ratio", "nan"), "fail"),
            (("config", "nosuch"), "fail"),
            (("config", "ring8", "--set", "train.steps=0"), "fail"),
            (("config", "ring8", "--set", "seed=.nan"), "fail"),
            (("recipes", "--show", "nosuch"), "fail"),
            (("recipes", "--show", "../../etc/passwd"), "fail"),
            (("studio", "{tmp}/nothere", "--port", "-1"), "fail"),
            (("nosuchcommand",), "fail"),
            (("anomaly", "nosuch"), "fail"),
            (("anomaly", "fit", "{tmp}/nothere.csv"), "fail"),
        ],
    }
    base_files = (("afile", b"just a file\n"), ("adir/.keep", b""), ("ro/.keep", b""))
    cases = []
    for group, items in spec.items():
        for i, (args, expect) in enumerate(items):
            needs_run = any("{run}" in a for a in args)
            cases.append(Case("cli", f"{group}-{i:02d}:{' '.join(args)[:60]}", args, expect, files=base_files,
                              needs_run=needs_run, readonly=("ro",)))
    return cases


# --- damaged run folders ----------------------------------------------------------------------------

RUN_FILES = (
    "config.yaml",
    "data.json",
    "metrics.jsonl",
    "summary.json",
    "checkpoints/{last}/meta.json",
    "checkpoints/{last}/model.safetensors",
    "checkpoints/{last}/train_state.safetensors",
    "checkpoints/{first}/meta.json",
    "checkpoints/{first}/model.safetensors",
)
DAMAGES = ("delete", "empty", "half", "flip-early", "flip-middle", "flip-late", "junk", "deep-json", "huge-int-json")
RUN_COMMANDS: dict[str, tuple[str, ...]] = {
    "sample": ("sample", "{run}", "-n", "50", "-o", "{tmp}/s.csv"),
    "eval": ("eval", "{run}", "-n", "200"),
    "diagnose": ("diagnose", "{run}"),
    "resume": ("resume", "{run}", "--steps", "6", "-q", "--no-eval"),
}


def damaged(data: bytes | None, how: str) -> bytes | None:
    """``data`` damaged as ``how`` says (``None``: delete the file)."""
    if how == "delete" or data is None:
        return None
    if how == "empty":
        return b""
    if how == "half":
        return data[: len(data) // 2]
    if how.startswith("flip"):
        if not data:
            return data
        pos = {"flip-early": 0.02, "flip-middle": 0.5, "flip-late": 0.97}[how]
        i = min(len(data) - 1, int(len(data) * pos))
        return data[:i] + bytes([data[i] ^ 0x10]) + data[i + 1:]
    if how == "junk":
        return bytes(random.Random(len(data)).randrange(256) for _ in range(min(len(data), 4096) or 64))
    if how == "deep-json":
        return b"[" * 100_000 + b"]" * 100_000
    if how == "huge-int-json":
        return b'{"step": ' + b"9" * 5000 + b"}"
    raise ValueError(how)


def run_cases() -> list[Case]:
    cases = []
    for file in RUN_FILES:
        for how in DAMAGES:
            for cmd, args in RUN_COMMANDS.items():
                cases.append(Case("run-folder", f"{file}:{how}:{cmd}", args, "any",
                                  files=((f"@run/{file}", how.encode()),), needs_run=True))
    return cases


def all_cases() -> list[Case]:
    """Every generated case, in a fixed order."""
    return [*config_cases(), *yaml_cases(), *data_cases(), *cli_cases(), *run_cases()]


def sample_cases(cases: list[Case], per_group: int, seed: int = 0) -> list[Case]:
    """A fixed sample: ``per_group`` cases of each group, drawn with ``seed``."""
    rng = random.Random(seed)
    out = []
    for group in dict.fromkeys(c.group for c in cases):
        members = [c for c in cases if c.group == group]
        out.extend(rng.sample(members, min(per_group, len(members))))
    return out


# --- running ----------------------------------------------------------------------------------------


def make_run(folder: Path) -> Path:
    """A small trained ring8 run (6 steps, checkpoints at 2, 4, 6) that cases copy and damage."""
    from ganforge.cli import main

    run = folder / "base-run"
    with _captured():
        try:
            main(["train", "ring8", "-o", str(run), "--set", "train.steps=4", "--set", "train.checkpoint_every=2",
                  "--set", "train.log_every=1", "--set", "model.generator.hidden=[16]",
                  "--set", "model.discriminator.hidden=[16]", "--set", "eval.n=200", "-q"])
        except SystemExit as exc:
            if exc.code not in (0, None):
                raise RuntimeError("could not train the base run") from None
    return run


def folder_hash(root: Path) -> str:
    """sha256 over every file's relative path and bytes under ``root`` (missing root: empty hash)."""
    h = hashlib.sha256()
    if root.is_dir():
        for p in sorted(root.rglob("*")):
            if p.is_file():
                h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


@contextlib.contextmanager
def _captured() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        yield out, err


class _Timeout(BaseException):
    pass


def _prepare(case: Case, tmp: Path, base_run: Path | None) -> tuple[list[str], Path | None]:
    run = None
    if case.needs_run:
        if base_run is None:
            raise ValueError("case needs a run")
        run = tmp / "run-copy"
        shutil.copytree(base_run, run)
        ckpts = sorted(p.name for p in (run / "checkpoints").iterdir() if p.name.startswith("step-"))
        names = {"last": ckpts[-1], "first": ckpts[0]} if ckpts else {"last": "x", "first": "x"}
    for rel, data in case.files:
        if rel.startswith("@run/"):
            target = run / rel[5:].format(**names)  # type: ignore[operator]
            new = damaged(target.read_bytes() if target.is_file() else None, (data or b"").decode())
            if new is None:
                target.unlink(missing_ok=True)
            else:
                target.write_bytes(new)
            continue
        path = tmp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if data is not None:
            path.write_bytes(data)
    for ro in case.readonly:
        (tmp / ro).chmod(0o555)
    args = [a.replace("{tmp}", str(tmp)).replace("{run}", str(run) if run else "") for a in case.args]
    return args, run


def classify(case: Case, rc: int | None, text: str, escaped: bool, hung: bool, changed: bool) -> str:
    """One of :data:`OUTCOMES` for a finished case."""
    if hung:
        return "hang"
    if escaped or "Traceback (most recent call last)" in text:
        return "traceback"
    if rc == 0:
        return "accepted" if case.expect == "fail" else "success"
    errors = [line for line in text.splitlines() if line.startswith("error:")]
    if rc == 2 and len(errors) == 1:
        return "folder-changed" if changed else "one-line"
    return "traceback"  # an exit code or output the contract does not allow


def run_case(case: Case, base_run: Path | None, timeout: float = TIMEOUT_S) -> Result:
    """Run ``case`` in this process through ``ganforge.cli.main`` (output captured, SIGALRM timeout)."""
    from ganforge.cli import main

    with tempfile.TemporaryDirectory(prefix="hostile-") as t:
        tmp = Path(t)
        args, run = _prepare(case, tmp, base_run)
        before = folder_hash(run) if run else ""
        rc: int | None = None
        escaped = hung = False
        tail = ""

        def alarm(signum: int, frame: object) -> None:
            raise _Timeout

        old = signal.signal(signal.SIGALRM, alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
        t0 = time.perf_counter()
        with _captured() as (out, err):
            try:
                main(args)
                rc = 0
            except SystemExit as exc:
                rc = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except _Timeout:
                hung = True
            except BaseException as exc:  # noqa: BLE001 - an escaped exception is the finding
                escaped = True
                tail = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, old)
        seconds = time.perf_counter() - t0
        text = err.getvalue() + out.getvalue()
        changed = run is not None and rc not in (0, None) and folder_hash(run) != before
        for ro in case.readonly:
            (tmp / ro).chmod(0o755)
        outcome = classify(case, rc, text, escaped, hung, changed)
        return Result(case, outcome, rc, seconds, tail or " | ".join(text.strip().splitlines()[-2:])[:300])


def run_case_subprocess(case: Case, base_run: Path | None, timeout: float = TIMEOUT_S) -> Result:
    """Run ``case`` as a real ``python -m ganforge`` process (exit code and stderr as a user sees them)."""
    with tempfile.TemporaryDirectory(prefix="hostile-") as t:
        tmp = Path(t)
        args, run = _prepare(case, tmp, base_run)
        before = folder_hash(run) if run else ""
        t0 = time.perf_counter()
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
        try:
            proc = subprocess.run([sys.executable, "-m", "ganforge", *args], capture_output=True, text=True,
                                  timeout=timeout, env=env, errors="replace")
            rc, text, hung = proc.returncode, proc.stderr + proc.stdout, False
        except subprocess.TimeoutExpired:
            rc, text, hung = None, "", True
        changed = run is not None and rc not in (0, None) and folder_hash(run) != before
        for ro in case.readonly:
            (tmp / ro).chmod(0o755)
        outcome = classify(case, rc, text, False, hung, changed)
        return Result(case, outcome, rc, time.perf_counter() - t0, " | ".join(text.strip().splitlines()[-2:])[:300])


def table(results: list[Result]) -> str:
    """The markdown table by group: cases and each outcome column."""
    groups = list(dict.fromkeys(r.case.group for r in results))
    head = "| group | cases | one-line exit-2 | success | tracebacks | hangs | accepted bad values | folders changed |"
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for g in [*groups, "total"]:
        rs = [r for r in results if g == "total" or r.case.group == g]
        n = {o: sum(r.outcome == o for r in rs) for o in OUTCOMES}
        name = f"**{g}**" if g == "total" else g
        lines.append(f"| {name} | {len(rs)} | {n['one-line']} | {n['success']} | {n['traceback']} | {n['hang']} | "
                     f"{n['accepted']} | {n['folder-changed']} |")
    return "\n".join(lines)


def run_all(cases: list[Case], base_run: Path | None, progress: Callable[[Result], None] | None = None,
            subprocess_every: int = 0) -> list[Result]:
    """Run ``cases`` in order (every ``subprocess_every``-th as a real process; 0: none)."""
    results = []
    for i, case in enumerate(cases):
        runner = run_case_subprocess if subprocess_every and i % subprocess_every == 0 else run_case
        result = runner(case, base_run)
        results.append(result)
        if progress:
            progress(result)
    return results
