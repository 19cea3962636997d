# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The credential sources other than the aliyun CLI profile, each small and separate: keys given as
options or environment variables, OIDC / RRSA (STS AssumeRoleWithOIDC), STS AssumeRole on top of another
provider, the ECS instance RAM role (metadata service) and a credentials URI. Each takes the shared
`SourceContext` (credentials.py); credential_chain.py decides which one is used.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.alicloud.cloudsso.plugins.module_utils.credentials import (
    CREDENTIALS_URI_ENV,
    DEFAULT_DURATION_SECONDS,
    DEFAULT_SESSION_NAME,
    ECS_DISABLED_ENV,
    ECS_ENDPOINT_ENV,
    IMDSV1_DISABLED_ENV,
    OIDC_ENV,
    Credential,
    Source,
    SourceUnavailable,
    is_true,
    safe_url,
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import CredentialError
from ansible_collections.alicloud.cloudsso.plugins.module_utils.secret_file import SecretFileError, read_token_file
from ansible_collections.alicloud.cloudsso.plugins.module_utils.signing import percent_encode

ECS_DEFAULT_ENDPOINT = "http://100.100.100.200"
ECS_TOKEN_PATH = "/latest/api/token"
ECS_ROLE_PATH = "/latest/meta-data/ram/security-credentials/"
# Header names as in alibabacloud_credentials/provider/ecs_ram_role.py.
ECS_TOKEN_TTL_HEADER = "X-aliyun-ecs-metadata-token-ttl-seconds"
ECS_TOKEN_HEADER = "X-aliyun-ecs-metadata-token"
ECS_TOKEN_TTL_SECONDS = 21600
# Off ECS, nothing answers at 100.100.100.200: one second is plenty for a link-local service.
ECS_PROBE_CONNECT_TIMEOUT = 1.0


class StaticSource(Source):
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


class StsRoleSource(Source):
    """What the two STS sources share: the role, the session name and lifetime, the policy, and which STS
    endpoint (a profile's sts_region / enable_vpc, else the options and variables)."""

    def __init__(self, ctx, role_arn, session_name=None, duration_seconds=None, policy=None, sts_region=None,
                 use_vpc=None, source=None):
        self.ctx = ctx
        self.role_arn = role_arn
        self.session_name = session_name or DEFAULT_SESSION_NAME
        self.duration_seconds = int(duration_seconds or DEFAULT_DURATION_SECONDS)
        self.policy = policy
        self.sts_region = sts_region
        self.use_vpc = use_vpc
        self.source = source

    def assume(self, action, query, credential, what):
        """STS `action` for the role (`query`: the action's own fields), signed with `credential` (None:
        unsigned); the Credential it grants."""
        query = dict(query, RoleArn=self.role_arn, RoleSessionName=self.session_name,
                     DurationSeconds=str(self.duration_seconds))
        if self.policy:
            query["Policy"] = self.policy
        return self.ctx.sts_call(action, query, credential, what, self.source, sts_region=self.sts_region,
                                 use_vpc=self.use_vpc)


class OidcSource(StsRoleSource):
    """STS AssumeRoleWithOIDC (RRSA): unsigned, with the token read from a file at every refresh."""

    def __init__(self, ctx, role_arn, provider_arn, token_file, session_name=None, duration_seconds=None,
                 policy=None, sts_region=None, use_vpc=None, source="oidc", name=None):
        super(OidcSource, self).__init__(ctx, role_arn, session_name, duration_seconds, policy, sts_region, use_vpc,
                                         source)
        self.provider_arn = provider_arn
        self.token_file = token_file
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
        query = dict(OIDCProviderArn=self.provider_arn, OIDCToken=self._read_token())
        return self.assume("AssumeRoleWithOIDC", query, None, "OIDC AssumeRoleWithOIDC of %s" % self.role_arn)


class AssumeRoleSource(StsRoleSource):
    """STS AssumeRole signed with the credentials of `upstream` (any provider with get())."""

    def __init__(self, ctx, upstream, role_arn, session_name=None, duration_seconds=None, external_id=None,
                 policy=None, sts_region=None, use_vpc=None, source="assume_role", what="assume_role"):
        super(AssumeRoleSource, self).__init__(ctx, role_arn, session_name, duration_seconds, policy, sts_region,
                                               use_vpc, source)
        self.upstream = upstream
        self.external_id = external_id
        self.what = what
        self.name = what

    def validate(self):
        if not self.role_arn:
            raise CredentialError("%s needs a role ARN" % self.what)
        return True

    def load(self):
        self.validate()
        base = self.upstream.get()
        query = dict(ExternalId=self.external_id) if self.external_id else {}
        return self.assume("AssumeRole", query, base, "%s of %s" % (self.what, self.role_arn))


class EcsRamRoleSource(Source):
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
        self.imdsv1_disabled = is_true(ctx.env.get(IMDSV1_DISABLED_ENV))

    def validate(self):
        if self.automatic and is_true(self.ctx.env.get(ECS_DISABLED_ENV)):
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
                raise SourceUnavailable("not reachable: %s" % error.message)
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
                raise SourceUnavailable("no RAM role found: %s" % error.message)
            raise
        names = [line.strip() for line in response.text.splitlines() if line.strip()]
        if not names:
            if self.probe:
                raise SourceUnavailable("no RAM role is attached to this instance")
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


class CredentialsUriSource(Source):
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
