"""Benchmark: rotation wall time against the emulator with no configured waits, and where the time goes.

The world is tests/awx/runner_harness.EntraFleet: N accounts, each with its one CloudSSO directory and a role
that the automation account's key (in the environment, as AWX injects it) assumes for that host; one Entra
automation app that owns one enterprise application per directory, and one simulated Entra IdP per directory
that syncs with the directory's credential every --idp-interval seconds. playbooks/rotate.yml rotates them all
with ansible-playbook (forks F), scim_rotation_verify_interval_seconds 1: the only waits left are the role's
fixed 1 s pause after the disable, waiting for the IdP's next cycle, and each account's ActionTrail limit of 2
calls per second.

1. One directory, with the API calls of every task (bench_timing reads the emulator's call counts at each
   task start): the calls of each step by API, and the wall time split into ansible-playbook start-up,
   controller-side tasks (set_fact, include, assert...), module runs (their process start-up, imports and
   work), the API's own time (the emulator's request log), ActionTrail pacing (LookupEvents calls x 0.55 s),
   the waits for the IdP's cycle and for ActionTrail, and the fixed pause.
2. Scale: --sizes directories (default 10, 50, 200) x --forks (default 5, 10, 20), each a fresh emulator;
   wall time, time per directory, the same split by task kind, throttled LookupEvents calls and the
   emulator's CPU time (it shares the machine). --budget skips runs once that many seconds are spent.

    .venv/bin/python benchmarks/rotation.py [--sizes 10,50,200] [--forks 5,10,20] [--budget 5400] [--smoke]
"""

import json
import os
import resource
import tempfile
import time

from common import (
    PACING_INTERVAL,
    PlaybookRunner,
    base_parser,
    call_delta,
    emulator_cpu_seconds,
    load_average,
    load_timing,
    machine,
    markdown_table,
    plt,
    role_file,
    save_plot,
    server_milliseconds,
    timing_env,
    write_json,
)
from tests.awx.runner_harness import PLAYBOOKS, EntraFleet
from tests.helpers.emulator import EmulatorProcess

CONTROLLER_ACTIONS = {"set_fact", "include_tasks", "import_tasks", "include_role", "import_role", "debug", "assert",
                      "fail", "set_stats", "meta", "include_vars"}
PAUSE_ACTIONS = {"pause"}
IDP_WAIT = "Wait for a synchronization cycle"
TRAIL_WAIT = "Wait until ActionTrail"
# Task file base names: tasks/idp/<name>/configure.yml and verify.yml count with the generic step of that name.
STEP_OF_FILE = {"rotate": "prepare", "prepare": "prepare", "lock": "prepare", "plan": "plan", "prune": "prune",
                "create": "create", "configure": "configure_idp", "disable": "disable_old", "verify": "verify",
                "verify_actiontrail": "verify", "delete": "delete_old", "finish": "finish", "report": "report",
                "main": None}
STEPS = ["prepare", "plan", "create", "probe_new", "configure_idp", "disable_old", "verify", "delete_old", "finish",
         "report"]
APIS = [("cloudsso", "CloudSSO"), ("actiontrail", "ActionTrail"), ("graph", "Graph"), ("entra-login", "Entra login"),
        ("scim", "SCIM probes"), ("sts", "STS")]


def short_action(action):
    return action.rsplit(".", 1)[-1]


def title(task):
    """The task's name without the `role : ` prefix Ansible adds."""
    return task["name"].split(" : ", 1)[-1]


