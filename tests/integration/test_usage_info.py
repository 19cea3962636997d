"""alicloud.cloudsso.scim_usage_info through ansible-playbook against the emulator.

Thousands of events over 90 days, laid out so that each 30-day piece of the window holds a known number of
ListUsers events: the verdicts, the page counts (the minimum the API allows), the pace (from the emulator's
call log), stop_when_found, the 30-day split (the emulator rejects longer queries), throttling faults, and
ActionTrail's ingestion delay. The playbook tasks live in test_roles/scim_usage_info/tasks/main.yml and assert
the verdicts themselves; this file checks what only the emulator can see.
"""

import collections
import json
import math
import os
from datetime import datetime, timezone

REGION = "cn-shanghai"
DAY = 86400.0
PAGE = 50

GONE = "scimcred-0gone0gone0gone0gone"      # a deleted credential an IdP still calls with
RECENT = "scimcred-0recent0recent0recen"    # a call ActionTrail has not delivered yet
NEW_CALLS = [(300, 0.01, 29.9), (100, 30.1, 49.9)]   # (count, newest, oldest days before T0)
OLD_CALLS = [(100, 50.1, 59.9), (200, 60.1, 88.9)]
GONE_CALLS = [(5, 70.0, 80.0)]
# ListUsers without a SCIM credential: RAM's and CloudSSO OpenAPI's (ram, cloudsso, newest, oldest)
LIST_USERS_NOISE = [(40, 30, 0.01, 29.9), (20, 0, 30.1, 49.9), (25, 0, 60.1, 88.9)]
OTHER_NOISE = [(600, 0.01, 29.9), (600, 30.1, 59.9), (600, 60.1, 88.9)]  # DescribeInstances and the like


def iso(epoch):
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


def list_users_between(newest_days, oldest_days):
    """CloudSSO's ListUsers events the layout puts in [T0 - oldest_days, T0 - newest_days] (batches never
    straddle a piece boundary, so a batch is either wholly in or wholly out). RAM's are not read: each query
    also matches ServiceName cloudsso."""
    total = 0
    for count, newest, oldest in NEW_CALLS + OLD_CALLS + GONE_CALLS:
        if newest >= newest_days and oldest <= oldest_days:
            total += count
    for _ram, cloudsso, newest, oldest in LIST_USERS_NOISE:
        if newest >= newest_days and oldest <= oldest_days:
            total += cloudsso
    return total


def min_pages(counts):
    """The fewest LookupEvents calls that read `counts` events per query: one page at least per query."""
    return sum(max(1, math.ceil(n / PAGE)) for n in counts)


def build_world(cloud):
    """A directory with its old (Disabled) and new credential, and thousands of events over 90 days."""
    control = cloud.control
    directory_id, creds = cloud.directory(credentials=[{"status": "Disabled"}, {}])
    old_id, new_id = creds[0]["credential_id"], creds[1]["credential_id"]
    # T0, the end of the window: a little in the past, so that the ingestion delay set for the delay test
    # does not hide any of these events.
    t0 = math.floor(control.clock()["epoch"]) - 1800

    def generate(count, newest, oldest, **spec):
        control.generate_events(count=count, end=iso(t0 - newest * DAY), days=oldest - newest, region=REGION,
                                seed=int(count * 1000 + newest * 10), **spec)

    for cid, batches in ((new_id, NEW_CALLS), (old_id, OLD_CALLS), (GONE, GONE_CALLS)):
        for count, newest, oldest in batches:
            generate(count, newest, oldest, credential_ids=[cid], noise_ratio=0.0, directory_id=directory_id)
    for ram, cloudsso, newest, oldest in LIST_USERS_NOISE:
        generate(0, newest, oldest, ram_list_users=ram, cloudsso_list_users=cloudsso)
    for count, newest, oldest in OTHER_NOISE:
        generate(count, newest, oldest, noise_kinds=["other"], noise_ratio=1.0)
    assert control.state()["event_count"] >= 2500
    results = cloud.work + "/results"
    extra = dict(
        usage_directory_id=directory_id, usage_old_id=old_id, usage_new_id=new_id, usage_gone_id=GONE,
        usage_recent_id=RECENT, usage_since=iso(t0 - 89 * DAY), usage_until=iso(t0),
        usage_disabled_at=iso(t0 - 50 * DAY), usage_throttle_since=iso(t0 - 10 * DAY), usage_results_dir=results,
    )
    os.makedirs(results)
    return dict(cloud=cloud, directory_id=directory_id, old_id=old_id, new_id=new_id, t0=t0, extra=extra,
                results=results)


