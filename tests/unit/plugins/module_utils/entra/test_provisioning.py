"""Unit tests for plugins/module_utils/entra/provisioning.py: the provisioning job's calls, the parsing of
Graph's answers, and the pure deciders of the entra_* runners."""

import json
import os

import pytest

from ansible_collections.alicloud.cloudsso.plugins.module_utils.entra import client as gc
from ansible_collections.alicloud.cloudsso.plugins.module_utils.entra import provisioning as ep
from ansible_collections.alicloud.cloudsso.plugins.module_utils.entra import signin

from tests.helpers.graph_fakes import SCIM_TOKEN, SP, FakeResponse, FakeSession, make_client, token_ok


JOB = {"id": "customappsso.aaaa.bbbb", "templateId": "customappsso",
       "schedule": {"interval": "PT40M", "state": "Active", "expiration": None},
       "status": {"code": "Quarantine", "countSuccessiveCompleteFailures": 3,
                  "lastExecution": {"state": "Failed", "timeBegan": "2026-01-04T08:00:00Z",
                                    "timeEnded": "2026-01-04T08:00:05Z",
                                    "error": {"code": "SystemForCrossDomainIdentityManagementUnauthorized",
                                              "message": "HTTP/401 with Bearer %s" % SCIM_TOKEN}},
                  "quarantine": {"reason": "EncounteredQuarantineException", "currentBegan": "2026-01-04T08:00:05Z",
                                 "nextAttempt": "2026-01-05T08:00:05Z", "seriesBegan": "2026-01-04T08:00:05Z",
                                 "seriesCount": 1, "error": {"code": "SystemForCrossDomainIdentityManagementUnauthorized",
                                                             "message": "401"}}}}


def provisioning(session, **kwargs):
    session.add("POST", "/token", token_ok())
    return ep.EntraProvisioning(make_client(session, **kwargs), SP)


def test_resolve_job_single_none_several():
    session = FakeSession()
    session.add("GET", "/synchronization/jobs", FakeResponse(200, {"value": [JOB]}),
                FakeResponse(200, {"value": []}),
                FakeResponse(200, {"value": [JOB, dict(JOB, id="other.job", templateId="scim")]}))
    prov = provisioning(session)
    assert prov.resolve_job()["id"] == JOB["id"]
    with pytest.raises(signin.EntraConfigError, match="no provisioning"):
        prov.resolve_job()
    with pytest.raises(signin.EntraConfigError, match="other.job") as info:
        prov.resolve_job()
    assert "2 synchronization jobs" in str(info.value)


def test_validate_candidate_and_saved():
    session = FakeSession()
    bad = FakeResponse(400, {"error": {"code": "BadRequest", "message": "You appear to have entered invalid "
                                       "credentials. Target said: Bearer %s is not valid" % SCIM_TOKEN}})
    session.add("POST", "/validateCredentials", FakeResponse(204), bad)
    prov = provisioning(session)
    assert prov.validate(JOB["id"], base_address="https://scim/v2", token=SCIM_TOKEN) == \
        dict(valid=True, code=None, message=None)
    body = json.loads(session.calls("POST", "/validateCredentials")[0]["data"])
    assert body == {"useSavedCredentials": False, "credentials": [
        {"key": "BaseAddress", "value": "https://scim/v2"}, {"key": "SecretToken", "value": SCIM_TOKEN}]}
    outcome = prov.validate(JOB["id"], use_saved=True)
    assert outcome["valid"] is False and outcome["code"] == "BadRequest"
    assert SCIM_TOKEN not in outcome["message"]
    assert json.loads(session.calls("POST", "/validateCredentials")[1]["data"]) == {"useSavedCredentials": True}
    url = session.calls("POST", "/validateCredentials")[0]["url"]
    assert url.endswith("/v1.0/servicePrincipals/%s/synchronization/jobs/customappsso.aaaa.bbbb/validateCredentials" % SP)


def test_validate_other_errors_raise():
    session = FakeSession()
    session.add("POST", "/validateCredentials", FakeResponse(404, {"error": {"code": "NotFound", "message": "job"}}))
    with pytest.raises(gc.GraphError):
        provisioning(session).validate(JOB["id"], use_saved=True)


def test_save_sends_both_keys_and_registers_the_token():
    session = FakeSession()
    session.add("PUT", "/synchronization/secrets", FakeResponse(204))
    registered = []
    prov = provisioning(session, registered=registered)
    prov.save("https://scim/v2", SCIM_TOKEN, {"SyncAll": "false"})
    body = json.loads(session.calls("PUT")[0]["data"])
    assert body == {"value": [{"key": "BaseAddress", "value": "https://scim/v2"},
                              {"key": "SecretToken", "value": SCIM_TOKEN}, {"key": "SyncAll", "value": "false"}]}
    assert SCIM_TOKEN in registered


