"""Helpers of the reliability suite (no tests here): batches of module cases run in one ansible-playbook,
the probe callback that records every result and can hold a run at a task, rotation worlds (directories
whose token a simulated identity provider holds) rotated with playbooks/rotate.yml, and the session's leak
sweep.

Everything goes through tests/helpers: PlaybookRunner runs ansible-playbook (-vvvv, ANSIBLE_LOG_PATH) and
leak-scans each run; EmulatorControl drives the emulator. This file adds only what the reliability tests
need on top.
"""

import concurrent.futures
import json
import os
import re
import socket
import time
from datetime import datetime, timedelta, timezone


from tests.helpers.ansible import REGION, ROOT, PlaybookRunner, target_python
from tests.helpers.leaks import find_leaks, read_tree

HERE = os.path.dirname(os.path.abspath(__file__))
PLUGINS = os.path.join(HERE, "plugins")
ROTATE = os.path.join(ROOT, "playbooks", "rotate.yml")
FULL = os.environ.get("RELIABILITY_FULL", "") not in ("", "0", "false", "no")
WRITE_ACTIONS = ("CreateSCIMServerCredential", "UpdateSCIMServerCredentialStatus", "DeleteSCIMServerCredential",
                 "SetSCIMSynchronizationStatus", "SetApplicationProvisioningConfig", "putSecrets", "start",
                 "restart", "pause", "provisionOnDemand")


def iso(moment):
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def days_ago(days):
    return iso(datetime.now(timezone.utc) - timedelta(days=days))


def closed_port():
    """A local TCP port nothing listens on (bound, then closed): "connection refused"."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def write_calls(calls):
    """{"product:action": n} of the write calls in a /_emulator/calls answer (drops included)."""
    out = {}
    for entry in calls["log"]:
        if entry["action"] in WRITE_ACTIONS:
            key = "%s:%s" % (entry["product"], entry["action"])
            out[key] = out.get(key, 0) + 1
    return out


# --- the probe callback --------------------------------------------------------------------------------

def probe_env(out, barrier=None):
    """Environment that enables the test-only callback (records every result in `out`; holds the run at
    `barrier`, a Barrier) and the test-only action plugin."""
    env = dict(
        ANSIBLE_CALLBACK_PLUGINS=os.path.join(PLUGINS, "callback"),
        ANSIBLE_ACTION_PLUGINS=os.path.join(PLUGINS, "action"),
        ANSIBLE_CALLBACKS_ENABLED="reliability_probe",
        RELIABILITY_PROBE_OUT=out,
    )
    if barrier is not None:
        env.update(barrier.env())
    return env


def read_probe(path):
    if not os.path.exists(path):
        return []
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


class Barrier(object):
    """The probe callback's hold point: wait until the run reaches it, then release it."""

    def __init__(self, folder, task):
        self.folder = folder
        self.task = task
        os.makedirs(folder, exist_ok=True)

    def env(self):
        return dict(RELIABILITY_BARRIER_TASK=self.task, RELIABILITY_BARRIER_DIR=self.folder)

    def wait_reached(self, timeout=300, alive=None):
        deadline = time.monotonic() + timeout
        while not os.path.exists(os.path.join(self.folder, "reached")):
            if time.monotonic() > deadline or (alive is not None and not alive()):
                raise AssertionError("the run never reached the task %r" % self.task)
            time.sleep(0.05)

    def release(self):
        open(os.path.join(self.folder, "release"), "w").close()


# --- batches: many module cases in one ansible-playbook run --------------------------------------------

