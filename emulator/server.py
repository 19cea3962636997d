"""HTTP server, request pipeline and lifecycle.

Pipeline for each request: parse (region prefix, query, body) -> find the route -> classify it (product,
action) -> faults (latency, error, drop before) -> handle under the state lock -> commit state to disk ->
count the call -> drop after apply, or write the response (always with Content-Length, keep-alive).
"""

import importlib
import os
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import registry
from .errors import DropConnection, Response
from .faults import FaultSet
from .state import State
from .util import REGION_RE

# API modules loaded at start, in routing order (first match wins); a module's ROUTE, if any, is registered.
# Any other module file in this package (e.g. graph.py, idaas.py, an IdP simulator) is discovered and loaded
# after these, in name order, so adding an API needs no edit here. See docs/emulator.md "Extending".
MODULES = ["control", "sts", "cloudsso", "actiontrail", "scim", "metadata", "rpc"]
# Infrastructure modules: never treated as API modules.
CORE = {"__init__", "__main__", "server", "registry", "state", "errors", "util", "auth", "events", "faults"}

_loaded = False
MAX_BODY = 64 * 1024 * 1024  # generous (bulk event uploads) but bounded


def discover_modules():
    import pkgutil

    package_dir = os.path.dirname(os.path.abspath(__file__))
    found = sorted(m.name for m in pkgutil.iter_modules([package_dir]))
    return list(MODULES) + [name for name in found if name not in CORE and name not in MODULES]


def load_modules(extra=()):
    global _loaded
    if _loaded:
        return
    for name in discover_modules() + list(extra):
        try:
            mod = importlib.import_module(f"emulator.{name}") if "." not in name else importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001
            if name in MODULES:
                raise
            # a broken extension must not take the core APIs down; its own tests will show the failure
            tb = traceback.extract_tb(exc.__traceback__)
            where = "; ".join(f"{os.path.basename(f.filename)}:{f.lineno}" for f in tb[-3:])
            log(f"module {name} not loaded: {type(exc).__name__} at {where}")
            continue
        route = getattr(mod, "ROUTE", None)
        if route is not None and route not in registry.ROUTES:
            registry.register_route(route)
    _loaded = True


