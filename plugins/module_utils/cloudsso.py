# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""CloudSSO SCIM credential calls (API version 2021-05-15) and the credential record modules return."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from datetime import datetime, timezone

from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import AlibabaCloudError
from ansible_collections.alicloud.cloudsso.plugins.module_utils.times import parse_iso_time

DIRECTORY_ID_PATTERN = re.compile(r"^d-[0-9a-zA-Z]{12}$")
CREDENTIAL_ID_PATTERN = re.compile(r"^scimcred-[0-9a-zA-Z]{20}$")
# Literal credential IDs inside free text (ActionTrail events); the look-arounds keep a longer
# look-alike from matching a prefix.
CREDENTIAL_ID_IN_TEXT = re.compile(r"(?<![0-9a-zA-Z])scimcred-[0-9a-zA-Z]{20}(?![0-9a-zA-Z])")
CREDENTIAL_LIMIT = 2
NOT_FOUND = "EntityNotExists.SCIMCredential"
ENABLED = "Enabled"
DISABLED = "Disabled"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utc_now():
    return datetime.now(timezone.utc)


def parse_time(value):
    """Parse CloudSSO / ActionTrail UTC times (`2024-01-04T08:00:00Z`, with or without fractions)."""
    return parse_iso_time(value)


def format_time(value):
    return value.astimezone(timezone.utc).strftime(TIME_FORMAT)


def whole_days(delta):
    """Whole days in a timedelta, rounded towards minus infinity (an expired credential is negative)."""
    return int(delta.total_seconds() // 86400)


def credential_record(raw, directory_id=None, now=None):
    """The credential as modules return it: snake_case keys, age and days to expiry."""
    now = now or utc_now()
    created = parse_time(raw.get("CreateTime"))
    expires = parse_time(raw.get("ExpireTime"))
    return dict(
        credential_id=raw.get("CredentialId"),
        credential_type=raw.get("CredentialType"),
        status=raw.get("Status"),
        create_time=raw.get("CreateTime"),
        expire_time=raw.get("ExpireTime"),
        directory_id=raw.get("DirectoryId") or directory_id,
        age_days=whole_days(now - created) if created else None,
        expires_in_days=whole_days(expires - now) if expires else None,
    )


def validate_directory_id(value, option="directory_id"):
    """None when valid, else a message naming the option."""
    if not value or not DIRECTORY_ID_PATTERN.fullmatch(value):
        return ("%s %r is not a CloudSSO directory ID: expected 'd-' followed by 12 letters or digits "
                "(for example d-00fc2p61abcd)" % (option, value))
    return None


def validate_credential_id(value, option="credential_id"):
    if not value or not CREDENTIAL_ID_PATTERN.fullmatch(value):
        return ("%s %r is not a SCIM credential ID: expected 'scimcred-' followed by 20 letters or digits"
                % (option, value))
    return None


def invalid_ids(params):
    """Messages for malformed ID options present in `params` (checked before any API call)."""
    problems = []
    if params.get("directory_id") is not None:
        problems.append(validate_directory_id(params["directory_id"]))
    if params.get("credential_id"):
        problems.append(validate_credential_id(params["credential_id"]))
    for value in params.get("credential_ids") or []:
        problems.append(validate_credential_id(value, option="credential_ids"))
    return [problem for problem in problems if problem]


def sole_enabled_credential(credentials, credential_id):
    """True when `credential_id` is the directory's only Enabled credential (`credentials`: records as
    credential_record returns them), False when it is not, None when it is not in the list at all."""
    ids = [c.get("credential_id") for c in credentials]
    if credential_id not in ids:
        return None
    enabled = [c.get("credential_id") for c in credentials if c.get("status") == ENABLED]
    return enabled == [credential_id]


class CloudSSO(object):
    """The SCIM credential actions of one directory's region. `client` is an RpcClient for cloudsso."""

    def __init__(self, client):
        self.client = client

    def list_credentials(self, directory_id):
        answer = self.client.call("ListSCIMServerCredentials", {"DirectoryId": directory_id})
        records = [credential_record(raw, directory_id) for raw in answer.get("SCIMServerCredentials") or []]
        return sorted(records, key=lambda r: (r["create_time"] or "", r["credential_id"] or ""))

    def create_credential(self, directory_id):
        """Create a credential; returns (record, secret). Never retried once it may have reached the
        server: the caller lists and compares after an ambiguous failure."""
        answer = self.client.call("CreateSCIMServerCredential", {"DirectoryId": directory_id}, idempotent=False)
        raw = answer.get("SCIMServerCredential") or {}
        return credential_record(raw, directory_id), raw.get("CredentialSecret")

    def set_status(self, directory_id, credential_id, status):
        answer = self.client.call("UpdateSCIMServerCredentialStatus", {
            "DirectoryId": directory_id, "CredentialId": credential_id, "NewStatus": status})
        raw = answer.get("SCIMServerCredential")
        return credential_record(raw, directory_id) if raw else None

    def delete_credential(self, directory_id, credential_id):
        """Delete a credential. A retry that finds it gone is a success: the attempt before it may have been
        applied (the answer was lost), and the credential is absent either way."""
        try:
            self.client.call("DeleteSCIMServerCredential", {"DirectoryId": directory_id, "CredentialId": credential_id})
        except AlibabaCloudError as error:
            if error.code != NOT_FOUND or error.attempts < 2:
                raise

    def list_directories(self):
        """The directories ListDirectories shows the caller in the client's region (no parameter, no paging:
        one directory per management account). Each: directory_id, directory_name, region (the answer's
        Region, else the region asked), create_time, update_time."""
        answer = self.client.call("ListDirectories")
        return [dict(directory_id=raw.get("DirectoryId"), directory_name=raw.get("DirectoryName"),
                     region=raw.get("Region") or self.client.region, create_time=raw.get("CreateTime"),
                     update_time=raw.get("UpdateTime"))
                for raw in answer.get("Directories") or [] if raw.get("DirectoryId")]

    def synchronization_status(self, directory_id):
        answer = self.client.call("GetSCIMSynchronizationStatus", {"DirectoryId": directory_id})
        return answer.get("SCIMSynchronizationStatus")
