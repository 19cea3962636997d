# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Microsoft Entra ID provisioning through Microsoft Graph v1.0.

- An app-only access token (OAuth2 client credentials: client secret, certificate or a signed client
  assertion) from the login endpoint, cached for the module run and refreshed once on a 401.
- Requests with retries: 429 honouring Retry-After, 409 and 403 a few times (Graph answers both for a
  while right after a change), 5xx and connection failures. Every Graph call this collection makes is
  idempotent in effect (validate, save the same secrets, start, provision one user), so each may be
  repeated.
- Errors as GraphError (an AlibabaCloudError, so the retry decorator and `fail_from` work), with Graph's
  or Entra's message scrubbed of every secret the client knows and of anything shaped like a token.
- The option spec of doc fragment alicloud.cloudsso.entra, and the provisioning job operations the
  entra_* modules share.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import calendar
import email.utils
import hashlib
import json
import os
import re
import time
import traceback
import uuid

try:
    from urllib.parse import quote, urlencode, urlsplit
except ImportError:  # pragma: no cover
    from urllib import quote, urlencode  # type: ignore
    from urlparse import urlsplit  # type: ignore

from ansible.module_utils.basic import env_fallback

from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import (
    AlibabaCloudError,
    CredentialError,
    CONNECTION_FAILED,
    INVALID_ENDPOINT,
    TIMEOUT,
    TLS_ERROR,
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.transport import send, shorten
from ansible_collections.alicloud.cloudsso.plugins.module_utils.retries import (
    DEFAULT_MAX_RETRIES,
    jittered_backoff,
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.secret_file import SecretFileError, read_token_file
from ansible_collections.alicloud.cloudsso.plugins.module_utils.times import parse_iso_time

CRYPTOGRAPHY_IMPORT_ERROR = None
try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - reported when a certificate is given
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()

DEFAULT_GRAPH_ENDPOINT = "https://graph.microsoft.com"
DEFAULT_LOGIN_ENDPOINT = "https://login.microsoftonline.com"
GRAPH_VERSION = "v1.0"

# Environment: the names of the Azure SDKs (azure-identity EnvironmentCredential) first, then those of
# the azure.azcollection collection.
TENANT_ENV = ("AZURE_TENANT_ID", "AZURE_TENANT")
CLIENT_ID_ENV = ("AZURE_CLIENT_ID",)
CLIENT_SECRET_ENV = ("AZURE_CLIENT_SECRET", "AZURE_SECRET")
CERTIFICATE_ENV = "AZURE_CLIENT_CERTIFICATE_PATH"
CERTIFICATE_PASSWORD_ENV = "AZURE_CLIENT_CERTIFICATE_PASSWORD"
FEDERATED_TOKEN_ENV = "AZURE_FEDERATED_TOKEN_FILE"
GRAPH_ENDPOINT_ENV = ("ALIBABA_CLOUD_CLOUDSSO_GRAPH_ENDPOINT",)
LOGIN_ENDPOINT_ENV = ("ALIBABA_CLOUD_CLOUDSSO_LOGIN_ENDPOINT", "AZURE_AUTHORITY_HOST")

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME = 600
TOKEN_REFRESH_MARGIN = 120
# 409 and 403 are retried this many times at most: Graph answers them for a short while after a change
# (and a 403 that lasts is a missing permission, which no retry fixes).
TRANSIENT_RETRIES = 3

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
DOMAIN = re.compile(r"^(?=.{3,253}$)%s(\.%s)+$" % (_LABEL, _LABEL))
# Job IDs look like "<templateId>.<hex>.<hex>"; only characters that are safe in a URL path are accepted.
JOB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")

QUARANTINE = "Quarantine"
PAUSED = "Paused"
ACTIVE = "Active"
STARTABLE = (PAUSED, QUARANTINE)
# provisionOnDemand results that can prove Entra authenticated to the target with the saved token: Success
# always; Skipped only after a step that called the target (a RedundantExport after matching the user).
# NotEffectivelyEntitled and other scoping skips are decided inside Entra before the target is called.
AUTHENTICATED_RESULTS = ("Success", "Skipped")
TARGET_STEP_TYPES = ("matching", "export")
# The synchronization secrets list (PUT example of the v1.0 "Add synchronization secrets" page): the
# credentials and, in the same list, the provisioning scope and the notification settings.
SECRET_PAIR_KEYS = ("BaseAddress", "SecretToken")
SYNC_ALL = "SyncAll"
SYNC_NOTIFICATIONS = "SyncNotificationSettings"
ENTRA_SOURCE_DIRECTORIES = ("azure active directory", "microsoft entra id", "aad", "azuread")


def entra_argument_spec():
    """The options of doc fragment alicloud.cloudsso.entra."""
    return dict(
        tenant_id=dict(type="str", aliases=["tenant"], fallback=(env_fallback, list(TENANT_ENV))),
        client_id=dict(type="str", fallback=(env_fallback, list(CLIENT_ID_ENV))),
        client_secret=dict(type="str", no_log=True, aliases=["secret"]),
        client_certificate_path=dict(type="path"),
        client_certificate_key_path=dict(type="path", no_log=False),
        client_certificate_password=dict(type="str", no_log=True),
        client_assertion=dict(type="str", no_log=True),
        client_assertion_file=dict(type="path"),
        service_principal_id=dict(type="str", required=True),
        job_id=dict(type="str"),
        # Their variables (and the base URL) are read by graph_client_from_module, which names the one in use.
        graph_endpoint=dict(type="str"),
        login_endpoint=dict(type="str"),
    )


# ------------------------------------------------------------------------------------------------ errors

REDACTED = "********"
_SECRET_PATTERNS = (
    # JWTs: Graph access tokens, client assertions, federated tokens.
    (re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), REDACTED),
    # "Bearer <token>", but not "the bearer token is not valid": a token is long and has no spaces.
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{12,}"), r"\1" + REDACTED),
    # "key":"SecretToken","value":"..." as a synchronization secret is echoed.
    (re.compile(r"(?i)(\"key\"\s*:\s*\"SecretToken\"\s*,\s*\"value\"\s*:\s*\")[^\"]*"), r"\1" + REDACTED),
    (re.compile(r"(?i)((?:client_secret|client_assertion|access_token|refresh_token|secrettoken|accesstoken|"
                r"password|secret)[\"']?\s*[:=]\s*[\"']?)[^\s\"'&,;}]+"), r"\1" + REDACTED),
)
MAX_MESSAGE = 600


def redact(text, secrets=()):
    """`text` without any of `secrets` and without anything shaped like a token or a secret assignment."""
    if text is None:
        return None
    text = str(text)
    for secret in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return shorten(text, MAX_MESSAGE)


class GraphError(AlibabaCloudError):
    """A failed call to Microsoft Graph or to the Entra login endpoint.

    `code` is Graph's error code (for example Authorization_RequestDenied) or the OAuth2 error
    (invalid_client); `aadsts` the AADSTS number of a login error; `message` is already scrubbed.
    """

    def __init__(self, message, aadsts=None, **kwargs):
        super(GraphError, self).__init__(message, **kwargs)
        self.aadsts = aadsts

    def to_dict(self):
        result = super(GraphError, self).to_dict()
        if self.aadsts:
            result["aadsts"] = self.aadsts
        return result


class EntraConfigError(ValueError):
    """Bad Entra options (a missing credential, an unreadable certificate); the message names the
    option or the path, never a value."""


def retry_after_seconds(value, now=None):
    """Retry-After as seconds: a number, or an HTTP date."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        parsed = email.utils.parsedate_tz(str(value))
        if not parsed:
            return None
        seconds = email.utils.mktime_tz(parsed) - (now if now is not None else time.time())
    return max(seconds, 0.0)


def _first_sentence_block(text):
    # AADSTS descriptions end with "Trace ID: ... Correlation ID: ... Timestamp: ...": noise in a message.
    return re.split(r"\s*(?:\r?\n)?Trace ID:", text or "", 1)[0].strip()


def error_from_response(response, action, endpoint, secrets=()):
    """A GraphError from a non-2xx answer of Graph (`{"error": {"code", "message", "innerError"}}`) or of
    the login endpoint (`{"error", "error_description", "error_codes", "trace_id"}`)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    status = response.status_code
    code = aadsts = request_id = None
    message = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = error.get("code")
        message = error.get("message")
        inner = error.get("innerError") or error.get("innererror") or {}
        if isinstance(inner, dict):
            request_id = inner.get("request-id") or inner.get("requestId")
    elif isinstance(error, str):
        code = error
        message = _first_sentence_block(body.get("error_description"))
        codes = body.get("error_codes")
        if isinstance(codes, list) and codes:
            aadsts = codes[0]
        request_id = body.get("trace_id") or body.get("correlation_id")
    request_id = request_id or response.headers.get("request-id")
    return GraphError(
        redact(message, secrets) or "HTTP %s" % status,
        code=code, aadsts=aadsts, status=status, request_id=request_id, action=action, endpoint=endpoint,
        retry_after=retry_after_seconds(response.headers.get("Retry-After")),
    )


def graph_retry_policy(transient_retries=TRANSIENT_RETRIES):
    """should_retry for one logical call: see the module docstring."""
    transient = [0]

    def should_retry(error):
        if not isinstance(error, AlibabaCloudError) or isinstance(error, CredentialError):
            return False
        if getattr(error, "final", False):  # already retried where it happened (the token request)
            return False
        if error.code in (TLS_ERROR, INVALID_ENDPOINT):
            return False
        if not error.request_sent:
            return True
        if error.status == 429:
            return True
        if error.status in (403, 409):
            transient[0] += 1
            return transient[0] <= transient_retries
        if error.status is not None and error.status >= 500:
            return True
        return error.code in (TIMEOUT, CONNECTION_FAILED)

    return should_retry


def explain_graph(error, setting=None):
    """A message that names the problem and the way out (the error's message is already scrubbed).
    `setting` is the option or variable that chose the endpoint the error happened at."""
    code = error.code or ""
    action = error.action or "the request"
    aadsts = getattr(error, "aadsts", None)
    detail = error.message
    if code in (CONNECTION_FAILED, TIMEOUT, TLS_ERROR, INVALID_ENDPOINT):
        where = " at %s" % error.endpoint if error.endpoint else ""
        check = ("Check %s (it chose this endpoint)" % setting if setting else
                 "Check graph_endpoint, login_endpoint (or base_url)")
        return ("%s could not reach Microsoft Graph or the login endpoint%s (%s): %s. %s and the network."
                % (action, where, code, detail, check))
    if aadsts in (7000215, 7000222) or (code == "invalid_client" and aadsts is None):
        return ("Entra ID rejected the client credential (%s, AADSTS%s): %s. Check client_secret (the secret's "
                "value, not its ID) or that it has not expired." % (code, aadsts or "?", detail))
    if aadsts == 90002 or aadsts == 900023:
        return "Entra ID does not know the tenant (AADSTS%s): %s. Check tenant_id." % (aadsts, detail)
    if aadsts == 700016:
        return ("Entra ID does not know the application (AADSTS700016): %s. Check client_id and tenant_id."
                % detail)
    if aadsts in (700027, 700024, 7000274, 700023):
        return ("Entra ID rejected the client assertion (AADSTS%s): %s. Check the certificate uploaded to the "
                "app registration, the client_assertion and the clock." % (aadsts, detail))
    if aadsts:
        return "Entra ID refused a token (%s, AADSTS%s): %s" % (code or "error", aadsts, detail)
    if error.status == 401:
        return ("Microsoft Graph rejected the access token for %s (%s): %s" % (action, code or "HTTP 401", detail))
    if error.status == 403:
        return ("%s was denied by Microsoft Graph (%s) after %s attempt(s): %s. The automation app needs the "
                "application permission Application.ReadWrite.OwnedBy (and to be an owner of the enterprise "
                "application) or Synchronization.ReadWrite.All, with admin consent."
                % (action, code or "HTTP 403", error.attempts, detail))
    if error.status == 404:
        return ("%s: Microsoft Graph found no such object (%s): %s. Check service_principal_id (the object ID "
                "of the enterprise application, not its application ID) and job_id." % (action, code, detail))
    if error.status == 429:
        return ("%s was still throttled by Microsoft Graph after %s attempt(s): %s"
                % (action, error.attempts, detail))
    if error.status == 409:
        return "%s conflicted with another change after %s attempt(s): %s" % (action, error.attempts, detail)
    status = "HTTP %s" % error.status if error.status else "no answer"
    return "%s failed (%s, %s): %s" % (action, code or "no code", status, detail)


# ------------------------------------------------------------------------------------------- credentials

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


def invalid_entra_options(params):
    """Messages for malformed Entra options, found before any call."""
    problems = []
    if not params.get("tenant_id"):
        problems.append("tenant_id is required (or AZURE_TENANT_ID): the directory (tenant) ID or a verified "
                        "domain of the Entra tenant")
    elif not (GUID.fullmatch(params["tenant_id"]) or DOMAIN.fullmatch(params["tenant_id"])):
        problems.append("tenant_id %r is neither a GUID nor a domain name" % params["tenant_id"])
    if not params.get("client_id"):
        problems.append("client_id is required (or AZURE_CLIENT_ID): the application (client) ID of the "
                        "automation app registration")
    elif not GUID.fullmatch(params["client_id"]):
        problems.append("client_id %r is not a GUID (the application (client) ID of the app registration)"
                        % params["client_id"])
    if not GUID.fullmatch(params.get("service_principal_id") or ""):
        problems.append("service_principal_id %r is not a GUID: give the object ID of the enterprise "
                        "application (service principal)" % params.get("service_principal_id"))
    if params.get("job_id") and not JOB_ID.fullmatch(params["job_id"]):
        problems.append("job_id %r is not a synchronization job ID (for example "
                        "customappsso.2a7b5e0c9d7d4c1f8e3b6a5d4c3b2a10.4f1d2c3b-...)" % params["job_id"])
    return problems


def _base_url(value, default):
    url = (value or default).strip().rstrip("/")
    return url if "://" in url else "https://" + url


# ------------------------------------------------------------------------------------------------ client

class GraphClient(object):
    """Microsoft Graph for one tenant and one automation app, sharing the module's HTTP session.

    `register_secret(value)` is called for every secret the client holds or receives (the module masks
    them in everything it returns); the client also scrubs them from every error message itself.
    """

    def __init__(self, session, tenant_id, client_id, credential, graph_endpoint=None, login_endpoint=None,
                 timeout=30, validate_certs=True, max_retries=DEFAULT_MAX_RETRIES, register_secret=None, sleep=None,
                 clock=None):
        self.session = session
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.credential = credential
        self.graph_endpoint = _base_url(graph_endpoint, DEFAULT_GRAPH_ENDPOINT)
        self.login_endpoint = _base_url(login_endpoint, DEFAULT_LOGIN_ENDPOINT)
        self.timeout = timeout
        self.validate_certs = validate_certs
        self.max_retries = max_retries
        self.sleep = sleep
        self.clock = clock or time.time
        self._register = register_secret
        self.secrets = []
        self.call_log = []
        self._token = None
        self._token_expires = 0
        for value in credential.secrets():
            self.add_secret(value)

    def add_secret(self, value):
        """Scrub `value` from every message and mask it in the module's output."""
        if value and value not in self.secrets:
            self.secrets.append(value)
            if self._register:
                self._register(value)

    @property
    def token_url(self):
        return "%s/%s/oauth2/v2.0/token" % (self.login_endpoint, quote(self.tenant_id, safe=""))

    @property
    def scope(self):
        return self.graph_endpoint + "/.default"

    @property
    def api_calls(self):
        return sum(entry["attempts"] for entry in self.call_log)

    def _with_retries(self, action, func):
        retries = []

        @jittered_backoff(self.max_retries, should_retry=graph_retry_policy(), sleep=self.sleep,
                          on_retry=lambda error, delay: retries.append((error.status, round(delay, 3))))
        def attempt():
            return func()

        try:
            result = attempt()
        except AlibabaCloudError as error:
            self.call_log.append(dict(action=action, attempts=len(retries) + 1, ok=False, status=error.status))
            raise
        self.call_log.append(dict(action=action, attempts=len(retries) + 1, ok=True))
        return result

    def access_token(self, refresh=False):
        """An app-only token for Graph, requested once per run (again only when it is about to expire or
        Graph rejected it)."""
        if self._token and not refresh and self.clock() < self._token_expires - TOKEN_REFRESH_MARGIN:
            return self._token
        action = "Entra ID token request"
        try:
            fields, new_secrets = self.credential.form(self.client_id, self.token_url, now=self.clock())
        except EntraConfigError as error:
            raise CredentialError(str(error), action=action)
        for value in new_secrets:
            self.add_secret(value)
        form = dict(client_id=self.client_id, scope=self.scope, grant_type="client_credentials")
        form.update(fields)
        data = urlencode(form).encode("ascii")
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}

        def post():
            response = send(self.session, "POST", self.token_url, headers=headers, data=data, timeout=self.timeout,
                            validate_certs=self.validate_certs, action=action)
            if response.status_code != 200:
                raise error_from_response(response, action, self.login_endpoint, self.secrets)
            return response

        try:
            response = self._with_retries(action, post)
        except AlibabaCloudError as error:
            error.final = True
            raise
        try:
            body = response.json()
        except ValueError:
            body = None
        token = body.get("access_token") if isinstance(body, dict) else None
        if not token:
            raise GraphError("the login endpoint answered 200 without an access_token", status=200, action=action,
                             endpoint=self.login_endpoint)
        self.add_secret(token)
        try:
            lifetime = int(body.get("expires_in") or 3599)
        except (TypeError, ValueError):
            lifetime = 3599
        self._token = token
        self._token_expires = self.clock() + lifetime
        return token

    def request(self, method, path, body=None, action=None):
        """Call Graph; returns (HTTP status, decoded JSON body or None). Raises GraphError on a non-2xx."""
        action = action or "%s %s" % (method, path)
        url = "%s/%s%s" % (self.graph_endpoint, GRAPH_VERSION, path)
        data = json.dumps(body).encode("utf-8") if body is not None else None
        refreshed = [False]

        def call():
            headers = {"Authorization": "Bearer %s" % self.access_token(), "Accept": "application/json",
                       "client-request-id": str(uuid.uuid4())}
            if data is not None:
                headers["Content-Type"] = "application/json"
            response = send(self.session, method, url, headers=headers, data=data, timeout=self.timeout,
                            validate_certs=self.validate_certs, action=action)
            if response.status_code == 401 and not refreshed[0]:
                # An expired or revoked token: get a new one once.
                refreshed[0] = True
                self.access_token(refresh=True)
                return call()
            if not 200 <= response.status_code < 300:
                raise error_from_response(response, action, self.graph_endpoint, self.secrets)
            return response

        response = self._with_retries(action, call)
        if response.status_code == 204 or not response.content:
            return response.status_code, None
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, None


