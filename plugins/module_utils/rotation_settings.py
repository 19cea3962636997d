# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Checks of the settings a caller names itself (the scim_rotation role's variables): the modules' own ID, region
and URL checks, with messages that name the setting as the caller knows it. Pure: plain values in, messages out.

A check is a dict: `name` (the setting, as the messages say it), `value`, `kind` (a key of KINDS) and an optional
`hint` (said after the problem). An empty value is "not set" and passes, except for a directory ID.

A `writable_folder` check judges what the caller looked up: `folders` maps each such absolute path to whether it
is a folder (a link to one counts) that this user may write in. The runner looks (safe_paths.writable_folder).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os.path
import re

from ansible_collections.alicloud.cloudsso.plugins.module_utils.cloudsso import validate_directory_id
from ansible_collections.alicloud.cloudsso.plugins.module_utils.endpoints import REGION_PATTERN, insecure_http
# The Entra GUID check moves with the Entra package (plugins/module_utils/entra/); this import follows it.
from ansible_collections.alicloud.cloudsso.plugins.module_utils.entra.ids import GUID
from ansible_collections.alicloud.cloudsso.plugins.module_utils.idaas import (
    APPLICATION_ID_PATTERN,
    INSTANCE_ID_PATTERN,
)

HTTP_URL = re.compile(r"https?://[^/\s]+(/\S*)?")

# kind -> (the pattern a value must match in full, what such a value is)
PATTERNS = dict(
    region=(REGION_PATTERN, "a valid Alibaba Cloud region ID (for example cn-shanghai)"),
    guid=(GUID, "a GUID"),
    idaas_instance_id=(INSTANCE_ID_PATTERN, "an IDaaS instance ID (idaas_ and 8 or more lowercase letters or digits)"),
    idaas_application_id=(APPLICATION_ID_PATTERN,
                          "an IDaaS application ID (app_ and 8 or more lowercase letters or digits)"),
    url=(HTTP_URL, "an http(s) URL"),
)


def _matches(kind, name, value, folders):
    pattern, what = PATTERNS[kind]
    if not pattern.fullmatch(value):
        return "%s %r is not %s" % (name, value, what)
    return None


def _directory_id(kind, name, value, folders):
    return validate_directory_id(value, option=name)


def _endpoint(kind, name, value, folders):
    """Plain http off this machine; a {region} placeholder stands for any region."""
    url = value.replace("{region}", "cn-shanghai").strip()
    if insecure_http(url, name) is not None:
        return "%s: plain http to a host other than this machine would carry secrets unencrypted" % name
    return None


def _writable_folder(kind, name, value, folders):
    """A folder that must exist and be writable (the folder of a file written later); nothing is made or changed."""
    if not os.path.isabs(value):
        return "%s: the folder %s is a relative path; give an absolute one" % (name, value)
    if not folders.get(value):
        return "%s: the folder %s does not exist or is not writable" % (name, value)
    return None


KINDS = dict(dict.fromkeys(PATTERNS, _matches), directory_id=_directory_id, endpoint=_endpoint,
             writable_folder=_writable_folder)


def folders_to_look_at(checks):
    """The absolute paths of the `writable_folder` checks, which the caller looks up for invalid_settings()."""
    return sorted(set(check["value"] for check in checks if check["kind"] == "writable_folder"
                      and isinstance(check.get("value"), str) and os.path.isabs(check["value"])))


def invalid_settings(checks, folders=None):
    """The message of every check that fails, in order. `checks`: dicts as the module docstring says;
    `folders`: {path: a writable folder?} for the `writable_folder` checks (folders_to_look_at())."""
    folders = folders or {}
    problems = []
    for check in checks:
        kind, name, value = check["kind"], check["name"], check.get("value")
        if kind not in KINDS:
            problems.append("%s: unknown kind of check %r (one of %s)" % (name, kind, ", ".join(sorted(KINDS))))
            continue
        if value is None or value == "":
            if kind != "directory_id":
                continue
            value = ""
        problem = KINDS[kind](kind, name, value if isinstance(value, str) else str(value), folders)
        if problem:
            problems.append(problem + ("; %s" % check["hint"] if check.get("hint") else ""))
    return problems
