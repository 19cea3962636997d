"""Unit tests for plugins/module_utils/graph.py: Microsoft Graph client, retries, scrubbing, job logic."""

import base64
import json
import time
from urllib.parse import parse_qs

import pytest

from ansible_collections.alicloud.cloudsso.plugins.module_utils import graph as g
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import AlibabaCloudError, CredentialError

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT = "0f0b7e4c-2a5b-4a7e-9a51-3a0d1f6c2b10"
SP = "5a1c7d0e-9b2f-4a4c-8e3d-6f7a8b9c0d1e"
SECRET = "Xq8~client.secret-VALUE_0123456789abc"
SCIM_TOKEN = "scimTokenAbCdEfGh0123456789-_ZyXwVuTsRqPoNmLkJiH"
ACCESS = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJncmFwaCJ9.c2lnbmF0dXJlLXBhcnQ"


class FakeResponse(object):
    def __init__(self, status, body=None, headers=None):
        self.status_code = status
        self._body = body
        self.headers = headers or {}
        if body is None:
            self.content = b""
        elif isinstance(body, (dict, list)):
            self.content = json.dumps(body).encode()
        else:
            self.content = body.encode() if isinstance(body, str) else body

    def json(self):
        if isinstance(self._body, (dict, list)):
            return self._body
        return json.loads(self.content.decode())


class FakeSession(object):
    """Answers from a list of (predicate, response) rules, in order; records every request."""

    def __init__(self):
        self.requests = []
        self.queue = {}

    def add(self, method, path_part, *responses):
        self.queue.setdefault((method, path_part), []).extend(responses)

    def request(self, method, url, headers=None, data=None, timeout=None, verify=None, allow_redirects=None):
        self.requests.append(dict(method=method, url=url, headers=dict(headers or {}), data=data))
        for (m, part), responses in self.queue.items():
            if m == method and part in url and responses:
                response = responses.pop(0) if len(responses) > 1 else responses[0]
                if isinstance(response, Exception):
                    raise response
                return response
        raise AssertionError("unexpected request %s %s" % (method, url))

    def calls(self, method=None, part=""):
        return [r for r in self.requests if (method is None or r["method"] == method) and part in r["url"]]


def token_ok(token=ACCESS, expires_in=3599):
    return FakeResponse(200, {"token_type": "Bearer", "expires_in": expires_in, "access_token": token})


def make_client(session, credential=None, sleeps=None, **kwargs):
    registered = kwargs.pop("registered", [])
    return g.GraphClient(session, TENANT, CLIENT, credential or g.EntraCredential("secret", value=SECRET),
                         graph_endpoint=kwargs.pop("graph_endpoint", "https://graph.example"),
                         login_endpoint=kwargs.pop("login_endpoint", "https://login.example"),
                         sleep=(sleeps.append if sleeps is not None else (lambda s: None)),
                         register_secret=registered.append, **kwargs)


# ------------------------------------------------------------------------------------------ redaction

def test_redact_removes_known_secrets_and_token_shapes():
    text = ('Bad "client_secret": "%s", header Bearer %s, assertion %s, echo {"key":"SecretToken","value":"%s"} '
            'password=hunter22 and AccessToken=abcdEFGH1234' % (SECRET, "opaque-bearer-value", ACCESS, "zzz-token"))
    out = g.redact(text, [SECRET])
    for value in (SECRET, "opaque-bearer-value", ACCESS, "zzz-token", "hunter22", "abcdEFGH1234"):
        assert value not in out
    assert "Bad" in out and g.REDACTED in out


def test_redact_truncates_and_keeps_plain_text():
    assert g.redact("Insufficient privileges to complete the operation.") == \
        "Insufficient privileges to complete the operation."
    assert len(g.redact("x" * 5000)) <= g.MAX_MESSAGE + 3
    assert g.redact(None) is None


# ------------------------------------------------------------------------------------------ errors

def test_graph_error_body_is_parsed_and_scrubbed():
    response = FakeResponse(403, {"error": {"code": "Authorization_RequestDenied",
                                            "message": "Denied for token %s" % SCIM_TOKEN,
                                            "innerError": {"date": "2026-01-04T08:00:00", "request-id": "rid-1"}}})
    error = g.error_from_response(response, "save", "https://graph.example", [SCIM_TOKEN])
    assert error.code == "Authorization_RequestDenied" and error.status == 403 and error.request_id == "rid-1"
    assert SCIM_TOKEN not in error.message and SCIM_TOKEN not in str(error.to_dict())