def graph_client_from_module(module):
    """A GraphClient built from the entra options of an AlibabaCloudModule; fails the module with a
    clear message on bad options."""
    params = module.params
    module.fail_on(invalid_entra_options(params))
    try:
        credential = select_credential(params)
        if credential.kind == "assertion_file":
            credential.read_assertion_file()  # refused before any call, not at the first token request
    except EntraConfigError as error:
        module.fail_json(msg=str(error), changed=False)
    endpoints, settings = {}, {}
    for kind, default, env_names in (("graph", DEFAULT_GRAPH_ENDPOINT, GRAPH_ENDPOINT_ENV),
                                     ("login", DEFAULT_LOGIN_ENDPOINT, LOGIN_ENDPOINT_ENV)):
        option = "%s_endpoint" % kind
        template, settings[kind] = module.override(kind, params.get(option), option, env_names)
        endpoints[option] = module.endpoint_url(template or default, settings[kind])
    client = GraphClient(
        module.session, params["tenant_id"], params["client_id"], credential,
        timeout=params["timeout"], validate_certs=params["validate_certs"], max_retries=params["max_retries"],
        register_secret=module.register_secret, **endpoints)
    # Graph and login may share one base URL (the emulator's): the path tells them apart, not the host.
    client.endpoint_settings = settings
    return client


