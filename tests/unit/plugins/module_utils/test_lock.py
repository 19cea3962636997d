"""The rotation lock: one holder at a time, taken over when the holder's process is gone or too old."""

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.alicloud.cloudsso.plugins.module_utils import lock
from ansible_collections.alicloud.cloudsso.plugins.module_utils.safe_paths import UnsafePathError


def test_first_run_takes_the_lock_and_the_second_is_refused(tmp_path):
    path = str(tmp_path / "l")
    acquired, created, holder, _ = lock.acquire(path, "run-a", 3600)
    assert acquired and created and holder["owner"] == "run-a"
    assert os.stat(path).st_mode & 0o777 == 0o600
    acquired, created, holder, _ = lock.acquire(path, "run-b", 3600)
    assert not acquired and not created and holder["owner"] == "run-a"


def test_the_holder_may_acquire_again(tmp_path):
    path = str(tmp_path / "l")
    lock.acquire(path, "run-a", 3600)
    acquired, created, _, _ = lock.acquire(path, "run-a", 3600)
    assert acquired and not created


def test_a_lock_whose_process_died_is_taken_over(tmp_path):
    path = str(tmp_path / "l")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    start = lock._stat_fields(os.getpid())[1]
    with open(path, "w") as handle:
        json.dump({"owner": "killed-run", "host": lock.socket.gethostname(), "pid": dead.pid, "pid_start": start,
                   "acquired_epoch": lock.time.time()}, handle)
    acquired, created, holder, took_over = lock.acquire(path, "run-b", 3600)
    assert acquired and created and holder["owner"] == "run-b" and took_over["owner"] == "killed-run"


def test_a_live_holder_on_this_host_keeps_it(tmp_path):
    path = str(tmp_path / "l")
    me = os.getpid()
    with open(path, "w") as handle:
        json.dump({"owner": "live", "host": lock.socket.gethostname(), "pid": me,
                   "pid_start": lock._stat_fields(me)[1], "acquired_epoch": lock.time.time()}, handle)
    assert not lock.acquire(path, "other", 3600)[0]


def test_a_reused_pid_is_not_mistaken_for_the_holder(tmp_path):
    path = str(tmp_path / "l")
    with open(path, "w") as handle:
        json.dump({"owner": "old", "host": lock.socket.gethostname(), "pid": os.getpid(), "pid_start": "1",
                   "acquired_epoch": lock.time.time()}, handle)
    assert lock.acquire(path, "new", 3600)[0]


def test_an_old_lock_is_stale_even_from_another_host(tmp_path):
    path = str(tmp_path / "l")
    with open(path, "w") as handle:
        json.dump({"owner": "elsewhere", "host": "other-host", "pid": 1, "acquired_epoch": 1000.0}, handle)
    assert not lock.acquire(path, "me", 3600, now=2000.0)[0]
    assert lock.acquire(path, "me", 3600, now=1000.0 + 3601)[0]


def test_release_only_by_the_holder(tmp_path):
    path = str(tmp_path / "l")
    lock.acquire(path, "run-a", 3600)
    assert not lock.release(path, "run-b") and os.path.exists(path)
    assert lock.release(path, "run-a") and not os.path.exists(path)
    assert not lock.release(path, "run-a")


def test_a_fifo_at_the_lock_path_is_refused_without_blocking(tmp_path):
    """Another user's FIFO must not hang the run (reading it would wait for a writer forever)."""
    path = str(tmp_path / "rotation.lock")
    os.mkfifo(path)
    with pytest.raises(UnsafePathError, match="is a FIFO"):
        lock.acquire(path, "me", 3600)
    with pytest.raises(UnsafePathError, match="is a FIFO"):
        lock.release(path, "me")


def test_a_symbolic_link_at_the_lock_path_is_refused(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text('{"owner": "me"}')
    path = str(tmp_path / "rotation.lock")
    os.symlink(str(target), path)
    with pytest.raises(UnsafePathError, match="symbolic link"):
        lock.release(path, "me")
    assert target.exists()


def test_playbook_process_finds_the_ansible_playbook_ancestor():
    """A child of a process whose command line names ansible-playbook finds that process (with its start time)."""
    child = ("import os, sys; sys.path[:0] = %r; from ansible_collections.alicloud.cloudsso.plugins.module_utils "
             "import lock; pid, start = lock.playbook_process(); print(pid == os.getppid(), start is not None)"
             % (sys.path[:3],))
    parent = "import subprocess, sys; subprocess.run([sys.executable, '-c', sys.argv[1]], check=True)"
    out = subprocess.run([sys.executable, "-c", parent, child, "ansible-playbook"], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["True", "True"]


def test_no_ansible_playbook_ancestor():
    child = ("import sys; sys.path[:0] = %r; from ansible_collections.alicloud.cloudsso.plugins.module_utils "
             "import lock; print(lock.playbook_process())" % (sys.path[:3],))
    out = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "(None, None)"


# --- the rotation_lock module's deciders -----------------------------------------------------------------

def test_stale_after_minutes_must_be_one_or_more():
    assert lock.stale_after_problem(1) is None and lock.stale_after_problem(240) is None
    for minutes in (0, -5):
        problem = lock.stale_after_problem(minutes)
        assert "stale_after_minutes must be 1 or more, got %s" % minutes in problem


HOLDER = {"owner": "run-a", "host": "awx-ee", "pid": 4242, "acquired": "2026-11-29T20:15:00Z"}


def test_acquired_lock_outcome():
    result, warning, failure = lock.acquire_outcome("/l", True, True, HOLDER, None, 240)
    assert result == dict(changed=True, acquired=True, holder=HOLDER)
    assert warning is None and failure is None


def test_taken_over_lock_outcome_warns_and_names_the_previous_run():
    old = dict(HOLDER, owner="killed-run")
    result, warning, failure = lock.acquire_outcome("/l", True, True, HOLDER, old, 30)
    assert result["took_over"] == old and failure is None
    assert "took over the lock left by run killed-run" in warning and "older than 30 minutes" in warning


def test_held_lock_outcome_fails_naming_the_holder():
    result, warning, failure = lock.acquire_outcome("/l", False, False, HOLDER, None, 240)
    assert result == dict(changed=False, acquired=False, holder=HOLDER) and warning is None
    assert failure.startswith("another run holds /l: run run-a on awx-ee (pid 4242) since 2026-11-29T20:15:00Z.")
