"""Benchmark: alicloud.cloudsso.scim_usage_info scanning 90 days of ActionTrail events in the emulator.

Seeds a directory with two credentials and --events ListUsers events spread over --days days (SCIM calls of
the old credential in the older part of the window, of the new one in the newest --new-days days, and
--noise-share of RAM / CloudSSO OpenAPI ListUsers without a SCIM credential), then runs the module through
ansible-playbook, as a user would:

  full   directory_id, the whole window: every page (the "is the old credential unused?" question)
  found  credential_ids [new], stop_when_found: true (the "is the new credential in use?" question)

and reports pages, LookupEvents calls, wall seconds (the ansible-playbook run, module start-up included)
and the pacing floor (pages x the pacer's interval). The emulator enforces 2 LookupEvents calls per second
per account, as ActionTrail does, so the numbers are those of a real scan minus network latency.

    .venv/bin/python benchmarks/usage_info_scan.py                 # 10,000 events over 90 days
    .venv/bin/python benchmarks/usage_info_scan.py --events 2000 --json out.json
"""

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests.helpers.emulator import EmulatorProcess, make_access_key  # noqa: E402

COLLECTIONS = os.path.join(ROOT, ".build", "collections")
REGION = "cn-shanghai"
DAY = 86400.0
INTERVAL = 0.55  # the module's pacing at max_calls_per_second 2 (0.5 s + 0.05 s guard)

PLAY = """\
- hosts: localhost
  gather_facts: false
  tasks:
    - name: scan
      alicloud.cloudsso.scim_usage_info: "{{ usage_args }}"
      register: usage
    - name: save
      ansible.builtin.copy:
        content: "{{ usage | to_json }}"
        dest: "{{ usage_out }}"
        mode: "0600"
"""


def iso(epoch):
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def ensure_collection_link():
    link = os.path.join(COLLECTIONS, "ansible_collections", "alicloud", "cloudsso")
    if not (os.path.islink(link) and os.path.realpath(link) == ROOT):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        tmp = "%s.%d.tmp" % (link, os.getpid())
        os.symlink(ROOT, tmp)
        os.replace(tmp, link)


def seed(emu, args):
    ak = make_access_key(permissions=["*"])
    seeded = emu.control.seed({"access_keys": [ak], "directories": [{"region": REGION}]})
    directory_id = seeded["directories"][0]["directory_id"]
    creds = emu.control.seed({"credentials": [{"directory_id": directory_id, "status": "Disabled"},
                                              {"directory_id": directory_id}]})["credentials"]
    old_id, new_id = creds[0]["credential_id"], creds[1]["credential_id"]
    t0 = math.floor(emu.control.clock()["epoch"]) - 60
    noise = int(round(args.events * args.noise_share))
    scim = args.events - noise
    new_share = args.new_days / args.days
    new_count = int(round(scim * new_share))
    # Spread inside (t0 - days, t0), away from the edges of the window.
    emu.control.generate_events(count=new_count, end=iso(t0 - 1), days=args.new_days - 0.001,
                                credential_ids=[new_id], noise_ratio=0.0, directory_id=directory_id, seed=1)
    emu.control.generate_events(count=scim - new_count, end=iso(t0 - args.new_days * DAY),
                                days=args.days - args.new_days - 0.01, credential_ids=[old_id], noise_ratio=0.0,
                                directory_id=directory_id, seed=2)
    emu.control.generate_events(count=0, end=iso(t0 - 1), days=args.days - 0.01, region=REGION, seed=3,
                                ram_list_users=noise // 2, cloudsso_list_users=noise - noise // 2)
    if args.other_noise:
        emu.control.generate_events(count=args.other_noise, end=iso(t0 - 1), days=args.days - 0.01, region=REGION,
                                    noise_kinds=["other"], noise_ratio=1.0, seed=4)
    return dict(ak=ak, directory_id=directory_id, old_id=old_id, new_id=new_id, t0=t0,
                total_events=emu.control.state()["event_count"], list_users_events=args.events,
                new_events=new_count, old_events=scim - new_count, noise_list_users=noise)


def run(emu, world, work, name, usage_args):
    out = os.path.join(work, name + ".json")
    extra = os.path.join(work, name + ".vars.json")
    with open(extra, "w") as handle:
        json.dump(dict(usage_args=usage_args, usage_out=out), handle)
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(("ALIBABA_CLOUD_", "ALICLOUD_")))
    env.update(
        ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_HOME=os.path.join(work, "ansible-home"),
        ANSIBLE_LOCAL_TEMP=os.path.join(work, "tmp"), ANSIBLE_NOCOLOR="1",
        ALIBABA_CLOUD_ACCESS_KEY_ID=world["ak"]["id"], ALIBABA_CLOUD_ACCESS_KEY_SECRET=world["ak"]["secret"],
        ALIBABA_CLOUD_REGION=REGION, ALIBABA_CLOUD_ECS_METADATA_DISABLED="true",
        ALIBABA_CLOUD_CLOUDSSO_ENDPOINT=emu.url + "/region/{region}",
        ALIBABA_CLOUD_ACTIONTRAIL_ENDPOINT=emu.url + "/region/{region}",
    )
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", os.path.join(work, "inventory"),
           os.path.join(work, "play.yml"), "-e", "@" + extra]
    emu.control.reset_calls()
    started = time.monotonic()
    proc = subprocess.run(cmd, env=env, cwd=work, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit("ansible-playbook failed for %s:\n%s" % (name, (proc.stdout + proc.stderr)[-4000:]))
    with open(out) as handle:
        result = json.load(handle)
    calls = emu.control.calls()
    lookups = [c for c in calls["log"] if c["action"] == "LookupEvents"]
    per_second = {}
    for call in lookups:
        per_second[call["time"]] = per_second.get(call["time"], 0) + 1
    return dict(
        name=name, pages=result["pages"], lookup_events_calls=len(lookups),
        throttled=sum(1 for c in lookups if c["error_code"] == "Throttling.User"),
        max_calls_in_one_second=max(per_second.values()) if per_second else 0,
        seconds=round(seconds, 1), pacing_floor_seconds=round(result["pages"] * INTERVAL, 1),
        used=result["used"], unused=result["unused"], conclusive=result["conclusive"],
        complete=result["complete"], windows=len(result["windows"]), events_seen=result["events_seen"],
        scim_events_seen=result["scim_events_seen"],
    )


def baseline(emu, world, work):
    """ansible-playbook start-up plus module start-up: a run that fails option checks before any call."""
    started = time.monotonic()
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_HOME=os.path.join(work, "ansible-home"),
               ANSIBLE_LOCAL_TEMP=os.path.join(work, "tmp"))
    extra = os.path.join(work, "baseline.vars.json")
    with open(extra, "w") as handle:
        json.dump(dict(usage_args=dict(credential_ids=[world["new_id"]], since="100d", region=REGION),
                       usage_out=os.path.join(work, "baseline.json")), handle)
    subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i",
                    os.path.join(work, "inventory"), os.path.join(work, "play.yml"), "-e", "@" + extra],
                   env=env, cwd=work, capture_output=True, text=True, check=False)
    return round(time.monotonic() - started, 1)


