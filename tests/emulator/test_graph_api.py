"""The simulated Microsoft Entra ID: login endpoint and Microsoft Graph synchronization APIs."""

import base64
import hashlib
import json
import urllib.parse

import pytest

from tests.helpers.emulator import http_request as http

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class Entra:
    """One seeded tenant, automation app and enterprise application (with one job) on the emulator."""

    def __init__(self, world, permissions=("Synchronization.ReadWrite.All",), owner=False, **app):
        self.world = world
        self.url = world.emu.url
        seeded = world.control.seed({"graph": {"tenants": [{"users": 3, "groups": ["canary-group"]}]}})["graph"]
        self.tenant_id = seeded["tenants"][0]["tenant_id"]
        self.users = seeded["tenants"][0]["users"]
        self.groups = seeded["tenants"][0]["groups"]
        app_spec = dict({"tenant_id": self.tenant_id, "permissions": list(permissions)}, **app)
        created = world.control.seed({"graph": {"apps": [app_spec]}})["graph"]["apps"][0]
        self.client_id, self.client_secret = created["client_id"], created.get("client_secret")
        # The third user is not assigned to the application (out of the default provisioning scope).
        assigned = [u["id"] for u in self.users[:2]] + [g["id"] for g in self.groups]
        sp = world.control.seed({"graph": {"service_principals": [
            {"tenant_id": self.tenant_id, "owners": [self.client_id] if owner else [], "assigned": assigned}]}})["graph"]
        self.sp_id = sp["service_principals"][0]["service_principal_id"]
        self.job_id = sp["service_principals"][0]["job_ids"][0]
        self._token = None

    @property
    def token_url(self):
        return "%s/%s/oauth2/v2.0/token" % (self.url, self.tenant_id)

    def login(self, **form):
        fields = {"grant_type": "client_credentials", "client_id": self.client_id,
                  "scope": "https://graph.microsoft.com/.default", "client_secret": self.client_secret}
        fields.update(form)
        fields = dict((k, v) for k, v in fields.items() if v is not None)
        return http(self.token_url, "POST", urllib.parse.urlencode(fields).encode(),
                    {"Content-Type": "application/x-www-form-urlencoded"})

    def token(self):
        if self._token is None:
            status, _, body = self.login()
            assert status == 200, body
            self._token = body["access_token"]
        return self._token

    def graph(self, path, method="GET", body=None, token=None):
        headers = {"Authorization": "Bearer " + (token or self.token()), "Content-Type": "application/json"}
        return http("%s/v1.0/servicePrincipals/%s/synchronization%s" % (self.url, self.sp_id, path), method,
                    json.dumps(body).encode() if body is not None else None, headers)

    def job_path(self, suffix=""):
        return "/jobs/%s%s" % (urllib.parse.quote(self.job_id, safe=""), suffix)

    def scim_base(self, region="cn-shanghai"):
        return "%s/region/%s/scim/v2" % (self.url, region)

    def credentials(self, token, base=None):
        return [{"key": "BaseAddress", "value": base or self.scim_base()}, {"key": "SecretToken", "value": token}]


def _cred(world, status="Enabled"):
    return world.control.seed({"credentials": [{"directory_id": world.directory_id, "status": status}]})["credentials"][0]


def _graph_error(body, code):
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]
    inner = body["error"]["innerError"]
    assert inner["request-id"] and inner["client-request-id"] and inner["date"]


# ------------------------------------------------------------------------------------------ login