def idp_interval_for(directories):
    """Each simulated IdP syncs every N/2 seconds (at least 2): the fleet makes about 2 sync cycles a second in
    all, whatever N. A real Entra job syncs every 40 minutes; IdPs every 2 s for 200 directories would make the
    one emulator process (every account's SCIM endpoint and ActionTrail) serve 100 cycles a second on the CPU
    the rotation itself needs."""
    return max(2, directories // 2)


def run_rotation(emu, work, directories, forks, idp_interval, with_calls=False):
    fleet = EntraFleet(emu.control, directories, idp_interval=idp_interval)
    time.sleep(min(idp_interval, 3))  # every IdP has synced once with the current credential
    inventory = os.path.join(work, "inventory.yml")
    with open(inventory, "w") as handle:
        json.dump({"all": {"hosts": fleet.host_vars()}}, handle)
    state_dir = os.path.join(work, "state")
    runner = PlaybookRunner(os.path.join(work, "run"), emu, fleet.access_key, env=dict(
        AZURE_TENANT_ID=fleet.tenant_id, AZURE_CLIENT_ID=fleet.client_id, AZURE_CLIENT_SECRET=fleet.client_secret))
    runner.extra_secrets.append(fleet.client_secret)
    timing_path = os.path.join(work, "timing.json")
    emu.control.reset_calls()
    log_before = len(emu.stderr())
    cpu_before = emulator_cpu_seconds(emu.pid)
    load_before = load_average()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    spawned = time.time()
    run = runner.playbook(os.path.join(PLAYBOOKS, "rotate.yml"), dict(
        scim_rotation_state_dir=state_dir, scim_rotation_verify_interval_seconds=1,
        scim_rotation_verify_timeout_seconds=900, scim_rotation_usage_window="1h"),
        inventory=inventory, verbosity=0, forks=forks, timeout=7200,
        env=timing_env(timing_path, emu.url if with_calls else None))
    finished = time.time()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    timing = load_timing(timing_path)
    calls = emu.control.calls()
    api = [c for c in calls["log"] if not c.get("internal")]
    reports = []
    for name in os.listdir(os.path.join(state_dir, "reports")):
        with open(os.path.join(state_dir, "reports", name)) as handle:
            reports.append(json.load(handle))
    now = fleet.credentials_now()
    rotated = sum(1 for r in reports if r["outcome"] == "rotated" and now[r["directory_id"]] == {
        r["new_credential_id"]: "Enabled"})
    assert rotated == directories, "%d of %d directories rotated" % (rotated, directories)
    result = dict(
        directories=directories, forks=forks, idp_interval=idp_interval, seconds=round(run.elapsed, 1),
        seconds_per_directory=round(run.elapsed / directories, 2), rotated=rotated,
        # CPU seconds of ansible-playbook and every module process: what the machine's load cannot inflate
        ansible_cpu_seconds=round(cpu, 1),
        startup=round(timing["tasks"][0]["start"] - spawned, 2), teardown=round(finished - timing["ended"], 2),
        by_kind=split_by_kind(timing["tasks"]), tasks=len(timing["tasks"]),
        api_calls=dict((p, sum(1 for c in api if c["product"] == p)) for p, _ in APIS),
        throttled=sum(1 for c in api if c["error_code"] and c["error_code"].startswith("Throttling")),
        api_server_seconds=round(server_milliseconds(emu.stderr()[log_before:]) / 1000.0, 2),
        emulator_cpu_seconds=round(emulator_cpu_seconds(emu.pid) - cpu_before, 1) if cpu_before is not None else None,
        load_before=load_before, load_after=load_average(),
        verify_pages=[r["evidence"].get("actiontrail_pages") for r in reports],
    )
    if with_calls:
        result["steps"] = calls_by_step(timing["tasks"])
        result["breakdown"] = one_directory_breakdown(timing, result)
        result["task_times"] = [dict(name=t["name"], file=role_file(t), action=short_action(t["action"]),
                                     seconds=round(t["end"] - t["start"], 3), calls=call_delta(t),
                                     retries=sum(t["retries"].values())) for t in timing["tasks"]]
    return result


def task_waits(task):
    """Seconds of a task spent in `until` retries (the longest host's retries x delay, at most the task)."""
    wall = task["end"] - task["start"]
    retries = max(task["retries"].values()) if task["retries"] else 0
    return min(wall, retries * float(task["delay"] or 0)) if retries else 0.0


def split_by_kind(tasks):
    """Sum of task wall times by kind: controller-side tasks, module runs, fixed pause, IdP cycle wait,
    ActionTrail poll wait."""
    kinds = dict.fromkeys(["controller tasks", "module runs", "fixed pause", "IdP cycle wait",
                           "ActionTrail poll wait"], 0.0)
    for task in tasks:
        wall = task["end"] - task["start"]
        action = short_action(task["action"])
        if action in PAUSE_ACTIONS:
            kinds["fixed pause"] += wall
            continue
        waits = task_waits(task)
        if title(task).startswith(IDP_WAIT):
            kinds["IdP cycle wait"] += waits
        elif title(task).startswith(TRAIL_WAIT):
            kinds["ActionTrail poll wait"] += waits
        kinds["controller tasks" if action in CONTROLLER_ACTIONS else "module runs"] += wall - waits
    return dict((k, round(v, 2)) for k, v in kinds.items())


def one_directory_breakdown(timing, result):
    """The one-directory run's wall time, split so that the parts add up to it."""
    kinds = result["by_kind"]
    lookups = sum(call_delta(t).get("actiontrail:LookupEvents", 0) for t in timing["tasks"])
    pacing = round(lookups * PACING_INTERVAL, 2)
    api = result["api_server_seconds"]
    parts = [
        ("ansible-playbook start-up and exit", round(result["startup"] + result["teardown"], 2)),
        ("controller-side tasks (set_fact, include_tasks, assert...)", kinds["controller tasks"]),
        ("module runs: process start-up, imports, work", round(kinds["module runs"] - api - pacing, 2)),
        ("API calls (the emulator's own time)", api),
        ("ActionTrail pacing (%d LookupEvents x %.2f s)" % (lookups, PACING_INTERVAL), pacing),
        ("waiting for the IdP's next cycle", kinds["IdP cycle wait"]),
        ("waiting for ActionTrail to show the new credential", kinds["ActionTrail poll wait"]),
        ("fixed 1 s pause after the disable", kinds["fixed pause"]),
    ]
    counted = sum(v for _, v in parts)
    parts.append(("unaccounted (between tasks)", round(result["seconds"] - counted, 2)))
    return parts


def calls_by_step(tasks):
    steps = dict((s, {}) for s in STEPS)
    for task in tasks:
        step = STEP_OF_FILE.get(role_file(task), "prepare")
        if step is None:
            continue
        if step == "create" and title(task).startswith("The new token must authenticate"):
            step = "probe_new"
        for key, n in call_delta(task).items():
            product = key.split(":", 1)[0]
            steps[step][product] = steps[step].get(product, 0) + n
    return steps


def markdown_steps(steps):
    rows = []
    for step in STEPS:
        counts = steps.get(step, {})
        if counts:
            rows.append([step] + [counts.get(p, "") for p, _ in APIS] + [sum(counts.values())])
    totals = [sum(steps[s].get(p, 0) for s in steps) for p, _ in APIS]
    rows.append(["**total**"] + totals + [sum(totals)])
    return markdown_table(["step"] + [label for _, label in APIS] + ["all"], rows)


def markdown_scale(runs):
    return markdown_table(
        ["directories", "forks", "wall (s)", "s / directory", "Ansible CPU (s)", "module runs (s)",
         "controller tasks (s)", "waits (s)", "LookupEvents (throttled)", "verify pages / dir (max)", "emulator CPU (s)",
         "load 1 min"],
        [(r["directories"], r["forks"], r["seconds"], r["seconds_per_directory"], r.get("ansible_cpu_seconds", "-"),
          r["by_kind"]["module runs"],
          r["by_kind"]["controller tasks"],
          round(r["by_kind"]["fixed pause"] + r["by_kind"]["IdP cycle wait"] + r["by_kind"]["ActionTrail poll wait"], 1),
          "%d (%d)" % (r["api_calls"]["actiontrail"], r["throttled"]), max(p or 0 for p in r["verify_pages"]),
          r["emulator_cpu_seconds"], "%s-%s" % (r["load_before"], r["load_after"])) for r in runs])


def plot(single, runs, path):
    pyplot = plt()
    fig, ax = pyplot.subplots(figsize=(6, 3.6))
    for forks in sorted(set(r["forks"] for r in runs)):
        points = sorted((r["directories"], r["seconds"]) for r in runs if r["forks"] == forks)
        points = [(single["directories"], single["seconds"])] + points
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label="forks %d" % forks)
    ax.set_xlabel("directories rotated in one ansible-playbook run")
    ax.set_ylabel("wall time (s)")
    ax.set_title("Rotation against the emulator (2 vCPU)")
    ax.grid(alpha=0.3)
    ax.legend()
    return save_plot(fig, path)


