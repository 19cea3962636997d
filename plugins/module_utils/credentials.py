# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The Alibaba Cloud credential chain: where credentials come from, in which order, and how the
temporary ones are refreshed. Stdlib + requests only; the official alibabacloud-credentials package
is a test oracle, never a runtime dependency.

Resolution order (plugins/doc_fragments/auth.py documents the same):

1. Explicit options. When one of these is given, it is the only source tried:
   a. ``access_key_id`` + ``access_key_secret`` (+ ``security_token``);
   b. else ``profile`` and/or ``shared_credentials_file``: that aliyun CLI profile (it must exist);
   c. else ``ecs_role_name``: that RAM role from the ECS metadata service.
2. Environment: ``ALIBABA_CLOUD_ACCESS_KEY_ID`` / ``ALIBABA_CLOUD_ACCESS_KEY_SECRET`` (+
   ``ALIBABA_CLOUD_SECURITY_TOKEN``), then ``ALICLOUD_ACCESS_KEY`` / ``ALICLOUD_SECRET_KEY`` (+
   ``ALICLOUD_SECURITY_TOKEN``). Half of a pair set is an error, not a reason to look further.
3. OIDC / RRSA, when ``ALIBABA_CLOUD_ROLE_ARN``, ``ALIBABA_CLOUD_OIDC_PROVIDER_ARN`` and
   ``ALIBABA_CLOUD_OIDC_TOKEN_FILE`` are all set: unsigned STS AssumeRoleWithOIDC, the token file is
   read again at every refresh (``ALIBABA_CLOUD_ROLE_SESSION_NAME`` names the session).
4. The aliyun CLI configuration file: ``shared_credentials_file`` / ``ALIBABA_CLOUD_CONFIG_FILE`` /
   ``ALICLOUD_SHARED_CREDENTIALS_FILE`` / ``~/.aliyun/config.json``; profile ``profile`` /
   ``ALIBABA_CLOUD_PROFILE`` / ``ALICLOUD_PROFILE`` / the file's ``current``. Modes AK, StsToken,
   RamRoleArn, ChainableRamRoleArn, EcsRamRole, OIDC and CredentialsURI. A missing file is skipped
   unless a profile was named (option or variable); ``ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true`` skips
   the file in the automatic chain.
5. The ECS instance RAM role: role ``ALIBABA_CLOUD_ECS_METADATA`` or, when none is set, the role the
   metadata service lists. Without a configured role this is a probe (1 s connect timeout) that moves on
   when nothing answers; ``ALIBABA_CLOUD_ECS_METADATA_DISABLED=true`` skips it.
6. ``ALIBABA_CLOUD_CREDENTIALS_URI``.

Then, when the ``assume_role`` option is set, STS AssumeRole on top of the credentials found.

The first source that is configured is used for the whole run. If it then fails, the run fails with
that source's error: falling through to another identity would act with permissions the user did not
choose. Only the ECS probe of step 5 moves on. Temporary credentials are cached and fetched again when
they expire within REFRESH_MARGIN.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import threading
from datetime import datetime, timedelta, timezone

try:
    from urllib.parse import urlsplit, urlunsplit
except ImportError:  # pragma: no cover
    from urlparse import urlsplit, urlunsplit  # type: ignore

from ansible_collections.alicloud.cloudsso.plugins.module_utils.client import RpcClient
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import AlibabaCloudError, CredentialError
from ansible_collections.alicloud.cloudsso.plugins.module_utils.secret_file import SecretFileError, read_token_file
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
ECS_DEFAULT_ENDPOINT = "http://100.100.100.200"
ECS_TOKEN_PATH = "/latest/api/token"
ECS_ROLE_PATH = "/latest/meta-data/ram/security-credentials/"
# Header names as in alibabacloud_credentials/provider/ecs_ram_role.py.
ECS_TOKEN_TTL_HEADER = "X-aliyun-ecs-metadata-token-ttl-seconds"
ECS_TOKEN_HEADER = "X-aliyun-ecs-metadata-token"
ECS_TOKEN_TTL_SECONDS = 21600
# Off ECS, nothing answers at 100.100.100.200: one second is plenty for a link-local service.
ECS_PROBE_CONNECT_TIMEOUT = 1.0

SUPPORTED_MODES = ("AK", "StsToken", "RamRoleArn", "ChainableRamRoleArn", "EcsRamRole", "OIDC", "CredentialsURI")


