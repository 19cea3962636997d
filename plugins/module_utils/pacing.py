# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Pacing of ActionTrail LookupEvents: at most 2 calls per second per account (the documented limit),
shared by the forks and runs of one user on this machine through a pace file per access key in a private
per-user folder. `Pacer.wait()` goes right before each call, `Pacer.backoff()` is the client's retry sleep.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import hashlib
import os
import tempfile
import time

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: each process paces itself only
    fcntl = None

from ansible_collections.alicloud.cloudsso.plugins.module_utils.safe_paths import (
    UnsafePathError,
    check_folder,
    ensure_folder,
    open_regular,
)

MAX_CALLS_PER_SECOND = 2.0          # the documented LookupEvents limit, per account
# Added to each interval between two calls, so that network jitter cannot squeeze three calls into one
# second of the service's sliding window.
PACING_GUARD = 0.05
PACE_FOLDER = "alicloud-cloudsso"
PACE_LOCK_TIMEOUT = 30      # seconds a call waits for the shared pace file at most (the module's timeout)
STALE_PACE_SECONDS = 86400  # pace files untouched this long are removed (nobody paces with them)


def pace_folders(env=None):
    """Where the shared pace files may live, best first: private per-user folders only (safe_paths rules),
    never a predictable name that another user could own. $XDG_RUNTIME_DIR when it is private, else
    ~/.cache, else a folder of the temporary folder named with the uid (created 0700, or refused when it
    exists and is not this user's private folder)."""
    env = os.environ if env is None else env
    folders = []
    runtime = env.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime):
        folders.append((runtime, os.path.join(runtime, PACE_FOLDER)))
    home = os.path.expanduser("~")
    if os.path.isabs(home):
        folders.append((None, os.path.join(home, ".cache", PACE_FOLDER)))
    folders.append((None, os.path.join(tempfile.gettempdir(), "%s-%d" % (PACE_FOLDER, os.geteuid()))))
    return folders


def private_pace_folder(folder=None, env=None):
    """The first usable private pace folder (made 0700 when missing), or raise UnsafePathError naming why
    none is. `folder` replaces the candidates (tests)."""
    candidates = [(None, folder)] if folder else pace_folders(env)
    problems = []
    for parent, path in candidates:
        try:
            if parent:
                check_folder(parent, option="XDG_RUNTIME_DIR", private=True)
            ensure_folder(path, option="pace folder", private=True)
            return path
        except UnsafePathError as error:
            problems.append(str(error))
    raise UnsafePathError("; ".join(problems))


def remove_stale_pace_files(folder, now=None):
    """Pace files of this user not written for a day (regular files only; errors ignored)."""
    now = time.time() if now is None else now
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        path = os.path.join(folder, name)
        try:
            st = os.lstat(path)
            if name.endswith(".pace") and st.st_uid == os.geteuid() and os.path.isfile(path) and \
                    not os.path.islink(path) and now - st.st_mtime > STALE_PACE_SECONDS:
                os.unlink(path)
        except OSError:
            pass


class Pacer(object):
    """Spaces calls at least `1 / max_calls_per_second + guard` seconds apart (start to start).

    `wait()` goes right before each call; `backoff(delay)` is the retry sleep of the client, so retries
    of a throttled call are paced too. With `hold_first` (the default) the first call also waits one
    interval from the pacer's creation: a module run cannot know when the previous task of the play
    made its last calls, and two runs back to back must not put three calls in one second either.
    `clock` and `sleep` are injectable for tests."""

    def __init__(self, max_calls_per_second=MAX_CALLS_PER_SECOND, clock=None, sleep=None, guard=PACING_GUARD,
                 hold_first=True):
        if not max_calls_per_second or max_calls_per_second <= 0:
            raise ValueError("max_calls_per_second must be positive")
        self.interval = 1.0 / float(max_calls_per_second) + guard
        self.clock = clock or time.monotonic
        self.sleep = sleep or time.sleep
        self.calls = 0
        self.waited = 0.0
        self._last = self.clock() if hold_first else None
        self._shared = None
        self.shared_path = None

    def share(self, key, folder=None, timeout=PACE_LOCK_TIMEOUT, warn=None):
        """Pace together with every process on this machine that paces with the same key: the forks of a
        play that run this module at once for many directories of one account. `key()` (called at the first
        wait) names the account's access key; the time of the last call is kept in a file of a private
        per-user folder (private_pace_folder), locked while a process waits for its turn, for `timeout`
        seconds at most. When the folder or the file cannot be trusted, or the lock is held too long, this
        process paces itself only, and says so through `warn`. Only for a pacer on the system clock (a test's
        injected clock paces its own calls), and only where fcntl exists."""
        if fcntl is not None and self.clock is time.monotonic:
            self._shared = dict(key=key, folder=folder, timeout=timeout, warn=warn or (lambda message: None))

    def wait(self):
        now = self.clock()
        if self._last is not None:
            while True:
                remaining = self._last + self.interval - now
                if remaining <= 0:
                    break
                self.sleep(remaining)
                self.waited += remaining
                now = self.clock()
        if self._shared is not None:
            self._take_turn()
            now = self.clock()
        self._last = now
        self.calls += 1

    def _alone(self, reason):
        """Stop sharing: this process paces itself only, from now on."""
        warn = self._shared["warn"]
        self._shared = None
        warn("LookupEvents calls of this run are paced by this process only, not shared with other runs of this "
             "user on this machine: %s. Forks or runs at the same time with the same access key may be throttled "
             "(and retried)" % reason)

    def _pace_path(self):
        if self.shared_path is None:
            folder = private_pace_folder(self._shared["folder"])
            remove_stale_pace_files(folder)
            digest = hashlib.sha256(str(self._shared["key"]()).encode("utf-8")).hexdigest()[:16]
            self.shared_path = os.path.join(folder, "lookupevents-%s.pace" % digest)
        return self.shared_path

    def _lock(self, handle):
        """flock with a deadline: LOCK_NB tries with short sleeps, never a blocking wait."""
        deadline = time.monotonic() + self._shared["timeout"]
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except (IOError, OSError) as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(0.05, left))

    def _take_turn(self):
        """Wait until `interval` has passed since the last call of any process sharing the key, and record
        this call's time. Without a usable file, this process's own pacing stands."""
        try:
            path = self._pace_path()
            handle = open_regular(path, os.O_RDWR | os.O_CREAT, 0o600, option="pace file")
        except (UnsafePathError, IOError, OSError) as error:
            return self._alone(str(error))
        try:
            try:
                locked = self._lock(handle)
            except (IOError, OSError) as error:
                return self._alone("cannot lock %s: %s" % (path, error.strerror or error))
            if not locked:
                return self._alone("another process held %s for more than %s seconds (the module's timeout)"
                                   % (path, self._shared["timeout"]))
            try:
                last = float(os.read(handle, 64).decode("ascii") or "nan")
            except ValueError:
                last = float("nan")
            now = time.time()
            remaining = last + self.interval - now
            if 0 < remaining <= self.interval:  # a time from the future (clock set back) is ignored
                self.sleep(remaining)
                self.waited += remaining
                now = time.time()
            os.lseek(handle, 0, os.SEEK_SET)
            os.ftruncate(handle, 0)
            os.write(handle, repr(now).encode("ascii"))
        finally:
            os.close(handle)  # releases the lock

    def backoff(self, delay):
        if delay > 0:
            self.sleep(delay)
        self.wait()