def plot_breakdown(breakdown, path):
    pyplot = plt()
    fig, ax = pyplot.subplots(figsize=(6.5, 3))
    labels = [name for name, value in breakdown if value > 0]
    values = [value for _, value in breakdown if value > 0]
    ax.barh(range(len(values)), values)
    ax.set_yticks(range(len(values)))
    ax.set_yticklabels(labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("seconds of the one-directory rotation")
    return save_plot(fig, path)


def main(argv=None):
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,50,200", help="directories per scale run")
    parser.add_argument("--forks", default="5,10,20", help="forks of the scale runs")
    parser.add_argument("--combos", help="directories x forks to run instead of sizes x forks, e.g. 10x5,200x20")
    parser.add_argument("--budget", type=float, default=5400, help="skip scale runs once this many seconds are spent")
    args = parser.parse_args(argv)
    if args.combos:
        combos = [tuple(int(n) for n in c.split("x")) for c in args.combos.split(",")]
    else:
        combos = [(int(d), int(f)) for d in args.sizes.split(",") if d for f in args.forks.split(",") if f]
    if args.smoke:
        combos = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="rotation-1-") as work, EmulatorProcess() as emu:
        single = run_rotation(emu, work, 1, 1, 1, with_calls=True)
    print(markdown_steps(single["steps"]))
    print(markdown_table(["where the time goes (1 directory)", "seconds"], single["breakdown"]))
    runs, skipped = [], []
    for directories, forks in combos:
        if time.monotonic() - started > args.budget:
            skipped.append(dict(directories=directories, forks=forks))
            continue
        with tempfile.TemporaryDirectory(prefix="rotation-%d-" % directories) as work, EmulatorProcess() as emu:
            runs.append(run_rotation(emu, work, directories, forks, idp_interval_for(directories)))
        print("%d directories, forks %d: %.1f s" % (directories, forks, runs[-1]["seconds"]), flush=True)
        write_json(os.path.join(args.out, "rotation.partial.json"), dict(single=single, runs=runs))
    report = dict(machine=machine(), args=vars(args), when=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                  single=single, runs=runs, skipped=skipped, total_seconds=round(time.monotonic() - started),
                  markdown=dict(steps=markdown_steps(single["steps"]),
                                breakdown=markdown_table(["where the time goes (1 directory)", "seconds"],
                                                         single["breakdown"]),
                                scale=markdown_scale([single] + runs)))
    write_json(os.path.join(args.out, "rotation.json"), report)
    plot_breakdown(single["breakdown"], os.path.join(args.out, "rotation_breakdown.png"))
    if runs:
        plot(single, runs, os.path.join(args.out, "rotation_scale.png"))
        print(report["markdown"]["scale"])
    return report


if __name__ == "__main__":
    main()
