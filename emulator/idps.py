"""Simulated identity providers that push users and groups into the emulator's SCIM endpoint.

Each IdP is bound to a CloudSSO directory (and so a region) and holds a SCIM token, the way a real IdP
does: an Entra ID provisioning job holds the SecretToken saved through Microsoft Graph (emulator/graph.py),
an IDaaS application the AccessToken of its provisioning configuration (emulator/idaas.py), and a
"manual" IdP the token a person pasted (``POST /_emulator/idps/<id>/token``).

A sync cycle calls the SCIM endpoint with that token, like the real clients: list the users, create or
patch the users the IdP owns, find its group by name and create it or add missing members. The calls go
through the server's whole pipeline in-process (``app.internal_request``: routing, faults, call counts,
ActionTrail events with the credential ID), addressed by the IdP's SCIM base URL, which must name this
emulator (anything else is "could not connect": the emulator never calls out). A background scheduler
(started by a start hook) runs one cycle per IdP every ``interval`` seconds of real time (0: only on
demand); moving the emulator's clock runs one cycle of each scheduled IdP (the time passed);
``POST /_emulator/idps/<id>/sync`` runs one now and returns its outcome.

Kinds plug in with :func:`register_kind`; they decide what the IdP holds and what a cycle's outcome does
(Entra ID quarantines its job on a 401).

A cycle runs under ``state.lock`` (re-entrant, so its in-process SCIM calls and a cycle started from a
control call or a clock hook work), which also keeps two cycles of one IdP from overlapping.
"""

import json
import threading
import time
import urllib.parse
import uuid

from . import registry
from .errors import ControlError
from .control import read_json
from .util import DIRECTORY_ID_RE, LOWER_ALNUM, fmt_time, rand_str

SECTION = "idps"
SCIM_BASE = "/scim/v2"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
TICK = 0.05

KINDS = {}


def register_kind(kind):
    KINDS[kind.name] = kind
    return kind


def _section(state):
    return state.section(SECTION)


def idps(state):
    return _section(state).setdefault("idps", {})


registry.register_state_section(SECTION, lambda: {"idps": {}})


# ---------------------------------------------------------------- calling the SCIM endpoint


