#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: rotation_paths
short_description: Check, make and write the folders and files of a rotation run on a shared controller
version_added: 0.1.0
description:
  - Checks every folder and file a rotation will write, before it writes anything, so that a controller other
    users share (a bastion, an AWX execution node) cannot be turned against the run. Used by the
    C(alicloud.cloudsso.scim_rotation) role.
  - A missing folder is made with mode C(0700) (and its missing parents too). An existing folder is never
    chmod-ed or chown-ed; it is refused when another user (other than root) owns it, or when group or others
    may write in it and it has no sticky bit.
  - It also writes and removes the files of the run, once every folder and file is checked (and every file to
    copy read) - O(write), then O(remove). A file is written as a new C(0600) file of this user in the same
    folder, renamed over the old one; so a write never goes through a symbolic link, and is never seen half done.
  - Every error names the variable the path came from.
  - In check mode nothing is made, written or removed; the result lists what would be.
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
  write:
    description:
      - Files to write, each checked as O(files) are, then replaced atomically by a C(0600) file of this user.
        A file that already holds the content, with mode C(0600), is left as it is.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The file, an absolute path.
        type: path
        required: true
      variable:
        description: The variable or option the path came from, named in errors.
        type: str
        required: true
      content:
        description:
          - The text to write. Like any option it is shown in the task's output (from C(-v) on) unless the task
            has C(no_log); a secret is written with O(write[].src) from its secret file instead.
        type: str
      src:
        description:
          - A file whose content is written, for example a secret file. It must be a regular file of this user
            (a symbolic link or a FIFO is refused). Its content is never returned; the secret of a secret file
            is masked in everything the module returns.
        type: path
  remove:
    description:
      - Files to remove once the files of O(write) are written. A missing file is fine; a symbolic link is
        removed itself, never what it points to; a folder is refused.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The file, an absolute path.
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
    description: Nothing is made, written or removed; RV(created), RV(written) and RV(removed) list what would be.
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

- name: Keep the new secret, then remove the run's copy of it
  alicloud.cloudsso.rotation_paths:
    write:
      - path: /secure/cloudsso/d-00fc2p61abcd.json
        variable: scim_rotation_secret_file
        src: /var/lib/cloudsso/d-00fc2p61abcd/pending.json
    remove:
      - path: /var/lib/cloudsso/d-00fc2p61abcd/pending.json
        variable: scim_rotation_state_dir
"""

RETURN = r"""
created:
  description: The folders made by this run (in check mode, those that would be), outermost first.
  returned: always
  type: list
  elements: str
  sample: ["/var/lib/cloudsso", "/var/lib/cloudsso/d-00fc2p61abcd"]
written:
  description: The files of O(write) written by this run (in check mode, those that would be).
  returned: always
  type: list
  elements: str
  sample: ["/secure/cloudsso/d-00fc2p61abcd.json"]
removed:
  description: The files of O(remove) that existed and were removed (in check mode, those that would be).
  returned: always
  type: list
  elements: str
  sample: ["/var/lib/cloudsso/d-00fc2p61abcd/pending.json"]
"""

from ansible_collections.alicloud.cloudsso.plugins.module_utils.base import CollectionModule
from ansible_collections.alicloud.cloudsso.plugins.module_utils.safe_paths import RotationPathsRunner


def main():
    entry = dict(path=dict(type="path", required=True), variable=dict(type="str", required=True))
    folder = dict(entry, create=dict(type="bool", default=True), private=dict(type="bool", default=False),
                  warn_unless_private=dict(type="bool", default=False))
    write = dict(entry, content=dict(type="str"), src=dict(type="path"))
    module = CollectionModule(
        argument_spec=dict(
            folders=dict(type="list", elements="dict", default=[], options=folder),
            files=dict(type="list", elements="dict", default=[], options=entry),
            write=dict(type="list", elements="dict", default=[], options=write,
                       mutually_exclusive=[("content", "src")], required_one_of=[("content", "src")]),
            remove=dict(type="list", elements="dict", default=[], options=entry),
        ),
        supports_check_mode=True,
    )
    RotationPathsRunner(module).run()


if __name__ == "__main__":
    main()