class Case(object):
    """One module task, with the emulator arranged before it and observed after it."""

    def __init__(self, case_id, module, args, faults=(), before=(), environment=None, expect="ok", msg=None,
                 writes=None, check=None, settle=None, keywords=None):
        self.id = case_id
        self.module = module if "." in module else "alicloud.cloudsso." + module
        self.args = args
        self.faults = list(faults)
        self.before = list(before)            # more control requests: {method, name, body}
        self.environment = environment or {}  # endpoints only: never a secret
        self.keywords = keywords or {}        # more task keywords (check_mode, vars)
        self.expect = expect                  # "ok" or "failed"
        self.msg = msg                        # regex the message must match (failures)
        self.writes = writes                  # {"product:action": n} expected write calls, or None
        self.check = check                    # callable(case) -> list of problems
        # Seconds to wait before reading the call log: a request held by a latency fault is logged when it
        # ends, after the module timed out and moved on.
        latency = sum(f.get("seconds", 0) for f in self.faults if f.get("kind") == "latency")
        self.settle = settle if settle is not None else (
            max(0.0, latency - float(args.get("timeout") or 0)) + 0.5 if latency else 0.0)
        self.status = None
        self.result = None
        self.calls = None

    @property
    def failed(self):
        return self.status in ("failed", "ignored")

    @property
    def message(self):
        return (self.result or {}).get("msg") or ""


class Batch(object):
    """Writes one playbook for many cases, runs it, and hands each case its result and call log."""

    def __init__(self, runner, name):
        self.runner = runner
        self.name = name
        self.cases = []

    def add(self, *args, **kwargs):
        case = Case(*args, **kwargs)
        self.cases.append(case)
        return case

    def playbook(self, url):
        tasks = []
        for case in self.cases:
            arrange = [{"method": "DELETE", "name": "faults"}, {"method": "POST", "name": "calls/reset"}]
            arrange += case.before
            if case.faults:
                arrange.append({"method": "POST", "name": "faults", "body": {"rules": case.faults}})
            act = {"name": "case %s: act" % case.id, case.module: case.args, "ignore_errors": True}
            if case.environment:
                act["environment"] = case.environment
            act.update(case.keywords)
            tasks += [
                {"name": "case %s: arrange" % case.id, "emulator_control": {"url": url, "requests": arrange}},
                act,
                {"name": "case %s: observe" % case.id, "emulator_control": {"url": url, "settle": case.settle,
                                                                             "requests": [
                    {"method": "GET", "name": "calls"}, {"method": "DELETE", "name": "faults"}]}},
            ]
        return [{"name": "Reliability batch %s" % self.name, "hosts": "localhost", "gather_facts": False,
                 "tasks": tasks}]

    def run(self, verbosity=1, timeout=900, env=None):
        path = os.path.join(self.runner.work, "batch-%s.yml" % self.name)
        out = os.path.join(self.runner.work, "probe-%s.jsonl" % self.name)
        with open(path, "w") as handle:
            json.dump(self.playbook(self.runner.emulator.url), handle, indent=1)
        run_env = probe_env(out)
        run_env.update(env or {})
        run = self.runner.playbook(path, verbosity=verbosity, env=run_env, timeout=timeout)
        by_task = dict((r["task"], r) for r in read_probe(out))
        for case in self.cases:
            record = by_task.get("case %s: act" % case.id)
            case.result = record["result"] if record else None
            case.status = record["status"] if record else None
            observed = by_task.get("case %s: observe" % case.id)
            case.calls = observed["result"]["answers"][0] if observed else None
        return run

    def problems(self):
        """Every way each case differs from what it expects (empty when all hold)."""
        found = []
        for case in self.cases:
            mine = []
            if case.result is None:
                found.append("%s: no result recorded" % case.id)
                continue
            if case.expect == "ok" and case.failed:
                mine.append("failed: %s" % case.message[:400])
            if case.expect == "failed" and not case.failed:
                mine.append("did not fail")
            if case.msg and not re.search(case.msg, case.message, re.S):
                mine.append("message %r does not match %r" % (case.message[:400], case.msg))
            if case.writes is not None:
                got = write_calls(case.calls)
                if got != case.writes:
                    mine.append("write calls %s, expected %s" % (got, case.writes))
            if case.check:
                mine += case.check(case) or []
            found += ["%s: %s" % (case.id, problem) for problem in mine]
        return found


def statuses(case, product, action):
    return [e["status"] for e in case.calls["log"] if e["product"] == product and e["action"] == action]


# --- rotation worlds -----------------------------------------------------------------------------------