def test_login_error_body_gives_aadsts_and_drops_trace_noise():
    body = {"error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in "
                                 "the request is the client secret value, not the client secret ID, for a secret "
                                 "added to app '%s'.\r\nTrace ID: abc\r\nCorrelation ID: def\r\nTimestamp: x" % CLIENT,
            "error_codes": [7000215], "trace_id": "abc", "correlation_id": "def"}
    error = g.error_from_response(FakeResponse(401, body), "token", "https://login.example")
    assert error.aadsts == 7000215 and error.code == "invalid_client" and error.request_id == "abc"
    assert "Trace ID" not in error.message
    message = g.explain_graph(error)
    assert "client_secret" in message and "AADSTS7000215" in message


@pytest.mark.parametrize("aadsts,word", [(90002, "tenant_id"), (700016, "client_id"), (700027, "certificate")])
def test_explain_login_errors_name_the_option(aadsts, word):
    error = g.GraphError("AADSTS%d: something" % aadsts, code="invalid_request", aadsts=aadsts, status=400)
    assert word in g.explain_graph(error)


def test_explain_permission_and_not_found():
    denied = g.GraphError("Insufficient privileges", code="Authorization_RequestDenied", status=403, action="x")
    assert "Application.ReadWrite.OwnedBy" in g.explain_graph(denied)
    missing = g.GraphError("Resource does not exist", code="Request_ResourceNotFound", status=404, action="x")
    assert "service_principal_id" in g.explain_graph(missing)


