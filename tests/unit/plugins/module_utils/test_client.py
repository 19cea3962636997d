# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket

import pytest

from ansible_collections.alicloud.cloudsso.plugins.module_utils import transport as http
from ansible_collections.alicloud.cloudsso.plugins.module_utils.client import RpcClient
from ansible_collections.alicloud.cloudsso.plugins.module_utils.credentials import Credential, StaticProvider
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import (
    AlibabaCloudError,
    CONNECTION_FAILED,
    INVALID_ENDPOINT,
    TIMEOUT,
    TLS_ERROR,
)

AK = ("AKIDexampleCLIENT001", "clientSecret-3b4c5d6e7f")
OK = {"RequestId": "6D3B7A8C-0000-4000-8000-000000000001", "SCIMServerCredentials": [], "TotalCounts": 0}


def make_client(fakes, answers, product="cloudsso", region="cn-shanghai", endpoint_url=None, env=None, max_retries=3,
                token=None):
    session = fakes.Session(answers=answers)
    sleeps = []
    client = RpcClient(product, region, credentials=StaticProvider(Credential(AK[0], AK[1], token)),
                       endpoint_url=endpoint_url, timeout=7, validate_certs=False, max_retries=max_retries,
                       session=session, sleep=sleeps.append, env=env or {})
    return client, session, sleeps


# --- where requests go ----------------------------------------------------------------------------------

@pytest.mark.parametrize("endpoint_url, env, scheme, host, path", [
    (None, {}, "https", "cloudsso.cn-shanghai.aliyuncs.com", "/"),
    (None, {"ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED": "true"}, "https", "cloudsso-vpc.cn-shanghai.aliyuncs.com", "/"),
    ("http://127.0.0.1:8080", {}, "http", "127.0.0.1:8080", "/"),
    ("http://127.0.0.1:8080/region/{region}", {}, "http", "127.0.0.1:8080", "/region/cn-shanghai/"),
    ("http://127.0.0.1:8080/region/{region}/", {}, "http", "127.0.0.1:8080", "/region/cn-shanghai/"),
    ("cloudsso.{region}.example.internal", {}, "https", "cloudsso.cn-shanghai.example.internal", "/"),
    (None, {"ALIBABA_CLOUD_CLOUDSSO_ENDPOINT": "http://localhost:9000/r/{region}"}, "http", "localhost:9000",
     "/r/cn-shanghai/"),
])
def test_url_host_and_path(fakes, endpoint_url, env, scheme, host, path):
    client, session, _ = make_client(fakes, [fakes.Response(200, OK)], endpoint_url=endpoint_url, env=env)
    assert client.call("ListSCIMServerCredentials", {"DirectoryId": "d-00fc2p61abcd", "Unset": None}) == OK
    (sent,) = session.requests
    assert (sent.method, sent.scheme, sent.host, sent.path) == ("POST", scheme, host, path)
    assert sent.query == {"DirectoryId": "d-00fc2p61abcd"}, "None parameters are not sent"
    assert sent.headers["host"] == host
    assert (sent.timeout, sent.verify) == (7, False)


def test_v3_headers_are_present_and_signed(fakes):
    client, session, _ = make_client(fakes, [fakes.Response(200, OK)], token="client-sts-token")
    client.call("ListSCIMServerCredentials", {"DirectoryId": "d-00fc2p61abcd"})
    headers = session.requests[0].headers
    assert headers["x-acs-action"] == "ListSCIMServerCredentials"
    assert headers["x-acs-version"] == "2021-05-15"
    assert headers["x-acs-security-token"] == "client-sts-token"
    assert len(headers["x-acs-signature-nonce"]) >= 16 and headers["x-acs-date"].endswith("Z")
    authorization = headers["Authorization"]
    assert authorization.startswith("ACS3-HMAC-SHA256 Credential=%s,SignedHeaders=" % AK[0])
    signed = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
    assert sorted(k.lower() for k in headers if k.lower().startswith("x-acs-") or k.lower() == "host") == signed
    assert AK[1] not in str(dict(headers))


def test_actiontrail_version(fakes):
    client, session, _ = make_client(fakes, [fakes.Response(200, {"Events": []})], product="actiontrail")
    client.call("LookupEvents", {"MaxResults": "50"})
    assert session.requests[0].host == "actiontrail.cn-shanghai.aliyuncs.com"
    assert session.requests[0].headers["x-acs-version"] == "2020-07-06"


def test_sts_uses_v2_in_the_query(fakes):
    client, session, _ = make_client(fakes, [fakes.Response(200, {"Credentials": {}})], product="sts", token="tok")
    client.call("AssumeRole", {"RoleArn": "acs:ram::1:role/r"})
    sent = session.requests[0]
    assert "Authorization" not in sent.headers and "x-acs-action" not in sent.headers
    for key in ("Signature", "SignatureNonce", "Timestamp", "AccessKeyId", "SignatureMethod"):
        assert key in sent.query
    assert (sent.query["Action"], sent.query["Version"], sent.query["SecurityToken"]) == ("AssumeRole", "2015-04-01", "tok")


