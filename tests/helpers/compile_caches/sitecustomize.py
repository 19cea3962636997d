"""Test sessions only: two caches of work that every ansible-playbook run and every module process repeats.

1. Bytecode (CLOUDSSO_TEST_BYTECODE_CACHE, a private folder). Python cannot write bytecode into a zip, so every
   module process compiles ansible-core's module_utils and ours from its AnsiballZ zip again: about 0.15 CPU s of
   the 0.35 a task of this collection costs. The code run is the same: it is compiled from the same source, keyed
   by the source's SHA-256, and the file names in tracebacks stay those of the zip.
2. AnsiballZ zips (CLOUDSSO_TEST_ANSIBALLZ_CACHE, a private folder made for one pytest session). ansible-core
   builds a module's zip once per run (parsing every module_util it imports: about 0.13 CPU s per module and run)
   and keeps it in the run's own temporary folder. Here that folder's ansiballz_cache is a link to a folder
   shared by the session's runs that see the same module sources: its name is a digest of ansible-core's version
   and of every module and module_util (path, size, modification time) under the run's collection paths. ansible-core
   builds, locks and reads the zips itself, as in one run; the zips are the same.

tests/conftest.py puts this folder on PYTHONPATH and sets both variables; without them this file does nothing.
Benchmarks run without either (benchmarks/common.py): they measure what users run.
"""

import os
import stat
import sys


def _private_folder(path):
    """The folder, if it is ours and no one else may write or read it: a planted one must not feed us code."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None
    return path


def _install(folder):
    import _imp
    import hashlib
    import marshal
    import zipimport

    compile_source = zipimport._compile_source
    marker = "_payload.zip" + os.sep  # ansible-core's AnsiballZ: <tmp>/ansible_<module>_payload.zip/<path in zip>
    salt = ("%s\0%d\0" % (sys.implementation.cache_tag, sys.flags.optimize)).encode()

    def cached_compile(pathname, source):
        inside = pathname.partition(marker)[2]
        if not inside:
            return compile_source(pathname, source)
        name = hashlib.sha256(salt + inside.encode() + b"\0" + source).hexdigest()
        path = os.path.join(folder, name)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            fd = None
        if fd is not None:
            with os.fdopen(fd, "rb") as handle:
                info = os.fstat(handle.fileno())
                if stat.S_ISREG(info.st_mode) and info.st_uid == os.getuid():
                    try:
                        code = marshal.loads(handle.read())
                    except (EOFError, ValueError, TypeError):
                        code = None
                    if code is not None:
                        _imp._fix_co_filename(code, pathname)
                        return code
        code = compile_source(pathname, source)
        partial = "%s.%d.tmp" % (path, os.getpid())
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(marshal.dumps(code))
            os.replace(partial, path)  # atomic: a parallel process reads the old file or the whole new one
        except OSError:
            pass
        return code

    zipimport._compile_source = cached_compile


def _module_sources_digest(constants):
    """Digest of what the zips of this run are built from: ansible-core, and the modules and module_utils of every
    collection the run can load (its collection paths, and a `collections` folder beside each playbook)."""
    import glob
    import hashlib

    import ansible

    # Only the files count, not the folders looked in: each run has its own ANSIBLE_HOME and playbook folder.
    patterns = [os.path.join(root, "ansible_collections", "*", "*", "plugins", "module*", "**", "*.py")
                for root in constants.COLLECTIONS_PATHS]
    patterns += [os.path.join(os.path.dirname(os.path.abspath(arg)), "collections", "ansible_collections", "*", "*",
                              "plugins", "module*", "**", "*.py") for arg in sys.argv[1:] if arg.endswith((".yml", ".yaml"))]
    patterns += [os.path.join(folder, "**", "*.py")
                 for folder in list(constants.DEFAULT_MODULE_PATH) + list(constants.DEFAULT_MODULE_UTILS_PATH)]
    digest = hashlib.sha256(("%s\0%s\0" % (ansible.__version__, os.path.realpath(ansible.__file__))).encode())
    for pattern in patterns:  # in the order ansible-core looks: the first collection found wins
        for path in sorted(glob.glob(pattern, recursive=True)):
            info = os.stat(path)
            digest.update(("%s\0%d\0%d\0" % (os.path.realpath(path), info.st_size, info.st_mtime_ns)).encode())
    return digest.hexdigest()[:32]


def _share_ansiballz_cache(constants, folder):
    """Replace nothing: add the link <run's temporary folder>/ansiballz_cache -> <folder>/<digest> before the run
    builds its first zip. Any failure leaves the run with its own cache, as without this file."""
    shared = os.path.join(folder, _module_sources_digest(constants))
    try:
        os.mkdir(shared, 0o700)
    except FileExistsError:
        pass
    if _private_folder(shared):
        os.symlink(shared, os.path.join(constants.DEFAULT_LOCAL_TMP, "ansiballz_cache"))


def _after_ansible_constants(folder):
    """Run _share_ansiballz_cache once ansible.constants is loaded: it makes the run's temporary folder."""
    import importlib.abc
    import importlib.machinery

    class AfterConstants(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name != "ansible.constants":
                return None
            sys.meta_path.remove(self)
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            if spec is None or spec.loader is None:
                return spec
            exec_module = spec.loader.exec_module

            def exec_then_share(module):
                exec_module(module)
                try:
                    _share_ansiballz_cache(module, folder)
                except Exception as error:  # the run goes on with its own cache
                    sys.stderr.write("AnsiballZ cache not shared: %r\n" % (error,))

            spec.loader.exec_module = exec_then_share
            return spec

    sys.meta_path.insert(0, AfterConstants())


_folder = _private_folder(os.environ.get("CLOUDSSO_TEST_BYTECODE_CACHE", ""))
if _folder:
    _install(_folder)
_folder = _private_folder(os.environ.get("CLOUDSSO_TEST_ANSIBALLZ_CACHE", ""))
if _folder and os.path.basename(sys.argv[0] if sys.argv else "") == "ansible-playbook":
    _after_ansible_constants(_folder)
