# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Microsoft Graph v1.0: the HTTP client, its errors and its retry policy.

- An app-only access token from the login endpoint (entra/signin.py builds the request), cached for the
  module run and refreshed once on a 401.
- Requests with retries: 429 honouring Retry-After, 409 and 403 a few times (Graph answers both for a
  while right after a change), 5xx and connection failures. Every Graph call this collection makes is
  idempotent in effect (validate, save the same secrets, start, provision one user), so each may be
  repeated.
- Every failure as a GraphError (an ApiError, so the retry decorator and `fail_from` work), with Graph's
  or Entra's message scrubbed of every secret the client knows and of anything shaped like a token.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import email.utils
import json
import re
import time
import uuid

from ansible_collections.alicloud.cloudsso.plugins.module_utils.entra.signin import (
    DEFAULT_LOGIN_ENDPOINT,
    TOKEN_REQUEST_HEADERS,
    EntraConfigError,
    token_from_answer,
    token_request,
    token_url,
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import ApiError, CredentialError
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import CONNECTION_FAILED, INVALID_ENDPOINT
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import TIMEOUT, TLS_ERROR
from ansible_collections.alicloud.cloudsso.plugins.module_utils.retries import DEFAULT_MAX_RETRIES, jittered_backoff
from ansible_collections.alicloud.cloudsso.plugins.module_utils.transport import send, shorten

DEFAULT_GRAPH_ENDPOINT = "https://graph.microsoft.com"
GRAPH_VERSION = "v1.0"
TOKEN_REFRESH_MARGIN = 120
# 409 and 403 are retried this many times at most: Graph answers them for a short while after a change
# (and a 403 that lasts is a missing permission, which no retry fixes).
TRANSIENT_RETRIES = 3
TOKEN_ACTION = "Entra ID token request"

# ------------------------------------------------------------------------------------------- redaction

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


# ---------------------------------------------------------------------------------------------- errors

class GraphError(ApiError):
    """A failed call to Microsoft Graph or to the Entra login endpoint (connection failures included).

    `code` is Graph's error code (for example Authorization_RequestDenied) or the OAuth2 error
    (invalid_client); `aadsts` the AADSTS number of a login error; `message` is already scrubbed.
    """

    def __init__(self, message, aadsts=None, **kwargs):
        super(GraphError, self).__init__(message, **kwargs)
        self.aadsts = aadsts

    @classmethod
    def from_error(cls, error):
        """The same failure as a GraphError (a transport failure on the way to Graph or the login endpoint)."""
        if isinstance(error, GraphError):
            return error
        return cls(error.message, code=error.code, status=error.status, request_id=error.request_id,
                   action=error.action, endpoint=error.endpoint, recommend=error.recommend,
                   request_sent=error.request_sent, retry_after=error.retry_after, attempts=error.attempts,
                   final=error.final)

    def to_dict(self):
        result = super(GraphError, self).to_dict()
        if self.aadsts:
            result["aadsts"] = self.aadsts
        return result

    def explanation(self, product=None, setting=None):
        return explain_graph(self, setting)


class SignInError(GraphError):
    """The automation app's credential could not be used for a token request (an unreadable certificate
    or federated token file): nothing was sent, and no retry can help."""

    def __init__(self, message, **kwargs):
        kwargs.setdefault("code", "CredentialError")
        kwargs.setdefault("request_sent", False)
        kwargs.setdefault("final", True)
        super(SignInError, self).__init__(message, **kwargs)


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
        if not isinstance(error, ApiError) or isinstance(error, (CredentialError, SignInError)):
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
    if isinstance(error, SignInError):
        return "Entra ID client credential problem: %s" % detail
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


# ---------------------------------------------------------------------------------------------- client

def _base_url(value, default):
    url = (value or default).strip().rstrip("/")
    return url if "://" in url else "https://" + url


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
        # Graph and login may share one base URL (the emulator's): the option or variable that chose each.
        self.endpoint_settings = {}
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
        return token_url(self.login_endpoint, self.tenant_id)

    @property
    def scope(self):
        return self.graph_endpoint + "/.default"

    @property
    def api_calls(self):
        return sum(entry["attempts"] for entry in self.call_log)

    def setting_at(self, url):
        """The option or variable that chose the endpoint `url` is on (a token request is the login
        endpoint's), or None for the public endpoint."""
        url = url or ""
        if url.startswith(self.login_endpoint + "/") and "/oauth2/" in url:
            return self.endpoint_settings.get("login")
        return self.endpoint_settings.get("graph" if url.startswith(self.graph_endpoint) else "login")

    def _send(self, method, url, headers, data, action):
        try:
            return send(self.session, method, url, headers=headers, data=data, timeout=self.timeout,
                        validate_certs=self.validate_certs, action=action)
        except ApiError as error:
            raise GraphError.from_error(error)

    def _with_retries(self, action, func):
        retries = []

        @jittered_backoff(self.max_retries, should_retry=graph_retry_policy(), sleep=self.sleep,
                          on_retry=lambda error, delay: retries.append((error.status, round(delay, 3))))
        def attempt():
            return func()

        try:
            result = attempt()
        except ApiError as error:
            self.call_log.append(dict(action=action, attempts=len(retries) + 1, ok=False, status=error.status))
            raise
        self.call_log.append(dict(action=action, attempts=len(retries) + 1, ok=True))
        return result

    def access_token(self, refresh=False):
        """An app-only token for Graph, requested once per run (again only when it is about to expire or
        Graph rejected it)."""
        if self._token and not refresh and self.clock() < self._token_expires - TOKEN_REFRESH_MARGIN:
            return self._token
        url = self.token_url
        try:
            data, new_secrets = token_request(self.credential, self.client_id, url, self.scope, now=self.clock())
        except EntraConfigError as error:
            raise SignInError(str(error), action=TOKEN_ACTION)
        for value in new_secrets:
            self.add_secret(value)

        def post():
            response = self._send("POST", url, TOKEN_REQUEST_HEADERS, data, TOKEN_ACTION)
            if response.status_code != 200:
                raise error_from_response(response, TOKEN_ACTION, self.login_endpoint, self.secrets)
            return response

        try:
            response = self._with_retries(TOKEN_ACTION, post)
        except ApiError as error:
            error.final = True
            raise
        try:
            body = response.json()
        except ValueError:
            body = None
        token, lifetime = token_from_answer(body)
        if not token:
            raise GraphError("the login endpoint answered 200 without an access_token", status=200,
                             action=TOKEN_ACTION, endpoint=self.login_endpoint)
        self.add_secret(token)
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
            response = self._send(method, url, headers, data, action)
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
