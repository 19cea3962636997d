"""Benchmark: alicloud.cloudsso.scim_usage_info scanning 90 days of ActionTrail events in the emulator.

Seeds a directory with two credentials and --events ListUsers events spread over --days days (SCIM calls of
the old credential in the older part of the window, of the new one in the newest --new-days days, and
--noise-share of RAM / CloudSSO OpenAPI ListUsers without a SCIM credential), then runs the module through
ansible-playbook, as a user would:

  full       directory_id, the whole window: every page (the "is the old credential unused?" question)
  found      credential_ids [new], stop_when_found: true (the "is the new credential in use?" question)
  found_old  credential_ids [old], stop_when_found: true (its calls are the older ones: stop_when_found's
             worst case here, it pages through the new credential's calls first)

and reports pages, LookupEvents calls, wall seconds (the ansible-playbook run, module start-up included),
the pacing floor (pages x the pacer's interval) and the API's floor (pages at exactly 2 calls per second).
It also counts the pages and events the full scan reads with its two lookup attributes (EventName AND
ServiceName cloudsso, what the module asks) against EventName alone (the scan class in-process, unpaced:
pages only, no timing).
The emulator enforces 2 LookupEvents calls per second per account, as ActionTrail does, so the numbers are
those of a real scan minus network latency.

    .venv/bin/python benchmarks/usage_info_scan.py                 # 10,000 events over 90 days
    .venv/bin/python benchmarks/usage_info_scan.py --events 2000 --json out.json
    .venv/bin/python benchmarks/usage_info_scan.py --sizes 1000,10000,100000   # + usage_info_scan.png
"""

import json
import math
import os
import tempfile
import time
from datetime import datetime, timezone

from common import (
    API_CEILING_PER_SECOND,
    PACING_INTERVAL,
    REGION,
    PlaybookRunner,
    base_parser,
    load_average,
    machine,
    markdown_table,
    plt,
    save_plot,
    write_json,
)
from tests.helpers.emulator import EmulatorProcess, make_access_key

DAY = 86400.0
INTERVAL = PACING_INTERVAL  # the module's pacing at max_calls_per_second 2 (0.5 s + 0.05 s guard)
SCANS = ("full", "found", "found_old")

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


def seed(emu, args, events):
    ak = make_access_key(permissions=["*"])
    seeded = emu.control.seed({"access_keys": [ak], "directories": [{"region": REGION}]})
    directory_id = seeded["directories"][0]["directory_id"]
    creds = emu.control.seed({"credentials": [{"directory_id": directory_id, "status": "Disabled"},
                                              {"directory_id": directory_id}]})["credentials"]
    old_id, new_id = creds[0]["credential_id"], creds[1]["credential_id"]
    t0 = math.floor(emu.control.clock()["epoch"]) - 60
    noise = int(round(events * args.noise_share))
    scim = events - noise
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
                total_events=emu.control.state()["event_count"], list_users_events=events,
                new_events=new_count, old_events=scim - new_count, noise_list_users=noise)


def playbook(runner, work, name, usage_args, expect_rc=0):
    out = os.path.join(work, name + ".json")
    run = runner.playbook(os.path.join(work, "play.yml"), dict(usage_args=usage_args, usage_out=out), verbosity=0,
                          expect_rc=expect_rc, timeout=3 * 3600)
    return run, out


def run(emu, runner, work, name, usage_args):
    emu.control.reset_calls()
    proc, out = playbook(runner, work, name, usage_args)
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
        seconds=round(proc.elapsed, 1), pacing_floor_seconds=round(result["pages"] * INTERVAL, 1),
        api_floor_seconds=round(max(result["pages"] - 1, 0) / API_CEILING_PER_SECOND, 1),
        used=result["used"], unused=result["unused"], conclusive=result["conclusive"],
        complete=result["complete"], windows=len(result["windows"]), events_seen=result["events_seen"],
        scim_events_seen=result["scim_events_seen"],
    )


