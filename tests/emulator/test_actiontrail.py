"""LookupEvents rules: paging, NextToken binding, windows, two attributes (AND), MaxResults, rate, delay; events of
RPC calls; noise and bulk generators."""

import time

import pytest
from alibabacloud_actiontrail20200706 import models as at
from alibabacloud_tea_openapi.exceptions import ClientException

from emulator.util import fmt_time

DAY = 86400


def _lookup(world, **kw):
    attrs = kw.pop("attrs", None)
    req = at.LookupEventsRequest(**kw)
    if attrs:
        req.lookup_attribute = [at.LookupEventsRequestLookupAttribute(key=k, value=v) for k, v in attrs]
    return world.trail().lookup_events(req).body


def _error(world, **kw):
    with pytest.raises(ClientException) as info:
        _lookup(world, **kw)
    return info.value


def _now(world):
    return world.control.clock()["epoch"]


def _seed_series(world, n, step=60, name="ListUsers", service="Ram"):
    now = _now(world)
    events = [{"eventName": name, "serviceName": service, "eventTime": fmt_time(now - i * step),
               "userIdentity": {"accountId": world.account_id, "userName": "u"}, "acsRegion": "cn-shanghai",
               "n": i} for i in range(n)]
    world.control.add_events(events)
    return now


def _page_all(world, **kw):
    out, token, pages = [], None, 0
    while True:
        body = _lookup(world, next_token=token, **kw)
        out.extend(body.events)
        pages += 1
        token = body.next_token
        if not token:
            return out, pages


def test_backward_and_forward_paging_cover_everything_once(world):
    _seed_series(world, 23)
    back, pages = _page_all(world, max_results="5", attrs=[("ServiceName", "Ram")])
    assert pages == 5 and [e["n"] for e in back] == list(range(23))
    fwd, _ = _page_all(world, max_results="50", direction="FORWARD", attrs=[("EventName", "ListUsers")])
    assert [e["n"] for e in fwd] == list(range(22, -1, -1))


def test_exact_page_has_no_next_token(world):
    _seed_series(world, 10)
    body = _lookup(world, max_results="10", attrs=[("ServiceName", "Ram")])
    assert len(body.events) == 10 and body.next_token is None


def test_next_token_bound_to_other_parameters(world):
    _seed_series(world, 4)
    body = _lookup(world, max_results="2", attrs=[("ServiceName", "Ram")])
    assert body.next_token
    err = _error(world, max_results="2", attrs=[("EventName", "ListUsers")], next_token=body.next_token)
    assert err.code == "InvalidParameter" and err.status_code == 400
    err = _error(world, max_results="3", attrs=[("ServiceName", "Ram")], next_token=body.next_token)
    assert err.code == "InvalidParameter"
    assert _error(world, next_token="garbage!").code == "InvalidParameter"
    ok = _lookup(world, max_results="2", attrs=[("ServiceName", "Ram")], next_token=body.next_token)
    assert len(ok.events) == 2


def test_two_lookup_attributes_combine_with_and(world):
    _seed_series(world, 3, name="ListUsers", service="Ram")
    _seed_series(world, 2, name="ListUsers", service="cloudsso")
    _seed_series(world, 4, name="GetUser", service="cloudsso")
    both = _lookup(world, max_results="50", attrs=[("EventName", "ListUsers"), ("ServiceName", "cloudsso")])
    assert len(both.events) == 2 and {(e["eventName"], e["serviceName"]) for e in both.events} == \
        {("ListUsers", "cloudsso")}
    assert len(_lookup(world, max_results="50", attrs=[("EventName", "ListUsers")]).events) == 5
    err = _error(world, attrs=[("ServiceName", "Ram"), ("EventName", "ListUsers"), ("EventRW", "Read")])
    assert (err.code, err.status_code) == ("InvalidParameter", 400)
    assert _error(world, attrs=[("Bogus", "x")]).code == "InvalidParameter"


