#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: scim_token_check
short_description: Check whether CloudSSO's SCIM endpoint accepts a SCIM bearer token
version_added: 0.1.0
description:
  - Calls C(GET <scim_endpoint>/Users?count=1) with the token, as an identity provider would, and reports
    whether the token authenticated. Discovery endpoints such as C(/ServiceProviderConfig) may not need
    authentication, so the probe reads users.
  - Proves that a new credential works before an identity provider is given it, and that a disabled
    credential is rejected.
  - HTTP 401 and 403 mean V(rejected) (CloudSSO's exact status for a bad token is undocumented).
    Throttling and server errors are retried; any other answer fails the task.
  - Read-only; the token is never logged or returned.
author:
  - alicloud.cloudsso maintainers (@alicloud-cloudsso)
options:
  token:
    description:
      - The bearer token (a SCIM credential secret). Never logged.
      - Mutually exclusive with O(token_file); one of them is required.
    type: str
  token_file:
    description:
      - A file holding the token, either a secret file written by M(alicloud.cloudsso.scim_credential)
        (its C(credential_secret) is used) or a plain file holding only the token.
      - Any other file is refused before any network call, without showing its content; it must be a
        regular file of this user (or root), not a symbolic link or a FIFO, and a plain token file holds one
        line of printable ASCII without spaces, at most 16384 characters.
      - Reading the token from a file keeps it out of Ansible variables.
    type: path
    aliases: [secret_file]
  expect:
    description:
      - V(accepted) fails the task when the token is rejected; V(rejected) fails it when the token works
        (for example a credential that was just disabled). V(any) only reports.
    type: str
    choices: [accepted, rejected, any]
    default: any
  scim_endpoint:
    description:
      - The SCIM base URL.
      - Defaults to O(base_url) (its C(/region/<region>/scim/v2)), E(ALIBABA_CLOUD_CLOUDSSO_SCIM_ENDPOINT), then
        C(https://cloudsso-scim-<region>.aliyun.com/scim/v2). V({region}) is replaced with O(region).
    type: str
extends_documentation_fragment:
  - alicloud.cloudsso.auth
  - alicloud.cloudsso.attributes.read_only
notes:
  - The Alibaba Cloud credential options are accepted so that C(module_defaults) for the action group
    applies, but only O(region), O(validate_certs), O(timeout) and O(max_retries) are used; the SCIM
    endpoint authenticates with the token alone.
seealso:
  - module: alicloud.cloudsso.scim_credential
"""

EXAMPLES = r"""
- name: The new credential must work before it goes to the identity provider
  alicloud.cloudsso.scim_token_check:
    region: cn-shanghai
    token_file: /secure/cloudsso/d-00fc2p61abcd.new.json
    expect: accepted

- name: The disabled credential must be rejected
  alicloud.cloudsso.scim_token_check:
    region: cn-shanghai
    token_file: /secure/cloudsso/d-00fc2p61abcd.old.json
    expect: rejected
  register: old_token
"""

RETURN = r"""
authenticated:
  description: Whether the SCIM endpoint accepted the token.
  returned: always
  type: bool
  sample: true
status:
  description: The HTTP status of the probe.
  returned: always
  type: int
  sample: 200
detail:
  description: The SCIM error detail when the token was rejected.
  returned: when the token was rejected
  type: str
  sample: Invalid credentials
scim_endpoint:
  description: The SCIM base URL that was probed.
  returned: always
  type: str
  sample: https://cloudsso-scim-cn-shanghai.aliyun.com/scim/v2
credential_id:
  description: The credential ID, when O(token_file) is a secret file that names it.
  returned: when known
  type: str
  sample: scimcred-004whmnsa1rxe8abcdef
attempts:
  description: HTTP requests made, retries included.
  returned: always
  type: int
  sample: 1
"""

from ansible_collections.alicloud.cloudsso.plugins.module_utils.module import AlibabaCloudModule
from ansible_collections.alicloud.cloudsso.plugins.module_utils.scim import ScimTokenCheckRunner


def main():
    module = AlibabaCloudModule(
        argument_spec=dict(
            token=dict(type="str", no_log=True),
            token_file=dict(type="path", aliases=["secret_file"], no_log=False),
            expect=dict(type="str", default="any", choices=["accepted", "rejected", "any"]),
            scim_endpoint=dict(type="str"),
        ),
        mutually_exclusive=[("token", "token_file")],
        required_one_of=[("token", "token_file")],
        supports_check_mode=True,
    )
    ScimTokenCheckRunner(module).run()


if __name__ == "__main__":
    main()
