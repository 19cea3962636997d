"""Start and drive the local emulator from tests and benchmarks (standard library only).

    from tests.helpers.emulator import EmulatorProcess, make_access_key

    with EmulatorProcess() as emu:
        ak = make_access_key(permissions=["cloudsso:*"])
        seeded = emu.control.seed({"access_keys": [ak], "directories": [{"region": "cn-shanghai"}]})
        ... emu.url ...

An account has at most one directory (as in CloudSSO): a fleet is many accounts (`member_accounts`).

The process is ``python -m emulator --port 0 --parent-pid <this pid> --idle-timeout 3600`` run from the
repository root with the current interpreter, so it stops by itself if the test process dies (and after an hour
unused). The idle limit is longer than a whole `make test`: one pytest session runs every suite, so a worker's
session-wide emulator may wait many minutes between two tests of its suite.
"""

import json
import os
import secrets
import string
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_ACCOUNT_ID = "1234567890123456"
_UPPER = string.ascii_uppercase + string.digits
_ALNUM = string.ascii_letters + string.digits


def make_access_key(account_id=DEFAULT_ACCOUNT_ID, permissions=("*",), **extra):
    """A fresh random access key for a seed. Its id never starts with LTAI (the pattern of real keys that
    the pre-commit secret check flags)."""
    key = {
        "id": "TEST" + "".join(secrets.choice(_UPPER) for _ in range(20)),
        "secret": "".join(secrets.choice(_ALNUM) for _ in range(30)),
        "account_id": str(account_id),
        "permissions": list(permissions),
    }
    key.update(extra)
    return key


def new_account_id():
    """A random 16-digit Alibaba Cloud account ID (never the emulator's default account)."""
    return "1" + "".join(secrets.choice(string.digits) for _ in range(15))


def member_accounts(control, count, trusted_account_id, region="cn-shanghai", names=None, scim_sync="Enabled",
                    permissions=("cloudsso:*", "actiontrail:LookupEvents"), role_name="CloudSSOScimRotation"):
    """`count` accounts, each with its one CloudSSO directory (one directory per management account) and a RAM
    role that `trusted_account_id` may assume, as an operator of many accounts reaches each member account from
    one automation account. Returns, per account, {account_id, directory_id, role_arn, auth}; `auth` is the
    module options that reach it ({"assume_role": {"role_arn": ...}}: no secret)."""
    accounts = [new_account_id() for _ in range(count)]
    seeded = control.seed({
        "roles": [{"name": role_name, "account_id": a, "permissions": list(permissions),
                   "trusted_accounts": [str(trusted_account_id)]} for a in accounts],
        "directories": [dict({"region": region, "account_id": a, "scim_sync": scim_sync},
                             **({"name": names[n]} if names else {}))
                        for n, a in enumerate(accounts)]})
    return [dict(account_id=a, directory_id=d["directory_id"], role_arn=r["arn"],
                 auth={"assume_role": {"role_arn": r["arn"]}})
            for a, d, r in zip(accounts, seeded["directories"], seeded["roles"])]


def http_request(url, method="GET", body=None, headers=None, timeout=10):
    """(status, headers, parsed JSON body or text) without raising on HTTP errors. A dict/list body is sent as
    JSON (Content-Type application/scim+json unless given)."""
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        hdrs.setdefault("Content-Type", "application/scim+json")
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, rh, raw = resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        status, rh, raw = err.code, dict(err.headers), err.read()
    text = raw.decode("utf-8", "replace")
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = text
    return status, rh, parsed


class EmulatorError(Exception):
    def __init__(self, status, body):
        super().__init__(f"control call failed: HTTP {status}: {body}")
        self.status = status
        self.body = body


