"""Unit tests for plugins/module_utils/entra/module.py: failures as messages, the diffs, and the runners of the
three entra_* modules driven with a fake module and a fake Graph session."""

import json
import time

import pytest

from ansible_collections.alicloud.cloudsso.plugins.module_utils.entra import client as gc
from ansible_collections.alicloud.cloudsso.plugins.module_utils.entra import module as em
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import AlibabaCloudError

from tests.helpers.fake_module import FakeModule
from tests.helpers.graph_fakes import SCIM_TOKEN, SP, TENANT, FakeResponse, FakeSession, make_client, token_ok


class Credentials(object):
    """A CloudSSO client whose ListSCIMServerCredentials answers `credentials` (or raises them)."""

    def __init__(self, credentials):
        self.credentials = credentials

    def call(self, action, params, idempotent=True):
        assert action == "ListSCIMServerCredentials"
        if isinstance(self.credentials, Exception):
            raise self.credentials
        return {"SCIMServerCredentials": self.credentials}


def entra_module(params=None, credentials=None, **kwargs):
    """A FakeModule with a region and a CloudSSO client only when `credentials` is given."""
    if credentials is None:
        return FakeModule(params, **kwargs)
    return FakeModule(params, client=Credentials(credentials), region="cn-shanghai", **kwargs)


def test_fail_graph_message_and_calls():
    session = FakeSession()
    session.add("POST", "/token", FakeResponse(400, {"error": "invalid_request", "error_description":
                                                     "AADSTS90002: Tenant '%s' not found." % TENANT,
                                                     "error_codes": [90002]}))
    client = make_client(session)
    module = entra_module()
    with pytest.raises(gc.GraphError) as info:
        client.access_token()
    with pytest.raises(SystemExit):
        em.fail_graph(module, info.value, client, job_id="j")
    assert "tenant_id" in module.failed["msg"] and module.failed["error"]["aadsts"] == 90002
    assert "used the client secret" in module.failed["msg"]
    assert module.failed["graph_calls"] == 1 and module.failed["job_id"] == "j"
    assert time.time()  # the clock is untouched


def test_fail_graph_hands_other_errors_to_the_module_base():
    module = entra_module()
    with pytest.raises(SystemExit):
        em.fail_graph(module, AlibabaCloudError("denied", code="NoPermission", status=403), None, job_id="j")
    assert module.failed["msg"] == "explained: NoPermission: denied" and module.failed["job_id"] == "j"


# ------------------------------------------------------------------------------------------ diffs

def test_job_diff():
    assert em.job_diff("Quarantine", "Quarantine", True, True, "started") == dict(
        before=dict(code="Quarantine"), after=dict(code="Active"))
    assert em.job_diff("Quarantine", "Active", True, False, "started")["after"] == dict(code="Active")
    assert em.job_diff("Active", "Active", False, True, "started")["after"] == dict(code="Active")
    assert em.job_diff("Paused", "Paused", False, True, None)["after"] == dict(code="Paused")


def test_token_diff_never_holds_a_token():
    saved = {"BaseAddress": "https://old/v2", "SecretToken": "*", "SyncAll": "true"}
    diff = em.token_diff(saved, "https://new/v2", {"SyncAll": "true"}, False)
    assert diff == dict(
        before=dict(base_address="https://old/v2", settings={"SyncAll": "true"},
                    secret_token="(another or unknown token)"),
        after=dict(base_address="https://new/v2", settings={"SyncAll": "true"}, secret_token="(this token)"))
    unreadable = em.token_diff(None, "https://new/v2", None, True)
    assert unreadable["before"] == dict(base_address="(not readable)", settings="(not readable)",
                                        secret_token="(this token)")
    assert unreadable["after"]["settings"] == {}
    assert em.token_diff(saved, "https://new/v2", {}, False)["after"]["settings"] == {}


# ------------------------------------------------------------------------------------------ runners

JOB = {"id": "customappsso.aaaa.bbbb", "templateId": "customappsso", "status": {"code": "Quarantine"}}
ENTRA = dict(service_principal_id=SP, job_id=None)


def run(runner, module, session, monkeypatch):
    """Run a runner against `session`; returns (exit result or None, failure or None)."""
    client = make_client(session, registered=module.registered)
    monkeypatch.setattr(em, "graph_client_from_module", lambda module: client)
    with pytest.raises(SystemExit):
        runner(module).run()
    return module.exited, module.failed


