"""Safe on a shared controller (issue 13, the role's part): the rotation role and its modules on a controller
other users and processes share, tried as a hostile local user and as a careless one would.

- Folders: a missing one is made 0700; an existing one keeps its mode and owner (a report in a sticky folder
  such as /tmp no longer turns it into drwx------); a state or report folder that others may write in (no
  sticky bit) or another user owns is refused before any write, naming the variable. So is a folder of
  `scim_rotation_secret_file` reached through a symbolic link to such a folder.
- Special files: a FIFO at `<state_dir>/<directory>/rotation.lock` is refused instead of hanging the run.
- Check mode makes, locks and writes nothing on disk; the report is printed and handed to set_stats.
- One `scim_rotation_secret_file` for two hosts of a play: both refused before any write.
- Input: a trailing newline in a directory ID, a credential ID or a region; a relative secret file or state
  folder; the secret file's folder open to others (warned); the scim_credential EXAMPLES entry that keeps the
  secret in a variable, run as written.

"Another user" is uid 65534: the suite runs as root, which owns the rest.
"""

import json
import os
import re
import stat
import tempfile

import pytest
import yaml

from tests.helpers.ansible import REGION, ROOT
from tests.reliability.harness import Batch, Rotation, write_calls
from tests.reliability.test_bad_input import role_case_problems, run_role_cases

OTHER_UID = 65534
AS_ROOT = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a folder to another user")


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def folder(parent, name, mode_bits, owner=None):
    path = os.path.join(parent, name)
    os.mkdir(path)
    os.chmod(path, mode_bits)
    if owner is not None:
        os.chown(path, owner, owner)
    return path


def test_existing_shared_folders_keep_their_mode_and_the_secret_folder_is_warned_about(cloud, work):
    """A state folder of this user with mode 0755, a report in a sticky 1777 folder (as /tmp) and a secret file in
    a 0755 folder: the rotation goes through, the folders keep their modes, the new private folder, the report and
    the kept secret are 0700/0600, and the secret file's folder gets a warning (as the module gives one)."""
    shared = tempfile.mkdtemp(prefix="rel-shared-", dir=work)
    state_dir = folder(shared, "state", 0o755)
    sticky = folder(shared, "tmp", 0o1777)
    secrets = folder(shared, "secrets", 0o755)
    world = Rotation(cloud, 1, idp="custom", name="shared-folders", state_dir=state_dir)
    (directory_id,) = world.directories
    report = os.path.join(sticky, "report-%s.json" % directory_id)
    kept = os.path.join(secrets, "kept.json")
    cloud.runner.allow_secret_file(kept)
    run = world.run(extra_vars=dict(scim_rotation_report_path=report, scim_rotation_secret_file=kept))
    assert not world.invariant_problems(directory_id)
    assert (mode(state_dir), mode(sticky), mode(secrets)) == (0o755, 0o1777, 0o755)
    assert mode(os.path.join(state_dir, directory_id)) == 0o700
    assert mode(report) == 0o600 and mode(kept) == 0o600
    with open(report) as handle:
        assert json.load(handle)["outcome"] == "rotated"
    warning = re.sub(r"\s+", " ", run.stdout + run.stderr)
    assert "scim_rotation_secret_file: the folder %s can be entered by other users (mode 0755)" % secrets in warning


