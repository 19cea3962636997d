"""Benchmark: what one CloudSSO call costs through the collection's client versus the official SDK.

1. process: a fresh Python process imports the client and makes one ListSCIMServerCredentials call against the
   emulator: the collection's RpcClient (credential chain from the environment, standard-library HTTP) versus the official
   alibabacloud-cloudsso20210515 SDK; plus a bare `python -c pass` as the floor. Run alternately (ours, SDK,
   python, ours, ...), so drifts of the machine hit all alike. Wall time and peak RSS (os.wait4).
2. playbook: ansible-playbook with one no-op task (a directory that has a credential, state present: one List
   call): alicloud.cloudsso.scim_credential versus benchmarks/library/sdk_scim_credential.py, the same no-op
   written on the SDK. Wall time of the whole ansible-playbook run, of the task (bench_timing callback), and
   of the module's own process with its peak RSS (an interpreter wrapper that waits for it with os.wait4).

Each run is checked: the answer names the credential, exactly one List call reached the emulator.

    .venv/bin/python benchmarks/module_cost.py [--rounds 15] [--playbook-rounds 10] [--smoke] [--out DIR]
"""

import json
import os
import subprocess
import sys
import tempfile
import time

from common import (
    COLLECTIONS,
    REGION,
    PlaybookRunner,
    base_parser,
    load_average,
    load_timing,
    machine,
    markdown_table,
    median,
    plt,
    save_plot,
    timing_env,
    write_json,
)
from tests.helpers.ansible import emulator_env
from tests.helpers.emulator import EmulatorProcess, make_access_key

LIBRARY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "library")
LIST_CALL = "cloudsso:ListSCIMServerCredentials"

PROCESS_CODE = {
    "ours": (
        "import os, sys\n"
        "sys.path.insert(0, os.environ['BENCH_COLLECTIONS'])\n"
        "from ansible_collections.alicloud.cloudsso.plugins.module_utils.client import RpcClient\n"
        "from ansible_collections.alicloud.cloudsso.plugins.module_utils.credential_chain import credentials_provider\n"
        "client = RpcClient('cloudsso', os.environ['ALIBABA_CLOUD_REGION'], credentials=credentials_provider({}))\n"
        "answer = client.call('ListSCIMServerCredentials', {'DirectoryId': os.environ['BENCH_DIRECTORY_ID']})\n"
        "print(answer['SCIMServerCredentials'][0]['CredentialId'])\n"),
    "sdk": (
        "import os\n"
        "from alibabacloud_cloudsso20210515 import models\n"
        "from alibabacloud_cloudsso20210515.client import Client\n"
        "from alibabacloud_tea_openapi.models import Config\n"
        "client = Client(Config(access_key_id=os.environ['ALIBABA_CLOUD_ACCESS_KEY_ID'],\n"
        "                       access_key_secret=os.environ['ALIBABA_CLOUD_ACCESS_KEY_SECRET'],\n"
        "                       region_id=os.environ['ALIBABA_CLOUD_REGION'], endpoint=os.environ['BENCH_SDK_ENDPOINT'],\n"
        "                       protocol='http'))\n"
        "body = client.list_scimserver_credentials(\n"
        "    models.ListSCIMServerCredentialsRequest(directory_id=os.environ['BENCH_DIRECTORY_ID'])).body\n"
        "print(body.scimserver_credentials[0].credential_id)\n"),
    "python": "pass\n",
}

PLAY = """\
- name: One no-op task
  hosts: localhost
  gather_facts: false
  tasks:
    - name: The directory has a credential (no change)
      {module}:
        directory_id: "{{{{ directory_id }}}}"
{extra}      register: bench_result
      failed_when: bench_result is failed or bench_result is changed
"""

WRAPPER = """#!{python}
# Interpreter wrapper: runs the module's Python, then records its wall time and peak RSS.
import json, os, subprocess, sys, time
started = time.monotonic()
proc = subprocess.Popen([{python!r}] + sys.argv[1:])
_, status, usage = os.wait4(proc.pid, 0)
with open({log!r}, "a") as handle:
    handle.write(json.dumps({{"seconds": time.monotonic() - started, "maxrss_kib": usage.ru_maxrss}}) + "\\n")
sys.exit(os.waitstatus_to_exitcode(status))
"""


