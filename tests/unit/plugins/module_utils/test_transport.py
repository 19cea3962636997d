# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""transport.Session against real sockets on 127.0.0.1: keep-alive reuse, a dropped keep-alive connection,
a request that broke after it was sent (never re-sent), timeouts, TLS verification and the CA bundle
variables, proxies from the environment (CONNECT tunnelling through a tiny proxy), and what is "sent"."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import socket
import ssl
import threading
import time
from http.client import responses

import pytest

from ansible_collections.alicloud.cloudsso.plugins.module_utils import proxies, transport
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import (
    AlibabaCloudError,
    CONNECTION_FAILED,
    INVALID_ENDPOINT,
    TIMEOUT,
    TLS_ERROR,
)

SECRET_QUERY = "SecurityToken=transportLeakToken987"


# --- a tiny HTTP/1.1 server and a CONNECT proxy -------------------------------------------------------------

def read_request(stream):
    """(request line, {lower name: value}, body) from a socket file, or None at EOF."""
    line = stream.readline()
    if not line:
        return None
    headers = {}
    while True:
        header = stream.readline()
        if header in (b"\r\n", b"\n", b""):
            break
        name, _, value = header.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = stream.read(int(headers.get("content-length", "0")))
    return line.decode("latin-1").strip(), headers, body


def answer(conn, status=200, body=b"", headers=()):
    head = ["HTTP/1.1 %s %s" % (status, responses[status]), "Content-Length: %d" % len(body)] + list(headers)
    conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)


class Server(object):
    """Accepts connections on 127.0.0.1 and runs `handler(server, conn, number)` for each, in a thread.
    `tls` (an ssl.SSLContext) serves https; every request a handler reads is in `requests`."""

    def __init__(self, handler, tls=None):
        self.handler, self.tls = handler, tls
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.requests = []
        self.closed = threading.Event()
        self.release = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._run, args=(conn, self.connections), daemon=True).start()

    def _run(self, conn, number):
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            self.handler(self, conn, number)
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()
            self.closed.set()

    def read(self, conn, stream, number):
        request = read_request(stream)
        if request is not None:
            self.requests.append((number,) + request)
        return request

    def stop(self):
        self.release.set()
        self.listener.close()


def keep_alive(server, conn, number):
    """Answers every request on the connection with JSON naming the connection."""
    stream = conn.makefile("rb")
    while True:
        request = server.read(conn, stream, number)
        if request is None:
            return
        body = json.dumps({"connection": number, "line": request[0]}).encode()
        answer(conn, 200, body, ["Content-Type: application/json; charset=utf-8", "X-Dup: a", "x-dup: b"])


def one_answer_then_close(server, conn, number):
    """Answers once without "Connection: close", then closes: a keep-alive connection the server dropped."""
    stream = conn.makefile("rb")
    server.read(conn, stream, number)
    answer(conn, 200, b"{}")


def read_then_close(server, conn, number):
    """Reads the request, then closes without a word: the request may well have been carried out."""
    server.read(conn, conn.makefile("rb"), number)


def read_then_hang(server, conn, number):
    server.read(conn, conn.makefile("rb"), number)
    server.release.wait(10)


def silent(server, conn, number):
    server.release.wait(10)


@pytest.fixture
def servers():
    started = []

    def start(handler, tls=None):
        server = Server(handler, tls)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


class Proxy(Server):
    """An HTTP proxy on 127.0.0.1: CONNECT opens a tunnel to 127.0.0.1:`target_port` whatever host is asked
    for (the client never resolves the target itself); with `password`, a request without the right
    Proxy-Authorization gets 407. A plain (absolute-form) request is answered by the proxy itself."""

    def __init__(self, target_port=None, password=None):
        self.target_port, self.password = target_port, password
        self.tunnels = []
        super(Proxy, self).__init__(self.serve)

    def serve(self, server, conn, number):
        stream = conn.makefile("rb")
        request = self.read(conn, stream, number)
        if request is None:
            return
        line, headers, _ = request
        if self.password and headers.get("proxy-authorization") != "Basic " + base64.b64encode(
                ("user:" + self.password).encode()).decode():
            answer(conn, 407, b"", ["Proxy-Authenticate: Basic"])
            return
        if not line.startswith("CONNECT "):
            answer(conn, 200, json.dumps({"proxied": line, "host": headers.get("host")}).encode())
            return
        self.tunnels.append(line.split()[1])
        upstream = socket.create_connection(("127.0.0.1", self.target_port))
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")

        def pipe(source, sink):
            try:
                while True:
                    data = source.recv(65536)
                    if not data:
                        break
                    sink.sendall(data)
            except OSError:
                pass
            finally:
                for end in (source, sink):
                    try:
                        end.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        back = threading.Thread(target=pipe, args=(upstream, conn), daemon=True)
        back.start()
        pipe(conn, upstream)
        back.join(5)
        upstream.close()


