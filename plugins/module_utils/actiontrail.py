# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""ActionTrail evidence of SCIM credential use (API version 2020-07-06): the search window, its split
into pieces ActionTrail accepts, a pacer that keeps LookupEvents under the account's rate limit, the
paging loop, the matcher that finds credential IDs anywhere in an event, and the result the
scim_usage_info module returns.

Where CloudSSO puts `SCIMCredentialId` in an event is not documented (API-FACTS.md section 3), so the
matcher never follows one JSON path: it walks the whole event, nested objects, lists and JSON encoded as
strings included. Only IDs, times, source IPs, user agents and counts leave this module; never an event.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import hashlib
import json
import os
import re
import tempfile
import time
from datetime import timedelta

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: each process paces itself only
    fcntl = None

from ansible_collections.alicloud.cloudsso.plugins.module_utils.cloudsso import (
    CREDENTIAL_ID_IN_TEXT,
    format_time,
    parse_time,
    utc_now,
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import AlibabaCloudError
from ansible_collections.alicloud.cloudsso.plugins.module_utils.safe_paths import (
    UnsafePathError,
    check_folder,
    ensure_folder,
    open_regular,
)

LOOKUP_EVENTS = "LookupEvents"
RETENTION = timedelta(days=90)      # ActionTrail keeps (and searches) the last 90 days
MAX_SPAN = timedelta(days=30)       # one LookupEvents query spans at most 30 days
PAGE_SIZE = 50                      # MaxResults: the most one page may hold
DEFAULT_SINCE = "24h"
DEFAULT_EVENT_NAMES = ("ListUsers",)
# The second lookup attribute (ActionTrail ANDs up to two): it drops RAM's ListUsers, the bulk of the noise
# an EventName query reads. The serviceName of SCIM events is undocumented and matching is exact and
# case-sensitive, so a scan that sees no SCIM call with it reads the window again without it.
SCIM_SERVICE_NAME = "cloudsso"
MAX_CALLS_PER_SECOND = 2.0          # the documented LookupEvents limit, per account
# Added to each interval between two calls, so that network jitter cannot squeeze three calls into one
# second of the service's sliding window.
PACING_GUARD = 0.05

SCIM_CREDENTIAL_KEY = "scimcredentialid"   # compared case-insensitively
MAX_LISTED = 50          # at most this many distinct source IPs / user agents per credential
MAX_DEPTH = 32           # nesting levels the matcher walks (JSON strings included)
MAX_JSON_TEXT = 1 << 20  # longer strings are scanned as text, not parsed

STOP_FOUND = "found"
STOP_MAX_PAGES = "max_pages"

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^(?:\d+[smhdw])+$")
_DURATION_PART = re.compile(r"(\d+)([smhdw])")
# A value under a SCIMCredentialId key counts as a credential ID when it looks like an ID; the
# documented format is `scimcred-` + 20 letters or digits, but the matcher must not depend on it.
_ID_LIKE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.:-]{0,127}$")
_NOT_AN_ID = ("null", "none", "nil", "undefined", "n/a")


class UsageInputError(ValueError):
    """A bad option value; the message names the option and what is expected."""


class ScanError(Exception):
    """ActionTrail answered in a way the paging loop cannot go on with."""


# --- the window ------------------------------------------------------------------------------------

def _example_formats(option):
    return ("%s: use a time back from now such as 30m, 24h, 7d or 2w (units s, m, h, d, w; combined as in 1d12h), "
            "or an ISO 8601 time such as 2024-01-04T08:00:00Z (a time without offset is UTC)" % option)


