"""Load on the account model: a fleet of directories is a fleet of accounts (one CloudSSO directory per
management account), each with its own ActionTrail and its own limit of 2 LookupEvents calls per second.

- test_info_and_usage_across_many_accounts: scim_credential_info and scim_usage_info for 40 accounts (200 with
  RELIABILITY_FULL=1) in one play with forks 10, each host reaching its account by assuming a role there with
  one automation key. Asserted: every host succeeds; every usage verdict is right (used or conclusively
  unused); each account's own ActionTrail answered no more than two LookupEvents calls in any second, and
  only for its own directory's host; at most one call in twenty throttled (and retried). The numbers are
  written to load-<n>.json in the test's folder and printed (-s).
- test_rotation_of_ten_accounts_each_with_its_own_credentials: ten accounts rotated by one play with forks 10,
  each host authenticating its own way through `scim_rotation_auth`: the environment's key, its own access
  key, an aliyun CLI profile, or a role assumed from the environment's key. Each account's ActionTrail shows
  its own rotation made by its own identity, and nothing of another account.
"""

import collections
import json
import os
import stat
import time

from tests.helpers.ansible import REGION, target_python
from tests.helpers.emulator import make_access_key, member_accounts
from tests.reliability.harness import FULL, Rotation, probe_env, read_probe, write_calls

COUNT = 200 if FULL else 40
FORKS = 10
ACCOUNTS = 10

PLAY = [{"name": "Read every directory's credentials and their use", "hosts": "all", "connection": "local",
         "gather_facts": False,
         # Each host is another account: its own module options reach it (as scim_rotation_auth does in the role).
         "module_defaults": {"group/alicloud.cloudsso.cloudsso": "{{ account_auth }}"},
         "tasks": [
             {"name": "Credentials", "alicloud.cloudsso.scim_credential_info": {"directory_id": "{{ directory_id }}"},
              "register": "info"},
             {"name": "Use", "alicloud.cloudsso.scim_usage_info": {"directory_id": "{{ directory_id }}",
                                                                    "since": "1h"}},
         ]}]


def lookup_stats(control, accounts):
    """LookupEvents of the run: answered calls per account and second (from each account's own ActionTrail:
    the service records every answered call, not a throttled one) and throttled calls (the call log)."""
    per_account = {}
    for account_id in accounts:
        events = control.events(account_id=account_id, region=REGION, limit=1000)["events"]
        seconds = collections.Counter(e["eventTime"] for e in events
                                      if e.get("eventName") == "LookupEvents" and not e.get("errorCode"))
        per_account[account_id] = seconds
    throttled = sum(1 for entry in control.calls()["log"] if entry["action"] == "LookupEvents"
                    and (entry["error_code"] or "").startswith("Throttling"))
    return dict(answered=sum(sum(c.values()) for c in per_account.values()), throttled=throttled,
                max_answered_per_second_per_account=max([max(c.values() or [0]) for c in per_account.values()] or [0]),
                answered_by_account=dict((a, sum(c.values())) for a, c in per_account.items()))


