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

from ansible_collections.alicloud.cloudsso.plugins.module_utils.endpoints import is_valid_region
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import AlibabaCloudError
from ansible_collections.alicloud.cloudsso.plugins.module_utils.graph import read_candidate_token
from ansible_collections.alicloud.cloudsso.plugins.module_utils.idaas import (
    IDaaS,
    IDaaSConfigError,
    invalid_idaas_ids,
    plan_token_update,
    secrets_in,
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.module import AlibabaCloudModule
from ansible_collections.alicloud.cloudsso.plugins.module_utils.secret_file import SecretFileError


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
    p = module.params
    problems = invalid_idaas_ids(p)
    if p["directory_region"] is not None and not is_valid_region(p["directory_region"]):
        problems.append("directory_region %r is not a valid Alibaba Cloud region ID (for example cn-shanghai)"
                        % p["directory_region"])
    module.fail_on(problems)
    try:
        token, _metadata = read_candidate_token(p, module.register_secret)
    except SecretFileError as error:
        module.fail_json(msg=str(error), changed=False)
    base_url = module.scim_endpoint(p["scim_endpoint"], region=p["directory_region"])

    api = IDaaS(module.client())
    result = dict(changed=False, instance_id=p["instance_id"], application_id=p["application_id"],
                  scim_endpoint=base_url)
    try:
        config = api.get_provisioning_config(p["instance_id"], p["application_id"])
        for secret in secrets_in(config):
            module.register_secret(secret)
        try:
            request, changes = plan_token_update(config, base_url, token)
        except IDaaSConfigError as error:
            module.fail_json(msg=str(error), **result)
        result.update(
            previous_scim_endpoint=changes["previous_scim_endpoint"],
            token_changed=changes["token_changed"],
            token_comparable=changes["token_changed"] is not None,
            scim_endpoint_changed=changes["scim_endpoint_changed"],
            provisioning_status=config.get("Status"),
        )
        result["changed"] = changes["token_changed"] is not False or changes["scim_endpoint_changed"]
        if result["changed"] and not module.check_mode:
            api.set_provisioning_config(p["instance_id"], p["application_id"], request)
    except AlibabaCloudError as error:
        module.fail_from(error, **result)

    if module.diff_mode:
        token_note = {True: "(replaced)", False: "(unchanged)", None: "(written; the saved one cannot be read)"}
        result["diff"] = dict(
            before=dict(scim_base_url=result["previous_scim_endpoint"], access_token="(hidden)"),
            after=dict(scim_base_url=base_url, access_token=token_note[result["token_changed"]]))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
