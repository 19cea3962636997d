"""Test sessions only: cache the bytecode of what a module process imports from its AnsiballZ zip.

Python cannot write bytecode into a zip, so every module process compiles ansible-core's module_utils and ours from
source again: about 0.15 CPU s of the 0.35 a task of this collection costs. tests/conftest.py puts this folder on
PYTHONPATH and names a private cache folder in CLOUDSSO_TEST_BYTECODE_CACHE; without that variable this file does
nothing. The code run is the same: it is compiled from the same source, keyed by the source's SHA-256, and the
file names in tracebacks stay those of the zip. Benchmarks run without it (tests/benchmarks/conftest.py).
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


_folder = _private_folder(os.environ.get("CLOUDSSO_TEST_BYTECODE_CACHE", ""))
if _folder:
    _install(_folder)
