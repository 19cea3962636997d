"""Make the collection importable as ansible_collections.alicloud.cloudsso, and tests.helpers importable."""

import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, ".build", "collections")
LINK = os.path.join(COLLECTIONS, "ansible_collections", "alicloud", "cloudsso")


def _ensure_collection_link():
    if os.path.islink(LINK) and os.path.realpath(LINK) == ROOT:
        return
    os.makedirs(os.path.dirname(LINK), exist_ok=True)
    tmp = "%s.%d.tmp" % (LINK, os.getpid())
    os.symlink(ROOT, tmp)
    os.replace(tmp, LINK)  # atomic, so parallel pytest workers do not race


_ensure_collection_link()
for path in (COLLECTIONS, ROOT):
    if path not in sys.path:
        sys.path.insert(0, path)


# Work every run repeats, cached for the processes a pytest session starts (tests/helpers/compile_caches/
# sitecustomize.py): the bytecode of what module processes import from their AnsiballZ zip (kept in .build, keyed by
# the source's SHA-256; CLOUDSSO_TEST_BYTECODE_CACHE=off turns it off), and the AnsiballZ zips ansible-playbook
# builds (shared by the runs of this session only; CLOUDSSO_TEST_ANSIBALLZ_CACHE=off). Each folder is ours and
# private (0700), or its cache stays off: a folder another user made must not feed us code.
BYTECODE_CACHE = os.path.join(ROOT, ".build", "bytecode-cache")
COMPILE_CACHES_HOOK = os.path.join(ROOT, "tests", "helpers", "compile_caches")


def _private_folder(path, make):
    import stat

    if make:
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        sys.stderr.write("compile cache off: %s is not a private folder of this user\n" % path)
        return False
    return True


def _session_folder(config, prefix):
    """A fresh private folder (mkdtemp: 0700, a random name) removed at the end of the pytest session."""
    import tempfile

    folder = tempfile.mkdtemp(prefix=prefix)
    config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
    return folder


def _enable_compile_caches(config):
    enabled = False
    if os.environ.get("CLOUDSSO_TEST_BYTECODE_CACHE") != "off" and _private_folder(BYTECODE_CACHE, make=True):
        os.environ["CLOUDSSO_TEST_BYTECODE_CACHE"] = BYTECODE_CACHE
        enabled = True
    # Made by the session's first process (xdist's controller) and inherited by its workers; removed at its end.
    if os.environ.get("CLOUDSSO_TEST_ANSIBALLZ_CACHE") != "off" and not hasattr(config, "workerinput"):
        os.environ["CLOUDSSO_TEST_ANSIBALLZ_CACHE"] = _session_folder(config, "cloudsso-ansiballz.")
        enabled = True
    if enabled:
        paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != COMPILE_CACHES_HOOK]
        os.environ["PYTHONPATH"] = os.pathsep.join([COMPILE_CACHES_HOOK] + paths)


# The managed node's Python: modules run with an interpreter that has the standard library only (a venv without
# pip, made once per session by xdist's controller), as on a host where only Python is installed. A module that
# imports a package ansible-core does not ship (the Alibaba Cloud SDK, requests) fails here instead of passing
# because the test venv has it; and a module process skips the test venv's site-packages (typing_extensions,
# which ansible-core's module_utils import when present: about 0.02 of a module's 0.12 CPU s).
# CLOUDSSO_TEST_TARGET_PYTHON=<python> chooses another one (sys.executable: the test venv's).
def _make_target_python(config):
    import venv

    if os.environ.get("CLOUDSSO_TEST_TARGET_PYTHON") or hasattr(config, "workerinput"):
        return
    folder = _session_folder(config, "cloudsso-target-python.")
    venv.EnvBuilder(with_pip=False, symlinks=True).create(folder)
    os.environ["CLOUDSSO_TEST_TARGET_PYTHON"] = os.path.join(folder, "bin", "python")


# Longest first: with xdist the slow cases start at once and the short ones fill in around them, instead of a
# slow case starting last and running alone. tests/durations.json holds seconds per test id, measured
# (scripts/durations.py from a `--durations=0` output); a test it does not know runs after the known ones.
DURATIONS = os.path.join(ROOT, "tests", "durations.json")


def pytest_collection_modifyitems(config, items):
    if not os.path.exists(DURATIONS):
        return
    import json

    with open(DURATIONS) as handle:
        seconds = json.load(handle)
    items.sort(key=lambda item: -seconds.get(item.nodeid, 0.0))  # stable: unknown ones keep their order


# Wall and CPU seconds per suite when one session runs several (make test): tests/helpers/suite_times.py.
from tests.helpers import suite_times  # noqa: E402
from tests.helpers.suite_times import (  # noqa: E402,F401  (hooks pytest finds by name)
    pytest_runtest_makereport,
    pytest_runtest_setup,
)


def pytest_configure(config):
    suite_times.pytest_configure(config)
    # In pytest's session only: benchmarks import this file too, and measure what users run.
    _enable_compile_caches(config)
    _make_target_python(config)
