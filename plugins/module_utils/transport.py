# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one place that sends HTTP requests (standard library only: http.client) and turns transport failures
into AlibabaCloudError, telling apart "nothing was sent" (safe to retry) from "it may have arrived".

A Session keeps one connection per scheme, host, port (and proxy) alive between requests. Redirects are never
followed and nothing is retried here: a kept-alive connection that the server closed while idle is noticed
before the request is written (and replaced); one that breaks after the request went out is reported as "may
have arrived", and the caller's retry policy decides."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import select
import socket

from http import client as http_client
from urllib.parse import urlencode, urlsplit

from ansible_collections.alicloud.cloudsso.plugins.module_utils.endpoints import is_loopback
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import (
    AlibabaCloudError,
    CONNECTION_FAILED,
    INVALID_ENDPOINT,
    TIMEOUT,
    TLS_ERROR,
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.proxies import (
    bypasses_proxy,
    env_proxies,
    proxy_headers,
)

USER_AGENT = "alicloud.cloudsso-ansible/0.1.0"
DEFAULT_PORTS = {"http": 80, "https": 443}
# CA bundles users set for requests and curl; OpenSSL itself reads SSL_CERT_FILE and SSL_CERT_DIR.
CA_BUNDLE_ENV = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


# --- what the session raises: each failure knows whether the request may have reached the server ------------

class TransportError(Exception):
    """A request that got no HTTP answer. `sent` is False only when no byte of the request went out."""
    sent = True


class InvalidURL(TransportError):
    sent = False


class ConnectFailed(TransportError):
    """No connection to host:port (`error` is the OSError; a socket.gaierror for a failed name lookup)."""
    sent = False

    def __init__(self, host, port, error, proxy=False):
        self.host, self.port, self.error, self.proxy = host, port, error, proxy
        super(ConnectFailed, self).__init__(self.describe())

    @property
    def lookup(self):
        return isinstance(self.error, socket.gaierror)

    def describe(self):
        what = "the proxy %s" % self.host if self.proxy else self.host
        if self.lookup:
            return "Failed to resolve '%s' (%s)" % (self.host, self.error) if not self.proxy else \
                "cannot resolve %s (%s)" % (what, self.error)
        return "cannot connect to %s port %s: %s" % (what, self.port, self.error)


class InvalidRequest(TransportError):
    """A header name or value that HTTP cannot carry (found before connecting; the value is never shown)."""
    sent = False


class ProxyError(TransportError):
    """The proxy refused or broke the CONNECT tunnel: nothing reached the target."""
    sent = False


class TLSError(TransportError):
    sent = False


class ConnectTimeout(TransportError):
    sent = False


class ReadTimeout(TransportError):
    sent = True


class ConnectionBroken(TransportError):
    """The connection failed after the request (or part of it) was written: it may have arrived."""
    sent = True


# --- responses ---------------------------------------------------------------------------------------------

class Headers(dict):
    """Response headers: get() and [] ignore case; a repeated header is joined with ", " as requests did."""

    def __init__(self, items=()):
        super(Headers, self).__init__()
        self._names = {}
        pairs = items.items() if isinstance(items, dict) else items
        for name, value in pairs:
            key = name.lower()
            if key in self._names:
                value = "%s, %s" % (dict.__getitem__(self, self._names[key]), value)
            else:
                self._names[key] = name
            dict.__setitem__(self, self._names[key], value)

    def __getitem__(self, name):
        return dict.__getitem__(self, self._names[name.lower()])

    def __contains__(self, name):
        return isinstance(name, str) and name.lower() in self._names

    def get(self, name, default=None):
        return self[name] if name in self else default


class Response(object):
    """What send() returns: status_code, reason, headers, content (bytes), text, json()."""

    def __init__(self, status_code, headers=None, content=b"", reason="", url=None):
        self.status_code = status_code
        self.reason = reason
        self.headers = headers if isinstance(headers, Headers) else Headers(headers or {})
        self.content = content
        self.url = url

    @property
    def encoding(self):
        match = re.search(r"charset=[\"']?([\w.:-]+)", self.headers.get("Content-Type") or "", re.I)
        return match.group(1) if match else "utf-8"

    @property
    def text(self):
        try:
            return self.content.decode(self.encoding, "replace")
        except LookupError:  # an unknown charset
            return self.content.decode("utf-8", "replace")

    def json(self):
        """The body as JSON; ValueError when it is not JSON (as requests' JSONDecodeError)."""
        return json.loads(self.content.decode("utf-8-sig"))


# --- the session -------------------------------------------------------------------------------------------

def _timeouts(timeout):
    if isinstance(timeout, (tuple, list)):
        return timeout[0], timeout[1]
    return timeout, timeout


_LEGAL_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_ILLEGAL_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _is_dropped(conn):
    """True when a kept-alive connection can no longer carry a request: the server closed it (readable at
    EOF) or sent something unasked. Checked before writing, so nothing is lost by opening a new one."""
    sock = conn.sock
    if sock is None:
        return True
    try:
        if hasattr(select, "poll"):  # no limit on the descriptor's number, unlike select()
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


class Session(object):
    """A keep-alive HTTP(S) client: `request()` returns a Response or raises a TransportError."""

    def __init__(self, env=None):
        self.headers = {"User-Agent": USER_AGENT, "Accept": "*/*"}
        self.env = os.environ if env is None else env
        self._connections = {}
        self._contexts = {}

    def close(self):
        for conn in self._connections.values():
            conn.close()
        self._connections.clear()

    def _ssl_context(self, verify):
        key = verify if isinstance(verify, str) else bool(verify)
        if key not in self._contexts:
            import ssl  # pylint: disable=import-outside-toplevel
            if not verify:  # no CA store to load
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            else:
                bundle = verify if isinstance(verify, str) else \
                    next((self.env[name] for name in CA_BUNDLE_ENV if self.env.get(name)), None)
                if bundle and os.path.isdir(bundle):
                    context = ssl.create_default_context(capath=bundle)
                elif bundle:
                    context = ssl.create_default_context(cafile=bundle)
                else:  # the system store; OpenSSL honours SSL_CERT_FILE and SSL_CERT_DIR
                    context = ssl.create_default_context()
            self._contexts[key] = context
        return self._contexts[key]

    def _route(self, scheme, host, port):
        """(proxy URL parts or None) for this target."""
        proxies, no_proxy = env_proxies(self.env)
        proxy = proxies.get(scheme) or proxies.get("all")
        if not proxy or bypasses_proxy(host, port, no_proxy):
            return None
        if "://" not in proxy:
            proxy = "http://" + proxy
        parts = urlsplit(proxy)
        if parts.scheme != "http" or not parts.hostname:
            raise ProxyError("unsupported proxy URL %s://%s (only http:// proxies are supported)"
                             % (parts.scheme, parts.hostname or ""))
        return parts

    def _connect(self, scheme, host, port, proxy, connect_timeout, verify):
        if proxy is not None:
            proxy_port = proxy.port or 80
            if scheme == "https":
                conn = http_client.HTTPSConnection(proxy.hostname, proxy_port, timeout=connect_timeout,
                                                   context=self._ssl_context(verify))
                conn.set_tunnel(host, port, headers=proxy_headers(proxy))
            else:
                conn = http_client.HTTPConnection(proxy.hostname, proxy_port, timeout=connect_timeout)
            where = (proxy.hostname, proxy_port, True)
        elif scheme == "https":
            conn = http_client.HTTPSConnection(host, port, timeout=connect_timeout, context=self._ssl_context(verify))
            where = (host, port, False)
        else:
            conn = http_client.HTTPConnection(host, port, timeout=connect_timeout)
            where = (host, port, False)
        try:
            conn.connect()
        except socket.timeout:
            conn.close()
            raise ConnectTimeout("connect timeout")
        except OSError as exc:
            conn.close()
            if type(exc).__module__ == "ssl" or exc.__class__.__name__.startswith("SSL") or \
                    exc.__class__.__name__ == "CertificateError":
                raise TLSError(_ssl_reason(exc))
            if proxy is not None and str(exc).startswith("Tunnel connection failed"):
                raise ProxyError("the proxy %s refused the tunnel to %s port %s (%s)"
                                 % (proxy.hostname, host, port, str(exc).split(":", 1)[-1].strip()))
            raise ConnectFailed(where[0], where[1], exc, proxy=where[2])
        except http_client.HTTPException as exc:  # a proxy that answered CONNECT with garbage
            conn.close()
            raise ProxyError("the proxy broke the tunnel to %s port %s (%s)" % (host, port, type(exc).__name__))
        return conn

    def request(self, method, url, headers=None, data=None, timeout=None, verify=True, allow_redirects=False):
        """Send one request and read the whole answer. Redirects are never followed (allow_redirects is
        accepted for the fakes' sake and ignored)."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise InvalidURL(str(exc))
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            raise InvalidURL("unsupported scheme %r (http or https)" % parts.scheme if parts.scheme else
                             "no scheme (http:// or https://)")
        host = parts.hostname
        if not host:
            raise InvalidURL("no host")
        if re.search(r"[\x00-\x20\x7f]", url):
            raise InvalidURL("control character or space in the URL")
        port = port or DEFAULT_PORTS[scheme]
        proxy = self._route(scheme, host, port)
        target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        if proxy is not None and scheme == "http":
            target = "%s://%s%s" % (scheme, parts.netloc.rpartition("@")[2], target)
        merged = dict(self.headers)
        merged.update(headers or {})
        for name, value in merged.items():
            if not _LEGAL_NAME.match(str(name)) or _ILLEGAL_VALUE.search(str(value)):
                raise InvalidRequest("the header %s cannot be sent: a name or value with a line break or control "
                                     "character" % (name if _LEGAL_NAME.match(str(name)) else "name"))
        if isinstance(data, dict):
            data = urlencode(data).encode("ascii")
        elif isinstance(data, str):
            data = data.encode("utf-8")
        if proxy is not None and scheme == "http":
            merged.update(proxy_headers(proxy))
        connect_timeout, read_timeout = _timeouts(timeout)

        key = (scheme, host, port, proxy.geturl() if proxy is not None else None,
               verify if isinstance(verify, str) else bool(verify))
        conn = self._connections.pop(key, None)
        if conn is not None and _is_dropped(conn):
            conn.close()
            conn = None
        if conn is None:
            conn = self._connect(scheme, host, port, proxy, connect_timeout, verify)
        # From here on a byte may have gone out: every failure may have reached the server.
        try:
            conn.sock.settimeout(read_timeout)
            conn.request(method, target, body=data, headers=merged)
            answer = conn.getresponse()
            content = answer.read()
        except socket.timeout:
            conn.close()
            raise ReadTimeout("read timeout")
        except (OSError, http_client.HTTPException) as exc:
            conn.close()
            raise ConnectionBroken("connection broken after the request was sent (%s: %s)"
                                   % (type(exc).__name__, exc) if str(exc) else
                                   "connection broken after the request was sent (%s)" % type(exc).__name__)
        if answer.will_close:
            conn.close()
        else:
            self._connections[key] = conn
        return Response(answer.status, Headers(answer.getheaders()), content, answer.reason, url)


def _ssl_reason(exc):
    reason = getattr(exc, "verify_message", None)
    text = str(exc)
    if reason and "certificate verify failed" not in text:
        text = "%s: %s" % (text, reason)
    return text


def new_session():
    return Session()


# --- failures as AlibabaCloudError -------------------------------------------------------------------------

def _was_sent(exc):
    """False only when the connection failed before a byte of the request went out."""
    return getattr(exc, "sent", True)


# A query string in an exception text: V2 (STS) requests carry SecurityToken and OIDCToken there.
_QUERY_STRING = re.compile(r"\?[^\s'\"()]*")
# The errno of a lookup that cannot succeed however often it is repeated (EAI_NONAME, EAI_NODATA on Linux;
# EAI_NONAME on macOS and BSD): a temporary failure (EAI_AGAIN, -3) is retried.
_PERMANENT_LOOKUP = re.compile(r"\[Errno (-2|-5|8)\]|Name or service not known|nodename nor servname|No address associated")
_REFUSED = (111, 61, 10061)  # ECONNREFUSED on Linux, macOS/BSD, Windows
MAX_DESCRIPTION = 300


def shorten(text, limit=MAX_DESCRIPTION):
    """`text` on one line, cut at a word boundary with an ellipsis when longer than `limit`: a message is
    never cut in the middle of a word."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    cut = text[:limit - 3].rsplit(" ", 1)[0].rstrip(" ,;:(")
    return cut + "..."


def _describe(exc):
    # The transport's messages name host and port, never headers or bodies; a query string is cut anyway.
    lines = _QUERY_STRING.sub("?<query omitted>", str(exc)).strip().splitlines()
    return shorten(lines[-1]) if lines else type(exc).__name__


def _fails_at_once(exc, url):
    """A failed name lookup that cannot succeed, or a refused connection to this machine: repeating it
    cannot help, and retrying for 15 seconds only delays the message."""
    if not isinstance(exc, ConnectFailed) or exc.proxy:
        return False
    if exc.lookup:
        return bool(_PERMANENT_LOOKUP.search(str(exc.error)))
    refused = isinstance(exc.error, ConnectionRefusedError) or getattr(exc.error, "errno", None) in _REFUSED
    return refused and is_loopback(urlsplit(url).hostname)


def send(session, method, url, headers=None, data=None, timeout=30, validate_certs=True, action=None):
    """Send one request; return the Response whatever its status. `timeout` is seconds, or a
    (connect, read) pair."""
    endpoint = url.split("?")[0]
    try:
        return session.request(method, url, headers=headers, data=data, timeout=timeout, verify=validate_certs,
                               allow_redirects=False)
    except InvalidURL as exc:
        raise AlibabaCloudError("invalid endpoint URL %s: %s" % (endpoint, _describe(exc)),
                                code=INVALID_ENDPOINT, action=action, endpoint=endpoint, request_sent=False)
    except TLSError as exc:
        raise AlibabaCloudError("TLS handshake failed (%s); set validate_certs=false only for a test endpoint"
                                % _describe(exc), code=TLS_ERROR, action=action, endpoint=endpoint,
                                request_sent=False)
    except (ConnectTimeout, ReadTimeout) as exc:
        raise AlibabaCloudError("no answer within %s seconds (%s)" % (timeout, type(exc).__name__), code=TIMEOUT,
                                action=action, endpoint=endpoint, request_sent=_was_sent(exc))
    except TransportError as exc:
        raise AlibabaCloudError(_describe(exc), code=CONNECTION_FAILED, action=action, endpoint=endpoint,
                                request_sent=_was_sent(exc), final=_fails_at_once(exc, url))
