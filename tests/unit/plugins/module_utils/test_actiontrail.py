# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""module_utils.actiontrail (the window, the split, the paging loop against a fake LookupEvents that
enforces ActionTrail's documented rules), module_utils.pacing (the pacer, the shared pace file) and
module_utils.usage_evidence (the matcher on realistic events, the tally)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import fcntl
import json
import os
import stat
import time
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.alicloud.cloudsso.plugins.module_utils import actiontrail as at
from ansible_collections.alicloud.cloudsso.plugins.module_utils import pacing
from ansible_collections.alicloud.cloudsso.plugins.module_utils import usage_evidence as ev
from ansible_collections.alicloud.cloudsso.plugins.module_utils.client import RpcClient
from ansible_collections.alicloud.cloudsso.plugins.module_utils.cloudsso import format_time, parse_time
from ansible_collections.alicloud.cloudsso.plugins.module_utils.credentials import Credential, StaticProvider
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import AlibabaCloudError

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
OLD = "scimcred-004whmnsa1rxe8oldold"       # 'scimcred-' + 20
NEW = "scimcred-004whmnsa1rxe8newnew"
OTHER = "scimcred-00aaaaaaaaaaaaaaaaaa"
assert len(OLD) == len(NEW) == len(OTHER) == 29


def iso(value):
    return format_time(value)


# --- realistic events --------------------------------------------------------------------------------

def scim_list_users(credential_id=None, where="additionalEventData", when=NOW - timedelta(hours=1),
                    ip="20.43.64.17", agent="Azure Provisioning Service", error=None, event_id=None):
    """A SCIM ListUsers event as CloudSSO might record it; `where` is the unknown location of the ID."""
    event = {
        "eventId": event_id or "6A1B2C3D-%s-%s" % (where, when.strftime("%H%M%S%f")),
        "eventVersion": 1,
        "eventName": "ListUsers",
        "eventType": "ApiCall",
        "eventRW": "Read",
        "eventSource": "cloudsso-scim-cn-shanghai.aliyun.com",
        "eventTime": iso(when),
        "serviceName": "cloudsso",  # the spelling the scan asks for first (undocumented: see the fallback tests)
        "acsRegion": "cn-shanghai",
        "sourceIpAddress": ip,
        "userAgent": agent,
        "requestId": "0E9A4A3C-4B7A-5B0B-8C2C-7D5E6F7A8B9C",
        "requestParameters": {
            "HttpMethod": "GET", "Path": "/scim/v2/Users", "DirectoryId": "d-00fc2p61abcd",
            "filter": 'userName eq "alice@example.com"', "count": 100,
            "AcsHost": "cloudsso-scim-cn-shanghai.aliyun.com",
        },
        "additionalEventData": {"ScimVersion": "2.0"},
        "userIdentity": {"type": "scim-client", "principalId": "d-00fc2p61abcd", "accountId": "1234567890123456"},
    }
    if error:
        event["errorCode"] = error
        event["errorMessage"] = "The SCIM credential is disabled."
    if credential_id is None:
        return event
    if where == "additionalEventData":
        event["additionalEventData"]["SCIMCredentialId"] = credential_id
    elif where == "requestParameters":
        event["requestParameters"]["SCIMCredentialId"] = credential_id
    elif where == "userIdentity":
        event["userIdentity"]["SCIMCredentialId"] = credential_id
    elif where == "json_string":
        event["additionalEventData"] = json.dumps({"ScimVersion": "2.0", "SCIMCredentialId": credential_id})
    elif where == "literal":
        event["userIdentity"]["principalId"] = "%s/%s" % ("d-00fc2p61abcd", credential_id)
    else:
        raise AssertionError(where)
    return event


def ram_list_users(when=NOW - timedelta(hours=2)):
    return {
        "eventId": "RAM-%s" % when.strftime("%H%M%S"), "eventName": "ListUsers", "eventType": "ApiCall",
        "eventRW": "Read", "eventSource": "ram.aliyuncs.com", "eventTime": iso(when), "serviceName": "Ram",
        "acsRegion": "cn-hangzhou", "sourceIpAddress": "198.51.100.7", "userAgent": "aliyun-cli/3.0.200",
        "requestId": "R-1", "requestParameters": {"MaxItems": 100, "AcsHost": "ram.aliyuncs.com"},
        "userIdentity": {"type": "ram-user", "principalId": "276000000000000000", "accountId": "1234567890123456",
                         "accessKeyId": "TESTEXAMPLEKEYID0001", "userName": "ops"},
    }


def cloudsso_openapi_list_users(when=NOW - timedelta(hours=3)):
    return {
        "eventId": "SSO-%s" % when.strftime("%H%M%S"), "eventName": "ListUsers", "eventType": "ApiCall",
        "eventRW": "Read", "eventSource": "cloudsso.cn-shanghai.aliyuncs.com", "eventTime": iso(when),
        "serviceName": "cloudsso", "acsRegion": "cn-shanghai", "sourceIpAddress": "198.51.100.8",
        "userAgent": "AlibabaCloud (Linux; x86_64) Python/3.11 Core/0.3",
        "requestParameters": json.dumps({"DirectoryId": "d-00fc2p61abcd", "MaxResults": "20"}),
        "additionalEventData": '{"CallerBid": "26842"}',
        "userIdentity": {"type": "ram-user", "principalId": "276000000000000001", "accountId": "1234567890123456",
                         "userName": "auditor"},
    }


# --- the window --------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,delta", [
    ("30m", timedelta(minutes=30)), ("24h", timedelta(hours=24)), ("7d", timedelta(days=7)),
    ("2w", timedelta(weeks=2)), ("1d12h", timedelta(hours=36)), (" 90D ", timedelta(days=90)),
    ("45s", timedelta(seconds=45)), ("now", timedelta(0)),
])
def test_relative_times(text, delta):
    assert at.parse_point(text, NOW) == NOW - delta


