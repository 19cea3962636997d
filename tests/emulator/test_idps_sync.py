"""Simulated identity providers: manual, Entra ID (quarantine and recovery) and IDaaS, syncing over HTTP."""

import json
import time
import urllib.parse

import pytest

from tests.helpers.emulator import http_request as http

from ansible_collections.alicloud.cloudsso.plugins.module_utils.client import RpcClient
from ansible_collections.alicloud.cloudsso.plugins.module_utils.credentials import Credential, StaticProvider
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import AlibabaCloudError
from ansible_collections.alicloud.cloudsso.plugins.module_utils.idaas import IDaaS, flatten, plan_token_update


def _cred(world, status="Enabled"):
    return world.control.seed({"credentials": [{"directory_id": world.directory_id, "status": status}]})["credentials"][0]


def _idp(world, **spec):
    spec.setdefault("directory_id", world.directory_id)
    spec.setdefault("interval", 0)
    return world.control.call("POST", "idps", spec)


def _get(world, idp_id):
    return world.control.call("GET", "idps/" + idp_id)


def _sync(world, idp_id):
    return world.control.call("POST", "idps/%s/sync" % idp_id)


def _events_for(world, credential_id):
    events = world.control.events(account_id=world.account_id, limit=1000)["events"]
    return [e for e in events if credential_id in json.dumps(e)]


def _set_status(world, cred, status):
    from alibabacloud_cloudsso20210515 import models as sso
    world.sso().update_scimserver_credential_status(sso.UpdateSCIMServerCredentialStatusRequest(
        directory_id=world.directory_id, credential_id=cred["credential_id"], new_status=status))


def _no_token_in(world, obj, *tokens):
    text = json.dumps(obj)
    for token in tokens:
        assert token not in text


# ------------------------------------------------------------------------------------------ manual


def test_manual_idp_holds_a_pasted_token_and_syncs(world, tmp_path):
    cred = _cred(world)
    idp = _idp(world, kind="manual", users=["alice@example.com", "bob@example.com"])
    assert idp["token_state"] == "none" and idp["credential_id"] is None
    assert _sync(world, idp["idp_id"])["cycle"] == {"ran": False, "reason": "the IdP holds no token"}
    secret_file = tmp_path / "new.json"
    secret_file.write_text(json.dumps({"credential_id": cred["credential_id"], "credential_secret": cred["secret"]}))
    view = world.control.call("POST", "idps/%s/token" % idp["idp_id"], {"token_file": str(secret_file)})
    assert view["credential_id"] == cred["credential_id"] and view["token_state"] == "Enabled"
    _no_token_in(world, view, cred["secret"])
    answer = _sync(world, idp["idp_id"])
    cycle = answer["cycle"]
    assert cycle["ok"] and cycle["credential_id"] == cred["credential_id"] and cycle["exported"] == 3  # 2 users + group
    _no_token_in(world, answer, cred["secret"])
    state = world.control.state()
    assert len(state["scim_users"][world.directory_id]) == 2 and len(state["scim_groups"][world.directory_id]) == 1
    names = [e["eventName"] for e in _events_for(world, cred["credential_id"])]
    assert "ListUsers" in names and names.count("CreateUser") == 2 and "CreateGroup" in names
    again = _sync(world, idp["idp_id"])["cycle"]
    assert again["ok"] and again["exported"] == 0
    assert cred["secret"] in world.control.secrets()


def test_manual_idp_rejected_after_disable(world):
    cred = _cred(world)
    idp = _idp(world, kind="manual", token=cred["secret"])
    assert _sync(world, idp["idp_id"])["cycle"]["ok"]
    _set_status(world, cred, "Disabled")
    cycle = _sync(world, idp["idp_id"])["cycle"]
    assert not cycle["ok"] and cycle["auth_failed"] and cycle["status"] == 401
    assert _get(world, idp["idp_id"])["token_state"] == "Disabled"


def test_paste_errors(world, tmp_path):
    idp = _idp(world, kind="manual")
    with pytest.raises(Exception) as info:
        world.control.call("POST", "idps/%s/token" % idp["idp_id"], {"token_file": str(tmp_path / "missing")})
    assert "cannot read token file" in str(info.value)
    entra = _idp(world, kind="entra")
    with pytest.raises(Exception, match="only a manual IdP"):
        world.control.call("POST", "idps/%s/token" % entra["idp_id"], {"token": "x"})


