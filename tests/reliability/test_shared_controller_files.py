"""A shared controller (issue 13): the files the collection reads and writes, tried as a hostile local user
(uid 65534 through setpriv, as test_bad_input.py does) and as a careless one would.

- The LookupEvents pace file: planted in /tmp by another user (a FIFO, or a file whose lock that user holds),
  it hung every scim_usage_info run of the machine; now it lives in a private per-user folder, and a lock held
  too long (by anyone) is waited for until the module's timeout only, then the run paces itself and warns.
- Token files: `token_file: /proc/self/environ` sent the whole environment (the access key secret included)
  as the bearer token; now any file that is neither a secret file nor one token-shaped line is refused
  before any network call (SCIM probe, Entra token, Entra client assertion), without showing its content.
- A killed create (kill -9 during CreateSCIMServerCredential) or a lost answer followed by a failing List,
  then the same task again: a second credential, one secret lost; now the in-flight marker beside the
  secret file makes the re-run refuse and name the credential to check and delete.
- A FIFO at `secret_file` hung the run; a `secret_file` whose folder is (or links to) a folder others can
  write was followed with a warning; both are now refused before any write.
- ANSIBLE_DEBUG prints every module's arguments and raw result, no_log or not (seen here), so
  `return_secret: true` is refused while it is on.
"""

import concurrent.futures
import hashlib
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import uuid

import pytest

from tests.integration.test_rotation_resume import Served
from tests.reliability.harness import Batch, probe_env, read_probe

OTHER_UID = 65534
AS_ANOTHER_USER = ["setpriv", "--reuid=%d" % OTHER_UID, "--regid=%d" % OTHER_UID, "--clear-groups"]
needs_root = pytest.mark.skipif(not shutil.which("setpriv") or os.geteuid() != 0,
                                reason="needs root and setpriv to act as another user")
# Takes an exclusive flock on a file (created 0644 when missing), says so, and holds it until killed or
# `seconds` passed, so it ends by itself even if the test dies.
HOLD_LOCK = ("import fcntl, os, sys, time\n"
             "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)\n"
             "fcntl.flock(fd, fcntl.LOCK_EX)\n"
             "print('locked', flush=True)\n"
             "time.sleep(float(sys.argv[2]))\n")
FAKE_GUID = "00000000-0000-4000-8000-%012d"


def hold_lock(path, as_another_user=False, seconds=300):
    argv = [sys.executable, "-c", HOLD_LOCK, path, str(seconds)]
    proc = subprocess.Popen((AS_ANOTHER_USER if as_another_user else []) + argv, stdout=subprocess.PIPE)
    assert proc.stdout.readline().strip() == b"locked"
    return proc


def stop(proc):
    proc.kill()
    proc.wait()


def digest(access_key):
    return hashlib.sha256(access_key["id"].encode("utf-8")).hexdigest()[:16]


def old_pace_path(access_key):
    """Where the pace file was before issue 13: a predictable name in the shared temporary folder."""
    return os.path.join(tempfile.gettempdir(), "alicloud-cloudsso-lookupevents-%s.pace" % digest(access_key))


def private(parent, name):
    path = os.path.join(parent, name)
    os.makedirs(path, mode=0o700)
    return path


def usage_batch(cloud, name, runtime_dir, timeout=None):
    """One scim_usage_info case (one LookupEvents call at least) whose XDG_RUNTIME_DIR is `runtime_dir`."""
    directory_id, _ = cloud.directory(credentials=[{}])
    args = {"directory_id": directory_id, "since": "1h"}
    if timeout:
        args["timeout"] = timeout
    batch = Batch(cloud.runner, name)
    batch.add("usage", "scim_usage_info", args, environment={"XDG_RUNTIME_DIR": runtime_dir}, writes={},
              check=lambda case: [] if case.result.get("pages", 0) >= 1 else ["no LookupEvents page read"])
    return batch


# --- 2. the LookupEvents pace file ----------------------------------------------------------------------

@needs_root
@pytest.mark.parametrize("plant", ["fifo", "held lock"])
def test_a_pace_file_planted_by_another_user_does_not_hang_the_run(cloud, tmp_path, plant):
    """Another user creates the pace file's old predictable name first: a FIFO (opening and reading it
    blocked) or a file whose lock that user holds (the blocking flock waited forever). Before the fix
    the run hung (the batch times out); now the pace file is in the user's private folder."""
    planted = old_pace_path(cloud.access_key)
    holder = None
    runtime = private(str(tmp_path), "runtime")
    try:
        if plant == "fifo":
            subprocess.check_call(AS_ANOTHER_USER + ["mkfifo", "-m", "0666", planted])
        else:
            holder = hold_lock(planted, as_another_user=True)
        batch = usage_batch(cloud, "pace-" + plant.replace(" ", "-"), runtime)
        batch.run(timeout=120)
        assert not batch.problems(), batch.problems()
        assert batch.cases[0].result.get("warnings") in (None, [])
        st = os.lstat(planted)
        assert st.st_uid == OTHER_UID and stat.S_ISFIFO(st.st_mode) == (plant == "fifo")  # left alone
        folder = os.path.join(runtime, "alicloud-cloudsso")
        pace = os.lstat(os.path.join(folder, "lookupevents-%s.pace" % digest(cloud.access_key)))
        assert stat.S_ISREG(pace.st_mode) and stat.S_IMODE(pace.st_mode) == 0o600 and pace.st_uid == os.geteuid()
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    finally:
        if holder is not None:
            stop(holder)
        if os.path.lexists(planted):
            os.unlink(planted)