@pytest.mark.parametrize("text,expected", [
    ("2026-02-27T08:00:00Z", datetime(2026, 2, 27, 8, tzinfo=timezone.utc)),
    ("2026-02-27T08:00:00z", datetime(2026, 2, 27, 8, tzinfo=timezone.utc)),
    ("2026-02-27T16:00:00+08:00", datetime(2026, 2, 27, 8, tzinfo=timezone.utc)),
    ("2026-02-27T08:00:00", datetime(2026, 2, 27, 8, tzinfo=timezone.utc)),
    ("2026-02-27T08:00:00.250Z", datetime(2026, 2, 27, 8, 0, 0, 250000, tzinfo=timezone.utc)),
    ("2026-02-27", datetime(2026, 2, 27, tzinfo=timezone.utc)),
])
def test_iso_times(text, expected):
    assert at.parse_point(text, NOW) == expected


@pytest.mark.parametrize("text", ["", "  ", "yesterday", "7 days", "-7d", "7x", "d7", "2026-13-01T00:00:00Z",
                                  "2026-02-30", "1.5h", None])
def test_bad_times_name_the_option_and_the_formats(text):
    with pytest.raises(at.UsageInputError) as info:
        at.parse_point(text, NOW, "until")
    message = str(info.value)
    assert message.startswith("until")
    assert "24h" in message and "ISO 8601" in message


def test_window_defaults_to_the_last_day_and_whole_seconds():
    now = NOW.replace(microsecond=654321)
    assert at.resolve_window(now=now) == (NOW - timedelta(days=1), NOW)
    assert at.resolve_window(None, None, now=now) == (NOW - timedelta(days=1), NOW)


def test_window_accepts_exactly_90_days_and_cuts_until_to_now():
    start, end = at.resolve_window("90d", "2030-01-01T00:00:00Z", now=NOW)
    assert (start, end) == (NOW - timedelta(days=90), NOW)


@pytest.mark.parametrize("since,until,words", [
    ("91d", None, ["more than 90 days", "ActionTrail keeps 90 days"]),
    ("2025-11-30T11:59:59Z", None, ["more than 90 days", "2025-12-01T12:00:00Z"]),
    ("99999999999999999w", None, ["too far"]),
    ("2026-03-02T00:00:00Z", None, ["in the future"]),
    ("1h", "2h", ["must be earlier than until"]),
    ("1h", "1h", ["must be earlier than until"]),
    ("yesterday", None, ["since 'yesterday' is not a time"]),
    ("1h", "soon", ["until 'soon' is not a time"]),
])
def test_bad_windows_fail_with_a_clear_message(since, until, words):
    with pytest.raises(at.UsageInputError) as info:
        at.resolve_window(since, until, now=NOW)
    for word in words:
        assert word in str(info.value)


def test_split_90_days_into_three_pieces_newest_first():
    start = NOW - timedelta(days=90)
    pieces = at.split_window(start, NOW)
    assert pieces == [
        (NOW - timedelta(days=30), NOW),
        (NOW - timedelta(days=60), NOW - timedelta(days=30)),
        (start, NOW - timedelta(days=60)),
    ]


@pytest.mark.parametrize("span,count,last", [
    (timedelta(hours=1), 1, timedelta(hours=1)),
    (timedelta(days=30), 1, timedelta(days=30)),
    (timedelta(days=30, seconds=1), 2, timedelta(seconds=1)),
    (timedelta(days=61), 3, timedelta(days=1)),
])
def test_split_pieces_cover_the_window_without_gaps(span, count, last):
    pieces = at.split_window(NOW - span, NOW)
    assert len(pieces) == count
    assert pieces[0][1] == NOW and pieces[-1][0] == NOW - span
    for newer, older in zip(pieces, pieces[1:]):
        assert older[1] == newer[0]
    assert all(end - start <= at.MAX_SPAN for start, end in pieces)
    assert pieces[-1][1] - pieces[-1][0] == last


# --- pacing ------------------------------------------------------------------------------------------

class FakeClock(object):
    def __init__(self, start=1000.0):
        self.now = start
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_pacer_spaces_calls_at_least_half_a_second_plus_guard():
    clock = FakeClock()
    pacer = pacing.Pacer(2, clock=clock, sleep=clock.sleep, hold_first=False)
    starts = []
    for dummy in range(5):
        pacer.wait()
        starts.append(clock.now)
        clock.now += 0.1  # the call itself takes 100 ms
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert all(gap >= 0.5 + pacing.PACING_GUARD - 1e-9 for gap in gaps)
    assert all(gap == pytest.approx(0.55) for gap in gaps)
    assert pacer.calls == 5
    assert clock.sleeps[0] == pytest.approx(0.45)


def test_pacer_does_not_wait_when_calls_are_slow_already():
    clock = FakeClock()
    pacer = pacing.Pacer(2, clock=clock, sleep=clock.sleep, hold_first=False)
    pacer.wait()
    clock.now += 3.0
    pacer.wait()
    assert clock.sleeps == []


def test_the_first_call_of_a_run_waits_one_interval_from_the_start():
    # The previous task of the play may have made two calls just before this module started.
    clock = FakeClock()
    pacer = pacing.Pacer(2, clock=clock, sleep=clock.sleep)
    clock.now += 0.2  # option checks, the credential chain, ListSCIMServerCredentials
    pacer.wait()
    assert clock.now - 1000.0 == pytest.approx(0.55)
    late = pacing.Pacer(2, clock=clock, sleep=clock.sleep)
    clock.now += 1.0
    before = len(clock.sleeps)
    late.wait()
    assert len(clock.sleeps) == before  # started long enough ago: no wait


def test_pacer_never_allows_three_calls_in_one_second_at_any_rate():
    clock = FakeClock()
    for rate in (2, 1.5, 0.5):
        pacer = pacing.Pacer(rate, clock=clock, sleep=clock.sleep)
        starts = []
        for dummy in range(20):
            pacer.wait()
            starts.append(clock.now)
        for i in range(len(starts) - 2):
            assert starts[i + 2] - starts[i] >= 1.0
        assert (len(starts) - 1) / (starts[-1] - starts[0]) <= rate


def test_pacer_paces_a_retry_after_its_backoff():
    clock = FakeClock()
    pacer = pacing.Pacer(2, clock=clock, sleep=clock.sleep, hold_first=False)
    pacer.wait()
    pacer.backoff(0.1)  # a jittered backoff shorter than the interval: the pacer adds the rest
    assert clock.now - 1000.0 == pytest.approx(0.55)
    pacer.backoff(2.0)
    assert clock.now - 1000.0 == pytest.approx(2.55)


