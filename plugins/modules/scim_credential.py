#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: scim_credential
short_description: Create, enable, disable or delete a CloudSSO SCIM credential
version_added: 0.1.0
description:
  - Manages one SCIM credential (the bearer token an identity provider uses to push users and groups)
    of an Alibaba Cloud CloudSSO directory.
  - Idempotent. A run that changes nothing makes exactly one API call (C(ListSCIMServerCredentials)).
    Creating is C(ListSCIMServerCredentials) plus C(CreateSCIMServerCredential); enabling, disabling or
    deleting is the list plus one write.
  - CloudSSO shows a new credential's secret only once, in the answer to the create call. This module
    writes it to O(secret_file) before it returns, so the secret never enters Ansible variables, logs or
    job events. The secret is never in the result, warnings or errors unless O(return_secret=true).
  - C(CreateSCIMServerCredential) has no client token, so it is never retried once it may have reached
    the server. When its answer is lost (timeout, connection reset), the module lists the credentials
    again; if a new one appeared, it fails and names it (its secret is lost, so delete it) instead of
    creating a second one.
author:
  - alicloud.cloudsso maintainers (@alicloud-cloudsso)
options:
  directory_id:
    description:
      - ID of the CloudSSO directory, C(d-) followed by 12 letters or digits.
    type: str
    required: true
  state:
    description:
      - V(present) ensures the selected credential exists. Without O(credential_id) or O(secret_file),
        it ensures the directory has at least one credential.
      - V(enabled) and V(disabled) ensure the selected credential exists with that status. V(enabled)
        with an O(secret_file) that does not exist yet creates a credential (new credentials are Enabled).
      - V(absent) deletes the selected credential (and removes O(secret_file)); it needs O(credential_id) or
        O(secret_file), as V(enabled) and V(disabled) do. Deleting an Enabled
        credential needs O(force=true), because an identity provider may still use it. Disable it first and check
        with M(alicloud.cloudsso.scim_usage_info) that nothing calls with it.
    type: str
    choices: [present, enabled, disabled, absent]
    default: present
  credential_id:
    description:
      - ID of the credential to manage, C(scimcred-) followed by 20 letters or digits.
      - Mutually exclusive with O(secret_file).
    type: str
  secret_file:
    description:
      - Path of the JSON file that holds a credential created by this module, with the keys
        C(directory_id), C(credential_id), C(credential_secret) and C(create_time).
      - When the file exists, it selects its credential. When it does not exist and O(state) is
        V(present) or V(enabled), a new credential is created and the file is written atomically with mode
        C(0600) before the module returns, so running the task again finds that credential instead of
        creating another.
      - An absolute path (C(~) is expanded); a relative one is refused, since it would land in whatever folder
        the module runs in.
      - The folder must exist and be writable; the path must not be a symbolic link, a FIFO or anything but
        a regular file. The folder, reached through a symbolic link or not, must be owned by you or root and
        not writable by others (unless sticky); otherwise the module fails before any write. Keep it in a
        folder only you can read.
      - Before a create, an in-flight marker C(<secret_file>.inflight) (mode C(0600), no secret) is written; it
        is removed once the secret file is written. If a run dies or loses the create's answer, the next run
        finds it and fails, without creating, while a credential exists that appeared after the marker and
        is not the secret file's (RV(unaccounted_credential_ids)), whose secret is probably lost. Delete it
        after checking, then run again.
      - A file whose credential no longer exists is never overwritten with a new credential unless
        O(force=true).
    type: path
  return_secret:
    description:
      - Return the secret of a credential created by this run (or read from O(secret_file)) in RV(secret).
      - "The task must set C(no_log: true), or the module fails before it changes anything, because the
        result would otherwise reach the output, logs and job events. Never C(debug) the registered variable."
      - Refused while E(ANSIBLE_DEBUG) (or C(debug) in C(ansible.cfg)) is on, because ansible-core then prints
        every module's raw result, C(no_log) or not.
    type: bool
    default: false
  force:
    description:
      - Delete an Enabled credential with O(state=absent).
      - Replace the content of an O(secret_file) whose credential no longer exists.
    type: bool
    default: false
extends_documentation_fragment:
  - alicloud.cloudsso.auth
  - alicloud.cloudsso.attributes.changes
