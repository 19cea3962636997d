# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
from datetime import timedelta

import pytest

from ansible_collections.alicloud.cloudsso.plugins.module_utils import credential_chain as chain
from ansible_collections.alicloud.cloudsso.plugins.module_utils import credentials as cred
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import CredentialError, explain

# Obviously fake keys (never the LTAI prefix of real ones).
AK = ("AKIDexampleOPTIONS01", "optSecret-9f8e7d6c5b4a")
ENV_AK = ("AKIDexampleENV000001", "envSecret-0a1b2c3d4e5f")
ALICLOUD_AK = ("AKIDexampleALICLOUD1", "alicloudSecret-5e6f7a8b")
PROFILE_AK = ("AKIDexamplePROFILE01", "profileSecret-1c2d3e4f5a")
OIDC_TOKEN = "eyJhbGciOiJSUzI1NiJ9.fake-oidc-payload-one.sig1"
ROLE = "acs:ram::1234567890123456:role/cloudsso-admin"
OIDC_ROLE = "acs:ram::1234567890123456:role/rrsa-role"
PROVIDER_ARN = "acs:ram::1234567890123456:oidc-provider/ack-rrsa-c0ffee"
URI = "http://127.0.0.1:8999/credentials"

BASE_PARAMS = dict(timeout=30, validate_certs=True, max_retries=0)

# Every test here must go through a fake session: a real one could reach 100.100.100.200 or STS.
pytestmark = pytest.mark.usefixtures("no_real_sessions")


class Recorder(object):
    """register_secret that remembers what it was given."""

    def __init__(self):
        self.values = []

    def __call__(self, value):
        self.values.append(value)


def params(**kwargs):
    merged = dict(BASE_PARAMS)
    merged.update(kwargs)
    return merged


def write_config(path, profiles, current="default", **extra):
    data = dict(current=current, profiles=profiles, meta_path="")
    data.update(extra)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return str(path)


def ak_profile(name="default", keys=PROFILE_AK, **extra):
    profile = dict(name=name, mode="AK", access_key_id=keys[0], access_key_secret=keys[1], region_id="cn-shanghai",
                   output_format="json", language="en")
    profile.update(extra)
    return profile


@pytest.fixture
def home(tmp_path):
    return tmp_path / "home"


@pytest.fixture
def config_path(home):
    return home / ".aliyun" / "config.json"


@pytest.fixture
def make(fake_cloud, home):
    """make(params=..., env=...) -> (provider, recorder)."""
    def factory(options=None, env=None):
        recorder = Recorder()
        provider = chain.credentials_provider(params(**(options or {})), register_secret=recorder,
                                             session=fake_cloud.session, env=dict(env or {}), home=str(home))
        return provider, recorder
    return factory


def get(make, options=None, env=None):
    provider, recorder = make(options, env)
    return provider.get(), recorder


def oidc_env(token_file):
    return {"ALIBABA_CLOUD_ROLE_ARN": OIDC_ROLE, "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": PROVIDER_ARN,
            "ALIBABA_CLOUD_OIDC_TOKEN_FILE": str(token_file)}


# --- static sources -------------------------------------------------------------------------------------

def test_explicit_options_with_security_token(make, fake_cloud):
    credential, recorder = get(make, dict(access_key_id=AK[0], access_key_secret=AK[1], security_token="opt-token-77"))
    assert (credential.access_key_id, credential.access_key_secret, credential.security_token) == (AK[0], AK[1], "opt-token-77")
    assert credential.source == "options" and credential.expiration is None
    assert AK[1] in recorder.values and "opt-token-77" in recorder.values
    assert fake_cloud.requests == []


def test_nothing_is_read_or_fetched_before_get(make, fake_cloud, config_path):
    write_config(config_path, [ak_profile()])
    make(env={"ALIBABA_CLOUD_CREDENTIALS_URI": URI})
    assert fake_cloud.requests == []


def test_environment_alibaba_cloud_names(make):
    env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": ENV_AK[0], "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ENV_AK[1],
           "ALIBABA_CLOUD_SECURITY_TOKEN": "env-token-1"}
    credential, recorder = get(make, env=env)
    assert (credential.access_key_id, credential.access_key_secret, credential.security_token) == ENV_AK + ("env-token-1",)
    assert credential.source == "environment"
    assert {ENV_AK[1], "env-token-1"} <= set(recorder.values)


def test_environment_alicloud_names(make):
    env = {"ALICLOUD_ACCESS_KEY": ALICLOUD_AK[0], "ALICLOUD_SECRET_KEY": ALICLOUD_AK[1],
           "ALICLOUD_SECURITY_TOKEN": "alicloud-token-2"}
    credential, recorder = get(make, env=env)
    assert (credential.access_key_id, credential.security_token) == (ALICLOUD_AK[0], "alicloud-token-2")
    assert credential.source == "environment:ALICLOUD"
    assert ALICLOUD_AK[1] in recorder.values


def test_empty_environment_values_count_as_unset(make):
    env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "",
           "ALICLOUD_ACCESS_KEY": ALICLOUD_AK[0], "ALICLOUD_SECRET_KEY": ALICLOUD_AK[1]}
    assert get(make, env=env)[0].access_key_id == ALICLOUD_AK[0]


@pytest.mark.parametrize("env, named, missing", [
    ({"ALIBABA_CLOUD_ACCESS_KEY_ID": ENV_AK[0]}, "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
    ({"ALIBABA_CLOUD_ACCESS_KEY_SECRET": ENV_AK[1]}, "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_ACCESS_KEY_ID"),
    ({"ALICLOUD_SECRET_KEY": ALICLOUD_AK[1]}, "ALICLOUD_SECRET_KEY", "ALICLOUD_ACCESS_KEY"),
])
def test_half_an_environment_pair_fails_without_the_value(make, env, named, missing):
    # Looking further would silently act as another identity.
    env = dict(env, ALIBABA_CLOUD_CREDENTIALS_URI=URI)
    provider, recorder = make(env=env)
    with pytest.raises(CredentialError) as info:
        provider.get()
    message = str(info.value)
    assert "%s is set but %s is not" % (named, missing) in message
    for value in env.values():
        if value != URI:
            assert value not in message
    assert set(recorder.values) >= set(v for k, v in env.items() if "SECRET" in k)


# --- precedence -----------------------------------------------------------------------------------------

@pytest.fixture
def everything(fake_cloud, tmp_path, config_path):
    """Every source configured, each giving a different identity."""
    token_file = tmp_path / "oidc-token"
    token_file.write_text(OIDC_TOKEN)
    fake_cloud.roles[OIDC_ROLE] = True
    fake_cloud.ecs_roles = {"EcsInstanceRole": True}
    write_config(config_path, [ak_profile()])
    env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": ENV_AK[0], "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ENV_AK[1],
           "ALICLOUD_ACCESS_KEY": ALICLOUD_AK[0], "ALICLOUD_SECRET_KEY": ALICLOUD_AK[1],
           "ALIBABA_CLOUD_CREDENTIALS_URI": URI}
    env.update(oidc_env(token_file))
    return env