def refusal_cases(work):
    """(variable, case id, host vars, regex, folders that must stay as they are) for each refusal."""
    base = tempfile.mkdtemp(prefix="rel-untrusted-", dir=work)
    os.chmod(base, 0o755)
    others_state = folder(base, "others-state", 0o700, owner=OTHER_UID)
    open_state = folder(base, "open-state", 0o777)
    open_reports = folder(base, "open-reports", 0o777)
    others_reports = folder(base, "others-reports", 0o755, owner=OTHER_UID)
    open_secrets = folder(base, "open-secrets", 0o777)
    linked_secrets = os.path.join(base, "linked-secrets")
    os.symlink(open_secrets, linked_secrets)
    cases = [
        ("scim_rotation_state_dir", "of another user", {"scim_rotation_state_dir": others_state},
         r"scim_rotation_state_dir \S+others-state is owned by uid %d" % OTHER_UID, [others_state]),
        ("scim_rotation_state_dir", "writable by all", {"scim_rotation_state_dir": open_state},
         r"scim_rotation_state_dir \S+open-state has mode 0777", [open_state]),
        ("scim_rotation_state_dir", "relative", {"scim_rotation_state_dir": "state-here"},
         r"scim_rotation_state_dir state-here is a relative path", []),
        ("scim_rotation_report_path", "folder writable by all",
         {"scim_rotation_report_path": os.path.join(open_reports, "r.json")},
         r"scim_rotation_report_path \S+open-reports has mode 0777", [open_reports]),
        ("scim_rotation_report_path", "folder of another user",
         {"scim_rotation_report_path": os.path.join(others_reports, "r.json")},
         r"scim_rotation_report_path \S+others-reports is owned by uid %d" % OTHER_UID, [others_reports]),
        ("scim_rotation_secret_file", "folder linked to one writable by all",
         {"scim_rotation_secret_file": os.path.join(linked_secrets, "kept.json")},
         r"scim_rotation_secret_file \S+linked-secrets has mode 0777", [open_secrets]),
        ("scim_rotation_secret_file", "relative", {"scim_rotation_secret_file": "kept.json"},
         r"scim_rotation_secret_file kept.json is a relative path", []),
        ("scim_rotation_directory_id", "trailing newline", {"scim_rotation_directory_id": "d-00fc2p61abcd\n"},
         r"scim_rotation_directory_id 'd-00fc2p61abcd\\n' is not a CloudSSO directory ID", []),
        ("scim_rotation_region", "trailing newline", {"scim_rotation_region": REGION + "\n"},
         r"is not a valid Alibaba Cloud region ID", []),
    ]
    return cases


@AS_ROOT
def test_untrusted_folders_and_bad_paths_are_refused_before_any_write(cloud, work):
    """Each host fails before any write, naming the variable; its directory and IdP are unchanged, the folders
    keep their mode, owner and (empty) content, and no state folder of the directory was made."""
    cases = refusal_cases(work)
    before = dict((path, (os.lstat(path).st_mode, os.lstat(path).st_uid)) for case in cases for path in case[4])
    outcome = run_role_cases(cloud, work, [case[:4] for case in cases], "untrusted")
    state = os.path.join(cloud.runner.work, "state")
    problems = role_case_problems(outcome, lambda seen: ["made the directory's state folder"] if os.path.exists(
        os.path.join(state, seen["directory_id"])) else [])
    for path, (mode_bits, uid) in sorted(before.items()):
        if (os.lstat(path).st_mode, os.lstat(path).st_uid) != (mode_bits, uid) or os.listdir(path):
            problems.append("%s: mode, owner or content changed" % path)
    for relative in ("state-here", "kept.json"):
        if os.path.lexists(os.path.join(cloud.runner.work, relative)):
            problems.append("%s was made in the folder ansible-playbook ran in" % relative)
    assert not problems, "%d of %d cases broke:\n%s" % (len(problems), len(outcome), "\n".join(problems))
    assert write_calls(cloud.control.calls()) == {}


