"""Microsoft Entra ID as the collection sees it: the login endpoint and the Microsoft Graph v1.0 calls of
application provisioning (synchronization), with the real shapes and error bodies.

- ``POST /<tenant>/oauth2/v2.0/token`` (form): client credentials with a client secret, a certificate
  assertion (RS256, ``x5t``; the signature is verified with the seeded public key) or a seeded federated
  assertion. Errors are the OAuth2 body with AADSTS codes: 90002 unknown tenant, 700016 unknown client,
  7000215 wrong secret, 7000222 expired secret, 700027 bad assertion signature, 700024 assertion time,
  500011 unknown resource (scope).
- ``/v1.0/servicePrincipals/<id>/synchronization/...``: jobs (list, get), ``validateCredentials``, ``start``,
  ``pause``, ``restart``, ``provisionOnDemand`` (5 calls per 10 s, then 429 with ``Retry-After``),
  ``schema``, ``secrets`` (PUT **replaces** the whole list: keys left out, such as ``SyncAll`` and
  ``SyncNotificationSettings``, are gone; BaseAddress and SecretToken are required; GET returns the list
  with secret values as ``*``, or 405 with the setting ``secrets_readable: false``). Errors are
  ``{"error": {"code", "message", "innerError": {"date", "request-id", "client-request-id"}}}``; a bad bearer
  is 401 InvalidAuthenticationToken, a missing permission 403 Authorization_RequestDenied, an unknown
  service principal 404 Request_ResourceNotFound.
- Permissions: an app with ``Synchronization.ReadWrite.All`` (or ``Application.ReadWrite.All``) may manage
  every service principal of its tenant; with ``Application.ReadWrite.OwnedBy`` only those it owns.
- validateCredentials and provisionOnDemand make the simulated Entra ID call the SCIM endpoint over HTTP
  with the token, as the real one does (a ``GET /Users?filter=...``), except for an object out of the
  provisioning scope: provisionOnDemand answers ``Skipped`` (``NotEffectivelyEntitled``) without calling
  the target. The scope is ``SyncAll`` of the saved secrets: ``true`` all users and groups of the tenant,
  anything else only those assigned to the application. The answer is the documented
  stringKeyStringValuePair: ``key`` the JSON result ``{"result", "details"}``, ``value`` the JSON record
  (``"{}"`` for a group).
- The sync cycles themselves are run by emulator/idps.py (kind ``entra``), which updates the job status
  here: ``lastExecution`` per cycle, and a 401 puts the job in ``Quarantine`` with reason
  ``EncounteredQuarantineException`` until ``start``.

Everything is in the state section ``graph``; seeds under the key ``graph``; control calls under
``/_emulator/graph``. Every client secret, issued access token, assertion and SCIM token received is
listed by ``/_emulator/secrets``.
"""

import base64
import hashlib
import hmac
import json
import math
import re
import threading
import time
import urllib.parse
import uuid

from . import idps, registry
from .control import read_json
from .errors import ControlError, Response
from .util import rand_str

SECTION = "graph"
GRAPH_PREFIX = "/v1.0/"
LOGIN_RE = re.compile(r"^/([^/]+)/oauth2/v2\.0/token/?$")
DISCOVERY_RE = re.compile(r"^/([^/]+)/v2\.0/\.well-known/openid-configuration/?$")
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
GRAPH_RESOURCES = ("https://graph.microsoft.com", "https://graph.microsoft.com/")
ALL_SP_PERMISSIONS = ("Synchronization.ReadWrite.All", "Application.ReadWrite.All")
OWNED_PERMISSION = "Application.ReadWrite.OwnedBy"
ENTRA_DIRECTORY = "Azure Active Directory"
DEFAULT_SETTINGS = {
    "token_lifetime": 3599,            # seconds of an access token (virtual clock)
    "on_demand_limit": 5,              # provisionOnDemand calls per window per service principal
    "on_demand_window": 10,            # seconds (real time)
    "quarantine_retry_seconds": 86400,  # a quarantined job tries again after this (real Entra: about a day)
    "echo_credentials": False,         # validation errors quote the request, token included (scrubbing tests)
    "validate_status": 400,            # HTTP status of a failed validateCredentials
    "secrets_readable": True,          # False: GET .../synchronization/secrets answers 405 (v1.0 documents only PUT)
}
# Secret keys of the synchronizationSecret enumeration that a GET of the secrets shows as "*".
MASKED_SECRETS = ("Password", "SecretToken", "AppKey", "ClientSecret", "ConsumerSecret", "Oauth2AccessToken",
                  "Oauth2RefreshToken", "Oauth2ClientSecret", "TokenKey", "ConnectionString")
GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

registry.register_state_section(SECTION, lambda: {})


def section(state):
    data = state.section(SECTION)
    for key in ("tenants", "apps", "service_principals", "users", "groups", "tokens"):
        data.setdefault(key, {})
    settings = data.setdefault("settings", {})
    for key, value in DEFAULT_SETTINGS.items():
        settings.setdefault(key, value)
    return data


def new_guid():
    return str(uuid.uuid4())