def _setting_at(url, graph):
    """The option or variable that chose the endpoint `url` is on (a token request is the login endpoint's)."""
    settings = getattr(graph, "endpoint_settings", {})
    url = url or ""
    if url.startswith(graph.login_endpoint + "/") and "/oauth2/" in url:
        return settings.get("login")
    return settings.get("graph") if url.startswith(graph.graph_endpoint) else settings.get("login")


def _at(url, graph):
    """Whether `url` (a failed request's URL, as the transport reports it) is Graph's or the login endpoint's."""
    url = url or ""
    return any(url == base or url.startswith(base + "/") for base in (graph.graph_endpoint, graph.login_endpoint))


def fail_graph(module, error, graph=None, **result):
    """Fail the module with a message for a GraphError (or any AlibabaCloudError raised on the way)."""
    if isinstance(error, CredentialError) and error.action == "Entra ID token request":
        message = "Entra ID client credential problem: %s" % error.message
    elif isinstance(error, GraphError) or (graph is not None and _at(error.endpoint, graph)):
        message = explain_graph(error, _setting_at(error.endpoint, graph) if graph is not None else None)
        if getattr(error, "aadsts", None) and graph is not None:
            message += " (The sign-in used the %s.)" % graph.credential.description
    else:
        module.fail_from(error, **result)
        return
    result.setdefault("error", error.to_dict())
    if graph is not None:
        result.setdefault("graph_calls", graph.api_calls)
    module.fail_json(msg=message, **result)


