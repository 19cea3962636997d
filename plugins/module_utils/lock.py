# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A lock file that outlives single tasks: held by one ansible-playbook run, taken over when that run's
process is gone (killed) or the lock is older than a limit. Also the rotation_lock module's runner and its
deciders."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import os
import socket
import time

from ansible_collections.alicloud.cloudsso.plugins.module_utils.safe_paths import (
    UnsafePathError,
    check_folder,
    open_regular,
    refuse_special,
    relative_paths,
)

PROC = "/proc"


def _stat_fields(pid):
    """(parent pid, start time in clock ticks) from /proc/<pid>/stat, or None off Linux."""
    try:
        with open(os.path.join(PROC, str(pid), "stat")) as handle:
            text = handle.read()
    except (IOError, OSError):
        return None
    # The command name is in parentheses and may hold spaces: split after the last ')'.
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[1]), fields[19]


def _cmdline(pid):
    try:
        with open(os.path.join(PROC, str(pid), "cmdline"), "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except (IOError, OSError):
        return ""


def playbook_process(start=None):
    """(pid, start ticks) of the outermost ansible-playbook process above this one, or (None, None).
    The module runs in a child of a worker forked from ansible-playbook; that run is the lock's owner."""
    pid = start or os.getppid()
    found = (None, None)
    for _depth in range(64):
        fields = _stat_fields(pid)
        if not fields:
            break
        if "ansible-playbook" in _cmdline(pid):
            found = (pid, fields[1])
        if fields[0] <= 1:
            break
        pid = fields[0]
    return found


def process_alive(pid, start_ticks):
    """Whether the process still runs (and is the same one: pids are reused)."""
    if not pid:
        return None
    fields = _stat_fields(pid)
    if fields is None:
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return None  # no /proc: alive, but not known to be the same process
    return start_ticks is None or fields[1] == start_ticks


def read_holder(path):
    """The lock's content, or None when there is none or it is unreadable. Raises UnsafePathError when the
    path is not a regular file of this user: a FIFO planted there must not hang the run."""
    try:
        handle = os.fdopen(open_regular(path, option="lock file"))
    except (IOError, OSError):
        return None
    try:
        with handle:
            return json.load(handle)
    except (IOError, OSError, ValueError):
        return None


def is_stale(holder, now, stale_after_seconds, host=None):
    """A lock is stale when its run's process is gone (same host) or it is older than the limit."""
    if not holder:
        return True
    if now - float(holder.get("acquired_epoch") or 0) > stale_after_seconds:
        return True
    if holder.get("host") == (host or socket.gethostname()):
        return process_alive(holder.get("pid"), holder.get("pid_start")) is False
    return False


def acquire(path, owner, stale_after_seconds, now=None):
    """Returns (acquired, created, holder, took_over): `created` when this call wrote the lock, `holder` the
    lock's content after the call, `took_over` the stale holder it replaced."""
    now = time.time() if now is None else now
    pid, start = playbook_process()
    mine = dict(owner=owner, host=socket.gethostname(), pid=pid, pid_start=start, acquired_epoch=now,
                acquired=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)))
    took_over = None
    for _attempt in range(3):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except OSError as error:
            if error.errno != errno.EEXIST:
                raise  # no folder, no permission: the caller names the file and the reason
            holder = read_holder(path)
            if holder and holder.get("owner") == owner:
                return True, False, holder, took_over
            if not is_stale(holder, now, stale_after_seconds):
                return False, False, holder, None
            # Move the stale file aside: of two runs taking over at once, only one rename succeeds.
            try:
                os.rename(path, "%s.stale.%s" % (path, owner))
            except OSError:
                continue
            os.unlink("%s.stale.%s" % (path, owner))
            took_over = holder
            continue
        with os.fdopen(fd, "w") as handle:
            json.dump(mine, handle)
        return True, True, mine, took_over
    return False, False, read_holder(path), None


def release(path, owner):
    """Remove the lock if `owner` holds it; returns whether it was removed."""
    holder = read_holder(path)
    if holder and holder.get("owner") == owner:
        os.unlink(path)
        return True
    return False


# --- the rotation_lock module ----------------------------------------------------------------------------

def stale_after_problem(minutes):
    """Why `stale_after_minutes` cannot be used, or None."""
    if minutes < 1:
        return ("stale_after_minutes must be 1 or more, got %s: a smaller value would let every run take over the "
                "lock of a run still going" % minutes)
    return None


def acquire_outcome(path, acquired, created, holder, took_over, stale_after_minutes):
    """(result, warning, failure) of an `acquired` call from what acquire() returned: the module's result, the
    warning to give (a stale lock was taken over) or None, and the failure message (another run holds the
    lock) or None."""
    result = dict(changed=created, acquired=acquired, holder=holder)
    warning = failure = None
    if took_over:
        result["took_over"] = took_over
        warning = ("took over the lock left by run %s (process gone or lock older than %s minutes)"
                   % (took_over.get("owner"), stale_after_minutes))
    if not acquired:
        failure = ("another run holds %s: run %s on %s (pid %s) since %s. It stops before changing anything; "
                   "run again when it has finished." % (path, holder.get("owner"), holder.get("host"),
                                                        holder.get("pid"), holder.get("acquired")))
    return result, warning, failure


class RotationLockRunner(object):
    """Runs the rotation_lock module on a CollectionModule."""

    def __init__(self, module):
        self.module = module
        self.params = module.params

    def run(self):
        p = self.params
        problem = stale_after_problem(p["stale_after_minutes"])
        if problem:
            self.module.fail_json(msg=problem)
        self.module.fail_on(relative_paths([("path", p["path"])]))
        if p["state"] == "released":
            self.module.exit_json(**self._on_lock_file(self._release))
        outcome = self._on_lock_file(acquire, p["owner"], p["stale_after_minutes"] * 60)
        result, warning, failure = acquire_outcome(p["path"], *outcome, stale_after_minutes=p["stale_after_minutes"])
        if warning:
            self.module.warn(warning)
        if failure:
            self.module.fail_json(msg=failure, **result)
        self.module.exit_json(**result)

    def _on_lock_file(self, call, *args):
        """call(path, *args) once the lock file's folder and the file itself are found safe to use."""
        path = self.params["path"]
        try:
            check_folder(os.path.dirname(path), option="its folder")
            refuse_special(path)
            return call(path, *args)
        except UnsafePathError as error:
            self.module.fail_json(msg="cannot use lock file %s: %s; the lock was not touched" % (path, error))
        except (IOError, OSError) as error:
            self.module.fail_json(msg="cannot use lock file %s: %s" % (path, error.strerror or error))

    def _release(self, path):
        return dict(changed=release(path, self.params["owner"]), acquired=False, holder=read_holder(path))
