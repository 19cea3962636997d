"""Benchmark: CloudSSO API calls per scim_credential operation, against the minimum the API allows.

One ansible-playbook run performs each operation (and its idempotent repeat) on one directory of the
emulator; the bench_timing callback reads the emulator's call counts at every task start, so each task's
calls are exact. Minimum: a no-op or a repeat needs the List that proves nothing is to do (1); create,
enable, disable and delete need that List plus the write (2); scim_credential_info returns the credentials and
the directory's SCIM synchronization status (2 reads). The rotation's calls by step are in rotation.py.

    .venv/bin/python benchmarks/api_calls.py [--smoke] [--out DIR]
"""

import os
import tempfile
import time

from common import (
    REGION,
    PlaybookRunner,
    base_parser,
    call_delta,
    load_average,
    load_timing,
    machine,
    markdown_table,
    timing_env,
    write_json,
)
from tests.helpers.emulator import EmulatorProcess, make_access_key

# (task name, module, options, expected changed, minimum calls)
OPERATIONS = [
    ("no-op (present, a credential exists)", "scim_credential", "state: present", False, 1),
    ("create (enabled, secret_file)", "scim_credential", "state: enabled\n        secret_file: \"{{ new_file }}\"",
     True, 2),
    ("create, repeated", "scim_credential", "state: enabled\n        secret_file: \"{{ new_file }}\"", False, 1),
    ("disable", "scim_credential", "credential_id: \"{{ old_id }}\"\n        state: disabled", True, 2),
    ("disable, repeated", "scim_credential", "credential_id: \"{{ old_id }}\"\n        state: disabled", False, 1),
    ("enable", "scim_credential", "credential_id: \"{{ old_id }}\"\n        state: enabled", True, 2),
    ("enable, repeated", "scim_credential", "credential_id: \"{{ old_id }}\"\n        state: enabled", False, 1),
    ("disable again", "scim_credential", "credential_id: \"{{ old_id }}\"\n        state: disabled", True, 2),
    ("delete (a Disabled credential)", "scim_credential", "credential_id: \"{{ old_id }}\"\n        state: absent",
     True, 2),
    ("delete, repeated", "scim_credential", "credential_id: \"{{ old_id }}\"\n        state: absent", False, 1),
    ("scim_credential_info", "scim_credential_info", "", False, 2),
]


SMOKE = ("no-op (present, a credential exists)", "create (enabled, secret_file)", "disable",
         "delete (a Disabled credential)")


def play(operations):
    tasks = []
    for name, module, options, changed, _ in operations:
        tasks.append(
            "    - name: %s\n      alicloud.cloudsso.%s:\n        directory_id: \"{{ directory_id }}\"\n%s"
            "      register: bench_result\n      failed_when: bench_result is failed or bench_result.changed != %s\n"
            % (name, module, ("        " + options + "\n") if options else "", changed))
    return "- name: scim_credential operations\n  hosts: localhost\n  gather_facts: false\n  tasks:\n" + "".join(tasks)


def measure(work, operations):
    with EmulatorProcess() as emu:
        ak = make_access_key(permissions=["cloudsso:*"])
        directory_id = emu.control.seed({"access_keys": [ak], "directories": [{"region": REGION}]})["directories"][0][
            "directory_id"]
        old_id = emu.control.seed({"credentials": [{"directory_id": directory_id}]})["credentials"][0]["credential_id"]
        runner = PlaybookRunner(os.path.join(work, "run"), emu, ak)
        new_file = os.path.join(work, "secrets", "new.json")
        os.makedirs(os.path.dirname(new_file), mode=0o700)
        runner.allow_secret_file(new_file)
        path = os.path.join(work, "operations.yml")
        with open(path, "w") as handle:
            handle.write(play(operations))
        timing = os.path.join(work, "timing.json")
        runner.playbook(path, dict(directory_id=directory_id, old_id=old_id, new_file=new_file), verbosity=0,
                        env=timing_env(timing, emu.url))
    tasks = dict((t["name"], t) for t in load_timing(timing)["tasks"])
    rows = []
    for name, module, _, changed, minimum in operations:
        calls = call_delta(tasks[name])
        rows.append(dict(operation=name, module=module, changed=changed, minimum=minimum,
                         calls=sum(calls.values()), by_action=calls,
                         seconds=round(tasks[name]["end"] - tasks[name]["start"], 2)))
    return rows


def markdown(rows):
    return markdown_table(
        ["operation", "changed", "CloudSSO calls", "minimum", "calls made", "task (s)"],
        [(r["operation"], "yes" if r["changed"] else "no", r["calls"], r["minimum"],
          ", ".join("%s %d" % (k.split(":", 1)[1], v) for k, v in sorted(r["by_action"].items())), r["seconds"])
         for r in rows])


def main(argv=None):
    args = base_parser(__doc__.splitlines()[0]).parse_args(argv)
    operations = [op for op in OPERATIONS if op[0] in SMOKE] if args.smoke else OPERATIONS
    with tempfile.TemporaryDirectory(prefix="api-calls-") as work:
        rows = measure(work, operations)
    report = dict(machine=machine(), load_after=load_average(), when=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), operations=rows,
                  markdown=markdown(rows), above_minimum=[r["operation"] for r in rows if r["calls"] > r["minimum"]])
    write_json(os.path.join(args.out, "api_calls.json"), report)
    print(report["markdown"])
    return report


if __name__ == "__main__":
    main()