@pytest.fixture(scope="module")
def tls():
    """A CA, a server context for 127.0.0.1 and api.example.invalid, and the CA's PEM file."""
    trustme = pytest.importorskip("trustme")
    import tempfile
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(u"127.0.0.1", u"api.example.invalid").configure_cert(context)
    folder = tempfile.mkdtemp(prefix="transport-ca-")
    path = folder + "/ca.pem"
    ca.cert_pem.write_to_path(path)
    return context, path


def closed_port():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def session(env=None):
    return transport.Session(env={} if env is None else env)


# --- keep-alive -----------------------------------------------------------------------------------------------

def test_one_connection_carries_many_requests(servers):
    server = servers(keep_alive)
    http = session()
    url = "http://127.0.0.1:%d/page" % server.port
    pages = [transport.send(http, "GET", url + "?page=%d" % n, timeout=5).json() for n in range(5)]
    assert [page["connection"] for page in pages] == [1] * 5 and server.connections == 1
    assert [page["line"] for page in pages] == ["GET /page?page=%d HTTP/1.1" % n for n in range(5)]


def test_sessions_and_hosts_do_not_share_connections(servers):
    first, second = servers(keep_alive), servers(keep_alive)
    http = session()
    for server in (first, second, first, second):
        transport.send(http, "GET", "http://127.0.0.1:%d/" % server.port, timeout=5)
    transport.send(session(), "GET", "http://127.0.0.1:%d/" % first.port, timeout=5)
    assert (first.connections, second.connections) == (2, 1)


def test_a_dropped_keep_alive_connection_is_replaced_before_sending(servers):
    server = servers(one_answer_then_close)
    http = session()
    url = "http://127.0.0.1:%d/x" % server.port
    assert transport.send(http, "POST", url, data=b"one", timeout=5).status_code == 200
    assert server.closed.wait(5)
    time.sleep(0.05)  # the FIN reaches the client's socket
    assert transport.send(http, "POST", url, data=b"two", timeout=5).status_code == 200
    assert server.connections == 2
    assert [(number, body) for number, _, _, body in server.requests] == [(1, b"one"), (2, b"two")]


def test_a_write_that_broke_after_sending_is_not_sent_again(servers):
    server = servers(read_then_close)
    with pytest.raises(AlibabaCloudError) as info:
        transport.send(session(), "POST", "http://127.0.0.1:%d/?Action=Create&%s" % (server.port, SECRET_QUERY),
                       data=b"create", timeout=5, action="CreateSCIMServerCredential")
    error = info.value
    assert (error.code, error.request_sent, error.final) == (CONNECTION_FAILED, True, False)
    assert "connection broken after the request was sent" in error.message
    assert "transportLeakToken987" not in error.message
    time.sleep(0.1)
    assert len(server.requests) == 1 and server.connections == 1, "the transport never re-sends a request"


def test_a_kept_alive_connection_that_breaks_after_sending_is_not_retried(servers):
    def answer_once_then_read_and_close(server, conn, number):
        stream = conn.makefile("rb")
        server.read(conn, stream, number)
        answer(conn, 200, b"{}")
        server.read(conn, stream, number)
    server = servers(answer_once_then_read_and_close)
    http = session()
    url = "http://127.0.0.1:%d/" % server.port
    transport.send(http, "GET", url, timeout=5)
    with pytest.raises(AlibabaCloudError) as info:
        transport.send(http, "POST", url, data=b"write", timeout=5)
    assert (info.value.code, info.value.request_sent) == (CONNECTION_FAILED, True)
    time.sleep(0.1)
    assert [body for _, _, _, body in server.requests] == [b"", b"write"] and server.connections == 1
    assert transport.send(http, "GET", url, timeout=5).status_code == 200, "the broken connection was dropped"
    assert server.connections == 2


# --- timeouts and what counts as sent -------------------------------------------------------------------------

