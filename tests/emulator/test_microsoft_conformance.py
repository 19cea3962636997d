"""Microsoft's own clients against the simulated Entra ID: MSAL and azure-identity sign in (client secret
and certificate assertion, through the OpenID discovery document, over TLS on loopback), and the Microsoft
Graph SDK (msgraph-sdk, kiota) calls every Graph action the collection makes. Each raw answer is compared
with what the SDK's model keeps, field by field: a field the emulator sends that the model does not know,
or a documented field it leaves out, fails here before it misleads the collection."""

import asyncio
import base64
import datetime
import hashlib
import json
import os
import urllib.parse

import pytest

from tests.helpers.emulator import EmulatorProcess, http_request

trustme = pytest.importorskip("trustme")
msal = pytest.importorskip("msal")
pytest.importorskip("msgraph")

GRAPH_SCOPE = "https://graph.microsoft.com/.default"


@pytest.fixture(scope="module")
def tls_emulator(tmp_path_factory):
    """An emulator serving https with a certificate from a throwaway CA that this test trusts."""
    folder = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    server_cert = ca.issue_cert("127.0.0.1", "localhost")
    cert_path, ca_path = str(folder / "server.pem"), str(folder / "ca.pem")
    server_cert.private_key_and_cert_chain_pem.write_to_path(cert_path)
    ca.cert_pem.write_to_path(ca_path)
    saved = dict((k, os.environ.get(k)) for k in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"))
    # urllib (the control client) and requests (azure-identity) trust the CA through these.
    os.environ.update(SSL_CERT_FILE=ca_path, REQUESTS_CA_BUNDLE=ca_path)
    try:
        with EmulatorProcess(extra_args=["--tls-cert", cert_path]) as emu:
            emu.ca_path = ca_path
            yield emu
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _certificate():
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cloudsso-automation")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(7).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    der = cert.public_bytes(serialization.Encoding.DER)
    pem_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    x5t = base64.urlsafe_b64encode(hashlib.sha1(der).digest()).rstrip(b"=").decode()
    x5t_s256 = base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()
    seed = {"x5t": x5t, "x5t#S256": x5t_s256, "n": "%x" % key.public_key().public_numbers().n, "e": 65537}
    return pem_key, cert.public_bytes(serialization.Encoding.PEM).decode(), hashlib.sha1(der).hexdigest(), seed


class Tenant:
    """A tenant with an automation app (secret and certificate), an enterprise app and its job, whose saved
    token is an Enabled CloudSSO credential of a directory on the same emulator."""

    def __init__(self, emu):
        from tests.helpers.emulator import make_access_key

        emu.control.reset({"config": {"actiontrail_rate_per_second": 0}})
        ak = make_access_key()
        seeded = emu.control.seed({"access_keys": [ak], "directories": [{"region": "cn-shanghai",
                                                                           "account_id": ak["account_id"]}]})
        directory_id = seeded["directories"][0]["directory_id"]
        self.token = emu.control.seed({"credentials": [{"directory_id": directory_id}]})["credentials"][0]["secret"]
        self.key_pem, self.cert_pem, self.thumbprint, cert = _certificate()
        graph = emu.control.seed({"graph": {"tenants": [{"users": 2, "groups": ["canary-group"]}]}})["graph"]
        self.tenant_id = graph["tenants"][0]["tenant_id"]
        self.users = graph["tenants"][0]["users"]
        self.groups = graph["tenants"][0]["groups"]
        app = emu.control.seed({"graph": {"apps": [{"tenant_id": self.tenant_id, "certificates": [cert]}]}})
        self.client_id = app["graph"]["apps"][0]["client_id"]
        self.client_secret = app["graph"]["apps"][0]["client_secret"]
        sp = emu.control.seed({"graph": {"service_principals": [{"tenant_id": self.tenant_id}]}})["graph"]
        self.sp_id = sp["service_principals"][0]["service_principal_id"]
        self.job_id = sp["service_principals"][0]["job_ids"][0]
        self.url = emu.url
        self.scim_base = emu.url + "/region/cn-shanghai/scim/v2"

    def raw(self, access_token, path, method="GET", body=None):
        """The raw answer of Graph, for the field-by-field comparison with the SDK's models."""
        url = "%s/v1.0/servicePrincipals/%s/synchronization%s" % (self.url, self.sp_id, path)
        return http_request(url, method, json.dumps(body).encode() if body is not None else None,
                            {"Authorization": "Bearer " + access_token, "Content-Type": "application/json"})


@pytest.fixture
def tenant(tls_emulator):
    return Tenant(tls_emulator)


def _msal_app(tenant, credential):
    return msal.ConfidentialClientApplication(
        tenant.client_id, client_credential=credential, authority="%s/%s" % (tenant.url, tenant.tenant_id),
        instance_discovery=False, verify=os.environ["SSL_CERT_FILE"], token_cache=msal.TokenCache())


def test_msal_signs_in_with_a_secret_and_with_a_certificate(tenant, tls_emulator):
    with_secret = _msal_app(tenant, tenant.client_secret).acquire_token_for_client(scopes=[GRAPH_SCOPE])
    assert with_secret.get("token_type") == "Bearer" and with_secret["access_token"].count(".") == 2, with_secret
    # A PEM key with its SHA-1 thumbprint: RS256 and the padded x5t MSAL writes.
    with_cert = _msal_app(tenant, {"private_key": tenant.key_pem, "thumbprint": tenant.thumbprint}) \
        .acquire_token_for_client(scopes=[GRAPH_SCOPE])
    assert with_cert.get("access_token"), with_cert
    # With the public certificate MSAL signs PS256 and names the key by x5t#S256.
    with_pss = _msal_app(tenant, {"private_key": tenant.key_pem, "public_certificate": tenant.cert_pem}) \
        .acquire_token_for_client(scopes=[GRAPH_SCOPE])
    assert with_pss.get("access_token"), with_pss
    wrong = _msal_app(tenant, "not-the-secret").acquire_token_for_client(scopes=[GRAPH_SCOPE])
    assert wrong["error"] == "invalid_client" and 7000215 in wrong["error_codes"]
    counts = tls_emulator.control.calls()["counts"]
    assert counts["entra-login:openid-configuration"] >= 1 and counts["entra-login:token"] == 4


def test_azure_identity_signs_in_with_a_certificate(tenant, tmp_path):
    from azure.identity import CertificateCredential

    pem = tmp_path / "automation.pem"
    pem.write_text(tenant.key_pem + tenant.cert_pem)
    credential = CertificateCredential(tenant.tenant_id, tenant.client_id, certificate_path=str(pem),
                                       authority=tenant.url, disable_instance_discovery=True)
    assert credential.get_token(GRAPH_SCOPE).token.count(".") == 2


def _graph_client(tenant, credential):
    import httpx
    import ssl
    from kiota_authentication_azure.azure_identity_authentication_provider import AzureIdentityAuthenticationProvider
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph_core import GraphClientFactory

    http = httpx.AsyncClient(verify=ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"]),
                             base_url=tenant.url + "/v1.0")
    auth = AzureIdentityAuthenticationProvider(credential, scopes=[GRAPH_SCOPE])
    adapter = GraphRequestAdapter(auth, GraphClientFactory.create_with_default_middleware(client=http))
    adapter.base_url = tenant.url + "/v1.0"
    return GraphServiceClient(request_adapter=adapter), http


def _unknown_fields(model, path="$"):
    """Fields of a parsed kiota model that its class does not define (kept in additional_data)."""
    from kiota_abstractions.serialization import Parsable

    found = []
    extra = dict(getattr(model, "additional_data", None) or {})
    found += ["%s.%s" % (path, k) for k in extra if not k.startswith("@odata.")]
    for name, value in vars(model).items():
        if name in ("additional_data", "backing_store"):
            continue
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            if isinstance(item, Parsable):
                found += _unknown_fields(item, "%s.%s%s" % (path, name, "[%d]" % index if isinstance(value, list) else ""))
    return found


def _serialized(model):
    """The model written back as JSON by kiota: what it kept of the answer."""
    from kiota_serialization_json.json_serialization_writer import JsonSerializationWriter

    writer = JsonSerializationWriter()
    writer.write_object_value(None, model)
    return json.loads(writer.get_serialized_content().decode())


def _without_nulls(value):
    if isinstance(value, dict):
        return dict((k, _without_nulls(v)) for k, v in value.items() if v is not None and not k.startswith("@odata."))
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _same_instant(left, right):
    """Graph writes 7 fraction digits; kiota parses to microseconds and writes them back its way."""
    def parse(text):
        head, _, frac = text.replace("+00:00", "").rstrip("Z").partition(".")
        return head[:19], int((frac + "000000")[:6])
    return parse(left) == parse(right)


def _duration_seconds(text):
    import re

    iso = re.match(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$", text)
    if iso:
        return sum(int(v or 0) * m for v, m in zip(iso.groups(), (3600, 60, 1)))
    hours, minutes, seconds = text.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + int(float(seconds))


def _assert_kept(raw, kept, path="$"):
    """Every field of the raw answer is in what the model kept, with the same value."""
    if isinstance(raw, dict):
        assert isinstance(kept, dict), path
        for key, value in raw.items():
            assert key in kept, "%s.%s dropped by the SDK model" % (path, key)
            _assert_kept(value, kept[key], "%s.%s" % (path, key))
    elif isinstance(raw, list):
        assert isinstance(kept, list) and len(kept) == len(raw), path
        for index, (a, b) in enumerate(zip(raw, kept)):
            _assert_kept(a, b, "%s[%d]" % (path, index))
    elif isinstance(raw, str) and isinstance(kept, str) and raw != kept and raw[:4].isdigit() and "T" in raw:
        assert _same_instant(raw, kept), path
    elif isinstance(raw, str) and isinstance(kept, str) and raw != kept and raw.startswith("PT"):
        assert _duration_seconds(raw) == _duration_seconds(kept), path  # kiota writes a timedelta as H:MM:SS
    else:
        assert raw == kept, path


def test_the_graph_sdk_calls_every_action_the_collection_makes(tenant, tls_emulator):
    from azure.identity import ClientSecretCredential
    from msgraph.generated.models.string_key_string_value_pair import StringKeyStringValuePair
    from msgraph.generated.models.synchronization_job_application_parameters import (
        SynchronizationJobApplicationParameters,
    )
    from msgraph.generated.models.synchronization_job_subject import SynchronizationJobSubject
    from msgraph.generated.models.synchronization_secret import SynchronizationSecret
    from msgraph.generated.models.synchronization_secret_key_string_value_pair import (
        SynchronizationSecretKeyStringValuePair,
    )
    from msgraph.generated.service_principals.item.synchronization.jobs.item.provision_on_demand import (
        provision_on_demand_post_request_body as on_demand,
    )
    from msgraph.generated.service_principals.item.synchronization.jobs.item.validate_credentials import (
        validate_credentials_post_request_body as validate,
    )
    from msgraph.generated.service_principals.item.synchronization.secrets.secrets_put_request_body import (
        SecretsPutRequestBody,
    )

    credential = ClientSecretCredential(tenant.tenant_id, tenant.client_id, tenant.client_secret,
                                        authority=tenant.url, disable_instance_discovery=True)
    access_token = credential.get_token(GRAPH_SCOPE).token
    secrets = [SynchronizationSecretKeyStringValuePair(key=SynchronizationSecret.BaseAddress, value=tenant.scim_base),
               SynchronizationSecretKeyStringValuePair(key=SynchronizationSecret.SecretToken, value=tenant.token),
               SynchronizationSecretKeyStringValuePair(key=SynchronizationSecret.SyncAll, value="false"),
               SynchronizationSecretKeyStringValuePair(key=SynchronizationSecret.SyncNotificationSettings,
                                                       value='{"Enabled":false,"DeleteThresholdEnabled":false}')]

    async def run():
        client, http = _graph_client(tenant, credential)
        sync = client.service_principals.by_service_principal_id(tenant.sp_id).synchronization
        job = sync.jobs.by_synchronization_job_id(tenant.job_id)
        try:
            listed = await sync.jobs.get()
            one = await job.get()
            schema = await job.schema.get()
            await sync.secrets.put(SecretsPutRequestBody(value=secrets))
            await job.validate_credentials.post(validate.ValidateCredentialsPostRequestBody(
                use_saved_credentials=False, credentials=secrets[:2]))
            await job.validate_credentials.post(validate.ValidateCredentialsPostRequestBody(use_saved_credentials=True))
            rule = schema.synchronization_rules[0].id
            answers = []
            for object_id, kind in ((tenant.users[0]["id"], "User"), (tenant.groups[0]["id"], "Group")):
                answers.append(await job.provision_on_demand.post(on_demand.ProvisionOnDemandPostRequestBody(
                    parameters=[SynchronizationJobApplicationParameters(rule_id=rule, subjects=[
                        SynchronizationJobSubject(object_id=object_id, object_type_name=kind)])])))
            await job.start.post()
            return listed, one, schema, answers
        finally:
            await http.aclose()

    listed, one, schema, answers = asyncio.run(run())
    raw_jobs = tenant.raw(access_token, "/jobs")[2]
    assert [j.id for j in listed.value] == [j["id"] for j in raw_jobs["value"]] == [tenant.job_id]
    raw_job = tenant.raw(access_token, "/jobs/" + urllib.parse.quote(tenant.job_id, safe=""))[2]
    assert _unknown_fields(one) == []
    # the job as read now (after start): compare against a fresh SDK read of the same state
    assert one.status.code == "Active" and one.template_id == raw_job["templateId"]
    raw_schema = tenant.raw(access_token, "/jobs/%s/schema" % urllib.parse.quote(tenant.job_id, safe=""))[2]
    assert _unknown_fields(schema) == []
    _assert_kept(_without_nulls(raw_schema), _without_nulls(_serialized(schema)))
    assert _unknown_fields(listed) == []
    for answer in answers:
        # The SDK types the answer as a stringKeyStringValuePair: `key` and `value`, both strings, and nothing else.
        assert isinstance(answer, StringKeyStringValuePair) and _unknown_fields(answer) == []
        assert json.loads(answer.key)["result"] == "Success"
    assert answers[1].value == "{}"
    assert json.loads(answers[0].value)["statusInfo"]["status"] == "Success"
    counts = tls_emulator.control.calls()["counts"]
    for action in ("listJobs", "getJob", "getSchema", "putSecrets", "validateCredentials", "provisionOnDemand",
                   "start"):
        assert counts["graph:" + action] >= 1, action


def test_the_job_answer_is_kept_field_by_field(tenant, tls_emulator):
    """A job with executions and a quarantine: every field Graph sends is one the SDK model defines."""
    from azure.identity import ClientSecretCredential

    credential = ClientSecretCredential(tenant.tenant_id, tenant.client_id, tenant.client_secret,
                                        authority=tenant.url, disable_instance_discovery=True)
    tls_emulator.control.call("POST", "graph/jobs/%s/%s" % (tenant.sp_id, tenant.job_id), {"code": "Quarantine"})
    access_token = credential.get_token(GRAPH_SCOPE).token
    raw = tenant.raw(access_token, "/jobs/" + urllib.parse.quote(tenant.job_id, safe=""))[2]

    async def run():
        client, http = _graph_client(tenant, credential)
        try:
            return await client.service_principals.by_service_principal_id(tenant.sp_id).synchronization.jobs \
                .by_synchronization_job_id(tenant.job_id).get()
        finally:
            await http.aclose()

    job = asyncio.run(run())
    assert _unknown_fields(job) == []
    assert job.status.quarantine.reason.value == "EncounteredQuarantineException"
    _assert_kept(_without_nulls(raw), _without_nulls(_serialized(job)))


def test_pss_verification_rejects_a_wrong_signature():
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    from emulator.graph import rsa_pss_verify

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    numbers = key.public_key().public_numbers()
    signature = key.sign(b"header.claims", padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
                         hashes.SHA256())
    assert rsa_pss_verify(numbers.n, numbers.e, b"header.claims", signature)
    assert not rsa_pss_verify(numbers.n, numbers.e, b"header.claimz", signature)
    assert not rsa_pss_verify(numbers.n, numbers.e, b"header.claims", signature[:-1] + bytes([signature[-1] ^ 1]))
