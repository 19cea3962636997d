"""What the benchmark scripts share: the repository on sys.path (and the collection symlink tree), the
machine's description, statistics, the timing callback's output, and JSON / plot writing.

Benchmarks run ansible-playbook through tests.helpers.ansible.PlaybookRunner, so every run is also
leak-scanned like a test run; they are timed with the benchmarks/callback_plugins/bench_timing callback.
"""

import json
import os
import platform
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import tests.conftest  # noqa: E402,F401  (creates .build/collections/ansible_collections/alicloud/cloudsso)

# A benchmark measures what users run: never the test sessions' compile caches or their standard-library-only
# module Python (tests/conftest.py), even when a test (the bench smoke) starts them; modules run with this Python.
os.environ.pop("CLOUDSSO_TEST_BYTECODE_CACHE", None)
os.environ.pop("CLOUDSSO_TEST_ANSIBALLZ_CACHE", None)
os.environ.pop("CLOUDSSO_TEST_TARGET_PYTHON", None)
from tests.helpers.ansible import COLLECTIONS, REGION, PlaybookRunner  # noqa: E402,F401

BENCH = os.path.join(ROOT, "benchmarks")
CALLBACKS = os.path.join(BENCH, "callback_plugins")
OUT = os.path.join(BENCH, "out")  # raw results of full runs (git-ignored)
PACING_INTERVAL = 0.55  # scim_usage_info's spacing of LookupEvents calls at 2 calls per second (0.5 s + 0.05 s guard)
API_CEILING_PER_SECOND = 2.0  # ActionTrail LookupEvents: 2 calls per second per account (documented)


def _run(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout
    except OSError:
        return ""


def machine():
    """The machine, as lscpu, free and uname describe it."""
    lscpu = dict(re.findall(r"^([^:\n]+):\s*(.+)$", _run(["lscpu"]), re.M))
    mem = re.search(r"^Mem:\s+(\d+)", _run(["free", "-b"]), re.M)
    try:
        from ansible import __version__ as ansible_version
    except ImportError:  # pragma: no cover
        ansible_version = "?"
    return dict(
        cpu=lscpu.get("Model name", platform.processor() or platform.machine()),
        cpus=int(lscpu.get("CPU(s)", os.cpu_count() or 0)),
        threads_per_core=lscpu.get("Thread(s) per core"),
        memory_gib=round(int(mem.group(1)) / 2 ** 30, 1) if mem else None,
        kernel=" ".join(_run(["uname", "-sr"]).split()),
        python=platform.python_version(),
        ansible_core=ansible_version,
    )


def load_average():
    """The 1-minute load average: other work on the machine shows in every number below."""
    return round(os.getloadavg()[0], 2)


def machine_line(m):
    return "%d vCPU %s, %s GiB RAM, %s, Python %s, ansible-core %s" % (
        m["cpus"], m["cpu"], m["memory_gib"], m["kernel"], m["python"], m["ansible_core"])


def median(values):
    return statistics.median(values) if values else None


def timing_env(path, emulator_url=None):
    """Environment that enables the bench_timing callback (and its per-task API call counts)."""
    env = dict(ANSIBLE_CALLBACK_PLUGINS=CALLBACKS, ANSIBLE_CALLBACKS_ENABLED="bench_timing", BENCH_TIMING_FILE=path)
    if emulator_url:
        env["BENCH_EMULATOR_URL"] = emulator_url
    return env


def load_timing(path):
    with open(path) as handle:
        return json.load(handle)


def call_delta(task):
    """{product:action: n} made during a task (bench_timing with BENCH_EMULATOR_URL)."""
    before, after = task.get("calls_before") or {}, task.get("calls_after") or {}
    return dict((k, after[k] - before.get(k, 0)) for k in after if after[k] - before.get(k, 0))


def role_file(task):
    """`plan` for a task of roles/scim_rotation/tasks/plan.yml, else the playbook's base name."""
    path = (task.get("path") or "").rsplit(":", 1)[0]
    return os.path.splitext(os.path.basename(path))[0]


def emulator_cpu_seconds(pid):
    """User + system CPU seconds of a process so far (/proc/<pid>/stat)."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))
    except (OSError, IndexError, ValueError):
        return None


def server_milliseconds(stderr_text):
    """Sum of the emulator's per-request times (its log's trailing `<n>ms`): the API's own share."""
    return sum(int(m) for m in re.findall(r" (\d+)ms$", stderr_text, re.M))


def write_json(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)


def plt():
    """matplotlib.pyplot on the Agg backend (no display needed)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as pyplot
    return pyplot


def save_plot(fig, path):
    """A small PNG (commit-worthy)."""
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    import matplotlib.pyplot as pyplot
    pyplot.close(fig)
    return path


def markdown_table(headers, rows):
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def base_parser(description):
    import argparse
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI: checks the script, times nothing")
    parser.add_argument("--out", default=OUT, help="folder for the JSON results and PNG plots (default %(default)s)")
    return parser
