"""Control API for tests: ``/_emulator/...`` (JSON in and out, no auth, never subject to faults).

Documented call by call in docs/emulator.md.
"""

import json

from . import actiontrail, registry
from .errors import ControlError, Response
from .faults import FaultError
from .state import ConfigError, validate_config
from .util import ACCOUNT_ID_RE, DEFAULT_ACCOUNT_ID, fmt_time, new_access_key_id, new_access_key_secret, \
    new_numeric_id, parse_time

PREFIX = "/_emulator"
# dependencies first (roles before the ECS roles that use them, directories before credentials);
# keys registered by extension modules follow in registration order
SEED_ORDER = ["roles", "ecs_roles", "directories", "credentials", "events"]


def _json(obj, status=200):
    return Response(status, obj)


def read_json(req, default=None):
    """The JSON body of a control call (for extension handlers too); ControlError 400 when invalid."""
    if not req.body:
        return default
    try:
        return json.loads(req.body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ControlError(400, "request body is not valid JSON")


# ---------------------------------------------------------------- seeds (core keys)


def seed_access_keys(state, items):
    out = []
    for spec in items or ():
        ak_id = spec.get("id") or spec.get("access_key_id") or new_access_key_id()
        secret = spec.get("secret") or spec.get("access_key_secret") or new_access_key_secret()
        account = str(spec.get("account_id") or DEFAULT_ACCOUNT_ID)
        if not ACCOUNT_ID_RE.match(account):
            raise ValueError(f"bad account_id {account!r}")
        if ak_id.startswith("STS."):
            raise ValueError("seeded access key ids must not start with 'STS.'")
        ident = spec.get("identity_type", "ram-user")
        if ident not in ("ram-user", "root-account"):
            raise ValueError("identity_type must be ram-user or root-account")
        ak = {
            "id": ak_id,
            "secret": secret,
            "account_id": account,
            "permissions": list(spec.get("permissions", ["*"])),
            "deny": list(spec.get("deny", [])),
            "user_name": spec.get("user_name") or ("root" if ident == "root-account" else "emulator-user"),
            "user_id": spec.get("user_id") or new_numeric_id(16),
            "identity_type": ident,
            "status": spec.get("status", "Active"),
        }
        state.access_keys[ak_id] = ak
        state.remember_secret("access_key_secret", ak_id, secret)
        state.dirty = True
        out.append(dict(ak))
    return out


def apply_seed(state, seed):
    if seed is None:
        return {}
    if not isinstance(seed, dict):
        raise ControlError(400, "a seed must be a JSON object")
    known = {"config", "clock", "access_keys"} | set(registry.SEED_HANDLERS)
    unknown = set(seed) - known
    if unknown:
        raise ControlError(400, f"unknown seed keys: {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
    out = {}
    try:
        # settings and the clock first: they change how the rest is created (expiry, times)
        if "config" in seed:
            validate_config(seed["config"])
            state.config.update(seed["config"])
            state.dirty = True
            out["config"] = dict(state.config)
        if "clock" in seed:
            out["clock"] = _set_clock(state, seed["clock"])
        if "access_keys" in seed:
            out["access_keys"] = seed_access_keys(state, seed["access_keys"])
        ordered = [k for k in SEED_ORDER if k in registry.SEED_HANDLERS]
        ordered += [k for k in registry.SEED_HANDLERS if k not in ordered]
        for key in ordered:
            if key in seed:
                out[key] = registry.SEED_HANDLERS[key](state, seed[key])
    except (ValueError, KeyError, TypeError, ConfigError) as exc:
        raise ControlError(400, f"bad seed: {exc}")
    return out


# ---------------------------------------------------------------- views


def _state_view(state):
    dirs = []
    for d in state.directories.values():
        dd = dict(d)
        dd["user_count"] = len(state.scim_users.get(d["directory_id"], {}))
        dd["group_count"] = len(state.scim_groups.get(d["directory_id"], {}))
        dirs.append(dd)

    def cred_view(c, deleted=False):
        v = {"credential_id": c["credential_id"], "directory_id": c["directory_id"], "status": c["status"],
             "create_time": fmt_time(c["create_time"]), "expire_time": fmt_time(c["expire_time"]),
             "expired": c["expire_time"] <= state.now()}
        if deleted:
            v["deleted_time"] = fmt_time(c.get("deleted_time", 0))
        return v

    return {
        "now": state.now_iso(),
        "default_region": state.default_region,
        "directories": dirs,
        "credentials": [cred_view(c) for c in state.credentials.values()],
        "deleted_credentials": [cred_view(c, True) for c in state.deleted_credentials.values()],
        "access_keys": [{k: v for k, v in ak.items() if k != "secret"} for ak in state.access_keys.values()],
        "roles": [{k: v for k, v in r.items() if k != "oidc"} for r in state.roles.values()],
        "ecs_roles": [{"name": e["name"], "role_arn": e["role_arn"]} for e in state.ecs_roles.values()],
        "sts_credentials": [{"id": c["id"], "account_id": c["account_id"], "role_arn": c["role_arn"],
                             "session_name": c["session_name"], "expiration": fmt_time(c["expiration"]),
                             "source": c.get("source")} for c in state.sts.values()],
        "scim_users": {d: sorted(u) for d, u in state.scim_users.items()},
        "scim_groups": {d: sorted(g) for d, g in state.scim_groups.items()},
        "event_count": state.events.count,
        "config": dict(state.config),
    }


def _set_clock(state, body, app=None):
    if not isinstance(body, dict):
        raise ControlError(400, "clock body must be an object")
    now = body.get("now")
    if now is not None:
        try:
            now = parse_time(now) if isinstance(now, str) else float(now)
        except ValueError:
            raise ControlError(400, "now must be YYYY-MM-DDThh:mm:ssZ or epoch seconds")
    adv = body.get("advance_seconds")
    if adv is not None and (isinstance(adv, bool) or not isinstance(adv, (int, float))):
        raise ControlError(400, "advance_seconds must be a number")
    before = state.now()
    state.set_clock(now=now, advance_seconds=adv)
    if app is not None:
        for hook in registry.CLOCK_HOOKS:
            hook(app, before, state.now())
    return _clock_view(state)


def _clock_view(state):
    return {"now": state.now_iso(), "epoch": state.now(), "offset_seconds": state.clock_offset}


# ---------------------------------------------------------------- dispatch


def match(path):
    return path == PREFIX or path.startswith(PREFIX + "/")


def handle(req):
    try:
        return _handle(req)
    except ControlError as err:
        return _json({"error": err.message}, err.status)


def _handle(req):
    state = req.state
    app = req.app
    name = req.path[len(PREFIX):].strip("/")
    method = req.method
    if name == "health" and method == "GET":
        return _json({"ok": True, "now": state.now_iso()})
    if name == "shutdown" and method == "POST":
        # For a playbook that started the emulator in the background (playbooks/demo.yml).
        app.request_stop("shutdown requested through the control API")
        return _json({"stopping": True})
    if name == "reset" and method == "POST":
        seed = read_json(req)
        state.reset()
        state.calls.reset()
        app.faults.clear()
        return _json({"reset": True, "seeded": apply_seed(state, seed)})
    if name == "seed" and method == "POST":
        return _json(apply_seed(state, read_json(req, {})))
    if name == "state" and method == "GET":
        return _json(_state_view(state))
    if name == "secrets" and method == "GET":
        return _json({"secrets": list(state.secrets), "values": [s["value"] for s in state.secrets]})
    if name == "calls" and method == "GET":
        return _json(state.calls.to_json())
    if name == "calls/counts" and method == "GET":  # what a poller needs, without the whole log
        return _json(state.calls.counts_json())
    if name == "calls/reset" and method == "POST":
        state.calls.reset()
        return _json({"reset": True})
    if name == "faults":
        if method == "GET":
            return _json({"rules": app.faults.snapshot()})
        if method == "DELETE":
            app.faults.clear()
            return _json({"cleared": True})
        if method == "POST":
            body = read_json(req)
            specs = body.get("rules") if isinstance(body, dict) and "rules" in body else body
            if isinstance(specs, dict):
                specs = [specs]
            if not isinstance(specs, list):
                raise ControlError(400, "POST a rule, a list of rules or {\"rules\": [...]}")
            try:
                added = [app.faults.add(s) for s in specs]
            except (FaultError, ValueError, TypeError) as exc:
                raise ControlError(400, f"bad fault rule: {exc}")
            return _json({"rules": added})
    if name == "clock":
        if method == "GET":
            return _json(_clock_view(state))
        if method == "POST":
            return _json(_set_clock(state, read_json(req, {}), app))
    if name == "config":
        if method == "GET":
            return _json(dict(state.config))
        if method == "POST":
            body = read_json(req, {})
            try:
                validate_config(body)
            except ConfigError as exc:
                raise ControlError(400, str(exc))
            state.config.update(body)
            state.dirty = True
            return _json(dict(state.config))
    if name == "events" and method == "POST":
        body = read_json(req, [])
        items = body.get("events") if isinstance(body, dict) else body
        try:
            return _json(actiontrail.add_raw_events(state, items))
        except (ValueError, TypeError) as exc:
            raise ControlError(400, f"bad events: {exc}")
    if name == "events" and method == "GET":
        # small debugging aid: the newest events of one account/region
        params = dict(req.query_pairs)
        account = params.get("account_id", DEFAULT_ACCOUNT_ID)
        region = params.get("region", state.default_region)
        limit = min(int(params.get("limit", 100)), 1000)
        events, _ = state.events.query(account, region, 0, 2 ** 62, limit=limit)
        return _json({"events": events, "total_events": state.events.count})
    if name == "events/generate" and method == "POST":
        body = read_json(req, {})
        if not isinstance(body, dict):
            raise ControlError(400, "generate takes an object")
        try:
            return _json(actiontrail.generate(state, body))
        except (ValueError, TypeError) as exc:
            raise ControlError(400, f"bad generate spec: {exc}")
    head, _, rest = name.partition("/")
    handler = registry.CONTROL_HANDLERS.get(head)
    if handler is not None:
        result = handler(req, method, [p for p in rest.split("/") if p])
        if isinstance(result, Response):
            return result
        if isinstance(result, tuple):
            return _json(result[1], result[0])
        return _json(result)
    raise ControlError(404, f"no control call {method} {PREFIX}/{name}")


ROUTE = registry.Route(name="control", match=match, handle=handle, faults=False)
