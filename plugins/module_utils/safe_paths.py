# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Folders and files on a controller that other users share (bastions, AWX execution nodes, laptops).

Three rules, in one place:
- a folder this collection creates is made 0700; a folder that exists is never chmod-ed or chown-ed;
- a folder is trusted only when it is owned by this user (or root) and nobody else can write in it, unless
  it carries the sticky bit (as /tmp does); a private folder (one that holds secrets) must be owned by
  this user and closed to group and others;
- a file where a regular file is expected is opened with O_NOFOLLOW and O_NONBLOCK (a FIFO must not
  hang the run) and refused unless it is a regular file owned by this user.

Errors name the path and the problem, never a file's content. The rotation_paths module's runner and its
deciders are at the end.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import os
import stat
import tempfile

O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
MAX_COPY_BYTES = 1048576  # a file the role copies (a secret file) is far smaller


class UnsafePathError(Exception):
    """A path this collection must not use; the message names the path (and the option, when known)."""


def _label(path, option):
    return "%s %s" % (option, path) if option else path


def _kind(mode):
    for test, name in ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISDIR, "a directory"), (stat.S_ISREG, "a regular file")):
        if test(mode):
            return name
    return "not a regular file"


def folder_problem(st, private=False, uid=None):
    """Why a folder with stat result `st` cannot be trusted, or None. `private`: it will hold secrets."""
    uid = os.geteuid() if uid is None else uid
    if not stat.S_ISDIR(st.st_mode):
        return "is %s, not a folder" % _kind(st.st_mode)
    if private:
        if st.st_uid != uid:
            return "is owned by uid %d, not by this user (uid %d)" % (st.st_uid, uid)
        if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            return "has mode %04o: group and others must have no access (0700)" % stat.S_IMODE(st.st_mode)
        return None
    if st.st_uid not in (uid, 0):
        return "is owned by uid %d, neither this user (uid %d) nor root" % (st.st_uid, uid)
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not st.st_mode & stat.S_ISVTX:
        return ("has mode %04o: others can write in it and it has no sticky bit, so they could replace what this "
                "collection writes there" % stat.S_IMODE(st.st_mode))
    return None


def check_folder(path, option=None, private=False):
    """Raise UnsafePathError unless `path` is a folder that can be trusted (see folder_problem). A symbolic
    link to a folder is judged by its target, and the link itself must be trustworthy too."""
    try:
        link = os.lstat(path)
        target = os.stat(path)
    except OSError as error:
        raise UnsafePathError("%s: %s" % (_label(path, option), error.strerror or type(error).__name__))
    if stat.S_ISLNK(link.st_mode) and link.st_uid not in (os.geteuid(), 0):
        raise UnsafePathError("%s is a symbolic link owned by uid %d, not by this user"
                              % (_label(path, option), link.st_uid))
    problem = folder_problem(target, private=private)
    if problem:
        raise UnsafePathError("%s %s" % (_label(path, option), problem))


def missing_folders(path):
    """The folders from the first missing ancestor of `path` down to `path` itself, outermost first."""
    missing = []
    current = os.path.abspath(path)
    while not os.path.lexists(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    return list(reversed(missing))


def ensure_folder(path, option=None, private=False, check_mode=False):
    """Make `path` (and missing parents) with mode 0700, or check the existing one; never chmod.
    Returns the folders created (or that would be, in check mode). The nearest existing ancestor must be
    trustworthy, so nothing is created inside a folder another user controls."""
    path = os.path.abspath(path)
    missing = missing_folders(path)
    anchor = os.path.dirname(missing[0]) if missing else None
    if anchor is not None:
        check_folder(anchor, option="%s (parent folder)" % option if option else "parent folder")
    if check_mode:
        if not missing:
            check_folder(path, option=option, private=private)
        return missing
    for folder in missing:
        try:
            os.mkdir(folder, 0o700)
        except OSError as error:
            if error.errno != errno.EEXIST:
                raise UnsafePathError("%s: cannot create %s: %s"
                                      % (_label(path, option), folder, error.strerror or type(error).__name__))
    check_folder(path, option=option, private=private)
    return missing


def open_regular(path, flags=os.O_RDONLY, mode=0o600, option=None, owner_only=True, follow_links=False):
    """os.open() that follows no symbolic link, never blocks on a FIFO, and refuses anything but a regular
    file (owned by this user when `owner_only`). Returns the descriptor, in blocking mode.
    `follow_links`: a symbolic link is followed (its target must still be a regular file), for files the
    platform mounts as links (Kubernetes projected tokens)."""
    try:
        fd = os.open(path, flags | (0 if follow_links else O_NOFOLLOW) | O_NONBLOCK, mode)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise UnsafePathError("%s is a symbolic link; give the real path" % _label(path, option))
        if error.errno == errno.ENXIO:  # a FIFO opened for writing with no reader
            raise UnsafePathError("%s is a FIFO, not a regular file" % _label(path, option))
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafePathError("%s is %s, not a regular file" % (_label(path, option), _kind(st.st_mode)))
        if owner_only and st.st_uid != os.geteuid():
            raise UnsafePathError("%s is owned by uid %d, not by this user (uid %d)"
                                  % (_label(path, option), st.st_uid, os.geteuid()))
        if O_NONBLOCK:
            import fcntl  # POSIX only, like O_NONBLOCK itself
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~O_NONBLOCK)
    except BaseException:
        os.close(fd)
        raise
    return fd