def filter_pages(emu, world, since, until):
    """Pages and events of the full scan by EventName AND ServiceName against EventName alone (in-process,
    the emulator's rate limit off for it: this counts pages, it times nothing)."""
    from ansible_collections.alicloud.cloudsso.plugins.module_utils import actiontrail as at
    from ansible_collections.alicloud.cloudsso.plugins.module_utils import pacing
    from ansible_collections.alicloud.cloudsso.plugins.module_utils.client import RpcClient
    from ansible_collections.alicloud.cloudsso.plugins.module_utils.credentials import Credential, StaticProvider

    rate = emu.control.config()["actiontrail_rate_per_second"]
    emu.control.config(actiontrail_rate_per_second=0)
    out = {}
    try:
        for label, service_name in (("event_name_only", None), ("with_service_name", at.SCIM_SERVICE_NAME)):
            client = RpcClient("actiontrail", REGION, endpoint_url=emu.url + "/region/" + REGION,
                               credentials=StaticProvider(Credential(world["ak"]["id"], world["ak"]["secret"])))
            virtual = [0.0]  # a clock that a sleep moves: the pacer's bookkeeping without its waits
            unpaced = pacing.Pacer(2, clock=lambda: virtual[0],
                                   sleep=lambda seconds: virtual.__setitem__(0, virtual[0] + seconds))
            result = at.UsageScan(client, [world["old_id"], world["new_id"]], at.parse_time(since),
                                  at.parse_time(until), pacer=unpaced, service_name=service_name).run().result()
            out[label] = dict(pages=result["pages"], events_read=result["events_seen"], used=result["used"],
                              service_name=result["service_name"])
    finally:
        emu.control.config(actiontrail_rate_per_second=rate)
    return out


def baseline(runner, work, world):
    """ansible-playbook start-up plus module start-up: a run that fails option checks before any call."""
    proc, _ = playbook(runner, work, "baseline", dict(credential_ids=[world["new_id"]], since="100d", region=REGION),
                       expect_rc=None)
    return round(proc.elapsed, 1)


def scan_size(args, events, work):
    """Seed a fresh emulator with `events` ListUsers events and run every scan; returns the size's report."""
    with EmulatorProcess() as emu:
        world = seed(emu, args, events)
        runner = PlaybookRunner(os.path.join(work, "run-%d" % events), emu, world["ak"])
        since, until = iso(world["t0"] - args.days * DAY), iso(world["t0"])
        load_before = load_average()
        scans = dict(full=dict(directory_id=world["directory_id"]),
                     found=dict(credential_ids=[world["new_id"]], stop_when_found=True),
                     found_old=dict(credential_ids=[world["old_id"]], stop_when_found=True))
        runs = [run(emu, runner, work, name, dict(scans[name], since=since, until=until))
                for name in (SCANS[:2] if args.smoke else SCANS)]
        startup = baseline(runner, work, world) if not args.smoke else None
        filters = filter_pages(emu, world, since, until)
    return dict(events=events, world=dict((k, v) for k, v in world.items() if k != "ak"), runs=runs,
                startup_seconds=startup, load_before=load_before, load_after=load_average(), filter=filters)


