#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: scim_rotation_plan
short_description: Decide where a SCIM credential rotation starts or resumes
version_added: 0.1.0
description:
  - Reads a CloudSSO directory's SCIM credentials, the rotation's pending secret file and, when needed,
    ActionTrail evidence of which credential the identity provider calls with, and decides the next step of
    a rotation. It is the first step of the C(alicloud.cloudsso.scim_rotation) role and is useful on its own
    as a dry run.
  - Read-only. The pending secret file's secret is never read into the result.
  - The I(current) credential is the one the identity provider holds; the I(pending) one is the new
    credential the rotation creates (its secret is in O(pending_secret_file)). Nothing is stored
    elsewhere, so a run on another controller, without the pending file, still resumes from what CloudSSO and
    ActionTrail show.
  - RV(plan.action) is V(none) (not due), V(rotate) (create a new credential and go through every step),
    V(configure) (a pending credential exists and its secret is known, give it to the identity provider),
    V(disable) (the identity provider already calls with the pending credential, disable the current one),
    V(verify) (the current one is disabled, verify and delete it) or V(stop) (a state the rotation must not
    touch; RV(plan.reason) says why and what to do). RV(plan.steps) lists the steps a run carries out, in
    order.
  - With O(settings), the module only checks the settings a caller names (the role checks its variables so,
    before it takes its lock) and makes no API call. It runs in check mode too, and RV(check_mode) tells
    whether it did.
author:
  - alicloud.cloudsso maintainers (@alicloud-cloudsso)
options:
  directory_id:
    description:
      - ID of the CloudSSO directory.
    type: str
    required: true
  pending_secret_file:
    description:
      - The secret file of the rotation's new credential, as M(alicloud.cloudsso.scim_credential) writes it.
        It need not exist.
    type: path
  min_age_days:
    description:
      - Rotate the credential in use when it is at least this many days old.
    type: int
    default: 180
  expiring_within_days:
    description:
      - Rotate the credential in use when it expires within this many days.
    type: int
    default: 90
  force:
    description:
      - Rotate even when not due; create a credential when the directory has no Enabled one.
    type: bool
    default: false
  prune_disabled:
    description:
      - Plan to delete Disabled credentials that ActionTrail shows unused (conclusively) in O(usage_window).
    type: bool
    default: true
  orphan_grace_minutes:
    description:
      - An Enabled credential whose secret is unknown here and that ActionTrail shows unused is planned for
        deletion only when it is older than this. A younger one may belong to a rotation running elsewhere
        (or to a manual hand-off a person has not done yet), so the plan stops instead.
      - Default 120, or 10080 (7 days) with O(handoff=true).
    type: int
  handoff:
    description:
      - A person (or another system) gives the identity provider the token, as the role's manual hand-off
        does. A resume at V(disable) then does not list the V(configure) step, and O(orphan_grace_minutes)
        defaults to 7 days.
    type: bool
    default: false
  usage_window:
    description:
      - How far back ActionTrail is searched for SCIM calls (C(30m), C(24h), C(7d); at most 90 days). It
        must cover at least one synchronization cycle of the identity provider (Microsoft Entra ID runs one
        about every 40 minutes).
    type: str
    default: 24h
  use_actiontrail:
    description:
      - Search ActionTrail when the plan depends on which credential is in use (two credentials, or a
        pending one). Without it, such cases stop.
    type: bool
    default: true
  actiontrail_region:
    description:
      - Region whose ActionTrail holds the SCIM events. Defaults to the directory's region.
    type: str
  secret_files:
    description:
      - Secret files (as M(alicloud.cloudsso.scim_credential) writes them) to match with the directory's
        credentials, for example the file a previous rotation kept. RV(secret_files_by_credential) tells which
        file holds which credential; their secrets are never read into the result.
      - Files that do not exist, or do not hold a credential ID, are ignored.
    type: list
    elements: path
    default: []
  settings:
    description:
      - Only check these settings, named as the caller knows them, and plan nothing. Each fails with a message
        that names it. An empty value passes (not set), except with O(settings[].kind=directory_id).
    type: list
    elements: dict
    suboptions:
      name:
        description: The setting's name in messages, for example C(scim_rotation_entra.service_principal_id).
        type: str
        required: true
      value:
        description: Its value.
        type: raw
      kind:
        description:
          - V(directory_id), V(region), V(guid), V(idaas_instance_id), V(idaas_application_id), V(url) (an
            http(s) URL), V(endpoint) (refused when it is plain http to a host other than this machine) or
            V(writable_folder) (an absolute path to a folder, or a link to one, that exists and that this user
            may write in; it is only looked at, never made or changed).
        type: str
        required: true
        choices: [directory_id, endpoint, guid, idaas_application_id, idaas_instance_id, region, url,
                  writable_folder]
      hint:
        description: Said after the problem, for example what the value should be.
        type: str
extends_documentation_fragment:
  - alicloud.cloudsso.auth
  - alicloud.cloudsso.attributes.read_only
notes:
  - RAM permissions used - C(cloudsso:ListSCIMServerCredentials) and, when evidence is needed,
    C(actiontrail:LookupEvents).
seealso:
  - module: alicloud.cloudsso.scim_usage_info
  - module: alicloud.cloudsso.scim_credential
"""

EXAMPLES = r"""
- name: What would a rotation do now?
  alicloud.cloudsso.scim_rotation_plan:
    directory_id: d-00fc2p61abcd
    region: cn-shanghai
    pending_secret_file: /secure/cloudsso/d-00fc2p61abcd/pending.json
  register: rotation