@pytest.mark.parametrize("rate", [0, -1, None])
def test_pacer_needs_a_positive_rate(rate):
    with pytest.raises(ValueError):
        pacing.Pacer(rate)


# --- the shared pace: a private per-user folder, a regular file, a lock with a deadline ------------------

def shared_pacer(folder, timeout=0.3):
    """A pacer on the system clock (sharing needs it) whose sleeps are recorded, not slept."""
    warnings, sleeps = [], []
    pacer = pacing.Pacer(2, sleep=sleeps.append, hold_first=False)
    pacer.share(lambda: "LTAI-test-key", folder=str(folder), timeout=timeout, warn=warnings.append)
    return pacer, warnings


def test_the_shared_pace_lives_in_a_private_folder(tmp_path):
    pacer, warnings = shared_pacer(tmp_path / "pace")
    pacer.wait()
    pacer.wait()
    assert warnings == [] and pacer.calls == 2
    assert stat.S_IMODE(os.stat(str(tmp_path / "pace")).st_mode) == 0o700
    (name,) = os.listdir(str(tmp_path / "pace"))
    assert name.startswith("lookupevents-") and name.endswith(".pace")
    st = os.lstat(str(tmp_path / "pace" / name))
    assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600


def test_a_held_pace_lock_is_waited_for_until_the_timeout_only(tmp_path):
    pacer, warnings = shared_pacer(tmp_path / "pace", timeout=0.3)
    pacer.wait()  # creates the file
    holder = os.open(pacer.shared_path, os.O_RDWR)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)  # another open file: the pacer's LOCK_NB tries fail
        began = time.monotonic()
        pacer.wait()
        assert 0.25 <= time.monotonic() - began < 3
    finally:
        os.close(holder)
    assert pacer.calls == 2 and pacer._shared is None
    assert len(warnings) == 1 and "paced by this process only" in warnings[0] and "more than 0.3 seconds" in warnings[0]
    pacer.wait()  # from now on alone, without another warning
    assert len(warnings) == 1


@pytest.mark.parametrize("plant", ["fifo", "symlink", "folder"])
def test_a_pace_file_that_is_not_a_regular_file_is_refused_without_hanging(tmp_path, plant):
    pacer, warnings = shared_pacer(tmp_path / "pace")
    pacer._pace_path()
    path = pacer.shared_path
    if plant == "fifo":
        os.mkfifo(path)
    elif plant == "symlink":
        os.symlink(str(tmp_path / "elsewhere"), path)
    else:
        os.mkdir(path)
    pacer.wait()
    assert pacer.calls == 1 and len(warnings) == 1 and "paced by this process only" in warnings[0]
    assert not (tmp_path / "elsewhere").exists()


def test_a_pace_folder_open_to_others_is_refused(tmp_path):
    folder = tmp_path / "pace"
    folder.mkdir()
    os.chmod(str(folder), 0o777)
    pacer, warnings = shared_pacer(folder)
    pacer.wait()
    assert len(warnings) == 1 and "group and others must have no access" in warnings[0]
    assert os.listdir(str(folder)) == [] and stat.S_IMODE(os.stat(str(folder)).st_mode) == 0o777  # never chmod-ed


def test_pace_folders_skip_a_runtime_folder_that_is_not_private(tmp_path, monkeypatch):
    runtime, home, temp = tmp_path / "run", tmp_path / "home", tmp_path / "tmp"
    for folder in (runtime, home, temp):
        folder.mkdir()
    os.chmod(str(runtime), 0o755)
    os.chmod(str(home), 0o755)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setattr(pacing.tempfile, "tempdir", str(temp))
    env = {"XDG_RUNTIME_DIR": str(runtime)}
    assert pacing.private_pace_folder(env=env) == str(home / ".cache" / pacing.PACE_FOLDER)
    os.chmod(str(runtime), 0o700)
    assert pacing.private_pace_folder(env=env) == str(runtime / pacing.PACE_FOLDER)
    assert pacing.pace_folders({})[-1] == (None, str(temp / ("%s-%d" % (pacing.PACE_FOLDER, os.geteuid()))))


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a folder to another user")
def test_a_predictable_pace_folder_of_another_user_is_refused(tmp_path, monkeypatch):
    temp = tmp_path / "tmp"
    temp.mkdir()
    os.chmod(str(temp), 0o1777)
    not_a_folder = tmp_path / "home-is-a-file"
    not_a_folder.write_text("")
    monkeypatch.setenv("HOME", str(not_a_folder))
    monkeypatch.setattr(pacing.tempfile, "tempdir", str(temp))
    planted = temp / ("%s-%d" % (pacing.PACE_FOLDER, os.geteuid()))
    planted.mkdir(mode=0o700)
    os.chown(str(planted), 65534, 65534)
    with pytest.raises(pacing.UnsafePathError, match="owned by uid 65534"):
        pacing.private_pace_folder(env={})


def test_stale_pace_files_are_removed(tmp_path):
    old, fresh, other = tmp_path / "lookupevents-a.pace", tmp_path / "lookupevents-b.pace", tmp_path / "keep.txt"
    for path in (old, fresh, other):
        path.write_text("1")
    day_ago = time.time() - pacing.STALE_PACE_SECONDS - 60
    for path in (old, other):
        os.utime(str(path), (day_ago, day_ago))
    pacing.remove_stale_pace_files(str(tmp_path))
    assert sorted(os.listdir(str(tmp_path))) == ["keep.txt", "lookupevents-b.pace"]


# --- the matcher -------------------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["additionalEventData", "requestParameters", "userIdentity", "json_string",
                                   "literal"])
def test_matcher_finds_the_id_wherever_the_event_holds_it(where):
    assert ev.credential_ids_in(scim_list_users(NEW, where=where)) == {NEW}


@pytest.mark.parametrize("key", ["SCIMCredentialId", "scimCredentialId", "scimcredentialid", "SCIMCREDENTIALID"])
def test_matcher_key_is_case_insensitive(key):
    event = scim_list_users()
    event["additionalEventData"][key] = NEW
    assert ev.credential_ids_in(event) == {NEW}