def utcnow():
    """The current time (aware, UTC); tests replace it to simulate expiry."""
    return datetime.now(timezone.utc)


def _is_true(value):
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


class _Unavailable(Exception):
    """Raised by a probing source whose service is not there; the chain moves on."""

    def __init__(self, reason):
        super(_Unavailable, self).__init__(reason)
        self.reason = reason


class _Context(object):
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


# --- sources: validate() decides without network whether the source is configured (it may raise for a
# --- source configured wrongly); load() fetches a Credential and may call out. ----------------------------

class _Source(object):
    name = "source"
    skip_reason = "not set"

    def validate(self):
        return True

    def load(self):
        raise NotImplementedError()


class StaticSource(_Source):
    """Keys given as options, in environment variables or in a profile."""

    def __init__(self, ctx, access_key_id, access_key_secret, security_token=None, source="options",
                 name="options access_key_id/access_key_secret", id_name="access_key_id",
                 secret_name="access_key_secret"):
        self.ctx = ctx
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.security_token = security_token
        self.source = source
        self.name = name
        self.id_name = id_name
        self.secret_name = secret_name
        # Register at once: even a half-configured pair must not leak its secret.
        ctx.register(access_key_secret)
        ctx.register(security_token)

    def validate(self):
        if self.access_key_id and self.access_key_secret:
            return True
        if self.access_key_id or self.access_key_secret:
            given, missing = ((self.id_name, self.secret_name) if self.access_key_id
                              else (self.secret_name, self.id_name))
            raise CredentialError("%s is set but %s is not (%s)" % (given, missing, self.name))
        return False

    def load(self):
        return Credential(self.access_key_id, self.access_key_secret, self.security_token, source=self.source)


def env_source(ctx, id_var, secret_var, token_var, source):
    return StaticSource(ctx, ctx.getenv(id_var), ctx.getenv(secret_var), ctx.getenv(token_var), source=source,
                        name="environment %s/%s" % (id_var, secret_var), id_name=id_var, secret_name=secret_var)


class OidcSource(_Source):
    """STS AssumeRoleWithOIDC (RRSA): unsigned, with the token read from a file at every refresh."""

    def __init__(self, ctx, role_arn, provider_arn, token_file, session_name=None, duration_seconds=None,
                 policy=None, sts_region=None, use_vpc=None, source="oidc", name=None):
        self.ctx = ctx
        self.role_arn = role_arn
        self.provider_arn = provider_arn
        self.token_file = token_file
        self.session_name = session_name or DEFAULT_SESSION_NAME
        self.duration_seconds = int(duration_seconds or DEFAULT_DURATION_SECONDS)
        self.policy = policy
        self.sts_region = sts_region
        self.use_vpc = use_vpc
        self.source = source
        self.name = name or "OIDC %s" % ", ".join(OIDC_ENV)

    def validate(self):
        fields = tuple(zip(OIDC_ENV, (self.role_arn, self.provider_arn, self.token_file)))
        missing = [label for label, value in fields if not value]
        if len(missing) == len(fields):
            return False
        if missing:
            self.skip_reason = "%s not set" % ", ".join(missing)
            return False
        return True

    def _read_token(self):
        """One token-shaped line (secret_file.read_token_file); a link is followed, as Kubernetes mounts
        projected tokens as links."""
        path = os.path.expanduser(self.token_file)
        try:
            token = read_token_file(path, what="the OIDC token file", follow_links=True)[0]
        except SecretFileError as error:
            raise CredentialError(str(error))
        self.ctx.register(token)
        return token

    def load(self):
        query = dict(RoleArn=self.role_arn, OIDCProviderArn=self.provider_arn, OIDCToken=self._read_token(),
                     RoleSessionName=self.session_name, DurationSeconds=str(self.duration_seconds))
        if self.policy:
            query["Policy"] = self.policy
        return self.ctx.sts_call("AssumeRoleWithOIDC", query, None, "OIDC AssumeRoleWithOIDC of %s" % self.role_arn,
                                 self.source, sts_region=self.sts_region, use_vpc=self.use_vpc)