# The custom identity provider's task files: the emulator's simulated IdP takes the token from the file
# (Ansible never holds it), and runs a synchronization cycle on demand. They call the emulator through the
# emulator_control action plugin, on the controller: a `uri` task would cost a module run (half a CPU-second).
PASTE = """---
- name: %s
  ansible.legacy.emulator_control:
    url: "{{ rel_emulator_url }}"
    requests:
      - method: POST
        name: "idps/{{ rel_idp_id }}/token"
        body:
          token_file: "{{ %s }}"
"""
IDP_SET = PASTE % ("Paste the new token into the simulated identity provider", "scim_rotation_new_secret_file")
IDP_RESTORE = PASTE % ("Paste the previous token back into the simulated identity provider",
                       "scim_rotation_previous_secret_path")
IDP_VERIFY = """---
- name: Run a synchronization cycle of the simulated identity provider now
  ansible.legacy.emulator_control:
    url: "{{ rel_emulator_url }}"
    requests:
      - {method: POST, name: "idps/{{ rel_idp_id }}/sync", body: {}}
  register: rel_sync
  failed_when: not (rel_sync.answers[0].cycle.ok | default(false))
"""


class Rotation(object):
    """`count` directories, each with a credential created 330 days ago (so a rotation is due) whose token an
    identity provider of kind `idp` holds: `custom` (a simulated IdP the role's custom tasks paste the token
    into), `idaas` (a simulated IDaaS application) or `entra_id` (one directory only: its client secret
    travels in AZURE_CLIENT_SECRET). The inventory has one host per directory, as AWX would. A directory is an
    account's (one per account): the first is the cloud's, each further one another account's, which its host
    reaches with `scim_rotation_auth` (a role there, assumed with the cloud's key)."""

    def __init__(self, cloud, count=1, idp="custom", name="rotation", runner=None, state_dir=None, host_vars=None,
                 play_vars=None):
        self.cloud = cloud
        self.control = cloud.control
        self.idp = idp
        self.work = os.path.join(cloud.work, name)
        os.makedirs(self.work, exist_ok=True)
        self.runner = runner or cloud.runner
        self.state_dir = state_dir or os.path.join(self.runner.work, "state")
        self.tasks_dir = os.path.join(self.work, "idp-tasks")
        os.makedirs(self.tasks_dir, exist_ok=True)
        for file_name, text in (("set.yml", IDP_SET), ("verify.yml", IDP_VERIFY), ("restore.yml", IDP_RESTORE)):
            with open(os.path.join(self.tasks_dir, file_name), "w") as handle:
                handle.write(text)
        self.directories = []
        self.old = {}
        self.idps = {}
        self.hosts = {}
        self.env = {}
        for _ in range(count):
            self._add_directory(host_vars or {})
        self.play_vars = dict(
            scim_rotation_state_dir=self.state_dir,
            scim_rotation_verify_interval_seconds=1,
            scim_rotation_verify_timeout_seconds=30,
            scim_rotation_usage_window="1h",
        )
        self.play_vars.update(play_vars or {})
        self.inventory = os.path.join(self.work, "inventory.json")
        self.write_inventory()

    def _add_directory(self, extra):
        directory_id, (old,) = self.cloud.directory(credentials=[{"create_time": days_ago(330)}])
        self.directories.append(directory_id)
        self.old[directory_id] = old
        host = dict(
            ansible_connection="local", ansible_python_interpreter=target_python(),
            scim_rotation_directory_id=directory_id, scim_rotation_region=REGION, scim_rotation_idp=self.idp,
            scim_rotation_previous_secret_file=old["secret_file"],
        )
        if self.cloud.auth[directory_id]:
            host["scim_rotation_auth"] = dict(self.cloud.auth[directory_id])
        if self.idp == "custom":
            idp = self.control.call("POST", "idps", {"kind": "manual", "directory_id": directory_id,
                                                     "credential_id": old["credential_id"], "interval": 0})
            host.update(rel_emulator_url=self.cloud.emulator.url, rel_idp_id=idp["idp_id"],
                        scim_rotation_idp_tasks=os.path.join(self.tasks_dir, "set.yml"),
                        scim_rotation_idp_verify_tasks=os.path.join(self.tasks_dir, "verify.yml"),
                        scim_rotation_idp_restore_tasks=os.path.join(self.tasks_dir, "restore.yml"))
        elif self.idp == "idaas":
            # IDaaS synchronizes on its own schedule (here every second): its calls are the evidence.
            idp = self.control.call("POST", "idps", {"kind": "idaas", "directory_id": directory_id,
                                                     "credential_id": old["credential_id"], "interval": 1})
            host.update(scim_rotation_idaas={"instance_id": idp["instance_id"],
                                             "application_id": idp["application_id"]})
        elif self.idp == "entra_id":
            assert not self.directories[:-1], "one Entra directory per world: its client secret is in the env"
            idp = self.control.call("POST", "idps", {"kind": "entra", "directory_id": directory_id,
                                                     "credential_id": old["credential_id"], "interval": 0})
            self.env.update(AZURE_TENANT_ID=idp["tenant_id"], AZURE_CLIENT_ID=idp["client_id"],
                            AZURE_CLIENT_SECRET=idp["client_secret"])
            self.runner.extra_secrets.append(idp["client_secret"])
            host.update(scim_rotation_entra={"service_principal_id": idp["service_principal_id"],
                                             "job_id": idp["job_id"]})
        else:
            raise ValueError(self.idp)
        host.update(extra)
        self.idps[directory_id] = idp["idp_id"]
        self.hosts[directory_id] = host
        # One cycle with the current token, so ActionTrail shows which credential the IdP holds.
        assert self.sync(directory_id)["cycle"]["ok"]

    def write_inventory(self, path=None, **play_vars):
        """Write the inventory (or another one, with more play variables); returns its path."""
        path = path or self.inventory
        with open(path, "w") as handle:
            json.dump({"all": {"hosts": self.hosts, "vars": dict(self.play_vars, **play_vars)}}, handle, indent=1)
        return path

    def follow(self, emulator):
        """The emulator was restarted on another port: control it there, and the custom IdP tasks call it there."""
        self.control = self.cloud.control = emulator.control
        for host in self.hosts.values():
            if "rel_emulator_url" in host:
                host["rel_emulator_url"] = emulator.url
        self.write_inventory()

    def pending_file(self, directory_id):
        return os.path.join(self.state_dir, directory_id, "pending.json")

    def sync(self, directory_id):
        return self.control.call("POST", "idps/%s/sync" % self.idps[directory_id])

    def idp_view(self, directory_id):
        return self.control.call("GET", "idps/%s" % self.idps[directory_id])

    def run(self, expect_rc=0, runner=None, env=None, extra_vars=None, inventory=None, **kwargs):
        run_env = dict(self.env, ANSIBLE_ACTION_PLUGINS=os.path.join(PLUGINS, "action"))  # the custom IdP's tasks
        run_env.update(env or {})
        runner = runner or self.runner
        for directory_id in self.directories:
            runner.allow_secret_file(self.pending_file(directory_id))
        return runner.playbook(ROTATE, extra_vars, inventory=inventory or self.inventory, expect_rc=expect_rc,
                               env=run_env, **kwargs)

    def reports(self, directory_id, state_dir=None):
        """This directory's reports, oldest first."""
        folder = os.path.join(state_dir or self.state_dir, "reports")
        if not os.path.isdir(folder):
            return []
        found = []
        for name in sorted(os.listdir(folder)):
            if name.startswith(directory_id + "-"):
                with open(os.path.join(folder, name)) as handle:
                    found.append(json.load(handle))
        return sorted(found, key=lambda r: (r["started"], r["run_id"]))

    def report(self, directory_id, state_dir=None):
        reports = self.reports(directory_id, state_dir)
        assert reports, "no report for %s" % directory_id
        return reports[-1]

    def invariant_problems(self, directory_id, converged=True):
        """docs/dev/design.md's invariants for one directory, as a list of what is wrong (empty: all hold).

        Always: the IdP holds the token of an Enabled credential; every credential's secret is known (held by
        the IdP or in a secret file), so none is left whose secret is lost. Converged: exactly one credential,
        the one the IdP holds, and it is not the old one; no pending file left.
        """
        problems = []
        creds = self.cloud.credentials(directory_id)
        view = self.idp_view(directory_id)
        if view["token_state"] != "Enabled":
            problems.append("the IdP holds a %s token (%s)" % (view["token_state"], view["credential_id"]))
        known = {view["credential_id"], self.old[directory_id]["credential_id"]}
        pending = self.pending_file(directory_id)
        if os.path.exists(pending):
            with open(pending) as handle:
                known.add(json.load(handle)["credential_id"])
        lost = sorted(set(creds) - known)
        if lost:
            problems.append("credentials whose secret is lost: %s" % lost)
        if converged:
            if list(creds) != [view["credential_id"]]:
                problems.append("credentials %s, expected only the IdP's %s" % (creds, view["credential_id"]))
            if view["credential_id"] == self.old[directory_id]["credential_id"]:
                problems.append("the IdP still holds the old credential")
            if os.path.exists(pending):
                problems.append("the pending secret file is still there")
        return ["%s: %s" % (directory_id, p) for p in problems]


