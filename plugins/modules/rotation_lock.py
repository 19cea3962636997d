#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: rotation_lock
short_description: Hold a lock file for the length of an ansible-playbook run
version_added: 0.1.0
description:
  - Takes or releases a lock file so that two rotations of one directory started at once on the same
    controller do not interleave. The second run fails before it changes anything, naming the holder.
  - The lock belongs to the ansible-playbook process that took it. When that process is gone (the run was
    killed) or the lock is older than O(stale_after_minutes), the next run takes it over, so an interrupted
    rotation can be resumed at once.
  - It protects one controller only. Across controllers (AWX with several execution nodes), turn off
    concurrent jobs of the job template.
  - Used by the C(alicloud.cloudsso.scim_rotation) role.
author:
  - alicloud.cloudsso maintainers (@alicloud-cloudsso)
options:
  path:
    description:
      - The lock file, an absolute path. Its folder must exist, belong to this user or root, and be closed to
        writes by others (unless it has the sticky bit).
      - Anything but a regular file of this user at this path (a FIFO, a symbolic link, a folder) is refused
        before the lock is taken or released.
    type: path
    required: true
  owner:
    description: A name unique to the run, for example a run ID.
    type: str
    required: true
  state:
    description: V(acquired) takes the lock (or fails when another live run holds it); V(released) removes it
      when O(owner) holds it.
    type: str
    choices: [acquired, released]
    default: acquired
  stale_after_minutes:
    description:
      - A lock older than this is taken over even when its process seems alive.
      - At least V(1). A smaller value would let every run take over every lock.
    type: int
    default: 240
extends_documentation_fragment:
  - alicloud.cloudsso.auth
attributes:
  check_mode:
    support: none
    description:
      - In check mode the module does nothing (Ansible skips it). The C(alicloud.cloudsso.scim_rotation) role takes
        no lock in a dry run, which writes nothing a real run could race with.
  diff_mode:
    support: none
    description: No diff.
notes:
  - The Alibaba Cloud options are accepted so that C(module_defaults) for the action group applies; they are
    not used.
  - On Linux the holder's process is identified through C(/proc); elsewhere only O(stale_after_minutes) frees a
    lock left by a killed run.
"""

EXAMPLES = r"""
- name: Only one rotation of this directory at a time
  alicloud.cloudsso.rotation_lock:
    path: /var/lib/cloudsso/d-00fc2p61abcd.lock
    owner: "{{ run_id }}"

- name: Release it at the end
  alicloud.cloudsso.rotation_lock:
    path: /var/lib/cloudsso/d-00fc2p61abcd.lock
    owner: "{{ run_id }}"
    state: released
"""

RETURN = r"""
acquired:
  description: Whether O(owner) holds the lock after an V(acquired) call.
  returned: always
  type: bool
  sample: true
holder:
  description: The lock's holder (owner, host, pid, acquired time), when there is one.
  returned: always
  type: dict
  sample: {"owner": "20261129T201500Z-4711", "host": "awx-ee", "pid": 4242, "acquired": "2026-11-29T20:15:00Z"}
took_over:
  description: The previous holder of a stale lock this call took over.
  returned: when a stale lock was taken over
  type: dict
  sample: {"owner": "20261129T101500Z-17", "host": "awx-ee", "pid": 4100, "acquired": "2026-11-29T10:15:00Z"}
"""

from ansible_collections.alicloud.cloudsso.plugins.module_utils.base import CollectionModule
from ansible_collections.alicloud.cloudsso.plugins.module_utils.lock import RotationLockRunner


def main():
    module = CollectionModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            owner=dict(type="str", required=True),
            state=dict(type="str", default="acquired", choices=["acquired", "released"]),
            stale_after_minutes=dict(type="int", default=240),
        ),
    )
    RotationLockRunner(module).run()


if __name__ == "__main__":
    main()
