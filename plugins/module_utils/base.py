# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The part of the module base that every module of the collection shares, remote or not: the AnsibleModule
wrapper, the shared (Alibaba Cloud) options of the action group, and the task's modes. No HTTP, no credentials:
a module that works on this machine only (rotation_lock, rotation_paths) uses CollectionModule from here and
needs nothing else; a module that calls an API uses AlibabaCloudModule (module.py), which builds on it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.parsing.convert_bool import boolean


def auth_argument_spec():
    """The options of doc fragment alicloud.cloudsso.auth."""
    return dict(
        access_key_id=dict(type="str", aliases=["alicloud_access_key", "access_key"], no_log=False),
        access_key_secret=dict(type="str", aliases=["alicloud_secret_key", "secret_key"], no_log=True),
        security_token=dict(type="str", aliases=["alicloud_security_token"], no_log=True),
        region=dict(type="str", aliases=["alicloud_region", "region_id"]),
        profile=dict(type="str"),
        shared_credentials_file=dict(type="path"),
        assume_role=dict(type="dict", aliases=["alicloud_assume_role"], options=dict(
            role_arn=dict(type="str", required=True),
            session_name=dict(type="str", default="alicloud-cloudsso"),
            duration_seconds=dict(type="int", default=3600),
            external_id=dict(type="str", no_log=False),
            policy=dict(type="str"),
        )),
        ecs_role_name=dict(type="str"),
        endpoint_url=dict(type="str"),
        base_url=dict(type="str"),
        actiontrail_endpoint_url=dict(type="str"),
        sts_endpoint_url=dict(type="str"),
        allow_insecure_http=dict(type="bool", default=False),
        use_vpc_endpoint=dict(type="bool"),
        validate_certs=dict(type="bool", default=True),
        timeout=dict(type="int", default=30),
        max_retries=dict(type="int", default=5),
    )


def auth_option_problems(params):
    """Messages for shared options that contradict each other or are out of range (pure: `params` is the dict
    of the module's parameters). Checked for every module, so that a wrong value in the group's
    module_defaults fails at the first task that gets it, whatever that task's module is."""
    problems = []
    if params.get("timeout") is not None and params["timeout"] <= 0:
        problems.append("timeout must be a positive number of seconds, got %s" % params["timeout"])
    if params.get("max_retries") is not None and params["max_retries"] < 0:
        problems.append("max_retries must be 0 or more, got %s" % params["max_retries"])
    if bool(params.get("access_key_id")) != bool(params.get("access_key_secret")):
        problems.append("access_key_id and access_key_secret must be given together")
    if params.get("security_token") and not params.get("access_key_id"):
        problems.append("security_token needs access_key_id and access_key_secret")
    role = params.get("assume_role")
    if role and not 900 <= role["duration_seconds"] <= 43200:
        problems.append("assume_role.duration_seconds must be between 900 and 43200, got %s"
                        % role["duration_seconds"])
    return problems


class CollectionModule(object):
    """The base of a module that works on this machine only (files, folders, locks): rotation_lock,
    rotation_paths. A new module picks it when it calls no remote API.

    It accepts the shared Alibaba Cloud options (every module is in the `cloudsso` action group, and the
    scim_rotation role passes them to the whole group with module_defaults) and checks them as every module
    does, but uses none of them: it needs no HTTP session and no credential provider.

    A module that calls an API picks AlibabaCloudModule (module_utils/module.py), which adds the region,
    endpoints, clients and API failures to everything here.

    The module file builds the object (`argument_spec` is the module's own options; the shared ones are
    added) and hands it to its runner; the runner uses `params`, `check_mode`, the modes below, `warn()`,
    `fail_on()`, `fail_json()` and `exit_json()`.
    """

    def __init__(self, argument_spec=None, **kwargs):
        spec = auth_argument_spec()
        spec.update(argument_spec or {})
        self.module = AnsibleModule(argument_spec=spec, **kwargs)
        self.params = self.module.params
        self.check_mode = self.module.check_mode
        self._check_requirements()
        problems = auth_option_problems(self.params)
        if problems:
            self.fail_json(msg=problems[0])

    def _check_requirements(self):
        """Fail when a Python library the module needs is missing (none here)."""

    # --- Ansible passthrough -------------------------------------------------------------------------
    def fail_json(self, **kwargs):
        self.module.fail_json(**kwargs)

    def exit_json(self, **kwargs):
        self.module.exit_json(**kwargs)

    def warn(self, message):
        self.module.warn(message)

    def fail_on(self, problems):
        """Fail with the first of `problems` (messages found while checking options), if any."""
        if problems:
            self.fail_json(msg=problems[0], changed=False)

    @property
    def diff_mode(self):
        """The task runs with --diff (or `diff: true`): return `diff` with before and after."""
        return bool(self.module._diff)

    @property
    def no_log(self):
        """The task has `no_log: true`: values it returns are hidden from every output."""
        return bool(self.module.no_log)

    @property
    def debug(self):
        """ANSIBLE_DEBUG (or `debug` in ansible.cfg) is on for this task: ansible-core passes it as
        `_ansible_debug`; the environment is checked too, for a module run without the controller."""
        if getattr(self.module, "_debug", False):
            return True
        return boolean(os.environ.get("ANSIBLE_DEBUG") or "", strict=False)

    def register_secret(self, value):
        """Mask `value` in everything the module returns, warnings and errors included."""
        if value:
            self.module.no_log_values.add(value)