def test_lookup_attribute_matching_is_exact_and_case_sensitive(world):
    _seed_series(world, 2, name="ListUsers", service="cloudsso")
    assert _lookup(world, attrs=[("ServiceName", "cloudsso")]).events
    assert _lookup(world, attrs=[("ServiceName", "CloudSSO")]).events == []
    assert _lookup(world, attrs=[("EventName", "listusers")]).events == []
    assert _lookup(world, attrs=[("EventName", "ListUser")]).events == []


def test_documented_lookup_keys_are_accepted(world):
    world.control.add_events([{"eventName": "X", "serviceName": "Ram", "eventType": "ApiCall",
                               "sourceIpAddress": "192.0.2.7", "eventTime": fmt_time(_now(world)),
                               "userIdentity": {"accountId": world.account_id, "type": "assumed-role",
                                                "arn": "acs:ram::%s:assumed-role/ops/s1" % world.account_id}}])
    for key, value in (("SourceIpAddress", "192.0.2.7"), ("EventType", "ApiCall"), ("RoleName", "ops")):
        assert [e["eventName"] for e in _lookup(world, attrs=[(key, value), ("EventName", "X")]).events] == ["X"]
    assert _lookup(world, attrs=[("SensitiveAction", "true")]).events == []


@pytest.mark.parametrize("value", ["51", "abc", "-1"])
def test_max_results_bounds(world, value):
    assert _error(world, max_results=value).code == "InvalidParameter"


def test_max_results_zero_is_valid(world):
    _seed_series(world, 25)
    assert len(_lookup(world, max_results="0", attrs=[("ServiceName", "Ram")]).events) == 20


def test_default_page_size_is_20(world):
    _seed_series(world, 25)
    assert len(_lookup(world, attrs=[("ServiceName", "Ram")]).events) == 20


def test_time_window_rules(world):
    now = _now(world)
    assert _error(world, start_time=fmt_time(now - 31 * DAY), end_time=fmt_time(now)).code == "InvalidParameter"
    assert _lookup(world, start_time=fmt_time(now - 30 * DAY), end_time=fmt_time(now)).events is not None
    assert _error(world, start_time=fmt_time(now - 91 * DAY), end_time=fmt_time(now - 80 * DAY)).code == \
        "InvalidParameter"
    assert _error(world, start_time=fmt_time(now), end_time=fmt_time(now - 10)).code == "InvalidParameter"
    assert _error(world, start_time="2024-13-01T00:00:00Z").code == "InvalidParameter"
    world.control.config(actiontrail_max_span_days=60)
    assert _lookup(world, start_time=fmt_time(now - 59 * DAY), end_time=fmt_time(now)).events is not None


def test_events_older_than_retention_are_gone(world):
    now = _now(world)
    world.control.add_events([{"eventName": "Old", "serviceName": "Ram", "eventTime": fmt_time(now - 89.9 * DAY),
                               "userIdentity": {"accountId": world.account_id}}])
    window = dict(start_time=fmt_time(now - 90 * DAY + 60), end_time=fmt_time(now - 61 * DAY))
    assert len(_lookup(world, attrs=[("EventName", "Old")], **window).events) == 1
    world.control.clock(advance_seconds=0.2 * DAY)
    now2 = _now(world)
    window = dict(start_time=fmt_time(now2 - 90 * DAY + 60), end_time=fmt_time(now2 - 61 * DAY))
    assert _lookup(world, attrs=[("EventName", "Old")], **window).events == []


def test_rate_limit_two_per_second_sliding(world):
    world.control.config(actiontrail_rate_per_second=2)
    results = []
    for _ in range(3):
        try:
            _lookup(world)
            results.append("ok")
        except ClientException as exc:
            results.append(exc.code)
    assert results == ["ok", "ok", "Throttling.User"]
    time.sleep(1.05)
    assert _lookup(world).request_id
    throttled = [e for e in world.control.events(account_id=world.account_id)["events"]
                 if e.get("errorCode") == "Throttling.User"]
    assert throttled == []  # flow control rejects before the service records anything


def test_throttling_status_setting(world):
    world.control.config(actiontrail_rate_per_second=1, throttling_status=429)
    _lookup(world)
    err = _error(world)
    assert (err.code, err.status_code) == ("Throttling.User", 429)


