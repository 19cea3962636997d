#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: entra_provisioning_info
short_description: Read the status of a Microsoft Entra ID provisioning job, and check its saved token
version_added: 0.1.0
description:
  - Reads an enterprise application's provisioning (synchronization) job through Microsoft Graph, its
    status code (C(NotConfigured), C(NotRun), C(Active), C(Paused), C(Quarantine)), its last execution
    (state, begin and end times, error) and its quarantine (reason, times, error).
  - With O(validate_saved=true), asks Entra ID to authenticate to the SCIM endpoint with the saved token
    (C(validateCredentials) with C(useSavedCredentials)). Once the old CloudSSO credential is disabled, a
    valid saved token can only be the new one.
  - Read-only.
author:
  - alicloud.cloudsso maintainers (@alicloud-cloudsso)
options:
  validate_saved:
    description:
      - Validate the saved Tenant URL and token, and return RV(saved_token_valid).
    type: bool
    default: false
extends_documentation_fragment:
  - alicloud.cloudsso.entra
  - alicloud.cloudsso.auth
  - alicloud.cloudsso.attributes.read_only
notes:
  - A job in C(Quarantine) with reason C(EncounteredQuarantineException) usually means the saved token
    was rejected (a disabled or deleted CloudSSO credential). Save a working token and clear the quarantine
    with M(alicloud.cloudsso.entra_provisioning_job).
seealso:
  - module: alicloud.cloudsso.entra_provisioning_token
  - module: alicloud.cloudsso.entra_provisioning_job
"""

EXAMPLES = r"""
- name: Is the job healthy, and does the saved token work?
  alicloud.cloudsso.entra_provisioning_info:
    service_principal_id: 5a1c7d0e-9b2f-4a4c-8e3d-6f7a8b9c0d1e
    validate_saved: true
  register: entra

- name: Fail when the job is quarantined or the saved token is rejected
  ansible.builtin.assert:
    that:
      - not entra.job.quarantined
      - entra.saved_token_valid
    fail_msg: "Entra provisioning: {{ entra.job.code }} {{ entra.job.quarantine.reason | default('') }}"
"""

RETURN = r"""
service_principal_id:
  description: The enterprise application.
  returned: always
  type: str
  sample: 5a1c7d0e-9b2f-4a4c-8e3d-6f7a8b9c0d1e
job:
  description: The provisioning job.
  returned: always
  type: dict
  contains:
    job_id:
      description: The job ID.
      type: str
      sample: customappsso.6f1e2d3c4b5a69788796a5b4c3d2e1f0.8a7b6c5d-4e3f-2a1b-0c9d-8e7f6a5b4c3d
    template_id:
      description: The synchronization template.
      type: str
      sample: customappsso
    schedule:
      description: C(interval) (ISO 8601 duration), C(state) and C(expiration) of the job's schedule.
      type: dict
      sample: {interval: PT40M, state: Active, expiration: null}
    code:
      description: V(NotConfigured), V(NotRun), V(Active), V(Paused) or V(Quarantine).
      type: str
      sample: Active
    quarantined:
      description: Whether the job is in quarantine.
      type: bool
      sample: false
    count_successive_complete_failures:
      description: How many executions in a row failed completely.
      type: int
      sample: 0
    last_execution:
      description:
        - The last execution, C(state) (V(Succeeded), V(Failed), V(EntryLevelErrors)), C(time_began),
          C(time_ended) (ISO 8601, UTC), C(activity_identifier), C(count_exported), C(count_imported) and
          C(error) (C(code), C(message)); null before the first one.
      type: dict
      sample: {state: Succeeded, time_began: "2026-01-04T08:00:00Z", time_ended: "2026-01-04T08:00:04Z", error: null}
    last_successful_execution:
      description: The last execution without errors, same keys as C(last_execution).
      type: dict
    steady_state_last_achieved_time:
      description: When the job last reached steady state.
      type: str
    quarantine:
      description:
        - The quarantine, or null. C(reason) (for example V(EncounteredQuarantineException)),
          C(current_began), C(next_attempt), C(series_began), C(series_count), C(error) (C(code), C(message)).
      type: dict
saved_token_valid:
  description: Whether Entra ID authenticated to the SCIM endpoint with the saved Tenant URL and token.
  returned: when O(validate_saved=true)
  type: bool
  sample: true
validation:
  description: Entra ID's reason when the saved token did not validate (scrubbed of secrets).
  returned: when O(validate_saved=true) and the validation failed
  type: dict
  contains:
    code:
      description: Graph's error code.
      type: str
    message:
      description: Graph's message.
      type: str
base_address:
  description: The saved Tenant URL, when Graph returns it.
  returned: when O(validate_saved=true) and Graph returns it
  type: str
  sample: https://cloudsso-scim-cn-shanghai.aliyun.com/scim/v2
graph_calls:
  description: HTTP requests made to Microsoft Graph and the login endpoint, retries included.
  returned: always
  type: int
  sample: 3
"""

from ansible_collections.alicloud.cloudsso.plugins.module_utils.entra.module import (
    EntraInfoRunner,
    entra_argument_spec,
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.module import AlibabaCloudModule


def main():
    spec = entra_argument_spec()
    spec.update(validate_saved=dict(type="bool", default=False))
    module = AlibabaCloudModule(argument_spec=spec, supports_check_mode=True)
    EntraInfoRunner(module).run()


if __name__ == "__main__":
    main()