def test_retry_after_forms():
    assert g.retry_after_seconds("7") == 7.0
    assert g.retry_after_seconds(None) is None
    assert g.retry_after_seconds("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412485) == pytest.approx(5.0)
    assert g.retry_after_seconds("garbage") is None


def test_retry_policy():
    policy = g.graph_retry_policy()
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
    assert not g.graph_retry_policy()(final)


# ------------------------------------------------------------------------------------------ client

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
    with pytest.raises(g.GraphError) as info:
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
    with pytest.raises(g.GraphError) as info:
        client.request("PUT", "/x/secrets", body={})
    assert info.value.status == 409 and info.value.attempts == g.TRANSIENT_RETRIES + 1
    assert len(session.calls("PUT")) == g.TRANSIENT_RETRIES + 1


def test_bad_client_secret_is_not_retried_and_never_echoed():
    session = FakeSession()
    body = {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret %s provided." % SECRET,
            "error_codes": [7000215]}
    session.add("POST", "/token", FakeResponse(401, body))
    client = make_client(session)
    with pytest.raises(g.GraphError) as info:
        client.request("GET", "/x/jobs")
    assert len(session.calls("POST", "/token")) == 1
    assert SECRET not in info.value.message and SECRET not in g.explain_graph(info.value)
    assert not session.calls("GET")


def test_throttled_token_endpoint_not_retried_twice_over():
    session = FakeSession()
    session.add("POST", "/token", FakeResponse(429, {"error": "temporarily_unavailable", "error_description": "x"},
                                               {"Retry-After": "0"}))
    client = make_client(session, sleeps=[], max_retries=2)
    with pytest.raises(g.GraphError):
        client.request("GET", "/x/jobs")
    assert len(session.calls("POST", "/token")) == 3  # retried inside the token request only


def test_connection_failure_before_sending_is_retried():
    import requests
    from urllib3.exceptions import NewConnectionError
    session = FakeSession()
    session.add("POST", "/token", token_ok())
    refused = requests.exceptions.ConnectionError(NewConnectionError(None, "refused"))
    session.add("GET", "/jobs", refused, FakeResponse(200, {"value": []}))
    client = make_client(session, sleeps=[])
    assert client.request("GET", "/x/jobs") == (200, {"value": []})


# ------------------------------------------------------------------------------------------ credentials

def test_select_credential_prefers_options_then_env_order():
    env = {"AZURE_CLIENT_SECRET": "env-secret", "AZURE_FEDERATED_TOKEN_FILE": "/f"}
    assert g.select_credential({"client_assertion": "a.b.c"}, env).kind == "assertion"
    chosen = g.select_credential({}, env)
    assert chosen.kind == "secret" and chosen.value == "env-secret" and chosen.source == "env"
    assert g.select_credential({}, {"AZURE_SECRET": "s"}).value == "s"
    assert g.select_credential({}, {"AZURE_FEDERATED_TOKEN_FILE": "/f"}).kind == "assertion_file"
    assert g.select_credential({}, {"AZURE_CLIENT_CERTIFICATE_PATH": "/c.pem"}).kind == "certificate"
    with pytest.raises(g.EntraConfigError, match="only one"):
        g.select_credential({"client_secret": "a", "client_assertion": "b"}, {})
    with pytest.raises(g.EntraConfigError, match="no Entra ID client credential"):
        g.select_credential({}, {})


def test_invalid_entra_options():
    good = dict(tenant_id=TENANT, client_id=CLIENT, service_principal_id=SP, job_id="customappsso.abc.def")
    assert g.invalid_entra_options(good) == []
    assert g.invalid_entra_options(dict(good, tenant_id="contoso.onmicrosoft.com")) == []
    problems = g.invalid_entra_options(dict(good, tenant_id="not a tenant", client_id="x", service_principal_id="y",
                                            job_id="../etc"))
    assert len(problems) == 4
    assert "tenant_id" in problems[0] and "client_id" in problems[1] and "service_principal_id" in problems[2]


def test_assertion_file_is_read_at_each_request(tmp_path):
    path = tmp_path / "federated"
    path.write_text("first.jwt.value\n")
    credential = g.EntraCredential("assertion_file", path=str(path))
    fields, secrets = credential.form(CLIENT, "https://login/x")
    assert fields["client_assertion"] == "first.jwt.value" and secrets == ["first.jwt.value"]
    path.write_text("second.jwt.value")
    assert credential.form(CLIENT, "https://login/x")[0]["client_assertion"] == "second.jwt.value"


def _certificate(tmp_path, password=None, combined=True):
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u"automation")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    encryption = serialization.BestAvailableEncryption(password.encode()) if password else serialization.NoEncryption()
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_path = tmp_path / "cert.pem"
    if combined:
        cert_path.write_bytes(key_pem + cert_pem)
        return str(cert_path), None, key, cert
    key_path = tmp_path / "key.pem"
    cert_path.write_bytes(cert_pem)
    key_path.write_bytes(key_pem)
    return str(cert_path), str(key_path), key, cert


def _b64decode(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_certificate_assertion_is_a_valid_rs256_jwt(tmp_path):
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding
    import hashlib

    cert_path, _, key, cert = _certificate(tmp_path)
    credential = g.EntraCredential("certificate", path=cert_path)
    fields, secrets = credential.form(CLIENT, "https://login.example/%s/oauth2/v2.0/token" % TENANT, now=1700000000)
    assertion = fields["client_assertion"]
    assert fields["client_assertion_type"] == g.JWT_BEARER and secrets == [assertion]
    header_b64, claims_b64, signature_b64 = assertion.split(".")
    header = json.loads(_b64decode(header_b64))
    claims = json.loads(_b64decode(claims_b64))
    thumb = base64.urlsafe_b64encode(hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).digest()).rstrip(b"=")
    assert header == {"alg": "RS256", "typ": "JWT", "x5t": thumb.decode()}
    assert claims["aud"].endswith("/oauth2/v2.0/token") and claims["iss"] == claims["sub"] == CLIENT
    assert claims["exp"] - claims["nbf"] == g.ASSERTION_LIFETIME and claims["iat"] == 1700000000
    key.public_key().verify(_b64decode(signature_b64), ("%s.%s" % (header_b64, claims_b64)).encode(),
                            padding.PKCS1v15(), hashes.SHA256())


def test_certificate_with_separate_encrypted_key(tmp_path):
    cert_path, key_path, _, _ = _certificate(tmp_path, password="pw-123456", combined=False)
    assert g.load_certificate(cert_path, key_path, "pw-123456")[0]
    with pytest.raises(g.EntraConfigError, match="client_certificate_password"):
        g.load_certificate(cert_path, key_path, "wrong")
    with pytest.raises(g.EntraConfigError, match="no PEM private key"):
        g.load_certificate(cert_path)