def is_local(url, app):
    """True when `url` points at this emulator."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    return parts.scheme == getattr(app, "scheme", "http") and parts.hostname in ("127.0.0.1", "localhost", app.host) \
        and port == app.port


def internal_call(app, url, method="GET", token=None, body=None, user_agent=None):
    """(status, parsed body) of one request to this emulator, served in-process; status None when it could
    not be made (another host, or a dropped connection)."""
    if not is_local(url, app):
        return None, {"detail": "could not connect to %s" % (urllib.parse.urlsplit(url).netloc or url)}
    parts = urllib.parse.urlsplit(url)
    headers = {"Host": parts.netloc, "Accept": "application/scim+json", "User-Agent": user_agent or "emulated-idp"}
    if token:
        headers["Authorization"] = "Bearer " + token
    data = b""
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        headers["Content-Type"] = "application/scim+json"
    response = app.internal_request(method, parts.path + ("?" + parts.query if parts.query else ""), headers=headers,
                                    body=data)
    if response is None:
        return None, {"detail": "connection reset"}
    try:
        return response.status, json.loads(response.body.decode("utf-8")) if response.body else None
    except (ValueError, UnicodeDecodeError):
        return response.status, None


def scim_url(base_url, path, **query):
    url = base_url.rstrip("/") + path
    if query:
        url += "?" + urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
    return url


def local_scim_base(app, region):
    return "%s/region/%s%s" % (app.url, region, SCIM_BASE)


def read_token_file(path):
    """A secret file's credential_secret, or a plain token file's content (as the collection reads it)."""
    try:
        with open(path, "r", encoding="utf-8") as handle:
            content = handle.read().strip()
    except OSError as err:
        raise ValueError("cannot read token file %s: %s" % (path, err.strerror or type(err).__name__))
    if content.startswith("{"):
        try:
            data = json.loads(content)
        except ValueError:
            data = None
        if isinstance(data, dict) and data.get("credential_secret"):
            return data["credential_secret"]
        raise ValueError("token file %s is JSON without credential_secret" % path)
    if not content:
        raise ValueError("token file %s is empty" % path)
    return content


# ---------------------------------------------------------------- the sync cycle


def desired_users(idp):
    return idp.get("users") or []


def _user_resource(user):
    return {"schemas": [USER_SCHEMA], "userName": user["userName"], "externalId": user.get("externalId"),
            "displayName": user.get("displayName"), "active": True,
            "name": {"givenName": user.get("givenName"), "familyName": user.get("familyName")},
            "emails": [{"value": user["userName"], "type": "work", "primary": True}]}


def _user_differs(current, user):
    return (current.get("displayName") != user.get("displayName") or current.get("active") is False
            or current.get("externalId") != user.get("externalId"))


class CycleFailed(Exception):
    def __init__(self, status, detail):
        super().__init__(detail)
        self.status = status
        self.detail = detail


def sync_once(app, base_url, token, users, groups, user_agent):
    """One cycle. Returns dict(ok, auth_failed, status, error, calls, exported, user_ids)."""
    outcome = {"ok": False, "auth_failed": False, "status": None, "error": None, "calls": 0, "exported": 0,
               "user_ids": {}}

    def call(method, path, body=None, expect=(200,), **query):
        outcome["calls"] += 1
        status, answer = internal_call(app, scim_url(base_url, path, **query), method, token, body, user_agent)
        outcome["status"] = status
        if status in (401, 403):
            outcome["auth_failed"] = True
            raise CycleFailed(status, (answer or {}).get("detail") if isinstance(answer, dict) else None)
        if status not in expect:
            detail = (answer or {}).get("detail") if isinstance(answer, dict) else None
            raise CycleFailed(status, detail or "unexpected HTTP %s" % status)
        return answer or {}

    try:
        existing = {}
        start = 1
        while True:
            page = call("GET", "/Users", startIndex=start, count=100)
            resources = page.get("Resources") or []
            for res in resources:
                existing[str(res.get("userName", "")).lower()] = res
            start += len(resources)
            if not resources or start > int(page.get("totalResults") or 0):
                break
        for user in users:
            current = existing.get(user["userName"].lower())
            if current is None:
                created = call("POST", "/Users", _user_resource(user), expect=(201,))
                outcome["user_ids"][user["userName"]] = created.get("id")
                outcome["exported"] += 1
            else:
                outcome["user_ids"][user["userName"]] = current.get("id")
                if _user_differs(current, user):
                    patch = {"schemas": [PATCH_SCHEMA], "Operations": [
                        {"op": "replace", "path": "displayName", "value": user.get("displayName")},
                        {"op": "replace", "path": "externalId", "value": user.get("externalId")},
                        {"op": "replace", "path": "active", "value": True}]}
                    call("PATCH", "/Users/" + urllib.parse.quote(current["id"], safe=""), patch, expect=(200, 204))
                    outcome["exported"] += 1
        for group in groups:
            found = call("GET", "/Groups", filter='displayName eq "%s"' % group["displayName"])
            members = [{"value": outcome["user_ids"][u["userName"]]} for u in users
                       if outcome["user_ids"].get(u["userName"])]
            resources = found.get("Resources") or []
            if not resources:
                call("POST", "/Groups", {"schemas": [GROUP_SCHEMA], "displayName": group["displayName"],
                                         "externalId": group.get("externalId"), "members": members}, expect=(201,))
                outcome["exported"] += 1
            else:
                have = {m.get("value") for m in resources[0].get("members") or [] if isinstance(m, dict)}
                missing = [m for m in members if m["value"] not in have]
                if missing:
                    call("PATCH", "/Groups/" + urllib.parse.quote(resources[0]["id"], safe=""),
                         {"schemas": [PATCH_SCHEMA], "Operations": [{"op": "add", "path": "members", "value": missing}]},
                         expect=(200, 204))
                    outcome["exported"] += 1
        outcome["ok"] = True
    except CycleFailed as failure:
        outcome["error"] = {"status": failure.status, "detail": failure.detail}
    return outcome


# ---------------------------------------------------------------- kinds


class Kind:
    """What an IdP kind decides. Methods run under ``state.lock``."""

    name = None
    user_agent = "emulated-idp"

    def create(self, state, app, idp, spec):
        """Bind the new IdP; return extra fields for the creation answer (shown once)."""
        return {}

    def held(self, state, idp):
        """(base_url or None for this emulator's endpoint of the IdP's region, token or None)."""
        raise NotImplementedError

    def users(self, state, idp):
        """The users a cycle provisions (an Entra job: only those in its provisioning scope)."""
        return desired_users(idp)

    def runnable(self, state, idp):
        """(True, None), or (False, reason) when the IdP would not run a cycle now."""
        return True, None

    def after_cycle(self, state, idp, outcome):
        pass

    def view(self, state, idp):
        return {}

    def delete(self, state, idp):
        pass


class ManualKind(Kind):
    """A person: holds whatever token was pasted last."""

    name = "manual"
    user_agent = "manual-idp/1.0 (emulated)"

    def create(self, state, app, idp, spec):
        if spec.get("token") or spec.get("token_file"):
            paste_token(state, idp, spec)
        return {}

    def held(self, state, idp):
        return idp.get("base_url"), idp.get("token")


register_kind(ManualKind())


def paste_token(state, idp, spec):
    if spec.get("token_file"):
        token = read_token_file(spec["token_file"])
    elif spec.get("token"):
        token = str(spec["token"]).strip()
    else:
        raise ValueError("give token_file (a path the emulator can read) or token")
    state.remember_secret("idp_pasted_token", idp["idp_id"], token)
    idp["token"] = token
    idp["pasted_at"] = fmt_time(state.now())
    if spec.get("base_url"):
        idp["base_url"] = spec["base_url"]
    state.dirty = True


# ---------------------------------------------------------------- scheduler


class Scheduler:
    """One thread per emulator running due cycles one after the other."""

    def __init__(self, app):
        self.app = app
        self.due = {}
        self.thread = threading.Thread(target=self._loop, name="idp-scheduler", daemon=True)
        self.thread.start()

    def poke(self, idp_id, delay=0.0):
        """Run a cycle of `idp_id` soon (even when it has no interval), e.g. after Entra's start."""
        self.due[idp_id] = time.monotonic() + delay

    def forget(self, idp_id=None):
        if idp_id is None:
            self.due.clear()
        else:
            self.due.pop(idp_id, None)

    def _stopped(self):
        stop = getattr(self.app, "_stop", None)
        return stop is not None and stop.is_set()

    def _loop(self):
        state = self.app.state
        while not self._stopped():
            now = time.monotonic()
            with state.lock:
                plan = [(i, float(p.get("interval") or 0), bool(p.get("paused"))) for i, p in idps(state).items()]
            for idp_id, interval, paused in plan:
                if paused:
                    continue
                due = self.due.get(idp_id)
                if due is None and interval > 0:
                    due = self.due[idp_id] = now  # a new IdP syncs right away, as a real one does
                if due is None or due > now:
                    continue
                self.due.pop(idp_id, None)
                try:
                    run_cycle(self.app, idp_id)
                except Exception as exc:  # noqa: BLE001 - the loop must survive a bad cycle
                    _log("idp %s: cycle error %s" % (idp_id, type(exc).__name__))
                if interval > 0 and idp_id not in self.due:
                    self.due[idp_id] = time.monotonic() + interval
            time.sleep(TICK)


