# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A lock file that outlives single tasks: held by one ansible-playbook run, taken over when that run's
process is gone (killed) or the lock is older than a limit."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import os
import socket
import time

from ansible_collections.alicloud.cloudsso.plugins.module_utils.safe_paths import open_regular

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