def test_certificate_and_key_must_match(tmp_path):
    cert_path, _, _, _ = _certificate(tmp_path, combined=False)
    other = tmp_path / "other"
    other.mkdir()
    _, other_key, _, _ = _certificate(other, combined=False)
    with pytest.raises(g.EntraConfigError, match="does not belong"):
        g.load_certificate(cert_path, other_key)


def test_unreadable_certificate_names_the_path_only(tmp_path):
    with pytest.raises(g.EntraConfigError) as info:
        g.load_certificate(str(tmp_path / "missing.pem"))
    assert "missing.pem" in str(info.value)


def test_credential_problem_becomes_credential_error():
    session = FakeSession()
    client = make_client(session, credential=g.EntraCredential("certificate", path="/nonexistent/cert.pem"))
    with pytest.raises(CredentialError, match="cert.pem"):
        client.access_token()
    assert not session.requests


# ------------------------------------------------------------------------------------------ provisioning

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
    return g.EntraProvisioning(make_client(session, **kwargs), SP)


def test_resolve_job_single_none_several():
    session = FakeSession()
    session.add("GET", "/synchronization/jobs", FakeResponse(200, {"value": [JOB]}),
                FakeResponse(200, {"value": []}),
                FakeResponse(200, {"value": [JOB, dict(JOB, id="other.job", templateId="scim")]}))
    prov = provisioning(session)
    assert prov.resolve_job()["id"] == JOB["id"]
    with pytest.raises(g.EntraConfigError, match="no provisioning"):
        prov.resolve_job()
    with pytest.raises(g.EntraConfigError, match="other.job") as info:
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
    with pytest.raises(g.GraphError):
        provisioning(session).validate(JOB["id"], use_saved=True)


def test_save_sends_both_keys_and_registers_the_token():
    session = FakeSession()
    session.add("PUT", "/synchronization/secrets", FakeResponse(204))
    registered = []
    prov = provisioning(session, registered=registered)
    prov.save("https://scim/v2", SCIM_TOKEN)
    body = json.loads(session.calls("PUT")[0]["data"])
    assert body == {"value": [{"key": "BaseAddress", "value": "https://scim/v2"},
                              {"key": "SecretToken", "value": SCIM_TOKEN}]}
    assert SCIM_TOKEN in registered


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
    status = g.job_status(JOB, [SCIM_TOKEN])
    assert status["code"] == "Quarantine" and status["quarantined"] is True
    assert status["quarantine"]["reason"] == "EncounteredQuarantineException"
    assert status["last_execution"]["state"] == "Failed"
    assert status["last_execution"]["time_ended"] == "2026-01-04T08:00:05Z"
    assert status["schedule"]["interval"] == "PT40M"
    assert SCIM_TOKEN not in json.dumps(status)
    assert g.job_status({"id": "j", "status": {"code": "NotRun"}})["last_execution"] is None


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
    with pytest.raises(g.EntraConfigError, match="rule_id"):
        prov.provisioning_rule("j")


def on_demand_answer(status, steps=None, as_list=True):
    entry = {"statusInfo": {"@odata.type": "#microsoft.graph.statusDetails", "status": status},
             "provisioningSteps": steps or []}
    document = [entry] if as_list else entry
    return {"@odata.context": "$metadata#microsoft.graph.stringKeyStringValuePair",
            "key": "Microsoft.Identity.Health.CPP.Common.DataContracts.SyncFabric.StatusInfo",
            "value": json.dumps(document)}


@pytest.mark.parametrize("status,authenticated", [("Success", True), ("Skipped", True), ("Failure", False)])
def test_parse_on_demand(status, authenticated):
    outcome = g.parse_on_demand(on_demand_answer(status, [{"name": "EntryExport", "provisioningStepType": "export",
                                                           "status": status, "description": "done"}]))
    assert outcome["status"] == status and outcome["authenticated"] is authenticated
    assert outcome["steps"][0]["name"] == "EntryExport"