def refuse_special(path, option=None):
    """Raise UnsafePathError when `path` exists and is not a regular file (a FIFO, a socket, a device, a
    symbolic link, a folder); do nothing when it does not exist."""
    try:
        st = os.lstat(path)
    except OSError:
        return
    if not stat.S_ISREG(st.st_mode):
        raise UnsafePathError("%s is %s; this collection writes only regular files"
                              % (_label(path, option), _kind(st.st_mode)))


def read_regular(path, option=None, limit=MAX_COPY_BYTES):
    """The content (bytes) of a regular file of this user, opened as open_regular() opens it (no symbolic link,
    no FIFO), at most `limit` bytes."""
    with os.fdopen(open_regular(path, option=option), "rb") as handle:
        content = handle.read(limit + 1)
    if len(content) > limit:
        raise UnsafePathError("%s is larger than %d bytes" % (_label(path, option), limit))
    return content


def holds(path, content, option=None):
    """Whether `path` is already a regular file of this user with mode 0600 that holds `content` (bytes);
    False when it does not exist. Anything but a regular file of this user is refused (open_regular)."""
    if not os.path.lexists(path):
        return False
    with os.fdopen(open_regular(path, option=option), "rb") as handle:
        st = os.fstat(handle.fileno())
        if stat.S_IMODE(st.st_mode) != 0o600 or st.st_size != len(content):
            return False
        return handle.read(len(content) + 1) == content


def replace_file(path, content):
    """Write `content` (bytes) to `path` atomically: a new 0600 file of this user in the same folder (made with
    O_EXCL, so never through a link), fsync, renamed over `path` (a link there is replaced, never followed), then
    the folder fsync-ed."""
    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=folder)
    try:
        try:
            os.fchmod(fd, 0o600)
            view = memoryview(content)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, path)
    except BaseException:
        if os.path.lexists(tmp):
            os.unlink(tmp)
        raise
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def remove_file(path, option=None):
    """Remove `path` when it exists (a symbolic link is removed itself, never what it points to); a folder is
    refused. Returns whether there was something to remove."""
    try:
        st = os.lstat(path)
    except OSError as error:
        if error.errno in (errno.ENOENT, errno.ENOTDIR):
            return False
        raise
    if stat.S_ISDIR(st.st_mode):
        raise UnsafePathError("%s is a directory; this collection removes only files" % _label(path, option))
    os.unlink(path)
    return True


def writable_folder(path):
    """Whether `path` is a folder (or a link to one) that this user may write in. Looks only: nothing is made,
    opened or changed."""
    return os.path.isdir(path) and os.access(path, os.W_OK)


def relative_paths(pairs):
    """Messages for the relative paths among (option, path) pairs: a relative path would be resolved against
    whatever folder the module happens to run in (the playbook's, or a temporary one), not where the user meant."""
    return ["%s is a relative path; give an absolute one (or one that starts with ~): it would land in the folder "
            "the module runs in" % _label(path, option) for option, path in pairs if path and not os.path.isabs(path)]


# --- the rotation_paths module ---------------------------------------------------------------------------

def check_file(path, variable):
    """A file to be written: absent, or a regular file of this user (opened without following a link or
    blocking on a FIFO, then closed)."""
    refuse_special(path, option=variable)
    if os.path.lexists(path):
        os.close(open_regular(path, option=variable))