def parse_point(value, now, option="since"):
    """A point in time from `30m` / `24h` / `7d` / `2w` (back from `now`), `now`, or ISO 8601."""
    text = str(value).strip() if value is not None else ""
    if not text:
        raise UsageInputError("%s is empty. %s" % (option, _example_formats(option)))
    compact = text.lower().replace(" ", "")
    if compact == "now":
        return now
    if _DURATION.match(compact):
        seconds = sum(int(number) * _UNIT_SECONDS[unit] for number, unit in _DURATION_PART.findall(compact))
        try:
            return now - timedelta(seconds=seconds)
        except OverflowError:
            raise UsageInputError("%s %r reaches back too far: ActionTrail keeps 90 days of events" % (option, text))
    if text[-1] == "z":
        text = text[:-1] + "Z"
    parsed = parse_time(text)
    if parsed is None:
        raise UsageInputError("%s %r is not a time. %s" % (option, text, _example_formats(option)))
    return parsed


def resolve_window(since=DEFAULT_SINCE, until=None, now=None):
    """(start, end) as aware UTC datetimes in whole seconds. `until` defaults to now, and a later `until`
    is cut to now. Raises UsageInputError when the window is not one ActionTrail can search."""
    now = (now or utc_now()).replace(microsecond=0)
    start = parse_point(DEFAULT_SINCE if since is None else since, now, "since").replace(microsecond=0)
    end = now if until in (None, "") else parse_point(until, now, "until").replace(microsecond=0)
    if start > now:
        raise UsageInputError("since %s is in the future (now is %s)" % (format_time(start), format_time(now)))
    oldest = now - RETENTION
    if start < oldest:
        raise UsageInputError("since %s is more than 90 days ago (the oldest searchable time is %s): ActionTrail "
                              "keeps 90 days of events" % (format_time(start), format_time(oldest)))
    end = min(end, now)
    if start >= end:
        raise UsageInputError("since (%s) must be earlier than until (%s)" % (format_time(start), format_time(end)))
    return start, end


def split_window(start, end, span=MAX_SPAN):
    """Pieces of at most `span` covering [start, end], newest first. Neighbours share their boundary
    instant (ActionTrail's bounds are inclusive); the scan drops the event seen twice."""
    pieces = []
    upper = end
    while upper > start:
        lower = max(start, upper - span)
        pieces.append((lower, upper))
        upper = lower
    return pieces


# --- pacing ------------------------------------------------------------------------------------------

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


# --- the matcher -------------------------------------------------------------------------------------

def _json_in(text):
    """The value a string holds as JSON (an object, an array or a JSON string), or None."""
    stripped = text.strip()
    if len(stripped) < 2 or len(stripped) > MAX_JSON_TEXT or stripped[0] not in "{[\"":
        return None
    try:
        return json.loads(stripped)
    except ValueError:
        return None


def _id_value(text):
    value = text.strip()
    if value.lower() in _NOT_AN_ID or not _ID_LIKE.match(value):
        return None
    return value


def _walk(value, found, under_key, depth):
    if depth > MAX_DEPTH:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            is_key = False
            if isinstance(key, str):
                found.update(CREDENTIAL_ID_IN_TEXT.findall(key))
                is_key = key.lower() == SCIM_CREDENTIAL_KEY
            _walk(item, found, is_key, depth + 1)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _walk(item, found, under_key, depth + 1)
    elif isinstance(value, str):
        found.update(CREDENTIAL_ID_IN_TEXT.findall(value))
        decoded = _json_in(value)
        if decoded is not None:
            _walk(decoded, found, under_key, depth + 1)
        elif under_key:
            candidate = _id_value(value)
            if candidate:
                found.add(candidate)


def credential_ids_in(event):
    """Every SCIM credential ID an event carries: values of keys named `SCIMCredentialId` (any case, any
    depth, in lists and in JSON held in strings) and literal `scimcred-` IDs anywhere, keys included.
    Never raises, whatever the event holds."""
    found = set()
    try:
        _walk(event, found, False, 0)
    except RecursionError:  # pragma: no cover - MAX_DEPTH keeps far below the limit
        pass
    return found


def event_time(event):
    value = event.get("eventTime") if isinstance(event, dict) else None
    return parse_time(value) if isinstance(value, str) else None


