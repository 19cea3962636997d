# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""scim_rotation_plan's settings check end to end in-process (main() -> AlibabaCloudModule -> runner): it makes no
API call, runs in check mode and says whether it did, and looks at a folder without changing it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.alicloud.cloudsso.plugins.module_utils import module as module_base
from ansible_collections.alicloud.cloudsso.plugins.modules import scim_rotation_plan

DIRECTORY = "d-00fc2p61abcd"
GROUP_DEFAULTS = dict(access_key_id="TESTAKID", access_key_secret="TESTAKSECRET", region="cn-shanghai")


class NoTraffic(object):
    """The HTTP session: any request fails the test."""

    def request(self, *args, **kwargs):
        raise AssertionError("the settings check sent a request")

    def close(self):
        pass


@pytest.fixture(autouse=True)
def no_traffic(monkeypatch):
    monkeypatch.setattr(module_base, "new_session", NoTraffic)


def run(capsys, **args):
    params = dict(GROUP_DEFAULTS, directory_id=DIRECTORY)
    params.update(args)
    with patch_module_args(params):
        with pytest.raises(SystemExit):
            scim_rotation_plan.main()
    return json.loads(capsys.readouterr().out)


def test_settings_check_says_whether_it_ran_in_check_mode(capsys):
    settings = [dict(name="scim_rotation_region", value="cn-shanghai", kind="region")]
    result = run(capsys, settings=settings)
    assert not result.get("failed") and result["problems"] == [] and result["check_mode"] is False
    result = run(capsys, settings=settings, _ansible_check_mode=True)
    assert not result.get("failed") and result["problems"] == [] and result["check_mode"] is True
    assert "plan" not in result and not result["changed"]
    result = run(capsys, _ansible_check_mode=True, settings=[dict(name="scim_rotation_region", value="Bad!",
                                                                   kind="region")])
    assert result["failed"] and result["check_mode"] is True
    assert result["problems"] == ["scim_rotation_region 'Bad!' is not a valid Alibaba Cloud region ID "
                                  "(for example cn-shanghai)"]


def test_settings_check_looks_at_the_folder_of_the_secret_file(capsys, tmp_path):
    folder = tmp_path / "secure"
    folder.mkdir()
    os.chmod(str(folder), 0o700)
    link = tmp_path / "link"
    link.symlink_to(folder)
    for path in (folder, link):  # a link to a folder is fine: rotation_paths judges the folder it points to
        result = run(capsys, _ansible_check_mode=True,
                     settings=[dict(name="scim_rotation_secret_file", value=str(path), kind="writable_folder")])
        assert not result.get("failed") and result["problems"] == []
    missing = str(tmp_path / "missing")
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    result = run(capsys, settings=[dict(name="scim_rotation_secret_file", value=missing, kind="writable_folder"),
                                   dict(name="other", value=str(a_file), kind="writable_folder")])
    assert result["failed"] and result["problems"] == [
        "scim_rotation_secret_file: the folder %s does not exist or is not writable" % missing,
        "other: the folder %s does not exist or is not writable" % a_file]
    assert result["msg"] == "; ".join(result["problems"])
    # Only looked at: nothing made, no mode changed.
    assert not os.path.exists(missing) and stat.S_IMODE(os.stat(str(folder)).st_mode) == 0o700
