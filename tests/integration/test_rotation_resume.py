"""The rotation role interrupted at each step, and run again: the re-run converges.

ansible-playbook (playbooks/rotate.yml, the role with its defaults, credentials in the environment as AWX
injects them) is killed with SIGKILL, its whole process group at once, the moment the emulator has applied the
step's write (or, for "created", the moment the new secret file exists), as a crash, an OOM kill or a lost
execution node would. Then it runs again, and this test asserts what docs/dev/design.md promises: exactly one Enabled
credential, the identity provider's token resolves to it, the old credential is gone, no credential whose secret
is lost is left, no lock or pending secret file is left, and neither run printed or logged a secret (the
PlaybookRunner leak scan at -vvvv covers the killed run too).

The kill reuses PlaybookRunner whole: only the `subprocess` module it calls is swapped for one whose run()
starts the process in its own session and kills that session when the trigger fires.
"""

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time

import pytest

import tests.helpers.ansible as ansible_helpers
from tests.helpers.ansible import REGION, ROOT

ROTATE = os.path.join(ROOT, "playbooks", "rotate.yml")
DAY = 86400


class KillingSubprocess(object):
    """Stands in for the `subprocess` module inside tests.helpers.ansible: run() starts the command in a new
    session and SIGKILLs the whole session as soon as `trigger()` returns true."""

    def __init__(self, trigger, poll=0.05):
        self.trigger = trigger
        self.poll = poll
        self.fired = False

    def __getattr__(self, name):
        return getattr(subprocess, name)

    def run(self, command, env=None, cwd=None, capture_output=True, text=True, timeout=None):
        proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=text, start_new_session=True)
        streams = {"out": [], "err": []}
        readers = [threading.Thread(target=lambda s=stream, key=key: streams[key].extend(s), daemon=True)
                   for key, stream in (("out", proc.stdout), ("err", proc.stderr))]
        for reader in readers:
            reader.start()
        deadline = time.monotonic() + (timeout or 600)
        while proc.poll() is None and time.monotonic() < deadline:
            if self.trigger():
                os.killpg(proc.pid, signal.SIGKILL)
                self.fired = True
                break
            time.sleep(self.poll)
        proc.wait()
        for reader in readers:
            reader.join(10)
        return subprocess.CompletedProcess(command, proc.returncode, "".join(streams["out"]), "".join(streams["err"]))


class Served(object):
    """A trigger: true once the emulator has answered each of `actions` ("product:action") once more than when
    the trigger was made, in that order (each counted from the moment the previous one was seen)."""

    def __init__(self, control, *actions):
        self.control = control
        self.actions = list(actions)
        self.base = None

    def __call__(self):
        counts = self.control.call_counts()["counts"]
        if self.base is None:
            self.base = counts.get(self.actions[0], 0)
        if counts.get(self.actions[0], 0) <= self.base:
            return False
        self.actions.pop(0)
        if not self.actions:
            return True
        self.base = counts.get(self.actions[0], 0)
        return False