class Held(object):
    """A rotation run in the background, held by the probe callback when the task `task` starts:

        with Held(world, "Disable the old credential", expect_rc=2) as held:
            ...                  # the run waits here: kill the emulator, start another run
            held.release()       # optional: leaving the block releases it and waits for the end
        held.run                 # the PlaybookRunner Run
    """

    def __init__(self, world, task, runner=None, **run_kwargs):
        self.world = world
        self.runner = runner or world.runner
        self.barrier = Barrier(os.path.join(self.runner.work, "barrier-%d" % len(self.runner.runs)), task)
        self.probe = os.path.join(self.runner.work, "probe-held-%d.jsonl" % len(self.runner.runs))
        self.run_kwargs = run_kwargs
        self.run = None

    def __enter__(self):
        self.pool = concurrent.futures.ThreadPoolExecutor(1)
        env = dict(self.run_kwargs.pop("env", None) or {})
        env.update(probe_env(self.probe, self.barrier))
        self.future = self.pool.submit(self.world.run, runner=self.runner, env=env, **self.run_kwargs)
        self.barrier.wait_reached(alive=lambda: not self.future.done())
        return self

    def release(self):
        self.barrier.release()

    def __exit__(self, kind, value, trace):
        self.release()
        try:
            if kind is None:
                self.run = self.future.result()
        finally:
            self.pool.shutdown(wait=True)
        return False


