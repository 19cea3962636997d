"""Work that a whole pytest session needs once, whichever xdist worker asks first.

A session- or module-scoped fixture runs once per xdist worker: with three workers, three artifact builds and
three benchmark smoke runs, where one would do. `once_per_session` runs `produce(folder)` in the first worker
that asks; the others wait on a lock and get the same JSON value and folder. The folder and the lock live in the
session's base temporary folder, which pytest makes private to this user and shares between its workers. Without
xdist it simply runs `produce` in a fresh folder.
"""

import fcntl
import json
import os


def once_per_session(tmp_path_factory, name, produce):
    """produce(folder) -> a JSON value, computed once per session and returned to every worker that asks."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return produce(str(tmp_path_factory.mktemp(name)))
    shared = tmp_path_factory.getbasetemp().parent  # pytest-<n>/, the parent of every worker's popen-gw<k>/
    folder = shared / name
    result = shared / (name + ".json")
    fd = os.open(str(shared / (name + ".lock")), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # the first worker holds it while it produces; the others wait here
        if result.is_file():
            with open(str(result)) as handle:
                return json.load(handle)
        folder.mkdir(mode=0o700, exist_ok=True)
        value = produce(str(folder))
        partial = shared / (name + ".json.partial")
        with open(str(partial), "w") as handle:
            json.dump(value, handle)
        os.replace(str(partial), str(result))
        return value
    finally:
        os.close(fd)