_SCHEDULERS = {}
_SCHEDULERS_GUARD = threading.Lock()


def scheduler(app):
    """The app's scheduler, started by the start hook (or on first use by an in-process app)."""
    with _SCHEDULERS_GUARD:
        sched = _SCHEDULERS.get(id(app))
        if sched is None or sched.app is not app:
            sched = _SCHEDULERS[id(app)] = Scheduler(app)
        return sched


def _log(message):
    try:
        from .server import log
        log(message)
    except Exception:  # noqa: BLE001
        pass


def run_cycle(app, idp_id):
    """Run one cycle of `idp_id` now, under the state lock. Returns the cycle record, or
    dict(ran=False, reason) when the IdP would not run one."""
    state = app.state
    with state.lock:
        idp = idps(state).get(idp_id)
        if idp is None:
            return {"ran": False, "reason": "no such IdP"}
        kind = KINDS[idp["kind"]]
        ok, reason = kind.runnable(state, idp)
        base_url, token = kind.held(state, idp) if ok else (None, None)
        if ok and not token:
            ok, reason = False, "the IdP holds no token"
        if not ok:
            idp["skipped_cycles"] = idp.get("skipped_cycles", 0) + 1
            idp["last_skip"] = {"time": fmt_time(state.now()), "reason": reason}
            state.dirty = True
            state.commit()
            return {"ran": False, "reason": reason}
        base_url = base_url or local_scim_base(app, idp["region"])
        began = state.now()
        outcome = sync_once(app, base_url, token, kind.users(state, idp), idp.get("groups") or [], kind.user_agent)
        cred, _ = state.credential_by_secret(token)
        record = {"ran": True, "began": began, "ended": max(state.now(), began), "ok": outcome["ok"],
                  "auth_failed": outcome["auth_failed"], "status": outcome["status"], "error": outcome["error"],
                  "calls": outcome["calls"], "exported": outcome["exported"],
                  "credential_id": cred["credential_id"] if cred else None, "base_url": base_url}
        idp["cycles"] = idp.get("cycles", 0) + 1
        if not outcome["ok"]:
            idp["failed_cycles"] = idp.get("failed_cycles", 0) + 1
        idp["last_cycle"] = record
        kind.after_cycle(state, idp, record)
        state.dirty = True
        state.commit()
        return cycle_view(record)


