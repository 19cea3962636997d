"""Unit tests for plugins/module_utils/entra/client.py: the Graph client, its errors, retries and scrubbing."""

from urllib.parse import parse_qs

import pytest

from ansible_collections.alicloud.cloudsso.plugins.module_utils.entra import client as gc
from ansible_collections.alicloud.cloudsso.plugins.module_utils.entra import signin
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import (
    AlibabaCloudError,
    ApiError,
    CredentialError,
    explain,
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.transport import ConnectFailed

from tests.helpers.graph_fakes import (ACCESS, CLIENT, SCIM_TOKEN, SECRET, SP, TENANT, FakeResponse, FakeSession,
                                       make_client, token_ok)


def test_redact_removes_known_secrets_and_token_shapes():
    text = ('Bad "client_secret": "%s", header Bearer %s, assertion %s, echo {"key":"SecretToken","value":"%s"} '
            'password=hunter22 and AccessToken=abcdEFGH1234' % (SECRET, "opaque-bearer-value", ACCESS, "zzz-token"))
    out = gc.redact(text, [SECRET])
    for value in (SECRET, "opaque-bearer-value", ACCESS, "zzz-token", "hunter22", "abcdEFGH1234"):
        assert value not in out
    assert "Bad" in out and gc.REDACTED in out


def test_redact_truncates_and_keeps_plain_text():
    assert gc.redact("Insufficient privileges to complete the operation.") == \
        "Insufficient privileges to complete the operation."
    assert len(gc.redact("x" * 5000)) <= gc.MAX_MESSAGE + 3
    assert gc.redact(None) is None


# ------------------------------------------------------------------------------------------ errors

def test_graph_error_body_is_parsed_and_scrubbed():
    response = FakeResponse(403, {"error": {"code": "Authorization_RequestDenied",
                                            "message": "Denied for token %s" % SCIM_TOKEN,
                                            "innerError": {"date": "2026-01-04T08:00:00", "request-id": "rid-1"}}})
    error = gc.error_from_response(response, "save", "https://graph.example", [SCIM_TOKEN])
    assert error.code == "Authorization_RequestDenied" and error.status == 403 and error.request_id == "rid-1"
    assert SCIM_TOKEN not in error.message and SCIM_TOKEN not in str(error.to_dict())


def test_login_error_body_gives_aadsts_and_drops_trace_noise():
    body = {"error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in "
                                 "the request is the client secret value, not the client secret ID, for a secret "
                                 "added to app '%s'.\r\nTrace ID: abc\r\nCorrelation ID: def\r\nTimestamp: x" % CLIENT,
            "error_codes": [7000215], "trace_id": "abc", "correlation_id": "def"}
    error = gc.error_from_response(FakeResponse(401, body), "token", "https://login.example")
    assert error.aadsts == 7000215 and error.code == "invalid_client" and error.request_id == "abc"
    assert "Trace ID" not in error.message
    message = gc.explain_graph(error)
    assert "client_secret" in message and "AADSTS7000215" in message


@pytest.mark.parametrize("aadsts,word", [(90002, "tenant_id"), (700016, "client_id"), (700027, "certificate")])
def test_explain_login_errors_name_the_option(aadsts, word):
    error = gc.GraphError("AADSTS%d: something" % aadsts, code="invalid_request", aadsts=aadsts, status=400)
    assert word in gc.explain_graph(error)


def test_explain_permission_and_not_found():
    denied = gc.GraphError("Insufficient privileges", code="Authorization_RequestDenied", status=403, action="x")
    assert "Application.ReadWrite.OwnedBy" in gc.explain_graph(denied)
    missing = gc.GraphError("Resource does not exist", code="Request_ResourceNotFound", status=404, action="x")
    assert "service_principal_id" in gc.explain_graph(missing)


def test_retry_after_forms():
    assert gc.retry_after_seconds("7") == 7.0
    assert gc.retry_after_seconds(None) is None
    assert gc.retry_after_seconds("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412485) == pytest.approx(5.0)
    assert gc.retry_after_seconds("garbage") is None


def test_retry_policy():
    policy = gc.graph_retry_policy()
    assert policy(AlibabaCloudError("x", status=429))
    assert policy(AlibabaCloudError("x", status=503))
    assert policy(AlibabaCloudError("x", code="ConnectionFailed", request_sent=False))
    assert not policy(AlibabaCloudError("x", status=400))
    assert not policy(AlibabaCloudError("x", status=401))
    assert not policy(AlibabaCloudError("x", code="TLSError", request_sent=False))
    assert not policy(CredentialError("x"))
    transient = [policy(AlibabaCloudError("x", status=409)) for _ in range(5)]
    assert transient == [True, True, True, False, False]
    final = AlibabaCloudError("x", status=429)
    final.final = True
    assert not gc.graph_retry_policy()(final)



def test_token_request_and_cache():
    session = FakeSession()
    session.add("POST", "/oauth2/v2.0/token", token_ok())
    session.add("GET", "/synchronization/jobs", FakeResponse(200, {"value": []}))
    registered = []
    client = make_client(session, registered=registered)
    client.request("GET", "/servicePrincipals/%s/synchronization/jobs" % SP)
    client.request("GET", "/servicePrincipals/%s/synchronization/jobs" % SP)
    tokens = session.calls("POST", "/token")
    assert len(tokens) == 1
    assert tokens[0]["url"] == "https://login.example/%s/oauth2/v2.0/token" % TENANT
    form = parse_qs(tokens[0]["data"].decode())
    assert form == {"client_id": [CLIENT], "client_secret": [SECRET], "grant_type": ["client_credentials"],
                    "scope": ["https://graph.example/.default"]}
    gets = session.calls("GET")
    assert gets[0]["url"] == "https://graph.example/v1.0/servicePrincipals/%s/synchronization/jobs" % SP
    assert gets[0]["headers"]["Authorization"] == "Bearer " + ACCESS
    assert SECRET in registered and ACCESS in registered
    assert client.api_calls == 3


def test_token_refreshed_when_about_to_expire():
    session = FakeSession()
    session.add("POST", "/token", token_ok(expires_in=100), token_ok(token=ACCESS + "2"))
    session.add("GET", "/jobs", FakeResponse(200, {"value": []}))
    client = make_client(session)
    client.request("GET", "/x/jobs")
    client.request("GET", "/x/jobs")  # 100 s lifetime is inside the refresh margin
    assert len(session.calls("POST", "/token")) == 2


def test_401_refreshes_the_token_once():
    session = FakeSession()
    session.add("POST", "/token", token_ok(), token_ok(token=ACCESS + "new"))
    unauthorized = FakeResponse(401, {"error": {"code": "InvalidAuthenticationToken", "message": "expired"}})
    session.add("GET", "/jobs", unauthorized, FakeResponse(200, {"value": [{"id": "j"}]}))
    client = make_client(session)
    status, body = client.request("GET", "/x/jobs")
    assert status == 200 and body == {"value": [{"id": "j"}]}
    assert session.calls("GET")[-1]["headers"]["Authorization"] == "Bearer %snew" % ACCESS


def test_401_twice_fails_without_retry_loop():
    session = FakeSession()
    session.add("POST", "/token", token_ok())
    session.add("GET", "/jobs", FakeResponse(401, {"error": {"code": "InvalidAuthenticationToken", "message": "no"}}))
    client = make_client(session)
    with pytest.raises(gc.GraphError) as info:
        client.request("GET", "/x/jobs")
    assert info.value.status == 401
    assert len(session.calls("GET")) == 2


def test_429_honours_retry_after():
    session = FakeSession()
    session.add("POST", "/token", token_ok())
    throttled = FakeResponse(429, {"error": {"code": "TooManyRequests", "message": "slow down"}}, {"Retry-After": "3"})
    session.add("POST", "/provisionOnDemand", throttled, FakeResponse(200, {"key": "k", "value": "[]"}))
    sleeps = []
    client = make_client(session, sleeps=sleeps)
    client.request("POST", "/x/provisionOnDemand", body={})
    assert sleeps and sleeps[0] >= 3.0
    assert client.call_log[-1]["attempts"] == 2


def test_409_retried_a_few_times_then_fails():
    session = FakeSession()
    session.add("POST", "/token", token_ok())
    session.add("PUT", "/secrets", FakeResponse(409, {"error": {"code": "Conflict", "message": "busy"}}))
    client = make_client(session, sleeps=[])
    with pytest.raises(gc.GraphError) as info:
        client.request("PUT", "/x/secrets", body={})
    assert info.value.status == 409 and info.value.attempts == gc.TRANSIENT_RETRIES + 1
    assert len(session.calls("PUT")) == gc.TRANSIENT_RETRIES + 1


def test_bad_client_secret_is_not_retried_and_never_echoed():
    session = FakeSession()
    body = {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret %s provided." % SECRET,
            "error_codes": [7000215]}
    session.add("POST", "/token", FakeResponse(401, body))
    client = make_client(session)
    with pytest.raises(gc.GraphError) as info:
        client.request("GET", "/x/jobs")
    assert len(session.calls("POST", "/token")) == 1
    assert SECRET not in info.value.message and SECRET not in gc.explain_graph(info.value)
    assert not session.calls("GET")


def test_throttled_token_endpoint_not_retried_twice_over():
    session = FakeSession()
    session.add("POST", "/token", FakeResponse(429, {"error": "temporarily_unavailable", "error_description": "x"},
                                               {"Retry-After": "0"}))
    client = make_client(session, sleeps=[], max_retries=2)
    with pytest.raises(gc.GraphError):
        client.request("GET", "/x/jobs")
    assert len(session.calls("POST", "/token")) == 3  # retried inside the token request only


def test_connection_failure_before_sending_is_retried():
    session = FakeSession()
    session.add("POST", "/token", token_ok())
    refused = ConnectFailed("graph.example", 443, ConnectionRefusedError(111, "Connection refused"))
    session.add("GET", "/jobs", refused, FakeResponse(200, {"value": []}))
    client = make_client(session, sleeps=[])
    assert client.request("GET", "/x/jobs") == (200, {"value": []})


def test_credential_problem_becomes_a_sign_in_error():
    session = FakeSession()
    client = make_client(session, credential=signin.EntraCredential("certificate", path="/nonexistent/cert.pem"))
    with pytest.raises(gc.SignInError, match="cert.pem") as info:
        client.access_token()
    assert not session.requests
    assert info.value.code == "CredentialError" and info.value.request_sent is False
    assert gc.explain_graph(info.value).startswith("Entra ID client credential problem: ")
    assert not gc.graph_retry_policy()(info.value)


def test_graph_errors_are_api_errors_without_an_alibaba_name():
    error = gc.GraphError("Insufficient privileges", code="Authorization_RequestDenied", status=403, action="x")
    assert isinstance(error, ApiError) and not isinstance(error, AlibabaCloudError)
    # The common explain() (the module base's fail_from) gives a Graph failure Graph's words.
    assert explain(error) == gc.explain_graph(error)
    assert explain(error, setting="graph_endpoint") == gc.explain_graph(error, "graph_endpoint")


def test_a_transport_failure_on_the_way_to_graph_is_a_graph_error():
    session = FakeSession()
    session.add("POST", "/token", token_ok())
    session.add("GET", "/jobs", ConnectFailed("graph.example", 443, ConnectionRefusedError(111, "Connection refused")))
    client = make_client(session, sleeps=[], max_retries=1)
    with pytest.raises(gc.GraphError) as info:
        client.request("GET", "/x/jobs", action="list synchronization jobs")
    error = info.value
    assert error.code == "ConnectionFailed" and error.endpoint == "https://graph.example/v1.0/x/jobs"
    assert error.attempts == 2 and len(session.calls("GET")) == 2
    client.endpoint_settings = {"graph": "graph_endpoint"}
    assert "could not reach Microsoft Graph" in gc.explain_graph(error, client.setting_at(error.endpoint))
    assert "Check graph_endpoint (it chose this endpoint)" in gc.explain_graph(error, client.setting_at(error.endpoint))