def new_runner(cloud, name, sweep=None):
    """Another PlaybookRunner on the cloud's emulator and key, in its own folder (for runs at the same time)."""
    runner = PlaybookRunner(os.path.join(cloud.work, name), cloud.emulator, cloud.access_key)
    if sweep is not None:
        sweep.track(runner)
    return runner


# --- the session's leak sweep (conftest.py) --------------------------------------------------------------

class LeakSweep(object):
    """Everything the session's tests printed and wrote, scanned again at its end for every secret known by
    then: the runs of every tracked PlaybookRunner (stdout, stderr, log), every file left in their folders
    (secret files excepted), and the request log of every tracked emulator."""

    def __init__(self):
        self.runners = []
        self.emulators = []
        self.secrets = set()
        self.texts = {}

    def track(self, runner):
        self.runners.append(runner)
        return runner

    def track_emulator(self, emu):
        self.emulators.append(emu)

    def collect(self, emu):
        """Keep the secrets and the request log of an emulator that is about to stop (or be killed)."""
        self.secrets.update(emu.control.secrets())
        self.texts["emulator log %d (%s)" % (len(self.texts), emu.url)] = emu.stderr()

    def leaks(self):
        """Where secrets were found (paths and run names; never the secrets)."""
        for emu in self.emulators:
            if emu.proc is not None and emu.proc.poll() is None:
                self.collect(emu)
        texts = dict(self.texts)
        secrets = set(self.secrets)
        for runner in self.runners:
            secrets.update(runner.extra_secrets)
            for index, run in enumerate(runner.runs):
                for name in ("stdout", "stderr", "log"):
                    texts["%s run %d %s" % (runner.work, index, name)] = getattr(run, name)
            texts.update(read_tree(runner.work, skip=runner.secret_paths))
        return sorted(set(where for where, _ in find_leaks(texts, secrets)))