def test_ingestion_delay(world):
    world.control.config(actiontrail_delay_seconds=300)
    tok = world.control.seed({"credentials": [{"directory_id": world.directory_id}]})["credentials"][0]["secret"]
    world.scim("/Users", tok)
    assert _lookup(world, attrs=[("EventName", "ListUsers")]).events == []
    world.control.clock(advance_seconds=301)
    events = _lookup(world, attrs=[("EventName", "ListUsers")]).events
    assert len(events) == 1 and events[0]["additionalEventData"]["SCIMCredentialId"]


def test_rpc_calls_become_events_without_scim_credential_id(world):
    from alibabacloud_cloudsso20210515 import models as sso
    world.sso().list_scimserver_credentials(sso.ListSCIMServerCredentialsRequest(directory_id=world.directory_id))
    events = _lookup(world, attrs=[("ServiceName", "cloudsso")]).events
    assert [e["eventName"] for e in events] == ["ListSCIMServerCredentials"]
    ev = events[0]
    assert "SCIMCredentialId" not in str(ev)
    assert ev["userIdentity"]["accessKeyId"] == world.ak["id"] and ev["userIdentity"]["accountId"] == world.account_id
    assert ev["requestParameters"]["DirectoryId"] == world.directory_id and ev["eventRW"] == "Read"
    assert "Signature" not in ev["requestParameters"] and world.ak["secret"] not in str(ev)
    by_key = _lookup(world, attrs=[("EventAccessKeyId", world.ak["id"])]).events
    assert {e["eventName"] for e in by_key} >= {"ListSCIMServerCredentials", "LookupEvents"}


def test_events_are_per_account_and_region(world):
    world.control.generate_events(count=0, ram_list_users=3, account_id="5555555555555555", region="cn-shanghai")
    world.control.generate_events(count=0, ram_list_users=4, account_id=world.account_id, region="ap-southeast-1")
    assert _lookup(world, attrs=[("ServiceName", "Ram")]).events == []
    sg = world.trail(endpoint=world.host + "/region/ap-southeast-1")
    body = sg.lookup_events(at.LookupEventsRequest(lookup_attribute=[
        at.LookupEventsRequestLookupAttribute(key="ServiceName", value="Ram")])).body
    assert len(body.events) == 4


def test_noise_generator_shapes(world):
    out = world.control.generate_events(count=0, ram_list_users=5, cloudsso_list_users=6, account_id=world.account_id)
    assert out["added"] == 11
    events = _lookup(world, attrs=[("EventName", "ListUsers")], max_results="50").events
    ram = [e for e in events if e["serviceName"] == "Ram"]
    sso_api = [e for e in events if e["serviceName"] == "cloudsso"]
    assert len(ram) == 5 and len(sso_api) == 6
    assert all("SCIMCredentialId" not in str(e) for e in events)


def test_bulk_generator_100k_and_fast_lookup(world):
    cred_ids = ["scimcred-" + c * 20 for c in "ab"]
    t0 = time.monotonic()
    out = world.control.generate_events(count=100_000, days=29, credential_ids=cred_ids, noise_ratio=0.5,
                                        account_id=world.account_id, seed=1)
    assert out["added"] == 100_000 and time.monotonic() - t0 < 15
    now = _now(world)
    window = dict(start_time=fmt_time(now - 29 * DAY - 60), end_time=fmt_time(now))
    t0 = time.monotonic()
    pages, seen_ids = 0, set()
    body = _lookup(world, max_results="50", attrs=[("EventName", "ListUsers")], **window)
    while pages < 20 and body.next_token:
        pages += 1
        for e in body.events:
            seen_ids.add(e.get("additionalEventData", {}).get("SCIMCredentialId") if isinstance(
                e.get("additionalEventData"), dict) else None)
        body = _lookup(world, max_results="50", attrs=[("EventName", "ListUsers")], next_token=body.next_token,
                       **window)
    assert pages == 20 and time.monotonic() - t0 < 5
    assert set(cred_ids) <= seen_ids
    # a selective query near the start of the window still answers quickly (bisect + scan)
    t0 = time.monotonic()
    _lookup(world, max_results="50", direction="FORWARD", attrs=[("EventName", "ListUsers")], **window)
    assert time.monotonic() - t0 < 1
