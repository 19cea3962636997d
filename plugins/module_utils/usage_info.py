# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The scim_usage_info module: its deciders (pure, on plain values: which options are wrong, which
credentials to check) and `UsageInfoRunner`, which lists the directory's credentials and runs the
ActionTrail scan (actiontrail.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.alicloud.cloudsso.plugins.module_utils.actiontrail import (
    UsageInputError,
    resolve_window,
    scan_usage,
    unique,
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.cloudsso import CloudSSO, invalid_ids
from ansible_collections.alicloud.cloudsso.plugins.module_utils.endpoints import is_valid_region
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import AlibabaCloudError
from ansible_collections.alicloud.cloudsso.plugins.module_utils.pacing import MAX_CALLS_PER_SECOND


# --- deciders ------------------------------------------------------------------------------------------

def clean_event_names(values):
    """The event names to query, stripped and without repeats; [] when one is empty."""
    names = [str(v).strip() if v is not None else "" for v in (values or ())]
    if not names or not all(names):
        return []
    return unique(names)


def option_problems(params):
    """Messages for bad event_names, max_calls_per_second and max_pages (checked before any API call)."""
    problems = []
    if not clean_event_names(params.get("event_names")):
        problems.append("event_names must list at least one ActionTrail event name (for example ListUsers), and "
                        "none may be empty")
    rate = params.get("max_calls_per_second")
    if rate is not None and not 0 < rate <= MAX_CALLS_PER_SECOND:
        problems.append("max_calls_per_second must be more than 0 and at most 2 (ActionTrail's LookupEvents limit "
                        "per account), got %s" % rate)
    max_pages = params.get("max_pages")
    if max_pages is not None and max_pages < 1:
        problems.append("max_pages must be 1 or more, got %s" % max_pages)
    return problems


def target_problems(directory_id, credential_ids, actiontrail_region):
    """Messages for a scan with nothing to check, or in a region that is not one."""
    problems = []
    if directory_id is None and not credential_ids:
        problems.append("give directory_id or at least one credential ID in credential_ids")
    if actiontrail_region is not None and not is_valid_region(actiontrail_region):
        problems.append("actiontrail_region %r is not a valid Alibaba Cloud region ID (for example cn-shanghai)"
                        % actiontrail_region)
    return problems


def credentials_to_check(listed, requested):
    """(the credential IDs to check, the requested ones the directory does not list).

    listed: the IDs of the directory's credentials, or None when no directory_id was given (then no ID is
    a stranger). requested: the credential_ids option (None or a list). The directory's IDs come first;
    a stranger is checked anyway (it may have been deleted since the window began)."""
    requested = list(requested or ())
    strangers = [cid for cid in requested if cid not in listed] if listed is not None else []
    return unique(list(listed or ()) + requested), strangers


# --- the runner ----------------------------------------------------------------------------------------

class UsageInfoRunner(object):
    """Runs the scim_usage_info module on an AlibabaCloudModule: read-only, the same in check mode."""

    def __init__(self, module):
        self.module = module
        self.params = module.params

    def run(self):
        p = self.params
        self.module.fail_on(invalid_ids(p) + option_problems(p)
                            + target_problems(p["directory_id"], p["credential_ids"], p["actiontrail_region"]))
        try:
            since, until = resolve_window(p["since"], p["until"])
        except UsageInputError as error:
            self.module.fail_json(msg=str(error), changed=False)
        region = p["actiontrail_region"] or self.module.region

        listed, sso = None, None
        if p["directory_id"]:
            sso = self.module.client()
            listed = self._list_credentials(sso)
        credential_ids, strangers = credentials_to_check(listed, p["credential_ids"])
        for cid in strangers:
            self.module.warn("%s is not (or no longer) a SCIM credential of %s; it is checked anyway"
                             % (cid, p["directory_id"]))

        result = scan_usage(self.module, credential_ids, since, until, region=region,
                            endpoint_url=p["actiontrail_endpoint_url"],
                            event_names=clean_event_names(p["event_names"]), stop_when_found=p["stop_when_found"],
                            max_pages=p["max_pages"], max_calls_per_second=p["max_calls_per_second"],
                            cloudsso_client=sso, ignore_user_agents=p["ignore_user_agents"])
        result.update(changed=False)
        if p["directory_id"]:
            result["directory_id"] = p["directory_id"]
        self.module.exit_json(**result)

    def _list_credentials(self, sso):
        """The IDs of the directory's credentials (the module fails when CloudSSO does)."""
        try:
            records = CloudSSO(sso).list_credentials(self.params["directory_id"])
        except AlibabaCloudError as error:
            self.module.fail_from(error)
        return [r["credential_id"] for r in records]
