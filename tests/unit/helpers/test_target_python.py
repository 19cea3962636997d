"""The managed node's Python of the test sessions (tests/conftest.py, tests/helpers/ansible.py): modules run with an
interpreter that has the standard library only, so a module that imports a package ansible-core does not ship
fails in the tests instead of passing because the test venv has that package."""

import os
import subprocess
import sys

from tests.helpers.ansible import PlaybookRunner, target_python


class _NoEmulator(object):
    url = "http://127.0.0.1:9"


def test_the_session_made_a_standard_library_only_python():
    python = target_python()
    assert python != sys.executable
    assert os.environ["CLOUDSSO_TEST_TARGET_PYTHON"] == python
    folder = os.path.dirname(os.path.dirname(python))
    assert os.stat(folder).st_mode & 0o777 == 0o700
    same_version = "import sys; print('%d.%d' % sys.version_info[:2])"
    assert subprocess.run([python, "-c", same_version], capture_output=True, text=True,
                          check=True).stdout.strip() == "%d.%d" % sys.version_info[:2]
    for stdlib in ("json", "ssl", "http.client", "zipfile"):
        subprocess.run([python, "-c", "import " + stdlib], check=True, capture_output=True)
    # what the test venv has and a managed node does not
    for package in ("yaml", "alibabacloud_cloudsso20210515", "requests", "typing_extensions", "ansible"):
        __import__(package)
        proc = subprocess.run([python, "-c", "import " + package], capture_output=True, text=True)
        assert proc.returncode == 1 and "ModuleNotFoundError" in proc.stderr, (package, proc.stderr)


def test_playbook_runs_use_it(tmp_path):
    runner = PlaybookRunner(tmp_path, _NoEmulator(), {"id": "LTAI-test", "secret": "not-a-secret"})
    with open(runner.inventory) as handle:
        assert "ansible_python_interpreter=%s\n" % target_python() in handle.read()