def test_a_pace_lock_held_too_long_is_waited_for_until_the_timeout(cloud, tmp_path):
    """A process of the same user holds the pace lock and never lets go (stuck, or SIGSTOPped): the run
    waits for the module's timeout (4 s here), then paces itself and says so. Before the fix the flock
    blocked forever (the lock is held on the old path too)."""
    runtime = private(str(tmp_path), "runtime")
    folder = private(runtime, "alicloud-cloudsso")
    holders = [hold_lock(os.path.join(folder, "lookupevents-%s.pace" % digest(cloud.access_key))),
               hold_lock(old_pace_path(cloud.access_key))]
    try:
        batch = usage_batch(cloud, "pace-stuck", runtime, timeout=4)
        run = batch.run(timeout=120)
    finally:
        for holder in holders:
            stop(holder)
        os.unlink(old_pace_path(cloud.access_key))
    assert not batch.problems(), batch.problems()
    warnings = batch.cases[0].result.get("warnings") or []
    assert any("paced by this process only" in w and "more than 4 seconds" in w for w in warnings), warnings
    assert run.elapsed < 100


# --- 5. token files ----------------------------------------------------------------------------------------

def no_call(case):
    calls = [(e["product"], e["action"]) for e in case.calls["log"]]
    return ["network calls were made: %s" % calls] if calls else []


def test_token_files_that_are_not_tokens_are_refused_before_any_call(cloud, work):
    """/proc/self/environ (the module's environment holds ALIBABA_CLOUD_ACCESS_KEY_SECRET, as AWX injects
    it), a file of several lines and a file with spaces, as the SCIM probe's token_file, as the Entra and
    IDaaS tokens and as the Entra client assertion file. Before the fix each was sent (as a bearer token or as the
    client assertion)."""
    several_lines = os.path.join(work, "notes.txt")
    with open(several_lines, "w") as handle:
        handle.write("first-line\nsecond-line\n")
    spaces = os.path.join(work, "spaces.txt")
    with open(spaces, "w") as handle:
        handle.write("Bearer not a token\n")
    assertion = os.path.join(work, "assertion.jwt")
    with open(assertion, "w") as handle:
        handle.write("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJl\n")
    entra = {"tenant_id": FAKE_GUID % 1, "client_id": FAKE_GUID % 2, "service_principal_id": FAKE_GUID % 3}
    not_used = r"It was not used, and its content is not shown"
    not_a_line = "holds (?:spaces|more than one line|characters that are not printable ASCII)"  # environ: any of them
    batch = Batch(cloud.runner, "token-files")
    for name, path, reason in (("environ", "/proc/self/environ", not_a_line),
                               ("several lines", several_lines, "holds more than one line"),
                               ("spaces", spaces, "holds spaces")):
        batch.add("probe " + name, "scim_token_check", {"token_file": path, "expect": "any"}, expect="failed",
                  msg=r"token file %s %s.*%s" % (re.escape(path), reason, not_used), check=no_call)
    batch.add("entra token environ", "entra_provisioning_token",
              dict(entra, token_file="/proc/self/environ", client_assertion_file=assertion), expect="failed",
              msg=r"token file /proc/self/environ %s.*%s" % (not_a_line, not_used),
              check=no_call)
    batch.add("idaas token environ", "idaas_provisioning_token",
              {"instance_id": "idaas_testinstance1", "application_id": "app_testapplication1",
               "token_file": "/proc/self/environ"}, expect="failed",
              msg=r"token file /proc/self/environ %s.*%s" % (not_a_line, not_used), check=no_call)
    batch.add("entra assertion environ", "entra_provisioning_info",
              dict(entra, client_assertion_file="/proc/self/environ"), expect="failed",
              msg=r"client assertion file /proc/self/environ %s.*%s" % (not_a_line, not_used), check=no_call)
    batch.add("entra assertion several lines", "entra_provisioning_info",
              dict(entra, client_assertion_file=several_lines), expect="failed",
              msg=r"client assertion file \S+notes.txt holds more than one line", check=no_call)
    batch.run()
    assert not batch.problems(), batch.problems()
    for case in batch.cases:
        assert "first-line" not in case.message and "ALIBABA_CLOUD" not in case.message


