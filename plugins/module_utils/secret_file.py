# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The secret file: the one place a new SCIM secret is kept (JSON, mode 0600, written atomically).

`{"directory_id", "credential_id", "credential_secret", "create_time"}`. A token file for the probe may
also be a plain file holding only the token, on one line. Every file is opened as safe_paths says (no
symbolic link, no FIFO, a regular file of this user or root) and read up to a bound; a token file that is
neither this collection's JSON nor one line shaped like a token is refused before anything is sent, so a
careless `token_file: /proc/self/environ` cannot put the environment in an Authorization header.

Beside a secret file, `<secret_file>.inflight` marks a create in flight (see credential_runner).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import os
import stat

from ansible_collections.alicloud.cloudsso.plugins.module_utils.safe_paths import (
    UnsafePathError,
    check_folder,
    open_regular,
    refuse_special,
    replace_file,
)

SECRET_KEYS = ("directory_id", "credential_id", "credential_secret", "create_time")
MAX_TOKEN_LENGTH = 16384     # a bearer token or a JWT client assertion is far shorter
MAX_FILE_BYTES = 65536       # a secret file or a token file is never larger
INFLIGHT_SUFFIX = ".inflight"
TOKEN_SHAPE = ("a secret file written by alicloud.cloudsso.scim_credential (JSON) or one line holding only the "
               "token (printable ASCII, no spaces, at most %d characters)" % MAX_TOKEN_LENGTH)


class SecretFileError(Exception):
    """A problem with the file; the message names the path and never its content."""


