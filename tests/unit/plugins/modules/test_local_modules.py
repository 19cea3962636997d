# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""rotation_lock and rotation_paths end to end in-process (main() -> CollectionModule -> runner), in a
temporary folder: they accept the group's Alibaba Cloud options and make no HTTP session."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat

import pytest
from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args

from ansible_collections.alicloud.cloudsso.plugins.module_utils import module as module_base
from ansible_collections.alicloud.cloudsso.plugins.modules import rotation_lock, rotation_paths

GROUP_DEFAULTS = dict(access_key_id="TESTAKID", access_key_secret="TESTAKSECRET", region="cn-shanghai")


@pytest.fixture(autouse=True)
def no_session(monkeypatch):
    def refuse():
        raise AssertionError("a local module made an HTTP session")
    monkeypatch.setattr(module_base, "new_session", refuse)


def run(capsys, module, **args):
    ansible_warnings._global_warnings.clear()  # a process-wide register, shared by the tests
    params = dict(GROUP_DEFAULTS)
    params.update(args)
    with patch_module_args(params):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


def warnings(result):
    return [w if isinstance(w, str) else w["event"]["msg"] for w in result.get("warnings", [])]


# --- rotation_lock ---------------------------------------------------------------------------------------

def test_lock_acquire_refuse_release(capsys, tmp_path):
    path = str(tmp_path / "d.lock")
    first = run(capsys, rotation_lock, path=path, owner="run-a")
    assert not first.get("failed") and first["changed"] and first["acquired"]
    assert first["holder"]["owner"] == "run-a" and "took_over" not in first

    again = run(capsys, rotation_lock, path=path, owner="run-a")
    assert again["acquired"] and not again["changed"]

    other = run(capsys, rotation_lock, path=path, owner="run-b")
    assert other["failed"] and not other["acquired"] and other["holder"]["owner"] == "run-a"
    assert other["msg"].startswith("another run holds %s: run run-a on " % path)

    not_mine = run(capsys, rotation_lock, path=path, owner="run-b", state="released")
    assert not not_mine["changed"] and not not_mine["acquired"] and not_mine["holder"]["owner"] == "run-a"
    released = run(capsys, rotation_lock, path=path, owner="run-a", state="released")
    assert released["changed"] and released["holder"] is None and not os.path.exists(path)


def test_lock_takes_over_an_old_lock_with_a_warning(capsys, tmp_path):
    path = tmp_path / "d.lock"
    path.write_text(json.dumps({"owner": "old-run", "host": "elsewhere.invalid", "pid": 1, "acquired_epoch": 0}))
    os.chmod(str(path), 0o600)
    result = run(capsys, rotation_lock, path=str(path), owner="run-b", stale_after_minutes=1)
    assert result["acquired"] and result["took_over"]["owner"] == "old-run"
    assert [w for w in warnings(result) if "took over the lock left by run old-run" in w]


@pytest.mark.parametrize("args, message", [
    (dict(path="relative.lock"), "path relative.lock is a relative path"),
    (dict(stale_after_minutes=0), "stale_after_minutes must be 1 or more, got 0"),
])
def test_lock_refuses_bad_options(capsys, tmp_path, args, message):
    params = dict(path=str(tmp_path / "d.lock"), owner="run-a")
    params.update(args)
    result = run(capsys, rotation_lock, **params)
    assert result["failed"] and message in result["msg"]
    assert not os.listdir(str(tmp_path))


def test_lock_refuses_a_fifo_and_leaves_it(capsys, tmp_path):
    path = str(tmp_path / "d.lock")
    os.mkfifo(path)
    result = run(capsys, rotation_lock, path=path, owner="run-a")
    assert result["failed"] and result["msg"].startswith("cannot use lock file %s: " % path)
    assert result["msg"].endswith("; the lock was not touched")
    assert stat.S_ISFIFO(os.lstat(path).st_mode)


def test_lock_in_a_missing_folder_names_the_file(capsys, tmp_path):
    path = str(tmp_path / "missing" / "d.lock")
    result = run(capsys, rotation_lock, path=path, owner="run-a")
    assert result["failed"] and result["msg"].startswith("cannot use lock file %s: " % path)


# --- rotation_paths --------------------------------------------------------------------------------------

def test_paths_makes_folders_0700_and_checks_files(capsys, tmp_path):
    state = str(tmp_path / "state" / "d")
    report = str(tmp_path / "log" / "d.json")
    folders = [dict(path=state, variable="scim_rotation_state_dir", private=True),
               dict(path=os.path.dirname(report), variable="scim_rotation_report_path")]
    files = [dict(path=report, variable="scim_rotation_report_path")]

    planned = run(capsys, rotation_paths, folders=folders, files=files, _ansible_check_mode=True)
    assert planned["changed"] and planned["created"] == [str(tmp_path / "state"), state, os.path.dirname(report)]
    assert not os.path.exists(state)

    made = run(capsys, rotation_paths, folders=folders, files=files)
    assert made["changed"] and made["created"] == planned["created"]
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o700

    again = run(capsys, rotation_paths, folders=folders, files=files)
    assert not again["changed"] and again["created"] == []


