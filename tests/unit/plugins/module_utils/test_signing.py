# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Signing against the official vectors (docs/dev/api-facts.md section 4) and the official SDK as an oracle."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib

import pytest
from alibabacloud_tea_openapi.utils import Utils
from darabonba.request import DaraRequest

from ansible_collections.alicloud.cloudsso.plugins.module_utils import signing
from ansible_collections.alicloud.cloudsso.plugins.module_utils.client import RpcClient
from ansible_collections.alicloud.cloudsso.plugins.module_utils.credentials import Credential, StaticProvider

AK_ID = "AKIDexampleSIGNING01"
AK_SECRET = "signSecret-8d7c6b5a4f3e2d1c"
STS_TOKEN = "CAIS+fakeSecurityToken/with=chars&more"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
DATE = "2024-05-01T08:09:10Z"
NONCE = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def sdk_authorization(method, pathname, query, headers, access_key_id=AK_ID, secret=AK_SECRET, payload=EMPTY_SHA256):
    request = DaraRequest()
    request.method = method
    request.pathname = pathname
    request.query = dict(query)
    request.headers = dict(headers)
    return Utils.get_authorization(request, "ACS3-HMAC-SHA256", payload, access_key_id, secret)


# --- official vectors -----------------------------------------------------------------------------------

V3_QUERY = {"ImageId": "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd", "RegionId": "cn-shanghai"}


def v3_vector_headers():
    return signing.v3_headers("ecs.cn-shanghai.aliyuncs.com", "RunInstances", "2014-05-26",
                              date="2023-10-26T10:22:32Z", nonce="3156853299f313e23d1673dc12e1703d")


def test_v3_official_vector():
    headers = v3_vector_headers()
    canonical, names = signing.v3_canonical_request("POST", "/", V3_QUERY, headers, signing.sha256_hex(b""))
    assert signing.sha256_hex(canonical) == "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
    assert names == ["host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"]
    authorization = signing.v3_authorization("POST", "/", V3_QUERY, headers, b"", "YourAccessKeyId", "YourAccessKeySecret")
    assert authorization == (
        "ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;"
        "x-acs-signature-nonce;x-acs-version,Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0")


def test_v3_vector_through_the_sdk():
    headers = v3_vector_headers()
    assert sdk_authorization("POST", "/", V3_QUERY, headers, "YourAccessKeyId", "YourAccessKeySecret") == \
        signing.v3_authorization("POST", "/", V3_QUERY, headers, b"", "YourAccessKeyId", "YourAccessKeySecret")


V2_PARAMS = dict(AccessKeyId="testid", Action="DescribeDedicatedHosts", Format="JSON", RegionId="cn-beijing",
                 SignatureMethod="HMAC-SHA1", SignatureNonce="edb2b34af0af9a6d14deaf7c1a5315eb", SignatureVersion="1.0",
                 Timestamp="2023-03-13T08:34:30Z", Version="2014-05-26")


def test_v2_official_vector():
    assert signing.v2_signature("GET", V2_PARAMS, "testsecret") == "9NaGiOspFP5UPcwX8Iwt2YJXXuk="
    assert Utils.get_rpcsignature(dict(V2_PARAMS), "GET", "testsecret") == "9NaGiOspFP5UPcwX8Iwt2YJXXuk="


def test_a_wrong_secret_gives_another_signature():
    assert signing.v2_signature("GET", V2_PARAMS, "testsecreT") != "9NaGiOspFP5UPcwX8Iwt2YJXXuk="
    headers = v3_vector_headers()
    assert "06563a9e" not in signing.v3_authorization("POST", "/", V3_QUERY, headers, b"", "YourAccessKeyId", "other")


# --- percent-encoding -----------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, encoded", [
    ("a b", "a%20b"), ("*", "%2A"), ("/", "%2F"), (":", "%3A"), ("~", "~"), ("+", "%2B"), ("=", "%3D"),
    ("&", "%26"), ("-_.", "-_."), (u"é", "%C3%A9"), (u"目录", "%E7%9B%AE%E5%BD%95"), (5, "5"),
])
def test_percent_encode(raw, encoded):
    assert signing.percent_encode(raw) == encoded
    assert Utils.get_encode_param(str(raw)) == encoded


def test_canonical_query_sorts_and_drops_none():
    assert signing.canonical_query({"b": "2", "a": "x y", "c": None, "A": "1"}) == "A=1&a=x%20y&b=2"


# --- our requests against the SDK -----------------------------------------------------------------------

CASES = [
    ("cloudsso", "ListSCIMServerCredentials", {"DirectoryId": "d-00fc2p61abcd"}),
    ("cloudsso", "CreateSCIMServerCredential", {"DirectoryId": "d-00fc2p61abcd"}),
    ("cloudsso", "UpdateSCIMServerCredentialStatus",
     {"DirectoryId": "d-00fc2p61abcd", "CredentialId": "scimcred-004mhh8a0f3hzpnr2d8k", "NewStatus": "Disabled"}),
    ("cloudsso", "SetSCIMSynchronizationStatus", {"DirectoryId": "d-00fc2p61abcd", "SCIMSynchronizationStatus": "Enabled"}),
    ("actiontrail", "LookupEvents", {
        "StartTime": "2024-04-01T00:00:00Z", "EndTime": "2024-05-01T00:00:00Z", "MaxResults": "50",
        "LookupAttribute.1.Key": "EventName", "LookupAttribute.1.Value": "ListUsers"}),
    ("actiontrail", "LookupEvents", {
        "StartTime": "2024-04-01T00:00:00Z", "LookupAttribute.1.Key": "ResourceName",
        "LookupAttribute.1.Value": u"scim user/ün*i~c:o d€ +&=", "NextToken": "eyJ0b2tlbiI6IjEyMyJ9/+=",
        "Direction": "FORWARD"}),
]