def test_a_fifo_at_the_rotation_lock_is_refused_without_hanging(cloud, work):
    """A FIFO planted at <state_dir>/<directory>/rotation.lock: the run stops at the lock, naming it, instead
    of waiting forever for a writer. (The state folder is outside the runner's folder: the leak scan reads every
    file there, and would wait on the FIFO itself.)"""
    world = Rotation(cloud, 1, idp="custom", name="fifo-lock", state_dir=os.path.join(work, "state"))
    (directory_id,) = world.directories
    private = os.path.join(world.state_dir, directory_id)
    os.makedirs(private, mode=0o700)
    lock = os.path.join(private, "rotation.lock")
    os.mkfifo(lock)
    cloud.control.reset_calls()
    run = world.run(expect_rc=2, timeout=180)
    assert re.search(r"cannot use lock file \S+rotation.lock: \S+rotation.lock is a FIFO", run.stdout), run.tail()
    assert stat.S_ISFIFO(os.lstat(lock).st_mode)
    assert write_calls(cloud.control.calls()) == {}
    assert cloud.credentials(directory_id) == {world.old[directory_id]["credential_id"]: "Enabled"}


def test_check_mode_makes_and_writes_nothing_on_disk(cloud):
    """--check on a first run: no state folder, no report folder. On a controller that already has them: no
    lock, no report, nothing changed in the recap. The plan is still printed."""
    world = Rotation(cloud, 1, idp="custom", name="check-mode")
    (directory_id,) = world.directories
    cloud.control.reset_calls()
    run = world.run(check=True)
    assert "%s: check mode: would rotate" % directory_id in run.stdout
    assert not os.path.exists(world.state_dir), os.listdir(world.state_dir)
    for name in (directory_id, "reports"):
        os.makedirs(os.path.join(world.state_dir, name), mode=0o700)
    os.chmod(world.state_dir, 0o700)
    run = world.run(check=True)
    assert sorted(os.listdir(world.state_dir)) == sorted([directory_id, "reports"])
    assert [os.listdir(os.path.join(world.state_dir, name)) for name in (directory_id, "reports")] == [[], []]
    assert re.search(r"%s\s*: ok=\d+\s+changed=0\s" % re.escape(directory_id), run.stdout), run.tail()
    assert write_calls(cloud.control.calls()) == {}


def test_one_secret_file_for_two_hosts_is_refused(cloud):
    """Two hosts of one play with the same scim_rotation_secret_file: today both would report success and the
    second overwrite the first one's kept secret. Both fail before any write, naming the other host."""
    secrets = os.path.join(cloud.work, "kept")
    os.makedirs(secrets, mode=0o700)
    kept = os.path.join(secrets, "kept.json")
    cloud.runner.allow_secret_file(kept)
    world = Rotation(cloud, 2, idp="custom", name="shared-secret-file",
                     host_vars={"scim_rotation_secret_file": kept})
    cloud.control.reset_calls()
    run = world.run(expect_rc=2)
    text = re.sub(r"\s+", " ", run.stdout)
    for mine, other in (world.directories, reversed(world.directories)):
        assert ("Invalid rotation settings for %s: scim_rotation_secret_file %s is also the secret file of host %s"
                % (mine, kept, other)) in text, run.tail()
    assert not os.path.exists(kept)
    assert write_calls(cloud.control.calls()) == {}
    for directory_id in world.directories:
        assert cloud.credentials(directory_id) == {world.old[directory_id]["credential_id"]: "Enabled"}


def test_module_input_that_slipped_through(cloud, work):
    """A trailing newline in directory_id, credential_id or region passed the ^...$ checks; a relative secret_file
    landed in the folder the module ran in; a FIFO at rotation_lock's path hung it. Each now fails before any
    call that writes, naming the option."""
    directory_id, (old,) = cloud.directory(credentials=[{}])
    fifo = os.path.join(work, "planted.lock")
    os.mkfifo(fifo)
    batch = Batch(cloud.runner, "slipped-through")
    batch.add("directory_id with a newline", "scim_credential_info", {"directory_id": directory_id + "\n"},
              expect="failed", msg=r"directory_id '%s\\n' is not a CloudSSO directory ID" % directory_id, writes={})
    batch.add("credential_id with a newline", "scim_credential",
              {"directory_id": directory_id, "credential_id": old["credential_id"] + "\n", "state": "disabled"},
              expect="failed", msg=r"is not a SCIM credential ID", writes={})
    batch.add("region with a newline", "scim_credential_info", {"directory_id": directory_id, "region": REGION + "\n"},
              expect="failed", msg=r"is not a valid Alibaba Cloud region ID", writes={})
    batch.add("relative secret_file", "scim_credential",
              {"directory_id": directory_id, "state": "enabled", "secret_file": "new.json", "force": True},
              expect="failed", msg=r"secret_file new.json is a relative path", writes={})
    batch.add("rotation_lock on a FIFO", "rotation_lock", {"path": fifo, "owner": "me"},
              expect="failed", msg=r"is a FIFO", writes={})
    batch.run(timeout=180)
    assert not batch.problems(), batch.problems()
    assert not os.path.exists(os.path.join(cloud.runner.work, "new.json"))
    assert cloud.credentials(directory_id) == {old["credential_id"]: "Enabled"}