def test_no_answer_is_a_read_timeout_that_may_have_arrived(servers):
    server = servers(read_then_hang)
    started = time.monotonic()
    with pytest.raises(AlibabaCloudError) as info:
        transport.send(session(), "GET", "http://127.0.0.1:%d/" % server.port, timeout=0.3)
    assert time.monotonic() - started < 3
    assert info.value.message == "no answer within 0.3 seconds (ReadTimeout)"
    assert (info.value.code, info.value.request_sent) == (TIMEOUT, True)


def test_a_connect_pair_times_the_connection_and_the_answer_apart(servers):
    server = servers(read_then_hang)
    with pytest.raises(AlibabaCloudError) as info:
        transport.send(session(), "GET", "http://127.0.0.1:%d/" % server.port, timeout=(5, 0.3))
    assert info.value.message == "no answer within (5, 0.3) seconds (ReadTimeout)" and info.value.request_sent


def test_a_connect_timeout_sent_nothing(monkeypatch):
    def slow(address, timeout=None, source_address=None, **kwargs):
        assert timeout == 0.5
        raise socket.timeout("timed out")
    monkeypatch.setattr(socket, "create_connection", slow)
    with pytest.raises(AlibabaCloudError) as info:
        transport.send(session(), "GET", "http://100.100.100.200/latest/api/token", timeout=(0.5, 30))
    assert info.value.message == "no answer within (0.5, 30) seconds (ConnectTimeout)"
    assert (info.value.code, info.value.request_sent) == (TIMEOUT, False)


def test_a_tls_handshake_that_never_ends_is_a_connect_timeout(servers):
    server = servers(silent)
    with pytest.raises(AlibabaCloudError) as info:
        transport.send(session(), "GET", "https://127.0.0.1:%d/" % server.port, timeout=(0.3, 5))
    assert (info.value.code, info.value.request_sent) == (TIMEOUT, False)


def test_a_refused_connection_to_this_machine_fails_at_once():
    port = closed_port()
    with pytest.raises(AlibabaCloudError) as info:
        transport.send(session(), "GET", "http://127.0.0.1:%d/?%s" % (port, SECRET_QUERY), timeout=5)
    error = info.value
    assert error.message == "cannot connect to 127.0.0.1 port %d: [Errno 111] Connection refused" % port
    assert (error.code, error.request_sent, error.final) == (CONNECTION_FAILED, False, True)
    assert error.endpoint == "http://127.0.0.1:%d/" % port


@pytest.mark.parametrize("errno, final", [(socket.EAI_NONAME, True), (socket.EAI_AGAIN, False)],
                         ids=["no-such-name", "temporary"])
def test_a_failed_lookup_sent_nothing(monkeypatch, errno, final):
    def lookup(*args, **kwargs):
        raise socket.gaierror(errno, {socket.EAI_NONAME: "Name or service not known"}.get(
            errno, "Temporary failure in name resolution"))
    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    with pytest.raises(AlibabaCloudError) as info:
        transport.send(session(), "GET", "https://cloudsso.nosuchhost.invalid/", timeout=5)
    assert info.value.message.startswith("Failed to resolve 'cloudsso.nosuchhost.invalid' ([Errno %d] " % errno)
    assert (info.value.code, info.value.request_sent, info.value.final) == (CONNECTION_FAILED, False, final)


@pytest.mark.parametrize("url, reason", [
    ("htp://cloudsso.example.invalid/", "unsupported scheme 'htp'"),
    ("cloudsso.example.invalid/path", "no scheme"),
    ("http:///path", "no host"),
    ("http://cloudsso.example.invalid:99999/", "Port out of range"),
    ("http://cloudsso.example.invalid/a b", "control character or space"),
])
def test_an_invalid_url_sent_nothing(url, reason):
    with pytest.raises(AlibabaCloudError) as info:
        transport.send(session(), "GET", url + "?" + SECRET_QUERY, timeout=5)
    assert info.value.message.startswith("invalid endpoint URL %s: " % url) and reason in info.value.message
    assert (info.value.code, info.value.request_sent) == (INVALID_ENDPOINT, False)
    assert "transportLeakToken987" not in info.value.message


def test_a_header_value_with_a_line_break_is_refused_without_showing_it(servers):
    server = servers(keep_alive)
    with pytest.raises(AlibabaCloudError) as info:
        transport.send(session(), "GET", "http://127.0.0.1:%d/" % server.port, timeout=5,
                       headers={"Authorization": "Bearer leakyBearer123\r\nX-Injected: 1"})
    assert "leakyBearer123" not in info.value.message and "Authorization" in info.value.message
    assert info.value.request_sent is False and server.connections == 0


# --- responses ------------------------------------------------------------------------------------------------