def test_info_runner_reads_the_job_and_validates_the_saved_token(monkeypatch):
    session = FakeSession()
    session.add("POST", "/token", token_ok())
    session.add("GET", "/synchronization/jobs", FakeResponse(200, {"value": [JOB]}))
    session.add("POST", "/validateCredentials", FakeResponse(204))
    session.add("GET", "/synchronization/secrets", FakeResponse(200, {"value": [
        {"key": "BaseAddress", "value": "https://scim/v2"}, {"key": "SecretToken", "value": "*"}]}))
    result, failed = run(em.EntraInfoRunner, entra_module(dict(ENTRA, validate_saved=True)), session, monkeypatch)
    assert failed is None
    assert result["job"]["code"] == "Quarantine" and result["saved_token_valid"] is True
    assert result["base_address"] == "https://scim/v2" and result["graph_calls"] == 4 and result["changed"] is False


def test_job_runner_in_check_mode_predicts_the_start(monkeypatch):
    session = FakeSession()
    session.add("POST", "/token", token_ok())
    session.add("GET", "/synchronization/jobs", FakeResponse(200, {"value": [JOB]}))
    params = dict(ENTRA, state="started", provision_on_demand=None, wait=True, wait_timeout=900, poll_interval=15)
    module = entra_module(params, check_mode=True, diff_mode=True)
    result, failed = run(em.EntraJobRunner, module, session, monkeypatch)
    assert failed is None and not session.calls("POST", "/start")
    assert result["changed"] is True and result["started"] is False and result["status_before"] == "Quarantine"
    assert result["diff"] == dict(before=dict(code="Quarantine"), after=dict(code="Active"))
    assert "waited_seconds" not in result


def test_job_runner_refuses_a_bad_wait_before_any_call(monkeypatch):
    session = FakeSession()
    params = dict(ENTRA, state=None, provision_on_demand=None, wait=True, wait_timeout=0, poll_interval=15)
    module = entra_module(params)
    monkeypatch.setattr(em, "graph_client_from_module", lambda module: pytest.fail("no client expected"))
    with pytest.raises(SystemExit):
        em.EntraJobRunner(module).run()
    assert module.failed["msg"] == "wait_timeout and poll_interval must be positive numbers of seconds"
    assert not session.requests


def test_job_runner_fails_on_a_canary_skipped_before_the_target_and_a_rejected_saved_token(monkeypatch):
    session = FakeSession()
    session.add("POST", "/token", token_ok())
    session.add("GET", "/synchronization/jobs", FakeResponse(200, {"value": [dict(JOB, status={"code": "Active"})]}))
    skipped = {"key": json.dumps({"result": "Skipped", "details": {"errorCode": "NotEffectivelyEntitled"}}),
               "value": json.dumps({"provisioningSteps": [], "statusInfo": {"status": "Skipped"}})}
    session.add("POST", "/provisionOnDemand", FakeResponse(200, skipped))
    session.add("POST", "/validateCredentials", FakeResponse(400, {"error": {"code": "BadRequest", "message": "401"}}))
    params = dict(ENTRA, state=None, wait=False, wait_timeout=900, poll_interval=15,
                  provision_on_demand=dict(object_id="2b3c4d5e-6f70-4a1b-9c2d-3e4f5a6b7c8d", object_type="User",
                                           rule_id="r1"))
    module = entra_module(params)
    result, failed = run(em.EntraJobRunner, module, session, monkeypatch)
    assert result is None and failed["saved_token_valid"] is False
    assert failed["msg"].startswith("On-demand provisioning of 2b3c4d5e-6f70-4a1b-9c2d-3e4f5a6b7c8d was Skipped "
                                    "(NotEffectivelyEntitled) and Entra ID cannot authenticate with the saved token")
    assert module.warnings and "proves nothing" in module.warnings[0]
    assert failed["graph_calls"] == 4 and failed["job"]["code"] == "Active"


def token_params(**kwargs):
    params = dict(ENTRA, token=SCIM_TOKEN, token_file=None, scim_endpoint=None, validate=True, credential_id=None,
                  directory_id=None, sync_all=None, sync_notification_settings=None)
    params.update(kwargs)
    return params


SAVED = {"value": [{"key": "BaseAddress", "value": "https://scim.example/scim/v2"}, {"key": "SecretToken", "value": "*"},
                   {"key": "SyncAll", "value": "false"}]}