def test_client_secret_gives_a_jwt_shaped_token(world):
    entra = Entra(world)
    status, _, body = entra.login()
    assert status == 200 and body["token_type"] == "Bearer" and body["expires_in"] == 3599
    header, claims, _ = body["access_token"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    assert claims["appid"] == entra.client_id and claims["tid"] == entra.tenant_id
    assert body["access_token"] in world.control.secrets() and entra.client_secret in world.control.secrets()


def test_the_emulator_itself_is_an_accepted_graph_resource(world):
    entra = Entra(world)
    assert entra.login(scope=entra.url + "/.default")[0] == 200
    status, _, body = entra.login(scope="https://management.azure.com/.default")
    assert status == 400 and body["error"] == "invalid_scope" and body["error_codes"] == [500011]


@pytest.mark.parametrize("case,status,error,aadsts", [
    ("bad_secret", 401, "invalid_client", 7000215),
    ("unknown_client", 400, "unauthorized_client", 700016),
    ("no_credential", 401, "invalid_client", 7000218),
    ("wrong_grant", 400, "unsupported_grant_type", 70003),
])
def test_login_errors(world, case, status, error, aadsts):
    entra = Entra(world)
    form = {"bad_secret": {"client_secret": "not-the-secret"},
            "unknown_client": {"client_id": "11111111-2222-3333-4444-555555555555"},
            "no_credential": {"client_secret": None},
            "wrong_grant": {"grant_type": "password"}}[case]
    got, _, body = entra.login(**form)
    assert got == status and body["error"] == error and body["error_codes"] == [aadsts]
    assert body["error_description"].startswith("AADSTS%d: " % aadsts) and "Trace ID:" in body["error_description"]
    assert body["trace_id"] and body["correlation_id"] and body["error_uri"].endswith("code=%d" % aadsts)


def test_unknown_tenant_and_domain_lookup(world):
    entra = Entra(world)
    status, _, body = http(entra.url + "/00000000-0000-0000-0000-000000000000/oauth2/v2.0/token", "POST",
                           b"grant_type=client_credentials", {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 400 and body["error_codes"] == [90002]
    domain = world.control.call("GET", "graph")["tenants"][0]["domains"][0]
    fields = {"grant_type": "client_credentials", "client_id": entra.client_id, "client_secret": entra.client_secret,
              "scope": "https://graph.microsoft.com/.default"}
    status, _, _ = http("%s/%s/oauth2/v2.0/token" % (entra.url, domain), "POST", urllib.parse.urlencode(fields).encode(),
                        {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200


def test_expired_client_secret(world):
    entra = Entra(world, secret_expires_in=60)
    world.control.clock(advance_seconds=120)
    status, _, body = entra.login()
    assert status == 401 and body["error_codes"] == [7000222]


def _rsa_material():
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u"automation")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(7).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=2))
            .sign(key, hashes.SHA256()))
    x5t = base64.urlsafe_b64encode(hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).digest()) \
        .rstrip(b"=").decode()
    numbers = key.public_key().public_numbers()
    return key, {"x5t": x5t, "n": "%x" % numbers.n, "e": numbers.e}


def test_certificate_assertion_is_verified(world):
    from ansible_collections.alicloud.cloudsso.plugins.module_utils.entra.signin import build_client_assertion

    key, cert = _rsa_material()
    entra = Entra(world, client_secret=False, certificates=[cert])
    now = world.control.clock()["epoch"]
    good = build_client_assertion(entra.client_id, entra.token_url, cert["x5t"], key, now=now)
    assert entra.login(client_secret=None, client_assertion_type=JWT_BEARER, client_assertion=good)[0] == 200
    head, claims, sig = good.split(".")
    tampered = "%s.%s.%s" % (head, claims, sig[:-4] + ("AAAA" if sig[-4:] != "AAAA" else "BBBB"))
    wrong_aud = build_client_assertion(entra.client_id, "https://login.microsoftonline.com/x/oauth2/v2.0/token",
                                       cert["x5t"], key, now=now)
    expired = build_client_assertion(entra.client_id, entra.token_url, cert["x5t"], key, now=now - 3600)
    other_key, other_cert = _rsa_material()
    unknown_cert = build_client_assertion(entra.client_id, entra.token_url, other_cert["x5t"], other_key, now=now)
    for assertion, aadsts in ((tampered, 700027), (wrong_aud, 700023), (expired, 700024), (unknown_cert, 700027)):
        status, _, body = entra.login(client_secret=None, client_assertion_type=JWT_BEARER, client_assertion=assertion)
        assert status == 401 and body["error_codes"] == [aadsts], body


# ------------------------------------------------------------------------------------------ Graph


