"""scim_credential, scim_credential_info and scim_token_check through ansible-playbook against the emulator.

The playbooks (test_roles/scim_credential*, -vvvv, ANSIBLE_LOG_PATH) assert results, idempotence, check and
diff mode and call counts themselves; these tests seed the cloud, inject faults and check what only the
emulator can see. Every run is scanned for every secret the emulator issued.
"""

import os

import pytest

from tests.helpers.emulator import make_access_key

OLD = {"create_time": "2026-01-04T08:00:00Z"}


def private_dir(cloud, name):
    path = os.path.join(cloud.work, name)
    os.makedirs(path, mode=0o700)
    return path


def test_lifecycle(cloud):
    directory_id, (old,) = cloud.directory(credentials=[OLD])
    work = private_dir(cloud, "private")
    cloud.runner.allow_secret_file(os.path.join(work, "new.json"))
    cloud.runner.target("scim_credential", dict(
        emulator_url=cloud.emulator.url, directory_id=directory_id, old_id=old["credential_id"],
        old_secret_file=old["secret_file"], work_dir=work))
    # The playbook ends by force-deleting the new credential: nothing is left.
    assert cloud.credentials(directory_id) == {}


def test_bad_input_changes_nothing(cloud):
    directory_id, (old,) = cloud.directory(credentials=[OLD])
    work = private_dir(cloud, "private")
    cloud.control.reset_calls()
    cloud.runner.target("scim_credential_errors", dict(
        emulator_url=cloud.emulator.url, directory_id=directory_id, old_id=old["credential_id"], work_dir=work,
        unknown_directory_id="d-000000000000"))
    assert cloud.write_calls() == {}
    assert cloud.credentials(directory_id) == {old["credential_id"]: "Enabled"}
    assert not [name for name in os.listdir(work) if name.endswith(".json") and name != "link.json"]


def _run_one(cloud, directory_id, work, state="enabled", expect_rc=0, env=None, extra=None):
    """One scim_credential task through a throwaway playbook."""
    play = os.path.join(cloud.work, "one.yml")
    args = dict(directory_id=directory_id, state=state, secret_file=os.path.join(work, "new.json"))
    args.update(extra or {})
    with open(play, "w") as handle:
        handle.write("- name: One task\n  hosts: localhost\n  gather_facts: false\n  tasks:\n"
                     "    - name: Run scim_credential\n      alicloud.cloudsso.scim_credential: %s\n"
                     % __import__("json").dumps(args))
    return cloud.runner.playbook(play, expect_rc=expect_rc, env=env)


@pytest.mark.parametrize("kind", ["drop_after_apply", "latency"])
def test_ambiguous_create_is_listed_not_retried(cloud, kind):
    """The create is applied but its answer is lost: one Create call, the orphan named, no second credential."""
    directory_id, (old,) = cloud.directory(credentials=[OLD])
    work = private_dir(cloud, "private")
    rule = {"match": "cloudsso:CreateSCIMServerCredential", "kind": kind}
    if kind == "latency":
        rule["seconds"] = 3  # past the task's timeout of 2 s: applied after the first look, seen by the second
    cloud.control.add_fault(rule)
    run = _run_one(cloud, directory_id, work, expect_rc=2, extra={"timeout": 2})
    creds = cloud.credentials(directory_id)
    assert len(creds) == 2
    orphan = [cid for cid in creds if cid != old["credential_id"]][0]
    assert "answer was lost" in run.stdout and orphan in run.stdout and "secret is lost" in run.stdout
    assert cloud.control.calls()["counts"]["cloudsso:CreateSCIMServerCredential"] == 1
    assert not os.path.exists(os.path.join(work, "new.json"))


@pytest.mark.parametrize("status,code", [(503, "ServiceUnavailable"), (500, "InternalError")])
def test_server_error_on_create_is_not_retried(cloud, status, code):
    directory_id, (old,) = cloud.directory(credentials=[OLD])
    work = private_dir(cloud, "private")
    cloud.control.add_fault({"match": "cloudsso:CreateSCIMServerCredential", "kind": "error", "status": status,
                             "code": code})
    run = _run_one(cloud, directory_id, work, expect_rc=2)
    assert "show no new one" in run.stdout and "not retried automatically" in run.stdout
    assert cloud.control.calls()["counts"]["cloudsso:CreateSCIMServerCredential"] == 1
    assert cloud.credentials(directory_id) == {old["credential_id"]: "Enabled"}


def test_throttled_create_is_retried(cloud):
    """Throttling means the service did not act, so even a create is retried."""
    directory_id, (old,) = cloud.directory(credentials=[OLD])
    work = private_dir(cloud, "private")
    cloud.runner.allow_secret_file(os.path.join(work, "new.json"))
    cloud.control.add_fault({"match": "cloudsso:CreateSCIMServerCredential", "kind": "error", "status": 400,
                             "code": "Throttling.User", "count": 2})
    _run_one(cloud, directory_id, work)
    assert cloud.control.calls()["counts"]["cloudsso:CreateSCIMServerCredential"] == 3
    assert len(cloud.credentials(directory_id)) == 2
    assert os.stat(os.path.join(work, "new.json")).st_mode & 0o777 == 0o600


def test_idempotent_reads_are_retried_after_server_errors(cloud):
    directory_id, _ = cloud.directory(credentials=[OLD])
    work = private_dir(cloud, "private")
    cloud.runner.allow_secret_file(os.path.join(work, "new.json"))
    cloud.control.add_fault({"match": "cloudsso:ListSCIMServerCredentials", "kind": "error", "status": 503,
                             "code": "ServiceUnavailable", "count": 2})
    _run_one(cloud, directory_id, work)
    assert cloud.control.calls()["counts"]["cloudsso:ListSCIMServerCredentials"] == 3


@pytest.mark.parametrize("case", ["wrong_secret", "unknown_key", "missing_permission"])
def test_bad_credentials_are_explained(cloud, case):
    directory_id, (old,) = cloud.directory(credentials=[OLD])
    work = private_dir(cloud, "private")
    key = dict(cloud.access_key)
    expected = {"wrong_secret": "SignatureDoesNotMatch", "unknown_key": "InvalidAccessKeyId",
                "missing_permission": "cloudsso:CreateSCIMServerCredential"}[case]
    if case == "wrong_secret":
        key["secret"] = "not-the-right-secret-0123456789"
    elif case == "unknown_key":
        key = make_access_key()
    else:
        key = make_access_key(permissions=["cloudsso:ListSCIMServerCredentials"])
        cloud.control.seed({"access_keys": [key]})
    cloud.runner.extra_secrets.append(key["secret"])
    cloud.control.reset_calls()
    run = _run_one(cloud, directory_id, work, expect_rc=2, env={
        "ALIBABA_CLOUD_ACCESS_KEY_ID": key["id"], "ALIBABA_CLOUD_ACCESS_KEY_SECRET": key["secret"]})
    assert expected in run.stdout
    assert cloud.credentials(directory_id) == {old["credential_id"]: "Enabled"}
    assert not os.path.exists(os.path.join(work, "new.json"))
