"""Fixtures of the reliability suite: the integration suite's emulator and per-test cloud (imported, not
copied), and the session-wide leak sweep.

The sweep: every PlaybookRunner a reliability test uses is tracked (the `cloud` fixture's, and those of
harness.new_runner). PlaybookRunner already scans each run when it ends; at the end of the session the
sweep scans again, with every secret every emulator of the session issued by then (the emulator's own
request log included), everything each tracked runner printed and every file left in its folder. That
catches a secret written after a run's own scan (a later run, a report rewritten, a secret issued later).
"""

import os

import pytest

from tests.integration.conftest import Cloud, emulator  # noqa: F401  (the session emulator fixture)
from tests.reliability.harness import LeakSweep


@pytest.fixture(scope="session")
def sweep(emulator):  # noqa: F811
    found = LeakSweep()
    found.track_emulator(emulator)
    yield found
    leaks = found.leaks()
    # Name where, never what: this message is output too.
    assert not leaks, "the session leak sweep found secrets in: %s" % ", ".join(leaks)


@pytest.fixture
def cloud(emulator, tmp_path, sweep):  # noqa: F811
    made = Cloud(emulator, str(tmp_path))
    sweep.track(made.runner)
    return made


@pytest.fixture
def work(tmp_path):
    path = os.path.join(str(tmp_path), "private")
    os.makedirs(path, mode=0o700)
    return path