def graph_time(ts):
    """DateTimeOffset as Graph writes it, with 7 fraction digits."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(ts))) + ".%07dZ" % int(round((ts % 1) * 1e7) % 10 ** 7)


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sha(value):
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------- setup (seeds and IdP creation)


def _tenant(data, tenant_ref):
    if tenant_ref in data["tenants"]:
        return data["tenants"][tenant_ref]
    low = str(tenant_ref).lower()
    for tenant in data["tenants"].values():
        if low in [d.lower() for d in tenant["domains"]]:
            return tenant
    return None


def add_tenant(state, spec):
    data = section(state)
    tid = spec.get("tenant_id") or new_guid()
    if not GUID_RE.match(tid):
        raise ValueError("tenant_id must be a GUID")
    if tid in data["tenants"]:
        return data["tenants"][tid]
    domain = spec.get("domain") or "emu%s.onmicrosoft.com" % rand_str("abcdefghijklmnopqrstuvwxyz0123456789", 6)
    tenant = {"tenant_id": tid, "domains": [domain], "name": spec.get("name") or domain.split(".")[0]}
    data["tenants"][tid] = tenant
    users = data["users"].setdefault(tid, {})
    count = spec.get("users", 2)
    for n in range(count if isinstance(count, int) else 0):
        uid = new_guid()
        users[uid] = {"id": uid, "userPrincipalName": "user%d@%s" % (n + 1, domain), "displayName": "User %d" % (n + 1),
                      "givenName": "User", "surname": str(n + 1), "mail": "user%d@%s" % (n + 1, domain)}
    groups = data["groups"].setdefault(tid, {})
    for name in spec.get("groups") or ():
        gid = new_guid()
        groups[gid] = {"id": gid, "displayName": str(name)}
    state.dirty = True
    return tenant


def add_app(state, spec):
    data = section(state)
    tenant = _tenant(data, spec.get("tenant_id"))
    if tenant is None:
        raise ValueError("app for unknown tenant %r" % spec.get("tenant_id"))
    client_id = spec.get("client_id") or new_guid()
    if not GUID_RE.match(client_id) or client_id in data["apps"]:
        raise ValueError("bad or duplicate client_id %r" % client_id)
    app = {"client_id": client_id, "tenant_id": tenant["tenant_id"], "display_name": spec.get("name") or "automation",
           "permissions": list(spec.get("permissions", ["Synchronization.ReadWrite.All"])),
           "secrets": [], "certificates": [], "federated": []}
    out = {"client_id": client_id, "tenant_id": tenant["tenant_id"]}
    if spec.get("client_secret", True):
        secret = spec["client_secret"] if isinstance(spec.get("client_secret"), str) else \
            rand_str("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 8) + "~" + \
            rand_str("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", 31)
        expires = spec.get("secret_expires_in")
        app["secrets"].append({"key_id": new_guid(), "value": secret,
                               "expires": state.now() + float(expires) if expires is not None else None})
        state.remember_secret("entra_client_secret", client_id, secret)
        out["client_secret"] = secret
    for cert in spec.get("certificates") or ():
        n = int(cert["n"], 16) if isinstance(cert["n"], str) else int(cert["n"])
        app["certificates"].append({"x5t": cert["x5t"], "x5t#S256": cert.get("x5t#S256"), "n": "%x" % n,
                                    "e": int(cert.get("e", 65537))})
    for assertion in spec.get("federated_assertions") or ():
        app["federated"].append(_sha(assertion))
        state.remember_secret("entra_federated_assertion", client_id, assertion)
    data["apps"][client_id] = app
    state.dirty = True
    return out


def new_job(spec=None):
    spec = spec or {}
    template = spec.get("template_id", "customappsso")
    job_id = spec.get("id") or "%s.%s.%s" % (template, uuid.uuid4().hex, new_guid())
    return {"id": job_id, "templateId": template,
            "schedule": {"expiration": None, "interval": spec.get("interval", "PT40M"), "state": "Active"},
            "status": {"code": spec.get("code", "Active"), "countSuccessiveCompleteFailures": 0, "escrowsPruned": False,
                       "lastExecution": None, "lastSuccessfulExecution": None,
                       "lastSuccessfulExecutionWithExports": None, "progress": [], "quarantine": None,
                       "steadyStateFirstAchievedTime": "0001-01-01T00:00:00Z",
                       "steadyStateLastAchievedTime": "0001-01-01T00:00:00Z", "synchronizedEntryCountByType": [],
                       "troubleshootingUrl": None},
            "synchronizationJobSettings": [{"name": "QuarantineTooManyDeletesThreshold", "value": "500"}],
            "rules": spec.get("rules") or [
                {"id": new_guid(), "name": "USER_OUTBOUND_TARGET", "sourceDirectoryName": ENTRA_DIRECTORY,
                 "targetDirectoryName": "customappsso", "editable": True}],
            "calls": {"start": 0, "restart": 0, "pause": 0}}


def add_service_principal(state, spec):
    data = section(state)
    tenant = _tenant(data, spec.get("tenant_id"))
    if tenant is None:
        raise ValueError("service principal for unknown tenant %r" % spec.get("tenant_id"))
    sp_id = spec.get("id") or spec.get("service_principal_id") or new_guid()
    if not GUID_RE.match(sp_id) or sp_id in data["service_principals"]:
        raise ValueError("bad or duplicate service principal id %r" % sp_id)
    jobs = [new_job(j) for j in spec.get("jobs", [{}])]
    objects = list(data["users"].get(tenant["tenant_id"], {})) + list(data["groups"].get(tenant["tenant_id"], {}))
    assigned = spec.get("assigned")
    sp = {"id": sp_id, "tenant_id": tenant["tenant_id"], "app_id": new_guid(),
          "display_name": spec.get("name") or "Alibaba Cloud CloudSSO", "owners": list(spec.get("owners") or []),
          # Users and groups assigned to the application: all of the tenant's, the first N, or a list of IDs.
          "assigned": objects if assigned is None else objects[:assigned] if isinstance(assigned, int) else list(assigned),
          "secrets": {}, "jobs": dict((j["id"], j) for j in jobs)}
    secrets = spec.get("secrets") or {}
    if secrets:
        sp["secrets"] = dict((str(k), None if v is None else str(v)) for k, v in secrets.items())
        state.remember_secret("entra_saved_token", sp_id, secrets.get("SecretToken"))
    data["service_principals"][sp_id] = sp
    state.dirty = True
    return {"service_principal_id": sp_id, "tenant_id": tenant["tenant_id"], "job_ids": [j["id"] for j in jobs]}


def seed_graph(state, spec):
    if not isinstance(spec, dict):
        raise ValueError("graph seed must be an object with tenants, apps, service_principals, settings")
    out = {"tenants": [], "apps": [], "service_principals": []}
    if "settings" in spec:
        update_settings(state, spec["settings"])
    for tenant in spec.get("tenants") or ():
        t = add_tenant(state, tenant)
        out["tenants"].append({"tenant_id": t["tenant_id"], "domains": t["domains"],
                               "users": list(section(state)["users"][t["tenant_id"]].values()),
                               "groups": list(section(state)["groups"].get(t["tenant_id"], {}).values())})
    for app in spec.get("apps") or ():
        out["apps"].append(add_app(state, app))
    for sp in spec.get("service_principals") or ():
        out["service_principals"].append(add_service_principal(state, sp))
    return out


def update_settings(state, values):
    settings = section(state)["settings"]
    if not isinstance(values, dict):
        raise ValueError("settings must be an object")
    for key, value in values.items():
        if key not in DEFAULT_SETTINGS:
            raise ValueError("unknown graph setting %r; known: %s" % (key, ", ".join(sorted(DEFAULT_SETTINGS))))
        default = DEFAULT_SETTINGS[key]
        numbers = (int, float)
        both_numbers = isinstance(value, numbers) and isinstance(default, numbers) and \
            not isinstance(value, bool) and not isinstance(default, bool)
        if type(value) is not type(default) and not both_numbers:
            raise ValueError("graph setting %r has the wrong type" % key)
        settings[key] = value
    state.dirty = True
    return dict(settings)


registry.register_seed("graph", seed_graph)


# ---------------------------------------------------------------- the entra IdP kind


class EntraKind(idps.Kind):
    """An Entra ID provisioning job: holds the secrets saved through Graph; a 401 quarantines the job."""

    name = "entra"
    user_agent = "Microsoft.Identity.Provisioning (emulated)"

    def create(self, state, app, idp, spec):
        data = section(state)
        extra = {}
        sp_id = spec.get("service_principal_id")
        if sp_id is None:
            tenant = _tenant(data, spec["tenant_id"]) if spec.get("tenant_id") else None
            if tenant is None:
                tenant = add_tenant(state, {"tenant_id": spec.get("tenant_id"), "domain": spec.get("domain"),
                                            "users": spec.get("tenant_users", 2), "groups": spec.get("tenant_groups")})
            client_id = spec.get("client_id")
            if client_id is None or client_id not in data["apps"]:
                created = add_app(state, {"tenant_id": tenant["tenant_id"], "client_id": client_id,
                                          "client_secret": spec.get("client_secret", True),
                                          "permissions": spec.get("permissions", [OWNED_PERMISSION]),
                                          "certificates": spec.get("certificates"),
                                          "federated_assertions": spec.get("federated_assertions")})
                client_id = created["client_id"]
                if created.get("client_secret"):
                    extra["client_secret"] = created["client_secret"]
            owners = [client_id] if spec.get("owner", True) else []
            sp = add_service_principal(state, {"tenant_id": tenant["tenant_id"], "owners": owners,
                                               "jobs": [spec.get("job") or {}], "assigned": spec.get("assigned_users")})
            sp_id = sp["service_principal_id"]
            extra.update(tenant_id=tenant["tenant_id"], client_id=client_id)
        sp = data["service_principals"].get(sp_id)
        if sp is None:
            raise ValueError("unknown service principal %s" % sp_id)
        job_id = spec.get("job_id") or next(iter(sp["jobs"]))
        if job_id not in sp["jobs"]:
            raise ValueError("service principal %s has no job %s" % (sp_id, job_id))
        for other in idps.idps(state).values():
            if other.get("service_principal_id") == sp_id and other.get("job_id") == job_id:
                raise ValueError("job %s is already simulated by %s" % (job_id, other["idp_id"]))
        idp["service_principal_id"] = sp_id
        idp["job_id"] = job_id
        if spec.get("token"):
            # As if an administrator had saved the Tenant URL and Secret Token in the portal.
            state.remember_secret("graph_saved_token", sp_id, spec["token"])
            sp["secrets"] = {"BaseAddress": spec.get("base_url") or idps.local_scim_base(app, idp["region"]),
                             "SecretToken": spec["token"]}
            # The other settings the portal saves in the same list (the PUT example of the secrets page).
            if spec.get("sync_all") is not None:
                sp["secrets"]["SyncAll"] = "true" if spec["sync_all"] else "false"
            if spec.get("sync_notification_settings") is not None:
                sp["secrets"]["SyncNotificationSettings"] = json.dumps(spec["sync_notification_settings"],
                                                                       separators=(",", ":"))
        if isinstance(spec.get("users"), int) or "users" not in spec:
            # The users of the tenant; a cycle provisions those in the job's scope (see users()).
            tenant_users = data["users"].get(sp["tenant_id"], {}).values()
            idp["users"] = [_scim_user(u) for u in tenant_users]
        extra.update(service_principal_id=sp_id, job_id=job_id)
        return extra

    def _job(self, state, idp):
        sp = section(state)["service_principals"].get(idp.get("service_principal_id"))
        return sp, (sp or {}).get("jobs", {}).get(idp.get("job_id"))

    def held(self, state, idp):
        sp, _ = self._job(state, idp)
        secrets = (sp or {}).get("secrets") or {}
        return secrets.get("BaseAddress"), secrets.get("SecretToken")

    def users(self, state, idp):
        """The IdP's users in the provisioning scope (users that are not the tenant's always are)."""
        sp, _ = self._job(state, idp)
        tenant_users = section(state)["users"].get((sp or {}).get("tenant_id"), {})
        return [u for u in idps.desired_users(idp)
                if u.get("externalId") not in tenant_users or in_scope(sp, u["externalId"])]

    def runnable(self, state, idp):
        sp, job = self._job(state, idp)
        if job is None:
            return False, "the job was deleted"
        status = job["status"]
        if status["code"] == "Paused":
            return False, "the job is paused"
        if status["code"] in ("NotConfigured", "NotRun"):
            return False, "the job is not started (%s)" % status["code"]
        if status["code"] == "Quarantine":
            began = (status.get("quarantine") or {}).get("_began_epoch", 0)
            if state.now() - began < section(state)["settings"]["quarantine_retry_seconds"]:
                return False, "the job is in quarantine"
        return True, None

    def after_cycle(self, state, idp, outcome):
        job = self._job(state, idp)[1]
        if job is None:
            return
        apply_cycle(state, job, outcome)

    def view(self, state, idp):
        sp, job = self._job(state, idp)
        out = {"tenant_id": (sp or {}).get("tenant_id")}
        if job is not None:
            status = job["status"]
            out["job"] = {"code": status["code"], "quarantine": _public_quarantine(status.get("quarantine")),
                          "last_execution": status.get("lastExecution"), "calls": dict(job["calls"])}
        return out


def in_scope(sp, object_id):
    """Entra's provisioning scope: SyncAll "true" is every user and group of the tenant, otherwise (the
    portal's default, "Sync only assigned users and groups") those assigned to the application."""
    return str((sp.get("secrets") or {}).get("SyncAll")).lower() == "true" or object_id in sp.get("assigned", ())