class EmulatorControl:
    """Client of the control API (``/_emulator/...``)."""

    def __init__(self, url, timeout=30):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, method, name, body=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(f"{self.url}/_emulator/{name}", data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return json.loads(resp.read().decode("utf-8") or "null")
        except urllib.error.HTTPError as err:
            raise EmulatorError(err.code, err.read().decode("utf-8", "replace"))

    def call(self, method, name, body=None):
        """Any control call, e.g. ones added by extension modules: call("POST", "idps", {...})."""
        return self._call(method, name, body)

    def health(self):
        return self._call("GET", "health")

    def reset(self, seed=None):
        return self._call("POST", "reset", seed)

    def seed(self, seed):
        return self._call("POST", "seed", seed)

    def state(self):
        return self._call("GET", "state")

    def secrets(self):
        """Every secret value the emulator ever issued or was seeded with (for leak scans)."""
        return self._call("GET", "secrets")["values"]

    def calls(self):
        return self._call("GET", "calls")

    def call_counts(self):
        """{counts, answered} per product:action, without the log: cheap enough to poll."""
        return self._call("GET", "calls/counts")

    def reset_calls(self):
        return self._call("POST", "calls/reset")

    def add_fault(self, rule=None, **kwargs):
        """add_fault({...}) or add_fault(match="cloudsso:CreateSCIMServerCredential", kind="error", ...)."""
        return self._call("POST", "faults", rule if rule is not None else kwargs)["rules"]

    def faults(self):
        return self._call("GET", "faults")["rules"]

    def clear_faults(self):
        return self._call("DELETE", "faults")

    def clock(self, now=None, advance_seconds=None):
        """GET the virtual clock, or move it (``now`` ISO/epoch, or ``advance_seconds``)."""
        if now is None and advance_seconds is None:
            return self._call("GET", "clock")
        body = {}
        if now is not None:
            body["now"] = now
        if advance_seconds is not None:
            body["advance_seconds"] = advance_seconds
        return self._call("POST", "clock", body)

    def config(self, **settings):
        """GET the settings, or update some (``config(actiontrail_rate_per_second=0)``)."""
        if not settings:
            return self._call("GET", "config")
        return self._call("POST", "config", settings)

    def add_events(self, events):
        return self._call("POST", "events", events)

    def events(self, account_id=DEFAULT_ACCOUNT_ID, region="cn-shanghai", limit=100):
        return self._call("GET", f"events?account_id={account_id}&region={region}&limit={limit}")

    def generate_events(self, **spec):
        return self._call("POST", "events/generate", spec)


class EmulatorProcess:
    """Context manager around one emulator process."""

    def __init__(self, state_file=None, extra_args=(), env=None, start_timeout=20, python=None):
        self.state_file = state_file
        self.extra_args = list(extra_args)
        self.env = env
        self.start_timeout = start_timeout
        self.python = python or sys.executable
        self.proc = None
        self.url = None
        self.control = None
        self._stderr_lines = []

    def command(self):
        cmd = [self.python, "-m", "emulator", "--port", "0", "--parent-pid", str(os.getpid()),
               "--idle-timeout", "3600"]
        if self.state_file:
            cmd += ["--state", str(self.state_file)]
        return cmd + self.extra_args

    def start(self):
        env = dict(os.environ)
        env.update(self.env or {})
        self.proc = subprocess.Popen(self.command(), cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)
        line_box = []
        reader = threading.Thread(target=lambda: line_box.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(self.start_timeout)
        line = line_box[0] if line_box else ""
        if not line.startswith("EMULATOR_URL="):
            self.stop()
            raise RuntimeError(f"emulator did not start: {line!r}; stderr: {self.stderr()[-2000:]}")
        # keep draining stderr so a chatty emulator never blocks on a full pipe
        threading.Thread(target=self._drain, args=(self.proc.stderr,), daemon=True).start()
        threading.Thread(target=self._drain, args=(self.proc.stdout,), daemon=True).start()
        self.url = line.strip().split("=", 1)[1]
        self.control = EmulatorControl(self.url)
        return self

    def _drain(self, stream):
        try:
            for line in stream:
                self._stderr_lines.append(line)
        except (ValueError, OSError):
            pass

    def stderr(self):
        """What the emulator logged so far (request log lines)."""
        if self.proc is not None and self.proc.poll() is not None and self.proc.stderr and not self._stderr_lines:
            try:
                return self.proc.stderr.read()
            except (ValueError, OSError):
                return ""
        return "".join(self._stderr_lines)

    @property
    def port(self):
        return int(self.url.rsplit(":", 1)[1]) if self.url else None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def stop(self, timeout=10):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        return self.proc.returncode

    def kill(self):
        """SIGKILL, as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def restart(self):
        """Stop and start again with the same state file (the port may change: read .url again)."""
        self.stop()
        self._stderr_lines = []
        return self.start()

    def wait_exit(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return self.proc.returncode
            time.sleep(0.05)
        return None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False
