"""Per-suite wall and CPU seconds of one pytest session that runs several suites (`make test` runs every pytest
suite in one session, so that the two xdist workers never wait for the end of a suite).

Each test's cost is measured in the process that runs it (an xdist worker or pytest itself), from the start of its
setup to the end of its teardown: wall seconds, and CPU seconds of that process plus every child it waited for
(ansible-playbook, Molecule, the emulator of the test). The controller sums them per suite (the folder under
tests/) and prints a table at the end. "test s" adds up the tests' own wall times: with 2 workers it is about twice
the session's wall time.

With CLOUDSSO_DURATIONS_OUT=<file>, the session also writes each test's wall seconds (setup to teardown) there as
JSON, for the tests that took a second or more: `scripts/durations.py <file>` merges them into
tests/durations.json, which orders the next sessions (longest first). With CLOUDSSO_TEST_CPU_OUT=<file>, it writes
each test's CPU seconds there (every test of a second or more of CPU): where to cut when the session is CPU-bound.
"""

import json
import os

import resource
import time

import pytest

_COST = "suite_cost"
_START = pytest.StashKey()


def _cpu_seconds():
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def suite_of(nodeid):
    """`tests/integration/test_x.py::test_y` -> `integration`."""
    parts = nodeid.split("::", 1)[0].split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "tests" else parts[0]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    item.stash[_START] = (time.monotonic(), _cpu_seconds())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    start = item.stash.get(_START, None)
    if call.when == "teardown" and start is not None:
        report.user_properties.append((_COST, (time.monotonic() - start[0], _cpu_seconds() - start[1])))


class SuiteTimes(object):
    def __init__(self):
        self.started = time.monotonic()
        self.suites = {}
        self.failed = set()
        self.durations = {}
        self.cpu = {}

    def pytest_runtest_logreport(self, report):
        row = self.suites.setdefault(suite_of(report.nodeid), {"tests": 0, "failed": 0, "wall": 0.0, "cpu": 0.0})
        if report.failed and report.nodeid not in self.failed:
            self.failed.add(report.nodeid)
            row["failed"] += 1
        if report.when != "teardown":
            return
        row["tests"] += 1
        for name, value in report.user_properties:
            if name == _COST:
                row["wall"] += value[0]
                row["cpu"] += value[1]
                self.durations[report.nodeid] = value[0]
                self.cpu[report.nodeid] = value[1]

    def lines(self):
        rows = [("suite", "tests", "failed", "test s", "CPU s")]
        for name in sorted(self.suites, key=lambda n: -self.suites[n]["cpu"]):
            row = self.suites[name]
            rows.append((name, str(row["tests"]), str(row["failed"]), "%.1f" % row["wall"], "%.1f" % row["cpu"]))
        rows.append(("total", str(sum(r["tests"] for r in self.suites.values())),
                     str(sum(r["failed"] for r in self.suites.values())),
                     "%.1f" % sum(r["wall"] for r in self.suites.values()),
                     "%.1f" % sum(r["cpu"] for r in self.suites.values())))
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        out = []
        for index, row in enumerate(rows):
            if index in (1, len(rows) - 1):
                out.append("  ".join("-" * w for w in widths))
            out.append("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row,
                                                                                                             widths))))
        out.append("session wall time %.1f s" % (time.monotonic() - self.started))
        return out

    def pytest_terminal_summary(self, terminalreporter):
        for variable, seconds, what in (("CLOUDSSO_DURATIONS_OUT", self.durations, "durations"),
                                        ("CLOUDSSO_TEST_CPU_OUT", self.cpu, "CPU seconds")):
            out = os.environ.get(variable)
            if not out:
                continue
            kept = dict((k, round(v, 1)) for k, v in sorted(seconds.items()) if v >= 1.0)
            with open(out, "w") as handle:
                json.dump(kept, handle, indent=0)
            terminalreporter.write_line("%s of %d tests written to %s" % (what, len(kept), out))
        if len(self.suites) < 2:
            return
        terminalreporter.section("time per suite (wall of each test, CPU of its process tree)")
        for line in self.lines():
            terminalreporter.write_line(line)


def pytest_configure(config):
    # Only in the process that reports (pytest itself, or xdist's controller).
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(SuiteTimes(), "suite-times")