FUTURE = "scimcred-v2_0123456789abcdefghijklmnop"  # not the documented format: found only through the key


@pytest.mark.parametrize("key", ["SCIMCredentialId", "scimCredentialId", "scimcredentialid", "SCIMCREDENTIALID"])
def test_the_key_alone_finds_ids_of_any_case_and_format(key):
    event = scim_list_users()
    event["userIdentity"][key] = FUTURE
    assert ev.credential_ids_in(event) == {FUTURE}


@pytest.mark.parametrize("encoded", [
    json.dumps({"SCIMCredentialId": FUTURE}),
    json.dumps({"ctx": {"ScimCredentialId": [FUTURE]}}),
    json.dumps([{"scimcredentialid": FUTURE}]),
    json.dumps(json.dumps({"SCIMCredentialId": FUTURE})),
    "  " + json.dumps({"SCIMCredentialId": FUTURE}) + "\n",
])
def test_the_key_is_found_inside_json_strings(encoded):
    event = scim_list_users()
    event["additionalEventData"] = encoded
    assert ev.credential_ids_in(event) == {FUTURE}


def test_a_json_list_under_the_key_holds_several_ids():
    event = scim_list_users()
    event["requestParameters"]["SCIMCredentialId"] = json.dumps([FUTURE, OLD])
    assert ev.credential_ids_in(event) == {FUTURE, OLD}


def test_matcher_finds_ids_in_lists():
    event = scim_list_users()
    event["additionalEventData"]["SCIMCredentialId"] = [OLD, NEW]
    assert ev.credential_ids_in(event) == {OLD, NEW}
    event = scim_list_users()
    event["requestParameters"]["Credentials"] = [{"Type": "BearerToken", "Id": OTHER}]
    assert ev.credential_ids_in(event) == {OTHER}


def test_matcher_finds_ids_deep_inside_json_strings():
    inner = json.dumps({"auth": {"scheme": "Bearer", "scimCredentialId": NEW}})
    event = scim_list_users()
    event["requestParameters"]["Context"] = json.dumps({"gateway": {"meta": inner, "hops": [1, 2]}})
    assert ev.credential_ids_in(event) == {NEW}
    # a JSON array in a string, under the key
    event = scim_list_users()
    event["userIdentity"]["SCIMCredentialId"] = json.dumps([OLD])
    assert ev.credential_ids_in(event) == {OLD}
    # a JSON string in a string (double encoded)
    event = scim_list_users()
    event["additionalEventData"] = json.dumps(json.dumps({"SCIMCredentialId": OLD}))
    assert ev.credential_ids_in(event) == {OLD}


def test_matcher_finds_literal_ids_in_free_text_and_in_keys():
    event = scim_list_users()
    event["requestParameters"]["Path"] = "/scim/v2/Users?credential=%s&count=1" % NEW
    assert ev.credential_ids_in(event) == {NEW}
    event = scim_list_users()
    event["additionalEventData"] = {"usage": {OLD: 3}}
    assert ev.credential_ids_in(event) == {OLD}


def test_matcher_keeps_an_id_of_an_unknown_format_under_the_key():
    # The documented format may change: a value under SCIMCredentialId counts whatever its shape ...
    event = scim_list_users()
    event["additionalEventData"]["SCIMCredentialId"] = FUTURE
    assert ev.credential_ids_in(event) == {FUTURE}
    # ... but elsewhere only the documented format is recognised as an ID
    event = scim_list_users()
    event["additionalEventData"]["CredentialRef"] = FUTURE
    assert ev.credential_ids_in(event) == set()


@pytest.mark.parametrize("value", [NEW + "X", NEW + "0", "x" + NEW, NEW[:-1], NEW.upper(),
                                   NEW.replace("scimcred-", "scimcred_")])
def test_look_alike_ids_do_not_match(value):
    for holder in ("key", "text"):
        event = scim_list_users()
        if holder == "key":
            event["additionalEventData"]["SCIMCredentialId"] = value
        else:
            event["requestParameters"]["Note"] = "token of %s rotated" % value
        found = ev.credential_ids_in(event)
        assert NEW not in found, (holder, value)
        tally = ev.UsageTally([NEW])
        tally.add(event)
        assert tally.to_dict(True)["used"] == []


def test_a_prefix_of_another_id_does_not_match_it():
    longer = NEW + "abc"  # an ID that starts with NEW
    event = scim_list_users(longer)
    assert ev.credential_ids_in(event) == {longer}
    tally = ev.UsageTally([NEW])
    tally.add(event)
    result = tally.to_dict(True)
    assert result["unused"] == [NEW]
    assert list(result["other_credentials_seen"]) == [longer]


@pytest.mark.parametrize("event", [ram_list_users(), cloudsso_openapi_list_users()])
def test_noise_events_carry_no_scim_credential(event):
    assert ev.credential_ids_in(event) == set()


@pytest.mark.parametrize("value", ["", "   ", None, "null", "None", 0, True, {}, [], "has space", "{broken json"])
def test_empty_or_junk_values_under_the_key_are_not_ids(value):
    event = scim_list_users()
    event["additionalEventData"]["SCIMCredentialId"] = value
    assert ev.credential_ids_in(event) == set()


@pytest.mark.parametrize("event", [None, 42, 3.5, True, "garbage", "", [], {}, {"eventTime": 12345},
                                   {"additionalEventData": "{not json"}, {"requestParameters": "[1, 2"},
                                   {1: "x", None: NEW}, {"eventId": None, "eventTime": "not a time"}])
def test_malformed_events_never_raise(event):
    found = ev.credential_ids_in(event)
    assert found <= {NEW}
    tally = ev.UsageTally([NEW])
    tally.add(event)
    tally.to_dict(True)


def test_malformed_event_with_the_id_still_counts_without_times():
    tally = ev.UsageTally([NEW])
    tally.add("ListUsers by %s" % NEW)
    use = tally.to_dict(True)["usage"][NEW]
    assert use["used"] and use["event_count"] == 1 and use["last_used"] is None


