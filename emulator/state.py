"""Everything the emulator knows, the virtual clock, the settings, and their persistence.

One re-entrant lock (``state.lock``) serialises request processing. Mutators set ``dirty``; the server
calls :meth:`State.commit` before it writes a response, so a write call's effect is on disk (atomic write
+ rename; events appended to a JSON Lines file) before the client can see it succeed. No fsync: the goal
is to survive ``kill -9`` of the emulator, not a power cut.
"""

import collections
import copy
import hashlib
import json
import os
import threading
import time

from . import registry
from .events import EventStore
from .util import fmt_time

STATE_VERSION = 1

SCIM_EVENT_LOCATIONS = ("additionalEventData", "requestParameters", "userIdentity", "json_string", "random")

DEFAULT_CONFIG = {
    # ActionTrail
    "actiontrail_delay_seconds": 0,          # ingestion delay (real service: minutes)
    "actiontrail_max_span_days": 30,         # widest StartTime..EndTime window
    "actiontrail_retention_days": 90,        # only the last N days are searchable
    "actiontrail_rate_per_second": 2,        # LookupEvents calls per second per account (0: unlimited)
    "actiontrail_default_max_results": 20,
    "record_rpc_events": True,               # every served RPC call becomes an event
    # SCIM usage events
    "scim_event_location": "additionalEventData",
    "scim_event_region": None,               # None: the directory's region
    "scim_event_service_name": "cloudsso",
    "scim_event_source": None,               # None: cloudsso-scim-<region>.aliyun.com
    "record_rejected_scim_calls": True,
    # Auth and errors
    "ram_denied_code": "Forbidden.RAM",
    "ram_denied_status": 403,
    "throttling_status": 400,
    "signature_max_skew_seconds": 900,
    "check_nonce": True,
    # CloudSSO rules
    "cloudsso_credential_limit": 2,
    "cloudsso_forbid_delete_enabled": False,
    "cloudsso_credential_validity_days": None,  # None: one calendar year (emulator/cloudsso.py)
    # ECS metadata
    "imds_v2_required": False,
    "imds_credential_duration_seconds": 21600,
}

CONFIG_TYPES = {
    "actiontrail_delay_seconds": (int, float),
    "actiontrail_max_span_days": (int, float),
    "actiontrail_retention_days": (int, float),
    "actiontrail_rate_per_second": (int, float),
    "actiontrail_default_max_results": int,
    "record_rpc_events": bool,
    "scim_event_location": str,
    "scim_event_region": (str, type(None)),
    "scim_event_service_name": str,
    "scim_event_source": (str, type(None)),
    "record_rejected_scim_calls": bool,
    "ram_denied_code": str,
    "ram_denied_status": int,
    "throttling_status": int,
    "signature_max_skew_seconds": (int, float),
    "check_nonce": bool,
    "cloudsso_credential_limit": int,
    "cloudsso_forbid_delete_enabled": bool,
    "cloudsso_credential_validity_days": (int, float, type(None)),
    "imds_v2_required": bool,
    "imds_credential_duration_seconds": int,
}

NONCE_TTL = 15 * 60
CALL_LOG_MAX = 100_000


class ConfigError(ValueError):
    pass


def validate_config(updates):
    if not isinstance(updates, dict):
        raise ConfigError("config must be a JSON object")
    for key, value in updates.items():
        if key not in DEFAULT_CONFIG:
            raise ConfigError(f"unknown setting {key!r}; known: {', '.join(sorted(DEFAULT_CONFIG))}")
        types = CONFIG_TYPES[key]
        if isinstance(value, bool) and types in (int, (int, float)):
            raise ConfigError(f"setting {key!r} must be a number")
        if not isinstance(value, types):
            raise ConfigError(f"setting {key!r} has the wrong type")
        if key == "scim_event_location" and value not in SCIM_EVENT_LOCATIONS:
            raise ConfigError(f"scim_event_location must be one of {', '.join(SCIM_EVENT_LOCATIONS)}")