# --------------------------------------------------------------------------------------- provisioning

def _time(value):
    return value or None


def _execution(raw):
    if not isinstance(raw, dict) or not raw:
        return None
    error = raw.get("error") if isinstance(raw.get("error"), dict) else None
    return dict(
        state=raw.get("state"),
        time_began=_time(raw.get("timeBegan")),
        time_ended=_time(raw.get("timeEnded")),
        activity_identifier=raw.get("activityIdentifier"),
        count_exported=raw.get("countExported"),
        count_imported=raw.get("countImported"),
        error=dict(code=error.get("code"), message=error.get("message")) if error else None,
    )


def job_status(job, secrets=()):
    """The synchronization job as modules return it (snake_case, messages scrubbed)."""
    status = job.get("status") if isinstance(job.get("status"), dict) else {}
    schedule = job.get("schedule") if isinstance(job.get("schedule"), dict) else {}
    quarantine = status.get("quarantine") if isinstance(status.get("quarantine"), dict) else None
    record = dict(
        job_id=job.get("id"),
        template_id=job.get("templateId"),
        schedule=dict(interval=schedule.get("interval"), state=schedule.get("state"),
                      expiration=schedule.get("expiration")),
        code=status.get("code"),
        quarantined=status.get("code") == QUARANTINE,
        count_successive_complete_failures=status.get("countSuccessiveCompleteFailures"),
        last_execution=_execution(status.get("lastExecution")),
        last_successful_execution=_execution(status.get("lastSuccessfulExecution")),
        steady_state_last_achieved_time=status.get("steadyStateLastAchievedTime"),
        quarantine=None,
    )
    if quarantine:
        error = quarantine.get("error") if isinstance(quarantine.get("error"), dict) else None
        record["quarantine"] = dict(
            reason=quarantine.get("reason"),
            current_began=quarantine.get("currentBegan"),
            next_attempt=quarantine.get("nextAttempt"),
            series_began=quarantine.get("seriesBegan"),
            series_count=quarantine.get("seriesCount"),
            error=dict(code=error.get("code"), message=error.get("message")) if error else None,
        )
    return _scrub(record, secrets)


