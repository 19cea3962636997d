# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The runner of the scim_rotation_plan module: read CloudSSO, the secret files and (when needed) ActionTrail,
then let the deciders of rotation.py decide. With `settings` it only checks them (rotation_settings.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.alicloud.cloudsso.plugins.module_utils.actiontrail import (
    UsageInputError,
    resolve_window,
    scan_usage,
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.cloudsso import CloudSSO, invalid_ids, utc_now
from ansible_collections.alicloud.cloudsso.plugins.module_utils.endpoints import is_valid_region
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import AlibabaCloudError
from ansible_collections.alicloud.cloudsso.plugins.module_utils.rotation import make_plan, needs_evidence
from ansible_collections.alicloud.cloudsso.plugins.module_utils.rotation_settings import (
    folders_to_look_at,
    invalid_settings,
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.safe_paths import writable_folder
from ansible_collections.alicloud.cloudsso.plugins.module_utils.secret_file import SecretFileError, read_secret_file

# The grace period of an unknown Enabled credential, in minutes: a person may take days to do a hand-off.
ORPHAN_GRACE_MINUTES = 120
HANDOFF_ORPHAN_GRACE_MINUTES = 7 * 24 * 60


def invalid_plan_options(params):
    """Messages for malformed options of the plan (checked before any API call)."""
    problems = invalid_ids(params)
    if params["actiontrail_region"] is not None and not is_valid_region(params["actiontrail_region"]):
        problems.append("actiontrail_region %r is not a valid Alibaba Cloud region ID (for example cn-shanghai)"
                        % params["actiontrail_region"])
    for name in ("min_age_days", "expiring_within_days", "orphan_grace_minutes"):
        if params[name] is not None and params[name] < 0:
            problems.append("%s must be 0 or more, got %s" % (name, params[name]))
    return problems


def orphan_grace(minutes, handoff):
    """The grace period in minutes: `minutes` when given, else the default for the kind of IdP."""
    if minutes is not None:
        return minutes
    return HANDOFF_ORPHAN_GRACE_MINUTES if handoff else ORPHAN_GRACE_MINUTES


def secret_files_by_credential(kept, credential_ids):
    """{credential ID: path} for the secret files (`kept`: (path, fields or None), first wins) that hold
    one of `credential_ids`."""
    return dict((data["credential_id"], path) for path, data in reversed(kept)
                if data and data.get("credential_id") in credential_ids)


class ScimRotationPlanRunner(object):
    def __init__(self, module):
        self.module = module
        self.params = module.params

    def run(self):
        if self.params["settings"] is not None:
            self.check_settings()
        else:
            self.plan()

    def check_settings(self):
        """Only check the settings the caller names: no API call, no plan. Says whether it runs in check mode,
        which a role cannot learn from ansible_check_mode under `check_mode: true` on a block or include_role."""
        settings = self.params["settings"]
        folders = dict((path, writable_folder(path)) for path in folders_to_look_at(settings))
        problems = invalid_settings(settings, folders)
        check_mode = self.module.check_mode
        if problems:
            self.module.fail_json(msg="; ".join(problems), changed=False, problems=problems, check_mode=check_mode)
        self.module.exit_json(changed=False, problems=[], check_mode=check_mode)

    def read(self, path, strict=True):
        """A secret file's fields without the secret (registered, so it is masked anyway)."""
        try:
            data = read_secret_file(path)
        except SecretFileError as error:
            if not strict:
                return None
            self.module.fail_json(msg=str(error), changed=False)
        if data:
            self.module.register_secret(data.get("credential_secret"))
            data = dict((k, v) for k, v in data.items() if k != "credential_secret")
        return data

    def plan(self):
        module, p = self.module, self.params
        module.fail_on(invalid_plan_options(p))
        try:
            since, until = resolve_window(p["usage_window"])
        except UsageInputError as error:
            module.fail_json(msg="usage_window: %s" % error, changed=False)
        pending_file = self.read(p["pending_secret_file"]) if p["pending_secret_file"] else None
        kept = [(path, self.read(path, strict=False)) for path in p["secret_files"]]
        try:
            credentials = CloudSSO(module.client()).list_credentials(p["directory_id"])
        except AlibabaCloudError as error:
            module.fail_from(error, changed=False)
        usage = None
        if p["use_actiontrail"] and credentials and needs_evidence(credentials, pending_file):
            usage = scan_usage(module, [c["credential_id"] for c in credentials], since, until,
                               region=p["actiontrail_region"], endpoint_url=p["actiontrail_endpoint_url"])
        plan = make_plan(credentials, usage or {"conclusive": False, "usage": {}}, pending_file, now=utc_now(),
                         min_age_days=p["min_age_days"], expiring_within_days=p["expiring_within_days"],
                         force=p["force"], prune_disabled=p["prune_disabled"],
                         orphan_grace_minutes=orphan_grace(p["orphan_grace_minutes"], p["handoff"]),
                         handoff=p["handoff"])
        by_credential = secret_files_by_credential(kept, set(c["credential_id"] for c in credentials))
        module.exit_json(changed=False, plan=plan.to_dict(), credentials=credentials, usage=usage,
                         directory_id=p["directory_id"], scim_endpoint=module.scim_endpoint(),
                         secret_files_by_credential=by_credential)