def cycle_view(record):
    if not record or not record.get("ran"):
        return record
    view = dict(record)
    view["began"] = fmt_time(record["began"])
    view["ended"] = fmt_time(record["ended"])
    return view


# ---------------------------------------------------------------- control API


def _user_list(spec, idp_id, domain):
    users = spec.get("users", 2)
    if isinstance(users, int):
        return [{"userName": "user%d.%s@%s" % (n + 1, idp_id, domain), "displayName": "User %d (%s)" % (n + 1, idp_id),
                 "givenName": "User", "familyName": str(n + 1), "externalId": str(uuid.uuid4())} for n in range(users)]
    if not isinstance(users, list):
        raise ValueError("users must be a number or a list of userNames / objects")
    out = []
    for item in users:
        user = {"userName": item} if isinstance(item, str) else dict(item)
        if not user.get("userName"):
            raise ValueError("every user needs a userName")
        user.setdefault("displayName", user["userName"].split("@")[0])
        user.setdefault("externalId", str(uuid.uuid4()))
        out.append(user)
    return out


def create_idp(state, app, spec):
    if not isinstance(spec, dict):
        raise ValueError("an IdP is a JSON object")
    kind = KINDS.get(spec.get("kind"))
    if kind is None:
        raise ValueError("kind must be one of %s" % ", ".join(sorted(KINDS)))
    directory_id = spec.get("directory_id")
    if not directory_id or not DIRECTORY_ID_RE.match(directory_id) or directory_id not in state.directories:
        raise ValueError("directory_id must name a seeded directory")
    directory = state.directories[directory_id]
    interval = spec.get("interval", 0)
    if isinstance(interval, bool) or not isinstance(interval, (int, float)) or interval < 0:
        raise ValueError("interval must be a number of seconds (0: cycles only on demand)")
    idp_id = spec.get("idp_id") or "idp-" + rand_str(LOWER_ALNUM, 8)
    if idp_id in idps(state):
        raise ValueError("IdP %s already exists" % idp_id)
    idp = {"idp_id": idp_id, "kind": kind.name, "directory_id": directory_id, "region": directory["region"],
           "interval": float(interval), "paused": bool(spec.get("paused", False)), "base_url": spec.get("base_url"),
           "created": fmt_time(state.now()), "cycles": 0, "failed_cycles": 0, "last_cycle": None}
    if spec.get("credential_id") and not (spec.get("token") or spec.get("token_file")):
        # Start the IdP with the token of a credential the emulator issued (tests never handle the secret).
        spec = dict(spec, token=credential_secret(state, spec["credential_id"]))
    idp["users"] = _user_list(spec, idp_id, spec.get("domain") or "example.com")
    groups = spec.get("groups", ["%s-users" % idp_id])
    idp["groups"] = [{"displayName": g, "externalId": str(uuid.uuid4())} if isinstance(g, str) else dict(g)
                     for g in groups]
    extra = kind.create(state, app, idp, spec)
    idps(state)[idp_id] = idp
    state.dirty = True
    view = idp_view(state, idp)
    view.update(extra or {})
    return view


def credential_secret(state, credential_id):
    for entry in state.secrets:
        if entry["kind"] == "scim_credential_secret" and entry["id"] == credential_id:
            return entry["value"]
    raise ValueError("no secret known for credential %s" % credential_id)