def token_session():
    """Graph with one job that validates every token and returns the saved secrets SAVED."""
    session = FakeSession()
    session.add("POST", "/token", token_ok())
    session.add("GET", "/synchronization/jobs", FakeResponse(200, {"value": [JOB]}))
    session.add("POST", "/validateCredentials", FakeResponse(204))
    session.add("GET", "/synchronization/secrets", FakeResponse(200, SAVED))
    return session


def test_token_runner_saves_a_token_whose_credential_is_not_known(monkeypatch):
    session = token_session()
    session.add("PUT", "/synchronization/secrets", FakeResponse(204))
    module = entra_module(token_params(), diff_mode=True)
    result, failed = run(em.EntraTokenRunner, module, session, monkeypatch)
    assert failed is None
    assert result["changed"] is True and result["saved"] is True and result["already_saved"] is False
    assert result["proof"] == em.UNKNOWN_CREDENTIAL and result["settings"] == {"SyncAll": "false"}
    assert result["candidate_valid"] is True and result["saved_token_valid"] is True
    assert result["diff"]["after"]["secret_token"] == "(this token)" and SCIM_TOKEN not in json.dumps(result)
    assert SCIM_TOKEN in module.registered and len(session.calls("POST", "/validateCredentials")) == 2


def test_token_runner_proves_the_token_already_saved(monkeypatch):
    session = token_session()
    credentials = [{"CredentialId": "scimcred-00000000000000000001", "Status": "Enabled"}]
    module = entra_module(token_params(credential_id="scimcred-00000000000000000001", directory_id="d-00fc2p61abcd"),
                        credentials=credentials)
    result, failed = run(em.EntraTokenRunner, module, session, monkeypatch)
    assert failed is None and not session.calls("PUT")
    assert result["changed"] is False and result["already_saved"] is True and result["saved"] is False
    assert result["proof"] == ("credential scimcred-00000000000000000001 is the directory's only Enabled credential "
                               "and Entra ID authenticates with the saved token")


def test_token_runner_saves_when_the_credentials_cannot_be_read(monkeypatch):
    session = token_session()
    module = entra_module(token_params(credential_id="scimcred-00000000000000000001", directory_id="d-00fc2p61abcd"),
                        check_mode=True, credentials=AlibabaCloudError("denied", code="NoPermission", status=403))
    result, failed = run(em.EntraTokenRunner, module, session, monkeypatch)
    assert failed is None and not session.calls("PUT")
    assert result["changed"] is True and result["saved"] is False
    assert result["proof"] == "the directory's credentials could not be read"
    assert "Cannot read the credentials of d-00fc2p61abcd" in module.warnings[0] and "(NoPermission)" in module.warnings[0]


def test_token_runner_fails_without_saving_when_the_candidate_is_rejected(monkeypatch):
    session = FakeSession()
    session.add("POST", "/token", token_ok())
    session.add("GET", "/synchronization/jobs", FakeResponse(200, {"value": [JOB]}))
    session.add("POST", "/validateCredentials", FakeResponse(400, {"error": {
        "code": "BadRequest", "message": "Target said: Bearer %s is not valid" % SCIM_TOKEN}}))
    module = entra_module(token_params())
    result, failed = run(em.EntraTokenRunner, module, session, monkeypatch)
    assert result is None and not session.calls("PUT") and not session.calls("GET", "/secrets")
    assert failed["msg"].startswith("Entra ID could not authenticate to https://scim.example/scim/v2 with the "
                                    "candidate token, so nothing was saved")
    assert failed["candidate_valid"] is False and SCIM_TOKEN not in json.dumps(failed)


def test_token_runner_turns_a_graph_failure_into_its_message(monkeypatch):
    session = FakeSession()
    session.add("POST", "/token", FakeResponse(400, {"error": "invalid_request", "error_description":
                                                     "AADSTS90002: Tenant '%s' not found." % TENANT,
                                                     "error_codes": [90002]}))
    module = entra_module(token_params())
    result, failed = run(em.EntraTokenRunner, module, session, monkeypatch)
    assert result is None and "Check tenant_id" in failed["msg"] and failed["error"]["aadsts"] == 90002
    # The token request, and the Graph call it was for (counted once more, as it has always been).
    assert failed["graph_calls"] == 2 and failed["saved"] is False
    assert len(session.calls("POST", "/token")) == 1 and not session.calls("GET")

