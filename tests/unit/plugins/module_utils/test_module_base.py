# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The two module bases: CollectionModule (local modules: it accepts and checks the group's shared options,
and needs no HTTP stack) and AlibabaCloudModule, which builds on it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import json
import os

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.alicloud.cloudsso.plugins.module_utils import base
from ansible_collections.alicloud.cloudsso.plugins.module_utils import module as module_base

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
PREFIX = "ansible_collections.alicloud.cloudsso.plugins.module_utils."
LOCAL_MODULES = ("rotation_lock", "rotation_paths")
HTTP_STACK = {"module", "client", "credentials", "transport", "signing", "endpoints", "errors"}


def _exit(capsys, cls, args, call=None, **kwargs):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module = cls(argument_spec=dict(name=dict(type="str")), **kwargs)
            (call or (lambda m: m.exit_json(changed=False)))(module)
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def no_session(monkeypatch):
    def refuse():
        raise AssertionError("an HTTP session was made")
    monkeypatch.setattr(module_base, "new_session", refuse)


def test_the_shared_options_are_the_same_for_both_bases():
    assert module_base.auth_argument_spec() == base.auth_argument_spec()
    assert issubclass(module_base.AlibabaCloudModule, base.CollectionModule)


def test_collection_module_accepts_the_group_options_without_a_session(capsys, no_session, monkeypatch):
    result = _exit(capsys, base.CollectionModule, {
        "name": "x", "access_key_id": "TESTAKID", "access_key_secret": "TESTAKSECRET", "region": "cn-shanghai",
        "endpoint_url": "http://127.0.0.1:9", "assume_role": {"role_arn": "acs:ram::1:role/r"}})
    assert not result.get("failed"), result
    assert "api_calls" not in result
    assert "TESTAKSECRET" not in json.dumps(result)


@pytest.mark.parametrize("cls", [base.CollectionModule, module_base.AlibabaCloudModule])
@pytest.mark.parametrize("args, message", [
    ({"timeout": 0}, "timeout must be a positive number of seconds, got 0"),
    ({"max_retries": -1}, "max_retries must be 0 or more, got -1"),
    ({"access_key_id": "TESTAKID"}, "access_key_id and access_key_secret must be given together"),
    ({"security_token": "TESTTOKEN"}, "security_token needs access_key_id and access_key_secret"),
    ({"assume_role": {"role_arn": "acs:ram::1:role/r", "duration_seconds": 100}},
     "assume_role.duration_seconds must be between 900 and 43200, got 100"),
])
def test_both_bases_check_the_shared_options(capsys, no_session, cls, args, message):
    result = _exit(capsys, cls, args)
    assert result["failed"] and result["msg"] == message


@pytest.mark.parametrize("params, problems", [
    ({"timeout": 30, "max_retries": 0}, []),
    ({"timeout": -1, "max_retries": -1}, ["timeout must be a positive number of seconds, got -1",
                                          "max_retries must be 0 or more, got -1"]),
    ({"access_key_secret": "TESTAKSECRET"}, ["access_key_id and access_key_secret must be given together"]),
    ({"access_key_id": "TESTAKID", "access_key_secret": "TESTAKSECRET", "security_token": "TESTTOKEN"}, []),
    ({"assume_role": {"duration_seconds": 43200}}, []),
    ({"assume_role": {"duration_seconds": 43201}},
     ["assume_role.duration_seconds must be between 900 and 43200, got 43201"]),
])
def test_auth_option_problems(params, problems):
    assert base.auth_option_problems(params) == problems


def test_modes_and_masking(capsys):
    def call(module):
        assert module.diff_mode is True and module.no_log is False and module.check_mode is True
        module.register_secret("Unit-Test-Masked-7f2a")
        module.register_secret(None)  # nothing to mask
        module.exit_json(changed=False, echo="Unit-Test-Masked-7f2a")
    result = _exit(capsys, base.CollectionModule, {"_ansible_diff": True, "_ansible_check_mode": True}, call,
                   supports_check_mode=True)
    assert "Unit-Test-Masked-7f2a" not in json.dumps(result)


def test_fail_on_fails_with_the_first_problem_only(capsys):
    result = _exit(capsys, base.CollectionModule, {}, lambda m: m.fail_on(["first", "second"]))
    assert result["failed"] and result["msg"] == "first" and result["changed"] is False
    result = _exit(capsys, base.CollectionModule, {}, lambda m: (m.fail_on([]), m.exit_json(changed=False)))
    assert not result.get("failed")


def _module_utils_imports(path):
    with open(path) as handle:
        tree = ast.parse(handle.read())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PREFIX):
            names.add(node.module[len(PREFIX):])
    return names


def _closure(path):
    """The collection's module_utils a module file needs, directly or not (what AnsiballZ would ship)."""
    seen, todo = set(), list(_module_utils_imports(path))
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(_module_utils_imports(os.path.join(ROOT, "plugins", "module_utils",
                                                           name.replace(".", os.sep) + ".py")))
    return seen


@pytest.mark.parametrize("name", LOCAL_MODULES)
def test_local_modules_ship_no_http_stack(name):
    needed = _closure(os.path.join(ROOT, "plugins", "modules", name + ".py"))
    assert "base" in needed
    assert not needed & HTTP_STACK, "%s pulls in %s" % (name, ", ".join(sorted(needed & HTTP_STACK)))


def test_the_closure_sees_the_http_stack_of_a_remote_module():
    # The check above can fail: the same walk finds the HTTP stack behind scim_credential.
    assert {"module", "client", "transport"} <= _closure(os.path.join(ROOT, "plugins", "modules",
                                                                      "scim_credential.py"))