def test_create_validation(world):
    cases = (({"kind": "okta"}, "kind must be"),
             ({"kind": "manual", "directory_id": "d-000000000000"}, "directory_id"),
             ({"kind": "manual", "interval": -1}, "interval"))
    for bad, word in cases:
        with pytest.raises(Exception, match=word):
            _idp(world, **bad)


def test_background_cycles_run_on_the_interval(world):
    cred = _cred(world)
    idp = _idp(world, kind="manual", token=cred["secret"], interval=0.3)
    deadline = time.time() + 10
    while time.time() < deadline and _get(world, idp["idp_id"])["cycles"] < 3:
        time.sleep(0.1)
    view = _get(world, idp["idp_id"])
    assert view["cycles"] >= 3 and view["last_cycle"]["ok"]
    world.control.call("PATCH", "idps/" + idp["idp_id"], {"paused": True})
    time.sleep(0.2)
    frozen = _get(world, idp["idp_id"])["cycles"]
    time.sleep(0.8)
    assert _get(world, idp["idp_id"])["cycles"] == frozen


# ------------------------------------------------------------------------------------------ Entra ID


class EntraIdp:
    def __init__(self, world, **spec):
        self.world = world
        self.view = _idp(world, kind="entra", **spec)
        self.idp_id = self.view["idp_id"]
        self.url = world.emu.url
        self.token = self.login()

    def login(self):
        fields = {"grant_type": "client_credentials", "client_id": self.view["client_id"],
                  "client_secret": self.view["client_secret"], "scope": "https://graph.microsoft.com/.default"}
        status, _, body = http("%s/%s/oauth2/v2.0/token" % (self.url, self.view["tenant_id"]), "POST",
                               urllib.parse.urlencode(fields).encode(),
                               {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 200
        return body["access_token"]

    def graph(self, suffix, method="GET", body=None):
        path = "%s/v1.0/servicePrincipals/%s/synchronization%s" % (self.url, self.view["service_principal_id"], suffix)
        return http(path, method, json.dumps(body).encode() if body is not None else None,
                    {"Authorization": "Bearer " + self.token, "Content-Type": "application/json"})

    def job(self):
        return self.graph("/jobs/" + urllib.parse.quote(self.view["job_id"], safe=""))[2]

    def quarantine(self):
        """Put the job in quarantine as a rejected token would (a control call)."""
        self.world.control.call("POST", "graph/jobs/%s/%s" % (self.view["service_principal_id"],
                                                              urllib.parse.quote(self.view["job_id"], safe="")),
                                {"code": "Quarantine"})

    def save(self, secret):
        base = "%s/region/cn-shanghai/scim/v2" % self.url
        return self.graph("/secrets", "PUT", {"value": [{"key": "BaseAddress", "value": base},
                                                        {"key": "SecretToken", "value": secret}]})[0]


def test_entra_quarantine_and_recovery(world):
    old, new = _cred(world), _cred(world)
    entra = EntraIdp(world)
    assert entra.view["client_secret"] and entra.view["client_secret"] in world.control.secrets()
    assert _sync(world, entra.idp_id)["cycle"]["reason"] == "the IdP holds no token"
    assert entra.save(old["secret"]) == 204
    cycle = _sync(world, entra.idp_id)["cycle"]
    assert cycle["ok"] and cycle["credential_id"] == old["credential_id"]
    status = entra.job()["status"]
    assert status["code"] == "Active" and status["lastExecution"]["state"] == "Succeeded"
    assert status["lastExecution"]["timeBegan"] <= status["lastExecution"]["timeEnded"]
    users = world.control.state()["scim_users"][world.directory_id]
    assert len(users) == 2  # the tenant's users

    _set_status(world, old, "Disabled")
    cycle = _sync(world, entra.idp_id)["cycle"]
    assert cycle["auth_failed"]
    status = entra.job()["status"]
    assert status["code"] == "Quarantine" and status["quarantine"]["reason"] == "EncounteredQuarantineException"
    assert status["lastExecution"]["state"] == "Failed" and "401" in status["lastExecution"]["error"]["message"]
    assert old["secret"] not in json.dumps(status)
    assert _sync(world, entra.idp_id)["cycle"] == {"ran": False, "reason": "the job is in quarantine"}

    assert entra.save(new["secret"]) == 204
    assert entra.job()["status"]["code"] == "Quarantine"  # saving alone does not clear it
    assert entra.graph("/jobs/%s/start" % urllib.parse.quote(entra.view["job_id"], safe=""), "POST")[0] == 204
    cycle = _sync(world, entra.idp_id)["cycle"]
    assert cycle["ok"] and cycle["credential_id"] == new["credential_id"]
    status = entra.job()["status"]
    assert status["code"] == "Active" and status["quarantine"] is None
    view = _get(world, entra.idp_id)
    assert view["credential_id"] == new["credential_id"] and view["job"]["calls"]["start"] == 1
    _no_token_in(world, world.control.call("GET", "idps"), old["secret"], new["secret"], entra.token)


def test_entra_start_runs_a_cycle_soon(world):
    cred = _cred(world)
    entra = EntraIdp(world, interval=3600)
    entra.save(cred["secret"])
    entra.quarantine()
    before = _get(world, entra.idp_id)["cycles"]
    entra.graph("/jobs/%s/start" % urllib.parse.quote(entra.view["job_id"], safe=""), "POST")
    deadline = time.time() + 10
    while time.time() < deadline and _get(world, entra.idp_id)["cycles"] == before:
        time.sleep(0.05)
    assert _get(world, entra.idp_id)["last_cycle"]["ok"]


def test_quarantined_job_retries_a_day_later_on_the_emulator_clock(world):
    cred = _cred(world)
    entra = EntraIdp(world, interval=3600)
    entra.save(cred["secret"])
    entra.quarantine()
    world.control.clock(advance_seconds=3 * 3600)  # cycles are due, but a quarantined job waits a day
    entra.token = entra.login()  # the access token expired meanwhile
    assert entra.job()["status"]["code"] == "Quarantine"
    assert _get(world, entra.idp_id)["last_skip"]["reason"] == "the job is in quarantine"
    world.control.clock(advance_seconds=86400)
    entra.token = entra.login()
    status = entra.job()["status"]
    assert status["code"] == "Active" and status["lastExecution"]["state"] == "Succeeded"


def test_one_idp_per_job(world):
    entra = EntraIdp(world)
    with pytest.raises(Exception, match="already simulated"):
        _idp(world, kind="entra", service_principal_id=entra.view["service_principal_id"])


# ------------------------------------------------------------------------------------------ IDaaS


def _eiam(world):
    ak = world.ak
    return RpcClient("eiam", "cn-shanghai", credentials=StaticProvider(Credential(ak["id"], ak["secret"])),
                     endpoint_url=world.emu.url, max_retries=0)


def test_idaas_read_merge_write_and_sync(world):
    old, new = _cred(world), _cred(world)
    idp = _idp(world, kind="idaas", token=old["secret"], users=1)
    assert idp["credential_id"] == old["credential_id"] and idp["provisioning_status"] == "enabled"
    assert _sync(world, idp["idp_id"])["cycle"]["credential_id"] == old["credential_id"]
    api = IDaaS(_eiam(world))
    config = api.get_provisioning_config(idp["instance_id"], idp["application_id"])
    scim = config["ScimProvisioningConfig"]
    assert scim["AuthnConfiguration"]["AuthnParam"]["AccessToken"] == old["secret"]
    assert scim["ScimBaseUrl"].endswith("/region/cn-shanghai/scim/v2")
    request, changes = plan_token_update(config, scim["ScimBaseUrl"], new["secret"])
    assert changes["token_changed"] is True
    api.set_provisioning_config(idp["instance_id"], idp["application_id"], request)
    after = api.get_provisioning_config(idp["instance_id"], idp["application_id"])
    assert after["ScimProvisioningConfig"]["ProvisioningActions"] == scim["ProvisioningActions"]
    assert after["ScimProvisioningConfig"]["FullPushScopes"] == scim["FullPushScopes"]
    assert after["ScimProvisioningConfig"]["AuthnConfiguration"]["AuthnParam"]["AccessToken"] == new["secret"]
    assert _sync(world, idp["idp_id"])["cycle"]["credential_id"] == new["credential_id"]
    events = world.control.events(account_id=world.account_id, limit=1000)["events"]
    sets = [e for e in events if e["eventName"] == "SetApplicationProvisioningConfig"]
    assert sets and new["secret"] not in json.dumps(sets)


def test_idaas_set_replaces_the_whole_config(world):
    cred = _cred(world)
    idp = _idp(world, kind="idaas", token=cred["secret"])
    client = _eiam(world)
    params = {"InstanceId": idp["instance_id"], "ApplicationId": idp["application_id"]}
    params.update(flatten({"ProvisionProtocolType": "scim2", "ScimProvisioningConfig": {
        "ScimBaseUrl": "https://example/scim/v2", "AuthnConfiguration": {
            "AuthnMode": "oauth2", "GrantType": "bearer_token", "AuthnParam": {"AccessToken": cred["secret"]}}}}))
    client.call("SetApplicationProvisioningConfig", params)
    config = IDaaS(client).get_provisioning_config(idp["instance_id"], idp["application_id"])
    assert config["ScimProvisioningConfig"]["ProvisioningActions"] == []  # not sent, so gone
    with pytest.raises(AlibabaCloudError) as info:
        client.call("SetApplicationProvisioningConfig", dict(params, **{
            "ScimProvisioningConfig.AuthnConfiguration.AuthnParam.AccessToken": ""}))
    assert info.value.code == "MissingParameter.AccessToken"
    with pytest.raises(AlibabaCloudError) as info:
        client.call("GetApplicationProvisioningConfig",
                    {"InstanceId": idp["instance_id"], "ApplicationId": "app_doesnotexist0000000000"})
    assert info.value.code == "EntityNotExists.Application" and info.value.status == 404


def test_idaas_masked_token(world):
    cred = _cred(world)
    idp = _idp(world, kind="idaas", token=cred["secret"], mask_access_token=True)
    config = IDaaS(_eiam(world)).get_provisioning_config(idp["instance_id"], idp["application_id"])
    assert config["ScimProvisioningConfig"]["AuthnConfiguration"]["AuthnParam"]["AccessToken"] == "******"


def test_idaas_ram_denial_event_has_no_token(world):
    from tests.helpers.emulator import make_access_key

    cred = _cred(world)
    idp = _idp(world, kind="idaas", token=cred["secret"])
    weak = make_access_key(account_id=world.account_id, permissions=["eiam:GetApplicationProvisioningConfig"])
    world.control.seed({"access_keys": [weak]})
    client = RpcClient("eiam", "cn-shanghai", credentials=StaticProvider(Credential(weak["id"], weak["secret"])),
                       endpoint_url=world.emu.url, max_retries=0)
    api = IDaaS(client)
    config = api.get_provisioning_config(idp["instance_id"], idp["application_id"])
    request, _ = plan_token_update(config, config["ScimProvisioningConfig"]["ScimBaseUrl"], "a-new-secret-value-123456")
    with pytest.raises(AlibabaCloudError) as info:
        api.set_provisioning_config(idp["instance_id"], idp["application_id"], request)
    assert info.value.status == 403
    events = world.control.events(account_id=world.account_id, limit=1000)["events"]
    denied = [e for e in events if e["eventName"] == "SetApplicationProvisioningConfig"]
    assert denied and "a-new-secret-value-123456" not in json.dumps(denied)


def test_idaas_disabled_sync_does_not_run(world):
    cred = _cred(world)
    seeded = world.control.seed({"idaas": {"instances": [{"account_id": world.account_id, "applications": [
        {"token": cred["secret"], "status": "disabled",
         "scim_base_url": world.emu.url + "/region/cn-shanghai/scim/v2"}]}]}})["idaas"]["instances"][0]
    idp = _idp(world, kind="idaas", instance_id=seeded["instance_id"],
               application_id=seeded["applications"][0]["application_id"])
    assert idp["provisioning_status"] == "disabled" and idp["credential_id"] == cred["credential_id"]
    assert _sync(world, idp["idp_id"])["cycle"] == {"ran": False, "reason": "account synchronization is disabled"}


def test_idps_survive_a_restart(tmp_path):
    from tests.helpers.emulator import EmulatorProcess, make_access_key

    with EmulatorProcess(state_file=tmp_path / "state.json") as emu:
        ak = make_access_key()
        directory = emu.control.seed({"access_keys": [ak], "directories": [{"region": "cn-shanghai"}]}
                                     )["directories"][0]["directory_id"]
        cred = emu.control.seed({"credentials": [{"directory_id": directory}]})["credentials"][0]
        idp = emu.control.call("POST", "idps", {"kind": "manual", "directory_id": directory, "token": cred["secret"]})
        entra = emu.control.call("POST", "idps", {"kind": "entra", "directory_id": directory})
        emu.kill()
        emu.start()
        view = emu.control.call("GET", "idps/" + idp["idp_id"])
        assert view["credential_id"] == cred["credential_id"] and view["base_url"] is None
        assert emu.control.call("POST", "idps/%s/sync" % idp["idp_id"])["cycle"]["ok"]
        graph = emu.control.call("GET", "graph")
        assert [s["id"] for s in graph["service_principals"]] == [entra["service_principal_id"]]
        assert entra["client_secret"] in emu.control.secrets()