class AssumeRoleSource(_Source):
    """STS AssumeRole signed with the credentials of `upstream` (any provider with get())."""

    def __init__(self, ctx, upstream, role_arn, session_name=None, duration_seconds=None, external_id=None,
                 policy=None, sts_region=None, use_vpc=None, source="assume_role", what="assume_role"):
        self.ctx = ctx
        self.upstream = upstream
        self.role_arn = role_arn
        self.session_name = session_name or DEFAULT_SESSION_NAME
        self.duration_seconds = int(duration_seconds or DEFAULT_DURATION_SECONDS)
        self.external_id = external_id
        self.policy = policy
        self.sts_region = sts_region
        self.use_vpc = use_vpc
        self.source = source
        self.what = what
        self.name = what

    def validate(self):
        if not self.role_arn:
            raise CredentialError("%s needs a role ARN" % self.what)
        return True

    def load(self):
        self.validate()
        base = self.upstream.get()
        query = dict(RoleArn=self.role_arn, RoleSessionName=self.session_name,
                     DurationSeconds=str(self.duration_seconds))
        if self.external_id:
            query["ExternalId"] = self.external_id
        if self.policy:
            query["Policy"] = self.policy
        return self.ctx.sts_call("AssumeRole", query, base, "%s of %s" % (self.what, self.role_arn), self.source,
                                 sts_region=self.sts_region, use_vpc=self.use_vpc)


class EcsRamRoleSource(_Source):
    """The RAM role of the ECS instance, from the metadata service (IMDSv2, falling back to v1).

    `automatic`: part of the automatic chain, so ALIBABA_CLOUD_ECS_METADATA_DISABLED=true skips it. Without
    a role name it is then a probe: the metadata service gets a 1 s connect timeout, and a missing service
    or role moves the chain on instead of failing.
    """

    def __init__(self, ctx, role_name=None, automatic=False, source="ecs_ram_role"):
        self.ctx = ctx
        self.role_name = role_name
        self.automatic = automatic
        self.probe = automatic and not role_name
        self.source = source
        endpoint = (ctx.getenv(ECS_ENDPOINT_ENV) or ECS_DEFAULT_ENDPOINT).strip().rstrip("/")
        self.endpoint = endpoint if "://" in endpoint else "http://" + endpoint
        self.name = "ECS RAM role from the metadata service %s" % safe_url(self.endpoint)
        self.imdsv1_disabled = _is_true(ctx.env.get(IMDSV1_DISABLED_ENV))

    def validate(self):
        if self.automatic and _is_true(self.ctx.env.get(ECS_DISABLED_ENV)):
            self.skip_reason = "disabled by %s" % ECS_DISABLED_ENV
            return False
        return True

    def _timeout(self):
        return (ECS_PROBE_CONNECT_TIMEOUT, self.ctx.timeout) if self.probe else self.ctx.timeout

    def _token(self):
        """An IMDSv2 session token, or None to use IMDSv1."""
        try:
            response = self.ctx.fetch("PUT", self.endpoint + ECS_TOKEN_PATH, "ECS metadata token",
                                      headers={ECS_TOKEN_TTL_HEADER: str(ECS_TOKEN_TTL_SECONDS)},
                                      timeout=self._timeout())
        except CredentialError as error:
            if self.probe and error.status is None:
                # Nothing listens: not an ECS instance. Trying v1 would only wait a second time.
                raise _Unavailable("not reachable: %s" % error.message)
            if self.imdsv1_disabled:
                raise CredentialError("%s, and %s=true forbids IMDSv1" % (error.message, IMDSV1_DISABLED_ENV),
                                      status=error.status, endpoint=error.endpoint)
            return None
        token = response.text.strip()
        self.ctx.register(token)
        return token or None

    def _headers(self, token):
        return {ECS_TOKEN_HEADER: token} if token else {}

    def _discover_role(self, token):
        try:
            response = self.ctx.fetch("GET", self.endpoint + ECS_ROLE_PATH, "ECS metadata role list",
                                      headers=self._headers(token), timeout=self._timeout())
        except CredentialError as error:
            if self.probe:
                raise _Unavailable("no RAM role found: %s" % error.message)
            raise
        names = [line.strip() for line in response.text.splitlines() if line.strip()]
        if not names:
            if self.probe:
                raise _Unavailable("no RAM role is attached to this instance")
            raise CredentialError("the ECS metadata service lists no RAM role for this instance")
        return names[0]

    def load(self):
        token = self._token()
        role = self.role_name or self._discover_role(token)
        url = self.endpoint + ECS_ROLE_PATH + percent_encode(role)
        what = "ECS RAM role %s" % role
        data = self.ctx.get_json(url, what, headers=self._headers(token), timeout=self._timeout())
        if data.get("Code") != "Success":
            self.ctx.register(data.get("AccessKeySecret"))
            self.ctx.register(data.get("SecurityToken"))
            raise CredentialError("%s: the metadata service answered Code %r" % (what, str(data.get("Code"))[:60]))
        credential = self.ctx.credential_from(data, self.source, what)
        # Found: this is an ECS instance with this role. A later refresh that fails is an error, not a
        # reason to move on (the chain has chosen this source).
        self.role_name, self.probe = role, False
        return credential