def test_graph_needs_a_valid_bearer(world):
    entra = Entra(world)
    status, headers, body = http("%s/v1.0/servicePrincipals/%s/synchronization/jobs" % (entra.url, entra.sp_id))
    assert status == 401 and "authorization_uri" in headers.get("WWW-Authenticate", "")
    _graph_error(body, "InvalidAuthenticationToken")
    status, _, body = entra.graph("/jobs", token="eyJhbGciOiJub25lIn0.e30.c2ln")
    assert status == 401
    entra.token()
    world.control.clock(advance_seconds=3600)
    status, _, body = entra.graph("/jobs")
    assert status == 401 and "expired" in body["error"]["message"]


def test_permissions_owned_by_needs_ownership(world):
    not_owner = Entra(world, permissions=["Application.ReadWrite.OwnedBy"])
    status, _, body = not_owner.graph("/jobs")
    assert status == 403
    _graph_error(body, "Authorization_RequestDenied")
    owner = Entra(world, permissions=["Application.ReadWrite.OwnedBy"], owner=True)
    assert owner.graph("/jobs")[0] == 200


def test_unknown_service_principal_and_job(world):
    entra = Entra(world)
    entra.sp_id = "99999999-9999-4999-8999-999999999999"
    status, _, body = entra.graph("/jobs")
    assert status == 404
    _graph_error(body, "Request_ResourceNotFound")
    entra = Entra(world)
    entra.job_id = "customappsso.nothere.x"
    assert entra.graph(entra.job_path())[0] == 404


def test_jobs_and_secrets(world):
    entra = Entra(world)
    status, _, body = entra.graph("/jobs")
    assert status == 200 and [j["id"] for j in body["value"]] == [entra.job_id]
    job = body["value"][0]
    assert job["templateId"] == "customappsso" and job["schedule"]["interval"] == "PT40M"
    assert job["status"]["code"] == "Active" and job["status"]["quarantine"] is None
    status, _, body = entra.graph("/secrets", "PUT", {"value": [{"key": "BaseAddress", "value": entra.scim_base()}]})
    assert status == 400
    _graph_error(body, "BadRequest")
    cred = _cred(world)
    assert entra.graph("/secrets", "PUT", {"value": entra.credentials(cred["secret"])})[0] == 204
    status, _, body = entra.graph("/secrets")
    assert body["value"] == [{"key": "BaseAddress", "value": entra.scim_base()}, {"key": "SecretToken", "value": "*"}]
    view = world.control.call("GET", "graph")
    sp = [s for s in view["service_principals"] if s["id"] == entra.sp_id][0]
    assert sp["credential_id"] == cred["credential_id"] and sp["token_state"] == "Enabled"
    assert cred["secret"] not in json.dumps(view)


def test_validate_credentials_calls_the_scim_endpoint(world):
    entra = Entra(world)
    good, bad = _cred(world), _cred(world, "Disabled")
    status, _, _ = entra.graph(entra.job_path("/validateCredentials"), "POST",
                               {"useSavedCredentials": False, "credentials": entra.credentials(good["secret"])})
    assert status == 204
    events = world.control.events(account_id=world.account_id, limit=100)["events"]
    probe = [e for e in events if e["eventName"] == "ListUsers" and "errorCode" not in e]
    assert probe and good["credential_id"] in json.dumps(probe[0]) and "filter" in probe[0]["requestParameters"]
    status, _, body = entra.graph(entra.job_path("/validateCredentials"), "POST",
                                  {"useSavedCredentials": False, "credentials": entra.credentials(bad["secret"])})
    assert status == 400 and "HTTP/401" in body["error"]["message"]
    assert bad["secret"] not in json.dumps(body)
    status, _, body = entra.graph(entra.job_path("/validateCredentials"), "POST", {"useSavedCredentials": True})
    assert status == 400 and "no credentials are saved" in body["error"]["message"]
    elsewhere = entra.credentials(good["secret"], base="https://cloudsso-scim-cn-shanghai.aliyun.com/scim/v2")
    status, _, body = entra.graph(entra.job_path("/validateCredentials"), "POST",
                                  {"useSavedCredentials": False, "credentials": elsewhere})
    assert status == 400 and "could not connect" in body["error"]["message"]