def _scim_user(user):
    return {"userName": user["userPrincipalName"], "displayName": user["displayName"], "givenName": user["givenName"],
            "familyName": user["surname"], "externalId": user["id"]}


def _public_quarantine(quarantine):
    if not quarantine:
        return None
    return dict((k, v) for k, v in quarantine.items() if not k.startswith("_"))


UNAUTHORIZED_CODE = "SystemForCrossDomainIdentityManagementUnauthorized"
UNAVAILABLE_CODE = "SystemForCrossDomainIdentityManagementServiceUnavailable"


def apply_cycle(state, job, record):
    """The job status after one sync cycle (times on the emulator's clock)."""
    status = job["status"]
    execution = {"activityIdentifier": new_guid(), "countEntitled": 0, "countEntitledForProvisioning": 0,
                 "countEscrowed": 0, "countEscrowedRaw": 0, "countExported": record["exported"],
                 "countExports": record["exported"], "countImported": record["calls"], "countImportedDeltas": 0,
                 "countImportedReferenceDeltas": 0, "state": "Succeeded" if record["ok"] else "Failed",
                 "error": None, "timeBegan": graph_time(record["began"]), "timeEnded": graph_time(record["ended"])}
    if record["ok"]:
        status["lastExecution"] = execution
        status["lastSuccessfulExecution"] = execution
        if record["exported"]:
            status["lastSuccessfulExecutionWithExports"] = execution
        status["countSuccessiveCompleteFailures"] = 0
        status["steadyStateLastAchievedTime"] = execution["timeEnded"]
        if status["steadyStateFirstAchievedTime"].startswith("0001"):
            status["steadyStateFirstAchievedTime"] = execution["timeEnded"]
        if status["code"] == "Quarantine":  # a retry after a day that worked
            status["code"], status["quarantine"] = "Active", None
        return
    error = record.get("error") or {}
    if record["auth_failed"]:
        message = ("Failed to authenticate to the target application: an HTTP/%s %s response was returned rather "
                   "than the expected HTTP/200 OK response. Verify the Tenant URL and the Secret Token. Target said: %s"
                   % (error.get("status"), "Unauthorized" if error.get("status") == 401 else "Forbidden",
                      error.get("detail")))
        execution["error"] = {"code": UNAUTHORIZED_CODE, "message": message, "tenantActionable": True}
        previous = status.get("quarantine") or {}
        status["code"] = "Quarantine"
        status["quarantine"] = {
            "currentBegan": execution["timeEnded"],
            "nextAttempt": graph_time(record["ended"] + section(state)["settings"]["quarantine_retry_seconds"]),
            "reason": "EncounteredQuarantineException",
            "seriesBegan": previous.get("seriesBegan") or execution["timeEnded"],
            "seriesCount": int(previous.get("seriesCount") or 0) + 1,
            "error": dict(execution["error"]),
            "_began_epoch": record["ended"],
        }
    else:
        execution["error"] = {"code": UNAVAILABLE_CODE, "message": "The target application did not answer as expected: "
                              "%s" % (error.get("detail") or "HTTP %s" % error.get("status")), "tenantActionable": False}
    status["lastExecution"] = execution
    status["countSuccessiveCompleteFailures"] = int(status.get("countSuccessiveCompleteFailures") or 0) + 1


