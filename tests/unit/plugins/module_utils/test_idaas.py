"""Unit tests for plugins/module_utils/idaas.py: read-merge-write of an IDaaS provisioning config."""

import copy
from urllib.parse import parse_qsl, urlsplit

import pytest

from ansible_collections.alicloud.cloudsso.plugins.module_utils import idaas
from ansible_collections.alicloud.cloudsso.plugins.module_utils.client import RpcClient
from ansible_collections.alicloud.cloudsso.plugins.module_utils.credentials import Credential, StaticProvider

from tests.helpers.fake_module import FakeModule

OLD = "old-token-0123456789abcdefghijklmnopqrstuv"
NEW = "new-token-ZYXWVUTSRQPONMLKJIHGFEDCBA9876543"
URL = "https://cloudsso-scim-cn-shanghai.aliyun.com/scim/v2"

CONFIG = {
    "InstanceId": "idaas_ue2jvisn35ea5lmthk267abcde",
    "ApplicationId": "app_mkv7rgt4d7i4u7zqtzev2mabcd",
    "ProvisionProtocolType": "scim2",
    "ProvisionPassword": False,
    "Status": "enabled",
    "ConfigOperateMode": "standard",
    "ProvisionJwksEndpoint": "https://example/jwks",
    "CallbackProvisioningConfig": {"CallbackUrl": None, "EncryptKey": None, "EncryptRequired": None,
                                   "ListenEventScopes": []},
    "ScimProvisioningConfig": {
        "ScimBaseUrl": URL,
        "ProvisioningActions": ["urn:alibaba:idaas:app:scim:User:CREATE", "urn:alibaba:idaas:app:scim:User:UPDATE"],
        "FullPushScopes": ["urn:alibaba:idaas:app:scim:User:PUSH"],
        "AuthnConfiguration": {"AuthnMode": "oauth2", "GrantType": "bearer_token",
                               "AuthnParam": {"AccessToken": OLD}},
    },
}


def test_flatten_like_the_sdk():
    out = idaas.flatten({"A": {"B": [{"C": 1}, "x"], "D": True, "E": None}, "F": False, "G": []})
    assert out == {"A.B.1.C": "1", "A.B.2": "x", "A.D": "true", "F": "false"}


def test_plan_changes_only_token_and_url():
    request, changes = idaas.plan_token_update(copy.deepcopy(CONFIG), URL, NEW)
    assert changes == dict(token_changed=True, scim_endpoint_changed=False, previous_scim_endpoint=URL)
    scim = request["ScimProvisioningConfig"]
    assert scim["ProvisioningActions"] == CONFIG["ScimProvisioningConfig"]["ProvisioningActions"]
    assert scim["FullPushScopes"] == ["urn:alibaba:idaas:app:scim:User:PUSH"]
    assert scim["AuthnConfiguration"] == {"AuthnMode": "oauth2", "GrantType": "bearer_token",
                                          "AuthnParam": {"AccessToken": NEW}}
    assert request["ProvisionProtocolType"] == "scim2" and request["ProvisionPassword"] is False
    # read-only answer fields and an empty callback config are not sent back
    assert "Status" not in request and "ConfigOperateMode" not in request and "CallbackProvisioningConfig" not in request
    flat = idaas.flatten(request)
    assert flat["ScimProvisioningConfig.AuthnConfiguration.AuthnParam.AccessToken"] == NEW
    assert flat["ScimProvisioningConfig.ProvisioningActions.2"] == "urn:alibaba:idaas:app:scim:User:UPDATE"


def test_plan_is_a_no_op_for_the_same_token():
    config = copy.deepcopy(CONFIG)
    _, changes = idaas.plan_token_update(config, URL + "/", OLD)
    assert changes["token_changed"] is False and changes["scim_endpoint_changed"] is False


@pytest.mark.parametrize("saved", [None, "", "******", "old-***-ken"])
def test_masked_token_cannot_be_compared(saved):
    config = copy.deepcopy(CONFIG)
    config["ScimProvisioningConfig"]["AuthnConfiguration"]["AuthnParam"]["AccessToken"] = saved
    _, changes = idaas.plan_token_update(config, URL, NEW)
    assert changes["token_changed"] is None


def test_plan_keeps_callback_and_other_authn_params():
    config = copy.deepcopy(CONFIG)
    config["CallbackProvisioningConfig"] = {"CallbackUrl": "https://cb", "EncryptKey": "k" * 64,
                                            "EncryptRequired": True, "ListenEventScopes": ["a"]}
    config["ScimProvisioningConfig"]["AuthnConfiguration"]["AuthnParam"]["AuthnMethod"] = "client_secret_post"
    request, _ = idaas.plan_token_update(config, "https://other/scim/v2", NEW)
    assert request["CallbackProvisioningConfig"] == config["CallbackProvisioningConfig"]
    assert request["ScimProvisioningConfig"]["AuthnConfiguration"]["AuthnParam"] == {
        "AccessToken": NEW, "AuthnMethod": "client_secret_post"}
    assert request["ScimProvisioningConfig"]["ScimBaseUrl"] == "https://other/scim/v2"
    assert idaas.secrets_in(config) == [OLD, "k" * 64]


