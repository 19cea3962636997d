"""The collection run as AWX / Automation Controller runs it: ansible-runner on a private data dir, credentials
injected by the repository's AWX credential types as environment variables, every job event stored.

- test_credential_types_*: awx/credential_types.yml passes the checks AWX makes when a custom credential type
  is created, and renders into the environment variables the collection reads.
- test_rotation_job: AWX_SCALE accounts (default 10; `make awx-scale` runs 50), one directory each, rotated in
  one job with forks 10 and one Alibaba Cloud credential (an automation account's key that may only assume
  roles; each host assumes the role of its own account): all succeed, one report per directory in the job's
  artifacts (set_stats), each account's writes made by its role, nothing of one directory in another host's
  events, and no secret anywhere in the private data dir, except the injected ones in the two files
  ansible-runner needs them in.
- test_expiry_report_and_rotation_at_vvvv: the expiry report fails the job while credentials expire soon
  (the job status a notification sees, the rows in the artifacts), a rotation at -vvvv with the default state
  folder and a HOME unlike the passwd entry's (as in some execution environments) fixes that, the next report
  succeeds.

AWX_RESULT_FILE=<path>: test_rotation_job writes its wall time there (for benchmarks/README.md).
"""

import json
import os
import re

import pytest

from tests.awx.runner_harness import (
    ALICLOUD_TYPE,
    AWX_MASK,
    ENTRA_TYPE,
    AwxJob,
    Credential,
    EntraFleet,
    inject,
    load_credential_types,
    render_injectors,
    validate_credential_type,
)

SCALE = int(os.environ.get("AWX_SCALE", "10"))
FORKS = int(os.environ.get("AWX_FORKS", "10"))
STEPS = ["plan", "create", "probe_new", "configure_idp", "disable_old", "verify", "delete_old"]
# The only files of a job that hold the injected credentials: the job's environment (AWX writes it, and
# deletes the private data dir after the job) and ansible-runner's record of the command and its environment.
ENV_FILES = re.compile(r"^(env/envvars|artifacts/[^/]+/command)$")


def rotation_vars(state_dir=None):
    """The job template's extra vars: no secret, no configured wait beyond the verification poll."""
    extravars = dict(scim_rotation_verify_interval_seconds=1, scim_rotation_verify_timeout_seconds=300,
                     scim_rotation_usage_window="1h")
    if state_dir:
        extravars["scim_rotation_state_dir"] = state_dir
    return extravars


def issued_secrets(emulator, job):
    """Every secret the emulator issued or was seeded with, but for the ones injected into the job."""
    return [s for s in emulator.control.secrets() if s not in job.injected_secrets]


def assert_no_leaks(emulator, job):
    # No secret the emulator issued (SCIM tokens above all) anywhere: files, artifacts, home, runner output.
    assert job.leaks(issued_secrets(emulator, job)) == []
    # The injected credentials only where ansible-runner needs them.
    places = job.leaks(job.injected_secrets)
    assert places and all(ENV_FILES.match(p) for p in places), places
    # The environment AWX stores with the job (job_env) shows masks, not secrets.
    assert not [v for v in job.safe_env.values() if v in job.injected_secrets]


# ------------------------------------------------------------------------------------------ credential types


def test_credential_types_pass_awx_checks_and_inject_what_the_collection_reads():
    types = load_credential_types()
    assert set(types) == {ALICLOUD_TYPE, ENTRA_TYPE}
    for ctype in types.values():
        assert validate_credential_type(ctype) == []
    env, safe_env, secrets = inject([
        Credential(ALICLOUD_TYPE, access_key_id="TESTKEYID0000000000001", access_key_secret="s3cret-of-the-key"),
        Credential(ENTRA_TYPE, tenant_id="11111111-2222-3333-4444-555555555555",
                   client_id="66666666-7777-8888-9999-000000000000", client_secret="s3cret-of-the-app")])
    assert env == {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "TESTKEYID0000000000001", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "s3cret-of-the-key",
        # AWX renders an absent optional input as "": the collection must read an empty variable as unset.
        "ALIBABA_CLOUD_SECURITY_TOKEN": "", "ALIBABA_CLOUD_REGION": "",
        "AZURE_TENANT_ID": "11111111-2222-3333-4444-555555555555",
        "AZURE_CLIENT_ID": "66666666-7777-8888-9999-000000000000", "AZURE_CLIENT_SECRET": "s3cret-of-the-app"}
    assert sorted(secrets) == ["s3cret-of-the-app", "s3cret-of-the-key"]
    assert safe_env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] == safe_env["AZURE_CLIENT_SECRET"] == AWX_MASK
    assert safe_env["ALIBABA_CLOUD_ACCESS_KEY_ID"] == "TESTKEYID0000000000001"