def _event_key(event):
    if isinstance(event, dict):
        event_id = event.get("eventId")
        if isinstance(event_id, (str, int)) and not isinstance(event_id, bool) and str(event_id):
            return "id:%s" % event_id
    try:
        text = json.dumps(event, sort_keys=True, default=str)
    except (TypeError, ValueError):
        text = repr(event)
    return "sha:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _text_field(event, name):
    value = event.get(name) if isinstance(event, dict) else None
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


# --- the tally ---------------------------------------------------------------------------------------

class CredentialUse(object):
    """What the events tell about one credential ID."""

    def __init__(self, credential_id):
        self.credential_id = credential_id
        self.event_count = 0
        self.error_count = 0
        self.first = None
        self.last = None
        self.source_ips = set()
        self.user_agents = set()

    def add(self, event, when):
        self.event_count += 1
        if isinstance(event, dict) and event.get("errorCode"):
            self.error_count += 1
        if when is not None:
            self.first = when if self.first is None else min(self.first, when)
            self.last = when if self.last is None else max(self.last, when)
        for values, field in ((self.source_ips, "sourceIpAddress"), (self.user_agents, "userAgent")):
            text = _text_field(event, field)
            if text and len(values) < MAX_LISTED:
                values.add(text)

    def to_dict(self):
        return dict(
            credential_id=self.credential_id,
            used=self.event_count > 0,
            first_used=format_time(self.first) if self.first else None,
            last_used=format_time(self.last) if self.last else None,
            event_count=self.event_count,
            error_count=self.error_count,
            source_ips=sorted(self.source_ips),
            user_agents=sorted(self.user_agents),
        )


class UsageTally(object):
    """Folds events into per-credential uses; each event counts once, however often it is read."""

    def __init__(self, requested, since=None, until=None, ignore_user_agents=()):
        self.requested = list(requested)
        self.since = since
        self.until = until
        self.ignore_user_agents = tuple(ignore_user_agents or ())
        self.ignored_calls = 0
        self.uses = dict((cid, CredentialUse(cid)) for cid in self.requested)
        self.others = {}
        self.events_seen = 0
        self.scim_events_seen = 0
        self.outside_window = 0
        self._keys = set()
        self._missing = set(self.requested)

    def add(self, event):
        when = event_time(event)
        if when is not None and ((self.since and when < self.since) or (self.until and when > self.until)):
            self.outside_window += 1
            return
        key = _event_key(event)
        if key in self._keys:
            return
        self._keys.add(key)
        self.events_seen += 1
        ids = credential_ids_in(event)
        if not ids:
            return  # RAM's or CloudSSO OpenAPI's ListUsers, or anything else without a SCIM credential
        agent = _text_field(event, "userAgent")
        if agent and self.ignore_user_agents and agent.startswith(self.ignore_user_agents):
            # This collection's own token probes say nothing about which token an identity provider holds.
            self.ignored_calls += 1
            return
        self.scim_events_seen += 1
        for cid in ids:
            use = self.uses.get(cid)
            if use is None:
                use = self.others.get(cid)
                if use is None:
                    use = self.others[cid] = CredentialUse(cid)
            use.add(event, when)
            self._missing.discard(cid)

    @property
    def all_found(self):
        return not self._missing

    def to_dict(self, complete):
        usage = dict((cid, use.to_dict()) for cid, use in self.uses.items())
        used = [cid for cid in self.requested if usage[cid]["used"]]
        unused = [cid for cid in self.requested if not usage[cid]["used"]]
        return dict(
            usage=usage,
            used=used,
            unused=unused,
            other_credentials_seen=dict((cid, use.to_dict()) for cid, use in sorted(self.others.items())),
            events_seen=self.events_seen,
            scim_events_seen=self.scim_events_seen,
            ignored_calls=self.ignored_calls,
            # "unused" is evidence only when SCIM calls were visible in the window (a positive control) and
            # the whole window was read (or nothing is left to call unused).
            conclusive=self.scim_events_seen > 0 and (complete or not unused),
        )