NOTIFY = '{"Enabled":true,"Recipients":"ops@example.com","DeleteThresholdEnabled":false}'
SAVED = {"BaseAddress": "https://old/scim/v2", "SecretToken": "*", "SyncAll": "true", "SyncNotificationSettings": NOTIFY}


def test_a_save_carries_the_scope_and_the_notification_settings_over():
    """A PUT replaces the whole list (Microsoft's PUT example carries all four keys): the rotation must send
    the saved scope and notification settings again, or it resets them."""
    session = FakeSession()
    session.add("GET", "/synchronization/secrets",
                FakeResponse(200, {"value": [{"key": k, "value": v} for k, v in SAVED.items()]}))
    session.add("PUT", "/synchronization/secrets", FakeResponse(204))
    prov = provisioning(session)
    settings = ep.plan_secrets(prov.saved_secrets())
    assert settings == {"SyncAll": "true", "SyncNotificationSettings": NOTIFY}
    prov.save("https://scim/v2", SCIM_TOKEN, settings)
    sent = dict((p["key"], p["value"]) for p in json.loads(session.calls("PUT")[0]["data"])["value"])
    assert sent == dict(SAVED, BaseAddress="https://scim/v2", SecretToken=SCIM_TOKEN)


def test_plan_secrets_options_and_unknowns():
    assert ep.plan_secrets(SAVED, sync_all=False)["SyncAll"] == "false"
    assert ep.plan_secrets({"BaseAddress": "x", "SecretToken": "*"}) == {}  # nothing else saved: nothing to keep
    with pytest.raises(signin.EntraConfigError, match="sync_all and sync_notification_settings"):
        ep.plan_secrets(None)
    with pytest.raises(signin.EntraConfigError, match="sync_notification_settings"):
        ep.plan_secrets(None, sync_all=True)
    assert ep.plan_secrets(None, sync_all=True, sync_notification_settings={"Enabled": False}) == {
        "SyncAll": "true", "SyncNotificationSettings": '{"Enabled":false}'}
    with pytest.raises(signin.EntraConfigError, match="ClientSecret"):
        ep.plan_secrets(dict(SAVED, ClientSecret="*"))


def test_saved_base_address():
    session = FakeSession()
    session.add("GET", "/synchronization/secrets",
                FakeResponse(200, {"value": [{"key": "BaseAddress", "value": "https://scim/v2"},
                                             {"key": "SecretToken", "value": "*"}]}),
                FakeResponse(404, {"error": {"code": "NotFound", "message": "no"}}))
    prov = provisioning(session)
    assert prov.saved_base_address() == "https://scim/v2"
    assert prov.saved_base_address() is None


def test_job_status_is_normalised_and_scrubbed():
    status = ep.job_status(JOB, [SCIM_TOKEN])
    assert status["code"] == "Quarantine" and status["quarantined"] is True
    assert status["quarantine"]["reason"] == "EncounteredQuarantineException"
    assert status["last_execution"]["state"] == "Failed"
    assert status["last_execution"]["time_ended"] == "2026-01-04T08:00:05Z"
    assert status["schedule"]["interval"] == "PT40M"
    assert SCIM_TOKEN not in json.dumps(status)
    assert ep.job_status({"id": "j", "status": {"code": "NotRun"}})["last_execution"] is None


def test_provisioning_rule_discovery():
    session = FakeSession()
    one = {"synchronizationRules": [{"id": "r1", "sourceDirectoryName": "Azure Active Directory"}]}
    two = {"synchronizationRules": [
        {"id": "r1", "sourceDirectoryName": "Azure Active Directory", "targetDirectoryName": "customappsso"},
        {"id": "r2", "sourceDirectoryName": "customappsso", "targetDirectoryName": "Azure Active Directory"}]}
    ambiguous = {"synchronizationRules": [
        {"id": "r1", "sourceDirectoryName": "Azure Active Directory"},
        {"id": "r3", "sourceDirectoryName": "Azure Active Directory"}]}
    session.add("GET", "/schema", FakeResponse(200, one), FakeResponse(200, two), FakeResponse(200, ambiguous))
    prov = provisioning(session)
    assert prov.provisioning_rule("j") == "r1"
    assert prov.provisioning_rule("j") == "r1"
    with pytest.raises(signin.EntraConfigError, match="rule_id"):
        prov.provisioning_rule("j")


def on_demand_answer(status, steps=None, as_list=True):
    entry = {"statusInfo": {"@odata.type": "#microsoft.graph.statusDetails", "status": status},
             "provisioningSteps": steps or []}
    document = [entry] if as_list else entry
    return {"@odata.context": "$metadata#microsoft.graph.stringKeyStringValuePair",
            "key": "Microsoft.Identity.Health.CPP.Common.DataContracts.SyncFabric.StatusInfo",
            "value": json.dumps(document)}