# Linux counts the memory a process had before exec (the forked copy of its parent) in its peak RSS, so a child of
# this benchmark (matplotlib and all) would report this process's size. A small launcher forks each measured
# process instead, and reports the child's wall time and peak RSS as wait4 gives them.
LAUNCHER = """\
import json, os, subprocess, sys, time
started = time.monotonic()
proc = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(proc.pid, 0)
with open(sys.argv[1], "w") as handle:
    json.dump({"seconds": time.monotonic() - started, "maxrss_kib": usage.ru_maxrss,
               "rc": os.waitstatus_to_exitcode(status)}, handle)
"""


def spawn(argv, env):
    """(seconds, peak RSS in MiB, stdout) of one process, started by a small launcher (LAUNCHER)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err, \
            tempfile.NamedTemporaryFile("r") as result:
        launcher = subprocess.run([sys.executable, "-S", "-c", LAUNCHER, result.name] + list(argv), env=env,
                                  stdout=out, stderr=err)
        measured = json.load(result) if launcher.returncode == 0 else {"rc": launcher.returncode}
        out.seek(0)
        err.seek(0)
        if measured["rc"] != 0:
            raise SystemExit("%s failed: %s" % (argv[:2], err.read()[-2000:]))
        return measured["seconds"], measured["maxrss_kib"] / 1024.0, out.read().strip()


def seed(emu):
    ak = make_access_key(permissions=["cloudsso:*"])
    directory_id = emu.control.seed({"access_keys": [ak], "directories": [{"region": REGION}]})["directories"][0][
        "directory_id"]
    cred = emu.control.seed({"credentials": [{"directory_id": directory_id}]})["credentials"][0]
    return ak, directory_id, cred["credential_id"]


def process_rounds(emu, ak, directory_id, credential_id, rounds):
    env = dict(os.environ)
    env.update(emulator_env(emu.url, ak), BENCH_COLLECTIONS=COLLECTIONS, BENCH_DIRECTORY_ID=directory_id,
               BENCH_SDK_ENDPOINT="%s/region/%s" % (emu.url.split("//", 1)[1], REGION))
    samples = dict((name, {"seconds": [], "maxrss_mib": []}) for name in PROCESS_CODE)
    for _ in range(rounds):
        for name, code in PROCESS_CODE.items():
            emu.control.reset_calls()
            seconds, rss, out = spawn([sys.executable, "-c", code], env)
            if name != "python":
                assert out == credential_id, (name, out)
                assert emu.control.calls()["counts"] == {LIST_CALL: 1}, (name, emu.control.calls()["counts"])
            samples[name]["seconds"].append(seconds)
            samples[name]["maxrss_mib"].append(rss)
    return samples


def playbook_rounds(emu, ak, directory_id, rounds, work):
    runner = PlaybookRunner(os.path.join(work, "run"), emu, ak)
    rss_log = os.path.join(work, "module-rss.jsonl")
    wrapper = os.path.join(work, "python-wrapper")
    with open(wrapper, "w") as handle:
        handle.write(WRAPPER.format(python=sys.executable, log=rss_log))
    os.chmod(wrapper, 0o755)
    inventory = os.path.join(work, "inventory.ini")
    with open(inventory, "w") as handle:
        handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % wrapper)
    plays = {
        "ours": PLAY.format(module="alicloud.cloudsso.scim_credential", extra=""),
        "sdk": PLAY.format(module="sdk_scim_credential", extra='        endpoint: "%s/region/%s"\n' % (
            emu.url.split("//", 1)[1], REGION)),
    }
    paths = {}
    for name, text in plays.items():
        paths[name] = os.path.join(work, "play-%s.yml" % name)
        with open(paths[name], "w") as handle:
            handle.write(text)
    samples = dict((name, {"seconds": [], "task_seconds": [], "module_seconds": [], "module_maxrss_mib": []})
                   for name in plays)
    timing = os.path.join(work, "timing.json")
    for _ in range(rounds):
        for name, path in paths.items():
            emu.control.reset_calls()
            if os.path.exists(rss_log):
                os.remove(rss_log)
            run = runner.playbook(path, {"directory_id": directory_id}, inventory=inventory, verbosity=0,
                                  env=dict(timing_env(timing), ANSIBLE_LIBRARY=LIBRARY))
            assert emu.control.calls()["counts"] == {LIST_CALL: 1}, (name, emu.control.calls()["counts"])
            with open(rss_log) as handle:
                module = [json.loads(line) for line in handle]
            assert len(module) == 1, module
            task = [t for t in load_timing(timing)["tasks"] if t["name"] == "The directory has a credential (no change)"]
            samples[name]["seconds"].append(run.elapsed)
            samples[name]["task_seconds"].append(task[0]["end"] - task[0]["start"])
            samples[name]["module_seconds"].append(module[0]["seconds"])
            samples[name]["module_maxrss_mib"].append(module[0]["maxrss_kib"] / 1024.0)
    return samples


def summarize(samples):
    out = {}
    for name, series in samples.items():
        out[name] = dict((key, round(median(values), 4)) for key, values in series.items())
    return out


def ratios(summary, keys):
    return dict((k, round(summary["ours"][k] / summary["sdk"][k], 3)) for k in keys)


def markdown(report):
    p, b = report["process"]["median"], report["playbook"]["median"]
    rows = [("python -c pass (floor)", "%.0f" % (p["python"]["seconds"] * 1000), "%.1f" % p["python"]["maxrss_mib"],
             "-")]
    for name, label in (("ours", "collection client"), ("sdk", "official SDK")):
        rows.append((label, "%.0f" % (p[name]["seconds"] * 1000), "%.1f" % p[name]["maxrss_mib"], ""))
    r = report["process"]["ratio"]
    rows.append(("ratio ours / SDK", "%.2f" % r["seconds"], "%.2f" % r["maxrss_mib"], ""))
    first = markdown_table(["process: import + 1 List call", "median wall (ms)", "median peak RSS (MiB)", ""],
                           [row[:3] + ("",) for row in rows])
    rows = []
    for name, label in (("ours", "alicloud.cloudsso.scim_credential"), ("sdk", "SDK-based stand-in")):
        s = b[name]
        rows.append((label, "%.2f" % s["seconds"], "%.0f" % (s["task_seconds"] * 1000),
                     "%.0f" % (s["module_seconds"] * 1000), "%.1f" % s["module_maxrss_mib"]))
    r = report["playbook"]["ratio"]
    rows.append(("ratio ours / SDK", "%.2f" % r["seconds"], "%.2f" % r["task_seconds"], "%.2f" % r["module_seconds"],
                 "%.2f" % r["module_maxrss_mib"]))
    second = markdown_table(["ansible-playbook, one no-op task", "median run (s)", "median task (ms)",
                             "median module process (ms)", "median module peak RSS (MiB)"], rows)
    return first + "\n\n" + second


def plot(report, path):
    pyplot = plt()
    fig, axes = pyplot.subplots(1, 2, figsize=(8, 3))
    p, b = report["process"]["median"], report["playbook"]["median"]
    labels = ["process\n(import+List)", "module process\n(ansible task)"]
    for ax, (key_p, key_b, title) in zip(axes, (("seconds", "module_seconds", "wall time (ms)"),
                                                 ("maxrss_mib", "module_maxrss_mib", "peak RSS (MiB)"))):
        scale = 1000 if "seconds" in key_p else 1
        ours = [p["ours"][key_p] * scale, b["ours"][key_b] * scale]
        sdk = [p["sdk"][key_p] * scale, b["sdk"][key_b] * scale]
        xs = range(len(labels))
        ax.bar([x - 0.2 for x in xs], ours, 0.4, label="collection")
        ax.bar([x + 0.2 for x in xs], sdk, 0.4, label="official SDK")
        ax.set_xticks(list(xs))
        ax.set_xticklabels(labels)
        ax.set_title(title)
    axes[0].legend()
    return save_plot(fig, path)


def main(argv=None):
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="process runs of each kind (alternated)")
    parser.add_argument("--playbook-rounds", type=int, default=10, help="ansible-playbook runs of each kind")
    args = parser.parse_args(argv)
    if args.smoke:
        args.rounds, args.playbook_rounds = 1, 1
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="module-cost-") as work, EmulatorProcess() as emu:
        ak, directory_id, credential_id = seed(emu)
        process = process_rounds(emu, ak, directory_id, credential_id, args.rounds)
        playbook = playbook_rounds(emu, ak, directory_id, args.playbook_rounds, work)
    report = dict(machine=machine(), args=vars(args), when=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                  load_before=load_before, load_after=load_average(),
                  process=dict(samples=process, median=summarize(process)),
                  playbook=dict(samples=playbook, median=summarize(playbook)))
    report["process"]["ratio"] = ratios(report["process"]["median"], ("seconds", "maxrss_mib"))
    report["playbook"]["ratio"] = ratios(report["playbook"]["median"],
                                         ("seconds", "task_seconds", "module_seconds", "module_maxrss_mib"))
    report["markdown"] = markdown(report)
    write_json(os.path.join(args.out, "module_cost.json"), report)
    plot(report, os.path.join(args.out, "module_cost.png"))
    print(report["markdown"])
    return report


if __name__ == "__main__":
    main()
