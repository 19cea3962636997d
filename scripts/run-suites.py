"""Run test suites (make targets) in lanes and print a table of their times at the end (`make test` uses it).

    .venv/bin/python scripts/run-suites.py unit,emulator-test,integration sanity,lint

Each argument is a lane: its suites (comma-separated make targets) run one after another; the lanes run at the
same time. Every suite runs, whatever the others do; the table then names each suite's result, its wall time and
its CPU time (user + system of the suite's process tree, from wait4: CPU seconds stay comparable on a busy
machine, wall seconds do not), and the script exits 1 if any suite failed. The first lane's output streams as it
comes; each suite of the other lanes is printed in one block when it ends. Every suite's output is also kept in
--log-dir.
Standard library only.
"""

import argparse
import os
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRINT = threading.Lock()


def say(text):
    with PRINT:
        sys.stdout.write(text)
        sys.stdout.flush()


class Suite(object):
    def __init__(self, name):
        self.name = name
        self.rc = None
        self.wall = None
        self.cpu = None
        self.started = None

    @property
    def result(self):
        if self.rc is None:
            return "not run"
        return "passed" if self.rc == 0 else "FAILED (rc %d)" % self.rc


def run_suite(suite, make, log_dir, stream):
    command = [make, suite.name]
    log_path = os.path.join(log_dir, "%s.log" % suite.name)
    say("==> %s: started (%s)\n" % (suite.name, " ".join(command)))
    suite.started = time.monotonic()
    with open(log_path, "w") as log:
        if stream:
            proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            for chunk in iter(lambda: proc.stdout.read1(65536), b""):
                log.write(chunk.decode("utf-8", "replace"))
                with PRINT:
                    sys.stdout.buffer.write(chunk)
                    sys.stdout.flush()
        else:
            proc = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        # wait4: the exit status and the CPU time of the suite's whole process tree (every process it waited for)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    suite.wall = time.monotonic() - suite.started
    suite.cpu = usage.ru_utime + usage.ru_stime
    suite.rc = proc.returncode
    if not stream:
        with open(log_path, errors="replace") as log:
            text = log.read()
        say("==> %s: output\n%s%s" % (suite.name, text, "" if text.endswith("\n") else "\n"))
    say("==> %s: %s in %.0f s (CPU %.0f s)\n" % (suite.name, suite.result, suite.wall, suite.cpu))


def run_lane(suites, make, log_dir, stream):
    for suite in suites:
        run_suite(suite, make, log_dir, stream)


def table(lanes, wall):
    rows = [("suite", "lane", "result", "wall s", "CPU s")]
    for number, suites in enumerate(lanes, 1):
        for suite in suites:
            rows.append((suite.name, str(number), suite.result,
                         "-" if suite.wall is None else "%.1f" % suite.wall,
                         "-" if suite.cpu is None else "%.1f" % suite.cpu))
    cpu = sum(s.cpu or 0 for suites in lanes for s in suites)
    rows.append(("total", "", "", "%.1f" % wall, "%.1f" % cpu))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        if index in (1, len(rows) - 1):
            lines.append("  ".join("-" * w for w in widths))
        lines.append("  ".join(cell.ljust(w) if i < 3 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row,
                                                                                                             widths))))
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("lanes", nargs="+", help="comma-separated make targets run one after another")
    parser.add_argument("--make", default=os.environ.get("MAKE", "make"))
    parser.add_argument("--log-dir", default=os.path.join(ROOT, ".build", "test-logs"))
    args = parser.parse_args(argv)
    os.makedirs(args.log_dir, exist_ok=True)
    lanes = [[Suite(name) for name in lane.split(",") if name] for lane in args.lanes]
    started = time.monotonic()
    threads = [threading.Thread(target=run_lane, args=(suites, args.make, args.log_dir, number == 0))
               for number, suites in enumerate(lanes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    failed = [s.name for suites in lanes for s in suites if s.rc != 0]
    say("\n==> suite times (logs in %s)\n%s" % (args.log_dir, table(lanes, wall)))
    total = sum(len(suites) for suites in lanes)
    if failed:
        say("failed suites: %s\n" % ", ".join(failed))
    say("suites: %d passed, %d failed\n" % (total - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
