"""Hostile inputs at scale, two ways.

1. The generated cases of ``benchmarks/hostile_cases.py`` (>= 1,300: config keys x bad values, YAML files,
   data files, CLI arguments and output paths, damaged run folders), each run through the real CLI with a
   timeout and classified (one-line exit-2 answer / success / traceback / hang / accepted bad value / run
   folder changed by a failing command); prints a table by group and the failing cases:

       python benchmarks/hostile_inputs.py --all                # every case (in-process, 1 in 25 as a process)
       python benchmarks/hostile_inputs.py --per-group 40       # a fixed sample
       python benchmarks/hostile_inputs.py --group yaml --all   # one group

2. ``--hypothesis``: runs ``tests/test_hostile_inputs.py`` with many hypothesis examples per loader and
   prints how many inputs each loader was fed and how they ended:

       python benchmarks/hostile_inputs.py --hypothesis --examples 200
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
    parser.add_argument("--all", action="store_true", help="every generated case")
    parser.add_argument("--per-group", type=int, default=30, help="without --all: cases sampled per group")
    parser.add_argument("--group", action="append", help="only these groups (repeatable)")
    parser.add_argument("--subprocess-every", type=int, default=25, help="every Nth case as a real process")
    parser.add_argument("--list", action="store_true", help="print the case counts by group and exit")
    parser.add_argument("--hypothesis", action="store_true", help="run the hypothesis properties instead")
    parser.add_argument("--examples", type=int, default=200, help="--hypothesis: examples per property")
    args = parser.parse_args()
    if args.hypothesis:
        return hypothesis_table(args.examples)
    return generated_table(args)


def generated_table(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import hostile_cases as hc

    cases = hc.all_cases()
    if args.group:
        cases = [c for c in cases if c.group in args.group]
    print(f"{len(cases)} generated cases: "
          + ", ".join(f"{g} {sum(c.group == g for c in cases)}" for g in dict.fromkeys(c.group for c in cases)))
    if args.list:
        return 0
    if not args.all:
        cases = hc.sample_cases(cases, args.per_group)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        base_run = hc.make_run(Path(tmp)) if any(c.needs_run for c in cases) else None

        def progress(r: hc.Result) -> None:
            if r.outcome in hc.FAILURES:
                print(f"  {r.outcome:<14} {r.case.group}/{r.case.name[:70]}  rc={r.rc}  {r.tail[:220]}", flush=True)

        results = hc.run_all(cases, base_run, progress, subprocess_every=args.subprocess_every)
    seconds = time.perf_counter() - t0
    slow = sorted(results, key=lambda r: -r.seconds)[:3]
    print(f"\n{len(results)} cases in {seconds:.0f} s (slowest: "
          + ", ".join(f"{r.case.name[:40]} {r.seconds:.1f} s" for r in slow) + ")")
    print(hc.table(results))
    return 1 if any(r.outcome in hc.FAILURES for r in results) else 0


def hypothesis_table(examples: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        counts_file = Path(tmp) / "counts.json"
        env = {
            **os.environ,
            "GANFORGE_HOSTILE_EXAMPLES": str(examples),
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
    print(f"hostile inputs: {examples} hypothesis examples per property, {seconds:.0f} s")
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
