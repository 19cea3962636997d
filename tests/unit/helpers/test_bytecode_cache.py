"""The test sessions' bytecode cache for AnsiballZ imports (tests/helpers/compile_caches/sitecustomize.py): the
same code runs with it as without, it is used only from a private folder, and never through a link."""

import os
import subprocess
import sys
import zipfile

HOOK = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "helpers",
                    "compile_caches")
# What the child prints: the module's answer, its __file__, and the file name a traceback from it names.
PROBE = """
import sys, traceback
sys.path.insert(0, sys.argv[1])
import payload_mod
print(payload_mod.answer())
print(payload_mod.__file__)
try:
    payload_mod.fail()
except ValueError:
    print(traceback.extract_tb(sys.exc_info()[2])[-1].filename)
"""


def make_zip(folder, answer, name="ansible_payload_mod_payload.zip"):
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("payload_mod.py", "def answer():\n    return %r\n\n\ndef fail():\n    raise ValueError()\n"
                         % answer)
    return path


def run(archive, cache):
    env = dict(os.environ, PYTHONPATH=HOOK, CLOUDSSO_TEST_BYTECODE_CACHE=str(cache))
    proc = subprocess.run([sys.executable, "-c", PROBE, archive], env=env, capture_output=True, text=True,
                          timeout=60, check=True)
    return proc.stdout.split("\n")[:3]


def cache_files(cache):
    return sorted(name for name in os.listdir(str(cache)) if not name.endswith(".tmp"))


def test_second_process_uses_the_bytecode_with_the_zips_file_names(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    first = make_zip(str(tmp_path / "run1"), "one")
    module = os.path.join(first, "payload_mod.py")
    assert run(first, cache) == ["one", module, module]
    (name,) = cache_files(cache)
    inode = os.stat(os.path.join(str(cache), name)).st_ino
    # another run's zip (another temporary path), same source: the cached code, named after the new zip
    second = make_zip(str(tmp_path / "run2"), "one")
    module = os.path.join(second, "payload_mod.py")
    assert run(second, cache) == ["one", module, module]
    assert cache_files(cache) == [name]
    assert os.stat(os.path.join(str(cache), name)).st_ino == inode  # read, not written again


def test_changed_source_is_compiled_again(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    assert run(make_zip(str(tmp_path / "a"), "old"), cache)[0] == "old"
    assert run(make_zip(str(tmp_path / "b"), "new"), cache)[0] == "new"
    assert len(cache_files(cache)) == 2


def test_off_unless_the_folder_is_private(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    os.chmod(str(cache), 0o755)  # readable by others: another user could have made it
    assert run(make_zip(str(tmp_path / "a"), "one"), cache)[0] == "one"
    assert cache_files(cache) == []


def test_only_ansiballz_payloads_are_cached(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    assert run(make_zip(str(tmp_path / "a"), "one", name="other.zip"), cache)[0] == "one"
    assert cache_files(cache) == []


def test_a_planted_link_is_not_followed(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    archive = make_zip(str(tmp_path / "a"), "real")
    run(archive, cache)
    (name,) = cache_files(cache)
    # bytecode of other code, where the cache entry was, behind a link
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    run(make_zip(str(tmp_path / "b"), "planted"), elsewhere)
    (planted,) = cache_files(elsewhere)
    os.unlink(os.path.join(str(cache), name))
    os.symlink(os.path.join(str(elsewhere), planted), os.path.join(str(cache), name))
    assert run(make_zip(str(tmp_path / "c"), "real"), cache)[0] == "real"
    assert not os.path.islink(os.path.join(str(cache), name))  # replaced by a regular file