def log(msg):
    try:
        sys.stderr.write(f"[emulator] {msg}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


class Request:
    """A parsed request, as route handlers see it."""

    def __init__(self, app, method, target, header_items, body, client_ip):
        self.app = app
        self.state = app.state
        self.method = method.upper()
        raw_path, _, query = target.partition("?")
        if raw_path.startswith("http://") or raw_path.startswith("https://"):
            raw_path = "/" + raw_path.split("/", 3)[3] if raw_path.count("/") >= 3 else "/"
        self.raw_path = raw_path or "/"
        self.query_string = query
        self.query_pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
        self.headers = {}
        for name, value in header_items:
            self.headers.setdefault(name.lower(), []).append(value)
        self.body = body or b""
        self.client_ip = client_ip
        self.region = app.default_region
        self.region_prefixed = False
        self.raw_path_without_region = self.raw_path
        parts = self.raw_path.split("/", 3)  # ['', 'region', '<id>', 'rest']
        if len(parts) >= 3 and parts[1] == "region" and REGION_RE.match(parts[2]):
            self.region = parts[2]
            self.region_prefixed = True
            self.raw_path_without_region = "/" + (parts[3] if len(parts) > 3 else "")
        self.path = urllib.parse.unquote(self.raw_path_without_region)
        self.product = None
        self.action = None
        self.rpc_params = None
        self.internal = False

    def header(self, name):
        values = self.headers.get(name.lower())
        return values[0] if values else None


def _internal_error(req, route, exc):
    tb = traceback.extract_tb(exc.__traceback__)
    where = "; ".join(f"{os.path.basename(f.filename)}:{f.lineno}" for f in tb[-4:])
    # Only the type and the code location: an exception's text could quote request data.
    log(f"internal error {type(exc).__name__} at {where}")
    if route.error_response is not None:
        return route.error_response(req, 500, "InternalError",
                                    "The request processing has failed due to some unknown error.", {})
    return Response(500, {"Code": "InternalError", "Message": "internal error"}, error_code="InternalError")


def _record(app, req, resp, fault):
    state = app.state
    entry = {
        "time": state.now_iso(),
        "product": req.product,
        "action": req.action,
        "method": req.method,
        "path": req.path,
        "region": req.region,
        "status": resp.status if resp is not None else None,
        "error_code": resp.error_code if resp is not None else None,
        "fault": fault,
    }
    if req.internal:
        entry["internal"] = True
    with state.lock:
        state.calls.record(entry)


def process(app, req):
    """Run one request through routing, faults, the handler and the state commit.

    Returns (response, fault kind); response None means "drop the connection without an answer".
    """
    route = registry.find_route(req.path)
    if route is None:
        req.product, req.action = "none", req.path
        return Response(404, {"Code": "NotFound", "Message": f"No API at {req.path}"}, error_code="NotFound"), None
    fault = None
    if route.faults and route.classify is not None:
        try:
            req.product, req.action = route.classify(req)
        except Exception:  # noqa: BLE001 - a malformed request still deserves an answer
            req.product, req.action = route.name, "Unknown"
        info = {"product": req.product, "action": req.action, "method": req.method, "path": req.path,
                "region": req.region}
        latency, fault = app.faults.select(info)
        if latency:
            time.sleep(latency)
        if fault is not None and fault["kind"] == "error":
            headers = {}
            if fault.get("retry_after") is not None:
                headers["x-acs-retry-after"] = str(fault["retry_after"])
            resp = route.error_response(req, fault["status"], fault["code"], fault["message"], headers)
            _record(app, req, resp, "error")
            return resp, "error"
        if fault is not None and fault["kind"] == "drop_before_apply":
            _record(app, req, None, "drop_before_apply")
            return None, "drop_before_apply"
    else:
        req.product, req.action = route.name, req.path
    state = app.state
    with state.lock:
        try:
            resp = route.handle(req)
        except DropConnection:
            resp = None
        except Exception as exc:  # noqa: BLE001
            resp = _internal_error(req, route, exc)
        try:
            state.commit()
        except OSError as exc:
            log(f"could not save state: {type(exc).__name__}")
    kind = fault["kind"] if fault else None
    if route.faults:
        _record(app, req, resp, kind)
    if kind == "drop_after_apply":
        return None, kind
    return resp, kind


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AlibabaCloudEmulator/1.0"
    sys_version = ""
    timeout = 300  # idle keep-alive connections are closed after this

    def log_message(self, fmt, *args):
        # The default logger prints the request line, whose query may hold a Signature or SecurityToken.
        return

    def _read_body(self):
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                if sum(len(c) for c in chunks) > MAX_BODY:
                    raise ValueError("request body too large")
                self.rfile.readline(65537)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("request body too large")
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self):
        app = self.server.app
        app.touch()
        started = time.monotonic()
        try:
            body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            self._send(Response(400, {"Code": "BadRequest", "Message": "unreadable or too large request body"}))
            return
        req = Request(app, self.command, self.path, self.headers.items(), body, self.client_address[0])
        resp, fault = process(app, req)
        if resp is None:
            self._log(req, "-", None, started, fault or "dropped")
            self._drop()
            return
        self._send(resp)
        self._log(req, resp.status, resp.error_code, started, fault)

    @staticmethod
    def _log(req, status, code, started, fault):
        ms = (time.monotonic() - started) * 1000
        parts = [req.method, req.path, f"product={req.product}", f"action={req.action}", f"status={status}"]
        if code:
            parts.append(f"code={code}")
        if fault:
            parts.append(f"fault={fault}")
        parts.append(f"{ms:.0f}ms")
        log(" ".join(str(p) for p in parts))

    def _send(self, resp):
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(resp.body)))
        for k, v in resp.headers.items():
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and resp.body:
            self.wfile.write(resp.body)

    def _drop(self):
        self.close_connection = True
        try:
            # RST instead of FIN: the client sees a reset connection and cannot know what happened.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ConnectionError, OSError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        log(f"connection error from {client_address[0]}: {sys.exc_info()[0].__name__}")


