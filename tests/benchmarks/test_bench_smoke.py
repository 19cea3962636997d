"""The benchmark scripts work: `benchmarks/run_all.py --smoke` runs each at a tiny size, and what each wrote is
sane (numbers that can be true, the calls the benchmark says it counts, plots that exist and are small).
Nothing here is timed: timings are the benchmarks' business (benchmarks/README.md)."""

import json
import os
import subprocess
import sys

import pytest

from tests.helpers.once import once_per_session

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
READS = ("List", "Get")


def run_smoke(out):
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "run_all.py"), "--smoke", "--out", out],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    return {"out": out, "rc": proc.returncode, "tail": proc.stdout[-8000:] + proc.stderr[-2000:]}


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    # Once per session: the four checks below may run on different xdist workers.
    result = once_per_session(tmp_path_factory, "bench-smoke", run_smoke)
    assert result["rc"] == 0, result["tail"]
    return result["out"]


def load(out, name):
    with open(os.path.join(out, name + ".json")) as handle:
        return json.load(handle)


def assert_png(out, name):
    path = os.path.join(out, name + ".png")
    with open(path, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
    assert 1000 < os.path.getsize(path) < 200000


def test_module_cost(smoke):
    report = load(smoke, "module_cost")
    process, playbook = report["process"]["median"], report["playbook"]["median"]
    for name in ("ours", "sdk"):
        # a process that imports a client and calls costs more than an empty interpreter
        assert process[name]["seconds"] > process["python"]["seconds"] > 0
        assert process[name]["maxrss_mib"] > process["python"]["maxrss_mib"] > 5
        assert playbook[name]["seconds"] > playbook[name]["task_seconds"] > playbook[name]["module_seconds"] > 0
        assert playbook[name]["module_maxrss_mib"] > process["python"]["maxrss_mib"]
    assert report["process"]["ratio"]["seconds"] == pytest.approx(
        process["ours"]["seconds"] / process["sdk"]["seconds"], rel=0.01)
    assert "official SDK" in report["markdown"]
    assert_png(smoke, "module_cost")


def test_api_calls(smoke):
    report = load(smoke, "api_calls")
    assert len(report["operations"]) >= 4
    for op in report["operations"]:
        writes = [a for a in op["by_action"] if not a.split(":", 1)[1].startswith(READS)]
        assert op["calls"] == sum(op["by_action"].values()) >= op["minimum"], op
        # a change is one write call; a no-op makes none
        assert len(writes) == (1 if op["changed"] else 0), op
    assert report["operations"][0]["by_action"] == {"cloudsso:ListSCIMServerCredentials": 1}


def test_rotation(smoke):
    report = load(smoke, "rotation")
    single = report["single"]
    assert single["rotated"] == single["directories"] == 1
    steps = single["steps"]
    assert steps["create"]["cloudsso"] >= 1 and steps["probe_new"]["scim"] == 1
    assert steps["configure_idp"]["graph"] >= 2 and steps["delete_old"]["cloudsso"] >= 1
    # the parts of the wall time add up to it: no more than a tenth is unaccounted for
    parts = dict(single["breakdown"])
    assert abs(parts.pop("unaccounted (between tasks)")) < 0.1 * single["seconds"]
    assert all(v >= 0 for v in parts.values()), parts
    assert parts["fixed 1 s pause after the disable"] >= 1
    assert single["throttled"] == 0
    assert_png(smoke, "rotation_breakdown")


def test_usage_info_scan(smoke):
    report = load(smoke, "usage_info_scan")
    size = report["sizes"][0]
    runs = dict((r["name"], r) for r in size["runs"])
    # ListUsers of CloudSSO: RAM's half of the noise has serviceName Ram, which the module's query leaves out
    matching = size["world"]["list_users_events"] - size["world"]["noise_list_users"] // 2
    # 50 events a page; the scan reads every matching event once
    assert runs["full"]["pages"] >= -(-matching // 50)
    assert runs["full"]["events_seen"] == matching and runs["full"]["conclusive"]
    # The same full scan by EventName alone reads RAM's ListUsers too; both find the same credential in use.
    both, alone = size["filter"]["with_service_name"], size["filter"]["event_name_only"]
    assert both["events_read"] == matching < alone["events_read"] == size["world"]["list_users_events"]
    # `used` follows the order the IDs were asked in, which differs between the module run and these scans.
    assert both["pages"] <= alone["pages"]
    assert sorted(both["used"]) == sorted(alone["used"]) == sorted(runs["full"]["used"])
    assert runs["found"]["pages"] == 1 and runs["found"]["used"]
    for run in runs.values():
        assert run["throttled"] == 0 and run["max_calls_in_one_second"] <= 2
        assert run["lookup_events_calls"] == run["pages"]
        assert run["seconds"] >= run["pacing_floor_seconds"]