# --- the scan ----------------------------------------------------------------------------------------

class UsageScan(object):
    """Pages through LookupEvents for each piece of the window (newest first) and each event name.

    `client` is an RpcClient for actiontrail (anything with `call(action, params)`; its `sleep` hook, when
    it has one, is replaced so that retries are paced too). `now` returns the current UTC time: the
    oldest searchable instant moves while a long scan runs."""

    def __init__(self, client, credential_ids, since, until, event_names=DEFAULT_EVENT_NAMES,
                 stop_when_found=False, max_pages=None, pacer=None, now=None, ignore_user_agents=(),
                 service_name=SCIM_SERVICE_NAME):
        self.client = client
        self.since = since
        self.until = until
        self.event_names = list(event_names)
        self.service_name = service_name
        self.stop_when_found = stop_when_found
        self.max_pages = max_pages
        self.pacer = pacer or Pacer()
        self.now = now or utc_now
        self.tally = UsageTally(unique(credential_ids), since, until, ignore_user_agents)
        self.pages = 0
        self.searched = []
        self.complete = False
        self.stop_reason = None
        if hasattr(client, "sleep"):
            client.sleep = self.pacer.backoff

    def run(self):
        if not self._pass() or not self.service_name:
            return self
        if self.tally.scim_events_seen or self.tally.ignored_calls:
            return self
        # Not one SCIM call under that serviceName: it may be spelled otherwise. Read the window by EventName
        # alone, so that a wrong guess costs pages, never a verdict.
        self.service_name = None
        self.complete = False
        self._pass()
        return self

    def _pass(self):
        """Every query of the window; False when the scan stopped early."""
        for start, end in split_window(self.since, self.until):
            floor = self.now().replace(microsecond=0) + timedelta(seconds=1) - RETENTION
            if end <= floor:
                continue  # the scan ran so long that this piece left ActionTrail's 90 days
            start = max(start, floor)
            for name in self.event_names:
                if not self._query(start, end, name):
                    return False
        self.complete = True
        return True

    def _must_stop(self):
        if self.stop_when_found and self.tally.all_found:
            self.stop_reason = STOP_FOUND
        elif self.max_pages and self.pages >= self.max_pages:
            self.stop_reason = STOP_MAX_PAGES
        return self.stop_reason is not None

    def _query(self, start, end, event_name):
        """Every page of one query; False when the scan must stop."""
        params = {
            "StartTime": format_time(start),
            "EndTime": format_time(end),
            "LookupAttribute.1.Key": "EventName",
            "LookupAttribute.1.Value": event_name,
            "MaxResults": str(PAGE_SIZE),
        }
        if self.service_name:
            params.update({"LookupAttribute.2.Key": "ServiceName", "LookupAttribute.2.Value": self.service_name})
        tokens = set()
        while True:
            if self._must_stop():
                return False
            if (start, end) not in self.searched:
                self.searched.append((start, end))
            self.pacer.wait()
            answer = self.client.call(LOOKUP_EVENTS, params)
            self.pages += 1
            events = answer.get("Events") if isinstance(answer, dict) else None
            for event in events if isinstance(events, list) else ():
                self.tally.add(event)
            token = answer.get("NextToken") if isinstance(answer, dict) else None
            if not token or not isinstance(token, str):
                return True
            if token in tokens:
                raise ScanError("ActionTrail LookupEvents returned the same NextToken twice for %s events from %s to "
                                "%s; stopping instead of looping" % (event_name, params["StartTime"], params["EndTime"]))
            tokens.add(token)
            params = dict(params, NextToken=token)

    def result(self):
        data = self.tally.to_dict(self.complete)
        searched_since = min(piece[0] for piece in self.searched) if self.searched else None
        data.update(
            credential_ids=list(self.tally.requested),
            complete=self.complete,
            stop_reason=self.stop_reason,
            pages=self.pages,
            window=dict(since=format_time(self.since), until=format_time(self.until),
                        searched_since=format_time(searched_since) if searched_since else None),
            windows=[dict(since=format_time(start), until=format_time(end)) for start, end in self.searched],
            event_names=list(self.event_names),
            service_name=self.service_name,
        )
        return data


