# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The runners of the scim_credential and scim_credential_info modules: they read the directory and the
secret file, ask the deciders of credential_state.py what to do, and apply it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time

from ansible_collections.alicloud.cloudsso.plugins.module_utils.cloudsso import (
    CREDENTIAL_LIMIT,
    DISABLED,
    ENABLED,
    CloudSSO,
    format_time,
    invalid_ids,
    utc_now,
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.credential_state import (
    CREATE,
    DELETE,
    SET_STATUS,
    Refusal,
    decide,
    describe_credentials,
    diff_view,
    last_enabled,
    new_credentials,
    predicted_record,
    predicted_view,
    return_secret_problem,
    select_credentials,
    unaccounted,
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import AlibabaCloudError, explain
from ansible_collections.alicloud.cloudsso.plugins.module_utils.safe_paths import relative_paths
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

AMBIGUOUS_RELIST_DELAY = 5  # seconds before the second look after a create whose answer was lost


class ScimCredentialRunner(object):
    """Runs the scim_credential module on an AlibabaCloudModule: reads the secret file and the directory's
    credentials, asks decide() what to do, applies it (a create through an in-flight marker, never retried)."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.directory_id = self.params["directory_id"]
        self.api = None

    def run(self):
        p = self.params
        self.module.fail_on(invalid_ids(p) + relative_paths([("secret_file", p["secret_file"])]))
        self.api = CloudSSO(self.module.client())
        problem = return_secret_problem(p["return_secret"], self.module.no_log, self.module.debug)
        if problem:
            self.module.fail_json(msg=problem, changed=False)
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
            return self._finish(result, before, predicted_view(decision),
                                predicted_record(decision, p["state"], self.directory_id), file_data)

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
            new = new_credentials(before, after)
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
        if not last_enabled(credentials, record):
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
    def _finish(self, result, before, after, record, file_data, secret=None):
        result["credential"] = record
        if self.params["return_secret"]:
            result["secret"] = secret or (file_data or {}).get("credential_secret")
        if self.module.diff_mode:
            result["diff"] = dict(before=before, after=after)
        self.module.exit_json(**result)


class ScimCredentialInfoRunner(object):
    """Runs the scim_credential_info module on an AlibabaCloudModule: the directory's credentials, its SCIM
    synchronization status and SCIM endpoint; it changes nothing."""

    def __init__(self, module):
        self.module = module
        self.params = module.params

    def run(self):
        p = self.params
        self.module.fail_on(invalid_ids(p))
        directory_id = p["directory_id"]
        api = CloudSSO(self.module.client())
        try:
            credentials = api.list_credentials(directory_id)
            sync_status = api.synchronization_status(directory_id)
        except AlibabaCloudError as error:
            self.module.fail_from(error)
        self.module.exit_json(
            changed=False,
            directory_id=directory_id,
            credentials=select_credentials(credentials, p["credential_id"]),
            scim_synchronization_status=sync_status,
            credential_limit=CREDENTIAL_LIMIT,
            scim_endpoint=self.module.scim_endpoint(p["scim_endpoint"]),
        )