def uri_answer(fakes, fake_cloud, code="Success", status=200, prefix="URI"):
    creds = fake_cloud.issue(timedelta(hours=1), prefix)
    creds["Code"] = code
    fake_cloud.uris[URI] = fakes.Response(status, creds)
    return creds


def test_order_of_precedence(make, fake_cloud, everything, fakes, config_path):
    uri_creds = uri_answer(fakes, fake_cloud)
    env = dict(everything)
    # options > everything else
    assert get(make, dict(access_key_id=AK[0], access_key_secret=AK[1]), env)[0].source == "options"
    # env > ALICLOUD_* > OIDC > profile > ECS > URI: remove the winner, one at a time.
    expected = [
        ("environment", ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET")),
        ("environment:ALICLOUD", ("ALICLOUD_ACCESS_KEY", "ALICLOUD_SECRET_KEY")),
        ("oidc", ("ALIBABA_CLOUD_ROLE_ARN",)),
        ("profile:default(AK)", ()),
        ("ecs_ram_role", ()),
        ("credentials_uri", ()),
    ]
    for source, remove in expected:
        if source == "ecs_ram_role":
            os.remove(str(config_path))
        if source == "credentials_uri":
            fake_cloud.ecs_roles = None
        credential = get(make, env=env)[0]
        assert credential.source == source
        for name in remove:
            del env[name]
    assert credential.access_key_id == uri_creds["AccessKeyId"]


def test_explicit_profile_option_beats_environment(make, everything, config_path):
    write_config(config_path, [ak_profile(), ak_profile("other", keys=("AKIDexampleOTHER0001", "otherSecret-77"))])
    credential = get(make, dict(profile="other"), everything)[0]
    assert (credential.access_key_id, credential.source) == ("AKIDexampleOTHER0001", "profile:other(AK)")


def test_explicit_ecs_role_name_beats_environment(make, fake_cloud, everything):
    credential = get(make, dict(ecs_role_name="EcsInstanceRole"), everything)[0]
    assert credential.source == "ecs_ram_role"
    assert [r.path for r in fake_cloud.requests][-1] == "/latest/meta-data/ram/security-credentials/EcsInstanceRole"


def test_the_chosen_source_is_kept(make, fake_cloud, everything):
    provider, _ = make(env=everything)
    first = provider.get()
    assert provider.get() is first


# --- nothing found --------------------------------------------------------------------------------------

def test_nothing_found_lists_every_source_tried_without_values(make, fake_cloud):
    env = {"ALIBABA_CLOUD_ROLE_ARN": OIDC_ROLE, "SOME_OTHER": "x"}
    provider, _ = make(env=env)
    with pytest.raises(CredentialError) as info:
        provider.get()
    message = str(info.value)
    for name in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALICLOUD_ACCESS_KEY", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
                 ".aliyun/config.json (file not found)", "100.100.100.200 (not reachable",
                 "ALIBABA_CLOUD_CREDENTIALS_URI (not set)"):
        assert name in message
    assert OIDC_ROLE not in message
    assert message.index("ALIBABA_CLOUD_ACCESS_KEY_ID") < message.index("ALICLOUD_ACCESS_KEY") < \
        message.index("OIDC") < message.index("aliyun CLI") < message.index("ECS") < message.index("CREDENTIALS_URI")
    assert explain(info.value).startswith("No usable Alibaba Cloud credentials: ")


def test_ecs_probe_uses_a_short_connect_timeout_and_moves_on(make, fake_cloud, fakes):
    creds = uri_answer(fakes, fake_cloud)
    credential = get(make, env={"ALIBABA_CLOUD_CREDENTIALS_URI": URI})[0]
    assert credential.access_key_id == creds["AccessKeyId"]
    ecs = fake_cloud.ecs_requests()
    assert len(ecs) == 1, "an unreachable metadata service is asked once, not again for IMDSv1"
    assert ecs[0].timeout == (1.0, 30)


def test_ecs_disabled_skips_the_probe(make, fake_cloud, fakes):
    uri_answer(fakes, fake_cloud)
    fake_cloud.ecs_roles = {"EcsInstanceRole": True}
    credential = get(make, env={"ALIBABA_CLOUD_CREDENTIALS_URI": URI, "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"})[0]
    assert credential.source == "credentials_uri"
    assert fake_cloud.ecs_requests() == []


# --- aliyun CLI profiles --------------------------------------------------------------------------------

def test_profile_modes_ak_and_ststoken(make, config_path):
    write_config(config_path, [
        ak_profile(),
        dict(name="sts", mode="StsToken", access_key_id="STS.fakeProfileId", access_key_secret="stsProfileSecret-1",
             sts_token="profile-sts-token-1"),
    ])
    credential, recorder = get(make)
    assert (credential.access_key_id, credential.access_key_secret, credential.security_token) == PROFILE_AK + (None,)
    assert credential.source == "profile:default(AK)" and PROFILE_AK[1] in recorder.values
    credential, recorder = get(make, dict(profile="sts"))
    assert (credential.access_key_id, credential.security_token) == ("STS.fakeProfileId", "profile-sts-token-1")
    assert {"stsProfileSecret-1", "profile-sts-token-1"} <= set(recorder.values)


