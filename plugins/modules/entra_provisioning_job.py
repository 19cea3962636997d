#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: entra_provisioning_job
short_description: Clear the quarantine of a Microsoft Entra ID provisioning job, or provision a canary user now
version_added: 0.1.0
description:
  - With O(state=started), starts an enterprise application's provisioning job through Microsoft Graph
    (C(start)) when, and only when, it is C(Paused) or in C(Quarantine). That clears the quarantine a
    rejected token caused, once a working token is saved. It never calls C(restart), which would force a
    slow full synchronization.
  - With O(provision_on_demand), provisions one user (or group) now (C(provisionOnDemand)). Only an outcome
    that needed a successful call to the SCIM endpoint proves that Entra ID authenticated with the saved
    token, that is C(Success), or C(Skipped) after Entra ID read the object from the target (for example
    C(RedundantExport), already up to date). A C(Skipped) decided before the target is called (for example
    C(NotEffectivelyEntitled), the object is out of the provisioning scope) proves nothing, so the task warns
    so and asks Entra ID to validate the saved credentials (C(validateCredentials)) instead, failing when
    that fails. Any other result fails the task with the provisioning steps.
  - With O(wait=true), waits until a synchronization cycle that began after the task started has ended,
    and fails if the job goes back into quarantine.
author:
  - alicloud.cloudsso maintainers (@alicloud-cloudsso)
options:
  state:
    description:
      - V(started) starts the job when it is C(Paused) or in C(Quarantine); a job that is C(Active),
        C(NotRun) or C(NotConfigured) is left alone.
      - When not given, the job is not started.
    type: str
    choices: [started]
  provision_on_demand:
    description:
      - Provision one object now, as a canary. Entra ID allows 5 such calls per 10 seconds; throttled calls
        are retried after the C(Retry-After) it asks for.
    type: dict
    suboptions:
      object_id:
        description: The object ID of the Entra ID user (or group) to provision. It must be assigned to the application.
        type: str
        required: true
      object_type:
        description: V(User) or V(Group).
        type: str
        choices: [User, Group]
        default: User
      rule_id:
        description:
          - The synchronization rule to apply. When not given, the job's schema is read and its only rule
            (or its only rule whose source is Entra ID) is used.
        type: str
  wait:
    description:
      - Wait for a synchronization cycle that begins after the task started to end. Fails when the job is
        quarantined again (the saved token is rejected) or O(wait_timeout) passes.
      - Real Entra ID runs cycles about every 40 minutes; after C(start) one runs soon.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait at most.
    type: int
    default: 900
  poll_interval:
    description: Seconds between two reads of the job while waiting.
    type: int
    default: 15
extends_documentation_fragment:
  - alicloud.cloudsso.entra
  - alicloud.cloudsso.auth
attributes:
  check_mode:
    support: full
    description:
      - Reads the job and predicts RV(ignore:changed); makes no C(start) and no C(provisionOnDemand) call and does
        not wait.
  diff_mode:
    support: full
    description: Shows the job's status code before and after.
notes:
  - RV(ignore:changed) is V(true) when the job was started (it was C(Paused) or in C(Quarantine)), or when an
    on-demand provisioning exported the object (result C(Success), so the user may have been created or
    updated in CloudSSO). It is V(false) when the job was left alone and the on-demand result was
    C(Skipped).
  - Choose a canary that is in the provisioning scope (assigned to the application, unless the scope is
    all users and groups); an out-of-scope canary is C(Skipped) with C(NotEffectivelyEntitled) and only
    the fallback validation proves the token.
seealso:
  - module: alicloud.cloudsso.entra_provisioning_token
  - module: alicloud.cloudsso.entra_provisioning_info
"""

EXAMPLES = r"""
- name: Clear the quarantine once the new token is saved, and wait for a good cycle
  alicloud.cloudsso.entra_provisioning_job:
    service_principal_id: 5a1c7d0e-9b2f-4a4c-8e3d-6f7a8b9c0d1e
    state: started
    wait: true
    wait_timeout: 1800