def test_anonymous_call_is_unsigned(fakes):
    client, session, _ = make_client(fakes, [fakes.Response(200, {"Credentials": {}})], product="sts")
    client.credentials = None
    client.call("AssumeRoleWithOIDC", {"OIDCToken": "t"}, anonymous=True)
    query = session.requests[0].query
    assert "Signature" not in query and "AccessKeyId" not in query
    assert query["Format"] == "JSON" and query["Timestamp"] and query["SignatureNonce"]


# --- errors ---------------------------------------------------------------------------------------------

def test_error_body_is_parsed(fakes):
    body = {"RequestId": "req-9", "HostId": "cloudsso.cn-shanghai.aliyuncs.com", "Code": "EntityNotExists.Directory",
            "Message": "The specified directory does not exist.", "Recommend": "https://api.aliyun.com/troubleshoot?q=x"}
    client, _, _ = make_client(fakes, [fakes.Response(404, body)])
    with pytest.raises(AlibabaCloudError) as info:
        client.call("ListSCIMServerCredentials", {"DirectoryId": "d-00fc2p61zzzz"})
    error = info.value
    assert (error.code, error.status, error.request_id) == ("EntityNotExists.Directory", 404, "req-9")
    assert error.message == "The specified directory does not exist."
    assert (error.action, error.endpoint) == ("ListSCIMServerCredentials", "https://cloudsso.cn-shanghai.aliyuncs.com")
    assert error.to_dict() == dict(code="EntityNotExists.Directory", message=error.message, http_status=404,
                                   request_id="req-9", action="ListSCIMServerCredentials", attempts=1)


def test_retry_after_header_is_in_milliseconds(fakes):
    throttled = fakes.Response(400, {"Code": "Throttling.User", "Message": "flow control"}, headers={"x-acs-retry-after": "1500"})
    client, _, sleeps = make_client(fakes, [throttled, fakes.Response(200, OK)])
    client.call("ListSCIMServerCredentials", {})
    assert sleeps == [1.5], "the first backoff is at most 0.5 s, so the service's 1.5 s wins"
    client, _, _ = make_client(fakes, [throttled], max_retries=0)
    with pytest.raises(AlibabaCloudError) as info:
        client.call("ListSCIMServerCredentials", {})
    assert info.value.retry_after == 1.5


@pytest.mark.parametrize("status, text", [(502, "<html>Bad Gateway</html>"), (500, ""), (200, "not json"), (200, "[1, 2]")])
def test_non_json_bodies(fakes, status, text):
    client, _, _ = make_client(fakes, [fakes.Response(status, text=text)] * 4, max_retries=0)
    with pytest.raises(AlibabaCloudError) as info:
        client.call("ListSCIMServerCredentials", {})
    assert info.value.status == status and info.value.code is None
    assert "not JSON" in info.value.message
    assert not text or text not in info.value.message, "a body that is not the documented JSON is not echoed"


# --- retries through the client -------------------------------------------------------------------------

def read_timeout():
    return http.ReadTimeout("read timeout")


def connection_reset():
    return http.ConnectionBroken("connection broken after the request was sent (RemoteDisconnected: Remote end closed "
                                 "connection without response)")


@pytest.mark.parametrize("failure", [read_timeout, connection_reset], ids=["read-timeout", "reset"])
def test_create_is_not_retried_after_an_ambiguous_failure(fakes, failure):
    created = {"SCIMServerCredential": {"CredentialId": "scimcred-004mhh8a0f3hzpnr2d8k"}}
    client, session, sleeps = make_client(fakes, [failure(), fakes.Response(200, created)])
    with pytest.raises(AlibabaCloudError) as info:
        client.call("CreateSCIMServerCredential", {"DirectoryId": "d-00fc2p61abcd"}, idempotent=False)
    assert info.value.request_sent is True
    assert len(session.requests) == 1 and sleeps == []
    assert client.call_log == [dict(action="CreateSCIMServerCredential", attempts=1, ok=False, code=info.value.code)]


@pytest.mark.parametrize("failure", [read_timeout, connection_reset], ids=["read-timeout", "reset"])
def test_reads_are_retried_after_an_ambiguous_failure(fakes, failure):
    client, session, _ = make_client(fakes, [failure(), fakes.Response(200, OK)])
    assert client.call("ListSCIMServerCredentials", {}) == OK
    assert len(session.requests) == 2