idps.register_kind(EntraKind())


# ---------------------------------------------------------------- responses


def graph_error(req, status, code, message, headers=None):
    rid = new_guid()
    now = req.state.now()
    body = {"error": {"code": code, "message": message, "innerError": {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)), "request-id": rid,
        "client-request-id": req.header("client-request-id") or rid}}}
    hdrs = {"request-id": rid, "client-request-id": req.header("client-request-id") or rid}
    for key, value in (headers or {}).items():
        if key.lower() == "x-acs-retry-after":  # a fault rule's retry_after is in milliseconds
            hdrs["Retry-After"] = str(max(1, int(math.ceil(float(value) / 1000.0))))
        else:
            hdrs[key] = value
    if status == 401:
        hdrs.setdefault("WWW-Authenticate", 'Bearer realm="", authorization_uri='
                                            '"https://login.microsoftonline.com/common/oauth2/authorize", '
                                            'client_id="00000003-0000-0000-c000-000000000000"')
    return Response(status, body, headers=hdrs, error_code=code)


def login_error(req, status, error, aadsts, description):
    trace, correlation = new_guid(), new_guid()
    stamp = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(req.state.now()))
    body = {"error": error,
            "error_description": "AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s"
                                 % (aadsts, description, trace, correlation, stamp),
            "error_codes": [aadsts], "timestamp": stamp, "trace_id": trace, "correlation_id": correlation,
            "error_uri": "https://login.microsoftonline.com/error?code=%d" % aadsts}
    return Response(status, body, headers={"x-ms-request-id": trace}, error_code="AADSTS%d" % aadsts)


def error_response(req, status, code, message, headers=None):
    """For fault injection: the body of whichever endpoint the request was for."""
    if LOGIN_RE.match(req.path):
        return login_error(req, status, "temporarily_unavailable" if status >= 500 or status == 429 else "invalid_request",
                           50001 if status >= 500 else 50196, message)
    return graph_error(req, status, code, message, headers)


def no_content():
    return Response(204, b"")


# ---------------------------------------------------------------- login endpoint