def test_parse_on_demand_object_and_steps_only():
    assert g.parse_on_demand(on_demand_answer("Skipped", as_list=False))["status"] == "Skipped"
    steps = [{"name": "Import", "status": "Success"}, {"name": "Export", "status": "Failure",
                                                       "description": "401 Bearer %s" % SCIM_TOKEN}]
    outcome = g.parse_on_demand({"value": json.dumps([{"provisioningSteps": steps}])}, [SCIM_TOKEN])
    assert outcome["status"] == "Failure" and not outcome["authenticated"]
    assert SCIM_TOKEN not in json.dumps(outcome)
    assert g.parse_on_demand({"value": "not json"}) == dict(status=None, authenticated=False, steps=[])


def test_provision_on_demand_request_body():
    session = FakeSession()
    session.add("POST", "/provisionOnDemand", FakeResponse(200, on_demand_answer("Success")))
    outcome = provisioning(session).provision_on_demand("j", "r1", "2b3c4d5e-6f70-4a1b-9c2d-3e4f5a6b7c8d")
    assert outcome["authenticated"]
    body = json.loads(session.calls("POST", "/provisionOnDemand")[0]["data"])
    assert body == {"parameters": [{"ruleId": "r1", "subjects": [
        {"objectId": "2b3c4d5e-6f70-4a1b-9c2d-3e4f5a6b7c8d", "objectTypeName": "User"}]}]}


# ------------------------------------------------------------------------------------------ helpers

def test_sole_enabled_credential():
    creds = [{"credential_id": "a", "status": "Enabled"}, {"credential_id": "b", "status": "Disabled"}]
    assert g.sole_enabled_credential(creds, "a") is True
    assert g.sole_enabled_credential(creds, "b") is False
    assert g.sole_enabled_credential(creds, "c") is None
    assert g.sole_enabled_credential([dict(c, status="Enabled") for c in creds], "a") is False


def test_read_candidate_token(tmp_path):
    secret_file = tmp_path / "s.json"
    secret_file.write_text(json.dumps({"directory_id": "d-00fc2p61abcd", "credential_id": "scimcred-x",
                                       "credential_secret": SCIM_TOKEN, "create_time": "t"}))
    registered = []
    token, meta = g.read_candidate_token({"token_file": str(secret_file)}, registered.append)
    assert token == SCIM_TOKEN and meta == {"credential_id": "scimcred-x", "directory_id": "d-00fc2p61abcd"}
    assert registered == [SCIM_TOKEN]
    plain = tmp_path / "t.txt"
    plain.write_text(SCIM_TOKEN + "\n")
    assert g.read_candidate_token({"token_file": str(plain)}, registered.append) == (SCIM_TOKEN, {})
    assert g.read_candidate_token({"token": "abc"}, registered.append) == ("abc", {})


def test_same_url_and_parse_time():
    assert g.same_url("https://Host/scim/v2/", "https://host/scim/v2")
    assert not g.same_url("https://host/scim/v2", "https://other/scim/v2")
    assert not g.same_url(None, "x")
    assert g.parse_time("2026-01-04T08:00:00Z") == g.parse_time("2026-01-04T09:00:00+01:00")
    assert g.parse_time("2026-01-04T08:00:00.5000000Z") == pytest.approx(g.parse_time("2026-01-04T08:00:00Z") + 0.5)
    assert g.parse_time("yesterday") is None


class FakeModule(object):
    def __init__(self):
        self.failed = None

    def fail_json(self, **kwargs):
        self.failed = kwargs
        raise SystemExit(1)

    def fail_from(self, error, **kwargs):
        self.fail_json(msg="generic: %s" % error.message, **kwargs)


def test_fail_graph_message_and_calls():
    session = FakeSession()
    session.add("POST", "/token", FakeResponse(400, {"error": "invalid_request", "error_description":
                                                     "AADSTS90002: Tenant '%s' not found." % TENANT,
                                                     "error_codes": [90002]}))
    client = make_client(session)
    module = FakeModule()
    with pytest.raises(g.GraphError) as info:
        client.access_token()
    with pytest.raises(SystemExit):
        g.fail_graph(module, info.value, client, job_id="j")
    assert "tenant_id" in module.failed["msg"] and module.failed["error"]["aadsts"] == 90002
    assert "used the client secret" in module.failed["msg"]
    assert module.failed["graph_calls"] == 1 and module.failed["job_id"] == "j"
    assert time.time()  # the clock is untouched
