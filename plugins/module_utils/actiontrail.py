# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""ActionTrail evidence of SCIM credential use (API version 2020-07-06): the search window, its split
into pieces ActionTrail accepts, the paging loop over LookupEvents (`UsageScan`), and `scan_usage()`,
which runs a scan for a module (scim_usage_info, scim_rotation_plan) and returns its result.

The pacing of LookupEvents is in pacing.py; the matcher and the tally of events in usage_evidence.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from datetime import timedelta

from ansible_collections.alicloud.cloudsso.plugins.module_utils.cloudsso import (
    format_time,
    parse_time,
    utc_now,
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import AlibabaCloudError
from ansible_collections.alicloud.cloudsso.plugins.module_utils.pacing import (
    MAX_CALLS_PER_SECOND,
    PACE_LOCK_TIMEOUT,
    Pacer,
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.usage_evidence import UsageTally

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
STOP_FOUND = "found"
STOP_MAX_PAGES = "max_pages"

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^(?:\d+[smhdw])+$")
_DURATION_PART = re.compile(r"(\d+)([smhdw])")


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


# --- helpers -----------------------------------------------------------------------------------------

def unique(values):
    """`values` without repeats, in their first order."""
    seen = set()
    out = []
    for value in values or ():
        if value not in seen:
            seen.add(value)
            out.append(value)
    return out