class CallLog:
    """Per product:action counts (all calls, and those answered with a 2xx) and a log of recent calls (not
    persisted). The counts are exact however long the log grows: the log keeps only the last CALL_LOG_MAX."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.counts = collections.Counter()
        self.answered = collections.Counter()
        self.log = collections.deque(maxlen=CALL_LOG_MAX)

    def record(self, entry):
        key = f"{entry['product']}:{entry['action']}"
        self.counts[key] += 1
        if 200 <= (entry["status"] or 0) < 300:
            self.answered[key] += 1
        self.log.append(entry)

    def counts_json(self):
        return {"counts": dict(self.counts), "answered": dict(self.answered)}

    def to_json(self):
        return dict(self.counts_json(), log=list(self.log))


class State:
    def __init__(self, path=None, default_region="cn-shanghai"):
        self.lock = threading.RLock()
        self.path = path
        self.events_path = (path + ".events.jsonl") if path else None
        self.default_region = default_region
        self.secrets = []            # every secret ever issued or seeded: kept across reset and restart
        self._secret_values = set()
        self.calls = CallLog()
        self._nonces = {}
        self._rate = {}
        self.dirty = False
        self._reset_data()

    # ------------------------------------------------------------ data

    def _reset_data(self):
        self.clock_offset = 0.0
        self.config = copy.deepcopy(DEFAULT_CONFIG)
        self.access_keys = {}          # id -> {id, secret, account_id, permissions, ...}
        self.roles = {}                # arn -> {...}
        self.ecs_roles = {}            # name -> {...}
        self.sts = {}                  # STS.xxx -> {id, secret, token, expiration, account_id, ...}
        self.directories = {}          # d-xxx -> {directory_id, region, account_id, scim_sync, ...}
        self.credentials = {}          # scimcred-xxx -> {..., secret_sha256}
        self.deleted_credentials = {}  # kept so that their tokens are recognised (rejected) by SCIM
        self.scim_users = {}           # directory id -> {user id -> resource}
        self.scim_groups = {}          # directory id -> {group id -> resource}
        self.sections = {}
        self.imds_tokens = {}          # token -> expiry (virtual time); not persisted
        self.events = EventStore()
        self.events.persistent = self.path is not None
        self.events.rewrite = True
        self._token_index = {}
        self._secret_hash_index = {}

    def reset(self):
        with self.lock:
            self._reset_data()
            self._nonces = {}
            self._rate = {}
            for hook in registry.RESET_HOOKS:
                hook(self)
            self.dirty = True

    def section(self, name):
        if name not in self.sections:
            factory = registry.STATE_SECTIONS.get(name, dict)
            self.sections[name] = factory()
            self.dirty = True
        return self.sections[name]

    # ------------------------------------------------------------ clock

    def now(self):
        """Virtual time (epoch seconds): real time plus an offset the control API can move."""
        return time.time() + self.clock_offset

    def now_iso(self):
        return fmt_time(self.now())

    def set_clock(self, now=None, advance_seconds=None):
        with self.lock:
            if now is not None:
                self.clock_offset = float(now) - time.time()
            if advance_seconds is not None:
                self.clock_offset += float(advance_seconds)
            self.dirty = True

    # ------------------------------------------------------------ secrets

    def remember_secret(self, kind, ident, value):
        if not value or value in self._secret_values:
            return
        self._secret_values.add(value)
        self.secrets.append({"kind": kind, "id": ident, "value": value})
        self.dirty = True

    # ------------------------------------------------------------ indexes

    def add_sts(self, cred):
        self.sts[cred["id"]] = cred
        self._token_index[cred["token"]] = cred["id"]
        self.remember_secret("sts_access_key_secret", cred["id"], cred["secret"])
        self.remember_secret("sts_security_token", cred["id"], cred["token"])
        self.dirty = True

    def sts_token_owner(self, token):
        return self._token_index.get(token)

    @staticmethod
    def secret_hash(secret):
        return hashlib.sha256(secret.encode("utf-8")).hexdigest()

    def add_credential(self, cred, secret):
        cred["secret_sha256"] = self.secret_hash(secret)
        self.credentials[cred["credential_id"]] = cred
        self._secret_hash_index[cred["secret_sha256"]] = cred["credential_id"]
        self.remember_secret("scim_credential_secret", cred["credential_id"], secret)
        self.dirty = True

    def credential_by_secret(self, secret):
        """(credential, deleted) for a bearer token, or (None, False)."""
        cid = self._secret_hash_index.get(self.secret_hash(secret))
        if cid is None:
            return None, False
        if cid in self.credentials:
            return self.credentials[cid], False
        return self.deleted_credentials.get(cid), True

    def delete_credential(self, cid):
        cred = self.credentials.pop(cid)
        cred["deleted_time"] = int(self.now())
        self.deleted_credentials[cid] = cred
        self.dirty = True
        return cred

    # ------------------------------------------------------------ replay and rate limits (real time)

    def use_nonce(self, access_key_id, nonce):
        now = time.time()
        if len(self._nonces) > 50_000:
            self._nonces = {k: t for k, t in self._nonces.items() if now - t < NONCE_TTL}
        key = (access_key_id, nonce)
        seen = self._nonces.get(key)
        if seen is not None and now - seen < NONCE_TTL:
            return False
        self._nonces[key] = now
        return True

    def rate_limited(self, bucket, per_second):
        """Sliding one-second window on the real clock; True when the call must be throttled."""
        if not per_second:
            return False
        now = time.monotonic()
        window = self._rate.setdefault(bucket, collections.deque())
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) >= per_second:
            return True
        window.append(now)
        return False

    # ------------------------------------------------------------ persistence

    def to_json(self):
        return {
            "version": STATE_VERSION,
            "default_region": self.default_region,
            "clock_offset": self.clock_offset,
            "config": self.config,
            "access_keys": self.access_keys,
            "roles": self.roles,
            "ecs_roles": self.ecs_roles,
            "sts": self.sts,
            "directories": self.directories,
            "credentials": self.credentials,
            "deleted_credentials": self.deleted_credentials,
            "scim_users": self.scim_users,
            "scim_groups": self.scim_groups,
            "sections": self.sections,
            "secrets": self.secrets,
        }

    def load(self):
        if not self.path:
            return
        with self.lock:
            self._reset_data()
            self.events.rewrite = False
            if os.path.exists(self.path):
                with open(self.path, "r", encoding="utf-8") as fh:
                    data = json.load(fh)
                self.clock_offset = data.get("clock_offset", 0.0)
                self.config.update(data.get("config", {}))
                for name in ("access_keys", "roles", "ecs_roles", "sts", "directories", "credentials",
                             "deleted_credentials", "scim_users", "scim_groups", "sections"):
                    setattr(self, name, data.get(name, {}))
                self.secrets = data.get("secrets", [])
                self._secret_values = {s["value"] for s in self.secrets}
                self._token_index = {c["token"]: cid for cid, c in self.sts.items()}
                for cid, cred in list(self.credentials.items()) + list(self.deleted_credentials.items()):
                    self._secret_hash_index[cred["secret_sha256"]] = cid
            self.events.load(self.events_path)
            self.dirty = False

    def commit(self):
        """Write what changed, before the response goes out."""
        with self.lock:
            if self.path is None:
                self.events.pending = []
                self.events.rewrite = False
                self.dirty = False
                return
            if self.dirty:
                tmp = self.path + ".tmp"
                with open(tmp, "w", encoding="utf-8") as fh:
                    json.dump(self.to_json(), fh, separators=(",", ":"))
                os.replace(tmp, self.path)
                self.dirty = False
            self.events.flush(self.events_path)
