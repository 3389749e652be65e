"""Start-up cost: ``%load_ext h2ogpt_jupyter`` and ``import h2ogpt_jupyter`` in fresh processes.

What is measured, each in a new interpreter (so nothing is cached in ``sys.modules``):

* load_ext: an IPython ``InteractiveShell`` is created first (the kernel already has one),
  then only the ``%load_ext h2ogpt_jupyter`` call is timed; it imports the magics and
  everything they need;
* import: a bare interpreter times ``import h2ogpt_jupyter`` (what ``import h2ogpt_jupyter as
  h2o`` costs in a script), and the process's whole wall time is reported alongside.

Both kinds of child run alternately (A, B, A, B, ...) and the medians are reported, with the
heavy engine modules found in ``sys.modules`` afterwards: there should be none, since torch,
transformers, llama.cpp and openai are meant to load only with a model. Target: load_ext
median <= 0.3 s. ``--profile`` adds the slowest package modules from ``python -X importtime``.

    .venv/bin/python bench/load_ext.py --runs 7
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

TARGET_S = 0.3
HEAVY = ("torch", "transformers", "llama_cpp", "openai", "accelerate", "peft", "bitsandbytes")

_PRELUDE = f"""
import json, sys, time
HEAVY = {HEAVY!r}
def report(**values):
    values["heavy"] = [m for m in HEAVY if m in sys.modules]
    values["modules"] = len(sys.modules)
    print(json.dumps(values))
"""

CHILDREN = {
    "load_ext": _PRELUDE
    + """
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
before = len(sys.modules)
print("-- load_ext --", file=sys.stderr, flush=True)  # marker for --profile
start = time.perf_counter()
shell.run_line_magic("load_ext", "h2ogpt_jupyter")
seconds = time.perf_counter() - start
assert "h2ogpt" in shell.magics_manager.magics["line"], "magic not registered"
report(seconds=seconds, new_modules=len(sys.modules) - before)
""",
    "import": _PRELUDE
    + """
before = len(sys.modules)
start = time.perf_counter()
import h2ogpt_jupyter
seconds = time.perf_counter() - start
report(seconds=seconds, new_modules=len(sys.modules) - before)
""",
}


def run_child(kind: str) -> dict[str, object]:
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", CHILDREN[kind]], capture_output=True, text=True, check=True
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    result["process"] = time.perf_counter() - start
    return result


def slowest_imports(limit: int = 12) -> list[tuple[int, int, str]]:
    """(self µs, cumulative µs, module) of the package's slowest imports during load_ext."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", CHILDREN["load_ext"]],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = out.stderr.splitlines()
    rows = []
    for line in lines[lines.index("-- load_ext --") + 1 :]:
        fields = line.removeprefix("import time:").split("|")
        if line.startswith("import time:") and len(fields) == 3 and fields[0].strip().isdigit():
            rows.append((int(fields[0]), int(fields[1]), fields[2].strip()))
    return sorted(rows, reverse=True)[:limit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh processes per measurement")
    parser.add_argument("--profile", action="store_true", help="show the slowest imports")
    args = parser.parse_args()

    results: dict[str, list[dict[str, object]]] = {kind: [] for kind in CHILDREN}
    run_child("load_ext")  # warm the OS file cache once
    for _ in range(args.runs):
        for kind in CHILDREN:
            results[kind].append(run_child(kind))

    print(f"median of {args.runs} fresh processes, interleaved, nproc={os.cpu_count()}\n")
    print("| measurement | median s | min s | max s | process wall s | heavy modules |")
    print("|---|---:|---:|---:|---:|---|")
    labels = {"load_ext": "%load_ext h2ogpt_jupyter", "import": "import h2ogpt_jupyter"}
    for kind, runs in results.items():
        times = [float(r["seconds"]) for r in runs]  # type: ignore[arg-type]
        wall = statistics.median(float(r["process"]) for r in runs)  # type: ignore[arg-type]
        heavy = sorted({m for r in runs for m in r["heavy"]})  # type: ignore[attr-defined]
        print(
            f"| {labels[kind]} | {statistics.median(times):.3f} | {min(times):.3f} "
            f"| {max(times):.3f} | {wall:.2f} | {', '.join(heavy) or 'none'} |"
        )
    new = statistics.median(int(r["new_modules"]) for r in results["load_ext"])  # type: ignore[call-overload]
    print(f"\nmodules newly imported by %load_ext: {new:.0f}")
    median = statistics.median(float(r["seconds"]) for r in results["load_ext"])  # type: ignore[arg-type]
    verdict = "met" if median <= TARGET_S else "MISSED"
    print(f"target: %load_ext <= {TARGET_S} s: {verdict} ({median:.3f} s)")
    if args.profile:
        print("\nslowest imports inside %load_ext (self µs, cumulative µs):")
        for self_us, cumulative_us, name in slowest_imports():
            print(f"  {self_us:7d} {cumulative_us:8d}  {name}")


if __name__ == "__main__":
    main()