# A Skipped export step alone does not show that Entra reached the target.
@pytest.mark.parametrize("status,authenticated", [("Success", True), ("Skipped", False), ("Failure", False)])
def test_parse_on_demand(status, authenticated):
    outcome = ep.parse_on_demand(on_demand_answer(status, [{"name": "EntryExport", "provisioningStepType": "export",
                                                           "status": status, "description": "done"}]))
    assert outcome["status"] == status and outcome["authenticated"] is authenticated
    assert outcome["steps"][0]["name"] == "EntryExport"


def test_parse_on_demand_object_and_steps_only():
    assert ep.parse_on_demand(on_demand_answer("Skipped", as_list=False))["status"] == "Skipped"
    steps = [{"name": "Import", "status": "Success"}, {"name": "Export", "status": "Failure",
                                                       "description": "401 Bearer %s" % SCIM_TOKEN}]
    outcome = ep.parse_on_demand({"value": json.dumps([{"provisioningSteps": steps}])}, [SCIM_TOKEN])
    assert outcome["status"] == "Failure" and not outcome["authenticated"]
    assert SCIM_TOKEN not in json.dumps(outcome)
    assert ep.parse_on_demand({"value": "not json"}) == dict(status=None, authenticated=False, reason=None,
                                                            message=None, steps=[])


with open(os.path.join(os.path.dirname(__file__), "..", "fixtures", "provision_on_demand_examples.json")) as _handle:
    ON_DEMAND_EXAMPLES = json.load(_handle)["examples"]


@pytest.mark.parametrize("name,status,authenticated,reason", [
    # Skipped after Entra read the user from the target (a Matching step that succeeded): the token worked.
    ("user_skipped_redundant_export", "Skipped", True, "RedundantExport"),
    ("cloud_sync_user_success", "Success", True, None),
    # The group example: the result only in `key`, `value` is "{}".
    ("group_success", "Success", True, None),
])
def test_parse_on_demand_documented_examples(name, status, authenticated, reason):
    outcome = ep.parse_on_demand(ON_DEMAND_EXAMPLES[name])
    assert (outcome["status"], outcome["authenticated"], outcome["reason"]) == (status, authenticated, reason)


def test_a_skip_decided_before_the_target_is_called_proves_nothing():
    """NotEffectivelyEntitled (out of scope) is decided inside Entra: no step reached the SCIM endpoint."""
    record = {"provisioningSteps": [
        {"name": "EntryImport", "type": "Import", "status": "Success", "description": "Retrieved User", "details": {}},
        {"name": "EntrySynchronizationScoping", "type": "Scoping", "status": "Skipped",
         "description": "The User will be skipped: this object is not assigned to the application",
         "details": {"SkipReason": "NotEffectivelyEntitled"}}],
        "statusInfo": {"status": "Skipped", "errorCode": None, "reason": None}}
    answer = {"key": json.dumps({"result": "Skipped", "details": {"errorCode": "NotEffectivelyEntitled",
                                                                  "errorMessage": "not assigned"}}),
              "value": json.dumps(record)}
    outcome = ep.parse_on_demand(answer)
    assert outcome["status"] == "Skipped" and outcome["authenticated"] is False
    assert outcome["reason"] == "NotEffectivelyEntitled"
    del record["provisioningSteps"][1]["details"]
    assert ep.parse_on_demand({"key": "{\"result\":\"Skipped\",\"details\":{}}", "value": json.dumps(record)})[
        "authenticated"] is False


def test_provision_on_demand_request_body():
    session = FakeSession()
    session.add("POST", "/provisionOnDemand", FakeResponse(200, on_demand_answer("Success")))
    outcome = provisioning(session).provision_on_demand("j", "r1", "2b3c4d5e-6f70-4a1b-9c2d-3e4f5a6b7c8d")
    assert outcome["authenticated"]
    body = json.loads(session.calls("POST", "/provisionOnDemand")[0]["data"])
    assert body == {"parameters": [{"ruleId": "r1", "subjects": [
        {"objectId": "2b3c4d5e-6f70-4a1b-9c2d-3e4f5a6b7c8d", "objectTypeName": "User"}]}]}


def test_same_url_and_parse_time():
    assert ep.same_url("https://Host/scim/v2/", "https://host/scim/v2")
    assert not ep.same_url("https://host/scim/v2", "https://other/scim/v2")
    assert not ep.same_url(None, "x")
    assert ep.parse_time("2026-01-04T08:00:00Z") == ep.parse_time("2026-01-04T09:00:00+01:00")
    assert ep.parse_time("2026-01-04T08:00:00.5000000Z") == pytest.approx(ep.parse_time("2026-01-04T08:00:00Z") + 0.5)
    assert ep.parse_time("yesterday") is None