def test_very_deep_events_do_not_blow_the_stack():
    deep = NEW
    for dummy in range(5000):
        deep = {"a": [deep]}
    assert ev.credential_ids_in(deep) == set()  # beyond MAX_DEPTH, ignored, no RecursionError
    shallow = NEW
    for dummy in range(10):
        shallow = {"a": [shallow]}
    assert ev.credential_ids_in(shallow) == {NEW}


def test_the_matcher_never_mutates_the_event():
    event = scim_list_users(NEW, where="json_string")
    before = copy.deepcopy(event)
    ev.credential_ids_in(event)
    assert event == before


# --- the tally ---------------------------------------------------------------------------------------

def test_tally_per_credential_times_counts_ips_and_agents():
    tally = ev.UsageTally([OLD, NEW], since=NOW - timedelta(days=1), until=NOW)
    tally.add(scim_list_users(NEW, when=NOW - timedelta(minutes=5), ip="20.43.64.17"))
    tally.add(scim_list_users(NEW, where="userIdentity", when=NOW - timedelta(hours=5), ip="20.43.64.18"))
    tally.add(scim_list_users(NEW, where="json_string", when=NOW - timedelta(hours=3), ip="20.43.64.17",
                              agent="okta-scim/1.0"))
    tally.add(scim_list_users(OTHER, when=NOW - timedelta(hours=2), ip="203.0.113.9", agent="keycloak"))
    tally.add(ram_list_users())
    tally.add(cloudsso_openapi_list_users())
    result = tally.to_dict(True)
    assert result["used"] == [NEW] and result["unused"] == [OLD]
    new = result["usage"][NEW]
    assert new == dict(credential_id=NEW, used=True, first_used=iso(NOW - timedelta(hours=5)),
                       last_used=iso(NOW - timedelta(minutes=5)), event_count=3, error_count=0,
                       source_ips=["20.43.64.17", "20.43.64.18"],
                       user_agents=["Azure Provisioning Service", "okta-scim/1.0"])
    assert result["usage"][OLD] == dict(credential_id=OLD, used=False, first_used=None, last_used=None,
                                        event_count=0, error_count=0, source_ips=[], user_agents=[])
    assert list(result["other_credentials_seen"]) == [OTHER]
    assert result["other_credentials_seen"][OTHER]["user_agents"] == ["keycloak"]
    assert result["events_seen"] == 6 and result["scim_events_seen"] == 4
    assert result["conclusive"] is True


def test_rejected_calls_count_as_use_and_as_errors():
    tally = ev.UsageTally([OLD])
    tally.add(scim_list_users(OLD, error="InvalidCredential.Disabled", when=NOW - timedelta(minutes=1)))
    tally.add(scim_list_users(OLD, when=NOW - timedelta(minutes=50)))
    use = tally.to_dict(True)["usage"][OLD]
    assert use["used"] is True and use["event_count"] == 2 and use["error_count"] == 1


def test_an_event_read_twice_counts_once():
    tally = ev.UsageTally([NEW])
    event = scim_list_users(NEW, event_id="E-1")
    tally.add(event)
    tally.add(copy.deepcopy(event))
    no_id = scim_list_users(NEW, event_id="x")
    del no_id["eventId"]
    tally.add(no_id)
    tally.add(copy.deepcopy(no_id))
    result = tally.to_dict(True)
    assert result["usage"][NEW]["event_count"] == 2 and result["events_seen"] == 2


def test_events_outside_the_window_are_ignored():
    tally = ev.UsageTally([NEW], since=NOW - timedelta(hours=1), until=NOW - timedelta(minutes=10))
    tally.add(scim_list_users(NEW, when=NOW - timedelta(hours=2)))
    tally.add(scim_list_users(NEW, when=NOW - timedelta(minutes=5)))
    assert tally.to_dict(True)["used"] == []
    assert tally.outside_window == 2
    tally.add(scim_list_users(NEW, when=NOW - timedelta(hours=1)))  # bounds are inclusive
    assert tally.to_dict(True)["used"] == [NEW]


