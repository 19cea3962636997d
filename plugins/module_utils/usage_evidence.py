# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What ActionTrail events tell about SCIM credential use: the matcher that finds credential IDs anywhere
in an event (`credential_ids_in`) and the tally that folds events into per-credential uses
(`CredentialUse`, `UsageTally`). Pure: events in, plain values out.

Where CloudSSO puts `SCIMCredentialId` in an event is not documented (docs/dev/api-facts.md section 3), so the
matcher never follows one JSON path: it walks the whole event, nested objects, lists and JSON encoded as
strings included. Only IDs, times, source IPs, user agents and counts leave this module; never an event.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import re

from ansible_collections.alicloud.cloudsso.plugins.module_utils.cloudsso import (
    CREDENTIAL_ID_IN_TEXT,
    format_time,
    parse_time,
)

SCIM_CREDENTIAL_KEY = "scimcredentialid"   # compared case-insensitively
MAX_LISTED = 50          # at most this many distinct source IPs / user agents per credential
MAX_DEPTH = 32           # nesting levels the matcher walks (JSON strings included)
MAX_JSON_TEXT = 1 << 20  # longer strings are scanned as text, not parsed
# A value under a SCIMCredentialId key counts as a credential ID when it looks like an ID; the
# documented format is `scimcred-` + 20 letters or digits, but the matcher must not depend on it.
_ID_LIKE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.:-]{0,127}$")
_NOT_AN_ID = ("null", "none", "nil", "undefined", "n/a")


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