def test_redirects_are_not_followed(servers):
    def redirect(server, conn, number):
        server.read(conn, conn.makefile("rb"), number)
        answer(conn, 302, b"", ["Location: http://127.0.0.1:%d/elsewhere" % server.port, "Connection: close"])
    server = servers(redirect)
    response = transport.send(session(), "POST", "http://127.0.0.1:%d/?Signature=s" % server.port, timeout=5)
    assert response.status_code == 302 and response.headers["location"].endswith("/elsewhere")
    assert len(server.requests) == 1


def test_the_response_object(servers):
    server = servers(keep_alive)
    response = transport.send(session(), "GET", "http://127.0.0.1:%d/r" % server.port, timeout=5)
    assert response.status_code == 200 and response.reason == "OK"
    assert response.headers.get("CONTENT-TYPE") == "application/json; charset=utf-8"
    assert response.headers["x-dup"] == "a, b" and response.headers.get("missing") is None
    assert response.json() == {"connection": 1, "line": "GET /r HTTP/1.1"}
    assert response.text == response.content.decode("utf-8")
    assert transport.Response(200, {}, b"<html>").text == "<html>"
    with pytest.raises(ValueError):
        transport.Response(200, {}, b"<html>").json()
    with pytest.raises(ValueError):
        transport.Response(204, {}, b"").json()


def test_a_chunked_answer_is_read_whole(servers):
    def chunked(server, conn, number):
        server.read(conn, conn.makefile("rb"), number)
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n5\r\n\": 1}\r\n0\r\n\r\n")
    server = servers(chunked)
    assert transport.send(session(), "GET", "http://127.0.0.1:%d/" % server.port, timeout=5).json() == {"a": 1}


def test_the_user_agent_and_the_callers_headers(servers):
    server = servers(keep_alive)
    transport.send(session(), "POST", "http://127.0.0.1:%d/" % server.port, headers={"x-acs-action": "A"},
                   data=b"", timeout=5)
    (_, line, headers, _), = server.requests
    assert headers["user-agent"] == transport.USER_AGENT and headers["x-acs-action"] == "A"
    assert headers["host"] == "127.0.0.1:%d" % server.port and headers["content-length"] == "0"


# --- TLS ------------------------------------------------------------------------------------------------------

def test_tls_is_verified_against_the_system_store(servers, tls):
    server = servers(keep_alive, tls=tls[0])
    with pytest.raises(AlibabaCloudError) as info:
        transport.send(session(), "GET", "https://127.0.0.1:%d/?%s" % (server.port, SECRET_QUERY), timeout=5)
    error = info.value
    assert (error.code, error.request_sent) == (TLS_ERROR, False) and not server.requests
    assert error.message.startswith("TLS handshake failed (") and "CERTIFICATE_VERIFY_FAILED" in error.message
    assert error.message.endswith("; set validate_certs=false only for a test endpoint")
    assert "transportLeakToken987" not in error.message


def test_validate_certs_false_skips_verification(servers, tls):
    server = servers(keep_alive, tls=tls[0])
    http = session()
    for _ in range(2):
        assert transport.send(http, "GET", "https://127.0.0.1:%d/" % server.port, timeout=5,
                              validate_certs=False).status_code == 200
    assert server.connections == 1


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_the_ca_bundle_variables_of_requests_and_curl(servers, tls, variable):
    server = servers(keep_alive, tls=tls[0])
    http = session({variable: tls[1]})
    assert transport.send(http, "GET", "https://127.0.0.1:%d/" % server.port, timeout=5).status_code == 200


def test_ssl_cert_file_reaches_openssl(servers, tls, monkeypatch):
    server = servers(keep_alive, tls=tls[0])
    monkeypatch.setenv("SSL_CERT_FILE", tls[1])
    assert transport.send(session(), "GET", "https://127.0.0.1:%d/" % server.port, timeout=5).status_code == 200


def test_the_host_name_is_checked(servers, tls):
    server = servers(keep_alive, tls=tls[0])
    http = session({"REQUESTS_CA_BUNDLE": tls[1]})
    with pytest.raises(AlibabaCloudError) as info:
        transport.send(http, "GET", "https://localhost:%d/" % server.port, timeout=5)
    assert info.value.code == TLS_ERROR and "localhost" in info.value.message


# --- proxies from the environment -----------------------------------------------------------------------------