def open_folder_warning(variable, path, mode):
    """The warning about a folder (of stat mode `mode`) that will keep a secret and that group or others may
    enter, or None."""
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return ("%s: the folder %s can be entered by other users (mode %04o); keep secrets in a folder only you can "
                "read (0700)" % (variable, path, stat.S_IMODE(mode)))
    return None


def paths_failure(problem, created, check_mode, removed=()):
    """(message, changed) of a run stopped by `problem` after making the folders (and writing the files) `created`
    and removing the files `removed` (in check mode, none of it was done)."""
    if check_mode or not (created or removed):
        return problem + "; nothing was written", False
    done = [("made before it: %s" % ", ".join(created)) if created else "",
            ("removed before it: %s" % ", ".join(removed)) if removed else ""]
    return "; ".join([problem] + [part for part in done if part]), True


def would_remove(path, option=None):
    """Whether remove_file() would remove something at `path` (check mode); a folder is refused as it refuses it."""
    if os.path.isdir(path) and not os.path.islink(path):
        raise UnsafePathError("%s is a directory; this collection removes only files" % _label(path, option))
    return os.path.lexists(path)


def secret_in(content):
    """The credential_secret of a secret file's content (bytes), or None: to be registered before any output."""
    try:
        data = json.loads(content.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError included
        return None
    return data.get("credential_secret") if isinstance(data, dict) else None


def on_file(item, verb, call, *args):
    """call(*args), its OSError as an UnsafePathError that names the item's variable and path."""
    try:
        return call(*args)
    except OSError as error:
        label = _label(item["path"], item["variable"])
        raise UnsafePathError("%s: cannot %s it: %s" % (label, verb, error.strerror or type(error).__name__))


class RotationPathsRunner(object):
    """Runs the rotation_paths module on a CollectionModule: every folder and file is checked (and every source
    read) before any folder is made; then the folders are made, the files written, and the files to remove
    removed, in this order."""

    def __init__(self, module):
        self.module = module
        self.params = module.params

    def run(self):
        p = self.params
        entries = p["folders"] + p["files"] + p["write"] + p["remove"]
        problems = relative_paths([(item["variable"], item["path"]) for item in entries]
                                  + [(item["variable"], item["src"]) for item in p["write"] if item["src"]])
        if problems:
            self.module.fail_json(msg="; ".join(problems), changed=False)
        check_mode = self.module.check_mode
        created, written, removed = [], [], []
        try:
            for item in p["folders"]:
                if not item["create"] or os.path.lexists(item["path"]):
                    check_folder(item["path"], option=item["variable"], private=item["private"])
            for item in p["files"] + p["write"]:
                check_file(item["path"], item["variable"])
            contents = [self.content(item) for item in p["write"]]
            for item in p["folders"]:
                if item["create"]:
                    created += ensure_folder(item["path"], option=item["variable"], private=item["private"],
                                             check_mode=check_mode)
                if item["warn_unless_private"] and os.path.isdir(item["path"]):
                    warning = open_folder_warning(item["variable"], item["path"], os.stat(item["path"]).st_mode)
                    if warning:
                        self.module.warn(warning)
            for item, content in zip(p["write"], contents):
                if not holds(item["path"], content, option=item["variable"]):
                    if not check_mode:
                        on_file(item, "write", replace_file, item["path"], content)
                    written.append(item["path"])
            for item in p["remove"]:
                if on_file(item, "remove", would_remove if check_mode else remove_file, item["path"], item["variable"]):
                    removed.append(item["path"])
        except UnsafePathError as error:
            message, changed = paths_failure(str(error), created + written, check_mode, removed)
            self.module.fail_json(msg=message, changed=changed, created=created, written=written, removed=removed)
        self.module.exit_json(changed=bool(created or written or removed), created=created, written=written,
                              removed=removed)

    def content(self, item):
        """The bytes to write: `content`, or the content of `src` (whose secret, if any, is registered first)."""
        if item["src"] is None:
            return item["content"].encode("utf-8")
        try:
            content = read_regular(item["src"], option="%s (the file to copy)" % item["variable"])
        except OSError as error:
            label, why = _label(item["path"], item["variable"]), error.strerror or type(error).__name__
            raise UnsafePathError("%s: cannot read %s: %s" % (label, item["src"], why))
        self.module.register_secret(secret_in(content))
        return content
