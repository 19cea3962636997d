"""STS AssumeRole rules and expiry; the ECS metadata service (IMDS v1/v2)."""

import json

import pytest
from alibabacloud_cloudsso20210515 import models as sso
from alibabacloud_sts20150401 import models as sts
from alibabacloud_tea_openapi.exceptions import ClientException

from tests.helpers.emulator import http_request as http


def _role(world, **spec):
    spec.setdefault("name", "Rotator")
    spec.setdefault("account_id", world.account_id)
    spec.setdefault("permissions", ["cloudsso:*"])
    return world.control.seed({"roles": [spec]})["roles"][0]["arn"]


def _assume(world, client=None, **kw):
    kw.setdefault("role_session_name", "session1")
    return (client or world.sts()).assume_role(sts.AssumeRoleRequest(**kw)).body


def _err(fn, *a, **kw):
    with pytest.raises(ClientException) as info:
        fn(*a, **kw)
    return info.value.code, info.value.status_code


@pytest.mark.parametrize("kwargs,expected", [
    ({"role_arn": "arn:aws:iam::1:role/x"}, ("InvalidParameter.RoleArn", 400)),
    ({"role_arn": "acs:ram::1234567890123456:role/NoSuchRole"}, ("EntityNotExist.Role", 404)),
    ({"duration_seconds": 899}, ("InvalidParameter.DurationSeconds", 400)),
    ({"duration_seconds": 3601}, ("InvalidParameter.DurationSeconds", 400)),
    ({"role_session_name": "bad name!"}, ("InvalidParameter.RoleSessionName", 400)),
    ({"policy": "{not json"}, ("InvalidParameter.PolicyGrammar", 400)),
])
def test_assume_role_errors(world, kwargs, expected):
    arn = _role(world)
    kwargs.setdefault("role_arn", arn)
    assert _err(_assume, world, **kwargs) == expected


def test_duration_limited_by_role_max(world):
    arn = _role(world, max_session_duration=43200)
    body = _assume(world, role_arn=arn, duration_seconds=43200)
    assert body.credentials.expiration
    assert _err(_assume, world, role_arn=arn, duration_seconds=43201) == ("InvalidParameter.DurationSeconds", 400)


def test_external_id_and_trust(world):
    arn = _role(world, external_id="abc-123")
    assert _err(_assume, world, role_arn=arn) == ("NoPermission", 403)
    assert _err(_assume, world, role_arn=arn, external_id="wrong-1") == ("NoPermission", 403)
    assert _assume(world, role_arn=arn, external_id="abc-123").credentials.access_key_id.startswith("STS.")
    other = _role(world, name="Foreign", account_id="7777777777777777")
    assert _err(_assume, world, role_arn=other) == ("NoPermission", 403)


def test_caller_needs_sts_assume_role_permission(world):
    from tests.helpers.emulator import make_access_key

    arn = _role(world)
    weak = make_access_key(account_id=world.account_id, permissions=["cloudsso:List*"])
    world.control.seed({"access_keys": [weak]})
    assert _err(_assume, world, world.sts(weak), role_arn=arn) == ("NoPermission", 403)


def test_session_policy_narrows_permissions(world):
    arn = _role(world, permissions=["cloudsso:*"])
    policy = json.dumps({"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["cloudsso:List*"],
                                                         "Resource": "*"}]})
    c = _assume(world, role_arn=arn, policy=policy).credentials
    client = world.sso(c.access_key_id, c.access_key_secret, c.security_token)
    client.list_scimserver_credentials(sso.ListSCIMServerCredentialsRequest(directory_id=world.directory_id))
    assert _err(client.create_scimserver_credential, sso.CreateSCIMServerCredentialRequest(
        directory_id=world.directory_id))[0] == "Forbidden.RAM"


def test_sts_credentials_expire_on_the_virtual_clock(world):
    arn = _role(world)
    c = _assume(world, role_arn=arn, duration_seconds=900).credentials
    client = world.sso(c.access_key_id, c.access_key_secret, c.security_token)
    req = sso.ListSCIMServerCredentialsRequest(directory_id=world.directory_id)
    client.list_scimserver_credentials(req)
    world.control.clock(advance_seconds=890)
    client.list_scimserver_credentials(req)
    world.control.clock(advance_seconds=11)
    assert _err(client.list_scimserver_credentials, req) == ("InvalidSecurityToken.Expired", 400)


