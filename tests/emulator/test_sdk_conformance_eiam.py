"""The official IDaaS SDK (alibabacloud-eiam20211201) against the emulator, for every eiam action the
collection calls (GetApplicationProvisioningConfig, SetApplicationProvisioningConfig): each raw answer is
compared, field by field, with what the SDK model keeps, and what the SDK sends is what the emulator keeps."""

import copy

import pytest
from alibabacloud_eiam20211201 import models as eiam
from alibabacloud_tea_openapi.exceptions import ClientException

from ansible_collections.alicloud.cloudsso.plugins.module_utils.client import RpcClient
from ansible_collections.alicloud.cloudsso.plugins.module_utils.credentials import Credential, StaticProvider
from ansible_collections.alicloud.cloudsso.plugins.module_utils.idaas import IDaaS, plan_token_update

TOKEN = "idaas-conformance-token-0123456789abcdefghij"
URN = "urn:alibaba:idaas:app:scim:"
# Every field of the Get model with a value (ConfigOperateMode: the model documents standard and template).
FULL = {
    "ProvisionProtocolType": "scim2", "ProvisionPassword": True, "Status": "enabled", "ConfigOperateMode": "template",
    "NetworkAccessEndpointId": "nae_conformance0123456789",
    "ProvisionJwksEndpoint": "https://idaas.example.invalid/jwks",
    "CallbackProvisioningConfig": {"CallbackUrl": "https://callback.example.invalid/events", "EncryptKey": "e" * 64,
                                   "EncryptRequired": True, "ListenEventScopes": ["urn:alibaba:idaas:app:event:user"]},
    "ScimProvisioningConfig": {
        "ScimBaseUrl": "https://cloudsso-scim-cn-shanghai.aliyun.com/scim/v2",
        "ProvisioningActions": [URN + "User:CREATE", URN + "User:UPDATE"], "FullPushScopes": [URN + "User:PUSH"],
        "AuthnConfiguration": {"AuthnMode": "oauth2", "GrantType": "bearer_token", "AuthnParam": {
            "AccessToken": TOKEN, "AuthnMethod": "client_secret_basic", "ClientId": "conformance-client",
            "ClientSecret": "conformance-client-secret-0123456789", "TokenEndpoint": "https://idp.example.invalid/token"}},
    },
}


def _pruned(value):
    """The answer as the SDK's to_map gives it back: None values are not kept."""
    if isinstance(value, dict):
        return dict((k, _pruned(v)) for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value


@pytest.fixture
def app(world):
    seeded = world.control.seed({"idaas": {"instances": [{"account_id": world.account_id, "applications": [
        {"config": copy.deepcopy(FULL)}]}]}})["idaas"]["instances"][0]
    return seeded["instance_id"], seeded["applications"][0]["application_id"]


def _sdk(world):
    from alibabacloud_eiam20211201.client import Client

    return Client(world.config())


def _raw(world):
    ak = world.ak
    return RpcClient("eiam", "cn-shanghai", credentials=StaticProvider(Credential(ak["id"], ak["secret"])),
                     endpoint_url=world.emu.url, max_retries=0)


def _get(world, instance_id, application_id):
    """(raw answer, what the SDK model keeps of the same answer)."""
    params = {"InstanceId": instance_id, "ApplicationId": application_id}
    raw = _raw(world).call("GetApplicationProvisioningConfig", params)
    body = _sdk(world).get_application_provisioning_config(eiam.GetApplicationProvisioningConfigRequest(
        instance_id=instance_id, application_id=application_id)).body
    return raw, body


def test_get_answer_is_kept_field_by_field_by_the_sdk_model(world, app):
    raw, body = _get(world, *app)
    assert body.request_id and raw["RequestId"]
    raw_config = raw["ApplicationProvisioningConfig"]
    assert body.to_map()["ApplicationProvisioningConfig"] == _pruned(raw_config)
    assert dict(raw_config, ApplicationId=None, InstanceId=None) == dict(FULL, ApplicationId=None, InstanceId=None)
    config = body.application_provisioning_config
    assert config.network_access_endpoint_id == "nae_conformance0123456789"
    assert config.config_operate_mode in ("standard", "template")
    assert config.scim_provisioning_config.authn_configuration.authn_param.token_endpoint.endswith("/token")


def test_the_collections_read_merge_write_keeps_every_field(world, app):
    """The rotation path of the collection, then the SDK reads the result: only token and URL changed."""
    api = IDaaS(_raw(world))
    before = api.get_provisioning_config(*app)
    new_url = "https://cloudsso-scim-ap-southeast-1.aliyun.com/scim/v2"
    request, _ = plan_token_update(before, new_url, TOKEN + "-new")
    api.set_provisioning_config(app[0], app[1], request)
    after = _get(world, *app)[1].to_map()["ApplicationProvisioningConfig"]
    expected = _pruned(copy.deepcopy(before))
    expected["ScimProvisioningConfig"]["ScimBaseUrl"] = new_url
    expected["ScimProvisioningConfig"]["AuthnConfiguration"]["AuthnParam"]["AccessToken"] = TOKEN + "-new"
    assert after == expected


def test_what_the_sdk_sends_the_emulator_keeps(world, app):
    """A Set through the SDK with every field of its request model, read back through the SDK."""
    full = copy.deepcopy(FULL)
    for read_only in ("Status", "ConfigOperateMode", "ProvisionJwksEndpoint"):
        full.pop(read_only)
    full.update(InstanceId=app[0], ApplicationId=app[1], NetworkAccessEndpointId="nae_changed0123456789")
    request = eiam.SetApplicationProvisioningConfigRequest().from_map(copy.deepcopy(full))
    assert request.to_map() == full  # the fixture holds every field of the request model, nothing else
    answer = _sdk(world).set_application_provisioning_config(request).body
    assert answer.request_id and answer.to_map() == {"RequestId": answer.request_id}
    kept = _get(world, *app)[1].to_map()["ApplicationProvisioningConfig"]
    for key, value in full.items():
        assert kept[key] == value, key
    assert kept["Status"] == "enabled" and kept["ConfigOperateMode"] == "template"


def test_errors_reach_the_sdk_with_code_and_status(world, app):
    with pytest.raises(ClientException) as info:
        _sdk(world).get_application_provisioning_config(eiam.GetApplicationProvisioningConfigRequest(
            instance_id=app[0], application_id="app_doesnotexist0000000000"))
    assert (info.value.code, info.value.status_code) == ("EntityNotExists.Application", 404)
    with pytest.raises(ClientException) as info:
        _sdk(world).set_application_provisioning_config(eiam.SetApplicationProvisioningConfigRequest(
            instance_id=app[0], application_id=app[1], provision_protocol_type="ldap"))
    assert info.value.code == "InvalidParameter.ProvisionProtocolType"


def test_config_operate_mode_takes_only_the_documented_values(world):
    with pytest.raises(Exception, match="ConfigOperateMode"):
        world.control.seed({"idaas": {"instances": [{"account_id": world.account_id, "applications": [
            {"config": {"ConfigOperateMode": "default"}}]}]}})
