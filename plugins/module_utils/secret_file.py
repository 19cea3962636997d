# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The secret file: the one place a new SCIM secret is kept (JSON, mode 0600, written atomically).

`{"directory_id", "credential_id", "credential_secret", "create_time"}`. A token file for the probe may
also be a plain file holding only the token.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat
import tempfile

SECRET_KEYS = ("directory_id", "credential_id", "credential_secret", "create_time")


class SecretFileError(Exception):
    """A problem with the file; the message names the path and never its content."""


def check_writable(path):
    """Fail before any API call if the file could not be written: the parent folder must exist and be
    writable, and the path must not be a directory or a symlink (a symlink could send the secret
    somewhere the user did not choose)."""
    if os.path.islink(path):
        raise SecretFileError("secret file %s is a symbolic link; give the real path" % path)
    if os.path.isdir(path):
        raise SecretFileError("secret file %s is a directory" % path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise SecretFileError("the folder of secret file %s does not exist" % path)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise SecretFileError("the folder of secret file %s is not writable" % path)
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise SecretFileError("secret file %s is not writable" % path)


def folder_is_private(path):
    """True when neither group nor others can read or enter the file's folder."""
    mode = os.stat(os.path.dirname(os.path.abspath(path))).st_mode
    return not mode & (stat.S_IRWXG | stat.S_IRWXO)


def read_secret_file(path):
    """The secret file's fields, or None when it does not exist."""
    if os.path.isdir(path):
        raise SecretFileError("secret file %s is a directory" % path)
    try:
        with open(path, "r") as handle:
            content = handle.read()
    except (IOError, OSError) as error:
        if not os.path.exists(path):
            return None
        raise SecretFileError("cannot read secret file %s: %s" % (path, error.strerror or type(error).__name__))
    try:
        data = json.loads(content)
    except ValueError:
        raise SecretFileError("secret file %s is not the JSON this collection writes" % path)
    if not isinstance(data, dict) or not data.get("credential_id") or not data.get("credential_secret"):
        raise SecretFileError("secret file %s lacks credential_id or credential_secret" % path)
    return data


def read_token(path):
    """A bearer token from `path`: a secret file's credential_secret, or the whole content of a plain
    token file (surrounding whitespace removed)."""
    try:
        with open(path, "r") as handle:
            content = handle.read()
    except (IOError, OSError) as error:
        raise SecretFileError("cannot read token file %s: %s" % (path, error.strerror or type(error).__name__))
    stripped = content.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError:
            data = None
        if isinstance(data, dict) and data.get("credential_secret"):
            return data["credential_secret"]
        raise SecretFileError("token file %s is JSON without credential_secret" % path)
    if not stripped:
        raise SecretFileError("token file %s is empty" % path)
    return stripped


def write_secret_file(path, data):
    """Write atomically: a 0600 temporary file in the same folder, fsync, rename, fsync the folder."""
    check_writable(path)
    folder = os.path.dirname(os.path.abspath(path))
    payload = json.dumps(dict((k, data.get(k)) for k in SECRET_KEYS), indent=2, sort_keys=True) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=folder)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
