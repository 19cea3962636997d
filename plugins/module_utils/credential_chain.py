# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The Alibaba Cloud credential chain: where credentials come from and in which order. What a module
calls: `credentials_provider()` and `profile_region()`. The sources are in credential_sources.py and
credential_profile.py, the Credential, the providers and the shared context in credentials.py.

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

from ansible_collections.alicloud.cloudsso.plugins.module_utils.credential_profile import ProfileSource
from ansible_collections.alicloud.cloudsso.plugins.module_utils.credential_sources import (
    AssumeRoleSource,
    CredentialsUriSource,
    EcsRamRoleSource,
    OidcSource,
    StaticSource,
    env_source,
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.credentials import (
    CREDENTIALS_URI_ENV,
    ECS_ROLE_ENV,
    ENV_PAIRS,
    OIDC_ENV,
    CachedProvider,
    SourceContext,
    SourceUnavailable,
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import CredentialError


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
            except SourceUnavailable as exc:
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
    transport.Session to reuse. env defaults to os.environ, home to the user's home. Nothing is read or
    fetched before the first get(); errors are CredentialError.
    """
    ctx = SourceContext(params, register_secret=register_secret, session=session, env=env, home=home)
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
    ctx = SourceContext(params, env=env, home=home)
    return ProfileSource(ctx).region()