def test_credential_type_checks_can_fail():
    ctype = json.loads(json.dumps(load_credential_types()[ALICLOUD_TYPE]))
    ctype["injectors"]["env"]["ANSIBLE_COLLECTIONS_PATH"] = "/x"
    ctype["injectors"]["env"]["ALIBABA_CLOUD_SECURITY_TOKEN"] = "{{ securty_token }}"
    ctype["inputs"]["required"].append("nope")
    problems = " | ".join(validate_credential_type(ctype))
    assert "ANSIBLE_COLLECTIONS_PATH" in problems and "securty_token" in problems and "nope" in problems
    with pytest.raises(ValueError, match="access_key_secret"):
        render_injectors(load_credential_types()[ALICLOUD_TYPE], {"access_key_id": "x"})


# ------------------------------------------------------------------------------------------ jobs


def test_rotation_job(emulator, tmp_path):
    # Each IdP syncs every SCALE/2 s: about 2 cycles a second for the fleet, whatever its size (one emulator
    # process serves every account's SCIM calls and ActionTrail).
    fleet = EntraFleet(emulator.control, SCALE, idp_interval=max(2, SCALE // 2))
    state_dir = str(tmp_path / "state")
    job = AwxJob(tmp_path / "job", emulator.url, fleet.credentials(), fleet.host_vars(), rotation_vars(state_dir))
    result = job.run("rotate.yml", forks=FORKS)
    if os.environ.get("AWX_RESULT_FILE"):
        with open(os.environ["AWX_RESULT_FILE"], "w") as handle:
            json.dump(dict(directories=SCALE, forks=FORKS, seconds=round(result.elapsed, 1), status=result.status,
                           events=len(result.events)), handle)
    print("AWX job: %d directories, forks %d: %s in %.1f s" % (SCALE, FORKS, result.status, result.elapsed))
    assert result.status == "successful" and result.rc == 0, result.tail()

    # The rotation reports, where AWX keeps them: the stats event's artifact_data (the job's artifacts).
    reports = result.artifact_data["scim_rotation"]
    by_directory = dict((d["directory_id"], d) for d in fleet.directories)
    assert sorted(reports) == sorted(by_directory)
    now = fleet.credentials_now()
    idps = fleet.idp_views()
    new_ids = set()
    for directory_id, report in reports.items():
        d = by_directory[directory_id]
        assert report["directory_id"] == directory_id and report["outcome"] == "rotated", report["message"]
        assert report["old_credential_id"] == d["old_credential_id"]
        assert [s["name"] for s in report["steps"]] == STEPS
        assert report["evidence"]["entra_verified"] and report["evidence"]["actiontrail_conclusive"]
        # What the emulator holds agrees: only the new credential, Enabled, and the IdP syncs with it.
        assert now[directory_id] == {report["new_credential_id"]: "Enabled"}
        idp = idps[d["host"]]
        assert idp["credential_id"] == report["new_credential_id"] and idp["token_state"] == "Enabled"
        assert idp["last_cycle"]["ok"]
        new_ids.add(report["new_credential_id"])
        with open(report["report_path"]) as handle:
            assert json.load(handle)["run_id"] == report["run_id"]
    assert len(new_ids) == SCALE

    # No state crosses between hosts: nothing of another directory in a host's events or report.
    ids = dict((d["host"], {d["directory_id"], d["old_credential_id"], d["service_principal_id"],
                            reports[d["directory_id"]]["new_credential_id"]}) for d in fleet.directories)
    for host, own in ids.items():
        others = set().union(*(v for h, v in ids.items() if h != host))
        events = result.host_events(host)
        assert len(events) > 50
        # ActionTrail is per account: a host's scans see its own directory's SCIM calls only.
        text = json.dumps([e["event_data"] for e in events])
        assert all(i in text for i in own - {d["service_principal_id"] for d in fleet.directories}), host
        assert not [i for i in others if i in text], host
        report_text = json.dumps(reports[next(iter(own & set(by_directory)))])
        assert not [i for i in others if i in report_text], host
    # Each account's own ActionTrail: its directory's writes, made by its role's session, nothing of another account.
    for d in fleet.directories:
        trail = emulator.control.events(account_id=d["account_id"], limit=1000)["events"]
        writes = [e for e in trail
                  if e.get("eventName") in ("CreateSCIMServerCredential", "DeleteSCIMServerCredential")]
        assert [e["requestParameters"]["DirectoryId"] for e in writes] == [d["directory_id"]] * 2, d["host"]
        assert all(e["userIdentity"]["accessKeyId"].startswith("STS.") for e in writes), d["host"]
        assert not [o for o in by_directory if o != d["directory_id"] and o in json.dumps(trail)], d["host"]
    # ...nor in its private folder: each directory's folder holds its own lock, no secret is left behind.
    for directory_id in by_directory:
        assert sorted(os.listdir(os.path.join(state_dir, directory_id))) in ([], ["rotation.lock"])
    assert_no_leaks(emulator, job)


def test_expiry_report_and_rotation_at_vvvv(emulator, tmp_path):
    fleet = EntraFleet(emulator.control, 2, idp_interval=1, prefix="corp")
    # The default state folder (~/.cache/alicloud.cloudsso), with HOME unlike the passwd entry's home, as
    # execution environments may run (ansible-builder's entrypoint handles that case): every file of the run
    # must land below $HOME.
    job = AwxJob(tmp_path / "job", emulator.url, fleet.credentials(region=False), fleet.host_vars(), rotation_vars())
    assert os.path.expanduser("~") != job.home
    old = dict((d["directory_id"], d["old_credential_id"]) for d in fleet.directories)

    # 1. Credentials created 330 days ago expire within 90 days: the report job fails, with the rows to read.
    report = job.run("expiry_report.yml", forks=5, verbosity=4)
    assert report.status == "failed" and report.rc != 0, report.tail()
    rows = dict((r["directory_id"], r) for r in report.artifact_data["expiry_report"])
    assert sorted(rows) == sorted(old)
    for directory_id, row in rows.items():
        assert row["expiring"] == [old[directory_id]]
        assert row["in_use"] == [old[directory_id]] and row["usage_evidence"] == "conclusive"
    assert report.stats_event["event_data"]["failures"]

    # 2. A rotation at -vvvv (the credential's region left empty: the host variables give it).
    rotation = job.run("rotate.yml", forks=5, verbosity=4)
    assert rotation.status == "successful", rotation.tail()
    reports = rotation.artifact_data["scim_rotation"]
    assert sorted(reports) == sorted(old) and all(r["outcome"] == "rotated" for r in reports.values())

    # 3. The next report succeeds and shows the new credentials in use.
    after = job.run("expiry_report.yml", forks=5, verbosity=4)
    assert after.status == "successful", after.tail()
    for row in after.artifact_data["expiry_report"]:
        assert row["expiring"] == []
        assert [c["credential_id"] for c in row["credentials"]] == [reports[row["directory_id"]]["new_credential_id"]]
    for written in reports.values():
        assert written["report_path"].startswith(os.path.join(job.home, ".cache", "alicloud.cloudsso") + os.sep)
        assert os.path.exists(written["report_path"])
    assert_no_leaks(emulator, job)

