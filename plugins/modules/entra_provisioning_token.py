#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: entra_provisioning_token
short_description: Give a Microsoft Entra ID provisioning job a new CloudSSO SCIM token
version_added: 0.1.0
description:
  - Saves the Tenant URL (C(BaseAddress)) and the secret token (C(SecretToken)) of an enterprise
    application's provisioning job in Microsoft Entra ID, through Microsoft Graph, always both together.
  - With O(validate=true) (the default) Entra ID first checks the candidate token against the SCIM endpoint
    (C(validateCredentials)); when Entra ID cannot authenticate with it, nothing is saved and the task fails
    with Entra ID's reason. After saving, the saved token is validated too.
  - The saved token cannot be read back, so whether it is already set is decided from the credential's
    state. When the token comes with its CloudSSO credential ID (O(token_file) is a secret file written by
    M(alicloud.cloudsso.scim_credential), or O(credential_id) and O(directory_id) are given), that
    credential is the directory's only B(Enabled) credential, the saved Tenant URL (when Graph returns it)
    is O(scim_endpoint), and Entra ID authenticates with the saved token, then the saved token can only be
    this one and nothing is written. In every other case the token is saved.
  - The same list of synchronization secrets holds the provisioning scope (C(SyncAll)) and the
    notification settings (C(SyncNotificationSettings)), and saving replaces the whole list. A rotation
    never changes them; they are read back and saved as they are, or taken from O(sync_all) and
    O(sync_notification_settings). When Graph does not return the saved list and they are not given, the
    task fails before anything is written.
  - The token and the client credentials are never logged or returned.
author:
  - alicloud.cloudsso maintainers (@alicloud-cloudsso)
