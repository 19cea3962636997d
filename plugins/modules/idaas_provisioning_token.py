#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: idaas_provisioning_token
short_description: Give an Alibaba Cloud IDaaS application a new CloudSSO SCIM token
version_added: 0.1.0
description:
  - Sets the SCIM bearer token and the SCIM base URL of an IDaaS (EIAM) application's account
    synchronization, the application IDaaS uses to push users and groups into CloudSSO.
  - C(SetApplicationProvisioningConfig) replaces the whole configuration, so the module reads it with
    C(GetApplicationProvisioningConfig), changes only C(ScimBaseUrl) and the C(AccessToken) of
    C(AuthnConfiguration), and writes everything else back as it was.
  - The application must already synchronize with SCIM (protocol C(scim2)) and a bearer token (grant type
    C(bearer_token)); otherwise the task fails and changes nothing.
  - The token is never logged or returned.
author:
  - alicloud.cloudsso maintainers (@alicloud-cloudsso)
options:
  instance_id:
    description: The IDaaS EIAM instance, C(idaas_) followed by letters and digits.
    type: str
    required: true
  application_id:
    description: The IDaaS application that synchronizes into CloudSSO, C(app_) followed by letters and digits.
    type: str
    required: true
  token:
    description:
      - The SCIM bearer token (a CloudSSO SCIM credential secret). Never logged.
      - Mutually exclusive with O(token_file); one of them is required.
    type: str
  token_file:
    description:
      - A file holding the token, either a secret file written by M(alicloud.cloudsso.scim_credential) (its
        C(credential_secret) is used) or a plain file holding only the token.
      - Any other file is refused before any network call, without showing its content; it must be a
        regular file of this user (or root), not a symbolic link or a FIFO, and a plain token file holds one
        line of printable ASCII without spaces, at most 16384 characters.
    type: path
    aliases: [secret_file]
  scim_endpoint:
    description:
      - The SCIM base URL to set (C(ScimBaseUrl)), the CloudSSO SCIM endpoint of the directory.
      - Defaults to O(base_url) (its C(/region/<region>/scim/v2)), E(ALIBABA_CLOUD_CLOUDSSO_SCIM_ENDPOINT), then
        C(https://cloudsso-scim-<directory_region>.aliyun.com/scim/v2).
    type: str
  directory_region:
    description:
      - The region of the CloudSSO directory, for the default O(scim_endpoint). O(region) is the region of the
        IDaaS instance, which may be another one.
      - Defaults to O(region).
    type: str
extends_documentation_fragment:
  - alicloud.cloudsso.auth
attributes:
  check_mode:
    support: full
    description: Reads the configuration and predicts RV(ignore:changed); makes no write call.
  diff_mode:
    support: full
    description: Shows the SCIM base URL before and after and whether the token is replaced; never a token.
notes:
  - RV(ignore:changed) is V(true) when the token or the SCIM base URL differ from the saved ones. IDaaS documents
    that C(GetApplicationProvisioningConfig) returns the C(AccessToken) of a bearer-token configuration;
    when it returns none or a masked value (with C(*)), the token cannot be compared, so it is written on
    every run, RV(ignore:changed) is V(true) and RV(token_comparable) is V(false).
  - The saved token read back is treated as a secret (masked in all output).
  - In this module O(endpoint_url) overrides the IDaaS endpoint (C(https://eiam.<region>.aliyuncs.com)),
    default E(ALIBABA_CLOUD_IDAAS_ENDPOINT).
  - RAM permissions used - C(eiam:GetApplicationProvisioningConfig) and C(eiam:SetApplicationProvisioningConfig).
seealso:
  - module: alicloud.cloudsso.scim_credential
  - module: alicloud.cloudsso.entra_provisioning_token
"""

EXAMPLES = r"""
- name: Give IDaaS the new SCIM token
  alicloud.cloudsso.idaas_provisioning_token:
    region: cn-hangzhou
    directory_region: cn-shanghai
    instance_id: idaas_ue2jvisn35ea5lmthk267abcde
    application_id: app_mkv7rgt4d7i4u7zqtzev2mabcd
    token_file: /secure/cloudsso/d-00fc2p61abcd.new.json
"""

RETURN = r"""
instance_id:
  description: The IDaaS instance.
  returned: always
  type: str
  sample: idaas_ue2jvisn35ea5lmthk267abcde
application_id:
  description: The IDaaS application.
  returned: always
  type: str
  sample: app_mkv7rgt4d7i4u7zqtzev2mabcd
scim_endpoint:
  description: The SCIM base URL set.
  returned: always
  type: str
  sample: https://cloudsso-scim-cn-shanghai.aliyun.com/scim/v2
previous_scim_endpoint:
  description: The SCIM base URL found.
  returned: always
  type: str
  sample: https://cloudsso-scim-cn-shanghai.aliyun.com/scim/v2
token_changed:
  description: Whether the token differs from the saved one; null when the saved token cannot be read back.
  returned: always
  type: bool
  sample: true
token_comparable:
  description: Whether IDaaS returned the saved token, so that it could be compared.
  returned: always
  type: bool
  sample: true
scim_endpoint_changed:
  description: Whether the SCIM base URL differs from the saved one.
  returned: always
  type: bool
  sample: false
provisioning_status:
  description:
    - Whether account synchronization is V(enabled) or V(disabled) for the application (this module does not
      change it).
  returned: always
  type: str
  sample: enabled
api_calls:
  description: HTTP requests this run made to Alibaba Cloud APIs, retries included.
  returned: always
  type: int
  sample: 2
"""

from ansible_collections.alicloud.cloudsso.plugins.module_utils.idaas import IDaaSTokenRunner
from ansible_collections.alicloud.cloudsso.plugins.module_utils.module import AlibabaCloudModule


def main():
    module = AlibabaCloudModule(
        argument_spec=dict(
            instance_id=dict(type="str", required=True),
            application_id=dict(type="str", required=True),
            token=dict(type="str", no_log=True),
            token_file=dict(type="path", aliases=["secret_file"], no_log=False),
            scim_endpoint=dict(type="str"),
            directory_region=dict(type="str"),
        ),
        product="eiam",
        mutually_exclusive=[("token", "token_file")],
        required_one_of=[("token", "token_file")],
        supports_check_mode=True,
    )
    IDaaSTokenRunner(module).run()


if __name__ == "__main__":
    main()
