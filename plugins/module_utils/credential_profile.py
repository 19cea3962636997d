# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The aliyun CLI configuration file (JSON: `current`, `profiles[]`) as a credential source: which file
and which profile, and the source each profile mode describes (AK, StsToken, RamRoleArn,
ChainableRamRoleArn, EcsRamRole, OIDC, CredentialsURI), built from credential_sources.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.alicloud.cloudsso.plugins.module_utils import credential_sources as sources
from ansible_collections.alicloud.cloudsso.plugins.module_utils.credentials import (
    CLI_PROFILE_DISABLED_ENV,
    CONFIG_FILE_ENV,
    PROFILE_ENV,
    CachedProvider,
    Source,
    is_true,
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import CredentialError

SUPPORTED_MODES = ("AK", "StsToken", "RamRoleArn", "ChainableRamRoleArn", "EcsRamRole", "OIDC", "CredentialsURI")


class ProfileSource(Source):
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
        return not self.explicit_option and is_true(self.ctx.env.get(CLI_PROFILE_DISABLED_ENV))

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
        sts = dict(sts_region=profile.get("sts_region"), use_vpc=True if is_true(profile.get("enable_vpc")) else None)
        # The aliyun CLI writes ram_session_name for every mode; the Python SDK reads role_session_name for OIDC.
        session_name = profile.get("ram_session_name") or profile.get("role_session_name")
        duration = profile.get("expired_seconds")
        if duration not in (None, "") and not str(duration).isdigit():
            raise CredentialError("%s has expired_seconds %r, which is not a number of seconds" % (what, str(duration)[:20]))
        if mode in ("AK", "StsToken", "RamRoleArn"):
            required("access_key_id", "access_key_secret", *(("sts_token",) if mode == "StsToken" else ()))
            static = sources.StaticSource(self.ctx, profile["access_key_id"], profile["access_key_secret"],
                                          profile.get("sts_token") if mode == "StsToken" else None, source=label,
                                          name=what)
            if mode != "RamRoleArn":
                return static
            required("ram_role_arn")
            return sources.AssumeRoleSource(self.ctx, CachedProvider(static), profile["ram_role_arn"], session_name,
                                            duration, profile.get("external_id"), profile.get("policy"),
                                            source=label, what="%s AssumeRole" % what, **sts)
        if mode == "ChainableRamRoleArn":
            required("source_profile", "ram_role_arn")
            if name in chain or profile["source_profile"] in chain + [name]:
                raise CredentialError("%s: source_profile loop through %s" % (what, " -> ".join(chain + [name])))
            upstream_profile = self._find(config, profile["source_profile"], "source_profile of %r" % name)
            upstream = self._source_for(config, upstream_profile, chain + [name])
            upstream.validate()
            return sources.AssumeRoleSource(self.ctx, CachedProvider(upstream), profile["ram_role_arn"],
                                            session_name, duration, profile.get("external_id"), profile.get("policy"),
                                            source=label, what="%s AssumeRole" % what, **sts)
        if mode == "EcsRamRole":
            return sources.EcsRamRoleSource(self.ctx, role_name=profile.get("ram_role_name") or None, source=label)
        if mode == "OIDC":
            required("ram_role_arn", "oidc_provider_arn", "oidc_token_file")
            return sources.OidcSource(self.ctx, profile["ram_role_arn"], profile["oidc_provider_arn"],
                                      profile["oidc_token_file"], session_name, duration,
                                      profile.get("policy"), source=label, name=what, **sts)
        required("credentials_uri")
        return sources.CredentialsUriSource(self.ctx, profile["credentials_uri"], source=label, name=what)