def test_profile_mode_ramrolearn_assumes_the_role_with_the_profile_keys(make, fake_cloud, config_path):
    fake_cloud.keys[PROFILE_AK[0]] = (PROFILE_AK[1], None)
    fake_cloud.roles[ROLE] = True
    write_config(config_path, [ak_profile(mode="RamRoleArn", ram_role_arn=ROLE, ram_session_name="cli-session",
                                          expired_seconds=1800, external_id="ext-42")])
    credential, recorder = get(make)
    (call,) = fake_cloud.sts_requests("AssumeRole")
    assert call.query["AccessKeyId"] == PROFILE_AK[0] and "SecurityToken" not in call.query
    assert (call.query["RoleArn"], call.query["RoleSessionName"], call.query["DurationSeconds"]) == (ROLE, "cli-session", "1800")
    assert call.query["ExternalId"] == "ext-42"
    assert call.host == "sts.aliyuncs.com" and call.scheme == "https"
    issued = fake_cloud.issued[-1]
    assert (credential.access_key_id, credential.security_token) == (issued["AccessKeyId"], issued["SecurityToken"])
    assert credential.source == "profile:default(RamRoleArn)"
    assert {PROFILE_AK[1], issued["AccessKeySecret"], issued["SecurityToken"]} <= set(recorder.values)


def test_profile_mode_chainable_ramrolearn(make, fake_cloud, config_path):
    second_role = "acs:ram::6543210987654321:role/target"
    fake_cloud.keys[PROFILE_AK[0]] = (PROFILE_AK[1], None)
    fake_cloud.roles.update({ROLE: True, second_role: True})
    write_config(config_path, [
        ak_profile("base", mode="RamRoleArn", ram_role_arn=ROLE, ram_session_name="hop1"),
        dict(name="chained", mode="ChainableRamRoleArn", source_profile="base", ram_role_arn=second_role,
             ram_session_name="hop2", region_id="ap-southeast-1"),
    ], current="chained")
    credential = get(make)[0]
    first, second = fake_cloud.sts_requests("AssumeRole")
    assert (first.query["RoleArn"], second.query["RoleArn"]) == (ROLE, second_role)
    # The second hop is signed with the first hop's temporary keys, token included (FakeCloud checks both).
    assert second.query["AccessKeyId"] == fake_cloud.issued[0]["AccessKeyId"]
    assert second.query["SecurityToken"] == fake_cloud.issued[0]["SecurityToken"]
    assert credential.access_key_id == fake_cloud.issued[1]["AccessKeyId"]
    assert credential.source == "profile:chained(ChainableRamRoleArn)"


def test_profile_chain_loop_is_an_error(make, config_path):
    write_config(config_path, [
        dict(name="a", mode="ChainableRamRoleArn", source_profile="b", ram_role_arn=ROLE),
        dict(name="b", mode="ChainableRamRoleArn", source_profile="a", ram_role_arn=ROLE),
    ], current="a")
    with pytest.raises(CredentialError, match="loop"):
        get(make)


def test_profile_mode_ecsramrole(make, fake_cloud, config_path):
    fake_cloud.ecs_roles = {"ProfileRole": True, "OtherRole": True}
    write_config(config_path, [dict(name="default", mode="EcsRamRole", ram_role_name="ProfileRole")])
    credential = get(make)[0]
    assert credential.source == "profile:default(EcsRamRole)"
    paths = [r.path for r in fake_cloud.ecs_requests()]
    assert paths == ["/latest/api/token", "/latest/meta-data/ram/security-credentials/ProfileRole"]
    assert fake_cloud.ecs_requests()[0].timeout == 30, "a configured role is not a probe"