def test_echo_setting_puts_the_token_in_the_error(world):
    entra = Entra(world)
    bad = _cred(world, "Disabled")
    world.control.call("POST", "graph/settings", {"echo_credentials": True})
    _, _, body = entra.graph(entra.job_path("/validateCredentials"), "POST",
                             {"credentials": entra.credentials(bad["secret"])})
    assert bad["secret"] in body["error"]["message"]


def test_provision_on_demand_and_its_limit(world):
    entra = Entra(world)
    cred = _cred(world)
    entra.graph("/secrets", "PUT", {"value": entra.credentials(cred["secret"])})
    _, _, schema = entra.graph(entra.job_path("/schema"))
    rule = schema["synchronizationRules"][0]["id"]
    body = {"parameters": [{"ruleId": rule, "subjects": [{"objectId": entra.users[0]["id"], "objectTypeName": "User"}]}]}
    results = []
    for _ in range(5):
        status, _, answer = entra.graph(entra.job_path("/provisionOnDemand"), "POST", body)
        assert status == 200
        record = json.loads(answer["value"])  # one JSON object, as in the page's examples
        results.append((json.loads(answer["key"])["result"], record["statusInfo"]["status"]))
    assert [r[0] for r in results] == ["Success", "Skipped", "Skipped", "Skipped", "Skipped"] == [r[1] for r in results]
    steps = [(s["type"], s["status"]) for s in record["provisioningSteps"]]
    assert ("Matching", "Success") in steps and ("Export", "Skipped") in steps  # RedundantExport, after the target
    status, headers, answer = entra.graph(entra.job_path("/provisionOnDemand"), "POST", body)
    assert status == 429 and 1 <= int(headers["Retry-After"]) <= 10
    _graph_error(answer, "TooManyRequests")
    users = world.control.state()["scim_users"][world.directory_id]
    assert len(users) == 1


def test_provision_on_demand_with_a_rejected_token_fails(world):
    entra = Entra(world)
    cred = _cred(world, "Disabled")
    entra.graph("/secrets", "PUT", {"value": entra.credentials(cred["secret"])})
    _, _, schema = entra.graph(entra.job_path("/schema"))
    body = {"parameters": [{"ruleId": schema["synchronizationRules"][0]["id"],
                            "subjects": [{"objectId": entra.users[1]["id"], "objectTypeName": "User"}]}]}
    status, _, answer = entra.graph(entra.job_path("/provisionOnDemand"), "POST", body)
    document = json.loads(answer["value"])
    assert status == 200 and document["statusInfo"]["status"] == "Failure"
    assert "401" in document["statusInfo"]["reason"] and "401" in json.loads(answer["key"])["details"]["errorMessage"]


def _on_demand_setup(world, object_of, object_type):
    """(entra, credential, provisionOnDemand body) with the credential saved in the job."""
    entra = Entra(world)
    cred = _cred(world)
    entra.graph("/secrets", "PUT", {"value": entra.credentials(cred["secret"])})
    _, _, schema = entra.graph(entra.job_path("/schema"))
    return entra, cred, {"parameters": [{"ruleId": schema["synchronizationRules"][0]["id"], "subjects": [
        {"objectId": object_of(entra), "objectTypeName": object_type}]}]}


def _scim_calls(world):
    return sum(n for k, n in world.control.calls()["counts"].items() if k.startswith("scim:"))


def test_an_out_of_scope_user_is_skipped_without_calling_the_target(world):
    """NotEffectivelyEntitled is decided inside Entra: the SCIM endpoint sees no request."""
    entra, cred, body = _on_demand_setup(world, lambda e: e.users[2]["id"], "User")
    before = _scim_calls(world)
    status, _, answer = entra.graph(entra.job_path("/provisionOnDemand"), "POST", body)
    assert status == 200 and _scim_calls(world) == before
    assert json.loads(answer["key"])["result"] == "Skipped"
    assert json.loads(answer["key"])["details"]["errorCode"] == "NotEffectivelyEntitled"
    record = json.loads(answer["value"])
    assert [s["type"] for s in record["provisioningSteps"]] == ["Import", "Scoping"]
    # SyncAll "true" (all users and groups) brings the user into scope: now the target is called.
    entra.graph("/secrets", "PUT", {"value": entra.credentials(cred["secret"]) + [{"key": "SyncAll", "value": "true"}]})
    status, _, answer = entra.graph(entra.job_path("/provisionOnDemand"), "POST", body)
    assert json.loads(answer["key"])["result"] == "Success" and _scim_calls(world) > before


