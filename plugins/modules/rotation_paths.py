#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: rotation_paths
short_description: Check and make the folders and files of a rotation run on a shared controller
version_added: 0.1.0
description:
  - Checks every folder and file a rotation will write, before it writes anything, so that a controller other
    users share (a bastion, an AWX execution node) cannot be turned against the run. Used by the
    C(alicloud.cloudsso.scim_rotation) role.
  - A missing folder is made with mode C(0700) (and its missing parents too). An existing folder is never
    chmod-ed or chown-ed; it is refused when another user (other than root) owns it, or when group or others
    may write in it and it has no sticky bit.
  - Every error names the variable the path came from.
  - In check mode nothing is made; the result lists what would be.
author:
  - alicloud.cloudsso maintainers (@alicloud-cloudsso)
options:
  folders:
    description: The folders, checked in this order.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The folder, an absolute path.
        type: path
        required: true
      variable:
        description: The variable or option the path came from, named in errors and warnings.
        type: str
        required: true
      create:
        description: Make the folder (0700) when it is missing; else a missing folder is refused.
        type: bool
        default: true
      private:
        description:
          - The folder holds secrets itself. It must belong to this user and be closed to group and others.
        type: bool
        default: false
      warn_unless_private:
        description: Warn when group or others may enter the folder (a secret file will be kept in it).
        type: bool
        default: false
  files:
    description:
      - Files the run will write. Each must be an absolute path; when it exists, it must be a regular file of
        this user (a FIFO would hang the run, a symbolic link would send the write elsewhere).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The file.
        type: path
        required: true
      variable:
        description: The variable or option the path came from, named in errors.
        type: str
        required: true
extends_documentation_fragment:
  - alicloud.cloudsso.auth
attributes:
  check_mode:
    support: full
    description: Nothing is made; RV(created) lists the folders that would be.
  diff_mode:
    support: none
    description: No diff.
notes:
  - The Alibaba Cloud options are accepted so that C(module_defaults) for the action group applies; they are
    not used.
seealso:
  - module: alicloud.cloudsso.rotation_lock
"""

EXAMPLES = r"""
- name: Make the state folder and the report's folder, and check the folder of the kept secret
  alicloud.cloudsso.rotation_paths:
    folders:
      - path: /var/lib/cloudsso/d-00fc2p61abcd
        variable: scim_rotation_state_dir
        private: true
      - path: /var/log/cloudsso
        variable: scim_rotation_report_path
      - path: /secure/cloudsso
        variable: scim_rotation_secret_file
        create: false
        warn_unless_private: true
    files:
      - path: /var/log/cloudsso/d-00fc2p61abcd.json
        variable: scim_rotation_report_path
"""

RETURN = r"""
created:
  description: The folders made by this run (in check mode, those that would be), outermost first.
  returned: always
  type: list
  elements: str
  sample: ["/var/lib/cloudsso", "/var/lib/cloudsso/d-00fc2p61abcd"]
"""

from ansible_collections.alicloud.cloudsso.plugins.module_utils.base import CollectionModule
from ansible_collections.alicloud.cloudsso.plugins.module_utils.safe_paths import RotationPathsRunner


def main():
    entry = dict(path=dict(type="path", required=True), variable=dict(type="str", required=True))
    folder = dict(entry, create=dict(type="bool", default=True), private=dict(type="bool", default=False),
                  warn_unless_private=dict(type="bool", default=False))
    module = CollectionModule(
        argument_spec=dict(
            folders=dict(type="list", elements="dict", default=[], options=folder),
            files=dict(type="list", elements="dict", default=[], options=entry),
        ),
        supports_check_mode=True,
    )
    RotationPathsRunner(module).run()


if __name__ == "__main__":
    main()