def markdown(report):
    w = report["world"]
    lines = [
        "| scan | pages | LookupEvents calls | throttled | max calls in 1 s | seconds | pacing floor (s) | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in report["runs"]:
        conclusive = "conclusive" if r["conclusive"] else "inconclusive"
        verdict = "used %d, unused %d, %s" % (len(r["used"]), len(r["unused"]), conclusive)
        lines.append("| %s | %d | %d | %d | %d | %.1f | %.1f | %s |" % (
            r["name"], r["pages"], r["lookup_events_calls"], r["throttled"], r["max_calls_in_one_second"],
            r["seconds"], r["pacing_floor_seconds"], verdict))
    lines.append("")
    lines.append("%d ListUsers events over %g days (%d of the new credential in the last %g days, %d of the old one, "
                 "%d RAM / CloudSSO OpenAPI ListUsers), %d events in the emulator in all; ansible-playbook "
                 "start-up without any call: %.1f s." % (
                     w["list_users_events"], report["args"]["days"], w["new_events"], report["args"]["new_days"],
                     w["old_events"], w["noise_list_users"], w["total_events"], report["startup_seconds"]))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10000, help="ListUsers events in the window")
    parser.add_argument("--days", type=float, default=89.9, help="width of the window (at most 90)")
    parser.add_argument("--new-days", type=float, default=20.0, help="the new credential's calls: the newest days")
    parser.add_argument("--noise-share", type=float, default=0.1, help="share of ListUsers without SCIM credential")
    parser.add_argument("--other-noise", type=int, default=10000, help="events of other services (never paged)")
    parser.add_argument("--json", help="write the report here")
    args = parser.parse_args(argv)
    ensure_collection_link()
    work = tempfile.mkdtemp(prefix="usage-bench-")
    with open(os.path.join(work, "inventory"), "w") as handle:
        handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    with open(os.path.join(work, "play.yml"), "w") as handle:
        handle.write(PLAY)
    with EmulatorProcess() as emu:
        world = seed(emu, args)
        since, until = iso(world["t0"] - args.days * DAY), iso(world["t0"])
        runs = [
            run(emu, world, work, "full", dict(directory_id=world["directory_id"], since=since, until=until)),
            run(emu, world, work, "found", dict(credential_ids=[world["new_id"]], since=since, until=until,
                                                stop_when_found=True)),
        ]
        startup = baseline(emu, world, work)
    report = dict(
        args=vars(args), world=dict((k, v) for k, v in world.items() if k != "ak"), runs=runs,
        startup_seconds=startup,
        machine=dict(platform=platform.platform(), python=platform.python_version(), cpus=os.cpu_count(),
                     processor=platform.processor() or platform.machine()),
        when=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    print(markdown(report))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=2)
    return report


if __name__ == "__main__":
    main()