def test_paths_checks_everything_before_making_anything(capsys, tmp_path):
    fifo = str(tmp_path / "report.json")
    os.mkfifo(fifo)
    result = run(capsys, rotation_paths, folders=[dict(path=str(tmp_path / "new"), variable="scim_rotation_state_dir")],
                 files=[dict(path=fifo, variable="scim_rotation_report_path")])
    assert result["failed"] and not result["changed"] and result["created"] == []
    assert result["msg"].startswith("scim_rotation_report_path %s is a FIFO" % fifo)
    assert result["msg"].endswith("; nothing was written")
    assert not os.path.exists(str(tmp_path / "new"))


def test_paths_names_every_relative_path(capsys):
    result = run(capsys, rotation_paths, folders=[dict(path="state", variable="scim_rotation_state_dir")],
                 files=[dict(path="out/report.json", variable="scim_rotation_report_path")])
    assert result["failed"] and result["changed"] is False
    assert "scim_rotation_state_dir state is a relative path" in result["msg"]
    assert "; scim_rotation_report_path out/report.json is a relative path" in result["msg"]


def test_paths_warns_about_a_secret_folder_others_can_enter(capsys, tmp_path):
    folder = tmp_path / "secure"
    folder.mkdir()
    os.chmod(str(folder), 0o755)
    result = run(capsys, rotation_paths, folders=[dict(path=str(folder), variable="scim_rotation_secret_file",
                                                       create=False, warn_unless_private=True)])
    assert not result.get("failed") and not result["changed"]
    assert [w for w in warnings(result) if w.startswith("scim_rotation_secret_file: the folder %s can be entered by "
                                                        "other users (mode 0755)" % folder)]
    os.chmod(str(folder), 0o700)
    result = run(capsys, rotation_paths, folders=[dict(path=str(folder), variable="scim_rotation_secret_file",
                                                       create=False, warn_unless_private=True)])
    assert not warnings(result)


def test_paths_writes_then_removes_and_masks_a_copied_secret(capsys, tmp_path):
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    pending = state / "pending.json"
    pending.write_text(json.dumps({"credential_id": "scimcred-1", "credential_secret": "Unit-Secret-7f3a"}))
    os.chmod(str(pending), 0o600)
    handoff = state / "HANDOFF.txt"
    handoff.write_text("instructions")
    kept, report = str(tmp_path / "kept.json"), str(tmp_path / "report.json")
    args = dict(write=[dict(path=kept, variable="scim_rotation_secret_file", src=str(pending)),
                       dict(path=report, variable="scim_rotation_report_path", content='{"outcome": "rotated"}\n')],
                remove=[dict(path=str(pending), variable="scim_rotation_state_dir"),
                        dict(path=str(handoff), variable="scim_rotation_state_dir"),
                        dict(path=str(state / "missing"), variable="scim_rotation_state_dir")])

    planned = run(capsys, rotation_paths, _ansible_check_mode=True, **args)
    assert planned["changed"] and planned["written"] == [kept, report]
    assert planned["removed"] == [str(pending), str(handoff)]
    assert not os.path.exists(kept) and not os.path.exists(report) and pending.exists() and handoff.exists()

    secret = pending.read_bytes()
    done = run(capsys, rotation_paths, **args)
    assert done["changed"] and done["written"] == planned["written"] and done["removed"] == planned["removed"]
    assert open(kept, "rb").read() == secret and open(report).read() == '{"outcome": "rotated"}\n'
    assert all(stat.S_IMODE(os.stat(path).st_mode) == 0o600 for path in (kept, report))
    assert not pending.exists() and not handoff.exists()
    assert "Unit-Secret-7f3a" not in json.dumps(done)

    # Once more: the report holds the same content and pending.json is gone, so nothing changes.
    again = run(capsys, rotation_paths, write=args["write"][1:], remove=args["remove"])
    assert not again["changed"] and again["written"] == [] and again["removed"] == []
    # A shorter report replaces a longer one (a fixed scim_rotation_report_path, run after run).
    shorter = run(capsys, rotation_paths, write=[dict(args["write"][1], content="{}\n")])
    assert shorter["changed"] and shorter["written"] == [report] and open(report).read() == "{}\n"


def test_paths_refuses_to_write_through_a_link_and_writes_nothing(capsys, tmp_path):
    target = tmp_path / "elsewhere"
    target.write_text("keep")
    kept = tmp_path / "kept.json"
    kept.symlink_to(target)
    pending = tmp_path / "pending.json"
    pending.write_text('{"credential_secret": "Unit-Secret-7f3a"}')
    result = run(capsys, rotation_paths, write=[dict(path=str(kept), variable="scim_rotation_secret_file",
                                                     src=str(pending))],
                 remove=[dict(path=str(pending), variable="scim_rotation_state_dir")])
    assert result["failed"] and not result["changed"]
    assert result["msg"].startswith("scim_rotation_secret_file %s is a symbolic link" % kept)
    assert result["msg"].endswith("; nothing was written")
    assert target.read_text() == "keep" and pending.exists() and kept.is_symlink()


def test_paths_names_the_variable_of_a_missing_file_to_copy(capsys, tmp_path):
    kept, missing = str(tmp_path / "kept.json"), str(tmp_path / "pending.json")
    result = run(capsys, rotation_paths, write=[dict(path=kept, variable="scim_rotation_secret_file", src=missing)])
    assert result["failed"] and not result["changed"] and not os.path.exists(kept)
    assert result["msg"].startswith("scim_rotation_secret_file %s: cannot read %s: " % (kept, missing))
    result = run(capsys, rotation_paths, write=[dict(path=kept, variable="v", src=missing, content="x")])
    assert result["failed"] and "mutually exclusive" in result["msg"]