def test_create_is_retried_after_a_connect_error_and_throttling(fakes):
    created = {"SCIMServerCredential": {"CredentialId": "scimcred-004mhh8a0f3hzpnr2d8k"}}
    answers = [fakes.refused(), fakes.timeout(),
               fakes.Response(429, {"Code": "Throttling.User", "Message": "m"}), fakes.Response(200, created)]
    client, session, sleeps = make_client(fakes, answers, max_retries=5)
    assert client.call("CreateSCIMServerCredential", {"DirectoryId": "d-00fc2p61abcd"}, idempotent=False) == created
    assert len(session.requests) == 4 and len(sleeps) == 3
    assert client.call_log[-1] == dict(action="CreateSCIMServerCredential", attempts=4, ok=True)


def test_create_is_not_retried_after_a_server_error(fakes):
    client, session, _ = make_client(fakes, [fakes.Response(503, {"Code": "ServiceUnavailable", "Message": "m"}),
                                             fakes.Response(200, OK)])
    with pytest.raises(AlibabaCloudError) as info:
        client.call("CreateSCIMServerCredential", {}, idempotent=False)
    assert info.value.code == "ServiceUnavailable" and len(session.requests) == 1


def test_call_log_and_api_calls(fakes):
    throttled = fakes.Response(400, {"Code": "Throttling", "Message": "m"})
    denied = fakes.Response(403, {"Code": "NoPermission", "Message": "m"})
    client, _, _ = make_client(fakes, [fakes.Response(200, OK), throttled, throttled, fakes.Response(200, OK), denied,
                                       throttled, throttled, throttled], max_retries=2)
    client.call("ListSCIMServerCredentials", {})
    client.call("GetSCIMSynchronizationStatus", {})
    with pytest.raises(AlibabaCloudError):
        client.call("DeleteSCIMServerCredential", {})
    with pytest.raises(AlibabaCloudError) as info:
        client.call("ListSCIMServerCredentials", {})
    assert info.value.attempts == 3
    assert [(e["action"], e["attempts"], e["ok"]) for e in client.call_log] == [
        ("ListSCIMServerCredentials", 1, True), ("GetSCIMSynchronizationStatus", 3, True),
        ("DeleteSCIMServerCredential", 1, False), ("ListSCIMServerCredentials", 3, False)]
    assert client.api_calls == 8


# --- http.send: transport exceptions to AlibabaCloudError ------------------------------------------------

class Raising(object):
    def __init__(self, exc):
        self.exc = exc
        self.kwargs = None

    def request(self, method, url, **kwargs):
        self.kwargs = kwargs
        raise self.exc


URL = "https://sts.aliyuncs.com/?AccessKeyId=AKIDexample&SecurityToken=httpLeakToken123&Signature=abc"


@pytest.mark.parametrize("exc, code, sent", [
    (http.ConnectTimeout("connect timeout"), TIMEOUT, False),
    (http.ConnectFailed("sts.aliyuncs.com", 443, ConnectionRefusedError(111, "Connection refused")), CONNECTION_FAILED,
     False),
    (http.ConnectFailed("sts.aliyuncs.com", 443, socket.gaierror(-3, "Temporary failure in name resolution")),
     CONNECTION_FAILED, False),
    (http.ConnectionBroken("connection broken after the request was sent (RemoteDisconnected: closed)"),
     CONNECTION_FAILED, True),
    (http.ConnectionBroken("connection broken after the request was sent (ConnectionResetError: [Errno 104])"),
     CONNECTION_FAILED, True),
    (http.ReadTimeout("read timeout"), TIMEOUT, True),
    (http.TLSError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"), TLS_ERROR, False),
    (http.ProxyError("the proxy p.invalid refused the tunnel to sts.aliyuncs.com port 443 (407)"), CONNECTION_FAILED,
     False),
    (http.ConnectFailed("p.invalid", 3128, ConnectionRefusedError(111, "Connection refused"), proxy=True),
     CONNECTION_FAILED, False),
    (http.InvalidURL("Invalid URL %s" % URL), INVALID_ENDPOINT, False),
    (http.InvalidRequest("the header X-Bad cannot be sent"), CONNECTION_FAILED, False),
], ids=["connect-timeout", "refused", "lookup", "remote-disconnected", "reset", "read-timeout", "tls", "proxy-tunnel",
        "proxy-refused", "invalid-url", "invalid-header"])
def test_send_maps_transport_exceptions(exc, code, sent):
    session = Raising(exc)
    with pytest.raises(AlibabaCloudError) as info:
        http.send(session, "POST", URL, timeout=5, validate_certs=True, action="AssumeRole")
    error = info.value
    assert (error.code, error.request_sent, error.status) == (code, sent, None)
    assert error.action == "AssumeRole" and error.endpoint == "https://sts.aliyuncs.com/"
    assert "httpLeakToken123" not in error.message, "the query string (security token) must not reach messages"
    assert session.kwargs["allow_redirects"] is False and session.kwargs["verify"] is True


def test_send_returns_any_status(fakes):
    session = fakes.Session(answers=[fakes.Response(500, text="x")])
    assert http.send(session, "GET", "http://h/").status_code == 500