def test_profile_mode_oidc(make, fake_cloud, config_path, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(OIDC_TOKEN + "\n")
    fake_cloud.roles[OIDC_ROLE] = True
    write_config(config_path, [dict(name="default", mode="OIDC", ram_role_arn=OIDC_ROLE, oidc_provider_arn=PROVIDER_ARN,
                                    oidc_token_file=str(token_file), ram_session_name="cli-oidc", sts_region="cn-hangzhou")])
    credential, recorder = get(make)
    (call,) = fake_cloud.sts_requests("AssumeRoleWithOIDC")
    assert call.query["OIDCToken"] == OIDC_TOKEN
    assert call.query["RoleSessionName"] == "cli-oidc"
    assert call.host == "sts.cn-hangzhou.aliyuncs.com"
    assert credential.source == "profile:default(OIDC)" and OIDC_TOKEN in recorder.values


def test_profile_mode_credentialsuri_and_case_insensitive_mode(make, fake_cloud, fakes, config_path):
    creds = uri_answer(fakes, fake_cloud)
    write_config(config_path, [dict(name="default", mode="credentialsuri", credentials_uri=URI)])
    credential = get(make)[0]
    assert credential.access_key_id == creds["AccessKeyId"]
    assert credential.source == "profile:default(CredentialsURI)"


def test_unsupported_profile_mode_is_named(make, config_path):
    write_config(config_path, [dict(name="default", mode="CloudSSO", cloud_sso_sign_in_url="https://example.invalid")])
    with pytest.raises(CredentialError, match="mode 'CloudSSO'.*not support"):
        get(make)


def test_profile_missing_keys_are_named(make, config_path):
    write_config(config_path, [dict(name="default", mode="AK", access_key_id=PROFILE_AK[0], access_key_secret="")])
    with pytest.raises(CredentialError, match="has no access_key_secret"):
        get(make)


@pytest.mark.parametrize("options, env, expected", [
    ({}, {}, "default"),
    ({}, {"ALICLOUD_PROFILE": "second"}, "second"),
    ({}, {"ALIBABA_CLOUD_PROFILE": "third", "ALICLOUD_PROFILE": "second"}, "third"),
    ({"profile": "fourth"}, {"ALIBABA_CLOUD_PROFILE": "third"}, "fourth"),
])
def test_profile_name_precedence(make, config_path, options, env, expected):
    names = ["default", "second", "third", "fourth"]
    write_config(config_path, [ak_profile(n, keys=("AKIDexampleNAME%s" % n.upper(), "s-" + n)) for n in names])
    assert get(make, options, env)[0].source == "profile:%s(AK)" % expected


def test_config_file_precedence(make, tmp_path, config_path):
    default_file = write_config(config_path, [ak_profile(keys=("AKIDexampleFILEHOME0", "s1"))])
    alicloud_file = write_config(tmp_path / "alicloud.json", [ak_profile(keys=("AKIDexampleFILEALI00", "s2"))])
    alibaba_file = write_config(tmp_path / "alibaba.json", [ak_profile(keys=("AKIDexampleFILEALIBA", "s3"))])
    option_file = write_config(tmp_path / "option.json", [ak_profile(keys=("AKIDexampleFILEOPT00", "s4"))])
    env = {}
    assert get(make, env=env)[0].access_key_id == "AKIDexampleFILEHOME0"
    env["ALICLOUD_SHARED_CREDENTIALS_FILE"] = alicloud_file
    assert get(make, env=env)[0].access_key_id == "AKIDexampleFILEALI00"
    env["ALIBABA_CLOUD_CONFIG_FILE"] = alibaba_file
    assert get(make, env=env)[0].access_key_id == "AKIDexampleFILEALIBA"
    assert get(make, dict(shared_credentials_file=option_file), env)[0].access_key_id == "AKIDexampleFILEOPT00"
    assert default_file


def test_missing_file_is_skipped_when_no_profile_was_asked_for(make, fake_cloud, fakes):
    uri_answer(fakes, fake_cloud)
    assert get(make, env={"ALIBABA_CLOUD_CREDENTIALS_URI": URI})[0].source == "credentials_uri"


@pytest.mark.parametrize("options, env", [
    ({"profile": "prod"}, {}),
    ({}, {"ALIBABA_CLOUD_PROFILE": "prod"}),
    ({"shared_credentials_file": "/nonexistent/aliyun.json"}, {}),
])
def test_missing_file_fails_when_a_profile_was_asked_for(make, options, env):
    with pytest.raises(CredentialError) as info:
        get(make, options, env)
    assert "does not exist" in str(info.value)
    assert ("/nonexistent/aliyun.json" if options.get("shared_credentials_file") else ".aliyun/config.json") in str(info.value)


def test_explicit_profile_not_in_file_names_file_and_profiles(make, config_path):
    write_config(config_path, [ak_profile("default"), ak_profile("staging")])
    with pytest.raises(CredentialError) as info:
        get(make, dict(profile="prod"))
    message = str(info.value)
    assert "'prod'" in message and str(config_path) in message and "default, staging" in message
    assert PROFILE_AK[1] not in message


def test_current_profile_missing_from_file_is_an_error(make, config_path):
    write_config(config_path, [ak_profile("default")], current="gone")
    with pytest.raises(CredentialError, match="'gone'.*current profile"):
        get(make)


def test_invalid_json_is_reported_without_its_content(make, config_path):
    config_path.parent.mkdir(parents=True)
    config_path.write_text('{"profiles": [{"access_key_secret": "leakySecret-123", }]}')
    with pytest.raises(CredentialError) as info:
        get(make)
    assert "not valid JSON" in str(info.value) and "leakySecret" not in str(info.value)


def test_cli_profile_disabled_skips_the_file(make, fake_cloud, fakes, config_path):
    write_config(config_path, [ak_profile()])
    uri_answer(fakes, fake_cloud)
    env = {"ALIBABA_CLOUD_CLI_PROFILE_DISABLED": "true", "ALIBABA_CLOUD_CREDENTIALS_URI": URI}
    assert get(make, env=env)[0].source == "credentials_uri"
    # An explicit option still wins over the variable.
    assert get(make, dict(profile="default"), env)[0].source == "profile:default(AK)"


def test_profile_region(home, config_path):
    write_config(config_path, [
        ak_profile("default", region_id="cn-shanghai"),
        ak_profile("sg", region_id="ap-southeast-1"),
        dict(name="hop", mode="ChainableRamRoleArn", source_profile="sg", ram_role_arn=ROLE),
    ])
    home = str(home)
    assert chain.profile_region({}, env={}, home=home) == "cn-shanghai"
    assert chain.profile_region({}, env={"ALIBABA_CLOUD_PROFILE": "sg"}, home=home) == "ap-southeast-1"
    assert chain.profile_region({"profile": "hop"}, env={}, home=home) == "ap-southeast-1"
    assert chain.profile_region({}, env={"ALIBABA_CLOUD_CLI_PROFILE_DISABLED": "true"}, home=home) is None
    # A variable naming a missing profile gives no region; the credential chain reports the problem.
    assert chain.profile_region({}, env={"ALIBABA_CLOUD_PROFILE": "gone"}, home=home) is None
    with pytest.raises(CredentialError, match="'gone'"):
        chain.profile_region({"profile": "gone"}, env={}, home=home)
    assert chain.profile_region({}, env={}, home=home + "-missing") is None


# --- official SDK as oracle -----------------------------------------------------------------------------

def test_cli_profiles_match_the_official_provider(make, config_path, monkeypatch):
    from alibabacloud_credentials.provider import cli_profile
    from alibabacloud_credentials.utils import auth_util
    monkeypatch.setattr(auth_util, "environment_cli_profile_disabled", "false")
    write_config(config_path, [
        ak_profile(),
        dict(name="sts", mode="StsToken", access_key_id="STS.fakeOracleId", access_key_secret="oracleSecret-2",
             sts_token="oracle-token-2"),
    ])
    for name in ("default", "sts"):
        official = cli_profile.CLIProfileCredentialsProvider(profile_name=name, profile_file=str(config_path)).get_credentials()
        ours = get(make, dict(profile=name))[0]
        assert (ours.access_key_id, ours.access_key_secret, ours.security_token) == \
            (official.get_access_key_id(), official.get_access_key_secret(), official.get_security_token())


def test_ramrolearn_request_matches_the_official_provider(make, fake_cloud, config_path, monkeypatch, fakes):
    from alibabacloud_credentials.provider import cli_profile, ram_role_arn
    from alibabacloud_credentials.utils import auth_util
    monkeypatch.setattr(auth_util, "environment_cli_profile_disabled", "false")
    monkeypatch.setattr(auth_util, "environment_sts_region", None)
    monkeypatch.setattr(auth_util, "environment_enable_vpc", "false")
    write_config(config_path, [ak_profile(mode="RamRoleArn", ram_role_arn=ROLE, ram_session_name="oracle-session",
                                          expired_seconds=2400, external_id="ext-oracle",
                                          policy='{"Version":"1","Statement":[]}')])
    seen = []

    class Answer(object):
        status_code = 200
        body = json.dumps({"Credentials": {"AccessKeyId": "STS.fakeOracle", "AccessKeySecret": "o-secret",
                                           "SecurityToken": "o-token", "Expiration": "2099-01-01T00:00:00Z"}}).encode()

    def do_action(request, runtime=None):
        seen.append(request)
        return Answer()

    monkeypatch.setattr(ram_role_arn.TeaCore, "do_action", staticmethod(do_action))
    cli_profile.CLIProfileCredentialsProvider(profile_name="default", profile_file=str(config_path)).get_credentials()
    fake_cloud.keys[PROFILE_AK[0]] = (PROFILE_AK[1], None)
    fake_cloud.roles[ROLE] = True
    get(make)
    (official,) = seen
    (ours,) = fake_cloud.sts_requests("AssumeRole")
    business = ("Action", "Version", "Format", "RoleArn", "RoleSessionName", "DurationSeconds", "ExternalId", "Policy",
                "AccessKeyId", "SignatureMethod", "SignatureVersion")
    assert dict((k, ours.query.get(k)) for k in business) == dict((k, official.query.get(k)) for k in business)
    assert ours.host == official.headers["host"]
    # Both signatures verify with the profile's secret (each over its own method).
    assert fakes.rpc_signature(ours.query, PROFILE_AK[1], "POST") == ours.query["Signature"]
    assert fakes.rpc_signature(official.query, PROFILE_AK[1], "GET") == official.query["Signature"]


def test_ecs_requests_match_the_official_provider(make, fake_cloud, monkeypatch, fakes):
    from alibabacloud_credentials.provider import ecs_ram_role
    from alibabacloud_credentials.utils import auth_util
    monkeypatch.setattr(auth_util, "environment_ecs_metadata_disabled", "false")
    monkeypatch.setattr(auth_util, "environment_imds_v1_disabled", "false")
    monkeypatch.setattr(auth_util, "environment_ecs_metadata", None)
    fake_cloud.ecs_roles = {"OracleRole": True}
    seen = []

    class Answer(object):
        def __init__(self, response):
            self.status_code = response.status_code
            self.body = response.content

    def do_action(request, runtime=None):
        seen.append((request.method, request.pathname, dict((k.lower(), v) for k, v in request.headers.items()
                                                             if k.lower().startswith("x-aliyun"))))
        url = "http://%s%s" % (fake_cloud.ecs_endpoint, request.pathname)
        fake = fakes.Session(fake_cloud.handle).request(request.method, url, headers=request.headers, allow_redirects=False)
        return Answer(fake)

    monkeypatch.setattr(ecs_ram_role.TeaCore, "do_action", staticmethod(do_action))
    official = ecs_ram_role.EcsRamRoleCredentialsProvider(async_update_enabled=False).get_credentials()
    assert official.get_access_key_id().startswith("ECS.")
    get(make, dict(ecs_role_name=None), {"ALIBABA_CLOUD_ECS_METADATA": "OracleRole"})
    ours = set((r.method, r.path, tuple(sorted((k.lower(), v) for k, v in r.headers.items())))
               for r in fake_cloud.ecs_requests())
    theirs = set((m, p, tuple(sorted(h.items()))) for m, p, h in seen)
    # The official provider also lists the roles (no role name given to it); every request we make is one it makes.
    assert ours <= theirs and len(ours) == 2


# --- ECS metadata ---------------------------------------------------------------------------------------

def test_ecs_imdsv2_discovers_the_role(make, fake_cloud, frozen_clock):
    fake_cloud.ecs_roles = {"DiscoveredRole": True}
    credential, recorder = get(make, env={"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "false"})
    token, listing, fetch = fake_cloud.ecs_requests()
    assert (token.method, token.path) == ("PUT", "/latest/api/token")
    assert token.headers["X-aliyun-ecs-metadata-token-ttl-seconds"] == "21600"
    assert listing.path == "/latest/meta-data/ram/security-credentials/"
    assert fetch.path.endswith("/DiscoveredRole")
    assert listing.headers["X-aliyun-ecs-metadata-token"] == fetch.headers["X-aliyun-ecs-metadata-token"] == "imds-session-token-7f3a"
    assert listing.timeout == (1.0, 30), "a discovered role is reached by the probe"
    issued = fake_cloud.issued[-1]
    assert credential.expiration == frozen_clock.now + timedelta(hours=6)
    assert {issued["AccessKeySecret"], issued["SecurityToken"]} <= set(recorder.values)


def test_ecs_falls_back_to_imdsv1(make, fake_cloud):
    fake_cloud.ecs_roles = {"V1Role": True}
    fake_cloud.ecs_v2 = False
    credential = get(make, dict(ecs_role_name="V1Role"))[0]
    token, fetch = fake_cloud.ecs_requests()
    assert token.method == "PUT" and "X-aliyun-ecs-metadata-token" not in fetch.headers
    assert credential.source == "ecs_ram_role"


def test_ecs_imdsv1_disabled_fails(make, fake_cloud):
    fake_cloud.ecs_roles = {"V1Role": True}
    fake_cloud.ecs_v2 = False
    with pytest.raises(CredentialError, match="ALIBABA_CLOUD_IMDSV1_DISABLED=true"):
        get(make, dict(ecs_role_name="V1Role"), {"ALIBABA_CLOUD_IMDSV1_DISABLED": "true"})
    assert len(fake_cloud.ecs_requests()) == 1


def test_ecs_configured_role_fails_loudly_when_unreachable(make, fake_cloud, fakes):
    uri_answer(fakes, fake_cloud)
    with pytest.raises(CredentialError, match="ECS"):
        get(make, env={"ALIBABA_CLOUD_ECS_METADATA": "SomeRole", "ALIBABA_CLOUD_CREDENTIALS_URI": URI})


def test_ecs_endpoint_override_and_unknown_role(fakes):
    fake_cloud = fakes.Cloud(ecs_endpoint="127.0.0.1:8100")
    fake_cloud.ecs_roles = {"Known": True}
    provider = chain.credentials_provider(params(ecs_role_name="Unknown"), session=fake_cloud.session,
                                         env={"ALIBABA_CLOUD_ECS_METADATA_ENDPOINT": "127.0.0.1:8100"}, home="/nonexistent")
    with pytest.raises(CredentialError, match="HTTP 404"):
        provider.get()
    assert all(r.scheme == "http" and r.host == "127.0.0.1:8100" for r in fake_cloud.requests)


def test_ecs_non_success_code(make, fake_cloud, fakes):
    fake_cloud.ecs_roles = {"R": True}
    original = fake_cloud.ecs

    def failing(request):
        answer = original(request)
        if request.path.endswith("/R"):
            body = answer.json()
            body["Code"] = "Failed"
            return fakes.Response(200, body)
        return answer

    fake_cloud.ecs = failing
    with pytest.raises(CredentialError) as info:
        get(make, dict(ecs_role_name="R"))
    assert "'Failed'" in str(info.value) and fake_cloud.issued[-1]["AccessKeySecret"] not in str(info.value)


# --- credentials URI ------------------------------------------------------------------------------------

def test_credentials_uri(make, fake_cloud, fakes, frozen_clock):
    creds = uri_answer(fakes, fake_cloud)
    credential, recorder = get(make, env={"ALIBABA_CLOUD_CREDENTIALS_URI": URI})
    assert (credential.access_key_id, credential.access_key_secret, credential.security_token) == \
        (creds["AccessKeyId"], creds["AccessKeySecret"], creds["SecurityToken"])
    assert credential.expiration == frozen_clock.now + timedelta(hours=1)
    assert {creds["AccessKeySecret"], creds["SecurityToken"]} <= set(recorder.values)


@pytest.mark.parametrize("status, code, expected", [(500, "Success", "HTTP 500"), (200, "Failed", "Code 'Failed'")])
def test_credentials_uri_failures_hide_the_body_and_the_query(make, fake_cloud, fakes, status, code, expected):
    creds = uri_answer(fakes, fake_cloud, code=code, status=status)
    provider, _ = make(env={"ALIBABA_CLOUD_CREDENTIALS_URI": URI + "?token=uriQuerySecret"})
    with pytest.raises(CredentialError) as info:
        provider.get()
    message = str(info.value)
    assert expected in message and URI in message
    for secret in ("uriQuerySecret", creds["AccessKeySecret"], creds["SecurityToken"]):
        assert secret not in message


# --- OIDC -----------------------------------------------------------------------------------------------

def test_oidc_from_environment(make, fake_cloud, tmp_path, frozen_clock):
    token_file = tmp_path / "token"
    token_file.write_text(OIDC_TOKEN)
    fake_cloud.roles[OIDC_ROLE] = True
    env = oidc_env(token_file)
    env["ALIBABA_CLOUD_ROLE_SESSION_NAME"] = "rrsa-session"
    credential, recorder = get(make, env=env)
    (call,) = fake_cloud.sts_requests("AssumeRoleWithOIDC")
    query = call.query
    assert (query["RoleArn"], query["OIDCProviderArn"], query["OIDCToken"]) == (OIDC_ROLE, PROVIDER_ARN, OIDC_TOKEN)
    assert (query["RoleSessionName"], query["DurationSeconds"], query["Format"]) == ("rrsa-session", "3600", "JSON")
    assert "Signature" not in query and "AccessKeyId" not in query and "Authorization" not in call.headers
    assert credential.source == "oidc"
    assert credential.expiration == frozen_clock.now + timedelta(seconds=3600)
    assert OIDC_TOKEN in recorder.values


def test_oidc_default_session_name_and_partial_configuration(make, fake_cloud, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(OIDC_TOKEN)
    fake_cloud.roles[OIDC_ROLE] = True
    get(make, env=oidc_env(token_file))
    assert fake_cloud.sts_requests()[0].query["RoleSessionName"] == "alicloud-cloudsso"
    # Two of three variables: OIDC is not configured, and the chain says which one is missing.
    env = oidc_env(token_file)
    del env["ALIBABA_CLOUD_OIDC_TOKEN_FILE"]
    provider, _ = make(env=env)
    with pytest.raises(CredentialError, match="ALIBABA_CLOUD_OIDC_TOKEN_FILE not set"):
        provider.get()


def test_oidc_token_file_is_read_again_at_each_refresh(make, fake_cloud, tmp_path, frozen_clock):
    token_file = tmp_path / "token"
    token_file.write_text(OIDC_TOKEN)
    fake_cloud.roles[OIDC_ROLE] = True
    provider, recorder = make(env=oidc_env(token_file))
    first = provider.get()
    token_file.write_text("eyJhbGciOiJSUzI1NiJ9.rotated-token-two.sig2")
    frozen_clock.advance(3600 - 120)
    second = provider.get()
    assert fake_cloud.oidc_tokens == [OIDC_TOKEN, "eyJhbGciOiJSUzI1NiJ9.rotated-token-two.sig2"]
    assert first.access_key_id != second.access_key_id
    assert "eyJhbGciOiJSUzI1NiJ9.rotated-token-two.sig2" in recorder.values


def test_oidc_missing_token_file(make, tmp_path):
    provider, _ = make(env=oidc_env(tmp_path / "absent-token"))
    with pytest.raises(CredentialError, match="cannot read the OIDC token file .*absent-token"):
        provider.get()


def test_oidc_token_file_that_is_not_a_token_is_refused_before_the_call(make, fake_cloud, tmp_path):
    fake_cloud.roles[OIDC_ROLE] = True
    provider, _ = make(env=oidc_env("/proc/self/environ"))
    with pytest.raises(CredentialError, match="the OIDC token file /proc/self/environ holds") as raised:
        provider.get()
    assert "PATH" not in str(raised.value) and fake_cloud.oidc_tokens == []
    real = tmp_path / "real-token"
    real.write_text(OIDC_TOKEN + "\n")
    (tmp_path / "token").symlink_to(real)  # Kubernetes mounts projected tokens as links
    provider, _ = make(env=oidc_env(tmp_path / "token"))
    provider.get()
    assert fake_cloud.oidc_tokens == [OIDC_TOKEN]


# --- assume_role on top ---------------------------------------------------------------------------------

ASSUME = dict(role_arn=ROLE, session_name="rotation", duration_seconds=900, external_id="ext-id-7",
              policy='{"Version":"1","Statement":[{"Effect":"Allow","Action":"cloudsso:*","Resource":"*"}]}')


def test_assume_role_on_top_of_environment(make, fake_cloud, frozen_clock):
    fake_cloud.keys[ENV_AK[0]] = (ENV_AK[1], "env-token-3")
    fake_cloud.roles[ROLE] = True
    env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": ENV_AK[0], "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ENV_AK[1],
           "ALIBABA_CLOUD_SECURITY_TOKEN": "env-token-3"}
    credential, recorder = get(make, dict(assume_role=ASSUME), env)
    (call,) = fake_cloud.sts_requests("AssumeRole")
    query = call.query
    assert (query["RoleArn"], query["RoleSessionName"], query["DurationSeconds"]) == (ROLE, "rotation", "900")
    assert (query["ExternalId"], query["Policy"]) == (ASSUME["external_id"], ASSUME["policy"])
    assert (query["AccessKeyId"], query["SecurityToken"]) == (ENV_AK[0], "env-token-3")
    issued = fake_cloud.issued[-1]
    assert (credential.access_key_id, credential.source) == (issued["AccessKeyId"], "assume_role")
    assert credential.expiration == frozen_clock.now + timedelta(seconds=900)
    assert {ENV_AK[1], "env-token-3", issued["AccessKeySecret"], issued["SecurityToken"]} <= set(recorder.values)


def test_assume_role_defaults_without_optional_fields(make, fake_cloud):
    fake_cloud.keys[AK[0]] = (AK[1], None)
    fake_cloud.roles[ROLE] = True
    get(make, dict(access_key_id=AK[0], access_key_secret=AK[1], assume_role=dict(role_arn=ROLE)))
    query = fake_cloud.sts_requests("AssumeRole")[0].query
    assert (query["RoleSessionName"], query["DurationSeconds"]) == ("alicloud-cloudsso", "3600")
    assert "ExternalId" not in query and "Policy" not in query and "SecurityToken" not in query


def test_assume_role_on_top_of_a_refreshing_source(make, fake_cloud, frozen_clock):
    # ECS keys expire; the AssumeRole refresh must sign with fresh ones.
    fake_cloud.ecs_roles = {"R": True}
    fake_cloud.ecs_lifetime = timedelta(minutes=20)
    fake_cloud.roles[ROLE] = True
    provider, _ = make(dict(ecs_role_name="R", assume_role=dict(ASSUME, duration_seconds=900)))
    provider.get()
    frozen_clock.advance(14 * 60)
    provider.get()
    first, second = fake_cloud.sts_requests("AssumeRole")
    assert first.query["AccessKeyId"] == second.query["AccessKeyId"], "ECS keys still valid for 6 minutes"
    frozen_clock.advance(13 * 60)  # the ECS keys expired 7 minutes ago
    provider.get()
    third = fake_cloud.sts_requests("AssumeRole")[-1]
    assert third.query["AccessKeyId"] != first.query["AccessKeyId"]


@pytest.mark.parametrize("code, status, message", [
    ("NoPermission", 403, "You are not authorized to do this action. You should be authorized by RAM."),
    ("EntityNotExist.Role", 404, "The role not exists: acs:ram::1234567890123456:role/cloudsso-admin"),
])
def test_assume_role_errors_name_the_sts_code(make, fake_cloud, fakes, code, status, message):
    fake_cloud.sts_failure = fakes.Response(status, {"Code": code, "Message": message, "RequestId": "req-123"})
    provider, _ = make(dict(access_key_id=AK[0], access_key_secret=AK[1], max_retries=3, assume_role=ASSUME))
    with pytest.raises(CredentialError) as info:
        provider.get()
    error = info.value
    assert str(error).startswith("assume_role of %s failed: %s: " % (ROLE, code))
    assert "HTTP %s" % status in str(error) and "req-123" in str(error)
    assert (error.code, error.status, error.request_id, error.action) == (code, status, "req-123", "AssumeRole")
    assert AK[1] not in str(error) and AK[1] not in explain(error)
    assert len(fake_cloud.sts_requests()) == 1, "a permission error is not retried"


def test_sts_error_message_echoing_the_string_to_sign_is_scrubbed(make, fake_cloud, fakes):
    token = "sessionTokenThatMustNotLeak-abc/def+ghi="
    echoed = ("Specified signature is not matched with our calculation. server string to sign is:POST&%2F&"
              "AccessKeyId%3DAKIDexampleOPTIONS01%26SecurityToken%3D" + token)
    fake_cloud.sts_failure = fakes.Response(400, {"Code": "SignatureDoesNotMatch", "Message": echoed, "RequestId": "r"})
    provider, _ = make(dict(access_key_id=AK[0], access_key_secret=AK[1], security_token=token, assume_role=ASSUME))
    with pytest.raises(CredentialError) as info:
        provider.get()
    assert "SignatureDoesNotMatch" in str(info.value) and "string to sign omitted" in str(info.value)
    assert token not in str(info.value) and "sessionTokenThatMustNotLeak" not in str(info.value)


def test_scrub_removes_raw_and_encoded_secrets():
    ctx = cred.SourceContext({}, env={})
    ctx.register("a/b+c=d secret")
    text = "raw a/b+c=d secret, once a%2Fb%2Bc%3Dd%20secret, twice a%252Fb%252Bc%253Dd%2520secret"
    assert ctx.scrub(text) == "raw ********, once ********, twice ********"


def test_sts_transport_failure_hides_the_query(make, fakes):
    token = "queryTokenValue-xyz"

    def refuse(request):
        return fakes.refused("https://sts.aliyuncs.com/?AccessKeyId=a&SecurityToken=%s" % token)

    session = fakes.Session(refuse)
    provider = chain.credentials_provider(
        params(access_key_id=AK[0], access_key_secret=AK[1], security_token=token, assume_role=ASSUME),
        session=session, env={}, home="/nonexistent")
    with pytest.raises(CredentialError) as info:
        provider.get()
    assert str(info.value).startswith("assume_role of %s failed: ConnectionFailed" % ROLE)
    assert token not in str(info.value)


def test_sts_retries_a_throttled_assume_role(make, fake_cloud, fakes, monkeypatch):
    from ansible_collections.alicloud.cloudsso.plugins.module_utils import retries
    monkeypatch.setattr(retries, "backoff_delay", lambda *args, **kwargs: 0)
    fake_cloud.keys[AK[0]] = (AK[1], None)
    fake_cloud.roles[ROLE] = True
    real = fake_cloud.sts
    answers = [fakes.Response(400, {"Code": "Throttling.User", "Message": "Request was denied due to user flow control."})]

    def throttled_once(request):
        return answers.pop(0) if answers else real(request)

    fake_cloud.sts = throttled_once
    credential = get(make, dict(access_key_id=AK[0], access_key_secret=AK[1], max_retries=2, assume_role=ASSUME))[0]
    assert credential.source == "assume_role" and len(fake_cloud.sts_requests()) == 2


@pytest.mark.parametrize("env, host", [
    ({}, "sts.aliyuncs.com"),
    ({"ALIBABA_CLOUD_STS_REGION": "cn-beijing"}, "sts.cn-beijing.aliyuncs.com"),
    ({"ALIBABA_CLOUD_STS_REGION": "cn-beijing", "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED": "true"}, "sts-vpc.cn-beijing.aliyuncs.com"),
    ({"ALIBABA_CLOUD_STS_ENDPOINT": "http://127.0.0.1:8080/region/{region}", "ALIBABA_CLOUD_REGION": "cn-shanghai"},
     "127.0.0.1:8080"),
])
def test_sts_endpoint(make, fake_cloud, env, host):
    fake_cloud.keys[AK[0]] = (AK[1], None)
    fake_cloud.roles[ROLE] = True
    get(make, dict(access_key_id=AK[0], access_key_secret=AK[1], assume_role=ASSUME), env)
    call = fake_cloud.sts_requests()[0]
    assert call.host == host
    if "ALIBABA_CLOUD_STS_ENDPOINT" in env:
        assert (call.scheme, call.path) == ("http", "/region/cn-shanghai/")


# --- refresh and caching --------------------------------------------------------------------------------

def test_temporary_credentials_are_cached_until_three_minutes_before_expiry(make, fake_cloud, frozen_clock):
    fake_cloud.keys[AK[0]] = (AK[1], None)
    fake_cloud.roles[ROLE] = True
    provider, _ = make(dict(access_key_id=AK[0], access_key_secret=AK[1], assume_role=ASSUME))  # 900 s
    first = provider.get()
    frozen_clock.advance(900 - 181)
    assert provider.get() is first and len(fake_cloud.sts_requests()) == 1
    frozen_clock.advance(2)
    second = provider.get()
    assert second is not first and len(fake_cloud.sts_requests()) == 2
    assert second.expiration == frozen_clock.now + timedelta(seconds=900)


def test_static_credentials_are_never_refreshed(make, frozen_clock):
    provider, _ = make(dict(access_key_id=AK[0], access_key_secret=AK[1]))
    first = provider.get()
    frozen_clock.advance(10 * 365 * 86400)
    assert provider.get() is first


def test_parse_expiration_formats():
    assert cred.parse_expiration("2024-05-01T12:00:00Z").isoformat() == "2024-05-01T12:00:00+00:00"
    assert cred.parse_expiration("2024-05-01T20:00:00.123+08:00").isoformat() == "2024-05-01T12:00:00.123000+00:00"
    assert cred.parse_expiration(None) is None
    with pytest.raises(CredentialError):
        cred.parse_expiration("tomorrow")


# --- secrets --------------------------------------------------------------------------------------------

def test_every_secret_is_registered(make, fake_cloud, tmp_path, config_path):
    token_file = tmp_path / "token"
    token_file.write_text(OIDC_TOKEN)
    fake_cloud.roles.update({OIDC_ROLE: True, ROLE: True})
    provider, recorder = make(dict(assume_role=ASSUME), oidc_env(token_file))
    provider.get()
    for issued in fake_cloud.issued:
        assert issued["AccessKeySecret"] in recorder.values and issued["SecurityToken"] in recorder.values
    assert OIDC_TOKEN in recorder.values
    access_key_ids = set(issued["AccessKeyId"] for issued in fake_cloud.issued)
    assert not access_key_ids & set(recorder.values), "IDs are not secrets: masking them would hide useful output"


def test_credential_repr_has_no_secret():
    credential = cred.Credential(AK[0], AK[1], "repr-token-1", source="options")
    assert AK[1] not in repr(credential) and "repr-token-1" not in repr(credential)
    assert AK[0] in repr(credential)


def test_static_provider():
    credential = cred.Credential(AK[0], AK[1])
    assert cred.StaticProvider(credential).get() is credential


def test_explicit_secret_without_id_fails_without_the_value(make):
    provider, recorder = make(dict(access_key_secret=AK[1]), {"ALIBABA_CLOUD_ACCESS_KEY_ID": ENV_AK[0],
                                                              "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ENV_AK[1]})
    with pytest.raises(CredentialError, match="access_key_secret is set but access_key_id is not") as info:
        provider.get()
    assert AK[1] not in str(info.value) and AK[1] in recorder.values


def test_explicit_ecs_role_name_ignores_the_disabled_variable(make, fake_cloud):
    fake_cloud.ecs_roles = {"R": True}
    env = {"ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"}
    assert get(make, dict(ecs_role_name="R"), env)[0].source == "ecs_ram_role"
    # ...while a role named by the variable is switched off with the rest of the automatic chain.
    provider, _ = make(env=dict(env, ALIBABA_CLOUD_ECS_METADATA="R"))
    with pytest.raises(CredentialError, match="disabled by ALIBABA_CLOUD_ECS_METADATA_DISABLED"):
        provider.get()


def test_profile_expired_seconds_must_be_a_number(make, config_path):
    write_config(config_path, [ak_profile(mode="RamRoleArn", ram_role_arn=ROLE, expired_seconds="1h")])
    with pytest.raises(CredentialError, match="expired_seconds '1h'"):
        get(make)


@pytest.mark.parametrize("value, expected", [
    ("2024-05-01T12:00:00.1234567Z", "2024-05-01T12:00:00.123456+00:00"),
    ("2024-05-01T05:30:00-0630", "2024-05-01T12:00:00+00:00"),
    ("2024-05-01T12:00:00", "2024-05-01T12:00:00+00:00"),
])
def test_parse_expiration_more_formats(value, expected):
    assert cred.parse_expiration(value).isoformat() == expected


def test_discovered_ecs_role_failing_at_refresh_is_an_error(make, fake_cloud, frozen_clock):
    fake_cloud.ecs_roles = {"DiscoveredRole": True}
    provider, _ = make()
    assert provider.get().source == "ecs_ram_role"
    fake_cloud.ecs_roles = None  # the metadata service stops answering
    frozen_clock.advance(6 * 3600)
    with pytest.raises(CredentialError, match="ECS"):
        provider.get()
    paths = [r.path for r in fake_cloud.ecs_requests()]
    assert paths.count("/latest/meta-data/ram/security-credentials/") == 1, "the role is discovered once"
