# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one place that sends HTTP requests (over `requests`) and turns transport failures into
AlibabaCloudError, telling apart "nothing was sent" (safe to retry) from "it may have arrived"."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import traceback

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover
    from urlparse import urlsplit  # type: ignore

from ansible_collections.alicloud.cloudsso.plugins.module_utils.endpoints import is_loopback
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import (
    AlibabaCloudError,
    CONNECTION_FAILED,
    INVALID_ENDPOINT,
    TIMEOUT,
    TLS_ERROR,
)

REQUESTS_IMPORT_ERROR = None
try:
    import requests
    from requests import exceptions as rexc
    from urllib3.exceptions import NewConnectionError
    try:
        from urllib3.exceptions import NameResolutionError
    except ImportError:  # urllib3 1.x reports a failed lookup as a NewConnectionError
        NameResolutionError = None
    HAS_REQUESTS = True
except ImportError:  # pragma: no cover - reported by the module through missing_required_lib
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

USER_AGENT = "alicloud.cloudsso-ansible/0.1.0"


def new_session():
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    # Proxies and CA bundles from the environment still apply; urllib3 must never retry on its own.
    return session


def _was_sent(exc):
    """False only when the connection failed before a byte of the request went out."""
    if isinstance(exc, (rexc.ConnectTimeout, rexc.SSLError, rexc.ProxyError, rexc.InvalidURL, rexc.MissingSchema,
                        rexc.InvalidSchema)):
        return False
    if isinstance(exc, rexc.ConnectionError):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        return not isinstance(reason, NewConnectionError)
    return True


# A query string in an exception text: V2 (STS) requests carry SecurityToken and OIDCToken there.
_QUERY_STRING = re.compile(r"\?[^\s'\"()]*")
# What urllib3 puts before the reason: "HTTPConnection(host='h', port=1): " or "<...Connection object at 0x..>: ".
_HOST_PORT = re.compile(r"host='([^']*)', port=(\d+)")
_CONNECTION_PREFIX = re.compile(r"^\s*(<[^>]*>|\w*Connection\w*\([^)]*\)):\s*")
# The errno of a lookup that cannot succeed however often it is repeated (EAI_NONAME, EAI_NODATA on Linux;
# EAI_NONAME on macOS and BSD): a temporary failure (EAI_AGAIN, -3) is retried.
_PERMANENT_LOOKUP = re.compile(r"\[Errno (-2|-5|8)\]|Name or service not known|nodename nor servname|No address associated")
MAX_DESCRIPTION = 300


def shorten(text, limit=MAX_DESCRIPTION):
    """`text` on one line, cut at a word boundary with an ellipsis when longer than `limit`: a message is
    never cut in the middle of a word."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    cut = text[:limit - 3].rsplit(" ", 1)[0].rstrip(" ,;:(")
    return cut + "..."


def _reason(exc):
    """urllib3's own exception below requests' (a MaxRetryError's reason), or None."""
    inner = exc.args[0] if exc.args else None
    return getattr(inner, "reason", None) or (inner if isinstance(inner, Exception) else None)


def _describe(exc):
    # The exception text can hold the URL but never headers or bodies; keep only the reason, without the
    # URL's query string.
    reason = _reason(exc)
    if reason is not None and isinstance(reason, NewConnectionError):
        text = _QUERY_STRING.sub("?<query omitted>", str(reason))
        where = _HOST_PORT.search(text)
        text = _CONNECTION_PREFIX.sub("", text)
        if where:
            text = text.replace("Failed to establish a new connection: ",
                                "cannot connect to %s port %s: " % (where.group(1), where.group(2)))
        return shorten(text.replace("Failed to establish a new connection: ", "cannot connect: "))
    lines = _QUERY_STRING.sub("?<query omitted>", str(exc)).strip().splitlines()
    return shorten(lines[-1]) if lines else type(exc).__name__


def _fails_at_once(exc, url):
    """A failed name lookup, or a refused connection to this machine: repeating it cannot help, and
    retrying for 15 seconds only delays the message."""
    reason = _reason(exc)
    if reason is None or not isinstance(reason, NewConnectionError):
        return False
    if (NameResolutionError is not None and isinstance(reason, NameResolutionError)) or \
            "Failed to resolve" in str(reason):
        return bool(_PERMANENT_LOOKUP.search(str(reason)))
    refused = "Connection refused" in str(reason) or "[Errno 111]" in str(reason) or "[Errno 61]" in str(reason)
    return refused and is_loopback(urlsplit(url).hostname)


def send(session, method, url, headers=None, data=None, timeout=30, validate_certs=True, action=None):
    """Send one request; return the `requests.Response` whatever its status."""
    try:
        return session.request(method, url, headers=headers, data=data, timeout=timeout, verify=validate_certs,
                               allow_redirects=False)
    except (rexc.InvalidURL, rexc.MissingSchema, rexc.InvalidSchema) as exc:
        raise AlibabaCloudError("invalid endpoint URL %s: %s" % (url.split("?")[0], _describe(exc)),
                                code=INVALID_ENDPOINT, action=action, endpoint=url.split("?")[0],
                                request_sent=False)
    except rexc.SSLError as exc:
        raise AlibabaCloudError("TLS handshake failed (%s); set validate_certs=false only for a test endpoint"
                                % _describe(exc), code=TLS_ERROR, action=action,
                                endpoint=url.split("?")[0], request_sent=False)
    except rexc.Timeout as exc:
        raise AlibabaCloudError("no answer within %s seconds (%s)" % (timeout, type(exc).__name__), code=TIMEOUT,
                                action=action, endpoint=url.split("?")[0], request_sent=_was_sent(exc))
    except rexc.RequestException as exc:
        raise AlibabaCloudError(_describe(exc), code=CONNECTION_FAILED, action=action, endpoint=url.split("?")[0],
                                request_sent=_was_sent(exc), final=_fails_at_once(exc, url))