@pytest.mark.parametrize("token", [None, STS_TOKEN], ids=["ak", "sts"])
@pytest.mark.parametrize("product, action, params", CASES, ids=["%s-%s-%d" % (c[0], c[1], i) for i, c in enumerate(CASES)])
def test_pure_v3_matches_the_sdk(product, action, params, token):
    host = "%s.cn-shanghai.aliyuncs.com" % product
    headers = signing.v3_headers(host, action, "2021-05-15", security_token=token, date=DATE, nonce=NONCE)
    assert sdk_authorization("POST", "/", params, headers) == \
        signing.v3_authorization("POST", "/", params, headers, b"", AK_ID, AK_SECRET)


@pytest.mark.parametrize("token", [None, STS_TOKEN], ids=["ak", "sts"])
@pytest.mark.parametrize("endpoint", [None, "http://127.0.0.1:8080/region/{region}"], ids=["public", "prefix"])
@pytest.mark.parametrize("product, action, params", CASES, ids=["%s-%s-%d" % (c[0], c[1], i) for i, c in enumerate(CASES)])
def test_sent_requests_match_the_sdk(fakes, product, action, params, token, endpoint):
    """The Authorization header RpcClient sends equals the SDK's for the request as it went out."""
    session = fakes.Session(lambda request: fakes.Response(200, {"RequestId": "r"}))
    credential = Credential(AK_ID, AK_SECRET, token)
    client = RpcClient(product, "ap-southeast-1", credentials=StaticProvider(credential), endpoint_url=endpoint,
                       session=session, env={})
    client.call(action, params)
    (sent,) = session.requests
    assert sent.query == params, "business parameters travel in the query string, decoded back unchanged"
    assert sent.data == b""
    acs_headers = dict((k, v) for k, v in sent.headers.items() if k.lower() == "host" or k.lower().startswith("x-acs-"))
    expected_signed = ["host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce",
                       "x-acs-version"] + (["x-acs-security-token"] if token else [])
    assert sorted(k.lower() for k in acs_headers) == sorted(expected_signed)
    assert sent.headers["x-acs-content-sha256"] == EMPTY_SHA256
    if token:
        assert sent.headers["x-acs-security-token"] == token
    authorization = sent.headers["Authorization"]
    assert "SignedHeaders=%s," % ";".join(sorted(expected_signed)) in authorization
    assert authorization == sdk_authorization("POST", sent.path, sent.query, acs_headers)


@pytest.mark.parametrize("token", [None, STS_TOKEN])
@pytest.mark.parametrize("params", [
    {"RoleArn": "acs:ram::1234567890123456:role/cloudsso-admin", "RoleSessionName": "alicloud-cloudsso",
     "DurationSeconds": "3600"},
    {"RoleArn": "acs:ram::1234567890123456:role/x", "RoleSessionName": "s", "ExternalId": "abc:def/ghi",
     "Policy": u'{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "cloudsso:*", "Resource": "*", "Note": "ü"}]}'},
])
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_v2_signed_params_match_the_sdk(params, token, method):
    query = dict(params, Action="AssumeRole", Version="2015-04-01")
    signed = signing.v2_signed_params(query, AK_ID, AK_SECRET, method=method, security_token=token,
                                      timestamp="2024-05-01T08:09:10Z", nonce=NONCE)
    assert signed["SignatureMethod"] == "HMAC-SHA1" and signed["SignatureVersion"] == "1.0"
    assert signed["Format"] == "JSON" and signed["AccessKeyId"] == AK_ID
    assert signed.get("SecurityToken") == token
    unsigned = dict((k, v) for k, v in signed.items() if k != "Signature")
    assert signed["Signature"] == Utils.get_rpcsignature(unsigned, method, AK_SECRET)


def test_sts_requests_are_v2_signed(fakes):
    session = fakes.Session(lambda request: fakes.Response(200, {"RequestId": "r"}))
    client = RpcClient("sts", None, credentials=StaticProvider(Credential(AK_ID, AK_SECRET, STS_TOKEN)),
                       session=session, env={})
    client.call("AssumeRole", {"RoleArn": "acs:ram::1:role/r", "RoleSessionName": "s"})
    (sent,) = session.requests
    assert sent.method == "POST" and sent.host == "sts.aliyuncs.com" and "Authorization" not in sent.headers
    assert (sent.query["Action"], sent.query["Version"], sent.query["SecurityToken"]) == ("AssumeRole", "2015-04-01", STS_TOKEN)
    assert sent.query["Signature"] == fakes.rpc_signature(sent.query, AK_SECRET, "POST")


def test_nonce_and_date_are_fresh():
    first = signing.v3_headers("h", "A", "1")
    second = signing.v3_headers("h", "A", "1")
    assert first["x-acs-signature-nonce"] != second["x-acs-signature-nonce"]
    assert len(first["x-acs-date"]) == 20 and first["x-acs-date"].endswith("Z")