def test_a_group_on_demand_answers_in_the_documented_shape(world):
    entra, cred, body = _on_demand_setup(world, lambda e: e.groups[0]["id"], "Group")
    status, _, answer = entra.graph(entra.job_path("/provisionOnDemand"), "POST", body)
    assert status == 200 and json.loads(answer["key"]) == {"result": "Success", "details": {}}
    assert answer["value"] == "{}"
    assert len(world.control.state()["scim_groups"][world.directory_id]) == 1
    status, _, found = world.scim('/Groups?filter=displayName%20eq%20%22canary-group%22', token=cred["secret"])
    assert status == 200 and found["totalResults"] == 1


def test_a_put_of_the_secrets_replaces_the_whole_list(world):
    entra = Entra(world)
    cred = _cred(world)
    settings = '{"Enabled":true,"Recipients":"ops@example.com","DeleteThresholdEnabled":false}'
    four = entra.credentials(cred["secret"]) + [{"key": "SyncNotificationSettings", "value": settings},
                                                {"key": "SyncAll", "value": "true"}]
    assert entra.graph("/secrets", "PUT", {"value": four})[0] == 204
    listed = dict((p["key"], p["value"]) for p in entra.graph("/secrets")[2]["value"])
    assert listed == {"BaseAddress": entra.scim_base(), "SecretToken": "*", "SyncNotificationSettings": settings,
                      "SyncAll": "true"}
    assert entra.graph("/secrets", "PUT", {"value": entra.credentials(cred["secret"])})[0] == 204
    listed = dict((p["key"], p["value"]) for p in entra.graph("/secrets")[2]["value"])
    assert listed == {"BaseAddress": entra.scim_base(), "SecretToken": "*"}
    world.control.call("POST", "graph/settings", {"secrets_readable": False})
    assert entra.graph("/secrets")[0] == 405


def test_start_pause_restart_counted(world):
    entra = Entra(world)
    assert entra.graph(entra.job_path("/pause"), "POST")[0] == 204
    assert entra.graph(entra.job_path())[2]["status"]["code"] == "Paused"
    assert entra.graph(entra.job_path("/start"), "POST")[0] == 204
    assert entra.graph(entra.job_path())[2]["status"]["code"] == "Active"
    jobs = [j for s in world.control.call("GET", "graph")["service_principals"] for j in s["jobs"]
            if j["id"] == entra.job_id]
    assert jobs[0]["calls"] == {"start": 1, "restart": 0, "pause": 1}


def test_faults_get_graph_bodies_with_retry_after(world):
    entra = Entra(world)
    world.control.add_fault(match="graph:listJobs", kind="error", status=429, code="TooManyRequests",
                            message="slow down", retry_after=2000)
    status, headers, body = entra.graph("/jobs")
    assert status == 429 and headers["Retry-After"] == "2"
    _graph_error(body, "TooManyRequests")
    assert entra.graph("/jobs")[0] == 200
    counts = world.control.calls()["counts"]
    assert counts["graph:listJobs"] == 2 and counts["entra-login:token"] == 1


def test_unknown_graph_segment(world):
    entra = Entra(world)
    status, _, body = entra.graph("/templates")
    assert status == 400
    _graph_error(body, "BadRequest")


def test_quarantine_can_be_set_for_a_test(world):
    entra = Entra(world)
    job = world.control.call("POST", "graph/jobs/%s/%s" % (entra.sp_id, urllib.parse.quote(entra.job_id, safe="")),
                             {"code": "Quarantine"})
    assert job["status"]["code"] == "Quarantine"
    assert job["status"]["quarantine"]["reason"] == "EncounteredQuarantineException"
    assert entra.graph(entra.job_path("/start"), "POST")[0] == 204
    job = entra.graph(entra.job_path())[2]
    assert job["status"]["code"] == "Active" and job["status"]["quarantine"] is None
