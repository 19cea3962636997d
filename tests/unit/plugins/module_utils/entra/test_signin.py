"""Unit tests for plugins/module_utils/entra/signin.py: the automation app's credential and the token request."""

import base64
import json
from urllib.parse import parse_qs

import pytest

from ansible_collections.alicloud.cloudsso.plugins.module_utils.entra import signin

from tests.helpers.graph_fakes import CLIENT, SECRET, TENANT


def test_select_credential_prefers_options_then_env_order():
    env = {"AZURE_CLIENT_SECRET": "env-secret", "AZURE_FEDERATED_TOKEN_FILE": "/f"}
    assert signin.select_credential({"client_assertion": "a.b.c"}, env).kind == "assertion"
    chosen = signin.select_credential({}, env)
    assert chosen.kind == "secret" and chosen.value == "env-secret" and chosen.source == "env"
    assert signin.select_credential({}, {"AZURE_SECRET": "s"}).value == "s"
    assert signin.select_credential({}, {"AZURE_FEDERATED_TOKEN_FILE": "/f"}).kind == "assertion_file"
    assert signin.select_credential({}, {"AZURE_CLIENT_CERTIFICATE_PATH": "/c.pem"}).kind == "certificate"
    with pytest.raises(signin.EntraConfigError, match="only one"):
        signin.select_credential({"client_secret": "a", "client_assertion": "b"}, {})
    with pytest.raises(signin.EntraConfigError, match="no Entra ID client credential"):
        signin.select_credential({}, {})


def test_assertion_file_is_read_at_each_request(tmp_path):
    path = tmp_path / "federated"
    path.write_text("first.jwt.value\n")
    credential = signin.EntraCredential("assertion_file", path=str(path))
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
    credential = signin.EntraCredential("certificate", path=cert_path)
    fields, secrets = credential.form(CLIENT, "https://login.example/%s/oauth2/v2.0/token" % TENANT, now=1700000000)
    assertion = fields["client_assertion"]
    assert fields["client_assertion_type"] == signin.JWT_BEARER and secrets == [assertion]
    header_b64, claims_b64, signature_b64 = assertion.split(".")
    header = json.loads(_b64decode(header_b64))
    claims = json.loads(_b64decode(claims_b64))
    thumb = base64.urlsafe_b64encode(hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).digest()).rstrip(b"=")
    assert header == {"alg": "RS256", "typ": "JWT", "x5t": thumb.decode()}
    assert claims["aud"].endswith("/oauth2/v2.0/token") and claims["iss"] == claims["sub"] == CLIENT
    assert claims["exp"] - claims["nbf"] == signin.ASSERTION_LIFETIME and claims["iat"] == 1700000000
    key.public_key().verify(_b64decode(signature_b64), ("%s.%s" % (header_b64, claims_b64)).encode(),
                            padding.PKCS1v15(), hashes.SHA256())


def test_certificate_with_separate_encrypted_key(tmp_path):
    cert_path, key_path, _, _ = _certificate(tmp_path, password="pw-123456", combined=False)
    assert signin.load_certificate(cert_path, key_path, "pw-123456")[0]
    with pytest.raises(signin.EntraConfigError, match="client_certificate_password"):
        signin.load_certificate(cert_path, key_path, "wrong")
    with pytest.raises(signin.EntraConfigError, match="no PEM private key"):
        signin.load_certificate(cert_path)


def test_certificate_and_key_must_match(tmp_path):
    cert_path, _, _, _ = _certificate(tmp_path, combined=False)
    other = tmp_path / "other"
    other.mkdir()
    _, other_key, _, _ = _certificate(other, combined=False)
    with pytest.raises(signin.EntraConfigError, match="does not belong"):
        signin.load_certificate(cert_path, other_key)


def test_unreadable_certificate_names_the_path_only(tmp_path):
    with pytest.raises(signin.EntraConfigError) as info:
        signin.load_certificate(str(tmp_path / "missing.pem"))
    assert "missing.pem" in str(info.value)


def test_token_request_form_and_answer():
    url = signin.token_url("https://login.example", TENANT)
    assert url == "https://login.example/%s/oauth2/v2.0/token" % TENANT
    data, new_secrets = signin.token_request(signin.EntraCredential("secret", value=SECRET), CLIENT, url,
                                             "https://graph.example/.default")
    assert parse_qs(data.decode()) == {"client_id": [CLIENT], "client_secret": [SECRET],
                                       "grant_type": ["client_credentials"], "scope": ["https://graph.example/.default"]}
    assert new_secrets == []
    data, new_secrets = signin.token_request(signin.EntraCredential("assertion", value="a.b.c"), CLIENT, url, "s")
    assert parse_qs(data.decode())["client_assertion_type"] == [signin.JWT_BEARER]
    assert signin.token_from_answer({"access_token": "t", "expires_in": "600"}) == ("t", 600)
    assert signin.token_from_answer({"access_token": "t", "expires_in": "soon"}) == ("t", signin.DEFAULT_TOKEN_LIFETIME)
    assert signin.token_from_answer(None) == (None, signin.DEFAULT_TOKEN_LIFETIME)
    assert signin.token_from_answer({"error": "x"})[0] is None


def test_an_unusable_credential_is_refused_before_the_request(tmp_path):
    missing = signin.EntraCredential("assertion_file", path=str(tmp_path / "gone"))
    with pytest.raises(signin.EntraConfigError, match="client assertion file"):
        signin.token_request(missing, CLIENT, "https://login/x", "s")

