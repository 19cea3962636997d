# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Find the CloudSSO directory of each account of a fleet (the logic of the inventory plugin
alicloud.cloudsso.directories).

A fleet is many management accounts, each with at most one directory ("You can create only one directory
for a management account", CloudSSO CreateDirectory) and its own credentials: an aliyun CLI profile, a RAM
role to assume, or the standard credential chain (environment variables). ListDirectories is regional, so
every account is asked in every region searched. Whether the real service also lists a directory of
another region is not documented: directories are merged by ID and placed by the answer's `Region`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.alicloud.cloudsso.plugins.module_utils.client import RpcClient
from ansible_collections.alicloud.cloudsso.plugins.module_utils.cloudsso import CloudSSO
from ansible_collections.alicloud.cloudsso.plugins.module_utils.credential_chain import credentials_provider
from ansible_collections.alicloud.cloudsso.plugins.module_utils.credentials import (
    DEFAULT_DURATION_SECONDS,
    DEFAULT_SESSION_NAME,
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.endpoints import CLOUDSSO_REGIONS, is_valid_region
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import AlibabaCloudError, explain

ACCOUNT_KEYS = ("name", "profile", "shared_credentials_file", "assume_role", "regions")
ROLE_KEYS = ("role_arn", "session_name", "duration_seconds", "external_id")
SECRET_KEYS = ("access_key_id", "access_key_secret", "security_token", "access_key", "secret_key",
               "alicloud_access_key", "alicloud_secret_key", "alicloud_security_token")


class DiscoveryError(Exception):
    """A failure that names the account (never a secret)."""


def account_label(account, index):
    """How messages and the `cloudsso_account` host variable name an account: its `name`, else its role ARN,
    its profile, or the default credential chain."""
    role = account.get("assume_role") or {}
    return (account.get("name") or role.get("role_arn") or
            ("profile %s" % account["profile"] if account.get("profile") else None) or
            "account %d (default credential chain)" % (index + 1))


def account_problems(accounts):
    """Messages for malformed `accounts` entries, found before any call."""
    if not isinstance(accounts, list) or not accounts:
        return ["accounts must be a non-empty list"]
    problems = []
    for index, account in enumerate(accounts):
        where = "accounts[%d]" % index
        if not isinstance(account, dict):
            problems.append("%s must be a mapping" % where)
            continue
        secrets = sorted(key for key in account if key in SECRET_KEYS)
        if secrets:
            # Name the key, never echo its value.
            problems.append("%s has %s: an inventory file holds no key. Use profile, assume_role, or the "
                            "environment variables (ALIBABA_CLOUD_ACCESS_KEY_ID ...)" % (where, ", ".join(secrets)))
        unknown = sorted(key for key in account if key not in ACCOUNT_KEYS and key not in SECRET_KEYS)
        if unknown:
            problems.append("%s has unknown keys %s (known: %s)" % (where, ", ".join(unknown), ", ".join(ACCOUNT_KEYS)))
        role = account.get("assume_role")
        if role is not None:
            if not isinstance(role, dict) or not role.get("role_arn"):
                problems.append("%s.assume_role must be a mapping with role_arn" % where)
            else:
                unknown = sorted(key for key in role if key not in ROLE_KEYS)
                if unknown:
                    problems.append("%s.assume_role has unknown keys %s (known: %s)"
                                    % (where, ", ".join(unknown), ", ".join(ROLE_KEYS)))
                duration = role.get("duration_seconds", DEFAULT_DURATION_SECONDS)
                if not isinstance(duration, int) or not 900 <= duration <= 43200:
                    problems.append("%s.assume_role.duration_seconds must be 900 to 43200" % where)
        regions = account.get("regions")
        if regions is not None:
            problems.extend(region_problems(regions, "%s.regions" % where))
    labels = [account_label(a, i) for i, a in enumerate(accounts) if isinstance(a, dict)]
    duplicates = sorted(set(label for label in labels if labels.count(label) > 1))
    if duplicates:
        problems.append("accounts are named twice: %s (give each a distinct name)" % ", ".join(duplicates))
    return problems


def region_problems(regions, option="regions"):
    if not isinstance(regions, list) or not regions:
        return ["%s must be a non-empty list of region IDs" % option]
    return ["%s: %r is not a valid Alibaba Cloud region ID (for example cn-shanghai)" % (option, region)
            for region in regions if not is_valid_region(region)]


def _role(account):
    role = account.get("assume_role")
    if not role:
        return None
    return dict(role_arn=role["role_arn"], session_name=role.get("session_name") or DEFAULT_SESSION_NAME,
                duration_seconds=role.get("duration_seconds") or DEFAULT_DURATION_SECONDS,
                external_id=role.get("external_id"))


def rotation_auth(account, shared_credentials_file=None, endpoint_url=None):
    """The options the collection's modules need to act as this account (scim_rotation_auth): selectors
    only (profile, config file, role ARN, endpoint), never a key. An account of the default chain gets
    none: the modules read the same environment."""
    auth = {}
    if account.get("profile"):
        auth["profile"] = account["profile"]
        config_file = account.get("shared_credentials_file") or shared_credentials_file
        if config_file:
            auth["shared_credentials_file"] = config_file
    role = _role(account)
    if role:
        auth["assume_role"] = dict((k, v) for k, v in role.items() if v is not None)
    if endpoint_url:
        auth["endpoint_url"] = endpoint_url
    return auth


def _credential_params(account, options):
    """The module-style options credentials_provider takes for this account."""
    params = dict(timeout=options.get("timeout"), validate_certs=options.get("validate_certs"),
                  max_retries=options.get("max_retries"), assume_role=_role(account))
    if account.get("profile"):
        params["profile"] = account["profile"]
        params["shared_credentials_file"] = (account.get("shared_credentials_file")
                                             or options.get("shared_credentials_file"))
    return params


def _scrub(text, secrets):
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "********")
    return text


def find_directories(account, index, options, session, env=None):
    """[directory dict] of one account: directory_id, directory_name, region, create_time, update_time,
    account (the label). Raises DiscoveryError naming the account and region that failed."""
    label = account_label(account, index)
    secrets = set()
    provider = credentials_provider(_credential_params(account, options), register_secret=secrets.add,
                                    session=session, env=env)
    found = {}
    for region in account.get("regions") or options.get("regions") or CLOUDSSO_REGIONS:
        client = RpcClient("cloudsso", region, credentials=provider, endpoint_url=options.get("endpoint_url"),
                           timeout=options.get("timeout") or 30, validate_certs=options.get("validate_certs", True),
                           max_retries=options.get("max_retries", 5), session=session, env=env)
        try:
            listed = CloudSSO(client).list_directories()
        except AlibabaCloudError as error:
            message = explain(error, product="cloudsso")
            raise DiscoveryError(_scrub("account %s, region %s: %s" % (label, region, message), secrets))
        for directory in listed:
            found.setdefault(directory["directory_id"], dict(directory, account=label))
    return sorted(found.values(), key=lambda d: d["directory_id"])
