#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: scim_credential_info
short_description: List the SCIM credentials of a CloudSSO directory, with age and expiry
version_added: 0.1.0
description:
  - Lists the SCIM credentials of an Alibaba Cloud CloudSSO directory with their status, age and days to
    expiry, the directory's SCIM synchronization status, the limit of credentials per directory and the
    SCIM endpoint URL an identity provider uses.
  - Read-only. Never returns a secret (CloudSSO shows a secret only when it creates the credential).
  - Two API calls, C(ListSCIMServerCredentials) and C(GetSCIMSynchronizationStatus).
author:
  - alicloud.cloudsso maintainers (@alicloud-cloudsso)
options:
  directory_id:
    description:
      - ID of the CloudSSO directory, C(d-) followed by 12 letters or digits.
    type: str
    required: true
  credential_id:
    description:
      - Return only this credential. An unknown ID gives an empty RV(credentials) list.
    type: str
  scim_endpoint:
    description:
      - The SCIM base URL to report in RV(scim_endpoint).
      - Defaults to O(base_url) (its C(/region/<region>/scim/v2)), E(ALIBABA_CLOUD_CLOUDSSO_SCIM_ENDPOINT), then
        C(https://cloudsso-scim-<region>.aliyun.com/scim/v2). V({region}) is replaced with the region.
    type: str
extends_documentation_fragment:
  - alicloud.cloudsso.auth
  - alicloud.cloudsso.attributes.read_only
notes:
  - RAM permissions used - C(cloudsso:ListSCIMServerCredentials) and C(cloudsso:GetSCIMSynchronizationStatus).
seealso:
  - module: alicloud.cloudsso.scim_credential
  - module: alicloud.cloudsso.scim_usage_info
"""

EXAMPLES = r"""
- name: Read the credentials of a directory
  alicloud.cloudsso.scim_credential_info:
    directory_id: d-00fc2p61abcd
    region: cn-shanghai
  register: scim

- name: Fail when a credential expires within 30 days
  ansible.builtin.assert:
    that: scim.credentials | selectattr('expires_in_days', 'lt', 30) | list | length == 0
    fail_msg: "A SCIM credential of {{ scim.directory_id }} expires within 30 days: rotate it."

- name: Show the SCIM endpoint to configure in the identity provider
  ansible.builtin.debug:
    msg: "Tenant URL: {{ scim.scim_endpoint }}"
"""

RETURN = r"""
credentials:
  description: The directory's credentials, oldest first.
  returned: always
  type: list
  elements: dict
  contains:
    credential_id:
      description: Credential ID.
      type: str
      sample: scimcred-004whmnsa1rxe8abcdef
    credential_type:
      description: Credential type.
      type: str
      sample: BearerToken
    status:
      description: V(Enabled) or V(Disabled).
      type: str
      sample: Enabled
    create_time:
      description: Creation time, UTC.
      type: str
      sample: "2026-01-04T08:00:00Z"
    expire_time:
      description: Expiry time, UTC.
      type: str
      sample: "2027-01-04T08:00:00Z"
    directory_id:
      description: Directory ID.
      type: str
      sample: d-00fc2p61abcd
    age_days:
      description: Whole days since creation.
      type: int
      sample: 329
    expires_in_days:
      description: Whole days until expiry; negative once expired.
      type: int
      sample: 35
directory_id:
  description: The directory.
  returned: always
  type: str
  sample: d-00fc2p61abcd
scim_synchronization_status:
  description: Whether SCIM synchronization is V(Enabled) or V(Disabled) for the directory.
  returned: always
  type: str
  sample: Enabled
credential_limit:
  description: The most SCIM credentials a directory can hold.
  returned: always
  type: int
  sample: 2
scim_endpoint:
  description: The SCIM base URL identity providers call for this directory's region.
  returned: always
  type: str
  sample: https://cloudsso-scim-cn-shanghai.aliyun.com/scim/v2
api_calls:
  description: HTTP requests this run made to Alibaba Cloud APIs, retries included.
  returned: always
  type: int
  sample: 2
"""

from ansible_collections.alicloud.cloudsso.plugins.module_utils.credential_runner import ScimCredentialInfoRunner
from ansible_collections.alicloud.cloudsso.plugins.module_utils.module import AlibabaCloudModule


def main():
    module = AlibabaCloudModule(
        argument_spec=dict(
            directory_id=dict(type="str", required=True),
            credential_id=dict(type="str"),
            scim_endpoint=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    ScimCredentialInfoRunner(module).run()


if __name__ == "__main__":
    main()