def run_target(world, tags):
    return world["cloud"].runner.target("scim_usage_info", world["extra"], tags=tags)


def result(world, name):
    with open("%s/%s.json" % (world["results"], name)) as handle:
        return json.load(handle)


def lookups(calls):
    return [c for c in calls["log"] if c["action"] == "LookupEvents"]


def assert_paced(entries):
    """At most 2 LookupEvents per second of the emulator's clock, and none throttled by its limiter."""
    per_second = collections.Counter(c["time"] for c in entries)
    assert max(per_second.values()) <= 2, per_second.most_common(3)
    if len(entries) > 2:
        span = parse(entries[-1]["time"]) - parse(entries[0]["time"]) + 1
        assert len(entries) / span <= 2.0


def test_scan_verdicts_pages_and_pace(cloud):
    world = build_world(cloud)
    t0 = world["t0"]
    cloud.control.reset_calls()
    elapsed = run_target(world, "scan").elapsed
    calls = cloud.control.calls()
    full, found, since_disable = result(world, "full"), result(world, "found"), result(world, "since_disable")
    elsewhere, check = result(world, "elsewhere"), result(world, "check")

    # Verdicts the playbook does not assert with exact numbers.
    assert full["usage"][world["new_id"]]["event_count"] == 400
    assert full["usage"][world["old_id"]]["event_count"] == 300
    assert full["other_credentials_seen"][GONE]["event_count"] == 5
    assert full["scim_events_seen"] == 705
    assert full["events_seen"] == 705 + 30  # CloudSSO OpenAPI's ListUsers; RAM's (85) never read
    assert full["service_name"] == "cloudsso"

    # The 30-day split, newest first: three queries that the emulator accepted (it rejects > 30 days).
    assert [(w["since"], w["until"]) for w in full["windows"]] == [
        (iso(t0 - 30 * DAY), iso(t0)), (iso(t0 - 60 * DAY), iso(t0 - 30 * DAY)),
        (iso(t0 - 89 * DAY), iso(t0 - 60 * DAY))]

    # Page counts: the minimum the API allows.
    assert full["pages"] == min_pages([list_users_between(0, 30), list_users_between(30, 60),
                                       list_users_between(60, 89)]) == 7 + 4 + 5
    assert since_disable["pages"] == min_pages([list_users_between(0, 30), list_users_between(30, 50)])
    assert found["pages"] == 1 and check["pages"] == 1
    # No SCIM call in the other region: the query with ServiceName, then again by EventName alone.
    assert elsewhere["pages"] == 2 and elsewhere["service_name"] is None

    # The emulator saw exactly those calls: every page once, nothing retried, nothing throttled.
    runs = [full, found, since_disable, elsewhere, check]
    entries = lookups(calls)
    assert len(entries) == sum(r["pages"] for r in runs) == calls["counts"]["actiontrail:LookupEvents"]
    assert all(r["api_calls_by_product"]["actiontrail"] == r["pages"] for r in runs)
    assert all(c["status"] == 200 for c in entries), [c for c in entries if c["status"] != 200][:3]
    assert calls["counts"].get("cloudsso:ListSCIMServerCredentials") == 1
    assert {c["region"] for c in entries} == {REGION, "ap-southeast-1"}

    # The pace over the whole play: within each run, and across runs back to back (a run's first call
    # waits one interval, as it cannot know when the previous task called).
    assert_paced(entries)
    # A 90-day scan of 16 pages cannot take less than 15 intervals of 0.55 s.
    assert elapsed >= 15 * 0.55


