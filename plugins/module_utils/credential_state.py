# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The decisions of the scim_credential module: pure functions of plain values (the request, the directory's
credentials, the secret file's content), no I/O. credential_runner.py applies them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from datetime import timedelta

from ansible_collections.alicloud.cloudsso.plugins.module_utils.cloudsso import (
    CREDENTIAL_LIMIT,
    DISABLED,
    ENABLED,
    parse_time,
)

NOTHING = "none"
CREATE = "create"
SET_STATUS = "set_status"
DELETE = "delete"
# This machine's clock may be this far from CloudSSO's (the signature tolerance): a credential created up to
# this long before an in-flight marker's time may still be the marked create's.
CLOCK_SKEW = timedelta(seconds=900)


class Refusal(Exception):
    """The request cannot be carried out; raised before any write call."""


class Decision(object):
    def __init__(self, action, target=None, new_status=None, remove_file=False):
        self.action = action
        self.target = target  # the credential record acted on (None for create)
        self.new_status = new_status
        self.remove_file = remove_file

    @property
    def changed(self):
        return self.action != NOTHING or self.remove_file


def describe_credentials(credentials):
    return ", ".join("%s (%s, created %s)" % (c["credential_id"], c["status"], c["create_time"]) for c in credentials)


def decide(state, directory_id, credentials, credential_id=None, secret_file=None, file_data=None,
           force=False, return_secret=False):
    """What to do, from the request and the directory's current credentials. Raises Refusal.

    `file_data` is the content of `secret_file` (None when the file does not exist).
    """
    by_id = dict((c["credential_id"], c) for c in credentials)
    if file_data is not None and file_data.get("directory_id") not in (None, directory_id):
        raise Refusal("secret file %s belongs to directory %s, not %s"
                      % (secret_file, file_data["directory_id"], directory_id))
    selected_id = credential_id or (file_data or {}).get("credential_id")
    target = by_id.get(selected_id) if selected_id else None

    if state == "absent":
        if not credential_id and not secret_file:
            raise Refusal("state=absent needs credential_id or secret_file: which credential to delete")
        if target is None:
            # A secret file whose credential is gone holds a dead secret: removing it is the cleanup.
            return Decision(NOTHING, remove_file=file_data is not None)
        if target["status"] == ENABLED and not force:
            raise Refusal(
                "credential %s is Enabled, so an identity provider may still use it; deleting it would break "
                "SCIM synchronization. Disable it first (state=disabled), check with scim_usage_info that it is "
                "unused, then delete it, or set force=true." % target["credential_id"])
        return Decision(DELETE, target=target, remove_file=file_data is not None)

    if target is not None:
        wanted = {"enabled": ENABLED, "disabled": DISABLED}.get(state)
        if wanted and target["status"] != wanted:
            return Decision(SET_STATUS, target=target, new_status=wanted)
        return Decision(NOTHING, target=target)

    if credential_id:
        raise Refusal("credential %s does not exist in directory %s (it has: %s)"
                      % (credential_id, directory_id, describe_credentials(credentials) or "no credentials"))
    if state == "disabled":
        if secret_file:
            raise Refusal("state=disabled: the credential of secret file %s does not exist in directory %s"
                          % (secret_file, directory_id))
        raise Refusal("state=disabled needs credential_id or secret_file")
    if state == "enabled" and not secret_file:
        raise Refusal("state=enabled needs credential_id or secret_file")
    if state == "present" and not secret_file and credentials:
        return Decision(NOTHING, target=credentials[-1])
    if file_data is not None and not force:
        raise Refusal(
            "secret file %s holds credential %s, which does not exist in directory %s any more; a new credential "
            "would replace that secret. Remove the file, or set force=true to overwrite it."
            % (secret_file, file_data.get("credential_id"), directory_id))
    if not secret_file and not return_secret:
        raise Refusal("creating a credential needs secret_file (or return_secret=true): CloudSSO shows a new "
                      "secret only once, so it would be lost")
    if len(credentials) >= CREDENTIAL_LIMIT:
        raise Refusal(
            "directory %s already has %d SCIM credentials, the limit: %s. Delete one that no identity provider uses "
            "(check with scim_usage_info, then state=absent) before creating another."
            % (directory_id, len(credentials), describe_credentials(credentials)))
    return Decision(CREATE)


def unaccounted(marker, credentials, known_id=None):
    """The credentials an in-flight marker cannot account for: not listed before the marked create, not the
    secret file's (`known_id`), and created at or after the marker's time (less CLOCK_SKEW; an unreadable
    time counts as after). One of them may be the marked create's, whose secret is lost."""
    started = parse_time(marker.get("started"))
    before = set(marker.get("credentials_before") or ())
    found = []
    for record in credentials:
        if record["credential_id"] in before or record["credential_id"] == known_id:
            continue
        created = parse_time(record.get("create_time"))
        if started is None or created is None or created >= started - CLOCK_SKEW:
            found.append(record)
    return found


def diff_view(record, deleted=False):
    if record is None or deleted:
        return {"exists": False}
    return {"exists": True, "credential_id": record.get("credential_id"), "status": record.get("status")}


def predicted_view(decision):
    """In check mode, the diff's `after`: what the credential would look like."""
    if decision.action == CREATE:
        return {"exists": True, "credential_id": "(new)", "status": ENABLED}
    if decision.action == DELETE:
        return {"exists": False}
    if decision.action == SET_STATUS:
        return dict(diff_view(decision.target), status=decision.new_status)
    return diff_view(decision.target)


def predicted_record(decision, state, directory_id):
    """In check mode, RV(credential) is what the run would return, for every state alike."""
    if decision.action == DELETE or state == "absent":
        return None
    if decision.action == SET_STATUS:
        return dict(decision.target, status=decision.new_status)
    if decision.action == CREATE:
        # Not created: no ID, no times yet.
        return dict(credential_id=None, credential_type="BearerToken", status=ENABLED, create_time=None,
                    expire_time=None, directory_id=directory_id, age_days=None, expires_in_days=None)
    return decision.target


def return_secret_problem(return_secret, no_log, debug):
    """Why return_secret=true cannot be used in this task (`no_log`: the task's no_log; `debug`: ANSIBLE_DEBUG
    is on), or None."""
    if return_secret and not no_log:
        return ("return_secret=true puts the secret in the task result: set no_log: true on the task (and never "
                "debug the registered variable)")
    if return_secret and debug:
        return ("return_secret=true is refused while ANSIBLE_DEBUG is on: ansible-core then prints every module's "
                "raw result and arguments, no_log ones included, so the secret would be in the output. Turn "
                "ANSIBLE_DEBUG off, or keep the secret in secret_file")
    return None


def new_credentials(before, after):
    """The credentials of `after` (a listing) that `before` (an earlier one) does not have."""
    known = set(c["credential_id"] for c in before)
    return [c for c in after if c["credential_id"] not in known]


def last_enabled(credentials, record):
    """Whether `record` is the only Enabled credential among `credentials`."""
    return not [c for c in credentials if c["credential_id"] != record["credential_id"] and c["status"] == ENABLED]


def select_credentials(credentials, credential_id=None):
    """The credentials scim_credential_info returns: all, or the one of `credential_id` (none if unknown)."""
    if credential_id:
        return [c for c in credentials if c["credential_id"] == credential_id]
    return credentials
