"""Hostile-input fuzzing at scale: runs ``tests/test_hostile_inputs.py`` with many hypothesis examples per
loader and prints how many inputs each loader was fed and how they ended (loaded / refused with one line).

Any input that escapes as something other than a one-line ``GanforgeError`` (exit code 2 from the CLI),
runs pickle code, or writes into an existing run fails the run and is printed by pytest.

    python benchmarks/hostile_inputs.py            # 200 examples per property
    python benchmarks/hostile_inputs.py --examples 50
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=200, help="hypothesis examples per property")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        counts_file = Path(tmp) / "counts.json"
        env = {
            **os.environ,
            "GANFORGE_HOSTILE_EXAMPLES": str(args.examples),
            "GANFORGE_HOSTILE_COUNTS": str(counts_file),
        }
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_hostile_inputs.py"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - t0
        if not counts_file.exists():
            print(proc.stdout[-4000:], proc.stderr[-2000:])
            return 1
        result = json.loads(counts_file.read_text())
    counts, outcomes = result["counts"], result["outcomes"]
    print(f"hostile inputs: {args.examples} hypothesis examples per property, {seconds:.0f} s")
    print(f"{'loader':<32} {'inputs':>7} {'loaded':>7} {'refused':>8}")
    for name in sorted(counts):
        ok, refused = outcomes.get(name + ":ok", 0), outcomes.get(name + ":error", 0)
        print(f"{name:<32} {counts[name]:>7} {ok:>7} {refused:>8}")
    print(f"{'total':<32} {sum(counts.values()):>7}")
    last = [line for line in proc.stdout.splitlines() if " passed" in line or " failed" in line][-1:]
    print("pytest:", last[0] if last else "(no output)")
    if proc.returncode != 0:
        print(proc.stdout[-6000:])
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