def test_info_and_usage_across_many_accounts(cloud):
    control = cloud.control
    automation = make_access_key(permissions=["sts:AssumeRole"])
    control.seed({"access_keys": [automation]})
    cloud.runner.extra_secrets.append(automation["secret"])
    accounts = member_accounts(control, COUNT, automation["account_id"], REGION)
    directories = [a["directory_id"] for a in accounts]
    # Each directory: the credential its IdP calls with, and a Disabled one nothing calls with. An account's
    # ActionTrail holds only its own directory's SCIM calls: the one in use is each scan's positive control.
    creds = control.seed({"credentials": [dict(directory_id=d, status=s) for d in directories
                                          for s in ("Enabled", "Disabled")]})["credentials"]
    in_use = dict((c["directory_id"], c["credential_id"]) for c in creds if c["status"] == "Enabled")
    unused = dict((c["directory_id"], c["credential_id"]) for c in creds if c["status"] == "Disabled")
    for directory_id in directories:
        control.generate_events(count=1, days=0.005, credential_ids=[in_use[directory_id]], noise_ratio=0.0,
                                directory_id=directory_id)
    inventory = os.path.join(cloud.work, "load-inventory.json")
    with open(inventory, "w") as handle:
        json.dump({"all": {"hosts": dict((a["directory_id"], {"directory_id": a["directory_id"],
                                                              "account_auth": a["auth"]}) for a in accounts),
                           "vars": {"ansible_connection": "local", "ansible_python_interpreter": target_python()}}},
                  handle)
    play = os.path.join(cloud.runner.work, "load.yml")
    with open(play, "w") as handle:
        json.dump(PLAY, handle)
    probe = os.path.join(cloud.runner.work, "probe-load.jsonl")
    control.reset_calls()
    env = dict(probe_env(probe), ALIBABA_CLOUD_ACCESS_KEY_ID=automation["id"],
               ALIBABA_CLOUD_ACCESS_KEY_SECRET=automation["secret"])
    started = time.monotonic()
    cloud.runner.playbook(play, inventory=inventory, forks=FORKS, verbosity=0, env=env, timeout=1800)
    elapsed = time.monotonic() - started
    records = read_probe(probe)
    failed = [(r["host"], r["task"], r["result"].get("msg")) for r in records if r["status"] != "ok"]
    assert not failed, failed[:5]
    usage = dict((r["host"], r["result"]) for r in records if r["task"] == "Use")
    assert len(usage) == COUNT
    wrong = [d for d in directories if (usage[d]["used"], usage[d]["unused"], usage[d]["conclusive"])
             != ([in_use[d]], [unused[d]], True)]
    assert not wrong, "wrong verdicts for %s" % wrong[:5]
    # Each account's ActionTrail holds its own directory's events only: no run saw another directory's credential.
    assert not [d for d in directories if usage[d]["other_credentials_seen"]]
    stats = lookup_stats(control, [a["account_id"] for a in accounts])
    stats.update(accounts=COUNT, forks=FORKS, seconds=round(elapsed, 1),
                 list_calls=control.calls()["counts"].get("cloudsso:ListSCIMServerCredentials", 0))
    with open(os.path.join(cloud.work, "load-%d.json" % COUNT), "w") as handle:
        json.dump(stats, handle, indent=1)
    by_account = stats.pop("answered_by_account")
    print("\nload: %s" % json.dumps(stats, sort_keys=True))
    assert stats["max_answered_per_second_per_account"] <= 2
    # One scan per account, one page each (an account's ActionTrail holds only its own directory's events).
    assert sorted(set(by_account.values())) == [1] and stats["answered"] == COUNT
    assert stats["throttled"] <= COUNT // 20, stats


def _profile_file(cloud, profiles):
    """An aliyun CLI configuration file (0600) with one AK profile per account."""
    path = os.path.join(cloud.secrets_dir, "aliyun-config.json")
    with open(path, "w") as handle:
        json.dump({"current": "", "profiles": [dict(name=name, mode="AK", access_key_id=key["id"],
                                                    access_key_secret=key["secret"], region_id=REGION)
                                               for name, key in profiles.items()]}, handle)
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    cloud.runner.allow_secret_file(path)
    return path


