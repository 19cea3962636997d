"""The test sessions' shared AnsiballZ cache (tests/helpers/compile_caches/sitecustomize.py): runs that see the same
module sources use the zip the first one built; a changed module gets a new one; a folder that is not private is
not used; each run's own temporary folder is still removed."""

import os
import re
import subprocess
import sys

HOOK = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "helpers",
                    "compile_caches")
BIN = os.path.dirname(sys.executable)
MODULE = """#!/usr/bin/python
from ansible.module_utils.basic import AnsibleModule


def main():
    AnsibleModule(argument_spec={}).exit_json(changed=False, answer=%r)


if __name__ == '__main__':
    main()
"""
PLAY = """- hosts: localhost
  gather_facts: false
  tasks:
    - hello:
      register: said
    - ansible.builtin.debug:
        msg: "answer={{ said.answer }}"
"""
ZIP = "ansible.legacy.hello-ZIP_DEFLATED-none"


def write_module(tmp_path, answer):
    library = tmp_path / "library"
    library.mkdir(exist_ok=True)
    (library / "hello.py").write_text(MODULE % answer)


def run(tmp_path, cache):
    (tmp_path / "play.yml").write_text(PLAY)
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith("ANSIBLE_"))
    env.update(PYTHONPATH=HOOK, CLOUDSSO_TEST_ANSIBALLZ_CACHE=str(cache), ANSIBLE_LIBRARY=str(tmp_path / "library"),
               ANSIBLE_HOME=str(tmp_path / "home"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "local-tmp"),
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), str(tmp_path / "play.yml")], env=env,
                          cwd=str(tmp_path), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "not shared" not in proc.stderr
    assert os.listdir(str(tmp_path / "local-tmp")) == []  # the run's own folder (and the link in it) is gone
    return re.search(r'"msg": "answer=(\w+)"', proc.stdout).group(1)


def shared_folders(cache):
    return sorted(os.listdir(str(cache)))


def test_runs_with_the_same_sources_share_the_zip(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    write_module(tmp_path, "one")
    assert run(tmp_path, cache) == "one"
    (digest,) = shared_folders(cache)
    zipped = cache / digest / ZIP
    assert oct(os.stat(str(cache / digest)).st_mode & 0o777) == "0o700"
    built = os.stat(str(zipped))
    assert run(tmp_path, cache) == "one"
    assert shared_folders(cache) == [digest]
    again = os.stat(str(zipped))
    assert (again.st_ino, again.st_mtime_ns) == (built.st_ino, built.st_mtime_ns)  # used, not built again


def test_a_changed_module_gets_its_own_zip(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    write_module(tmp_path, "one")
    assert run(tmp_path, cache) == "one"
    write_module(tmp_path, "three")
    assert run(tmp_path, cache) == "three"
    assert len(shared_folders(cache)) == 2


def test_a_folder_others_can_enter_is_not_used(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o755)
    os.chmod(str(cache), 0o755)
    write_module(tmp_path, "one")
    assert run(tmp_path, cache) == "one"
    assert shared_folders(cache) == []