class CredentialsUriSource(_Source):
    """GET a URI that answers {"Code": "Success", "AccessKeyId", "AccessKeySecret", "SecurityToken", "Expiration"}."""

    def __init__(self, ctx, uri, source="credentials_uri", name=CREDENTIALS_URI_ENV):
        self.ctx = ctx
        self.uri = uri
        self.source = source
        self.name = name

    def validate(self):
        return bool(self.uri)

    def load(self):
        what = "credentials URI"
        data = self.ctx.get_json(self.uri, what)
        if data.get("Code") != "Success":
            self.ctx.register(data.get("AccessKeySecret"))
            self.ctx.register(data.get("SecurityToken"))
            raise CredentialError("%s %s answered Code %r" % (what, safe_url(self.uri), str(data.get("Code"))[:60]))
        return self.ctx.credential_from(data, self.source, "%s %s" % (what, safe_url(self.uri)))


class ProfileSource(_Source):
    """A profile of the aliyun CLI configuration file (JSON: `current`, `profiles[]`)."""

    def __init__(self, ctx):
        self.ctx = ctx
        option_file = ctx.option("shared_credentials_file")
        env_file = ctx.getenv(*CONFIG_FILE_ENV)
        self.path = os.path.expanduser(option_file or env_file or os.path.join(ctx.home, ".aliyun", "config.json"))
        self.profile_option = ctx.option("profile")
        self.profile_var = None if self.profile_option else ctx.env_name(*PROFILE_ENV)
        self.profile_name = self.profile_option or (ctx.getenv(self.profile_var) if self.profile_var else None)
        self.explicit_option = bool(self.profile_option or option_file)
        self.name = "aliyun CLI profile in %s" % self.path
        self.inner = None

    def _asked_by(self):
        if self.profile_option:
            return "the profile option"
        if self.profile_var:
            return self.profile_var
        return "the shared_credentials_file option"

    def _read(self, strict):
        """The parsed file, or None when it is absent and nothing asked for it (`strict`: something did)."""
        if not os.path.isfile(self.path):
            if strict:
                raise CredentialError("the aliyun CLI configuration file %s does not exist (profile %s asked for by %s)"
                                      % (self.path, repr(self.profile_name) if self.profile_name else "'current'",
                                         self._asked_by()))
            self.skip_reason = "file not found"
            return None
        try:
            with open(self.path, "r") as handle:
                config = json.load(handle)
        except (IOError, OSError) as exc:
            raise CredentialError("cannot read the aliyun CLI configuration file %s: %s"
                                  % (self.path, exc.strerror or type(exc).__name__))
        except ValueError:
            # Never the parser's message: it quotes the text around the error, which may be a key.
            raise CredentialError("the aliyun CLI configuration file %s is not valid JSON" % self.path)
        if not isinstance(config, dict):
            raise CredentialError("the aliyun CLI configuration file %s does not hold a JSON object" % self.path)
        return config

    def _profiles(self, config):
        return [p for p in config.get("profiles") or [] if isinstance(p, dict)]

    def _find(self, config, name, asked_by):
        for profile in self._profiles(config):
            if profile.get("name") == name:
                return profile
        names = [str(p.get("name")) for p in self._profiles(config)]
        raise CredentialError("profile %r (%s) is not in the aliyun CLI configuration file %s; it has: %s"
                              % (name, asked_by, self.path, ", ".join(names) if names else "no profiles"))

    def _select(self, strict):
        """(config, profile dict) or None when the source is not configured."""
        config = self._read(strict)
        if config is None:
            return None
        if self.profile_name:
            return config, self._find(config, self.profile_name, "asked for by %s" % self._asked_by())
        current = config.get("current")
        if not current:
            if strict:
                raise CredentialError("the aliyun CLI configuration file %s names no current profile; set the "
                                      "profile option" % self.path)
            self.skip_reason = "no current profile"
            return None
        return config, self._find(config, current, "the file's current profile")

    def _disabled(self):
        # The variable switches the file off in the automatic chain; an explicit option still wins.
        return not self.explicit_option and _is_true(self.ctx.env.get(CLI_PROFILE_DISABLED_ENV))

    def validate(self):
        if self._disabled():
            self.skip_reason = "disabled by %s" % CLI_PROFILE_DISABLED_ENV
            return False
        selected = self._select(strict=bool(self.explicit_option or self.profile_name))
        if selected is None:
            return False
        config, profile = selected
        self.inner = self._source_for(config, profile, [])
        return self.inner.validate()

    def load(self):
        if self.inner is None and not self.validate():
            raise CredentialError("no profile in the aliyun CLI configuration file %s" % self.path)
        return self.inner.load()

    def region(self):
        """region_id of the profile this source would use (its source_profile's when it has none)."""
        if self._disabled():
            return None
        try:
            selected = self._select(strict=self.explicit_option)
        except CredentialError:
            if self.explicit_option:
                raise
            return None
        if selected is None:
            return None
        config, profile = selected
        seen = set()
        while profile is not None and profile.get("name") not in seen:
            if profile.get("region_id"):
                return profile["region_id"]
            seen.add(profile.get("name"))
            source_name = profile.get("source_profile")
            profile = next((p for p in self._profiles(config) if source_name and p.get("name") == source_name), None)
        return None

    def _source_for(self, config, profile, chain):
        """The source a profile describes; `chain` holds the names already followed (loop detection)."""
        name = profile.get("name")
        raw_mode = str(profile.get("mode") or "")
        # The CLI compares modes case-insensitively.
        mode = next((m for m in SUPPORTED_MODES if m.lower() == raw_mode.lower()), None)
        label = "profile:%s(%s)" % (name, mode or raw_mode)
        what = "profile %r of %s" % (name, self.path)
        if mode is None:
            raise CredentialError("%s uses mode %r, which this collection does not support (supported: %s)"
                                  % (what, raw_mode, ", ".join(SUPPORTED_MODES)))

        def required(*keys):
            missing = [key for key in keys if not profile.get(key)]
            if missing:
                raise CredentialError("%s (mode %s) has no %s" % (what, mode, ", ".join(missing)))

        # enable_vpc / sts_region as the Python SDK reads them; without them the options and variables decide.
        sts = dict(sts_region=profile.get("sts_region"), use_vpc=True if _is_true(profile.get("enable_vpc")) else None)
        # The aliyun CLI writes ram_session_name for every mode; the Python SDK reads role_session_name for OIDC.
        session_name = profile.get("ram_session_name") or profile.get("role_session_name")
        duration = profile.get("expired_seconds")
        if duration not in (None, "") and not str(duration).isdigit():
            raise CredentialError("%s has expired_seconds %r, which is not a number of seconds" % (what, str(duration)[:20]))
        if mode in ("AK", "StsToken", "RamRoleArn"):
            required("access_key_id", "access_key_secret", *(("sts_token",) if mode == "StsToken" else ()))
            static = StaticSource(self.ctx, profile["access_key_id"], profile["access_key_secret"],
                                  profile.get("sts_token") if mode == "StsToken" else None, source=label, name=what)
            if mode != "RamRoleArn":
                return static
            required("ram_role_arn")
            return AssumeRoleSource(self.ctx, CachedProvider(static), profile["ram_role_arn"], session_name,
                                    duration, profile.get("external_id"), profile.get("policy"),
                                    source=label, what="%s AssumeRole" % what, **sts)
        if mode == "ChainableRamRoleArn":
            required("source_profile", "ram_role_arn")
            if name in chain or profile["source_profile"] in chain + [name]:
                raise CredentialError("%s: source_profile loop through %s" % (what, " -> ".join(chain + [name])))
            upstream_profile = self._find(config, profile["source_profile"], "source_profile of %r" % name)
            upstream = self._source_for(config, upstream_profile, chain + [name])
            upstream.validate()
            return AssumeRoleSource(self.ctx, CachedProvider(upstream), profile["ram_role_arn"], session_name,
                                    duration, profile.get("external_id"), profile.get("policy"),
                                    source=label, what="%s AssumeRole" % what, **sts)
        if mode == "EcsRamRole":
            return EcsRamRoleSource(self.ctx, role_name=profile.get("ram_role_name") or None, source=label)
        if mode == "OIDC":
            required("ram_role_arn", "oidc_provider_arn", "oidc_token_file")
            return OidcSource(self.ctx, profile["ram_role_arn"], profile["oidc_provider_arn"],
                              profile["oidc_token_file"], session_name, duration,
                              profile.get("policy"), source=label, name=what, **sts)
        required("credentials_uri")
        return CredentialsUriSource(self.ctx, profile["credentials_uri"], source=label, name=what)


