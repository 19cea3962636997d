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

import os
import stat

from ansible_collections.alicloud.cloudsso.plugins.module_utils.module import AlibabaCloudModule
from ansible_collections.alicloud.cloudsso.plugins.module_utils.safe_paths import (
    UnsafePathError,
    check_folder,
    ensure_folder,
    open_regular,
    refuse_special,
    relative_paths,
)


def check_file(path, variable):
    """A file to be written: absent, or a regular file of this user (opened without following a link or
    blocking on a FIFO, then closed)."""
    refuse_special(path, option=variable)
    if os.path.lexists(path):
        os.close(open_regular(path, option=variable))


def main():
    entry = dict(path=dict(type="path", required=True), variable=dict(type="str", required=True))
    folder = dict(entry, create=dict(type="bool", default=True), private=dict(type="bool", default=False),
                  warn_unless_private=dict(type="bool", default=False))
    module = AlibabaCloudModule(
        argument_spec=dict(
            folders=dict(type="list", elements="dict", default=[], options=folder),
            files=dict(type="list", elements="dict", default=[], options=entry),
        ),
        supports_check_mode=True,
    )
    p = module.params
    problems = relative_paths((item["variable"], item["path"]) for item in p["folders"] + p["files"])
    if problems:
        module.fail_json(msg="; ".join(problems), changed=False)
    created = []
    try:
        # Everything is checked before anything is made.
        for item in p["folders"]:
            if not item["create"] or os.path.lexists(item["path"]):
                check_folder(item["path"], option=item["variable"], private=item["private"])
        for item in p["files"]:
            check_file(item["path"], item["variable"])
        for item in p["folders"]:
            if item["create"]:
                created += ensure_folder(item["path"], option=item["variable"], private=item["private"],
                                         check_mode=module.check_mode)
            if item["warn_unless_private"] and os.path.isdir(item["path"]) and \
                    os.stat(item["path"]).st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                module.warn("%s: the folder %s can be entered by other users (mode %04o); keep secrets in a folder "
                            "only you can read (0700)" % (item["variable"], item["path"],
                                                          stat.S_IMODE(os.stat(item["path"]).st_mode)))
    except UnsafePathError as error:
        done = ("; made before it: %s" % ", ".join(created)) if created and not module.check_mode else \
            "; nothing was written"
        module.fail_json(msg=str(error) + done, changed=bool(created) and not module.check_mode, created=created)
    module.exit_json(changed=bool(created), created=created)


if __name__ == "__main__":
    main()