def test_throttling_is_survived_and_the_delay_is_inconclusive(cloud):
    world = build_world(cloud)
    control, t0 = cloud.control, world["t0"]
    # A SCIM call made a minute ago, and ActionTrail delivering events 10 minutes late.
    now = control.clock()["epoch"]
    control.add_events([{"eventName": "ListUsers", "eventTime": iso(now - 60), "acsRegion": REGION,
                         "sourceIpAddress": "20.43.64.17", "userAgent": "Azure Provisioning Service",
                         "additionalEventData": {"SCIMCredentialId": RECENT}}])
    control.config(actiontrail_delay_seconds=600)
    control.reset_calls()
    control.add_fault(match="actiontrail:LookupEvents", kind="error", status=400, code="Throttling.User",
                      message="Request was denied due to user flow control.", count=3)
    control.add_fault(match="actiontrail:LookupEvents", kind="error", status=503, code="ServiceUnavailable",
                      count=1, after=1)  # the second page (a NextToken call) fails once
    try:
        run_target(world, "faults")
    finally:
        control.clear_faults()
        control.config(actiontrail_delay_seconds=0)
    calls = control.calls()
    throttled, clean, delayed = result(world, "throttled"), result(world, "clean"), result(world, "delayed")

    entries = lookups(calls)
    codes = collections.Counter(c["error_code"] for c in entries if c["status"] != 200)
    assert codes == {"Throttling.User": 3, "ServiceUnavailable": 1}
    assert all(c["fault"] for c in entries if c["status"] != 200)  # only the injected ones: the pace held
    ok = [c for c in entries if c["status"] == 200]
    assert len(ok) == throttled["pages"] + clean["pages"] + delayed["pages"]
    assert throttled["api_calls_by_product"]["actiontrail"] == throttled["pages"] + 4
    assert throttled["pages"] == clean["pages"] >= 3 and throttled["complete"]
    # The faults changed nothing in the answer: every call of the last 10 days was counted.
    assert throttled["usage"] == clean["usage"] and clean["usage"][world["new_id"]]["event_count"] > 50
    assert_paced(entries)
    # The recent call is invisible: "unused" but not conclusive.
    assert delayed["usage"][RECENT]["used"] is False and delayed["conclusive"] is False
    assert parse(delayed["window"]["until"]) > parse(delayed["window"]["since"])
    assert parse(delayed["window"]["since"]) > t0


def test_a_service_name_spelled_otherwise_costs_pages_never_the_verdict(cloud):
    """CloudSSO's serviceName in SCIM events is undocumented and ActionTrail matches it exactly: with SCIM events
    under another spelling, the scan by EventName AND ServiceName sees none, reads the window again by
    EventName alone and gives the verdict it would have given."""
    control = cloud.control
    directory_id, creds = cloud.directory(credentials=[{"status": "Disabled"}, {}])
    old_id, new_id = creds[0]["credential_id"], creds[1]["credential_id"]
    control.config(scim_event_service_name="CloudSSO")
    control.generate_events(count=60, days=0.5, credential_ids=[new_id], noise_ratio=0.0, directory_id=directory_id,
                            seed=7)
    control.generate_events(count=0, days=0.5, region=REGION, ram_list_users=40, seed=8)
    out = os.path.join(cloud.work, "usage.json")
    play = os.path.join(cloud.work, "usage.yml")
    with open(play, "w") as handle:
        json.dump([{"hosts": "localhost", "gather_facts": False, "tasks": [
            {"alicloud.cloudsso.scim_usage_info": {"directory_id": directory_id, "since": "1d"}, "register": "usage"},
            {"ansible.builtin.copy": {"content": "{{ usage | to_json }}", "dest": out, "mode": "0600"}}]}], handle)
    control.reset_calls()
    cloud.runner.playbook(play)
    with open(out) as handle:
        usage = json.load(handle)
    assert usage["used"] == [new_id] and usage["unused"] == [old_id] and usage["conclusive"] is True
    assert usage["service_name"] is None and usage["events_seen"] == 100
    # One page with the ServiceName (nothing matches), then 100 events by EventName alone: two pages.
    assert usage["pages"] == len(lookups(control.calls())) == 3