class World(object):
    """A directory whose only credential is 330 days old, and a simulated IdP syncing with it every second."""

    def __init__(self, cloud, kind):
        self.cloud = cloud
        self.control = cloud.control
        self.runner = cloud.runner
        self.kind = kind
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 330 * DAY))
        self.directory_id, (self.old,) = cloud.directory(credentials=[{"create_time": created}])
        self.idp = self.control.call("POST", "idps", {
            "kind": {"entra_id": "entra", "manual": "manual"}[kind], "directory_id": self.directory_id,
            "credential_id": self.old["credential_id"], "interval": 1, "users": 2})
        if kind == "entra_id":
            self.runner.env.update(AZURE_TENANT_ID=self.idp["tenant_id"], AZURE_CLIENT_ID=self.idp["client_id"],
                                   AZURE_CLIENT_SECRET=self.idp["client_secret"])
        # A killed run leaves its module files (AnsiballZ, with the module arguments) in the remote temp
        # folder: keep it in the work folder, which the leak scan reads.
        self.runner.env["ANSIBLE_REMOTE_TMP"] = os.path.join(self.runner.work, "remote-tmp")
        self.state_dir = os.path.join(self.runner.work, "state")
        self.folder = os.path.join(self.state_dir, self.directory_id)
        self.pending = os.path.join(self.folder, "pending.json")
        self.runner.allow_secret_file(self.pending)
        self.runs = 0
        self.last_run = None
        self.wait_idp(lambda view: view["cycles"] > 0 and view["last_cycle"]["ok"])

    def view(self):
        return self.control.call("GET", "idps/" + self.idp["idp_id"])

    def wait_idp(self, ready, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            view = self.view()
            if ready(view):
                return view
            time.sleep(0.2)
        raise AssertionError("the simulated IdP did not get there: %s" % self.view())

    def report_path(self, number):
        return os.path.join(self.runner.work, "reports", "run-%d.json" % number)

    def rotate(self, kill=None, expect_rc=0, check=False):
        """Run playbooks/rotate.yml; with `kill`, SIGKILL it when kill() is true. Returns the report (or None)."""
        self.runs += 1
        extra = dict(scim_rotation_directory_id=self.directory_id, scim_rotation_region=REGION,
                     scim_rotation_idp=self.kind, scim_rotation_state_dir=self.state_dir,
                     scim_rotation_report_path=self.report_path(self.runs), scim_rotation_usage_window="10m",
                     scim_rotation_verify_timeout_seconds=60, scim_rotation_verify_interval_seconds=1)
        if self.kind == "entra_id":
            extra["scim_rotation_entra"] = {"service_principal_id": self.idp["service_principal_id"],
                                            "job_id": self.idp["job_id"]}
        if kill is None:
            self.last_run = self.runner.playbook(ROTATE, extra, expect_rc=expect_rc, check=check)
        else:
            killer = KillingSubprocess(kill)
            saved, ansible_helpers.subprocess = ansible_helpers.subprocess, killer
            try:
                run = self.runner.playbook(ROTATE, extra, expect_rc=None)
            finally:
                ansible_helpers.subprocess = saved
            assert killer.fired and run.rc == -signal.SIGKILL, "the run ended before the kill:\n" + run.tail()
        path = self.report_path(self.runs)
        if not os.path.exists(path):
            return None
        with open(path) as handle:
            return json.load(handle)

    def credentials(self):
        return self.cloud.credentials(self.directory_id)

    def paste_new_token(self):
        """The person of a manual hand-off pastes the pending token. The IdP pauses two seconds first, so that its
        last call with the old token and its first with the new one are not in the same second of ActionTrail."""
        self.control.call("PATCH", "idps/" + self.idp["idp_id"], {"paused": True})
        time.sleep(2)
        self.control.call("POST", "idps/%s/token" % self.idp["idp_id"], {"token_file": self.pending})
        self.control.call("PATCH", "idps/" + self.idp["idp_id"], {"paused": False})
        self.wait_idp(lambda view: view["last_cycle"]["ok"] and view["last_cycle"]["credential_id"] not in
                      (None, self.old["credential_id"]))

    def assert_converged(self, report):
        assert report["outcome"] in ("resumed", "rotated"), report["message"]
        credentials = self.credentials()
        assert list(credentials.values()) == ["Enabled"], credentials
        (new_id,) = credentials
        assert new_id != self.old["credential_id"] and report["new_credential_id"] == new_id
        view = self.wait_idp(lambda v: v["last_cycle"]["ok"] and v["last_cycle"]["credential_id"] == new_id)
        assert view["credential_id"] == new_id and view["token_state"] == "Enabled"
        assert not os.path.exists(self.pending)
        assert not os.path.exists(os.path.join(self.folder, "rotation.lock"))


def pending_file_exists(world):
    return lambda: os.path.exists(world.pending)


# Where the first run is killed, and what the directory looks like right after (proof the kill landed there).
ENTRA_KILLS = {
    "created": (lambda w: pending_file_exists(w),
                lambda w, creds: len(creds) == 2 and set(creds.values()) == {"Enabled"}),
    "saved": (lambda w: Served(w.control, "graph:putSecrets"),
              lambda w, creds: w.view()["credential_id"] != w.old["credential_id"]
              and creds[w.old["credential_id"]] == "Enabled"),
    "disabled": (lambda w: Served(w.control, "cloudsso:UpdateSCIMServerCredentialStatus"),
                 lambda w, creds: creds[w.old["credential_id"]] == "Disabled"),
    "verifying": (lambda w: Served(w.control, "cloudsso:UpdateSCIMServerCredentialStatus", "actiontrail:LookupEvents"),
                  lambda w, creds: creds[w.old["credential_id"]] == "Disabled" and len(creds) == 2),
    "deleted": (lambda w: Served(w.control, "cloudsso:DeleteSCIMServerCredential"),
                lambda w, creds: w.old["credential_id"] not in creds and len(creds) == 1),
}


@pytest.mark.parametrize("step", sorted(ENTRA_KILLS))
def test_entra_rotation_killed_and_run_again(cloud, step):
    world = World(cloud, "entra_id")
    trigger, landed = ENTRA_KILLS[step]
    world.rotate(kill=trigger(world))
    assert landed(world, world.credentials()), world.credentials()
    world.assert_converged(world.rotate())


def test_manual_handoff_killed_after_create(cloud):
    world = World(cloud, "manual")
    world.rotate(kill=pending_file_exists(world))
    (new_id,) = [c for c in world.credentials() if c != world.old["credential_id"]]
    # the re-run finds the credential the killed run created (no second create) and hands it over
    report = world.rotate()
    assert report["outcome"] == "waiting_for_handoff" and report["new_credential_id"] == new_id
    assert world.credentials() == {world.old["credential_id"]: "Enabled", new_id: "Enabled"}
    assert world.view()["credential_id"] == world.old["credential_id"]
    world.paste_new_token()
    world.assert_converged(world.rotate())


@pytest.mark.parametrize("step", ["disabled", "deleted"])
def test_manual_handoff_resume_killed_and_run_again(cloud, step):
    world = World(cloud, "manual")
    assert world.rotate()["outcome"] == "waiting_for_handoff"
    world.paste_new_token()
    trigger, landed = ENTRA_KILLS[step]
    world.rotate(kill=trigger(world))
    assert landed(world, world.credentials()), world.credentials()
    world.assert_converged(world.rotate())


def test_lost_create_answer_leaves_no_credential_without_secret(cloud):
    """CreateSCIMServerCredential applied, its answer lost (connection reset): the module fails naming the new
    credential, whose secret exists nowhere; the rescue deletes it, the play fails, and the next run rotates."""
    world = World(cloud, "entra_id")
    cloud.control.add_fault(match="cloudsso:CreateSCIMServerCredential", kind="drop_after_apply")
    failed = world.rotate(expect_rc=2)
    assert failed["outcome"] == "failed" and failed["failed_step"] == "create"
    orphan = failed["rescue"]["lost_secret_credential_deleted"]
    assert orphan and orphan in failed["message"]
    assert world.credentials() == {world.old["credential_id"]: "Enabled"}
    assert world.view()["credential_id"] == world.old["credential_id"]
    world.assert_converged(world.rotate())


def test_a_run_that_finds_the_lock_held_stops_and_reports(cloud):
    """Another live run holds the directory's lock: this one stops before any change, writes its report, and
    leaves the other run's lock alone."""
    world = World(cloud, "entra_id")
    os.makedirs(world.folder, mode=0o700)
    lock = os.path.join(world.folder, "rotation.lock")
    holder = dict(owner="the-other-run", host=socket.gethostname(), pid=os.getpid(), pid_start=None,
                  acquired_epoch=time.time(), acquired=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    with open(lock, "w") as handle:
        json.dump(holder, handle)
    cloud.control.reset_calls()
    report = world.rotate(expect_rc=2)
    assert report["outcome"] == "stopped" and report["failed_step"] == "lock", report["message"]
    assert "another run holds" in report["message"] and "the-other-run" in report["message"]
    with open(lock) as handle:
        assert json.load(handle)["owner"] == "the-other-run"
    assert cloud.write_calls() == {}
    assert world.credentials() == {world.old["credential_id"]: "Enabled"}


def test_check_mode_on_the_command_line_plans_and_changes_nothing(cloud):
    """ansible-playbook --check (the molecule scenario check_mode covers `check_mode: true` on include_role): the
    plan is printed and handed to set_stats, no write call reaches CloudSSO or Entra ID, and nothing is written on
    disk: no state folder, no lock, no report."""
    world = World(cloud, "entra_id")
    cloud.control.reset_calls()
    assert world.rotate(check=True) is None
    assert "check mode: nothing will change" in world.last_run.stdout
    assert re.search(r"%s: check mode: would rotate .*\(report: not written in check mode: %s\)"
                     % (world.directory_id, re.escape(world.report_path(1))), world.last_run.stdout)
    assert not os.path.exists(world.state_dir) and not os.path.exists(os.path.dirname(world.report_path(1)))
    counts = cloud.control.calls()["counts"]
    assert cloud.write_calls() == {} and not [k for k in counts if k in ("graph:putSecrets", "graph:start")]
    assert world.credentials() == {world.old["credential_id"]: "Enabled"}
    assert not os.path.exists(os.path.join(world.folder, "rotation.lock"))