# --- providers ------------------------------------------------------------------------------------------

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


class ChainProvider(object):
    """Tries sources in order; the first one configured is used from then on."""

    def __init__(self, sources, hint=None):
        self.sources = sources
        self.hint = hint
        self.selected = None
        self.tried = []

    def get(self):
        if self.selected is None:
            self.selected = self._select()
        return self.selected.get()

    def _select(self):
        tried = []
        for source in self.sources:
            if not source.validate():
                tried.append("%s (%s)" % (source.name, source.skip_reason))
                continue
            provider = CachedProvider(source)
            try:
                provider.get()
            except _Unavailable as exc:
                tried.append("%s (%s)" % (source.name, exc.reason))
                continue
            self.tried = tried
            return provider
        self.tried = tried
        message = "none of the credential sources is configured. Tried, in order: %s." % "; ".join(tried)
        if self.hint:
            message = "%s %s" % (message, self.hint)
        raise CredentialError(message)


def _automatic_sources(ctx):
    sources = [env_source(ctx, *names) for names in ENV_PAIRS]
    sources.append(OidcSource(ctx, ctx.getenv(OIDC_ENV[0]), ctx.getenv(OIDC_ENV[1]), ctx.getenv(OIDC_ENV[2]),
                              session_name=ctx.getenv("ALIBABA_CLOUD_ROLE_SESSION_NAME")))
    sources.append(ProfileSource(ctx))
    sources.append(EcsRamRoleSource(ctx, role_name=ctx.getenv(ECS_ROLE_ENV), automatic=True))
    sources.append(CredentialsUriSource(ctx, ctx.getenv(CREDENTIALS_URI_ENV)))
    return sources