# --- 7. secret_file: a FIFO, a folder others can write ---------------------------------------------------

def test_a_fifo_or_an_open_folder_at_secret_file_is_refused_before_any_write(cloud, work, tmp_path):
    """A FIFO at secret_file (and at a token_file) hung the run (the batch timed out); a secret_file whose
    folder links to a folder anyone can write was written there with a warning. Now: refused, no write."""
    directory_id, _ = cloud.directory()
    fifo = os.path.join(work, "fifo.json")
    os.mkfifo(fifo)
    open_folder = str(tmp_path / "open")
    os.mkdir(open_folder)
    os.chmod(open_folder, 0o777)
    link = os.path.join(work, "link")
    os.symlink(open_folder, link)
    batch = Batch(cloud.runner, "secret-file-special")
    untouched = lambda case: [] if not cloud.credentials(directory_id) and not os.listdir(open_folder) else \
        ["something was created"]  # noqa: E731
    batch.add("fifo", "scim_credential", {"directory_id": directory_id, "state": "enabled", "secret_file": fifo},
              expect="failed", msg=r"secret file \S+fifo.json is a FIFO", writes={}, check=untouched)
    batch.add("fifo token", "scim_token_check", {"token_file": fifo}, expect="failed",
              msg=r"token file \S+fifo.json is a FIFO", check=no_call)
    batch.add("linked open folder", "scim_credential",
              {"directory_id": directory_id, "state": "enabled", "secret_file": os.path.join(link, "new.json")},
              expect="failed", writes={}, check=untouched,
              msg=r"secret file \S+link/new.json cannot be written safely: folder \S+link has mode 0777: others can "
                  r"write in it.* \(a symbolic link to %s\)" % re.escape(open_folder))
    batch.add("open folder", "scim_credential",
              {"directory_id": directory_id, "state": "enabled", "secret_file": os.path.join(open_folder, "new.json")},
              expect="failed", writes={}, check=untouched, msg=r"cannot be written safely: folder \S+ has mode 0777")
    batch.run(timeout=120)
    assert not batch.problems(), batch.problems()
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


# --- 6. a create that did not finish ---------------------------------------------------------------------

def test_a_lost_create_answer_then_a_failing_list_is_not_repeated(cloud, work):
    """Create applied but its answer lost, and the List that should find it fails too; then the same task
    again. Before the fix the second run created another credential (two credentials, one secret lost)."""
    directory_id, _ = cloud.directory()
    secret_file = os.path.join(work, "new.json")
    cloud.runner.allow_secret_file(secret_file)
    task = {"directory_id": directory_id, "state": "enabled", "secret_file": secret_file, "max_retries": 1}
    batch = Batch(cloud.runner, "inflight-lost")
    batch.add("lost answer, failing list", "scim_credential", task, expect="failed",
              faults=[{"match": "cloudsso:CreateSCIMServerCredential", "kind": "drop_after_apply"},
                      {"match": "cloudsso:ListSCIMServerCredentials", "kind": "error", "status": 503,
                       "code": "ServiceUnavailable", "message": "unavailable", "after": 1, "count": None}],
              msg=r"listing the credentials to check whether it was applied failed too",
              writes={"cloudsso:CreateSCIMServerCredential": 1})
    again = batch.add("the same task again", "scim_credential", task, expect="failed", writes={},
                      msg=r"did not finish .*in-flight marker \S+new.json.inflight\). Since then scimcred-\w+ "
                          r"\(Enabled, created \S+\) appeared.*state=absent, credential_id=scimcred-\w+, force=true")
    batch.run()
    assert not batch.problems(), batch.problems()
    (orphan,) = cloud.credentials(directory_id)
    assert again.result["unaccounted_credential_ids"] == [orphan] and orphan in again.message
    assert not os.path.exists(secret_file) and os.path.exists(secret_file + ".inflight")

    # The way out the message gives: delete it, then run the task again.
    after = Batch(cloud.runner, "inflight-resolved")
    after.add("delete the orphan", "scim_credential",
              {"directory_id": directory_id, "credential_id": orphan, "state": "absent", "force": True},
              writes={"cloudsso:DeleteSCIMServerCredential": 1})
    after.add("the same task once more", "scim_credential", task, writes={"cloudsso:CreateSCIMServerCredential": 1})
    after.run()
    assert not after.problems(), after.problems()
    with open(secret_file) as handle:
        assert list(cloud.credentials(directory_id)) == [json.load(handle)["credential_id"]]
    assert not os.path.exists(secret_file + ".inflight")


