"""Test-only action plugin of the Molecule scenarios: the harness's own files on the controller (the scenarios run
on localhost), written in the controller's worker. A ``copy`` task starts two module processes (stat, copy: about
0.8 CPU-s), a ``file`` task one per path; this starts none.

    - name: Start from an empty folder, with a private folder for the secrets
      harness_files:
        remove: [<path>, ...]       # removed with what they hold (a link: the link itself); absent is fine
        directories: [<path>, ...]  # made 0700 (and their missing parents) unless they exist
        files:                      # written 0600, never through a link, nor into a FIFO or a device
          - {path: <path>, content: <text>}
      no_log: true                  # whenever a file's content is a secret (the result never holds contents)

In that order. Ansible finds it because it lies in action_plugins/ beside the playbooks.
"""

import os
import shutil
import stat

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_bytes
from ansible.plugins.action import ActionBase


def remove(path):
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return False
    if stat.S_ISDIR(mode):
        shutil.rmtree(path)   # never follows a link inside
    else:
        os.unlink(path)
    return True


def write(path, content):
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, 0o600)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise AnsibleActionFail("%s: not a regular file" % path)
        os.ftruncate(fd, 0)
        os.fchmod(fd, 0o600)
        data = memoryview(to_bytes(content, errors="surrogate_or_strict"))
        while data:  # os.write may write less than asked
            data = data[os.write(fd, data):]
    finally:
        os.close(fd)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("remove", "directories", "files"))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = self._task.args
        changed = False
        try:
            for path in args.get("remove") or []:
                changed = remove(str(path)) or changed
            for path in args.get("directories") or []:
                if not os.path.isdir(str(path)):
                    os.makedirs(str(path), 0o700)
                    changed = True
            for item in args.get("files") or []:
                write(str(item["path"]), str(item["content"]))
                changed = True
        except OSError as error:
            raise AnsibleActionFail("%s: %s" % (error.filename, error.strerror))
        result.update(changed=changed, files=[str(item["path"]) for item in args.get("files") or []])
        return result
