# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The desired-state logic of the scim_credential module: decide (pure, no I/O), then apply."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time
from datetime import timedelta


from ansible_collections.alicloud.cloudsso.plugins.module_utils.cloudsso import (
    CREDENTIAL_LIMIT,
    DISABLED,
    ENABLED,
    CloudSSO,
    format_time,
    parse_time,
    utc_now,
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import AlibabaCloudError, explain
from ansible_collections.alicloud.cloudsso.plugins.module_utils.secret_file import (
    SecretFileError,
    check_writable,
    folder_is_private,
    inflight_path,
    read_inflight,
    read_secret_file,
    remove_inflight,
    write_inflight,
    write_secret_file,
)

NOTHING = "none"
CREATE = "create"
SET_STATUS = "set_status"
DELETE = "delete"
AMBIGUOUS_RELIST_DELAY = 5  # seconds before the second look after a create whose answer was lost
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


class ScimCredentialRunner(object):
    """Runs the scim_credential module on an AlibabaCloudModule."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.directory_id = self.params["directory_id"]
        self.api = CloudSSO(module.client())

    def run(self):
        p = self.params
        if p["return_secret"] and not self.module.no_log:
            self.module.fail_json(msg="return_secret=true puts the secret in the task result: set no_log: true on "
                                      "the task (and never debug the registered variable)")
        if p["return_secret"] and self.module.debug:
            self.module.fail_json(msg="return_secret=true is refused while ANSIBLE_DEBUG is on: ansible-core then "
                                      "prints every module's raw result and arguments, no_log ones included, so the "
                                      "secret would be in the output. Turn ANSIBLE_DEBUG off, or keep the secret in "
                                      "secret_file", changed=False)
        file_data = self._read_file()
        if p["secret_file"] and p["state"] in ("present", "enabled") and file_data is None:
            self._check_file_writable()
        try:
            credentials = self.api.list_credentials(self.directory_id)
        except AlibabaCloudError as error:
            self.module.fail_from(error, changed=False)
        try:
            decision = decide(p["state"], self.directory_id, credentials, credential_id=p["credential_id"],
                              secret_file=p["secret_file"], file_data=file_data, force=p["force"],
                              return_secret=p["return_secret"])
        except Refusal as refusal:
            self.module.fail_json(msg=str(refusal), changed=False, credentials=credentials)
        if file_data is not None and p["secret_file"] and not p["return_secret"]:
            self.module.register_secret(file_data.get("credential_secret"))
        self._settle_inflight(decision, credentials, file_data)

        before = diff_view(decision.target)
        result = dict(changed=decision.changed, created=False, directory_id=self.directory_id)
        if self.module.check_mode:
            return self._finish(result, before, self._predicted(decision), self._predicted_record(decision), file_data)

        secret = None
        record = decision.target
        if decision.action == CREATE:
            record, secret = self._create(credentials)
            result["created"] = True
        elif decision.action == SET_STATUS:
            record = self._apply(self.api.set_status, record["credential_id"], decision.new_status) or \
                dict(record, status=decision.new_status)
        elif decision.action == DELETE:
            self._apply(self.api.delete_credential, record["credential_id"])
            if record["status"] == ENABLED:
                self._warn_if_last_enabled(credentials, record)
        if decision.remove_file:
            os.unlink(p["secret_file"])
        deleted = decision.action == DELETE or p["state"] == "absent"
        return self._finish(result, before, diff_view(record, deleted), None if deleted else record, file_data,
                            secret)

    # --- steps ---------------------------------------------------------------------------------------
    def _read_file(self):
        path = self.params["secret_file"]
        if not path:
            return None
        try:
            return read_secret_file(path)
        except SecretFileError as error:
            self.module.fail_json(msg=str(error), changed=False)

    def _settle_inflight(self, decision, credentials, file_data):
        """An earlier create for this secret file did not finish (killed, or its answer lost). Before another
        create, refuse while a credential exists that the marker cannot account for; once the secret file
        accounts for the create, remove the marker."""
        path = self.params["secret_file"]
        if not path:
            return
        try:
            marker = read_inflight(path)
        except SecretFileError as error:
            self.module.fail_json(msg=str(error), changed=False)
        if marker is None:
            return
        if decision.action != CREATE:
            if file_data is not None and not self.module.check_mode:
                self._remove_marker(path)
            return
        marker_path = inflight_path(path)
        if marker.get("directory_id") not in (None, self.directory_id):
            self.module.fail_json(
                msg="in-flight marker %s is of a create in directory %s, not %s, that did not finish: a credential "
                    "whose secret is lost may be left there. Check %s with scim_credential_info, then remove the "
                    "marker; nothing was created"
                    % (marker_path, marker["directory_id"], self.directory_id, marker["directory_id"]), changed=False)
        unknown = unaccounted(marker, credentials, (file_data or {}).get("credential_id"))
        if unknown:
            ids = [c["credential_id"] for c in unknown]
            first = ids[0]
            self.module.fail_json(
                msg="a create of a credential for secret file %s started at %s did not finish (the run was killed or "
                    "lost the answer; in-flight marker %s). Since then %s appeared, which that marker cannot account "
                    "for: its secret is probably lost, and creating now would make one more credential. Check with "
                    "scim_usage_info that no identity provider uses it, delete it (state=absent, credential_id=%s, "
                    "force=true), then run again; if you hold its secret elsewhere, remove the marker instead. "
                    "Nothing was created."
                    % (path, marker.get("started"), marker_path, describe_credentials(unknown), first),
                changed=False, unaccounted_credential_ids=ids, credentials=credentials)

    def _remove_marker(self, path):
        try:
            remove_inflight(path)
        except OSError as error:
            self.module.warn("in-flight marker %s is settled but could not be removed (%s); remove it"
                             % (inflight_path(path), error.strerror or error))

    def _check_file_writable(self):
        path = self.params["secret_file"]
        try:
            check_writable(path)
        except SecretFileError as error:
            self.module.fail_json(msg="%s; nothing was created" % error, changed=False)
        if not folder_is_private(path):
            self.module.warn("the folder of secret file %s can be read by other users; keep secrets in a folder only "
                             "you can read (mode 0700)" % path)

    def _apply(self, call, *args):
        try:
            return call(self.directory_id, *args)
        except AlibabaCloudError as error:
            self.module.fail_from(error, changed=False)

    def _create(self, before):
        path = self.params["secret_file"]
        if path:
            # Left behind if the run dies from here on: the next run then knows a create was in flight.
            try:
                write_inflight(path, dict(directory_id=self.directory_id, started=format_time(utc_now()),
                                          credentials_before=[c["credential_id"] for c in before]))
            except (IOError, OSError) as error:
                self.module.fail_json(msg="cannot write in-flight marker %s (%s); nothing was created"
                                          % (inflight_path(path), error.strerror or error), changed=False)
        try:
            record, secret = self.api.create_credential(self.directory_id)
        except AlibabaCloudError as error:
            if error.status is not None and error.status < 500:
                if path:
                    self._remove_marker(path)  # answered: nothing was created
                self.module.fail_from(error, changed=False)
            self._after_ambiguous_create(error, before)
        if not self.params["return_secret"]:
            self.module.register_secret(secret)
        if self.params["secret_file"]:
            try:
                write_secret_file(self.params["secret_file"], dict(
                    directory_id=self.directory_id, credential_id=record["credential_id"],
                    credential_secret=secret, create_time=record["create_time"]))
            except (SecretFileError, IOError, OSError) as error:
                self.module.fail_json(
                    msg="credential %s was created but its secret could not be written to %s (%s): the secret is "
                        "lost. Delete the credential (state=absent, force=true) and run again."
                        % (record["credential_id"], self.params["secret_file"], getattr(error, "strerror", None)
                           or error), changed=True, orphaned_credential_id=record["credential_id"])
            self._remove_marker(self.params["secret_file"])
        return record, secret

    def _after_ambiguous_create(self, error, before):
        """The create may have been applied although its answer was lost: list and compare, never retry.
        A slow create can land after a timeout, so an empty first look is followed by a second one."""
        known = set(c["credential_id"] for c in before)
        after, new = before, []
        for pause in (0, min(self.params["timeout"], AMBIGUOUS_RELIST_DELAY)):
            time.sleep(pause)
            try:
                after = self.api.list_credentials(self.directory_id)
            except AlibabaCloudError as list_error:
                self.module.fail_from(list_error, prefix=(
                    "CreateSCIMServerCredential failed without a clear answer (%s), and listing the credentials to "
                    "check whether it was applied failed too; list them before running again" % explain(error)),
                    changed=False)
            new = [c for c in after if c["credential_id"] not in known]
            if new:
                break
        if new:
            orphan = new[-1]["credential_id"]
            self.module.fail_json(
                msg="CreateSCIMServerCredential was applied but its answer was lost (%s). Credential %s now exists "
                    "and its secret is lost for good: nobody can use it. Delete it with state=absent, "
                    "credential_id=%s, force=true, then run again." % (explain(error), orphan, orphan),
                changed=True, orphaned_credential_id=orphan, credentials=after, error=error.to_dict(),
                api_calls=self.module.api_calls)
        self.module.fail_from(error, prefix=(
            "CreateSCIMServerCredential failed without a clear answer, and the credentials listed afterwards show no "
            "new one, so it was probably not applied. A slow create could still appear: check with "
            "scim_credential_info before running again, and delete any credential whose secret you do not have. "
            "It was not retried automatically because a retried create can mint a credential whose secret is lost"),
            changed=False, credentials=after)

    def _warn_if_last_enabled(self, credentials, record):
        others = [c for c in credentials if c["credential_id"] != record["credential_id"] and c["status"] == ENABLED]
        if others:
            return
        try:
            sync = self.api.synchronization_status(self.directory_id)
        except AlibabaCloudError:
            sync = None
        if sync != DISABLED:
            self.module.warn("deleted %s, the last Enabled SCIM credential of directory %s while SCIM synchronization "
                             "is %s: provisioning from the identity provider stops until a new credential is "
                             "configured there" % (record["credential_id"], self.directory_id, sync or "unknown"))

    # --- result --------------------------------------------------------------------------------------
    def _predicted(self, decision):
        if decision.action == CREATE:
            return {"exists": True, "credential_id": "(new)", "status": ENABLED}
        if decision.action == DELETE:
            return {"exists": False}
        if decision.action == SET_STATUS:
            return dict(diff_view(decision.target), status=decision.new_status)
        return diff_view(decision.target)

    def _predicted_record(self, decision):
        """In check mode, RV(credential) is what the run would return, for every state alike."""
        if decision.action == DELETE or self.params["state"] == "absent":
            return None
        if decision.action == SET_STATUS:
            return dict(decision.target, status=decision.new_status)
        if decision.action == CREATE:
            # Not created: no ID, no times yet.
            return dict(credential_id=None, credential_type="BearerToken", status=ENABLED, create_time=None,
                        expire_time=None, directory_id=self.directory_id, age_days=None, expires_in_days=None)
        return decision.target

    def _finish(self, result, before, after, record, file_data, secret=None):
        result["credential"] = record
        if self.params["return_secret"]:
            result["secret"] = secret or (file_data or {}).get("credential_secret")
        if self.module.diff_mode:
            result["diff"] = dict(before=before, after=after)
        self.module.exit_json(**result)