def _scrub(value, secrets):
    if isinstance(value, dict):
        return dict((k, _scrub(v, secrets)) for k, v in value.items())
    if isinstance(value, list):
        return [_scrub(v, secrets) for v in value]
    if isinstance(value, str):
        return redact(value, secrets)
    return value


def parse_time(value):
    """Graph DateTimeOffset (`2024-01-04T08:00:00Z`, `...00.1234567Z`, `+00:00`) as epoch seconds."""
    parsed = parse_iso_time(value)
    return None if parsed is None else calendar.timegm(parsed.utctimetuple()) + parsed.microsecond / 1e6


def same_url(left, right):
    """Two SCIM base URLs are the same when they differ only in a trailing slash or the case of the
    scheme and host."""
    if not left or not right:
        return False

    def norm(url):
        parts = urlsplit(url.strip())
        return (parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), parts.query)

    return norm(left) == norm(right)


def _json_document(raw):
    if isinstance(raw, (dict, list)):
        return raw
    try:
        return json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


def _on_demand_steps(entries):
    steps = []
    for entry in entries:
        for step in entry.get("provisioningSteps") or []:
            if isinstance(step, dict):
                details = step.get("details") if isinstance(step.get("details"), dict) else {}
                steps.append(dict(name=step.get("name"), type=step.get("type") or step.get("provisioningStepType"),
                                  status=step.get("status"), description=step.get("description"),
                                  skip_reason=details.get("SkipReason")))
    return steps