@pytest.mark.parametrize("mutate,word", [
    (lambda c: c.update(ProvisionProtocolType="idaas_callback"), "not set up for SCIM"),
    (lambda c: c.pop("ScimProvisioningConfig"), "not set up for SCIM"),
    (lambda c: c["ScimProvisioningConfig"]["AuthnConfiguration"].update(GrantType="client_credentials"), "grant type"),
])
def test_plan_refuses_other_setups(mutate, word):
    config = copy.deepcopy(CONFIG)
    mutate(config)
    with pytest.raises(idaas.IDaaSConfigError, match=word):
        idaas.plan_token_update(config, URL, NEW)


def test_invalid_ids():
    assert idaas.invalid_idaas_ids(dict(instance_id=CONFIG["InstanceId"], application_id=CONFIG["ApplicationId"])) == []
    problems = idaas.invalid_idaas_ids(dict(instance_id="i-123", application_id="app_/x"))
    assert len(problems) == 2 and "instance_id" in problems[0]


class Recorder(object):
    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def call(self, action, params=None, idempotent=True, anonymous=False):
        self.calls.append((action, params, idempotent))
        return self.answers[action]


def test_idaas_calls():
    client = Recorder({"GetApplicationProvisioningConfig": {"RequestId": "r", "ApplicationProvisioningConfig": CONFIG},
                       "SetApplicationProvisioningConfig": {"RequestId": "r"}})
    api = idaas.IDaaS(client)
    config = api.get_provisioning_config("idaas_x", "app_y")
    assert config is CONFIG
    request, _ = idaas.plan_token_update(config, URL, NEW)
    api.set_provisioning_config("idaas_x", "app_y", request)
    action, params, idempotent = client.calls[1]
    assert action == "SetApplicationProvisioningConfig" and idempotent
    assert params["InstanceId"] == "idaas_x" and params["ApplicationId"] == "app_y"
    assert params["ScimProvisioningConfig.AuthnConfiguration.GrantType"] == "bearer_token"


class FakeResponse(object):
    status_code = 200
    headers = {}

    def json(self):
        return {"RequestId": "r"}


class FakeSession(object):
    def __init__(self):
        self.requests = []

    def request(self, method, url, **kwargs):
        self.requests.append((method, url, kwargs))
        return FakeResponse()


def test_set_goes_out_signed_with_flattened_query():
    session = FakeSession()
    client = RpcClient("eiam", "cn-hangzhou", credentials=StaticProvider(Credential("EMUKEY", "EMUSECRET")),
                       session=session, env={})
    request, _ = idaas.plan_token_update(copy.deepcopy(CONFIG), URL, NEW)
    idaas.IDaaS(client).set_provisioning_config("idaas_x", "app_y", request)
    method, url, kwargs = session.requests[0]
    parts = urlsplit(url)
    assert parts.netloc == "eiam.cn-hangzhou.aliyuncs.com"
    query = dict(parse_qsl(parts.query))
    assert query["ScimProvisioningConfig.AuthnConfiguration.AuthnParam.AccessToken"] == NEW
    assert query["ScimProvisioningConfig.FullPushScopes.1"] == "urn:alibaba:idaas:app:scim:User:PUSH"
    assert kwargs["headers"]["x-acs-action"] == "SetApplicationProvisioningConfig"
    assert kwargs["headers"]["x-acs-version"] == "2021-12-01"
    assert kwargs["headers"]["Authorization"].startswith("ACS3-HMAC-SHA256 Credential=EMUKEY,")


# Every field of the eiam 2021-12-01 Get answer, each with a value (the SDK model decides what the fields are).
FULL_CONFIG = dict(copy.deepcopy(CONFIG), NetworkAccessEndpointId="nae_examplevpc0123456789",
                   ProvisionPassword=True,
                   CallbackProvisioningConfig={"CallbackUrl": "https://cb.example.com/events", "EncryptKey": "k" * 64,
                                               "EncryptRequired": True, "ListenEventScopes": ["urn:alibaba:idaas:app:event:user"]})
FULL_CONFIG["ScimProvisioningConfig"]["AuthnConfiguration"]["AuthnParam"].update(
    AuthnMethod="client_secret_basic", ClientId="cid", ClientSecret="client-secret-value-0123456789",
    TokenEndpoint="https://login.example.com/token")


def _paths(value, prefix=""):
    if isinstance(value, dict):
        return set().union(*[_paths(v, prefix + "." + k if prefix else k) for k, v in value.items()]) if value else set()
    return {prefix}