# --- running a scan from a module --------------------------------------------------------------------

# The user agent prefix of this collection's own HTTP calls (transport.USER_AGENT): its SCIM token probes.
OWN_USER_AGENTS = ("alicloud.cloudsso-ansible/",)
THROTTLED = ("ActionTrail allows 2 LookupEvents calls per second per account, shared by every tool and fork that "
             "searches it; lower max_calls_per_second or the number of forks")


def scan_usage(module, credential_ids, since, until, region=None, endpoint_url=None,
               event_names=DEFAULT_EVENT_NAMES, stop_when_found=False, max_pages=None,
               max_calls_per_second=MAX_CALLS_PER_SECOND, cloudsso_client=None, ignore_user_agents=OWN_USER_AGENTS):
    """Run a UsageScan through an AlibabaCloudModule's ActionTrail client and return its result, or fail
    the module with a message that names the region, the pages read and the way out."""
    region = region or module.region
    trail = module.client("actiontrail", region=region, endpoint_url=endpoint_url)
    pacer = Pacer(max_calls_per_second)
    # The limit is the account's: the forks of one play share one pace per access key on this machine.
    pacer.share(lambda: trail.credentials.get().access_key_id,
                timeout=module.params.get("timeout") or PACE_LOCK_TIMEOUT, warn=module.warn)
    scan = UsageScan(trail, credential_ids, since, until, event_names=event_names, stop_when_found=stop_when_found,
                     max_pages=max_pages, pacer=pacer, ignore_user_agents=ignore_user_agents)

    def calls_by_product():
        return dict(actiontrail=trail.api_calls, cloudsso=cloudsso_client.api_calls if cloudsso_client else 0)

    try:
        scan.run()
    except AlibabaCloudError as error:
        prefix = "ActionTrail LookupEvents in %s failed after %s page(s)" % (region, scan.pages)
        if error.is_throttling:
            prefix = "%s. %s" % (prefix, THROTTLED)
        module.fail_from(error, prefix=prefix, changed=False, pages=scan.pages, actiontrail_region=region,
                         api_calls_by_product=calls_by_product())
    except ScanError as error:
        module.fail_json(msg=str(error), changed=False, pages=scan.pages, actiontrail_region=region,
                         api_calls=module.api_calls, api_calls_by_product=calls_by_product())
    result = scan.result()
    result.update(actiontrail_region=region, api_calls_by_product=calls_by_product())
    return result


# --- options -----------------------------------------------------------------------------------------

def unique(values):
    seen = set()
    out = []
    for value in values or ():
        if value not in seen:
            seen.add(value)
            out.append(value)
    return out


def clean_event_names(values):
    """The event names to query, stripped and without repeats; [] when one is empty."""
    names = [str(v).strip() if v is not None else "" for v in (values or ())]
    if not names or not all(names):
        return []
    return unique(names)


def option_problems(params):
    """Messages for bad scim_usage_info options (checked before any API call)."""
    problems = []
    if not clean_event_names(params.get("event_names")):
        problems.append("event_names must list at least one ActionTrail event name (for example ListUsers), and "
                        "none may be empty")
    rate = params.get("max_calls_per_second")
    if rate is not None and not 0 < rate <= MAX_CALLS_PER_SECOND:
        problems.append("max_calls_per_second must be more than 0 and at most 2 (ActionTrail's LookupEvents limit "
                        "per account), got %s" % rate)
    max_pages = params.get("max_pages")
    if max_pages is not None and max_pages < 1:
        problems.append("max_pages must be 1 or more, got %s" % max_pages)
    return problems