def parse_on_demand(answer, secrets=()):
    """The outcome of provisionOnDemand, from the stringKeyStringValuePair Graph answers (v1.0 page, every
    example): `key` is the JSON result `{"result", "details": {"errorCode", "errorMessage"}}`, `value` the
    JSON provisioning record `{provisioningSteps[], statusInfo, ...}` (`"{}"` for a group). Older answers
    carried the record, or a list of records, in `value` only; both are read.

    `authenticated` is True only for an outcome Entra could not have reached without a successful call to
    the SCIM endpoint with the saved token: `Success` (the object was exported), or any result after a step
    that read or wrote the object in the target (type Matching or Export, status Success). A `Skipped`
    decided before that (NotEffectivelyEntitled: the object is out of the provisioning scope) proves nothing."""
    answer = answer if isinstance(answer, dict) else {}
    result = _json_document(answer.get("key"))
    record = _json_document(answer.get("value"))
    entries = [e for e in (record if isinstance(record, list) else [record]) if isinstance(e, dict)]
    status = reason = message = None
    if isinstance(result, dict):
        status = result.get("result") if isinstance(result.get("result"), str) else None
        details = result.get("details") if isinstance(result.get("details"), dict) else {}
        reason, message = details.get("errorCode"), details.get("errorMessage")
    for entry in entries:
        info = entry.get("statusInfo") or entry.get("status") or {}
        if isinstance(info, str):
            info = {"status": info}
        if isinstance(info, dict):
            status = status or info.get("status")
            error = info.get("errorInformation") if isinstance(info.get("errorInformation"), dict) else {}
            reason = reason or info.get("errorCode") or error.get("errorCode")
            message = message or info.get("reason") or error.get("reason")
    steps = _on_demand_steps(entries)
    if status is None and steps:
        statuses = [s["status"] for s in steps if s["status"]]
        failed = [s for s in statuses if s not in ("Success", "Skipped")]
        status = failed[0] if failed else ("Skipped" if "Skipped" in statuses else "Success" if statuses else None)
    reason = reason or next((s["skip_reason"] for s in steps if s["skip_reason"]), None)
    reached_target = any(str(s["type"] or "").lower() in TARGET_STEP_TYPES and s["status"] == "Success" for s in steps)
    authenticated = status == "Success" or (status in AUTHENTICATED_RESULTS and reached_target)
    return _scrub(dict(status=status, authenticated=authenticated, reason=reason, message=message, steps=steps),
                  secrets)