def markdown(report):
    """The per-size tables (the format of the original 10,000-event report)."""
    parts = []
    for size in report["sizes"]:
        w = size["world"]
        lines = [markdown_table(
            ["scan", "pages", "LookupEvents calls", "throttled", "max calls in 1 s", "seconds", "pacing floor (s)",
             "API floor (s)", "verdict"],
            [(r["name"], r["pages"], r["lookup_events_calls"], r["throttled"], r["max_calls_in_one_second"],
              "%.1f" % r["seconds"], "%.1f" % r["pacing_floor_seconds"], "%.1f" % r["api_floor_seconds"],
              "used %d, unused %d, %s" % (len(r["used"]), len(r["unused"]),
                                          "conclusive" if r["conclusive"] else "inconclusive"))
             for r in size["runs"]])]
        lines.append("")
        lines.append("%d ListUsers events over %g days (%d of the new credential in the last %g days, %d of the old "
                     "one, %d RAM / CloudSSO OpenAPI ListUsers), %d events in the emulator in all; ansible-playbook "
                     "start-up without any call: %.1f s." % (
                         w["list_users_events"], report["args"]["days"], w["new_events"], report["args"]["new_days"],
                         w["old_events"], w["noise_list_users"], w["total_events"], size["startup_seconds"] or 0))
        f = size["filter"]
        lines.append("Full scan by EventName alone: %d pages, %d events read; by EventName AND ServiceName: %d pages, "
                     "%d events read." % (f["event_name_only"]["pages"], f["event_name_only"]["events_read"],
                                          f["with_service_name"]["pages"], f["with_service_name"]["events_read"]))
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def summary(report):
    if len(report["sizes"][0]["runs"]) < len(SCANS):
        return ""
    rows = []
    for size in report["sizes"]:
        runs = dict((r["name"], r) for r in size["runs"])
        rows.append(["{:,}".format(size["events"])] + ["%d / %.1f" % (runs[s]["pages"], runs[s]["seconds"])
                                                        for s in SCANS] + ["%.1f" % runs["full"]["api_floor_seconds"]])
    return markdown_table(["ListUsers events (90 days)", "full: pages / s", "found (new): pages / s",
                           "found_old: pages / s", "full at exactly 2 calls/s (s)"], rows)


def plot(report, path):
    pyplot = plt()
    fig, ax = pyplot.subplots(figsize=(6, 3.6))
    sizes = [s["events"] for s in report["sizes"]]
    for scan, label in (("full", "full scan (every page)"), ("found_old", "stop_when_found, old credential"),
                        ("found", "stop_when_found, new credential")):
        ax.plot(sizes, [dict((r["name"], r) for r in s["runs"])[scan]["seconds"] for s in report["sizes"]],
                marker="o", label=label)
    ax.plot(sizes, [dict((r["name"], r) for r in s["runs"])["full"]["api_floor_seconds"] for s in report["sizes"]],
            linestyle="--", color="grey", label="full scan at exactly 2 calls/s")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("ListUsers events in 90 days")
    ax.set_ylabel("wall time (s)")
    ax.set_title("scim_usage_info against the 2 calls/s limit")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return save_plot(fig, path)


def main(argv=None):
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10000, help="ListUsers events in the window")
    parser.add_argument("--sizes", help="several --events values, comma-separated (e.g. 1000,10000,100000)")
    parser.add_argument("--days", type=float, default=89.9, help="width of the window (at most 90)")
    parser.add_argument("--new-days", type=float, default=20.0, help="the new credential's calls: the newest days")
    parser.add_argument("--noise-share", type=float, default=0.1, help="share of ListUsers without SCIM credential")
    parser.add_argument("--other-noise", type=int, default=10000, help="events of other services (never paged)")
    parser.add_argument("--json", help="write the report here")
    args = parser.parse_args(argv)
    sizes = [int(n) for n in args.sizes.split(",")] if args.sizes else [args.events]
    if args.smoke:
        sizes, args.other_noise = [150], 50
    report = dict(args=vars(args), sizes=[], machine=machine())
    with tempfile.TemporaryDirectory(prefix="usage-bench-") as work:
        with open(os.path.join(work, "play.yml"), "w") as handle:
            handle.write(PLAY)
        for events in sizes:
            report["sizes"].append(scan_size(args, events, work))
            report["when"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            write_json(os.path.join(args.out, "usage_info_scan.partial.json"), report)  # survives a later failure
    report["markdown"] = markdown(report)
    report["summary"] = summary(report)
    print(report["markdown"])
    if len(sizes) > 1:
        print(report["summary"])
    write_json(os.path.join(args.out, "usage_info_scan.json"), report)
    if args.json:
        write_json(os.path.abspath(args.json), report)
    if report["summary"]:
        plot(report, os.path.join(args.out, "usage_info_scan.png"))
    return report


if __name__ == "__main__":
    main()