def test_source_ips_and_user_agents_are_capped():
    tally = ev.UsageTally([NEW])
    for i in range(ev.MAX_LISTED + 30):
        tally.add(scim_list_users(NEW, event_id="E-%d" % i, ip="10.0.%d.%d" % (i // 250, i % 250),
                                  agent="agent/%d" % i))
    use = tally.to_dict(True)["usage"][NEW]
    assert use["event_count"] == ev.MAX_LISTED + 30
    assert len(use["source_ips"]) == ev.MAX_LISTED and len(use["user_agents"]) == ev.MAX_LISTED


def test_not_conclusive_without_any_scim_event():
    tally = ev.UsageTally([OLD, NEW])
    tally.add(ram_list_users())
    tally.add(cloudsso_openapi_list_users())
    result = tally.to_dict(True)
    assert result["unused"] == [OLD, NEW] and result["scim_events_seen"] == 0
    assert result["conclusive"] is False


def test_another_credentials_use_is_the_positive_control():
    tally = ev.UsageTally([OLD])
    tally.add(scim_list_users(NEW))
    result = tally.to_dict(True)
    assert result["unused"] == [OLD] and result["conclusive"] is True
    # ... but not when the window was not read to its end
    assert tally.to_dict(False)["conclusive"] is False


def test_an_incomplete_scan_is_conclusive_when_nothing_is_left_unseen():
    tally = ev.UsageTally([NEW])
    tally.add(scim_list_users(NEW))
    assert tally.to_dict(False)["conclusive"] is True


def test_the_result_holds_nothing_but_ids_times_ips_agents_and_counts():
    tally = ev.UsageTally([NEW])
    event = scim_list_users(NEW)
    event["requestParameters"]["Authorization"] = "Bearer s3cr3t-token-value"
    event["additionalEventData"]["Note"] = "private note"
    tally.add(event)
    text = json.dumps(tally.to_dict(True))
    assert "s3cr3t" not in text and "private note" not in text and "alice@example.com" not in text


# --- the paging loop ---------------------------------------------------------------------------------

class FakeTrail(object):
    """LookupEvents as documented: one lookup attribute, MaxResults <= 50, StartTime/EndTime inclusive,
    at most 30 days per query, the last 90 days only, newest first, and a NextToken bound to the other
    parameters. `events` are raw event dicts; `faults` are AlibabaCloudErrors raised on the next calls."""

    def __init__(self, events=(), now=NOW):
        self.events = sorted(events, key=lambda e: e["eventTime"], reverse=True)
        self.now = now
        self.calls = []
        self.faults = []
        self.sleep = None

    def call(self, action, params=None):
        assert action == "LookupEvents"
        params = dict(params)
        self.calls.append(params)
        if self.faults:
            raise self.faults.pop(0)
        keys = set(k for k in params if k.startswith("LookupAttribute."))
        one = {"LookupAttribute.1.Key", "LookupAttribute.1.Value"}
        assert keys in (one, one | {"LookupAttribute.2.Key", "LookupAttribute.2.Value"}), keys
        assert params["LookupAttribute.1.Key"] == "EventName"
        service = params.get("LookupAttribute.2.Value")
        assert service is None or params["LookupAttribute.2.Key"] == "ServiceName"
        assert params["MaxResults"] == "50"
        start, end = parse_time(params["StartTime"]), parse_time(params["EndTime"])
        assert params["StartTime"].endswith("Z") and len(params["StartTime"]) == 20
        assert start <= end and end - start <= timedelta(days=30), "a query spans at most 30 days"
        assert start >= self.now - timedelta(days=90), "ActionTrail keeps 90 days"
        bound = dict((k, v) for k, v in params.items() if k != "NextToken")
        offset = 0
        if "NextToken" in params:
            token = json.loads(base64.b64decode(params["NextToken"]).decode())
            assert token["params"] == bound, "NextToken needs the other parameters unchanged"
            offset = token["offset"]
        # Two attributes combine with AND; matching is exact and case-sensitive (as ActionTrail's).
        matching = [e for e in self.events if e["eventName"] == params["LookupAttribute.1.Value"]
                    and (service is None or e.get("serviceName") == service)
                    and start <= parse_time(e["eventTime"]) <= end]
        page = matching[offset:offset + 50]
        answer = {"RequestId": "R", "Events": copy.deepcopy(page), "StartTime": params["StartTime"],
                  "EndTime": params["EndTime"]}
        if offset + 50 < len(matching):
            answer["NextToken"] = base64.b64encode(json.dumps(
                {"params": bound, "offset": offset + 50}).encode()).decode()
        return answer


def spread(count, credential_id, start, end, name="ListUsers", prefix="E"):
    """`count` SCIM events evenly spread over [start, end)."""
    step = (end - start) / count
    events = []
    for i in range(count):
        event = scim_list_users(credential_id, when=start + step * i, event_id="%s-%s-%d" % (prefix, name, i))
        event["eventName"] = name
        events.append(event)
    return events


def new_scan(trail, ids, since, until=NOW, clock=None, **kwargs):
    clock = clock or FakeClock()
    return at.UsageScan(trail, ids, since, until, pacer=pacing.Pacer(2, clock=clock, sleep=clock.sleep),
                        now=lambda: trail.now, **kwargs)


def test_scan_pages_with_next_token_and_unchanged_parameters():
    events = spread(120, NEW, NOW - timedelta(days=2), NOW)
    trail = FakeTrail(events)
    scan = new_scan(trail, [NEW, OLD], NOW - timedelta(days=3)).run()
    result = scan.result()
    assert result["pages"] == 3 == len(trail.calls)  # ceil(120 / 50), the minimum
    first, second, third = trail.calls
    assert "NextToken" not in first and second["NextToken"] and third["NextToken"] != second["NextToken"]
    for call in trail.calls:
        assert dict((k, v) for k, v in call.items() if k != "NextToken") == \
            dict((k, v) for k, v in first.items() if k != "NextToken")
    assert first["LookupAttribute.1.Value"] == "ListUsers"
    assert result["usage"][NEW]["event_count"] == 120 and result["unused"] == [OLD]
    assert result["complete"] is True and result["conclusive"] is True and result["stop_reason"] is None
    assert result["window"] == dict(since=iso(NOW - timedelta(days=3)), until=iso(NOW),
                                    searched_since=iso(NOW - timedelta(days=3)))


def test_scan_splits_90_days_into_30_day_queries_newest_first():
    events = (spread(60, OLD, NOW - timedelta(days=89), NOW - timedelta(days=61), prefix="A")
              + spread(10, NEW, NOW - timedelta(days=20), NOW, prefix="B"))
    trail = FakeTrail(events)
    scan = new_scan(trail, [OLD, NEW], NOW - timedelta(days=89, hours=23)).run()
    result = scan.result()
    windows = [(c["StartTime"], c["EndTime"]) for c in trail.calls if "NextToken" not in c]
    assert windows == [
        (iso(NOW - timedelta(days=30)), iso(NOW)),
        (iso(NOW - timedelta(days=60)), iso(NOW - timedelta(days=30))),
        (iso(NOW - timedelta(days=89, hours=23)), iso(NOW - timedelta(days=60))),
    ]
    assert result["windows"] == [dict(since=s, until=u) for s, u in windows]
    # pieces with nothing still cost one page each; 60 events in the oldest piece cost two
    assert result["pages"] == 1 + 1 + 2
    assert result["used"] == [OLD, NEW]
    assert result["usage"][OLD]["last_used"] < result["usage"][NEW]["first_used"]


def test_scan_queries_each_event_name_in_each_piece():
    events = spread(3, NEW, NOW - timedelta(days=40), NOW, name="ListUsers") + \
        spread(2, OLD, NOW - timedelta(days=10), NOW, name="GetUser")
    trail = FakeTrail(events)
    result = new_scan(trail, [OLD, NEW], NOW - timedelta(days=45),
                      event_names=["ListUsers", "GetUser"]).run().result()
    names = [(c["StartTime"], c["LookupAttribute.1.Value"]) for c in trail.calls]
    assert names == [(iso(NOW - timedelta(days=30)), "ListUsers"), (iso(NOW - timedelta(days=30)), "GetUser"),
                     (iso(NOW - timedelta(days=45)), "ListUsers"), (iso(NOW - timedelta(days=45)), "GetUser")]
    assert result["used"] == [OLD, NEW] and result["pages"] == 4


def ram_noise(count, start, end):
    """`count` of RAM's ListUsers (same event name, no SCIM credential) evenly spread over [start, end)."""
    step = (end - start) / count
    events = []
    for index in range(count):
        event = ram_list_users(start + step * index)
        event["eventId"] = "RAM-%d" % index
        events.append(event)
    return events


def test_scan_asks_for_cloudsso_listusers_only_and_skips_rams():
    events = spread(10, NEW, NOW - timedelta(hours=20), NOW) + ram_noise(240, NOW - timedelta(hours=20), NOW)
    trail = FakeTrail(events)
    result = new_scan(trail, [NEW, OLD], NOW - timedelta(days=1)).run().result()
    assert [(c["LookupAttribute.2.Key"], c["LookupAttribute.2.Value"]) for c in trail.calls] == \
        [("ServiceName", "cloudsso")]
    assert result["pages"] == 1 and result["events_seen"] == 10  # by EventName alone: 5 pages, 250 events
    assert result["used"] == [NEW] and result["conclusive"] is True and result["service_name"] == "cloudsso"


@pytest.mark.parametrize("spelling", ["CloudSSO", "Cloudsso", "cloudsso-scim"])
def test_scan_reads_again_by_event_name_when_no_scim_call_has_that_service_name(spelling):
    """The serviceName of SCIM events is undocumented and ActionTrail matches exactly: a wrong guess must cost
    pages, never a verdict."""
    events = spread(60, NEW, NOW - timedelta(hours=20), NOW) + ram_noise(30, NOW - timedelta(hours=20), NOW)
    for event in events:
        if event["serviceName"] == "cloudsso":
            event["serviceName"] = spelling
    trail = FakeTrail(events)
    result = new_scan(trail, [NEW, OLD], NOW - timedelta(days=1)).run().result()
    assert ["LookupAttribute.2.Value" in c for c in trail.calls] == [True, False, False]
    assert result["pages"] == 3 and result["service_name"] is None and result["complete"] is True
    assert result["used"] == [NEW] and result["unused"] == [OLD] and result["conclusive"] is True


def test_no_second_pass_after_a_scan_that_stopped_early():
    trail = FakeTrail(ram_noise(120, NOW - timedelta(hours=20), NOW))
    for event in trail.events:
        event["serviceName"] = "cloudsso"  # CloudSSO OpenAPI ListUsers: the service, no SCIM credential
    result = new_scan(trail, [NEW], NOW - timedelta(days=1), max_pages=2).run().result()
    assert result["pages"] == 2 and result["stop_reason"] == "max_pages" and result["service_name"] == "cloudsso"


def test_an_event_on_the_boundary_of_two_pieces_counts_once():
    boundary = NOW - timedelta(days=30)
    trail = FakeTrail([scim_list_users(NEW, when=boundary, event_id="B-1")])
    result = new_scan(trail, [NEW], NOW - timedelta(days=40)).run().result()
    assert result["usage"][NEW]["event_count"] == 1 and result["events_seen"] == 1


def test_stop_when_found_costs_one_page_when_the_credential_is_in_use():
    events = spread(500, NEW, NOW - timedelta(days=80), NOW)
    trail = FakeTrail(events)
    result = new_scan(trail, [NEW], NOW - timedelta(days=85), stop_when_found=True).run().result()
    assert result["pages"] == 1 and result["used"] == [NEW]
    assert result["complete"] is False and result["stop_reason"] == "found" and result["conclusive"] is True
    assert result["usage"][NEW]["event_count"] == 50


def test_stop_when_found_waits_for_every_checked_credential():
    events = spread(200, NEW, NOW - timedelta(days=5), NOW, prefix="N") + \
        spread(1, OLD, NOW - timedelta(days=45), NOW - timedelta(days=44), prefix="O")
    trail = FakeTrail(events)
    result = new_scan(trail, [NEW, OLD], NOW - timedelta(days=85), stop_when_found=True).run().result()
    assert result["used"] == [NEW, OLD]
    assert result["pages"] == 4 + 1  # all of the newest piece, then the one page of the second, not the third
    assert result["stop_reason"] == "found" and len(result["windows"]) == 2


def test_stop_when_found_with_an_unused_credential_reads_everything():
    events = spread(120, NEW, NOW - timedelta(days=5), NOW)
    trail = FakeTrail(events)
    full = new_scan(FakeTrail(events), [NEW, OLD], NOW - timedelta(days=6)).run().result()
    early = new_scan(trail, [NEW, OLD], NOW - timedelta(days=6), stop_when_found=True).run().result()
    assert early["pages"] == full["pages"] == 3
    assert early["complete"] is True and early["unused"] == [OLD] and early["conclusive"] is True


def test_stop_when_found_with_nothing_to_find_makes_no_call():
    trail = FakeTrail(spread(10, NEW, NOW - timedelta(days=1), NOW))
    result = new_scan(trail, [], NOW - timedelta(days=2), stop_when_found=True).run().result()
    assert trail.calls == [] and result["pages"] == 0 and result["window"]["searched_since"] is None


def test_max_pages_bounds_the_scan_and_the_verdict():
    events = spread(300, NEW, NOW - timedelta(days=5), NOW)
    trail = FakeTrail(events)
    result = new_scan(trail, [NEW, OLD], NOW - timedelta(days=6), max_pages=2).run().result()
    assert result["pages"] == 2 and len(trail.calls) == 2
    assert result["stop_reason"] == "max_pages" and result["complete"] is False
    assert result["unused"] == [OLD] and result["conclusive"] is False


def test_a_repeated_next_token_stops_the_scan_instead_of_looping():
    class Looping(FakeTrail):
        def call(self, action, params=None):
            self.calls.append(dict(params))
            return {"Events": [], "NextToken": "same"}

    trail = Looping()
    with pytest.raises(at.ScanError) as info:
        new_scan(trail, [NEW], NOW - timedelta(hours=1)).run()
    assert "same NextToken twice" in str(info.value)
    assert len(trail.calls) == 2


def test_odd_answers_end_a_query_without_crashing():
    class Odd(FakeTrail):
        answers = [{"Events": None}, {"Events": "x", "NextToken": ""}, {"Events": [None, 1]}, {}]

        def call(self, action, params=None):
            self.calls.append(dict(params))
            return self.answers[(len(self.calls) - 1) % 4]

    trail = Odd()
    result = new_scan(trail, [NEW], NOW - timedelta(days=45),
                      event_names=["ListUsers", "GetUser"]).run().result()
    # No SCIM call seen: the window is read a second time by event name alone.
    assert result["pages"] == 8 and result["complete"] is True and result["conclusive"] is False


def test_the_oldest_piece_is_cut_to_what_actiontrail_still_keeps_when_the_scan_runs_long():
    trail = FakeTrail(spread(10, NEW, NOW - timedelta(days=89), NOW - timedelta(days=88)))
    clock = FakeClock()

    def later():
        # an hour passes between planning the window and querying its oldest piece
        return NOW + timedelta(hours=1) if len(trail.calls) >= 2 else NOW

    trail.now = NOW + timedelta(hours=1)
    scan = at.UsageScan(trail, [NEW], NOW - timedelta(days=90), NOW,
                        pacer=pacing.Pacer(2, clock=clock, sleep=clock.sleep), now=later)
    result = scan.run().result()
    oldest = trail.calls[-1]["StartTime"]
    assert parse_time(oldest) > NOW - timedelta(days=90) + timedelta(minutes=59)
    assert result["window"]["since"] == iso(NOW - timedelta(days=90))
    assert result["window"]["searched_since"] == oldest
    assert result["used"] == [NEW]


def test_errors_propagate_with_the_pages_read_so_far():
    trail = FakeTrail(spread(120, NEW, NOW - timedelta(days=2), NOW))
    scan = new_scan(trail, [NEW], NOW - timedelta(days=3))
    original = trail.call

    def failing(action, params=None):
        if len(trail.calls) == 2:
            trail.calls.append(params)
            raise AlibabaCloudError("denied", code="NoPermission", status=403, action="LookupEvents")
        return original(action, params)

    trail.call = failing
    with pytest.raises(AlibabaCloudError):
        scan.run()
    assert scan.pages == 2


def test_scan_paces_every_call():
    clock = FakeClock()
    starts = []
    trail = FakeTrail(spread(400, NEW, NOW - timedelta(days=2), NOW))
    original = trail.call

    def timed(action, params=None):
        starts.append(clock.now)
        clock.now += 0.02
        return original(action, params)

    trail.call = timed
    scan = at.UsageScan(trail, [NEW], NOW - timedelta(days=3), NOW,
                        pacer=pacing.Pacer(2, clock=clock, sleep=clock.sleep), now=lambda: NOW)
    scan.run()
    assert len(starts) == 8
    assert all(b - a >= 0.5 for a, b in zip(starts, starts[1:]))


# --- with the real client: throttling is retried, and the retries are paced too ----------------------

def test_throttled_calls_are_retried_and_paced(fakes):
    events = spread(70, NEW, NOW - timedelta(days=1), NOW)
    server = FakeTrail(events)
    clock = FakeClock()
    sent = []
    throttle_next = [True, False, True, True]  # answers to the first calls: throttled or not

    def handler(request):
        sent.append(clock.now)
        clock.now += 0.01
        assert request.headers["x-acs-action"] == "LookupEvents"
        assert request.headers["x-acs-version"] == "2020-07-06"
        if throttle_next and throttle_next.pop(0):
            return fakes.Response(400, {"Code": "Throttling.User", "Message": "Request was denied due to user flow "
                                        "control.", "RequestId": "T"})
        return fakes.Response(200, server.call("LookupEvents", request.query))

    session = fakes.Session(handler)
    client = RpcClient("actiontrail", "cn-shanghai", credentials=StaticProvider(Credential("AKID", "AKSECRET")),
                       endpoint_url="https://actiontrail.example.invalid", session=session, max_retries=5)
    scan = at.UsageScan(client, [NEW], NOW - timedelta(days=2), NOW,
                        pacer=pacing.Pacer(2, clock=clock, sleep=clock.sleep), now=lambda: NOW)
    result = scan.run().result()
    assert result["pages"] == 2 and result["usage"][NEW]["event_count"] == 70
    assert client.api_calls == 5 == len(sent)  # 2 pages + 3 throttled attempts
    assert all(b - a >= 0.5 for a, b in zip(sent, sent[1:])), sent
    for i in range(len(sent) - 2):
        assert sent[i + 2] - sent[i] >= 1.0


def test_a_throttled_call_that_never_passes_raises(fakes):
    clock = FakeClock()
    session = fakes.Session(lambda request: fakes.Response(
        429, {"Code": "Throttling.User", "Message": "flow control", "RequestId": "T"}))
    client = RpcClient("actiontrail", "cn-shanghai", credentials=StaticProvider(Credential("AKID", "AKSECRET")),
                       endpoint_url="https://actiontrail.example.invalid", session=session, max_retries=2)
    scan = at.UsageScan(client, [NEW], NOW - timedelta(days=1), NOW,
                        pacer=pacing.Pacer(2, clock=clock, sleep=clock.sleep), now=lambda: NOW)
    with pytest.raises(AlibabaCloudError) as info:
        scan.run()
    assert info.value.is_throttling and info.value.attempts == 3
    assert len(session.requests) == 3 and scan.pages == 0


# --- the collection's own calls ---------------------------------------------------------------------

def test_own_probe_calls_are_left_out_but_counted():
    """The collection's token probe must not look like an identity provider switching tokens."""
    cid = "scimcred-" + "p" * 20
    tally = ev.UsageTally([cid], ignore_user_agents=at.OWN_USER_AGENTS)
    tally.add({"eventId": "1", "eventName": "ListUsers", "userAgent": "alicloud.cloudsso-ansible/0.1.0",
               "additionalEventData": {"SCIMCredentialId": cid}})
    result = tally.to_dict(True)
    assert not result["usage"][cid]["used"] and result["ignored_calls"] == 1 and result["scim_events_seen"] == 0
    tally.add({"eventId": "2", "eventName": "ListUsers", "userAgent": "Azure AD SCIM Client",
               "additionalEventData": {"SCIMCredentialId": cid}})
    assert tally.to_dict(True)["usage"][cid]["used"]