def plan_secrets(saved, sync_all=None, sync_notification_settings=None):
    """The keys besides BaseAddress and SecretToken that a save must send so that it changes nothing else:
    the provisioning scope (SyncAll) and the notification settings (SyncNotificationSettings), as given,
    or as read back from the saved list, with any other readable key carried over.

    `saved` is saved_secrets() (None: the list could not be read). Raises EntraConfigError, before any
    write, when a setting is needed and unknown: the list is unreadable and the option is not given, or a
    key other than the token reads as `*` and cannot be carried over."""
    settings = {}
    if saved is not None:
        masked = sorted(k for k, v in saved.items() if v == "*" and k not in SECRET_PAIR_KEYS)
        if masked:
            raise EntraConfigError("the saved synchronization secrets hold %s, which Graph does not return; saving the "
                                   "token would clear %s, so nothing was saved" % (", ".join(masked),
                                                                                   "them" if len(masked) > 1 else "it"))
        settings.update((k, v) for k, v in saved.items() if k not in SECRET_PAIR_KEYS and v is not None)
    if sync_all is not None:
        settings[SYNC_ALL] = "true" if sync_all else "false"
    if sync_notification_settings is not None:
        settings[SYNC_NOTIFICATIONS] = json.dumps(sync_notification_settings, separators=(",", ":"), sort_keys=True)
    if saved is None:
        missing = [option for option, key in (("sync_all", SYNC_ALL), ("sync_notification_settings", SYNC_NOTIFICATIONS))
                   if key not in settings]
        if missing:
            raise EntraConfigError(
                "Graph does not return the saved synchronization secrets, and saving the token replaces the whole list "
                "(the provisioning scope and the notification settings with it); give %s so that they are saved "
                "as they are. Nothing was saved." % " and ".join(missing))
    return settings