def token_problem(value):
    """Why `value` (text or bytes) is not shaped like a bearer token, or None. Never quotes it."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if not value:
        return "is empty"
    if "\n" in value or "\r" in value:
        return "holds more than one line"
    if " " in value or "\t" in value:
        return "holds spaces"
    if any(not "!" <= char <= "~" for char in value):
        return "holds characters that are not printable ASCII"
    if len(value) > MAX_TOKEN_LENGTH:
        return "is longer than %d characters" % MAX_TOKEN_LENGTH
    return None


def _read_bytes(path, what, follow_links=False, missing_ok=False):
    """The content of a regular file of this user (or root), at most MAX_FILE_BYTES; None when it does not
    exist and `missing_ok`. Refuses links (unless `follow_links`), FIFOs, devices, folders."""
    try:
        fd = open_regular(path, option=what, owner_only=False, follow_links=follow_links)
    except UnsafePathError as error:
        raise SecretFileError(str(error))
    except (IOError, OSError) as error:
        if missing_ok and error.errno in (errno.ENOENT, errno.ENOTDIR):
            return None
        if error.errno == errno.EISDIR:
            raise SecretFileError("%s %s is a directory" % (what, path))
        raise SecretFileError("cannot read %s %s: %s" % (what, path, error.strerror or type(error).__name__))
    try:
        owner = os.fstat(fd).st_uid
        if owner not in (os.geteuid(), 0):
            raise SecretFileError("%s %s is owned by uid %d, neither this user (uid %d) nor root: another user could "
                                  "have put it there" % (what, path, owner, os.geteuid()))
        chunks, size = [], 0
        while size <= MAX_FILE_BYTES:
            chunk = os.read(fd, MAX_FILE_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > MAX_FILE_BYTES:
        raise SecretFileError("%s %s is larger than %d bytes, so it is not one this collection uses"
                              % (what, path, MAX_FILE_BYTES))
    return b"".join(chunks)


def _json_of(content):
    try:
        return json.loads(content.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError included
        return None


def check_writable(path):
    """Fail before any API call if the file could not be written safely: the path must not be a
    directory, a symbolic link (it could send the secret somewhere the user did not choose), a FIFO or
    anything but a regular file; the folder must exist, be writable, and be trusted (safe_paths: owned by
    this user or root, not writable by others), whether it is reached through a symbolic link or not."""
    try:
        refuse_special(path, option="secret file")
    except UnsafePathError as error:
        raise SecretFileError(str(error))
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise SecretFileError("the folder of secret file %s does not exist" % path)
    try:
        check_folder(folder, option="folder")
    except UnsafePathError as error:
        real = os.path.realpath(folder)
        link = " (a symbolic link to %s)" % real if real != folder else ""
        raise SecretFileError("secret file %s cannot be written safely: %s%s. Keep secrets in a folder only you "
                              "can write (mode 0700)" % (path, error, link))
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
    content = _read_bytes(path, "secret file", missing_ok=True)
    if content is None:
        return None
    data = _json_of(content)
    if data is None:
        raise SecretFileError("secret file %s is not the JSON this collection writes" % path)
    if not isinstance(data, dict) or not data.get("credential_id") or not data.get("credential_secret"):
        raise SecretFileError("secret file %s lacks credential_id or credential_secret" % path)
    if not isinstance(data["credential_secret"], str) or token_problem(data["credential_secret"]):
        raise SecretFileError("secret file %s: its credential_secret is not shaped like a token, so it is not the "
                              "JSON this collection writes" % path)
    return data


def read_token_file(path, what="token file", follow_links=False):
    """(token, fields) from `path`: a secret file's credential_secret (fields: its credential_id and
    directory_id), or the one line of a plain token file (fields: {}). Anything else is refused, and no
    message quotes the content. `follow_links` for files a platform mounts as links (a federated token)."""
    content = _read_bytes(path, what, follow_links=follow_links)
    stripped = content.strip()
    if stripped[:1] in (b"{", b"["):  # JSON: it must be a secret file
        data = _json_of(stripped)
        if not isinstance(data, dict):
            raise SecretFileError("%s %s is neither %s: it was not used" % (what, path, TOKEN_SHAPE))
        secret = data.get("credential_secret")
        if not secret:
            raise SecretFileError("%s %s is JSON without credential_secret" % (what, path))
        if not isinstance(secret, str) or token_problem(secret):
            raise SecretFileError("%s %s: its credential_secret is not shaped like a token, so it was not used"
                                  % (what, path))
        fields = dict((k, data[k]) for k in ("credential_id", "directory_id") if isinstance(data.get(k), str))
        return secret, fields
    problem = token_problem(stripped)
    if problem == "is empty":
        raise SecretFileError("%s %s is empty" % (what, path))
    if problem:
        raise SecretFileError("%s %s %s, so it is neither %s. It was not used, and its content is not shown"
                              % (what, path, problem, TOKEN_SHAPE))
    return stripped.decode("ascii"), {}


def read_token(path):
    """A bearer token from `path` (read_token_file without the fields)."""
    return read_token_file(path)[0]


def read_candidate_token(params, register_secret):
    """(token, metadata) from the `token` / `token_file` options of a module that gives an IdP a token;
    the file is read once. `metadata` holds `credential_id` and `directory_id` when the file is a secret
    file written by scim_credential. `register_secret(token)` masks the token. Raises SecretFileError."""
    metadata = {}
    token = params.get("token")
    if params.get("token_file"):
        token, metadata = read_token_file(params["token_file"])
    register_secret(token)
    return token, metadata


def _write_atomic(path, payload):
    """A 0600 temporary file in the same folder, fsync, rename over `path`, fsync the folder (safe_paths)."""
    replace_file(os.path.abspath(path), payload.encode("utf-8"))


def write_secret_file(path, data):
    """Write atomically (see _write_atomic), after check_writable."""
    check_writable(path)
    _write_atomic(path, json.dumps(dict((k, data.get(k)) for k in SECRET_KEYS), indent=2, sort_keys=True) + "\n")


# --- the in-flight marker ----------------------------------------------------------------------------

def inflight_path(path):
    return path + INFLIGHT_SUFFIX


def write_inflight(path, data):
    """Mark a create for secret file `path` as in flight (atomic, 0600): `data` holds no secret."""
    _write_atomic(inflight_path(path), json.dumps(data, indent=2, sort_keys=True) + "\n")


def read_inflight(path):
    """The in-flight marker of secret file `path`, or None."""
    marker = inflight_path(path)
    content = _read_bytes(marker, "in-flight marker", missing_ok=True)
    if content is None:
        return None
    data = _json_of(content)
    if not isinstance(data, dict) or not isinstance(data.get("started"), str) or \
            not isinstance(data.get("credentials_before"), list):
        raise SecretFileError("in-flight marker %s is not the JSON this collection writes; check the directory's "
                              "credentials (scim_credential_info), then remove it" % marker)
    return data


def remove_inflight(path):
    try:
        os.unlink(inflight_path(path))
    except OSError as error:
        if error.errno != errno.ENOENT:
            raise
