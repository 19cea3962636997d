"""Run every benchmark (`make bench`), or all of them at a tiny size (`--smoke`, for CI: checks that each script
works and writes sane results, times nothing worth reading).

Full runs go one after another (they must not share the CPU), write their JSON to benchmarks/out/ (git-ignored),
copy their PNG plots to benchmarks/ and write benchmarks/out/summary.md with every table, for
benchmarks/README.md. Smoke runs go two at a time into --out (a temporary folder by default).

    .venv/bin/python benchmarks/run_all.py [--only rotation,usage_info_scan] [--smoke] [--out DIR]
"""

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
# name: arguments of a full run (a smoke run passes --smoke instead)
# (the longest smoke run first: --smoke runs two at a time)
BENCHMARKS = {
    "rotation": ["--sizes", "10,50,200", "--forks", "5,10,20", "--budget", "7200"],
    "module_cost": [],
    "api_calls": [],
    "usage_info_scan": ["--sizes", "1000,10000,100000"],
}


def run_one(name, smoke, out, extra=()):
    command = [sys.executable, os.path.join(BENCH, name + ".py"), "--out", out] + (
        ["--smoke"] if smoke else BENCHMARKS[name] + list(extra))
    started = time.monotonic()
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    return dict(name=name, rc=proc.returncode, seconds=round(time.monotonic() - started, 1),
                output=proc.stdout + proc.stderr)


def summary(out):
    """Every table of the results in `out`, as markdown."""
    parts = []
    for name in BENCHMARKS:
        path = os.path.join(out, name + ".json")
        if not os.path.exists(path):
            continue
        with open(path) as handle:
            report = json.load(handle)
        parts.append("## %s (%s)\n" % (name, report.get("when")))
        markdown = report.get("markdown")
        for text in (markdown.values() if isinstance(markdown, dict) else [markdown]):
            parts.append(text + "\n")
        if report.get("summary"):
            parts.append(report["summary"] + "\n")
    return "\n".join(parts)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="every benchmark at a tiny size, two at a time")
    parser.add_argument("--only", help="comma-separated benchmark names (%s)" % ", ".join(BENCHMARKS))
    parser.add_argument("--out", help="results folder (default: benchmarks/out, or a temporary one with --smoke)")
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(BENCHMARKS)
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        parser.error("unknown benchmarks: %s" % ", ".join(sorted(unknown)))
    out = args.out or (tempfile.mkdtemp(prefix="bench-smoke-") if args.smoke else os.path.join(BENCH, "out"))
    os.makedirs(out, exist_ok=True)
    started = time.monotonic()
    if args.smoke:
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(lambda n: run_one(n, True, out), names))
    else:
        results = [run_one(name, False, out) for name in names]
    failed = [r for r in results if r["rc"] != 0]
    for result in results:
        print("%-16s %s in %.1f s" % (result["name"], "ok" if result["rc"] == 0 else "FAILED", result["seconds"]))
    for result in failed:
        print("\n--- %s (rc %d) ---\n%s" % (result["name"], result["rc"], result["output"][-6000:]))
    if not args.smoke:
        for png in glob.glob(os.path.join(out, "*.png")):
            shutil.copy(png, BENCH)
        with open(os.path.join(out, "summary.md"), "w") as handle:
            handle.write(summary(out))
    print("results in %s (%.1f s)" % (out, time.monotonic() - started))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