def credentials_provider(params, register_secret=None, session=None, env=None, home=None):
    """Return a provider object with .get() -> Credential.

    params: the module params (keys of module.auth_argument_spec()). register_secret(value) is called with
    every secret value the chain reads or receives, so AnsibleModule masks them. session: the
    requests.Session to reuse. env defaults to os.environ, home to the user's home. Nothing is read or
    fetched before the first get(); errors are CredentialError.
    """
    ctx = _Context(params, register_secret=register_secret, session=session, env=env, home=home)
    if ctx.option("access_key_id") or ctx.option("access_key_secret"):
        chain = ChainProvider([StaticSource(ctx, ctx.option("access_key_id"), ctx.option("access_key_secret"),
                                            ctx.option("security_token"))])
    elif ctx.option("profile") or ctx.option("shared_credentials_file"):
        chain = ChainProvider([ProfileSource(ctx)])
    elif ctx.option("ecs_role_name"):
        chain = ChainProvider([EcsRamRoleSource(ctx, role_name=ctx.option("ecs_role_name"))])
    else:
        chain = ChainProvider(_automatic_sources(ctx), hint=(
            "Give access_key_id and access_key_secret (or profile, ecs_role_name), or set "
            "ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET."))
    role = ctx.option("assume_role")
    if not role:
        return chain
    return CachedProvider(AssumeRoleSource(
        ctx, chain, role.get("role_arn"), session_name=role.get("session_name"),
        duration_seconds=role.get("duration_seconds"), external_id=role.get("external_id"),
        policy=role.get("policy")))


def profile_region(params, env=None, home=None):
    """region_id of the aliyun CLI profile that would be used, or None.

    Only an explicitly requested profile (profile / shared_credentials_file options) that cannot be found
    raises CredentialError; otherwise a missing or broken file just gives no region.
    """
    ctx = _Context(params, env=env, home=home)
    return ProfileSource(ctx).region()