def _form(req):
    ctype = (req.header("content-type") or "").lower()
    if "application/x-www-form-urlencoded" not in ctype:
        return None
    try:
        return dict(urllib.parse.parse_qsl(req.body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        return None


def rsa_verify(n, e, message, signature):
    """RSASSA-PKCS1-v1_5 with SHA-256, with integers only (the emulator imports no crypto library)."""
    k = (n.bit_length() + 7) // 8
    if len(signature) != k:
        return False
    s = int.from_bytes(signature, "big")
    if s >= n:
        return False
    em = pow(s, e, n).to_bytes(k, "big")
    digest_info = bytes.fromhex("3031300d060960864801650304020105000420") + hashlib.sha256(message).digest()
    expected = b"\x00\x01" + b"\xff" * (k - len(digest_info) - 3) + b"\x00" + digest_info
    return hmac.compare_digest(em, expected)


def _mgf1_sha256(seed, length):
    out = b""
    for counter in range((length + 31) // 32):
        out += hashlib.sha256(seed + counter.to_bytes(4, "big")).digest()
    return out[:length]


def rsa_pss_verify(n, e, message, signature):
    """RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt (PS256 as PyJWT signs it for MSAL),
    RFC 8017 9.1.2, with integers only."""
    mod_bits = n.bit_length()
    em_len = (mod_bits - 1 + 7) // 8
    s = int.from_bytes(signature, "big")
    if len(signature) != (mod_bits + 7) // 8 or s >= n or em_len < 32 + 32 + 2:
        return False
    em = pow(s, e, n).to_bytes(em_len, "big")
    if em[-1] != 0xBC:
        return False
    masked_db, digest = em[:em_len - 33], em[em_len - 33:-1]
    unused_bits = 8 * em_len - (mod_bits - 1)
    if unused_bits and masked_db[0] >> (8 - unused_bits):
        return False
    db = bytearray(a ^ b for a, b in zip(masked_db, _mgf1_sha256(digest, len(masked_db))))
    db[0] &= 0xFF >> unused_bits
    padding_len = em_len - 32 - 32 - 2
    if any(db[:padding_len]) or db[padding_len] != 0x01:
        return False
    salt = bytes(db[-32:])
    expected = hashlib.sha256(b"\x00" * 8 + hashlib.sha256(message).digest() + salt).digest()
    return hmac.compare_digest(digest, expected)


def _check_assertion(req, app, assertion, token_url):
    """None when the assertion is good, else a login error Response."""
    now = req.state.now()
    if _sha(assertion) in app["federated"]:
        return None
    try:
        header_b64, claims_b64, signature_b64 = assertion.split(".")
        header = json.loads(_b64url_decode(header_b64))
        claims = json.loads(_b64url_decode(claims_b64))
        signature = _b64url_decode(signature_b64)
    except (ValueError, TypeError):
        return login_error(req, 401, "invalid_client", 700027, "Client assertion failed signature validation.")
    # MSAL sends the thumbprints with their base64 padding (msal/oauth2cli/assertion.py _encode_thumbprint):
    # x5t (SHA-1) with RS256, or x5t#S256 (SHA-256) with PS256 when it has the certificate itself.
    alg = header.get("alg")
    name = {"RS256": "x5t", "PS256": "x5t#S256"}.get(alg)
    thumbprint = str(header.get(name) or "").rstrip("=") if name else ""
    cert = next((c for c in app["certificates"] if thumbprint and (c.get(name) or "").rstrip("=") == thumbprint), None)
    if cert is None:
        return login_error(req, 401, "invalid_client", 700027,
                           "Client assertion contains an invalid signature. [Reason - The key was not found.]")
    verify = rsa_verify if alg == "RS256" else rsa_pss_verify
    if not verify(int(cert["n"], 16), cert["e"], ("%s.%s" % (header_b64, claims_b64)).encode("ascii"), signature):
        return login_error(req, 401, "invalid_client", 700027, "Client assertion failed signature validation.")
    if claims.get("iss") != app["client_id"] or claims.get("sub") != app["client_id"]:
        return login_error(req, 401, "invalid_client", 700021,
                           "Client assertion application identifier doesn't match 'client_id' parameter.")
    if claims.get("aud") != token_url:
        return login_error(req, 401, "invalid_client", 700023,
                           "Client assertion audience claim does not match Realm issuer.")
    try:
        nbf, exp = float(claims.get("nbf", 0)), float(claims["exp"])
    except (KeyError, TypeError, ValueError):
        return login_error(req, 401, "invalid_client", 700024, "Client assertion is not within its valid time range.")
    if not nbf - 300 <= now <= exp:
        return login_error(req, 401, "invalid_client", 700024, "Client assertion is not within its valid time range.")
    return None


def new_access_token(state, app, tenant, lifetime):
    now = int(state.now())
    header = {"typ": "JWT", "alg": "RS256", "kid": "emulator"}
    claims = {"aud": "https://graph.microsoft.com", "iss": "https://sts.windows.net/%s/" % tenant["tenant_id"],
              "iat": now, "nbf": now, "exp": now + lifetime, "appid": app["client_id"], "tid": tenant["tenant_id"],
              "roles": app["permissions"], "uti": rand_str("abcdefghijklmnopqrstuvwxyz0123456789", 22), "ver": "1.0"}
    token = "%s.%s.%s" % (_b64url(json.dumps(header).encode()), _b64url(json.dumps(claims).encode()),
                          _b64url(bytes(uuid.uuid4().bytes) * 8))
    return token


def handle_token(req, tenant_ref):
    state = req.state
    data = section(state)
    if req.method != "POST":
        return login_error(req, 405, "invalid_request", 900561, "The endpoint only accepts POST requests.")
    form = _form(req)
    if form is None:
        return login_error(req, 400, "invalid_request", 900144,
                           "The request body must contain the following parameter: 'grant_type'.")
    tenant = _tenant(data, urllib.parse.unquote(tenant_ref))
    if tenant is None:
        return login_error(req, 400, "invalid_request", 90002,
                           "Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing "
                           "into the correct cloud." % tenant_ref)
    for name in ("grant_type", "client_id", "scope"):
        if not form.get(name):
            return login_error(req, 400, "invalid_request", 900144,
                               "The request body must contain the following parameter: '%s'." % name)
    if form["grant_type"] != "client_credentials":
        return login_error(req, 400, "unsupported_grant_type", 70003,
                           "The app requested an unsupported grant type '%s'." % form["grant_type"])
    app = data["apps"].get(form["client_id"])
    if app is None or app["tenant_id"] != tenant["tenant_id"]:
        return login_error(req, 400, "unauthorized_client", 700016,
                           "Application with identifier '%s' was not found in the directory '%s'. This can happen if "
                           "the application has not been installed by the administrator of the tenant."
                           % (form["client_id"], tenant["name"]))
    resource = form["scope"][:-len("/.default")] if form["scope"].endswith("/.default") else None
    own = "%s://%s" % (getattr(req.app, "scheme", "http"), req.header("host") or "")
    if resource is None or resource.rstrip("/") not in (GRAPH_RESOURCES[0], own):
        return login_error(req, 400, "invalid_scope", 500011,
                           "The resource principal named %s was not found in the tenant named %s."
                           % (resource or form["scope"], tenant["name"]))
    token_url = "%s/%s/oauth2/v2.0/token" % (own, tenant_ref)
    if form.get("client_secret"):
        state.remember_secret("entra_client_secret_received", app["client_id"], form["client_secret"])
        match = next((s for s in app["secrets"] if hmac.compare_digest(s["value"], form["client_secret"])), None)
        if match is None:
            return login_error(req, 401, "invalid_client", 7000215,
                               "Invalid client secret provided. Ensure the secret being sent in the request is the "
                               "client secret value, not the client secret ID, for a secret added to app '%s'."
                               % app["client_id"])
        if match["expires"] is not None and match["expires"] <= state.now():
            return login_error(req, 401, "invalid_client", 7000222,
                               "The provided client secret keys for app '%s' are expired." % app["client_id"])
    elif form.get("client_assertion"):
        state.remember_secret("entra_client_assertion", app["client_id"], form["client_assertion"])
        if form.get("client_assertion_type") != JWT_BEARER:
            return login_error(req, 400, "invalid_request", 700026,
                               "The client assertion type must be '%s'." % JWT_BEARER)
        problem = _check_assertion(req, app, form["client_assertion"], token_url)
        if problem is not None:
            return problem
    else:
        return login_error(req, 401, "invalid_client", 7000218,
                           "The request body must contain the following parameter: 'client_assertion' or "
                           "'client_secret'.")
    lifetime = int(data["settings"]["token_lifetime"])
    token = new_access_token(state, app, tenant, lifetime)
    data["tokens"][_sha(token)] = {"client_id": app["client_id"], "tenant_id": tenant["tenant_id"],
                                   "expires": state.now() + lifetime}
    for key, info in list(data["tokens"].items()):
        if info["expires"] < state.now() - 3600:
            data["tokens"].pop(key)
    state.remember_secret("entra_access_token", app["client_id"], token)
    state.dirty = True
    return Response(200, {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime,
                          "access_token": token})


# ---------------------------------------------------------------- Graph


class GraphFailure(Exception):
    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def _caller(req):
    data = section(req.state)
    auth = req.header("authorization") or ""
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise GraphFailure(401, "InvalidAuthenticationToken", "Access token is empty.")
    info = data["tokens"].get(_sha(token.strip()))
    if info is None:
        raise GraphFailure(401, "InvalidAuthenticationToken",
                           "IDX14100: JWT is not well formed, there are no dots (.) or the token was not issued "
                           "by this tenant.")
    if info["expires"] <= req.state.now():
        raise GraphFailure(401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
    app = data["apps"].get(info["client_id"])
    if app is None:
        raise GraphFailure(401, "InvalidAuthenticationToken", "The application of the token no longer exists.")
    return app


def _service_principal(req, app, sp_id):
    sp = section(req.state)["service_principals"].get(sp_id)
    if sp is None or sp["tenant_id"] != app["tenant_id"]:
        raise GraphFailure(404, "Request_ResourceNotFound",
                           "Resource '%s' does not exist or one of its queried reference-property objects are not "
                           "present." % sp_id)
    perms = set(app["permissions"])
    if not (perms & set(ALL_SP_PERMISSIONS) or (OWNED_PERMISSION in perms and app["client_id"] in sp["owners"])):
        raise GraphFailure(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
    return sp


def _job(sp, job_id):
    job = sp["jobs"].get(job_id)
    if job is None:
        raise GraphFailure(404, "NotFound", "The synchronization job '%s' was not found for service principal '%s'."
                           % (job_id, sp["id"]))
    return job


def job_view(job):
    status = dict(job["status"])
    status["quarantine"] = _public_quarantine(status.get("quarantine"))
    return {"id": job["id"], "templateId": job["templateId"], "schedule": dict(job["schedule"]), "status": status,
            "synchronizationJobSettings": list(job["synchronizationJobSettings"])}


def _json_body(req):
    if not req.body:
        return {}
    try:
        body = json.loads(req.body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise GraphFailure(400, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type "
                                              "header is set and payload is of valid JSON format.")
    if not isinstance(body, dict):
        raise GraphFailure(400, "BadRequest", "The request payload must be a JSON object.")
    return body


def _pairs(values, what):
    if not isinstance(values, list):
        raise GraphFailure(400, "BadRequest", "The %s must be a collection of key/value pairs." % what)
    out = {}
    for pair in values:
        if not isinstance(pair, dict) or "key" not in pair:
            raise GraphFailure(400, "BadRequest", "Each %s entry must have a key and a value." % what)
        out[pair["key"]] = pair.get("value")
    return out


def _entra_idp(state, sp_id, job_id):
    for idp in idps.idps(state).values():
        if idp["kind"] == "entra" and idp.get("service_principal_id") == sp_id and idp.get("job_id") == job_id:
            return idp
    return None


def _probe(req, base_url, token, user_agent):
    """What Entra ID's credential check sees: GET <base>/Users?filter=userName eq "<random>" with the token."""
    url = idps.scim_url(base_url, "/Users", filter='userName eq "%s"' % new_guid())
    return idps.internal_call(req.app, url, "GET", token, None, user_agent)


def validate_credentials(req, sp, job):
    state = req.state
    settings = section(state)["settings"]
    body = _json_body(req)
    if body.get("useSavedCredentials"):
        base_url, token = sp["secrets"].get("BaseAddress"), sp["secrets"].get("SecretToken")
        if not base_url or not token:
            raise GraphFailure(settings["validate_status"], "BadRequest",
                               "Unable to validate the saved credentials: no credentials are saved for this job.")
    else:
        creds = _pairs(body.get("credentials"), "credentials")
        base_url, token = creds.get("BaseAddress"), creds.get("SecretToken")
        if token:
            state.remember_secret("entra_scim_token_received", sp["id"], token)
        if not base_url or not token:
            raise GraphFailure(400, "BadRequest", "The credentials must contain a BaseAddress and a SecretToken.")
    status, answer = _probe(req, base_url, token, EntraKind.user_agent)
    if status == 200:
        return no_content()
    detail = (answer or {}).get("detail") if isinstance(answer, dict) else None
    if status in (401, 403):
        message = ("You appear to have entered invalid credentials. Please confirm you are using the correct "
                   "information for an administrative account. Error code: "
                   "SystemForCrossDomainIdentityManagementCredentialValidationUnavailable Details: We received this "
                   "unexpected response from your application: An HTTP/%d %s response was returned rather than the "
                   "expected HTTP/200 OK response. To address this issue, ensure that the tenant URL and secret token "
                   "are correct. Target said: %s" % (status, "Unauthorized" if status == 401 else "Forbidden", detail))
    elif status is None:
        message = ("We could not connect to your application at %s: %s. Error code: "
                   "SystemForCrossDomainIdentityManagementCredentialValidationUnavailable" % (base_url, detail))
    else:
        message = ("We received this unexpected response from your application: HTTP/%s. Error code: "
                   "SystemForCrossDomainIdentityManagementCredentialValidationUnavailable" % status)
    if settings["echo_credentials"]:
        message += " Request: GET %s Authorization: Bearer %s" % (base_url, token)
    raise GraphFailure(settings["validate_status"], "BadRequest", message)


def put_secrets(req, sp):
    body = _json_body(req)
    pairs = _pairs(body.get("value"), "secrets")
    if not pairs.get("BaseAddress") or not pairs.get("SecretToken"):
        raise GraphFailure(400, "BadRequest", "The synchronization secrets must contain both BaseAddress and "
                                              "SecretToken.")
    req.state.remember_secret("entra_saved_token", sp["id"], pairs["SecretToken"])
    # The whole list is replaced: a key not sent is gone (SyncAll then means the default scope).
    sp["secrets"] = dict((str(k), None if v is None else str(v)) for k, v in pairs.items())
    req.state.dirty = True
    return no_content()


_ON_DEMAND = {}
_ON_DEMAND_GUARD = threading.Lock()


def _on_demand_throttle(req, sp_id):
    settings = section(req.state)["settings"]
    window, limit = float(settings["on_demand_window"]), int(settings["on_demand_limit"])
    now = time.monotonic()
    with _ON_DEMAND_GUARD:
        calls = [t for t in _ON_DEMAND.get((id(req.app), sp_id), []) if now - t < window]
        if len(calls) >= limit:
            wait = int(math.ceil(window - (now - calls[0])))
            _ON_DEMAND[(id(req.app), sp_id)] = calls
            raise GraphFailure(429, "TooManyRequests", "Too many requests. provisionOnDemand allows %d calls per %s "
                                                       "seconds." % (limit, int(window)),
                               {"Retry-After": str(max(wait, 1))})
        calls.append(now)
        _ON_DEMAND[(id(req.app), sp_id)] = calls


def _step(name, kind, status, description, details=None):
    # The record's steps as the provisionOnDemand page shows them: type Import, Scoping, Matching, Export.
    return {"name": name, "type": kind, "status": status, "description": description,
            "timestamp": graph_time(time.time()), "details": details or {}}


def on_demand_answer(result, details, record):
    """The documented stringKeyStringValuePair: `key` the JSON result, `value` the JSON record."""
    return Response(200, {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph."
                                            "stringKeyStringValuePair",
                          "key": json.dumps({"result": result, "details": details}, separators=(",", ":")),
                          "value": json.dumps(record, separators=(",", ":"))})


NOT_ENTITLED = ("The %s '%s' will be skipped due to the following reasons: 1) This object is not assigned to the "
                "application. If you did not expect the object to be skipped, assign the object to the application or "
                "change your scoping filter to allow all users and groups to be in scope for provisioning.")


def _on_demand_subject(req, sp, job):
    body = _json_body(req)
    params = body.get("parameters")
    if not isinstance(params, list) or not params or not isinstance(params[0], dict):
        raise GraphFailure(400, "BadRequest", "The request must contain 'parameters'.")
    rule_id = params[0].get("ruleId")
    if rule_id not in [r["id"] for r in job["rules"]]:
        raise GraphFailure(400, "BadRequest", "The synchronization rule '%s' does not exist in the job's schema." % rule_id)
    subjects = params[0].get("subjects") or []
    if len(subjects) != 1 or not isinstance(subjects[0], dict):
        raise GraphFailure(400, "BadRequest", "Exactly one subject is supported.")
    subject = subjects[0]
    kind = subject.get("objectTypeName")
    data = section(req.state)
    found = (data["users"] if kind == "User" else data["groups"] if kind == "Group" else {}) \
        .get(sp["tenant_id"], {}).get(subject.get("objectId"))
    if found is None:
        raise GraphFailure(400, "BadRequest", "The object '%s' of type '%s' was not found in the source directory."
                           % (subject.get("objectId"), kind))
    return kind, found


def _target_call(req, sp, path, method="GET", body=None, **query):
    secrets = sp["secrets"]
    return idps.internal_call(req.app, idps.scim_url(secrets["BaseAddress"], path, **query), method,
                              secrets["SecretToken"], body, EntraKind.user_agent)


def _failure(status):
    reason = ("HTTP/%s from the target application" % status) if status else "the target could not be reached"
    return {"errorCode": UNAUTHORIZED_CODE if status in (401, 403) else UNAVAILABLE_CODE, "errorMessage": reason}


def provision_on_demand(req, sp, job):
    state = req.state
    _on_demand_throttle(req, sp["id"])
    kind, obj = _on_demand_subject(req, sp, job)
    label = obj.get("userPrincipalName") or obj.get("displayName")
    steps = [_step("EntryImport", "Import", "Success", "Retrieved %s '%s' from Azure Active Directory" % (kind, label))]
    if not in_scope(sp, obj["id"]):
        # Decided inside Entra from the assignment and the scope: the target is not called.
        message = NOT_ENTITLED % (kind, label)
        steps.append(_step("EntrySynchronizationScoping", "Scoping", "Skipped", message,
                           {"Assigned": "False", "IsEffectivelyEntitledForProvisioning": "False",
                            "SkipReason": "NotEffectivelyEntitled"}))
        return on_demand_answer("Skipped", {"errorCode": "NotEffectivelyEntitled", "errorMessage": message},
                                _record(obj, kind, steps, "Skipped"))
    steps.append(_step("EntrySynchronizationScoping", "Scoping", "Success",
                       "Determine if %s in scope by evaluating against each scoping filter" % kind,
                       {"Assigned": "True", "IsEffectivelyEntitledForProvisioning": "True"}))
    if not sp["secrets"].get("BaseAddress") or not sp["secrets"].get("SecretToken"):
        details = {"errorCode": "NoCredentials", "errorMessage": "No credentials are saved for this job."}
        return on_demand_answer("Failure", details, _record(obj, kind, steps, "Failure", details))
    if kind == "Group":
        status, found = _target_call(req, sp, "/Groups", filter='displayName eq "%s"' % obj["displayName"])
        if status == 200 and not (found or {}).get("Resources"):
            status, _ = _target_call(req, sp, "/Groups", "POST", {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": obj["displayName"],
                "externalId": obj["id"], "members": []})
        if status in (200, 201):
            return on_demand_answer("Success", {}, {})
        return on_demand_answer("Failure", _failure(status), {})
    scim_user = _scim_user(obj)
    status, found = _target_call(req, sp, "/Users", filter='userName eq "%s"' % scim_user["userName"])
    if status != 200:
        details = _failure(status)
        steps.append(_step("EntryImport", "Matching", "Failure", "Failed to match the user: %s" % details["errorMessage"]))
        return on_demand_answer("Failure", details, _record(obj, kind, steps, "Failure", details))
    resources = (found or {}).get("Resources") or []
    steps.append(_step("EntryImport", "Matching", "Success", "Retrieved '%s' from customappsso" % label,
                       {"userName": scim_user["userName"]} if resources else {}))
    if resources and not idps._user_differs(resources[0], scim_user):
        steps.append(_step("EntrySynchronizationSkip", "Export", "Skipped", "The state of the user in both the source "
                           "and target systems already match.", {"SkipReason": "RedundantExport"}))
        result, details = "Skipped", {"errorCode": "RedundantExport", "errorMessage": "The state of the user in both "
                                      "the source and target systems already match."}
    else:
        if resources:
            patch = {"schemas": [idps.PATCH_SCHEMA], "Operations": [
                {"op": "replace", "path": "displayName", "value": scim_user["displayName"]},
                {"op": "replace", "path": "externalId", "value": scim_user["externalId"]},
                {"op": "replace", "path": "active", "value": True}]}
            code, _ = _target_call(req, sp, "/Users/" + urllib.parse.quote(resources[0]["id"], safe=""), "PATCH", patch)
        else:
            code, _ = _target_call(req, sp, "/Users", "POST", idps._user_resource(scim_user))
        name = "EntryExportUpdate" if resources else "EntryExportAdd"
        if code in (200, 201, 204):
            steps.append(_step(name, "Export", "Success", "User '%s' was %s in customappsso"
                               % (label, "updated" if resources else "created")))
            result, details = "Success", {}
        else:
            details = {"errorCode": UNAVAILABLE_CODE, "errorMessage": "HTTP/%s on export" % code}
            steps.append(_step(name, "Export", "Failure", "Export failed with HTTP/%s" % code))
            result = "Failure"
    idp = _entra_idp(state, sp["id"], job["id"])
    if idp is not None and result in ("Success", "Skipped") and \
            scim_user["userName"] not in [u["userName"] for u in idp.get("users") or []]:
        idp.setdefault("users", []).append(scim_user)
        state.dirty = True
    return on_demand_answer(result, details, _record(obj, kind, steps, result, details if result == "Failure" else None))


def _record(obj, kind, steps, status, error=None):
    """The provisioning record of the page's first example (statusInfo, identities, systems)."""
    now = graph_time(time.time())
    error = error or {}
    return {"action": "Other" if status != "Success" else "Create", "changeId": new_guid(), "startTime": now,
            "endTime": now, "modifiedProperties": [], "provisioningSteps": steps,
            "reportableIdentifier": obj.get("userPrincipalName") or obj.get("displayName"),
            "statusInfo": {"status": status, "errorCode": error.get("errorCode"), "reason": error.get("errorMessage"),
                           "additionalDetails": None, "errorCategory": None, "recommendedAction": None},
            "sourceIdentity": {"id": obj["id"], "type": kind, "displayName": None, "details": None},
            "sourceSystem": {"id": None, "name": ENTRA_DIRECTORY, "details": None},
            "targetIdentity": {"id": None, "type": "urn:ietf:params:scim:schemas:core:2.0:" + kind, "displayName": None,
                               "details": None},
            "targetSystem": {"id": None, "name": "customappsso", "details": None}}


def start_job(req, sp, job, action):
    job["calls"][action] += 1
    status = job["status"]
    if action == "pause":
        status["code"] = "Paused"
        job["schedule"]["state"] = "Paused"
    else:
        if action == "restart":
            for key in ("lastExecution", "lastSuccessfulExecution", "lastSuccessfulExecutionWithExports"):
                status[key] = None
        status["code"] = "Active"
        status["quarantine"] = None
        job["schedule"]["state"] = "Active"
        idp = _entra_idp(req.state, sp["id"], job["id"])
        if idp is not None:
            idps.scheduler(req.app).poke(idp["idp_id"])  # Entra runs a cycle soon after start
    req.state.dirty = True
    return no_content()


ACTIONS = {
    # (method, suffix) -> action name for faults and call counts
    ("GET", None): "listJobs", ("GET", ""): "getJob", ("POST", "validateCredentials"): "validateCredentials",
    ("POST", "start"): "start", ("POST", "pause"): "pause", ("POST", "restart"): "restart",
    ("POST", "provisionOnDemand"): "provisionOnDemand", ("GET", "schema"): "getSchema",
}


def _segments(req):
    rest = req.raw_path_without_region[len(GRAPH_PREFIX):].strip("/")
    return [urllib.parse.unquote(s) for s in rest.split("/")] if rest else []


def route_of(req):
    """(action, sp_id, job_id) for a Graph path, or (None, ...) when Graph has no such API."""
    seg = _segments(req)
    if len(seg) < 3 or seg[0] != "servicePrincipals" or seg[2] != "synchronization":
        return None, None, None
    sp_id = seg[1]
    if len(seg) == 4 and seg[3] == "secrets":
        return {"PUT": "putSecrets", "GET": "getSecrets"}.get(req.method), sp_id, None
    if len(seg) >= 4 and seg[3] == "jobs":
        if len(seg) == 4:
            return ACTIONS.get((req.method, None)), sp_id, None
        suffix = seg[5] if len(seg) == 6 else "" if len(seg) == 5 else "?"
        return ACTIONS.get((req.method, suffix)), sp_id, seg[4]
    return None, sp_id, None


def handle_graph(req):
    state = req.state
    action, sp_id, job_id = route_of(req)
    if action is None:
        return graph_error(req, 400, "BadRequest", "Resource not found for the segment '%s'."
                           % (_segments(req)[-1] if _segments(req) else "v1.0"))
    try:
        app = _caller(req)
        sp = _service_principal(req, app, sp_id)
        if action == "listJobs":
            return Response(200, {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals('%s')/"
                                                    "synchronization/jobs" % sp_id,
                                  "value": [job_view(j) for j in sp["jobs"].values()]})
        if action == "putSecrets":
            return put_secrets(req, sp)
        if action == "getSecrets":
            if not section(state)["settings"]["secrets_readable"]:
                raise GraphFailure(405, "Request_BadRequest", "The method GET is not allowed on the synchronization "
                                                              "secrets.")
            values = [{"key": k, "value": "*" if k in MASKED_SECRETS else v}
                      for k, v in sp["secrets"].items() if v is not None]
            return Response(200, {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals('%s')/"
                                                    "synchronization/secrets" % sp_id, "value": values})
        job = _job(sp, job_id)
        if action == "getJob":
            return Response(200, job_view(job))
        if action == "getSchema":
            return Response(200, {"id": job["templateId"], "version": "1.0", "synchronizationRules": [
                dict(r, metadata=[], objectMappings=[]) for r in job["rules"]], "directories": [
                {"name": ENTRA_DIRECTORY}, {"name": "customappsso"}]})
        if action == "validateCredentials":
            return validate_credentials(req, sp, job)
        if action in ("start", "pause", "restart"):
            return start_job(req, sp, job, action)
        if action == "provisionOnDemand":
            return provision_on_demand(req, sp, job)
    except GraphFailure as failure:
        return graph_error(req, failure.status, failure.code, failure.message, failure.headers)
    return graph_error(req, 405, "BadRequest", "Method not allowed.")


# ---------------------------------------------------------------- routing


def match(path):
    return path.startswith(GRAPH_PREFIX) or bool(LOGIN_RE.match(path)) or bool(DISCOVERY_RE.match(path))


def openid_configuration(req, tenant_ref):
    """The tenant's OpenID Connect discovery document (MSAL and azure-identity read token_endpoint from it),
    with the fields of https://login.microsoftonline.com/<tenant>/v2.0/.well-known/openid-configuration."""
    tenant = _tenant(section(req.state), urllib.parse.unquote(tenant_ref))
    if tenant is None:
        return login_error(req, 400, "invalid_tenant", 90002, "Tenant '%s' not found." % tenant_ref)
    base = "%s://%s/%s" % (getattr(req.app, "scheme", "http"), req.header("host") or "", tenant_ref)
    tid = tenant["tenant_id"]
    return Response(200, {
        "token_endpoint": base + "/oauth2/v2.0/token", "authorization_endpoint": base + "/oauth2/v2.0/authorize",
        "device_authorization_endpoint": base + "/oauth2/v2.0/devicecode", "end_session_endpoint": base + "/oauth2/v2.0/logout",
        "jwks_uri": base + "/discovery/v2.0/keys", "issuer": "https://login.microsoftonline.com/%s/v2.0" % tid,
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "response_modes_supported": ["query", "fragment", "form_post"], "response_types_supported": ["code", "id_token",
                                                                                                      "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"], "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"], "request_uri_parameter_supported": False,
        "tenant_region_scope": "EU", "cloud_instance_name": "microsoftonline.com", "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com", "rbac_url": "https://pas.windows.net"})


def classify(req):
    if DISCOVERY_RE.match(req.path):
        return "entra-login", "openid-configuration"
    if LOGIN_RE.match(req.path):
        return "entra-login", "token"
    action, _, _ = route_of(req)
    return "graph", action or "Unknown"


def handle(req):
    idps.scheduler(req.app)
    discovery = DISCOVERY_RE.match(req.path)
    if discovery:
        return openid_configuration(req, discovery.group(1))
    login = LOGIN_RE.match(req.path)
    if login:
        return handle_token(req, login.group(1))
    return handle_graph(req)


def _view(state):
    data = section(state)
    apps = [{"client_id": a["client_id"], "tenant_id": a["tenant_id"], "permissions": a["permissions"],
             "secrets": len(a["secrets"]), "certificates": [c["x5t"] for c in a["certificates"]]}
            for a in data["apps"].values()]
    sps = []
    for sp in data["service_principals"].values():
        token = (sp["secrets"] or {}).get("SecretToken")
        credential_id, token_state = idps.token_state(state, token)
        sps.append({"id": sp["id"], "tenant_id": sp["tenant_id"], "owners": sp["owners"], "assigned": sp.get("assigned", []),
                    "base_address": (sp["secrets"] or {}).get("BaseAddress"), "credential_id": credential_id,
                    "token_state": token_state, "jobs": [dict(job_view(j), calls=j["calls"]) for j in sp["jobs"].values()]})
    return {"tenants": list(data["tenants"].values()), "users": data["users"], "apps": apps,
            "service_principals": sps, "settings": dict(data["settings"])}


def control(req, method, rest):
    """/_emulator/graph: GET the tenants, apps, service principals and jobs (never a secret);
    POST /_emulator/graph/settings {...}; POST /_emulator/graph/jobs/<spId>/<jobId> {"code": ...} puts a job in
    a state for a test (Quarantine as a rejected token leaves it)."""
    state = req.state
    idps.scheduler(req.app)
    try:
        if not rest and method == "GET":
            return _view(state)
        if rest == ["settings"] and method == "POST":
            return update_settings(state, read_json(req, {}))
        if len(rest) == 3 and rest[0] == "jobs" and method == "POST":
            sp = section(state)["service_principals"].get(rest[1])
            job = (sp or {}).get("jobs", {}).get(rest[2])
            if job is None:
                raise ControlError(404, "no job %s of service principal %s" % (rest[2], rest[1]))
            body = read_json(req, {})
            code = body.get("code") if isinstance(body, dict) else None
            if code not in ("NotConfigured", "NotRun", "Active", "Paused", "Quarantine"):
                raise ValueError("code must be NotConfigured, NotRun, Active, Paused or Quarantine")
            job["status"]["code"] = code
            job["status"]["quarantine"] = None
            if code == "Quarantine":
                apply_cycle(state, job, {"ok": False, "auth_failed": True, "began": state.now(), "ended": state.now(),
                                         "exported": 0, "calls": 0, "error": {"status": 401, "detail": "seeded"}})
            state.dirty = True
            return job_view(job)
    except ValueError as exc:
        raise ControlError(400, str(exc))
    raise ControlError(404, "no control call %s /_emulator/graph/%s" % (method, "/".join(rest)))


ROUTE = registry.Route(name="graph", match=match, handle=handle, classify=classify, error_response=error_response)
registry.register_control("graph", control)