# ------------------------------------------------------------------------------------------ deciders

@pytest.mark.parametrize("state,code,start", [
    ("started", "Paused", True), ("started", "Quarantine", True), ("started", "Active", False),
    ("started", "NotRun", False), ("started", "NotConfigured", False), (None, "Quarantine", False),
])
def test_needs_start(state, code, start):
    assert ep.needs_start(state, code) is start


def _job(code, began=None, ended=None):
    execution = dict(time_began=began, time_ended=ended) if began else None
    return dict(code=code, last_execution=execution, quarantine=None)


def test_last_began():
    assert ep.last_began(_job("Active", "2026-01-04T08:00:00Z", "2026-01-04T08:00:05Z")) == \
        ep.parse_time("2026-01-04T08:00:00Z")
    assert ep.last_began(_job("NotRun")) is None
    assert ep.last_began(ep.job_status(JOB)) == ep.parse_time("2026-01-04T08:00:00Z")


@pytest.mark.parametrize("job,previous,verdict", [
    (_job("Quarantine", "2026-01-04T09:00:00Z", "2026-01-04T09:00:05Z"), None, "quarantined"),
    # A cycle that began after the one seen at the start, and ended.
    (_job("Active", "2026-01-04T09:00:00Z", "2026-01-04T09:00:05Z"), "2026-01-04T08:00:00Z", "done"),
    (_job("Active", "2026-01-04T09:00:00Z", "2026-01-04T09:00:05Z"), None, "done"),
    # The same cycle as at the start: not a new one.
    (_job("Active", "2026-01-04T08:00:00Z", "2026-01-04T08:00:05Z"), "2026-01-04T08:00:00Z", None),
    # Still running, not run yet, or Paused again.
    (_job("Active", "2026-01-04T09:00:00Z", None), "2026-01-04T08:00:00Z", None),
    (_job("NotRun"), None, None),
    (_job("Paused", "2026-01-04T09:00:00Z", "2026-01-04T09:00:05Z"), "2026-01-04T08:00:00Z", None),
])
def test_cycle_after(job, previous, verdict):
    assert ep.cycle_after(job, ep.parse_time(previous)) == verdict


@pytest.mark.parametrize("status,authenticated,verdict", [
    ("Success", True, "proven"), ("Skipped", True, "proven"), ("Skipped", False, "skipped"),
    ("Failure", False, "failed"), (None, False, "failed"),
])
def test_judge_on_demand(status, authenticated, verdict):
    assert ep.judge_on_demand(dict(status=status, authenticated=authenticated, steps=[])) == verdict


def test_failed_steps():
    steps = [dict(name="EntryImport", status="Success", description="read"),
             dict(name="EntryExport", status="Failure", description="401 Unauthorized"),
             dict(name="Scoping", status="Skipped", description="out of scope")]
    assert ep.failed_steps(dict(steps=steps)) == "EntryExport: 401 Unauthorized"
    assert ep.failed_steps(dict(steps=steps[:1])) == "no step details"


CREDENTIALS = [{"credential_id": "scimcred-a", "status": "Enabled"}, {"credential_id": "scimcred-b", "status": "Disabled"}]


def test_credential_proof():
    assert ep.credential_proof(CREDENTIALS, "d-1", "scimcred-a") == (
        True, "credential scimcred-a is the directory's only Enabled credential")
    assert ep.credential_proof(CREDENTIALS, "d-1", "scimcred-b") == (
        False, "credential scimcred-b is not the directory's only Enabled credential")
    assert ep.credential_proof(CREDENTIALS, "d-1", "scimcred-c") == (
        False, "credential scimcred-c is not in directory d-1")
    both = [dict(c, status="Enabled") for c in CREDENTIALS]
    assert ep.credential_proof(both, "d-1", "scimcred-a")[0] is False


def test_proof_with_saved_url():
    proof = (True, "credential x is the directory's only Enabled credential")
    assert ep.proof_with_saved_url(proof, None, "https://scim/v2") == proof  # Graph does not return it
    assert ep.proof_with_saved_url(proof, "https://SCIM/v2/", "https://scim/v2") == proof
    assert ep.proof_with_saved_url(proof, "https://old/v2", "https://scim/v2") == (
        False, "the saved Tenant URL is another one")
    assert ep.proof_with_saved_url((False, "unknown"), "https://old/v2", "https://scim/v2") == (False, "unknown")


def test_proven_saved():
    assert ep.proven_saved("credential x is the only one", True) == (
        True, "credential x is the only one and Entra ID authenticates with the saved token")
    assert ep.proven_saved("credential x is the only one", False) == (
        False, "Entra ID cannot authenticate with the saved token")