def test_plan_carries_every_field_the_sdk_set_request_defines():
    """Compared with the official SDK models: whatever Get returns and Set accepts is written back."""
    from alibabacloud_eiam20211201 import models as eiam

    answer = eiam.GetApplicationProvisioningConfigResponseBody().from_map(
        {"ApplicationProvisioningConfig": copy.deepcopy(FULL_CONFIG)}).to_map()["ApplicationProvisioningConfig"]
    assert answer == FULL_CONFIG  # the fixture holds no field the Get model does not know
    writable = eiam.SetApplicationProvisioningConfigRequest().from_map(copy.deepcopy(answer)).to_map()
    for ids in ("InstanceId", "ApplicationId"):
        writable.pop(ids)
    request, _ = idaas.plan_token_update(copy.deepcopy(FULL_CONFIG), URL, NEW)
    assert _paths(request) == _paths(writable)
    assert request["NetworkAccessEndpointId"] == "nae_examplevpc0123456789"
    assert eiam.SetApplicationProvisioningConfigRequest().from_map(copy.deepcopy(request)).to_map() == request


def test_ids_with_a_trailing_newline_are_refused():
    problems = idaas.invalid_idaas_ids({"instance_id": "idaas_ue2jvisn35ea5lmthk267abcde\n",
                                        "application_id": "app_mkv7rgt4d7i4u7zqtzev2mabcd\n"})
    assert len(problems) == 2


def test_invalid_idaas_options():
    good = dict(instance_id=CONFIG["InstanceId"], application_id=CONFIG["ApplicationId"], directory_region=None)
    assert idaas.invalid_idaas_options(good) == []
    assert idaas.invalid_idaas_options(dict(good, directory_region="cn-shanghai")) == []
    problems = idaas.invalid_idaas_options(dict(good, instance_id="i-1", directory_region="Shanghai"))
    assert len(problems) == 2 and "instance_id" in problems[0]
    assert problems[1] == ("directory_region 'Shanghai' is not a valid Alibaba Cloud region ID (for example "
                           "cn-shanghai)")


def test_token_diff_never_holds_a_token():
    assert idaas.token_diff(URL, URL + "/new", True) == dict(
        before=dict(scim_base_url=URL, access_token="(hidden)"),
        after=dict(scim_base_url=URL + "/new", access_token="(replaced)"))
    assert idaas.token_diff(URL, URL, False)["after"]["access_token"] == "(unchanged)"
    assert idaas.token_diff(None, URL, None)["after"]["access_token"] == "(written; the saved one cannot be read)"


def idaas_module(params, client, **kwargs):
    params = dict(dict(instance_id=CONFIG["InstanceId"], application_id=CONFIG["ApplicationId"], token=NEW,
                       token_file=None, scim_endpoint=None, directory_region=None), **params)
    return FakeModule(params, client=client, scim_url=URL, **kwargs)


def _run(module):
    with pytest.raises(SystemExit):
        idaas.IDaaSTokenRunner(module).run()
    return module.exited, module.failed


def test_runner_writes_the_new_token_and_masks_the_old():
    client = Recorder({"GetApplicationProvisioningConfig": {"ApplicationProvisioningConfig": copy.deepcopy(CONFIG)},
                       "SetApplicationProvisioningConfig": {"RequestId": "r"}})
    module = idaas_module({}, client, diff_mode=True)
    result, failed = _run(module)
    assert failed is None and [c[0] for c in client.calls] == ["GetApplicationProvisioningConfig",
                                                               "SetApplicationProvisioningConfig"]
    assert result["changed"] is True and result["token_changed"] is True and result["token_comparable"] is True
    assert result["scim_endpoint_changed"] is False and result["provisioning_status"] == "enabled"
    assert result["diff"]["after"] == dict(scim_base_url=URL, access_token="(replaced)")
    assert NEW in module.registered and OLD in module.registered


def test_runner_in_check_mode_and_for_the_same_token_writes_nothing():
    client = Recorder({"GetApplicationProvisioningConfig": {"ApplicationProvisioningConfig": copy.deepcopy(CONFIG)}})
    result, _ = _run(idaas_module({}, client, check_mode=True))
    assert result["changed"] is True and len(client.calls) == 1
    result, _ = _run(idaas_module({"token": OLD}, client))
    assert result["changed"] is False and len(client.calls) == 2


def test_runner_refuses_bad_options_and_other_setups_before_any_write():
    client = Recorder({})
    _, failed = _run(idaas_module({"directory_region": "nowhere"}, client))
    assert "directory_region 'nowhere'" in failed["msg"] and not client.calls
    oauth = copy.deepcopy(CONFIG)
    oauth["ScimProvisioningConfig"]["AuthnConfiguration"]["GrantType"] = "client_credentials"
    client = Recorder({"GetApplicationProvisioningConfig": {"ApplicationProvisioningConfig": oauth}})
    _, failed = _run(idaas_module({}, client))
    assert "not 'bearer_token'" in failed["msg"] and len(client.calls) == 1


def test_runner_explains_a_failed_call():
    from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import AlibabaCloudError

    class Denied(object):
        def call(self, action, params=None, idempotent=True):
            raise AlibabaCloudError("denied", code="Forbidden.NoPermission", status=403, action=action)

    _, failed = _run(idaas_module({}, Denied()))
    assert failed["msg"] == "explained: Forbidden.NoPermission: denied"
    assert failed["instance_id"] == CONFIG["InstanceId"] and failed["changed"] is False