- name: Show it
  ansible.builtin.debug:
    msg: "{{ rotation.plan.action }}: {{ rotation.plan.due_reason or rotation.plan.reason }}, steps {{ rotation.plan.steps }}"

- name: Check settings before anything else, each named as the playbook names it
  alicloud.cloudsso.scim_rotation_plan:
    directory_id: "{{ directory }}"
    settings:
      - {name: directory, value: "{{ directory }}", kind: directory_id}
      - {name: entra_app.service_principal_id, value: "{{ entra_app.service_principal_id }}", kind: guid}
"""

RETURN = r"""
plan:
  description: The decision.
  returned: unless O(settings) is given
  type: dict
  contains:
    action:
      description: V(none), V(rotate), V(configure), V(disable), V(verify) or V(stop).
      type: str
      sample: rotate
    reason:
      description: Why the plan stops (empty otherwise).
      type: str
      sample: ""
    due:
      description: Whether a rotation is due (or being resumed).
      type: bool
      sample: true
    due_reason:
      description: Why it is due or not.
      type: str
      sample: expires in 35 days (threshold 90)
    current_credential_id:
      description: The credential the identity provider holds now, or V(null).
      type: str
      sample: scimcred-004whmnsa1rxe8abcdef
    pending_credential_id:
      description: The new credential of a rotation in progress, or V(null).
      type: str
      sample: null
    current_credential:
      description: The current credential's record (as M(alicloud.cloudsso.scim_credential_info) returns it).
      type: dict
      sample: {}
    pending_credential:
      description: The pending credential's record.
      type: dict
      sample: null
    prune:
      description: Disabled credentials, proven unused, to delete before anything else.
      type: list
      elements: str
      sample: []
    orphans:
      description: Enabled credentials whose secret is unknown and that are proven unused, to delete.
      type: list
      elements: str
      sample: []
    stale_pending_file:
      description: The pending secret file names a credential that no longer exists.
      type: bool
      sample: false
    notes:
      description: Observations worth reporting.
      type: list
      elements: str
      sample: []
    changes_planned:
      description: Whether carrying out the plan changes anything.
      type: bool
      sample: true
    pending_secret_known:
      description: Whether O(pending_secret_file) holds the pending credential's secret.
      type: bool
      sample: false
    steps:
      description:
        - The steps a run carries out, in this order - V(prune) (delete what the plan proved unused),
          V(create) (the new credential, probed), V(configure) (give it to the identity provider), V(disable)
          (the current credential), V(verify) (the switch), V(delete) (the current credential), V(finish).
          Empty when the plan stops.
      type: list
      elements: str
      sample: [create, configure, disable, verify, delete, finish]
credentials:
  description: The directory's credentials, oldest first.
  returned: unless O(settings) is given
  type: list
  elements: dict
  sample: []
usage:
  description:
    - The ActionTrail evidence the plan used, as M(alicloud.cloudsso.scim_usage_info) returns it; V(null)
      when no evidence was needed.
  returned: unless O(settings) is given
  type: dict
  sample: null
secret_files_by_credential:
  description: For each credential of the directory that one of O(secret_files) holds, the file's path.
  returned: unless O(settings) is given
  type: dict
  sample: {"scimcred-004whmnsa1rxe8abcdef": "/secure/cloudsso/d-00fc2p61abcd.json"}
scim_endpoint:
  description: The SCIM base URL of the directory's region.
  returned: unless O(settings) is given
  type: str
  sample: https://cloudsso-scim-cn-shanghai.aliyun.com/scim/v2
problems:
  description: With O(settings), the message of every setting that fails its check.
  returned: when O(settings) is given
  type: list
  elements: str
  sample: ["entra_app.service_principal_id 'nope' is not a GUID"]
check_mode:
  description:
    - Whether the module ran in check mode. A role learns so even under C(check_mode) on a block or on
      C(include_role)'s C(apply), where C(ansible_check_mode) stays V(false).
  returned: when O(settings) is given
  type: bool
  sample: false
api_calls:
  description: HTTP requests this run made to Alibaba Cloud APIs, retries included.
  returned: always
  type: int
  sample: 3
"""

from ansible_collections.alicloud.cloudsso.plugins.module_utils.module import AlibabaCloudModule
from ansible_collections.alicloud.cloudsso.plugins.module_utils.rotation_plan import ScimRotationPlanRunner
from ansible_collections.alicloud.cloudsso.plugins.module_utils.rotation_settings import KINDS


def main():
    module = AlibabaCloudModule(
        argument_spec=dict(
            directory_id=dict(type="str", required=True),
            pending_secret_file=dict(type="path", no_log=False),
            min_age_days=dict(type="int", default=180),
            expiring_within_days=dict(type="int", default=90),
            force=dict(type="bool", default=False),
            prune_disabled=dict(type="bool", default=True),
            orphan_grace_minutes=dict(type="int"),
            handoff=dict(type="bool", default=False),
            usage_window=dict(type="str", default="24h"),
            use_actiontrail=dict(type="bool", default=True),
            actiontrail_region=dict(type="str"),
            secret_files=dict(type="list", elements="path", default=[], no_log=False),
            settings=dict(type="list", elements="dict", options=dict(
                name=dict(type="str", required=True),
                value=dict(type="raw"),
                kind=dict(type="str", required=True, choices=sorted(KINDS)),
                hint=dict(type="str"),
            )),
        ),
        supports_check_mode=True,
    )
    ScimRotationPlanRunner(module).run()


if __name__ == "__main__":
    main()
