# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What a credential is and what every credential source shares: `Credential`, the providers that hand
one out (`StaticProvider`, `CachedProvider`), the environment variables the chain reads, and
`SourceContext` (the options, the environment, the HTTP session, the secret register and the STS call
every source uses). Standard library only; the official alibabacloud-credentials package is a test
oracle, never a runtime dependency.

Where the parts are:

- credential_chain.py: the resolution order and its entry points, `credentials_provider()` and
  `profile_region()` (what a module calls);
- credential_sources.py: one class per source (static keys and environment, OIDC / RRSA, STS AssumeRole,
  the ECS RAM role, a credentials URI);
- credential_profile.py: the aliyun CLI configuration file and its profile modes.

A source has `validate()`, which decides without network whether it is configured (it may raise for a
source configured wrongly), and `load()`, which fetches a Credential and may call out.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import threading
from datetime import datetime, timedelta, timezone

try:
    from urllib.parse import urlsplit, urlunsplit
except ImportError:  # pragma: no cover
    from urlparse import urlsplit, urlunsplit  # type: ignore

from ansible_collections.alicloud.cloudsso.plugins.module_utils.client import RpcClient
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import AlibabaCloudError, CredentialError
from ansible_collections.alicloud.cloudsso.plugins.module_utils.transport import new_session, send
from ansible_collections.alicloud.cloudsso.plugins.module_utils.signing import percent_encode
from ansible_collections.alicloud.cloudsso.plugins.module_utils.times import parse_iso_time

REFRESH_MARGIN = timedelta(minutes=3)
DEFAULT_SESSION_NAME = "alicloud-cloudsso"
DEFAULT_DURATION_SECONDS = 3600
DEFAULT_TIMEOUT = 30
DEFAULT_MAX_RETRIES = 5

ENV_PAIRS = (
    # (id variable, secret variable, token variable, Credential.source)
    ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN", "environment"),
    ("ALICLOUD_ACCESS_KEY", "ALICLOUD_SECRET_KEY", "ALICLOUD_SECURITY_TOKEN", "environment:ALICLOUD"),
)
OIDC_ENV = ("ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE")
PROFILE_ENV = ("ALIBABA_CLOUD_PROFILE", "ALICLOUD_PROFILE")
CONFIG_FILE_ENV = ("ALIBABA_CLOUD_CONFIG_FILE", "ALICLOUD_SHARED_CREDENTIALS_FILE")
CLI_PROFILE_DISABLED_ENV = "ALIBABA_CLOUD_CLI_PROFILE_DISABLED"
REGION_ENV = ("ALIBABA_CLOUD_REGION", "ALICLOUD_REGION", "ALIBABA_CLOUD_REGION_ID")
STS_REGION_ENV = "ALIBABA_CLOUD_STS_REGION"
CREDENTIALS_URI_ENV = "ALIBABA_CLOUD_CREDENTIALS_URI"

ECS_ROLE_ENV = "ALIBABA_CLOUD_ECS_METADATA"
ECS_DISABLED_ENV = "ALIBABA_CLOUD_ECS_METADATA_DISABLED"
IMDSV1_DISABLED_ENV = "ALIBABA_CLOUD_IMDSV1_DISABLED"
ECS_ENDPOINT_ENV = "ALIBABA_CLOUD_ECS_METADATA_ENDPOINT"


def utcnow():
    """The current time (aware, UTC); tests replace it to simulate expiry."""
    return datetime.now(timezone.utc)


def is_true(value):
    return str(value or "").strip().lower() == "true"


def parse_expiration(value):
    """`2015-04-09T11:52:19Z` (fractions and offsets accepted) as an aware UTC datetime, or None."""
    if value in (None, ""):
        return None
    parsed = parse_iso_time(value)
    if parsed is None:
        raise CredentialError("the credential expiration %r is not an ISO 8601 time" % str(value)[:40])
    return parsed


