# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The scim_usage_info module end to end in-process: options, the endpoints each product uses, the
result's shape, and failures, with a fake HTTP session (no network)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import time
from datetime import datetime, timedelta, timezone

try:
    from urllib.parse import parse_qsl, urlsplit
except ImportError:  # pragma: no cover
    from urlparse import parse_qsl, urlsplit  # type: ignore

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.alicloud.cloudsso.plugins.module_utils import actiontrail as at
from ansible_collections.alicloud.cloudsso.plugins.module_utils import module as module_base
from ansible_collections.alicloud.cloudsso.plugins.module_utils.transport import Headers
from ansible_collections.alicloud.cloudsso.plugins.modules import scim_usage_info

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)
DIRECTORY = "d-00fc2p61abcd"
OLD = "scimcred-004whmnsa1rxe8oldold"
NEW = "scimcred-004whmnsa1rxe8newnew"
GONE = "scimcred-004whmnsa1rxe8gone00"
SECRET = "Unit-Test-Secret-9c1f0e"


class Response(object):
    def __init__(self, status, body):
        self.status_code = status
        self.headers = Headers()
        self.text = json.dumps(body)

    def json(self):
        return json.loads(self.text)


class Cloud(object):
    """CloudSSO's ListSCIMServerCredentials and ActionTrail's LookupEvents (one page each query)."""

    def __init__(self):
        self.requests = []
        self.events = []
        self.lookup_error = None
        self.credentials = [OLD, NEW]
        self.headers = {}

    def request(self, method, url, headers=None, data=None, timeout=None, verify=True, allow_redirects=True):
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query))
        action = Headers(headers)["x-acs-action"]
        self.requests.append((parts.netloc, action, query))
        if action == "ListSCIMServerCredentials":
            return Response(200, {"RequestId": "R", "SCIMServerCredentials": [
                {"CredentialId": cid, "CredentialType": "BearerToken", "Status": "Enabled", "DirectoryId": DIRECTORY,
                 "CreateTime": "2026-01-0%dT00:00:00Z" % (i + 1), "ExpireTime": "2027-01-01T00:00:00Z"}
                for i, cid in enumerate(self.credentials)]})
        assert action == "LookupEvents"
        if self.lookup_error:
            return Response(*self.lookup_error)
        name = query["LookupAttribute.1.Value"]
        start, end = query["StartTime"], query["EndTime"]
        return Response(200, {"RequestId": "R", "Events": [
            e for e in self.events if e["eventName"] == name and start <= e["eventTime"] <= end]})

    def lookups(self):
        return [r for r in self.requests if r[1] == "LookupEvents"]

    def queries(self):
        return [r[2] for r in self.lookups()]