def test_token_mismatch_and_malformed(world):
    arn = _role(world)
    a = _assume(world, role_arn=arn).credentials
    b = _assume(world, role_arn=arn).credentials
    req = sso.ListSCIMServerCredentialsRequest(directory_id=world.directory_id)
    mixed = world.sso(a.access_key_id, a.access_key_secret, b.security_token)
    assert _err(mixed.list_scimserver_credentials, req) == ("InvalidSecurityToken.MismatchWithAccessKey", 400)
    garbled = world.sso(a.access_key_id, a.access_key_secret, "CAISgarbage")
    assert _err(garbled.list_scimserver_credentials, req) == ("InvalidSecurityToken.Malformed", 400)
    unknown_sts = world.sso("STS.doesnotexist00000000000", "x", "y")
    assert _err(unknown_sts.list_scimserver_credentials, req) == ("InvalidAccessKeyId.NotFound", 404)


def test_issued_secrets_are_in_the_leak_list(world):
    c = _assume(world, role_arn=_role(world)).credentials
    values = world.control.secrets()
    assert c.access_key_secret in values and c.security_token in values and world.ak["secret"] in values


# ---------------------------------------------------------------- ECS metadata

CREDS = "/latest/meta-data/ram/security-credentials/"


@pytest.fixture
def ecs(world):
    world.control.seed({"ecs_roles": [{"name": "EcsRotator", "account_id": world.account_id,
                                       "permissions": ["cloudsso:*"]}]})
    return world


def _token(world, ttl="21600"):
    return http(world.emu.url + "/latest/api/token", "PUT", headers={"X-aliyun-ecs-metadata-token-ttl-seconds": ttl})


def test_imds_v1_and_v2(ecs):
    url = ecs.emu.url
    status, _, name = http(url + CREDS)
    assert status == 200 and name == "EcsRotator"
    status, _, token = _token(ecs)
    assert status == 200 and len(token) > 20
    status, _, creds = http(url + CREDS + "EcsRotator", headers={"X-aliyun-ecs-metadata-token": token})
    assert status == 200 and creds["Code"] == "Success" and creds["AccessKeyId"].startswith("STS.")
    assert set(creds) == {"AccessKeyId", "AccessKeySecret", "SecurityToken", "Expiration", "LastUpdated", "Code"}
    # the same credentials are served until they near expiry, as on a real instance
    assert http(url + CREDS + "EcsRotator")[2]["AccessKeyId"] == creds["AccessKeyId"]
    client = ecs.sso(creds["AccessKeyId"], creds["AccessKeySecret"], creds["SecurityToken"])
    client.list_scimserver_credentials(sso.ListSCIMServerCredentialsRequest(directory_id=ecs.directory_id))
    assert http(url + CREDS + "NotMine")[0] == 404
    assert http(url + CREDS, headers={"X-aliyun-ecs-metadata-token": "forged"})[0] == 401


def test_imds_v2_required_setting(ecs):
    ecs.control.config(imds_v2_required=True)
    url = ecs.emu.url
    assert http(url + CREDS)[0] == 403
    assert http(url + CREDS + "EcsRotator")[0] == 403
    token = _token(ecs)[2]
    assert http(url + CREDS + "EcsRotator", headers={"X-aliyun-ecs-metadata-token": token})[0] == 200


def test_imds_token_ttl_rules(ecs):
    assert _token(ecs, "0")[0] == 400
    assert _token(ecs, "21601")[0] == 400
    assert http(ecs.emu.url + "/latest/api/token", "PUT")[0] == 400
    status, _, token = _token(ecs, "60")
    ecs.control.clock(advance_seconds=61)
    assert http(ecs.emu.url + CREDS, headers={"X-aliyun-ecs-metadata-token": token})[0] == 401


def test_imds_credentials_rotate_near_expiry(ecs):
    first = http(ecs.emu.url + CREDS + "EcsRotator")[2]
    ecs.control.clock(advance_seconds=21600 - 20 * 60)
    second = http(ecs.emu.url + CREDS + "EcsRotator")[2]
    assert second["AccessKeyId"] != first["AccessKeyId"]