def token_state(state, token):
    """(credential_id, state) of a token: none, unknown, Enabled, Disabled, expired, deleted."""
    if not token:
        return None, "none"
    cred, deleted = state.credential_by_secret(token)
    if cred is None:
        return None, "unknown"
    if deleted:
        return cred["credential_id"], "deleted"
    if cred["expire_time"] <= state.now():
        return cred["credential_id"], "expired"
    return cred["credential_id"], cred["status"]


def idp_view(state, idp):
    """What the control API shows: never the token, only the credential it resolves to."""
    kind = KINDS[idp["kind"]]
    base_url, token = kind.held(state, idp)
    credential_id, tstate = token_state(state, token)
    view = {k: v for k, v in idp.items() if k not in ("token", "last_cycle")}
    view.update(credential_id=credential_id, token_state=tstate, base_url=base_url,
                last_cycle=cycle_view(idp.get("last_cycle")), users=[u["userName"] for u in idp.get("users") or []],
                groups=[g["displayName"] for g in idp.get("groups") or []])
    view.update(kind.view(state, idp))
    return view


def control(req, method, rest):
    """/_emulator/idps[/<id>[/token|/sync]] (see docs/emulator.md, "Identity providers")."""
    state, app = req.state, req.app
    scheduler(app)
    try:
        if not rest:
            if method == "GET":
                return {"idps": [idp_view(state, i) for i in idps(state).values()]}
            if method == "POST":
                return 201, create_idp(state, app, read_json(req, {}))
            raise ControlError(405, "use GET or POST")
        idp = idps(state).get(rest[0])
        if idp is None:
            raise ControlError(404, "no IdP %s" % rest[0])
        action = rest[1] if len(rest) > 1 else None
        if action is None and method == "GET":
            return idp_view(state, idp)
        if action is None and method == "DELETE":
            KINDS[idp["kind"]].delete(state, idp)
            idps(state).pop(idp["idp_id"])
            scheduler(app).forget(idp["idp_id"])
            state.dirty = True
            return {"deleted": idp["idp_id"]}
        if action is None and method in ("PATCH", "POST"):
            body = read_json(req, {})
            if not isinstance(body, dict):
                raise ValueError("send an object")
            if "interval" in body:
                if isinstance(body["interval"], bool) or not isinstance(body["interval"], (int, float)) \
                        or body["interval"] < 0:
                    raise ValueError("interval must be a number of seconds (0: cycles only on demand)")
                idp["interval"] = float(body["interval"])
            if "paused" in body:
                idp["paused"] = bool(body["paused"])
            if "base_url" in body:
                idp["base_url"] = body["base_url"]
            if "users" in body:
                idp["users"] = _user_list(body, idp["idp_id"], body.get("domain") or "example.com")
            scheduler(app).forget(idp["idp_id"])  # the next cycle follows the new settings
            state.dirty = True
            return idp_view(state, idp)
        if action == "token" and method == "POST":
            if idp["kind"] != "manual":
                raise ValueError("only a manual IdP takes a pasted token; %s IdPs get theirs through their API"
                                 % idp["kind"])
            paste_token(state, idp, read_json(req, {}))
            return idp_view(state, idp)
        if action == "sync" and method == "POST":
            outcome = run_cycle(app, idp["idp_id"])
            current = idps(state).get(idp["idp_id"])
            return {"cycle": outcome, "idp": idp_view(state, current) if current else None}
        raise ControlError(404, "no control call %s /_emulator/idps/%s" % (method, "/".join(rest)))
    except ValueError as exc:
        raise ControlError(400, str(exc))


def on_clock(app, before, after):
    """Time passed on the emulator's clock: each scheduled IdP runs one cycle (a day in one step is not
    48 cycles; one shows the IdP kept syncing, and lets a quarantined Entra job retry when its day is up)."""
    if after <= before:
        return
    for idp_id, idp in list(idps(app.state).items()):
        if not idp.get("paused") and float(idp.get("interval") or 0) > 0:
            run_cycle(app, idp_id)


def _reset(state):
    for sched in list(_SCHEDULERS.values()):
        if sched.app.state is state:
            sched.forget()


registry.register_reset_hook(_reset)
registry.register_control("idps", control)
registry.register_clock_hook(on_clock)
registry.register_start_hook(scheduler)
