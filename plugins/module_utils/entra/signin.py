# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""How the automation app signs in to Microsoft Entra ID (OAuth2 client credentials).

- The credential, from the options or the environment (the names of azure-identity, then those of
  azure.azcollection): a client secret, a certificate (an RS256 client assertion signed here), a prebuilt
  client assertion, or a federated token file (re-read at each token request, since it rotates).
- The token request (its URL and form) and the reading of its answer. Sending it, retrying it and
  turning a refusal into an error are the Graph client's job (entra/client.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import json
import os
import re
import time
import traceback
import uuid

try:
    from urllib.parse import quote, urlencode
except ImportError:  # pragma: no cover
    from urllib import quote, urlencode  # type: ignore

from ansible_collections.alicloud.cloudsso.plugins.module_utils.secret_file import SecretFileError, read_token_file

CRYPTOGRAPHY_IMPORT_ERROR = None
try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - reported when a certificate is given
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()

DEFAULT_LOGIN_ENDPOINT = "https://login.microsoftonline.com"

# Environment: the names of the Azure SDKs (azure-identity EnvironmentCredential) first, then those of
# the azure.azcollection collection.
TENANT_ENV = ("AZURE_TENANT_ID", "AZURE_TENANT")
CLIENT_ID_ENV = ("AZURE_CLIENT_ID",)
CLIENT_SECRET_ENV = ("AZURE_CLIENT_SECRET", "AZURE_SECRET")
CERTIFICATE_ENV = "AZURE_CLIENT_CERTIFICATE_PATH"
CERTIFICATE_PASSWORD_ENV = "AZURE_CLIENT_CERTIFICATE_PASSWORD"
FEDERATED_TOKEN_ENV = "AZURE_FEDERATED_TOKEN_FILE"

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME = 600
DEFAULT_TOKEN_LIFETIME = 3599
TOKEN_REQUEST_HEADERS = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}


class EntraConfigError(ValueError):
    """Bad Entra options (a missing credential, an unreadable certificate); the message names the
    option or the path, never a value."""


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_PEM_BLOCK = re.compile(br"-----BEGIN ([A-Z0-9 ]+)-----.+?-----END \1-----", re.S)


def _read_bytes(path, what):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (IOError, OSError) as error:
        raise EntraConfigError("cannot read %s %s: %s" % (what, path, error.strerror or type(error).__name__))


def load_certificate(cert_path, key_path=None, password=None):
    """(x5t thumbprint, private key) from PEM files. The certificate file may hold the key too (the
    format azure-identity reads from AZURE_CLIENT_CERTIFICATE_PATH)."""
    if not HAS_CRYPTOGRAPHY:
        raise EntraConfigError("certificate authentication needs the Python library cryptography; install it "
                               "or give a prebuilt client_assertion")
    cert_data = _read_bytes(cert_path, "certificate file")
    blocks = dict((m.group(1).decode("ascii"), m.group(0)) for m in reversed(list(_PEM_BLOCK.finditer(cert_data))))
    if "CERTIFICATE" not in blocks:
        raise EntraConfigError("certificate file %s holds no PEM certificate" % cert_path)
    try:
        certificate = x509.load_pem_x509_certificate(blocks["CERTIFICATE"])
    except ValueError:
        raise EntraConfigError("certificate file %s holds a PEM certificate that cannot be parsed" % cert_path)
    key_data = _read_bytes(key_path, "certificate key file") if key_path else cert_data
    key_source = key_path or cert_path
    key_blocks = [m.group(0) for m in _PEM_BLOCK.finditer(key_data) if m.group(1).endswith(b"PRIVATE KEY")]
    if not key_blocks:
        raise EntraConfigError("no PEM private key in %s; give client_certificate_key_path" % key_source)
    try:
        key = serialization.load_pem_private_key(key_blocks[0], password=password.encode("utf-8") if password else None)
    except (ValueError, TypeError):
        raise EntraConfigError("the private key in %s cannot be loaded: wrong or missing "
                               "client_certificate_password, or not a PEM key" % key_source)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise EntraConfigError("the private key in %s is not an RSA key; Entra ID client assertions use RS256"
                               % key_source)
    if key.public_key().public_numbers() != certificate.public_key().public_numbers():
        raise EntraConfigError("the private key in %s does not belong to the certificate in %s"
                               % (key_source, cert_path))
    thumbprint = _b64url(hashlib.sha1(certificate.public_bytes(serialization.Encoding.DER)).digest())
    return thumbprint, key


def build_client_assertion(client_id, token_url, thumbprint, key, now=None, jti=None):
    """An RS256-signed JWT client assertion (Microsoft identity platform certificate credentials)."""
    now = int(now if now is not None else time.time())
    header = {"alg": "RS256", "typ": "JWT", "x5t": thumbprint}
    claims = {"aud": token_url, "iss": client_id, "sub": client_id, "jti": jti or str(uuid.uuid4()),
              "nbf": now, "iat": now, "exp": now + ASSERTION_LIFETIME}
    signing_input = ("%s.%s" % (_b64url(json.dumps(header, separators=(",", ":")).encode("utf-8")),
                                _b64url(json.dumps(claims, separators=(",", ":")).encode("utf-8")))).encode("ascii")
    signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return "%s.%s" % (signing_input.decode("ascii"), _b64url(signature))