def module_processes(tag, module):
    """PIDs of the processes running `module` for the run whose environment holds REL_KILL_TAG=`tag`."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % pid, "rb") as handle:
                environ = handle.read().split(b"\0")
            with open("/proc/%s/cmdline" % pid, "rb") as handle:
                command = handle.read()
        except OSError:
            continue
        if ("REL_KILL_TAG=" + tag).encode("ascii") in environ and module.encode("ascii") in command:
            found.append(int(pid))
    return found


def test_a_create_killed_in_flight_is_not_repeated(cloud, work):
    """The module process SIGKILLed while CreateSCIMServerCredential is in flight (the server applies it a
    moment later). The same task again: before the fix, a second credential; now a refusal that names the
    credential whose secret is lost."""
    directory_id, _ = cloud.directory()
    secret_file = os.path.join(work, "killed.json")
    cloud.runner.allow_secret_file(secret_file)
    playbook = os.path.join(cloud.runner.work, "killed-create.yml")
    with open(playbook, "w") as handle:
        json.dump([{"name": "create", "hosts": "localhost", "gather_facts": False, "tasks": [
            {"name": "Create the credential", "alicloud.cloudsso.scim_credential": {
                "directory_id": directory_id, "state": "enabled", "secret_file": secret_file}}]}], handle)
    cloud.control.add_fault(match="cloudsso:CreateSCIMServerCredential", kind="latency", seconds=4)
    listed = Served(cloud.control, "cloudsso:ListSCIMServerCredentials")
    tag = uuid.uuid4().hex
    killed = []
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        future = pool.submit(cloud.runner.playbook, playbook, expect_rc=None, env={"REL_KILL_TAG": tag})
        answered = None
        while not killed and not future.done():
            if answered is None and listed():
                answered = time.monotonic()
            if answered is not None and time.monotonic() - answered >= 1.0:  # the Create waits for its answer
                killed = module_processes(tag, "AnsiballZ_scim_credential")
                for pid in killed:
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)
        run = future.result()
    assert killed and run.rc == 2 and not os.path.exists(secret_file), run.tail()
    deadline = time.monotonic() + 20
    while not cloud.credentials(directory_id) and time.monotonic() < deadline:
        time.sleep(0.2)
    cloud.control.clear_faults()
    (orphan,) = cloud.credentials(directory_id)  # applied after the kill; its secret is lost

    out = os.path.join(cloud.runner.work, "probe-killed-again.jsonl")
    again = cloud.runner.playbook(playbook, expect_rc=2, env=probe_env(out))
    (record,) = [r for r in read_probe(out) if r["task"] == "Create the credential"]
    assert record["status"] == "failed" and record["result"]["unaccounted_credential_ids"] == [orphan]
    assert "did not finish" in record["result"]["msg"] and orphan in again.output
    assert list(cloud.credentials(directory_id)) == [orphan] and not os.path.exists(secret_file)


# --- 10. ANSIBLE_DEBUG ----------------------------------------------------------------------------------

def test_ansible_debug_prints_arguments_and_results_so_return_secret_is_refused(cloud):
    """What ansible-core 2.19 prints under ANSIBLE_DEBUG, seen here: every module's arguments, no_log ones
    included ("done with _execute_module (<module>, {...})"), and its raw output ("_low_level_execute_command()
    done: rc=..., stdout=..."), before no_log censors the result. Before the fix, return_secret: true printed
    the new secret (the runner's leak scan failed); now it is refused before any write."""
    directory_id, _ = cloud.directory()
    not_a_secret = "NotASecret-but-in-a-no_log-option-0123456789"
    batch = Batch(cloud.runner, "ansible-debug")
    batch.add("return_secret", "scim_credential", {"directory_id": directory_id, "state": "present",
                                                   "return_secret": True},
              keywords={"no_log": True}, expect="failed", writes={})
    batch.add("no_log option", "scim_token_check", {"token": not_a_secret, "expect": "rejected"})
    run = batch.run(verbosity=1, env={"ANSIBLE_DEBUG": "1"})
    assert not batch.problems(), batch.problems()
    assert cloud.credentials(directory_id) == {}
    output = run.output
    # The raw module output is printed although the task has no_log: true.
    assert re.search(r"_low_level_execute_command\(\) done: rc=1, stdout=\s*\{[^\n]*return_secret=true is refused "
                     r"while ANSIBLE_DEBUG is on", output)
    assert re.search(r"done with _execute_module \(alicloud\.cloudsso\.scim_token_check, \{.*'token': '%s'"
                     % not_a_secret, output)
    # The module's own output masks its no_log options; the line above does not.
    assert re.search(r"_low_level_execute_command\(\) done: rc=0, stdout=\s*\{[^\n]*\"authenticated\": false[^\n]*"
                     r"\"token\": \"VALUE_SPECIFIED_IN_NO_LOG_PARAMETER\"", output)
