"""Process lifecycle (state file, kill -9, restart, parent death, idle timeout, signals), faults, clock,
call counting."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from alibabacloud_cloudsso20210515 import models as sso

from tests.helpers.emulator import REPO_ROOT, EmulatorProcess, http_request, make_access_key


def _create(world):
    return world.sso().create_scimserver_credential(
        sso.CreateSCIMServerCredentialRequest(directory_id=world.directory_id)).body.scimserver_credential


def _list(world):
    return world.sso().list_scimserver_credentials(
        sso.ListSCIMServerCredentialsRequest(directory_id=world.directory_id)).body


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie child of ours still answers kill(pid, 0)
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


# ---------------------------------------------------------------- persistence


def test_state_file_survives_kill_9_and_restart(tmp_path, make_world):
    state = tmp_path / "emu.json"
    with EmulatorProcess(state_file=str(state)) as emu:
        ak = make_access_key()
        seeded = emu.control.seed({"access_keys": [ak], "directories": [{"account_id": ak["account_id"]}],
                                   "roles": [{"name": "R", "account_id": ak["account_id"], "permissions": ["*"]}]})
        world = make_world(emu, seeded, ak)
        emu.control.config(scim_event_location="requestParameters")
        emu.control.clock(advance_seconds=3600)
        disabled = emu.control.seed({"credentials": [{"directory_id": world.directory_id,
                                                      "status": "Disabled"}]})["credentials"][0]
        cred = _create(world)  # the write call right before the crash
        emu.kill()
        assert emu.proc.returncode == -signal.SIGKILL

        emu.restart()
        world.host = emu.url.split("//", 1)[1]
        listed = {c.credential_id: c.status for c in _list(world).scimserver_credentials}
        assert listed == {cred.credential_id: "Enabled", disabled["credential_id"]: "Disabled"}
        assert world.scim("/Users", cred.credential_secret)[0] == 200
        assert world.scim("/Users", disabled["secret"])[0] == 401
        assert emu.control.config()["scim_event_location"] == "requestParameters"
        assert emu.control.clock()["offset_seconds"] >= 3599
        events = emu.control.events(account_id=ak["account_id"], limit=1000)["events"]
        names = [e["eventName"] for e in events]
        assert "CreateSCIMServerCredential" in names and "ListSCIMServerCredentials" in names
        scim = {e["requestParameters"]["SCIMCredentialId"]: e.get("errorCode")
                for e in events if e["eventName"] == "ListUsers"}
        assert scim == {cred.credential_id: None, disabled["credential_id"]: "CredentialDisabled"}
        secrets_after = emu.control.secrets()
        assert cred.credential_secret in secrets_after and ak["secret"] in secrets_after

        # the leak list outlives deletes, resets and restarts
        emu.control.reset()
        emu.restart()
        assert cred.credential_secret in emu.control.secrets()
        assert emu.control.state()["directories"] == []


def test_seed_file_applies_only_to_fresh_state(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"directories": [{"directory_id": "d-seedfile0001"}]}))
    state = tmp_path / "state.json"
    with EmulatorProcess(state_file=str(state), extra_args=["--seed", str(seed)]) as emu:
        assert [d["directory_id"] for d in emu.control.state()["directories"]] == ["d-seedfile0001"]
        emu.control.seed({"directories": [{"directory_id": "d-seedfile0002", "account_id": "2222222222222222"}]})
        emu.restart()
        assert sorted(d["directory_id"] for d in emu.control.state()["directories"]) == ["d-seedfile0001",
                                                                                       "d-seedfile0002"]


# ---------------------------------------------------------------- stopping by itself


def test_stops_when_parent_dies(tmp_path):
    launcher = textwrap.dedent("""
        import os, subprocess, sys, time
        p = subprocess.Popen([sys.executable, "-m", "emulator", "--port", "0", "--parent-pid", str(os.getpid())],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = p.stdout.readline()
        print(p.pid, line.strip(), flush=True)
        time.sleep(60)
    """)
    parent = subprocess.Popen([sys.executable, "-c", launcher], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        pid, line = parent.stdout.readline().split(" ", 1)
        pid = int(pid)
        assert line.startswith("EMULATOR_URL=http://127.0.0.1:")
        assert http_request(line.split("=", 1)[1].strip() + "/_emulator/health")[0] == 200
        parent.kill()
        parent.wait(5)
        deadline = time.monotonic() + 5
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _pid_alive(pid)
    finally:
        parent.kill()


def test_idle_timeout_and_activity(tmp_path):
    emu = EmulatorProcess(extra_args=["--idle-timeout", "1.5"]).start()
    try:
        for _ in range(4):  # requests keep it alive
            time.sleep(0.5)
            emu.control.health()
        assert emu.proc.poll() is None
        assert emu.wait_exit(5) == 0
        assert "idle" in emu.stderr()
    finally:
        emu.stop()


def test_sigterm_stops_cleanly_and_logs_no_secrets(tmp_path, make_world):
    emu = EmulatorProcess().start()
    ak = make_access_key()
    seeded = emu.control.seed({"access_keys": [ak], "directories": [{}],
                               "credentials": []})
    world = make_world(emu, seeded, ak)
    secret = _create(world).credential_secret
    world.sso(signature_algorithm="v2").list_scimserver_credentials(
        sso.ListSCIMServerCredentialsRequest(directory_id=world.directory_id))
    world.scim("/Users", secret)
    emu.proc.send_signal(signal.SIGTERM)
    assert emu.wait_exit(5) == 0
    log = emu.stderr()
    assert "CreateSCIMServerCredential" in log and "status=200" in log and "SIGTERM" in log
    for value in (secret, ak["secret"], "Signature=", "Authorization", "Bearer"):
        assert value not in log


# ---------------------------------------------------------------- faults


def test_drop_after_apply_really_applies(world):
    world.control.add_fault(match="cloudsso:CreateSCIMServerCredential", kind="drop_after_apply")
    with pytest.raises(Exception) as info:
        _create(world)
    assert "ClientException" not in type(info.value).__name__
    assert _list(world).total_counts == 1  # the write happened; its secret is lost
    log = world.control.calls()["log"]
    assert [e["fault"] for e in log if e["action"] == "CreateSCIMServerCredential"] == ["drop_after_apply"]


def test_drop_before_apply_does_not_apply(world):
    world.control.add_fault(match={"product": "cloudsso", "action": "CreateSCIMServerCredential"},
                            kind="drop_before_apply")
    with pytest.raises(Exception):
        _create(world)
    assert _list(world).total_counts == 0
    assert _create(world).credential_id  # count=1: the next call goes through


def test_count_and_after(world):
    world.control.add_fault(match="cloudsso:ListSCIMServerCredentials", kind="error", status=500,
                            code="InternalError", count=2, after=1)
    outcomes = []
    for _ in range(4):
        try:
            _list(world)
            outcomes.append("ok")
        except Exception as exc:  # noqa: BLE001
            outcomes.append(getattr(exc, "code", type(exc).__name__))
    assert outcomes == ["ok", "InternalError", "InternalError", "ok"]
    rule = world.control.faults()[0]
    assert rule["fired"] == 2 and rule["seen"] == 4
    world.control.clear_faults()
    assert world.control.faults() == []


def test_latency_fault(world):
    world.control.add_fault(match="cloudsso:*", kind="latency", seconds=0.6)
    t0 = time.monotonic()
    _list(world)
    assert time.monotonic() - t0 >= 0.6
    t0 = time.monotonic()
    _list(world)
    assert time.monotonic() - t0 < 0.5


def test_scim_and_metadata_faults(world):
    tok = world.control.seed({"credentials": [{"directory_id": world.directory_id}]})["credentials"][0]["secret"]
    world.control.add_fault({"match": {"product": "scim", "method": "GET", "path": "/scim/v2/Users"},
                             "kind": "error", "status": 503, "code": "ServiceUnavailable"})
    status, _, body = world.scim("/Users", tok)
    assert status == 503 and body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert world.scim("/Users", tok)[0] == 200
    world.control.add_fault(match="metadata:/latest/api/token", kind="error", status=500, code="InternalError")
    assert http_request(world.emu.url + "/latest/api/token", "PUT",
                        headers={"X-aliyun-ecs-metadata-token-ttl-seconds": "60"})[0] == 500


def test_bad_fault_rules_rejected(world):
    from tests.helpers.emulator import EmulatorError

    with pytest.raises(EmulatorError) as info:
        world.control.add_fault(kind="explode")
    assert info.value.status == 400
    with pytest.raises(EmulatorError):
        world.control.add_fault(match={"colour": "red"}, kind="error")


# ---------------------------------------------------------------- clock and calls


def test_clock_drives_create_time_and_event_time(world):
    world.control.clock(now="2030-01-02T03:04:05Z")
    assert world.control.clock()["now"].startswith("2030-01-02T03:04")
    cred = _create(world)
    assert cred.create_time.startswith("2030-01-02T03:04") and cred.expire_time.startswith("2031-01-02")
    ev = [e for e in world.control.events(account_id=world.account_id)["events"]
          if e["eventName"] == "CreateSCIMServerCredential"][0]
    assert ev["eventTime"].startswith("2030-01-02T03:04")
    world.control.clock(advance_seconds=86400)
    assert world.control.clock()["now"].startswith("2030-01-03")


def test_calls_counts_log_and_reset(world):
    _list(world)
    _list(world)
    try:
        world.sso().list_scimserver_credentials(sso.ListSCIMServerCredentialsRequest(directory_id="d-000000000000"))
    except Exception:  # noqa: BLE001
        pass
    calls = world.control.calls()
    assert calls["counts"]["cloudsso:ListSCIMServerCredentials"] == 3
    last = calls["log"][-1]
    assert (last["status"], last["error_code"], last["region"]) == (404, "EntityNotExists.Directory", "cn-shanghai")
    assert last["fault"] is None and last["time"].endswith("Z")
    # the counts alone, for pollers: the failed call counts as a call, not as answered
    expected = {"counts": {"cloudsso:ListSCIMServerCredentials": 3},
                "answered": {"cloudsso:ListSCIMServerCredentials": 2}}
    assert world.control.call_counts() == expected
    assert dict((k, calls[k]) for k in expected) == expected
    world.control.reset_calls()
    assert world.control.calls() == {"counts": {}, "answered": {}, "log": []}


def test_call_counts_stay_exact_when_the_log_is_full(monkeypatch):
    from emulator import state as emulator_state

    monkeypatch.setattr(emulator_state, "CALL_LOG_MAX", 3)
    log = emulator_state.CallLog()
    for status in (200, 200, 500, 204, 200):
        log.record({"product": "cloudsso", "action": "ListDirectories", "status": status})
    assert len(log.to_json()["log"]) == 3
    assert log.counts_json() == {"counts": {"cloudsso:ListDirectories": 5}, "answered": {"cloudsso:ListDirectories": 4}}


def test_config_validation(world):
    from tests.helpers.emulator import EmulatorError

    with pytest.raises(EmulatorError):
        world.control.config(scim_event_location="somewhere")
    with pytest.raises(EmulatorError):
        world.control.config(no_such_setting=1)
    assert world.control.config(actiontrail_delay_seconds=120)["actiontrail_delay_seconds"] == 120


def test_unknown_paths_and_control_calls(world):
    assert http_request(world.emu.url + "/nothing/here")[0] == 404
    assert http_request(world.emu.url + "/_emulator/nope")[0] == 404
    status, _, body = http_request(world.emu.url + "/_emulator/seed", "POST", body={"bogus": []})
    assert status == 400 and "bogus" in body["error"]