def event(credential_id, hours_ago, name="ListUsers", error=None):
    when = (NOW - timedelta(hours=hours_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ev = {"eventId": "E-%s-%s-%s" % (credential_id, hours_ago, name), "eventName": name, "eventTime": when,
          "sourceIpAddress": "20.43.64.17", "userAgent": "Azure Provisioning Service",
          "requestParameters": {"Path": "/scim/v2/Users", "Authorization": "Bearer " + SECRET},
          "additionalEventData": json.dumps({"SCIMCredentialId": credential_id})}
    if error:
        ev["errorCode"] = error
    return ev


class Clock(object):
    """The pacer's clock: sleeping advances it, so tests never wait."""

    def __init__(self):
        self.now = 0.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def cloud(monkeypatch):
    fake = Cloud()
    fake.clock = Clock()
    monkeypatch.setattr(module_base, "new_session", lambda: fake)
    monkeypatch.setattr(at, "utc_now", lambda: NOW)
    real_pacer = at.Pacer
    monkeypatch.setattr(at, "Pacer", lambda rate: real_pacer(rate, clock=fake.clock, sleep=fake.clock.sleep))
    monkeypatch.setattr(time, "sleep", fake.clock.sleep)  # the client's own backoff, if not paced
    for name in ("ALIBABA_CLOUD_CLOUDSSO_ENDPOINT", "ALIBABA_CLOUD_ACTIONTRAIL_ENDPOINT",
                 "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED", "ALIBABA_CLOUD_REGION"):
        monkeypatch.delenv(name, raising=False)
    return fake


def run(capsys, **args):
    params = dict(access_key_id="TESTAKID", access_key_secret="TESTAKSECRET", region="cn-shanghai")
    params.update(args)
    with patch_module_args(params):
        with pytest.raises(SystemExit):
            scim_usage_info.main()
    out = capsys.readouterr().out
    return json.loads(out)


def warnings(result):
    """Warning texts, whether ansible-core returns them as strings or (2.19+) as structured events."""
    return [w if isinstance(w, str) else w["event"]["msg"] for w in result.get("warnings", [])]


def test_directory_credentials_are_checked_with_actiontrail_in_the_same_region(cloud, capsys):
    cloud.events = [event(NEW, 1), event(NEW, 30), event(OLD, 2, error="InvalidCredential.Disabled"),
                    event(GONE, 3)]
    result = run(capsys, directory_id=DIRECTORY, since="1d")
    assert not result.get("failed"), result
    assert result["credential_ids"] == [OLD, NEW]
    assert result["used"] == [OLD, NEW] and result["unused"] == []
    assert result["usage"][OLD]["error_count"] == 1
    assert result["usage"][NEW]["event_count"] == 1  # the event of 30 hours ago is outside the window
    assert list(result["other_credentials_seen"]) == [GONE]
    assert result["conclusive"] is True and result["complete"] is True and result["changed"] is False
    assert result["directory_id"] == DIRECTORY and result["actiontrail_region"] == "cn-shanghai"
    assert result["window"]["since"] == "2026-02-28T12:00:00Z" and result["window"]["until"] == "2026-03-01T12:00:00Z"
    hosts = [(r[0], r[1]) for r in cloud.requests]
    assert hosts == [("cloudsso.cn-shanghai.aliyuncs.com", "ListSCIMServerCredentials"),
                     ("actiontrail.cn-shanghai.aliyuncs.com", "LookupEvents")]
    assert result["pages"] == 1 and result["api_calls"] == 2
    assert result["api_calls_by_product"] == {"actiontrail": 1, "cloudsso": 1}
    assert SECRET not in json.dumps(result)


def test_credential_ids_alone_make_no_cloudsso_call(cloud, capsys):
    cloud.events = [event(NEW, 1)]
    result = run(capsys, credential_ids=[OLD], since="2h")
    assert [r[1] for r in cloud.requests] == ["LookupEvents"]
    assert result["unused"] == [OLD] and result["conclusive"] is True
    assert "directory_id" not in result


def test_both_selectors_check_the_union_and_warn_about_strangers(cloud, capsys):
    result = run(capsys, directory_id=DIRECTORY, credential_ids=[NEW, GONE], since="2h")
    assert result["credential_ids"] == [OLD, NEW, GONE]
    assert result["conclusive"] is False and result["unused"] == [OLD, NEW, GONE]
    assert any(GONE in w and "checked anyway" in w for w in warnings(result))


def test_actiontrail_region_and_endpoints(cloud, capsys):
    result = run(capsys, directory_id=DIRECTORY, actiontrail_region="cn-hangzhou", since="1h",
                 endpoint_url="http://127.0.0.1:1/region/{region}",
                 actiontrail_endpoint_url="http://127.0.0.2:2/trail/{region}")
    hosts = [r[0] for r in cloud.requests]
    # No SCIM call in the window: the query with ServiceName, then again by EventName alone.
    assert hosts == ["127.0.0.1:1", "127.0.0.2:2", "127.0.0.2:2"]
    assert result["actiontrail_region"] == "cn-hangzhou"


def test_actiontrail_endpoint_from_the_environment(cloud, capsys, monkeypatch):
    monkeypatch.setenv("ALIBABA_CLOUD_ACTIONTRAIL_ENDPOINT", "http://127.0.0.3:3/region/{region}")
    run(capsys, credential_ids=[NEW], since="1h")
    assert cloud.requests[0][0] == "127.0.0.3:3"


def test_every_event_name_and_piece_is_queried(cloud, capsys):
    cloud.events = [event(NEW, 24 * 40, name="GetUser")]
    result = run(capsys, credential_ids=[NEW], since="45d", event_names=["ListUsers", "GetUser"])
    queries = [(q["StartTime"], q["LookupAttribute.1.Value"], q["MaxResults"]) for q in cloud.queries()]
    assert queries == [("2026-01-30T12:00:00Z", "ListUsers", "50"), ("2026-01-30T12:00:00Z", "GetUser", "50"),
                       ("2026-01-15T12:00:00Z", "ListUsers", "50"), ("2026-01-15T12:00:00Z", "GetUser", "50")]
    assert result["used"] == [NEW] and result["pages"] == 4 and len(result["windows"]) == 2
    # paced: the four calls took at least four intervals of 0.55 s (the first waits one too)
    assert cloud.clock.now == pytest.approx(4 * 0.55)


def test_max_calls_per_second_slows_the_pace(cloud, capsys):
    cloud.events = [event(NEW, 24 * 40, name="GetUser")]  # a SCIM call: no second reading of the window
    run(capsys, credential_ids=[NEW], since="45d", event_names=["ListUsers", "GetUser"], max_calls_per_second=0.5)
    assert cloud.clock.now == pytest.approx(4 * 2.05)


def test_stop_when_found_makes_one_call(cloud, capsys):
    cloud.events = [event(NEW, 1)]
    result = run(capsys, credential_ids=[NEW], since="80d", stop_when_found=True)
    assert result["pages"] == 1 and result["stop_reason"] == "found" and result["used"] == [NEW]


def test_check_mode_reads_the_same(cloud, capsys):
    cloud.events = [event(NEW, 1)]
    result = run(capsys, credential_ids=[NEW], since="2h", _ansible_check_mode=True)
    assert result["used"] == [NEW] and result["changed"] is False


@pytest.mark.parametrize("args,words", [
    (dict(credential_ids=[NEW], since="3 days"), "since '3 days' is not a time"),
    (dict(credential_ids=[NEW], since="100d"), "more than 90 days"),
    (dict(credential_ids=[NEW], since="1h", until="2h"), "must be earlier than until"),
    (dict(credential_ids=[NEW], until="tomorrow"), "until 'tomorrow' is not a time"),
    (dict(credential_ids=[NEW], actiontrail_region="Shanghai"), "actiontrail_region 'Shanghai' is not a valid"),
    (dict(credential_ids=[NEW], region="cn_shanghai"), "region 'cn_shanghai' is not a valid"),
    (dict(credential_ids=["scimcred-short"]), "credential_ids 'scimcred-short' is not a SCIM credential ID"),
    (dict(directory_id="d-bad"), "directory_id 'd-bad' is not a CloudSSO directory ID"),
    (dict(credential_ids=[]), "give directory_id or at least one credential ID"),
    (dict(credential_ids=[NEW], event_names=[]), "event_names must list"),
    (dict(credential_ids=[NEW], max_calls_per_second=5), "at most 2"),
    (dict(credential_ids=[NEW], max_pages=0), "max_pages must be 1 or more"),
])
def test_bad_options_fail_before_any_call(cloud, capsys, args, words):
    result = run(capsys, **args)
    assert result["failed"] is True and words in result["msg"], result["msg"]
    assert cloud.requests == []


def test_missing_permission_names_the_ram_action(cloud, capsys):
    cloud.lookup_error = (403, {"Code": "NoPermission", "Message": "You are not authorized.", "RequestId": "R"})
    result = run(capsys, credential_ids=[NEW], since="1h")
    assert result["failed"] is True
    assert "actiontrail:LookupEvents" in result["msg"] and "after 0 page(s)" in result["msg"]
    assert result["error"]["code"] == "NoPermission"


def test_persistent_throttling_says_what_to_lower(cloud, capsys):
    cloud.lookup_error = (400, {"Code": "Throttling.User", "Message": "flow control", "RequestId": "R"})
    result = run(capsys, credential_ids=[NEW], since="1h", max_retries=1)
    assert result["failed"] is True and "max_calls_per_second" in result["msg"]
    assert len(cloud.lookups()) == 2 and result["api_calls_by_product"]["actiontrail"] == 2


def test_the_secret_option_is_never_returned(cloud, capsys):
    cloud.events = [event(NEW, 1)]
    result = run(capsys, credential_ids=[NEW], since="2h")
    assert "TESTAKSECRET" not in json.dumps(result)