class EntraProvisioning(object):
    """The synchronization jobs and secrets of one enterprise application (service principal)."""

    def __init__(self, graph, service_principal_id):
        self.graph = graph
        self.sp = service_principal_id

    @property
    def _base(self):
        return "/servicePrincipals/%s/synchronization" % quote(self.sp, safe="")

    def _job_path(self, job_id, suffix=""):
        return "%s/jobs/%s%s" % (self._base, quote(job_id, safe=""), suffix)

    def jobs(self):
        body = self.graph.request("GET", self._base + "/jobs", action="list synchronization jobs")[1]
        return [job for job in (body or {}).get("value") or [] if isinstance(job, dict)]

    def job(self, job_id):
        body = self.graph.request("GET", self._job_path(job_id), action="get synchronization job")[1]
        return body or {}

    def resolve_job(self, job_id=None):
        """The job `job_id`, or the application's only job. Raises EntraConfigError when there is none
        or several."""
        if job_id:
            return self.job(job_id)
        jobs = self.jobs()
        if len(jobs) == 1:
            return jobs[0]
        if not jobs:
            raise EntraConfigError(
                "the enterprise application %s has no provisioning (synchronization) job; set up automatic "
                "provisioning in the Entra admin center first" % self.sp)
        listed = ", ".join("%s (template %s)" % (j.get("id"), j.get("templateId")) for j in jobs)
        raise EntraConfigError("the enterprise application %s has %d synchronization jobs; choose one with job_id: %s"
                               % (self.sp, len(jobs), listed))

    def validate(self, job_id, base_address=None, token=None, use_saved=False):
        """validateCredentials. Returns dict(valid, code, message): a 204 means Entra authenticated to the
        target; a 400 means it could not (Entra's reason, scrubbed). Other failures raise GraphError."""
        if token:
            self.graph.add_secret(token)
        if use_saved:
            body = {"useSavedCredentials": True}
            action = "validate the saved credentials"
        else:
            body = {"useSavedCredentials": False, "credentials": [
                {"key": "BaseAddress", "value": base_address}, {"key": "SecretToken", "value": token}]}
            action = "validate the candidate credentials"
        try:
            self.graph.request("POST", self._job_path(job_id, "/validateCredentials"), body=body, action=action)
        except GraphError as error:
            if error.status == 400:
                return dict(valid=False, code=error.code, message=error.message)
            raise
        return dict(valid=True, code=None, message=None)

    def saved_secrets(self):
        """The saved synchronization secrets as {key: value} (secret values read as `*`), or None when Graph
        does not let them be read (v1.0 documents only the PUT; the beta GET answers the list)."""
        try:
            body = self.graph.request("GET", self._base + "/secrets", action="read the synchronization secrets")[1]
        except GraphError as error:
            if error.status in (400, 404, 405):
                return None
            raise
        values = body.get("value") if isinstance(body, dict) else body
        if not isinstance(values, list):
            return None
        return dict((pair["key"], pair.get("value")) for pair in values if isinstance(pair, dict) and pair.get("key"))

    def saved_base_address(self):
        """The saved BaseAddress, or None when Graph does not return it (the token itself reads as `*`)."""
        return (self.saved_secrets() or {}).get("BaseAddress") or None

    def save(self, base_address, token, settings):
        """Save BaseAddress and SecretToken with `settings`, the other keys of the list (from
        plan_secrets). A PUT replaces the whole list, so whatever is left out is gone."""
        self.graph.add_secret(token)
        body = {"value": [{"key": "BaseAddress", "value": base_address}, {"key": "SecretToken", "value": token}] +
                [{"key": key, "value": value} for key, value in settings.items()]}
        self.graph.request("PUT", self._base + "/secrets", body=body, action="save the synchronization secrets")

    def start(self, job_id):
        self.graph.request("POST", self._job_path(job_id, "/start"), action="start the synchronization job")

    def rules(self, job_id):
        body = self.graph.request("GET", self._job_path(job_id, "/schema"), action="read the synchronization schema")[1]
        return [rule for rule in (body or {}).get("synchronizationRules") or [] if isinstance(rule, dict)]

    def provisioning_rule(self, job_id):
        """The rule provisionOnDemand needs: the only rule, or the only one whose source is Entra ID."""
        rules = self.rules(job_id)
        if len(rules) == 1:
            return rules[0].get("id")
        outbound = [r for r in rules if str(r.get("sourceDirectoryName") or "").lower() in ENTRA_SOURCE_DIRECTORIES]
        if len(outbound) == 1:
            return outbound[0].get("id")
        listed = ", ".join("%s (%s to %s)" % (r.get("id"), r.get("sourceDirectoryName"), r.get("targetDirectoryName"))
                           for r in rules)
        raise EntraConfigError("cannot tell which synchronization rule to use (%s); give provision_on_demand.rule_id"
                               % (listed or "the job has no rules"))

    def provision_on_demand(self, job_id, rule_id, object_id, object_type="User"):
        subject = {"objectId": object_id, "objectTypeName": object_type}
        body = {"parameters": [{"ruleId": rule_id, "subjects": [subject]}]}
        answer = self.graph.request("POST", self._job_path(job_id, "/provisionOnDemand"), body=body,
                                    action="provision on demand")[1]
        return parse_on_demand(answer or {}, self.graph.secrets)


# ---------------------------------------------------------------------------------- token and proof

def read_candidate_token(params, register_secret):
    """(token, metadata) from the `token` / `token_file` options. `metadata` holds `credential_id` and
    `directory_id` when the file is a secret file written by scim_credential. Raises SecretFileError."""
    metadata = {}
    token = params.get("token")
    if params.get("token_file"):
        token, metadata = read_token_file(params["token_file"])
    register_secret(token)
    return token, metadata


def sole_enabled_credential(credentials, credential_id):
    """True when `credential_id` is the directory's only Enabled credential, False when it is not,
    None when it is not in the list at all."""
    ids = [c.get("credential_id") for c in credentials]
    if credential_id not in ids:
        return None
    enabled = [c.get("credential_id") for c in credentials if c.get("status") == "Enabled"]
    return enabled == [credential_id]