def test_rotation_of_ten_accounts_each_with_its_own_credentials(cloud):
    world = Rotation(cloud, ACCOUNTS, idp="custom")
    ways, profiles, keys = {}, {}, {}
    for index, directory_id in enumerate(world.directories):
        host = world.hosts[directory_id]
        if index == 0:
            ways[directory_id] = "environment"  # the cloud's own account: the key in the environment
            continue
        role_arn = host["scim_rotation_auth"]["assume_role"]["role_arn"]
        account_id = role_arn.split(":")[3]
        if index % 3 == 0:
            ways[directory_id] = "assume_role"  # as the harness seeds it
            continue
        key = keys[directory_id] = make_access_key(account_id=account_id, permissions=["*"])
        cloud.control.seed({"access_keys": [key]})
        if index % 3 == 1:
            ways[directory_id] = "access_key"
            host["scim_rotation_auth"] = {"access_key_id": key["id"], "access_key_secret": key["secret"]}
        else:
            ways[directory_id] = "profile"
            profiles["account-%d" % index] = key
            host["scim_rotation_auth"] = {"profile": "account-%d" % index}
    config = _profile_file(cloud, profiles)
    for directory_id, way in ways.items():
        if way == "profile":
            world.hosts[directory_id]["scim_rotation_auth"]["shared_credentials_file"] = config
    # The access keys sit in the inventory as host variables here; in production a vault holds them (docs/awx.md).
    world.write_inventory()
    os.chmod(world.inventory, stat.S_IRUSR | stat.S_IWUSR)
    cloud.runner.allow_secret_file(world.inventory)
    cloud.control.reset_calls()
    started = time.monotonic()
    world.run(forks=ACCOUNTS, verbosity=1)
    print("\n%d accounts, forks %d: %.1f s" % (ACCOUNTS, ACCOUNTS, time.monotonic() - started))
    assert sorted(set(ways.values())) == ["access_key", "assume_role", "environment", "profile"]
    counts = write_calls(cloud.control.calls())
    assert counts == {"cloudsso:CreateSCIMServerCredential": ACCOUNTS,
                      "cloudsso:UpdateSCIMServerCredentialStatus": ACCOUNTS,
                      "cloudsso:DeleteSCIMServerCredential": ACCOUNTS}, counts
    state = cloud.control.state()
    account_of = dict((d["directory_id"], d["account_id"]) for d in state["directories"])
    for directory_id in world.directories:
        assert not world.invariant_problems(directory_id), (ways[directory_id], world.invariant_problems(directory_id))
        report = world.report(directory_id)
        assert report["outcome"] == "rotated", (ways[directory_id], report["message"])
        # The account's own ActionTrail: its rotation's writes, made by the identity this host was given.
        events = cloud.control.events(account_id=account_of[directory_id], region=REGION, limit=1000)["events"]
        writes = [e for e in events if e.get("eventName") in ("CreateSCIMServerCredential",
                                                              "DeleteSCIMServerCredential")]
        assert len(writes) == 2 and all(e["requestParameters"]["DirectoryId"] == directory_id for e in writes)
        key_ids = set(e["userIdentity"]["accessKeyId"] for e in writes)
        if ways[directory_id] in ("access_key", "profile"):
            assert key_ids == {keys[directory_id]["id"]}, ways[directory_id]
        elif ways[directory_id] == "environment":
            assert key_ids == {cloud.access_key["id"]}
        else:
            assert all(k.startswith("STS.") for k in key_ids)
        others = [d for d in world.directories if d != directory_id]
        assert not [d for d in others if d in json.dumps(events)], ways[directory_id]


def _pace(folder, key, calls, out):
    from ansible_collections.alicloud.cloudsso.plugins.module_utils.pacing import Pacer
    pacer = Pacer(2.0)
    pacer.share(lambda: key, folder=folder)
    stamps = []
    for _ in range(calls):
        pacer.wait()
        stamps.append(time.time())
    with open(out, "w") as handle:
        json.dump(stamps, handle)


def test_processes_share_one_pace_per_access_key(tmp_path):
    """module_utils/pacing.py's shared pacing, without Ansible: four processes pacing with one key make
    no two calls closer than the interval (0.55 s); a process with another key is not held by them."""
    import multiprocessing
    ctx = multiprocessing.get_context("fork")
    jobs = []
    for index, key in enumerate(("TESTKEYA", "TESTKEYA", "TESTKEYA", "TESTKEYA", "TESTKEYB")):
        out = str(tmp_path / ("stamps-%d.json" % index))
        jobs.append((key, out, ctx.Process(target=_pace, args=(str(tmp_path), key, 3, out))))
    started = time.time()
    for _, _, proc in jobs:
        proc.start()
    for _, _, proc in jobs:
        proc.join(60)
        assert proc.exitcode == 0
    shared = sorted(t for key, out, _ in jobs if key == "TESTKEYA" for t in json.load(open(out)))
    gaps = [b - a for a, b in zip(shared, shared[1:])]
    assert len(shared) == 12 and min(gaps) >= 0.5, gaps
    other = json.load(open(jobs[-1][1]))
    assert other[0] - started < 2.0  # not queued behind the eleven calls of key A