def safe_url(url):
    """`url` without user info and query string, fit for a message (a URI may carry a token there)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class Credential(object):
    """One set of keys. `expiration` is an aware UTC datetime, None for long-term keys."""

    def __init__(self, access_key_id, access_key_secret, security_token=None, expiration=None, source=None):
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.security_token = security_token or None
        self.expiration = expiration
        self.source = source

    def expires_soon(self, now=None, margin=REFRESH_MARGIN):
        if self.expiration is None:
            return False
        return self.expiration - (now or utcnow()) < margin

    def __repr__(self):
        # Never the secret or the token: a repr ends up in tracebacks.
        return "Credential(access_key_id=%r, source=%r, expiration=%s)" % (
            self.access_key_id, self.source, self.expiration.isoformat() if self.expiration else None)


class StaticProvider(object):
    """A provider for one fixed Credential (what the STS client signs with)."""

    def __init__(self, credential):
        self.credential = credential

    def get(self):
        return self.credential


class CachedProvider(object):
    """Loads a source once and again when its credential expires within REFRESH_MARGIN."""

    def __init__(self, source):
        self.source = source
        self._credential = None
        self._lock = threading.Lock()

    def get(self):
        with self._lock:
            if self._credential is None or self._credential.expires_soon():
                self._credential = self.source.load()
            return self._credential


class SourceUnavailable(Exception):
    """Raised by a probing source whose service is not there; the chain moves on."""

    def __init__(self, reason):
        super(SourceUnavailable, self).__init__(reason)
        self.reason = reason


class SourceContext(object):
    """What every source shares: the options, the environment, the HTTP session, the secret register."""

    def __init__(self, params, register_secret=None, session=None, env=None, home=None):
        self.params = params or {}
        self.env = os.environ if env is None else env
        self.home = home or os.path.expanduser("~")
        self._register_secret = register_secret
        self._session = session
        self.secrets = set()

    def option(self, name, default=None):
        value = self.params.get(name)
        return default if value is None else value

    def getenv(self, *names):
        """The value of the first variable of `names` that is set and not empty, else None."""
        for name in names:
            value = self.env.get(name)
            if value:
                return value
        return None

    def env_name(self, *names):
        """The name of the first variable of `names` that is set and not empty, else None."""
        for name in names:
            if self.env.get(name):
                return name
        return None

    def register(self, value):
        if value and isinstance(value, str):
            self.secrets.add(value)
            if self._register_secret is not None:
                self._register_secret(value)

    def scrub(self, text):
        """`text` without any secret this chain has seen. STS V2 SignatureDoesNotMatch messages echo the
        string to sign, which holds the security token: cut it off."""
        text = str(text or "")
        lowered = text.lower()
        for marker in ("string to sign", "stringtosign"):
            index = lowered.find(marker)
            if index >= 0:
                text = text[:index].rstrip(" :.") + " (string to sign omitted)"
                lowered = text.lower()
        for secret in sorted(self.secrets, key=len, reverse=True):
            for form in (secret, percent_encode(secret), percent_encode(percent_encode(secret))):
                text = text.replace(form, "********")
        return text

    @property
    def session(self):
        if self._session is None:
            self._session = new_session()
        return self._session

    @property
    def timeout(self):
        return self.option("timeout", DEFAULT_TIMEOUT)

    @property
    def validate_certs(self):
        return self.option("validate_certs", True)

    @property
    def max_retries(self):
        return self.option("max_retries", DEFAULT_MAX_RETRIES)

    def get_json(self, url, what, headers=None, timeout=None):
        """GET `url` through transport.send and decode a JSON object; failures become CredentialError."""
        response = self.fetch("GET", url, what, headers=headers, timeout=timeout)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise CredentialError("%s (GET %s) answered with a body that is not a JSON object" % (what, safe_url(url)))
        return body

    def fetch(self, method, url, what, headers=None, timeout=None, ok=(200,)):
        """One request; an answer whose status is not in `ok` becomes CredentialError (status only: the
        body may hold keys)."""
        try:
            response = send(self.session, method, url, headers=headers, timeout=timeout or self.timeout,
                            validate_certs=self.validate_certs, action=what)
        except AlibabaCloudError as error:
            raise CredentialError("%s (%s %s) failed: %s" % (what, method, safe_url(url), self.scrub(error.message)),
                                  code=error.code, endpoint=safe_url(url), request_sent=error.request_sent)
        if response.status_code not in ok:
            raise CredentialError("%s (%s %s) answered HTTP %s" % (what, method, safe_url(url), response.status_code),
                                  status=response.status_code, endpoint=safe_url(url))
        return response

    def credential_from(self, data, source, what):
        """A Credential from an STS / metadata / URI answer (AccessKeyId, AccessKeySecret, SecurityToken,
        Expiration); secrets are registered before anything can fail."""
        data = data if isinstance(data, dict) else {}
        self.register(data.get("AccessKeySecret"))
        self.register(data.get("SecurityToken"))
        missing = [key for key in ("AccessKeyId", "AccessKeySecret", "SecurityToken") if not data.get(key)]
        if missing:
            raise CredentialError("%s answered without %s" % (what, ", ".join(missing)))
        return Credential(data["AccessKeyId"], data["AccessKeySecret"], data["SecurityToken"],
                          expiration=parse_expiration(data.get("Expiration")), source=source)

    def sts_call(self, action, query, credential, what, source, sts_region=None, use_vpc=None):
        """Call STS `action` signed with `credential` (None: anonymous) and return the Credential it grants."""
        env = self.env
        if sts_region:
            # A profile's sts_region wins over ALIBABA_CLOUD_STS_REGION; resolve_endpoint reads the variable.
            env = dict(self.env)
            env[STS_REGION_ENV] = sts_region
        region = sts_region or self.getenv(STS_REGION_ENV) or self.option("region") or self.getenv(*REGION_ENV)
        if use_vpc is None:
            use_vpc = self.option("use_vpc_endpoint")
        client = RpcClient("sts", region, credentials=StaticProvider(credential) if credential else None,
                           endpoint_url=self.option("sts_endpoint_url"), timeout=self.timeout,
                           validate_certs=self.validate_certs, max_retries=self.max_retries, use_vpc=use_vpc,
                           session=self.session, env=env, base_url=self.option("base_url"),
                           endpoint_option="sts_endpoint_url", allow_insecure_http=self.option("allow_insecure_http"))
        try:
            answer = client.call(action, query, idempotent=True, anonymous=credential is None)
        except AlibabaCloudError as error:
            details = ["HTTP %s" % error.status if error.status else "no answer"]
            if error.request_id:
                details.append("request id %s" % error.request_id)
            raise CredentialError(
                "%s failed: %s: %s (%s)" % (what, error.code or "no code", self.scrub(error.message), ", ".join(details)),
                code=error.code or "CredentialError", status=error.status, request_id=error.request_id,
                action=action, endpoint=client.endpoint, attempts=error.attempts)
        return self.credential_from(answer.get("Credentials"), source, "%s (STS %s)" % (what, action))


class Source(object):
    """A credential source: validate() says whether it is configured (no network; it may raise for a
    source configured wrongly), load() fetches a Credential and may call out."""

    name = "source"
    skip_reason = "not set"

    def validate(self):
        return True

    def load(self):
        raise NotImplementedError()