def test_https_goes_through_a_connect_tunnel(servers, tls):
    target = servers(keep_alive, tls=tls[0])
    proxy = Proxy(target.port, password="p@ss word")
    try:
        http = session({"HTTPS_PROXY": "http://other.invalid:1", "https_proxy": "http://user:p%%40ss%%20word@127.0.0.1:%d"
                        % proxy.port, "REQUESTS_CA_BUNDLE": tls[1]})
        for page in range(3):
            response = transport.send(http, "GET", "https://api.example.invalid:8443/list?page=%d" % page, timeout=5)
            assert response.json()["line"] == "GET /list?page=%d HTTP/1.1" % page
        assert proxy.tunnels == ["api.example.invalid:8443"], "one tunnel, kept alive, to the named host"
        assert target.connections == 1 and target.requests[0][2]["host"] == "api.example.invalid:8443"
    finally:
        proxy.stop()


def test_a_tunnel_the_proxy_refuses_sent_nothing(servers, tls):
    target = servers(keep_alive, tls=tls[0])
    proxy = Proxy(target.port, password="right")
    try:
        http = session({"ALL_PROXY": "http://user:wrong@127.0.0.1:%d" % proxy.port})
        with pytest.raises(AlibabaCloudError) as info:
            transport.send(http, "POST", "https://sts.example.invalid/?%s" % SECRET_QUERY, timeout=5)
        error = info.value
        assert (error.code, error.request_sent, error.final) == (CONNECTION_FAILED, False, False)
        assert "refused the tunnel to sts.example.invalid port 443 (407 Proxy Authentication Required)" in \
            error.message
        assert "wrong" not in error.message and "transportLeakToken987" not in error.message
        assert not target.requests
    finally:
        proxy.stop()


def test_plain_http_goes_to_the_proxy_in_absolute_form():
    proxy = Proxy(password="pw")
    try:
        http = session({"http_proxy": "user:pw@127.0.0.1:%d" % proxy.port})
        body = transport.send(http, "GET", "http://svc.example.invalid:8080/p?q=1", timeout=5).json()
        assert body == {"proxied": "GET http://svc.example.invalid:8080/p?q=1 HTTP/1.1",
                        "host": "svc.example.invalid:8080"}
    finally:
        proxy.stop()


def test_a_proxy_that_does_not_listen_sent_nothing():
    port = closed_port()
    with pytest.raises(AlibabaCloudError) as info:
        transport.send(session({"HTTPS_PROXY": "http://127.0.0.1:%d" % port}), "GET", "https://sts.example.invalid/",
                       timeout=5)
    assert info.value.message == "cannot connect to the proxy 127.0.0.1 port %d: [Errno 111] Connection refused" % port
    assert (info.value.request_sent, info.value.final) == (False, False)


def test_no_proxy_goes_direct(servers):
    server = servers(keep_alive)
    http = session({"HTTP_PROXY": "http://127.0.0.1:%d" % closed_port(), "NO_PROXY": "localhost, 127.0.0.1"})
    assert transport.send(http, "GET", "http://127.0.0.1:%d/" % server.port, timeout=5).status_code == 200


def test_http_proxy_is_ignored_in_a_cgi_request(servers):
    server = servers(keep_alive)
    http = session({"HTTP_PROXY": "http://127.0.0.1:%d" % closed_port(), "REQUEST_METHOD": "GET"})
    assert transport.send(http, "GET", "http://127.0.0.1:%d/" % server.port, timeout=5).status_code == 200


@pytest.mark.parametrize("host, port, no_proxy, bypass", [
    ("a.example.invalid", 443, ".example.invalid", True),
    ("a.example.invalid", 443, "example.invalid", True),
    ("example.invalid", 443, "example.invalid", True),
    ("badexample.invalid", 443, "example.invalid", False),
    ("10.1.2.3", 443, "10.0.0.0/8", True),
    ("11.1.2.3", 443, "10.0.0.0/8", False),
    ("any.invalid", 443, "*", True),
    ("h.invalid", 8443, "h.invalid:8443", True),
    ("h.invalid", 443, "h.invalid:8443", False),
    ("::1", 443, "::1", True),
    ("h.invalid", 443, "", False),
])
def test_no_proxy_entries(host, port, no_proxy, bypass):
    assert proxies.bypasses_proxy(host, port, no_proxy) is bypass


def test_only_http_proxies_are_supported():
    with pytest.raises(AlibabaCloudError) as info:
        transport.send(session({"https_proxy": "socks5://127.0.0.1:1080"}), "GET", "https://sts.example.invalid/",
                       timeout=5)
    assert "only http:// proxies" in info.value.message and info.value.request_sent is False