def test_scim_credential_example_keeps_the_secret_in_a_variable(cloud):
    """The EXAMPLES entry "keep the secret in a variable" of scim_credential, as written (only the directory ID
    is this test's), on a directory without a credential: it creates one and the secret is in the variable."""
    directory_id, _ = cloud.directory()
    with open(os.path.join(ROOT, "plugins", "modules", "scim_credential.py")) as handle:
        source = handle.read()
    examples = yaml.safe_load(source.split('EXAMPLES = r"""', 1)[1].split('"""', 1)[0])
    (task,) = [t for t in examples if "keep the secret in a variable" in t["name"]]
    task = json.loads(json.dumps(task).replace("d-00fc2p61abcd", directory_id))
    check = {"name": "The secret is in the variable", "ansible.builtin.assert": {
        "that": ["created.created", "created.secret | length > 20", "created.credential.status == 'Enabled'"],
        "quiet": True, "fail_msg": "no new credential with its secret"}}
    play = os.path.join(cloud.runner.work, "example-secret-variable.yml")
    with open(play, "w") as handle:
        json.dump([{"name": "scim_credential EXAMPLES", "hosts": "localhost", "gather_facts": False,
                    "tasks": [task, check]}], handle)
    run = cloud.runner.playbook(play, expect_rc=None)
    assert run.rc == 0, run.tail()
    assert list(cloud.credentials(directory_id).values()) == ["Enabled"]


def test_one_secret_file_for_two_directories_of_an_include_role_loop_is_refused(cloud, work):
    """The role in an include_role loop on one host, two directories, one scim_rotation_secret_file: the second
    directory stops in prepare.yml, before the lock and any call, naming the first one."""
    kept = os.path.join(work, "kept.json")
    loop = [{"name": "Two directories, one secret file", "hosts": "localhost", "gather_facts": False, "tasks": [{
        "name": "Prepare each rotation",
        "ansible.builtin.include_role": {"name": "alicloud.cloudsso.scim_rotation", "tasks_from": "prepare"},
        "loop": ["d-00fc2p61aaaa", "d-00fc2p61bbbb"],
        "vars": {"scim_rotation_directory_id": "{{ item }}", "scim_rotation_secret_file": kept,
                 "scim_rotation_state_dir": os.path.join(work, "state")}}]}]
    play = os.path.join(cloud.runner.work, "include-role-loop.yml")
    with open(play, "w") as handle:
        json.dump(loop, handle)
    cloud.control.reset_calls()
    run = cloud.runner.playbook(play, expect_rc=2)
    text = re.sub(r"\s+", " ", run.stdout)
    assert ("Invalid rotation settings for d-00fc2p61bbbb: scim_rotation_secret_file %s is also the secret file of "
            "directory d-00fc2p61aaaa" % kept) in text, run.tail()
    assert "Invalid rotation settings for d-00fc2p61aaaa" not in text
    assert not os.path.exists(os.path.join(work, "state", "d-00fc2p61bbbb"))
    assert cloud.control.calls()["log"] == []