- name: Prove the saved token works by provisioning a canary user now
  alicloud.cloudsso.entra_provisioning_job:
    service_principal_id: 5a1c7d0e-9b2f-4a4c-8e3d-6f7a8b9c0d1e
    provision_on_demand:
      object_id: 2b3c4d5e-6f70-4a1b-9c2d-3e4f5a6b7c8d
  register: canary

- ansible.builtin.debug:
    msg: "Canary provisioning: {{ canary.provisioning.status }}"
"""

RETURN = r"""
service_principal_id:
  description: The enterprise application.
  returned: always
  type: str
  sample: 5a1c7d0e-9b2f-4a4c-8e3d-6f7a8b9c0d1e
job_id:
  description: The provisioning job.
  returned: always
  type: str
  sample: customappsso.6f1e2d3c4b5a69788796a5b4c3d2e1f0.8a7b6c5d-4e3f-2a1b-0c9d-8e7f6a5b4c3d
started:
  description: Whether C(start) was called (false in check mode).
  returned: always
  type: bool
  sample: true
status_before:
  description: The job's status code when the task began.
  returned: always
  type: str
  sample: Quarantine
job:
  description: The job when the task ended, as M(alicloud.cloudsso.entra_provisioning_info) returns it.
  returned: always
  type: dict
  sample: {job_id: customappsso.6f1e..., code: Active, quarantined: false, quarantine: null}
provisioning:
  description: The on-demand provisioning outcome.
  returned: when O(provision_on_demand) is given and not in check mode
  type: dict
  contains:
    status:
      description: Entra ID's result, for example V(Success), V(Skipped), V(Failure).
      type: str
      sample: Success
    authenticated:
      description:
        - Whether the result proves Entra ID authenticated with the saved token (V(Success), or V(Skipped)
          after a step that reached the target).
        - V(false) for a V(Skipped) decided before the target was called (see RV(saved_token_valid)).
      type: bool
      sample: true
    reason:
      description: Entra ID's error or skip code, for example V(RedundantExport) or V(NotEffectivelyEntitled).
      type: str
      sample: RedundantExport
    message:
      description: Entra ID's message for the result, scrubbed of secrets.
      type: str
    steps:
      description: The provisioning steps, C(name), C(type), C(status), C(description).
      type: list
      elements: dict
    rule_id:
      description: The synchronization rule applied.
      type: str
      sample: 03f7d90d-bf71-41b1-bda6-aaf0ddbee5d8
    object_id:
      description: The object provisioned.
      type: str
saved_token_valid:
  description:
    - Whether Entra ID authenticated with the saved token when asked to validate it (C(validateCredentials)),
      the fallback when the on-demand result was C(Skipped) before the target was called.
  returned: when the on-demand result did not prove the token and was V(Skipped)
  type: bool
  sample: true
waited_seconds:
  description: How long the task waited for a cycle.
  returned: when O(wait=true) and not in check mode
  type: float
  sample: 42.5
graph_calls:
  description: HTTP requests made to Microsoft Graph and the login endpoint, retries included.
  returned: always
  type: int
  sample: 4
"""

from ansible_collections.alicloud.cloudsso.plugins.module_utils.entra.module import (
    EntraJobRunner,
    entra_argument_spec,
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.module import AlibabaCloudModule


def main():
    spec = entra_argument_spec()
    spec.update(
        state=dict(type="str", choices=["started"]),
        provision_on_demand=dict(type="dict", options=dict(
            object_id=dict(type="str", required=True),
            object_type=dict(type="str", choices=["User", "Group"], default="User"),
            rule_id=dict(type="str"),
        )),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=900),
        poll_interval=dict(type="int", default=15),
    )
    module = AlibabaCloudModule(argument_spec=spec, supports_check_mode=True,
                                required_one_of=[("state", "provision_on_demand", "wait")])
    EntraJobRunner(module).run()


if __name__ == "__main__":
    main()