class Emulator:
    def __init__(self, host="127.0.0.1", port=0, state_path=None, seed=None, default_region="cn-shanghai",
                 parent_pid=None, idle_timeout=0, tls_cert=None, tls_key=None):
        load_modules()
        self.host = host
        self.default_region = default_region
        self.parent_pid = parent_pid
        self.idle_timeout = idle_timeout or 0
        self.faults = FaultSet()
        self.state = State(path=os.path.abspath(state_path) if state_path else None, default_region=default_region)
        fresh = not (state_path and os.path.exists(self.state.path))
        self.state.load()
        if seed is not None and fresh:
            from .control import apply_seed
            with self.state.lock:
                apply_seed(self.state, seed)
                self.state.commit()
        elif fresh:
            with self.state.lock:
                self.state.dirty = True
                self.state.commit()
        self._last_activity = time.monotonic()
        self._stop = threading.Event()
        self.stop_reason = None
        self.httpd = _Server((host, port), Handler)
        self.httpd.app = self
        self.port = self.httpd.server_address[1]
        self.scheme = "http"
        if tls_cert:
            # TLS on loopback for clients that insist on https (MSAL, azure-identity); the handshake runs in the
            # request's thread, not in accept().
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(tls_cert, tls_key)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True,
                                                    do_handshake_on_connect=False)
            self.scheme = "https"

    @property
    def url(self):
        return f"{self.scheme}://{self.host}:{self.port}"

    def touch(self):
        self._last_activity = time.monotonic()

    def internal_request(self, method, target, headers=None, body=b"", client_ip="127.0.0.1"):
        """Serve a request in-process, through the same pipeline (faults, counting, events, commit).

        For simulated IdPs and other modules that must call the emulator's own APIs (e.g. the SCIM endpoint)
        from a control call or a clock hook: the state lock is re-entrant, so this works from inside a
        handler. Returns the Response, or None when a drop fault fired (treat as a network failure).
        """
        items = list((headers or {}).items())
        if not any(k.lower() == "host" for k, _ in items):
            items.append(("Host", f"{self.host}:{self.port}"))
        if isinstance(body, (dict, list)):
            import json as _json
            body = _json.dumps(body).encode("utf-8")
        req = Request(self, method, target, items, body, client_ip)
        req.internal = True
        resp, _ = process(self, req)
        return resp

    def request_stop(self, reason):
        if not self._stop.is_set():
            self.stop_reason = reason
            self._stop.set()

    def _watch(self):
        initial_ppid = os.getppid()
        while not self._stop.wait(0.2):
            if self.parent_pid:
                alive = True
                try:
                    os.kill(self.parent_pid, 0)
                except ProcessLookupError:
                    alive = False
                except PermissionError:
                    pass
                # re-parented: our parent died (a zombie parent still answers kill(pid, 0))
                if initial_ppid == self.parent_pid and os.getppid() != initial_ppid:
                    alive = False
                if not alive:
                    self.request_stop(f"parent process {self.parent_pid} is gone")
            if self.idle_timeout and time.monotonic() - self._last_activity > self.idle_timeout:
                self.request_stop(f"idle for {self.idle_timeout}s")

    def serve(self, announce=True):
        thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
        thread.start()
        watcher = threading.Thread(target=self._watch, daemon=True)
        watcher.start()
        for hook in registry.START_HOOKS:
            hook(self)
        if announce:
            sys.stdout.write(f"EMULATOR_URL={self.url}\n")
            sys.stdout.flush()
        if getattr(self, "on_listening", None):
            self.on_listening(self.url)
        log(f"listening on {self.url} (default region {self.default_region}, state "
            f"{self.state.path or 'in memory'})")
        while not self._stop.wait(0.5):
            pass
        log(f"stopping: {self.stop_reason}")
        self.httpd.shutdown()
        self.httpd.server_close()
        with self.state.lock:
            try:
                self.state.commit()
            except OSError:
                pass

    def install_signal_handlers(self):
        def on_signal(signum, _frame):
            self.request_stop(f"signal {signal.Signals(signum).name}")
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