options:
  token:
    description:
      - The SCIM bearer token (a CloudSSO SCIM credential secret). Never logged.
      - Mutually exclusive with O(token_file); one of them is required.
    type: str
  token_file:
    description:
      - A file holding the token, either a secret file written by M(alicloud.cloudsso.scim_credential) (its
        C(credential_secret) is used, and its C(credential_id) and C(directory_id) allow the idempotence
        check) or a plain file holding only the token.
      - Any other file is refused before any network call, without showing its content; it must be a
        regular file of this user (or root), not a symbolic link or a FIFO, and a plain token file holds one
        line of printable ASCII without spaces, at most 16384 characters.
      - Reading the token from a file keeps it out of Ansible variables.
    type: path
    aliases: [secret_file]
  scim_endpoint:
    description:
      - The Tenant URL to save (C(BaseAddress)), the CloudSSO SCIM base URL of the directory.
      - Defaults to O(base_url) (its C(/region/<region>/scim/v2)), E(ALIBABA_CLOUD_CLOUDSSO_SCIM_ENDPOINT), then
        C(https://cloudsso-scim-<region>.aliyun.com/scim/v2). V({region}) is replaced with O(region).
    type: str
  validate:
    description:
      - Let Entra ID validate the candidate token before saving it, and the saved token after.
      - V(false) saves without asking Entra ID first (for example when the SCIM endpoint is not reachable
        from Entra ID yet).
    type: bool
    default: true
  credential_id:
    description:
      - The CloudSSO credential the token belongs to, for the idempotence check.
      - Defaults to the C(credential_id) of O(token_file) when it is a secret file.
    type: str
  directory_id:
    description:
      - The CloudSSO directory of O(credential_id).
      - Defaults to the C(directory_id) of O(token_file) when it is a secret file.
    type: str
  sync_all:
    description:
      - The provisioning scope saved with the token (C(SyncAll)). V(true) provisions all users and groups of
        the tenant, V(false) only those assigned to the application.
      - When not given, the saved scope is read back and kept. Give it when Graph does not return the saved
        synchronization secrets (then the task fails without it, before any write), or to change the scope.
    type: bool
  sync_notification_settings:
    description:
      - "The notification settings saved with the token (C(SyncNotificationSettings)), as Entra ID writes
        them, for example C({Enabled: true, Recipients: ops@example.com, DeleteThresholdEnabled: false})."
      - When not given, the saved settings are read back and kept. Give them when Graph does not return the
        saved synchronization secrets (then the task fails without them, before any write).
    type: dict
extends_documentation_fragment:
  - alicloud.cloudsso.entra
  - alicloud.cloudsso.auth
attributes:
  check_mode:
    support: full
    description:
      - Makes no write call. The candidate and the saved token are still validated (validation changes
        nothing), so RV(ignore:changed) is predicted exactly.
  diff_mode:
    support: full
    description: Shows the Tenant URL, the scope and the notification settings before and after, and whether
      the token is replaced; never a token.
notes:
  - RV(ignore:changed) is V(true) when the secrets were saved (or would be, in check mode), V(false) only when the
    saved token was proven to be this token as described above. Without a credential ID, or while the
    directory has two Enabled credentials, the token is saved on every run (the same value; Entra ID keeps
    working) and RV(ignore:changed) is V(true).
  - The idempotence check reads the directory's credentials with C(cloudsso:ListSCIMServerCredentials),
    using the Alibaba Cloud options. When that fails, a warning says so and the token is saved.
  - Saving does not restart synchronization; use M(alicloud.cloudsso.entra_provisioning_job) to clear a
    quarantine.
seealso:
  - module: alicloud.cloudsso.entra_provisioning_info
  - module: alicloud.cloudsso.entra_provisioning_job
  - module: alicloud.cloudsso.scim_credential
"""

EXAMPLES = r"""
- name: Give Entra ID the new SCIM token (validated first, never in a variable)
  alicloud.cloudsso.entra_provisioning_token:
    tenant_id: 72f988bf-86f1-41af-91ab-2d7cd011db47
    client_id: 0f0b7e4c-2a5b-4a7e-9a51-3a0d1f6c2b10
    client_secret: "{{ vault_entra_automation_secret }}"
    service_principal_id: 5a1c7d0e-9b2f-4a4c-8e3d-6f7a8b9c0d1e
    region: cn-shanghai
    token_file: /secure/cloudsso/d-00fc2p61abcd.new.json
  register: entra

- name: The same with the credentials in the environment (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET)
  alicloud.cloudsso.entra_provisioning_token:
    service_principal_id: 5a1c7d0e-9b2f-4a4c-8e3d-6f7a8b9c0d1e
    job_id: customappsso.6f1e2d3c4b5a69788796a5b4c3d2e1f0.8a7b6c5d-4e3f-2a1b-0c9d-8e7f6a5b4c3d
    scim_endpoint: https://cloudsso-scim-ap-southeast-1.aliyun.com/scim/v2
    token_file: /secure/cloudsso/token.txt
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
scim_endpoint:
  description: The Tenant URL (C(BaseAddress)) saved or found saved.
  returned: always
  type: str
  sample: https://cloudsso-scim-cn-shanghai.aliyun.com/scim/v2
credential_id:
  description: The CloudSSO credential the token belongs to, when known.
  returned: when known
  type: str
  sample: scimcred-004whmnsa1rxe8abcdef
candidate_valid:
  description: Whether Entra ID authenticated to the SCIM endpoint with the candidate token.
  returned: when O(validate=true)
  type: bool
  sample: true
saved:
  description: Whether the secrets were written (false in check mode).
  returned: always
  type: bool
  sample: true
already_saved:
  description: Whether the saved token was proven to be this token (then nothing is written).
  returned: always
  type: bool
  sample: false
proof:
  description: Why the saved token is, or could not be shown to be, this token.
  returned: always
  type: str
  sample: the credential is not the directory's only Enabled credential
settings:
  description:
    - The other keys of the synchronization secrets saved with the token (or that would be, in check mode),
      for example C(SyncAll) and C(SyncNotificationSettings), as Entra ID stores them (strings).
  returned: when the secrets were saved or would be
  type: dict
  sample: {SyncAll: "false", SyncNotificationSettings: '{"DeleteThresholdEnabled":false,"Enabled":false}'}
saved_token_valid:
  description: Whether Entra ID authenticated with the saved token after saving.
  returned: when the secrets were saved with O(validate=true)
  type: bool
  sample: true
validation:
  description: Entra ID's reason when a validation failed (scrubbed of secrets).
  returned: when a validation failed
  type: dict
  contains:
    code:
      description: Graph's error code.
      type: str
      sample: BadRequest
    message:
      description: Graph's message.
      type: str
      sample: "You appear to have entered invalid credentials. ... HTTP/401 Unauthorized ..."
graph_calls:
  description: HTTP requests made to Microsoft Graph and the login endpoint, retries included.
  returned: always
  type: int
  sample: 5
"""

from ansible_collections.alicloud.cloudsso.plugins.module_utils.entra.module import (
    EntraTokenRunner,
    entra_argument_spec,
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.module import AlibabaCloudModule


def main():
    spec = entra_argument_spec()
    spec.update(
        token=dict(type="str", no_log=True),
        token_file=dict(type="path", aliases=["secret_file"], no_log=False),
        scim_endpoint=dict(type="str"),
        validate=dict(type="bool", default=True),
        credential_id=dict(type="str"),
        directory_id=dict(type="str"),
        sync_all=dict(type="bool"),
        sync_notification_settings=dict(type="dict"),
    )
    module = AlibabaCloudModule(argument_spec=spec, mutually_exclusive=[("token", "token_file")],
                                required_one_of=[("token", "token_file")], supports_check_mode=True)
    EntraTokenRunner(module).run()


if __name__ == "__main__":
    main()