notes:
  - Diff mode shows whether the credential exists, its ID and status.
  - A directory holds at most two SCIM credentials. Asking for a third fails before any write call and
    names the two existing ones.
  - RAM permissions used, on C(acs:cloudsso:<region>:<account>:directory/<directory_id>/scim-credential/*)
    - C(cloudsso:ListSCIMServerCredentials) always; C(cloudsso:CreateSCIMServerCredential),
    C(cloudsso:UpdateSCIMServerCredentialStatus), C(cloudsso:DeleteSCIMServerCredential) for changes;
    C(cloudsso:GetSCIMSynchronizationStatus) when the last Enabled credential is force-deleted.
seealso:
  - module: alicloud.cloudsso.scim_credential_info
  - module: alicloud.cloudsso.scim_usage_info
  - module: alicloud.cloudsso.scim_token_check
  - name: Manage SCIM credentials (Alibaba Cloud documentation)
    description: The console procedure this module automates.
    link: https://www.alibabacloud.com/help/en/cloudsso/user-guide/manage-scim-credentials
"""

EXAMPLES = r"""
- name: Create a credential whose secret goes to a private file (a re-run finds the same credential)
  alicloud.cloudsso.scim_credential:
    directory_id: d-00fc2p61abcd
    region: cn-shanghai
    state: enabled
    secret_file: "{{ lookup('env', 'HOME') }}/.cloudsso/d-00fc2p61abcd.new.json"
  register: new_credential

- name: Disable the previous credential once the identity provider uses the new one
  alicloud.cloudsso.scim_credential:
    directory_id: d-00fc2p61abcd
    credential_id: scimcred-004whmnsa1rxe8abcdef
    state: disabled

- name: Delete it after ActionTrail shows it unused
  alicloud.cloudsso.scim_credential:
    directory_id: d-00fc2p61abcd
    credential_id: scimcred-004whmnsa1rxe8abcdef
    state: absent

- name: Set the authentication once for every module of the collection
  module_defaults:
    group/alicloud.cloudsso.cloudsso:
      region: ap-southeast-1
      assume_role:
        role_arn: acs:ram::1234567890123456:role/cloudsso-scim-rotation
  block:
    - name: Make sure the directory has a credential, and read its expiry
      alicloud.cloudsso.scim_credential:
        directory_id: d-00fc2p61abcd
        state: present
        secret_file: /secure/cloudsso/d-00fc2p61abcd.json
      register: scim

    - name: Report the days left
      ansible.builtin.debug:
        msg: "{{ scim.credential.credential_id }} expires in {{ scim.credential.expires_in_days }} days"

# Without secret_file, state=present creates a credential only when the directory has none, and the secret
# is in the result only then (created.created): CloudSSO shows a secret once.
- name: Create the directory's first credential and keep the secret in a variable (the task must not log)
  alicloud.cloudsso.scim_credential:
    directory_id: d-00fc2p61abcd
    state: present
    return_secret: true
  no_log: true
  register: created
"""

RETURN = r"""
credential:
  description:
    - The credential after the run; V(null) when it was deleted or does not exist.
    - In check mode, the credential the run would leave, for every O(state) alike (a credential that would be
      created has no C(credential_id) yet).
  returned: always
  type: dict
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
      sample: "2026-11-29T08:00:00Z"
    expire_time:
      description: Expiry time, UTC. CloudSSO credentials expire about a year after creation.
      type: str
      sample: "2027-11-29T08:00:00Z"
    directory_id:
      description: Directory ID.
      type: str
      sample: d-00fc2p61abcd
    age_days:
      description: Whole days since creation.
      type: int
      sample: 0
    expires_in_days:
      description: Whole days until expiry; negative once expired.
      type: int
      sample: 365
created:
  description: Whether this run created the credential.
  returned: always
  type: bool
  sample: true
directory_id:
  description: The directory.
  returned: always
  type: str
  sample: d-00fc2p61abcd
secret:
  description:
    - The credential's secret (bearer token). Only with O(return_secret=true), and only when this run
      created the credential or read it from O(secret_file).
  returned: when O(return_secret=true)
  type: str
orphaned_credential_id:
  description:
    - On failure only. A credential that was created but whose secret is lost (its create answer was
      lost, or the secret file could not be written). Delete it.
  returned: when a create was applied but its secret could not be kept
  type: str
  sample: scimcred-00a1b2c3d4e5f6g7h8i9
unaccounted_credential_ids:
  description:
    - On failure only. Credentials that appeared after an earlier create for O(secret_file) that did not
      finish, and that its in-flight marker cannot account for; one of them probably holds a lost secret.
      Check that no identity provider uses them before deleting them.
  returned: when an in-flight marker blocks a create
  type: list
  elements: str
  sample: [scimcred-00a1b2c3d4e5f6g7h8i9]
api_calls:
  description: HTTP requests this run made to Alibaba Cloud APIs, retries included.
  returned: always
  type: int
  sample: 2
"""

from ansible_collections.alicloud.cloudsso.plugins.module_utils.credential_runner import ScimCredentialRunner
from ansible_collections.alicloud.cloudsso.plugins.module_utils.module import AlibabaCloudModule


def main():
    module = AlibabaCloudModule(
        argument_spec=dict(
            directory_id=dict(type="str", required=True),
            state=dict(type="str", default="present", choices=["present", "enabled", "disabled", "absent"]),
            credential_id=dict(type="str"),
            secret_file=dict(type="path", no_log=False),
            return_secret=dict(type="bool", default=False, no_log=False),
            force=dict(type="bool", default=False),
        ),
        mutually_exclusive=[("credential_id", "secret_file")],
        supports_check_mode=True,
    )
    ScimCredentialRunner(module).run()


if __name__ == "__main__":
    main()