class EntraCredential(object):
    """How the automation app proves its identity: kind is secret, certificate, assertion or
    assertion_file (a federated token file, re-read at every token request since it rotates)."""

    def __init__(self, kind, value=None, path=None, key_path=None, password=None, source="option"):
        self.kind = kind
        self.value = value
        self.path = path
        self.key_path = key_path
        self.password = password
        self.source = source
        self._certificate = None

    @property
    def description(self):
        name = {"secret": "client secret", "certificate": "certificate", "assertion": "client assertion",
                "assertion_file": "federated token file"}[self.kind]
        return name + (" (environment)" if self.source == "env" else "")

    def secrets(self):
        return [v for v in (self.value, self.password) if v]

    def read_assertion_file(self):
        """The federated token: one token-shaped line (secret_file.read_token_file). A link is followed, as
        Kubernetes mounts projected tokens as links."""
        try:
            return read_token_file(self.path, what="client assertion file", follow_links=True)[0]
        except SecretFileError as error:
            raise EntraConfigError(str(error))

    def form(self, client_id, token_url, now=None):
        """The credential fields of the token request; returns (fields, new secret values)."""
        if self.kind == "secret":
            return {"client_secret": self.value}, []
        if self.kind == "assertion":
            return {"client_assertion_type": JWT_BEARER, "client_assertion": self.value}, []
        if self.kind == "assertion_file":
            assertion = self.read_assertion_file()
            return {"client_assertion_type": JWT_BEARER, "client_assertion": assertion}, [assertion]
        if self._certificate is None:
            self._certificate = load_certificate(self.path, self.key_path, self.password)
        assertion = build_client_assertion(client_id, token_url, self._certificate[0], self._certificate[1], now=now)
        return {"client_assertion_type": JWT_BEARER, "client_assertion": assertion}, [assertion]


def _env(names, env):
    return next((env[name] for name in names if env.get(name)), None)


def select_credential(params, env=None):
    """The credential from the options (at most one of them), else from the environment
    (AZURE_CLIENT_SECRET / AZURE_SECRET, AZURE_CLIENT_CERTIFICATE_PATH, AZURE_FEDERATED_TOKEN_FILE)."""
    env = os.environ if env is None else env
    given = [name for name in ("client_secret", "client_certificate_path", "client_assertion", "client_assertion_file")
             if params.get(name)]
    if len(given) > 1:
        raise EntraConfigError("give only one Entra client credential, got %s" % ", ".join(given))
    if given == ["client_secret"]:
        return EntraCredential("secret", value=params["client_secret"])
    if given == ["client_assertion"]:
        return EntraCredential("assertion", value=params["client_assertion"])
    if given == ["client_assertion_file"]:
        return EntraCredential("assertion_file", path=params["client_assertion_file"])
    password = params.get("client_certificate_password") or env.get(CERTIFICATE_PASSWORD_ENV)
    if given == ["client_certificate_path"]:
        return EntraCredential("certificate", path=params["client_certificate_path"],
                               key_path=params.get("client_certificate_key_path"), password=password)
    secret = _env(CLIENT_SECRET_ENV, env)
    if secret:
        return EntraCredential("secret", value=secret, source="env")
    if env.get(CERTIFICATE_ENV):
        return EntraCredential("certificate", path=env[CERTIFICATE_ENV],
                               key_path=params.get("client_certificate_key_path"), password=password, source="env")
    if env.get(FEDERATED_TOKEN_ENV):
        return EntraCredential("assertion_file", path=env[FEDERATED_TOKEN_ENV], source="env")
    raise EntraConfigError(
        "no Entra ID client credential: set client_secret, client_certificate_path, client_assertion or "
        "client_assertion_file (or AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH, AZURE_FEDERATED_TOKEN_FILE)")


# --------------------------------------------------------------------------------------- token request

def token_url(login_endpoint, tenant_id):
    """The tenant's OAuth2 v2.0 token endpoint."""
    return "%s/%s/oauth2/v2.0/token" % (login_endpoint, quote(tenant_id, safe=""))


def token_request(credential, client_id, url, scope, now=None):
    """The body of an app-only token request (client credentials grant) as bytes, and the secret values
    it holds that were not known before (a client assertion made now). Raises EntraConfigError when the
    credential cannot be used (an unreadable certificate or federated token file)."""
    fields, new_secrets = credential.form(client_id, url, now=now)
    form = dict(client_id=client_id, scope=scope, grant_type="client_credentials")
    form.update(fields)
    return urlencode(form).encode("ascii"), new_secrets


def token_from_answer(body):
    """(access token or None, lifetime in seconds) from the JSON body of a 200 answer to a token request."""
    token = body.get("access_token") if isinstance(body, dict) else None
    try:
        lifetime = int(body.get("expires_in") or DEFAULT_TOKEN_LIFETIME)
    except (AttributeError, TypeError, ValueError):
        lifetime = DEFAULT_TOKEN_LIFETIME
    return token, lifetime
