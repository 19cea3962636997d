"""ActionTrail 2020-07-06 LookupEvents, plus the event generators used by tests and benchmarks.

Rules enforced (see docs/emulator.md for sources): at most two LookupAttribute entries combined with AND,
matched exactly (case-sensitive), MaxResults 0..50 (default 20),
an opaque NextToken bound to the other parameters, BACKWARD (default) or FORWARD, the last 90 days only,
a window of at most 30 days, at most 2 calls per second per account, and an ingestion delay.
"""

import base64
import hashlib
import json
import random

from . import registry
from .errors import ApiError, invalid_parameter
from .util import DEFAULT_ACCOUNT_ID, fmt_time, parse_time, request_id

PRODUCT = registry.register_rpc(registry.RpcProduct(
    code="actiontrail", version="2020-07-06", service_name="Actiontrail", endpoint="actiontrail",
    ram_service="actiontrail",
))

DAY = 86400
# LookupAttribute key -> how to read it from an event
ATTRIBUTE_KEYS = {
    "ServiceName": lambda e: e.get("serviceName"),
    "EventName": lambda e: e.get("eventName"),
    "User": lambda e: (e.get("userIdentity") or {}).get("userName"),
    "EventId": lambda e: e.get("eventId"),
    "ResourceType": lambda e: e.get("resourceType"),
    "ResourceName": lambda e: e.get("resourceName"),
    "EventRW": lambda e: e.get("eventRW"),
    "EventAccessKeyId": lambda e: (e.get("userIdentity") or {}).get("accessKeyId"),
    "SourceIpAddress": lambda e: e.get("sourceIpAddress"),
    "EventType": lambda e: e.get("eventType"),
    "RoleName": lambda e: _role_name(e),
    "SensitiveAction": lambda e: _text(e.get("sensitiveAction")),
}
MAX_LOOKUP_ATTRIBUTES = 2
TOKEN_PREFIX = "V1:"
GRACE_SECONDS = 300  # clock drift tolerated on the 90-day limit (client vs emulator clocks)


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)


def _role_name(event):
    """The role of an assumed-role identity, from userIdentity.arn (acs:ram::<account>:assumed-role/<role>/<session>)."""
    arn = str((event.get("userIdentity") or {}).get("arn") or "")
    parts = arn.split(":", 4)[-1].split("/")
    return parts[1] if len(parts) >= 3 and parts[0] == "assumed-role" else None


def _lookup_attributes(ctx):
    """LookupAttribute.N.Key/.Value: at most two conditions, combined with AND, each an exact, case-sensitive
    match. Returns (predicate or None, [[key, value], ...] sorted by N)."""
    indexes = set()
    for key in ctx.params:
        if key.startswith("LookupAttribute."):
            parts = key.split(".")
            if len(parts) != 3 or parts[2] not in ("Key", "Value") or not parts[1].isdigit():
                raise invalid_parameter(key)
            indexes.add(int(parts[1]))
    if len(indexes) > MAX_LOOKUP_ATTRIBUTES:
        raise invalid_parameter("LookupAttribute",
                                detail=f"At most {MAX_LOOKUP_ATTRIBUTES} lookup attributes can be specified per query.")
    attributes = []
    for n in sorted(indexes):
        akey = ctx.params.get(f"LookupAttribute.{n}.Key")
        aval = ctx.params.get(f"LookupAttribute.{n}.Value")
        if not akey:
            raise invalid_parameter(f"LookupAttribute.{n}.Key", detail="The key is missing.")
        if akey not in ATTRIBUTE_KEYS:
            raise invalid_parameter(f"LookupAttribute.{n}.Key",
                                    detail="Valid keys: " + ", ".join(ATTRIBUTE_KEYS) + ".")
        if aval is None or aval == "":
            raise invalid_parameter(f"LookupAttribute.{n}.Value", detail="The value is missing.")
        attributes.append([akey, aval])
    if not attributes:
        return None, attributes
    getters = [(ATTRIBUTE_KEYS[k], v) for k, v in attributes]
    return (lambda e: all(getter(e) == want for getter, want in getters)), attributes


def _encode_token(payload):
    raw = (TOKEN_PREFIX + json.dumps(payload, separators=(",", ":"))).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _decode_token(token):
    try:
        padded = token + "=" * (-len(token) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
        if not raw.startswith(TOKEN_PREFIX):
            raise ValueError
        return json.loads(raw[len(TOKEN_PREFIX):])
    except (ValueError, UnicodeDecodeError):
        raise invalid_parameter("NextToken", detail="The NextToken is not valid.")


def _time_param(ctx, name, default):
    raw = ctx.param(name)
    if raw is None:
        return default
    try:
        return parse_time(raw)
    except ValueError:
        raise invalid_parameter(name, detail="Use the UTC format yyyy-MM-ddTHH:mm:ssZ.")


@PRODUCT.add("LookupEvents")
def lookup_events(ctx):
    state = ctx.state
    cfg = state.config
    if state.rate_limited(("actiontrail", ctx.principal.account_id), cfg.get("actiontrail_rate_per_second", 2)):
        raise ApiError(int(cfg.get("throttling_status", 400)), "Throttling.User",
                       "Request was denied due to user flow control.")
    now = ctx.now()

    predicate, attributes = _lookup_attributes(ctx)
    direction = (ctx.param("Direction") or "BACKWARD").upper()
    if direction not in ("BACKWARD", "FORWARD"):
        raise invalid_parameter("Direction", detail="Valid values: BACKWARD, FORWARD.")

    raw_max = ctx.param("MaxResults")
    if raw_max is None:
        max_results = int(cfg.get("actiontrail_default_max_results", 20))
    else:
        if not raw_max.isdigit() or not 0 <= int(raw_max) <= 50:
            raise invalid_parameter("MaxResults", detail="Valid values: 0 to 50.")
        # 0 is documented as valid but not what it means: read as "the default page size".
        max_results = int(raw_max) or int(cfg.get("actiontrail_default_max_results", 20))

    end = _time_param(ctx, "EndTime", now)
    start = _time_param(ctx, "StartTime", end - 7 * DAY)
    if start > end:
        raise invalid_parameter("StartTime", detail="StartTime must not be later than EndTime.")
    retention = cfg.get("actiontrail_retention_days", 90) * DAY
    if start < now - retention - GRACE_SECONDS:
        days = cfg.get("actiontrail_retention_days", 90)
        raise invalid_parameter("StartTime", detail=f"Only events of the last {days} days can be queried.")
    span = cfg.get("actiontrail_max_span_days", 30) * DAY
    if span and end - start > span:
        days = cfg.get("actiontrail_max_span_days", 30)
        raise invalid_parameter("EndTime", detail=f"The time range cannot exceed {days} days.")

    # NextToken is bound to every other parameter of the first call.
    fingerprint = hashlib.sha256(json.dumps(
        [ctx.param("StartTime"), ctx.param("EndTime"), attributes, direction, raw_max, ctx.region],
        separators=(",", ":")).encode("utf-8")).hexdigest()[:16]
    cursor = None
    token = ctx.param("NextToken")
    if token:
        payload = _decode_token(token)
        if not isinstance(payload, dict) or payload.get("f") != fingerprint:
            raise invalid_parameter("NextToken", detail="The other parameters must repeat those of the call that "
                                                        "returned the NextToken.")
        cursor = payload.get("c")

    # Events become visible after the ingestion delay; older than the retention window they are gone.
    visible_until = now - float(cfg.get("actiontrail_delay_seconds", 0))
    q_start = max(start, now - retention)
    q_end = min(end, visible_until)
    events, next_cursor = state.events.query(
        ctx.principal.account_id, ctx.region, int(q_start * 1000), int(q_end * 1000),
        backward=(direction == "BACKWARD"), cursor=cursor, predicate=predicate, limit=max_results)
    out = {"Events": events, "StartTime": fmt_time(start), "EndTime": fmt_time(end)}
    if next_cursor is not None:
        out["NextToken"] = _encode_token({"c": next_cursor, "f": fingerprint})
    return out


# ---------------------------------------------------------------- SCIM usage events


def place_credential_id(event, credential_id, location):
    """Put the SCIMCredentialId key where the setting says (the real location is unknown)."""
    if location == "random":
        location = random.choice(("additionalEventData", "requestParameters", "userIdentity", "json_string"))
    if location == "additionalEventData":
        event["additionalEventData"] = {"SCIMCredentialId": credential_id}
    elif location == "requestParameters":
        event["requestParameters"]["SCIMCredentialId"] = credential_id
    elif location == "userIdentity":
        event["userIdentity"]["SCIMCredentialId"] = credential_id
    elif location == "json_string":
        event["additionalEventData"] = json.dumps({"SCIMCredentialId": credential_id})
    return event


def scim_event(state, directory, credential_id, event_name, when, source_ip, user_agent, method, path,
               error_code=None, error_message=None, location=None, query=None, new_id=request_id):
    cfg = state.config
    region = cfg.get("scim_event_region") or directory["region"]
    host = cfg.get("scim_event_source") or f"cloudsso-scim-{directory['region']}.aliyun.com"
    rid = new_id()
    event = {
        "eventId": new_id(),
        "eventVersion": 1,
        "eventName": event_name,
        "eventType": "ApiCall",
        "eventRW": "Read" if method == "GET" else "Write",
        "eventSource": host,
        "eventTime": fmt_time(when),
        "serviceName": cfg.get("scim_event_service_name", "cloudsso"),
        "acsRegion": region,
        "sourceIpAddress": source_ip,
        "userAgent": user_agent or "",
        "requestId": rid,
        "requestParameters": {"HttpMethod": method, "Path": path, "DirectoryId": directory["directory_id"],
                              "AcsHost": host, "RequestId": rid},
        "additionalEventData": {},
        "userIdentity": {"type": "scim-client", "principalId": directory["directory_id"],
                         "accountId": directory["account_id"], "userName": "SCIM"},
    }
    if query:
        event["requestParameters"].update(query)
    if error_code:
        event["errorCode"] = error_code
        event["errorMessage"] = error_message or error_code
    place_credential_id(event, credential_id, location or cfg.get("scim_event_location", "additionalEventData"))
    return directory["account_id"], region, event


def record_scim_event(state, directory, credential_id, event_name, req, error_code=None, error_message=None,
                      query=None):
    now = state.now()
    account, region, event = scim_event(state, directory, credential_id, event_name, now, req.client_ip,
                                        req.header("user-agent"), req.method, req.path, error_code,
                                        error_message, query=query)
    state.events.add(account, region, now * 1000, event)


# ---------------------------------------------------------------- noise and bulk generators


def _rid(rnd):
    """A request-id-shaped random value, cheaper than uuid4 for 100,000 generated events."""
    h = "%032X" % rnd.getrandbits(128)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _noise_event(kind, account_id, region, when, rnd):
    rid = _rid(rnd)
    if kind == "ram":
        service, source, name, ident_type = "Ram", "ram.aliyuncs.com", "ListUsers", "ram-user"
    elif kind == "cloudsso":
        service, source, name, ident_type = "cloudsso", f"cloudsso.{region}.aliyuncs.com", "ListUsers", "ram-user"
    else:
        service, source, ident_type = "Ecs", f"ecs.{region}.aliyuncs.com", "ram-user"
        name = rnd.choice(("DescribeInstances", "DescribeRegions", "DescribeDisks"))
    params = {"AcsHost": source, "RequestId": rid}
    if kind == "cloudsso":
        params["DirectoryId"] = "d-" + "".join(rnd.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(12))
    return {
        "eventId": _rid(rnd),
        "eventVersion": 1,
        "eventName": name,
        "eventType": "ApiCall",
        "eventRW": "Read",
        "eventSource": source,
        "eventTime": fmt_time(when),
        "serviceName": service,
        "acsRegion": region,
        "sourceIpAddress": f"198.51.100.{rnd.randint(1, 254)}",
        "userAgent": "AlibabaCloud (Linux; x86_64) Python/3.11 Core/noise",
        "requestId": rid,
        "requestParameters": params,
        "additionalEventData": {},
        "userIdentity": {"type": ident_type, "principalId": "2" + str(rnd.randint(10**15, 10**16 - 1)),
                         "accountId": account_id, "accessKeyId": "EMUNOISE" + str(rnd.randint(10**15, 10**16 - 1)),
                         "userName": rnd.choice(("ops", "auditor", "ci-bot"))},
    }


def generate(state, spec):
    """Bulk events for benchmarks and noise for tests. spec keys:
    count (N), days (D, spread back from end), end (ISO, default now), credential_ids, noise_ratio (0..1),
    account_id, region, event_name (SCIM op, default ListUsers), directory_id (for the SCIM events),
    noise_kinds (["ram", "cloudsso", "other"]), seed (random seed), ram_list_users / cloudsso_list_users
    (exact counts of those two noise kinds, added on top)."""
    rnd = random.Random(spec.get("seed"))
    count = int(spec.get("count", 0))
    days = float(spec.get("days", 1))
    end = parse_time(spec["end"]) if spec.get("end") else state.now()
    start = end - days * DAY
    account = str(spec.get("account_id") or DEFAULT_ACCOUNT_ID)
    cred_ids = list(spec.get("credential_ids") or [])
    region = spec.get("region")
    directory = None
    if spec.get("directory_id"):
        directory = state.directories.get(spec["directory_id"])
        if directory is None:
            raise ValueError(f"unknown directory_id {spec['directory_id']!r}")
        account = directory["account_id"]
    if directory is None:
        directory = {"directory_id": "d-" + "0" * 12, "region": region or state.default_region,
                     "account_id": account}
    region = region or state.config.get("scim_event_region") or directory["region"]
    ratio = float(spec.get("noise_ratio", 0.0 if cred_ids else 1.0))
    if not 0.0 <= ratio <= 1.0:
        raise ValueError("noise_ratio must be within 0..1")
    kinds = spec.get("noise_kinds") or ["ram", "cloudsso", "other"]
    name = spec.get("event_name", "ListUsers")
    items = []
    for _ in range(count):
        when = rnd.uniform(start, end)
        if cred_ids and rnd.random() >= ratio:
            _, _, ev = scim_event(state, directory, rnd.choice(cred_ids), name, when,
                                  f"203.0.113.{rnd.randint(1, 254)}", "Go-http-client/1.1 (SCIM)", "GET",
                                  "/scim/v2/Users", new_id=lambda: _rid(rnd))
            ev["acsRegion"] = region
        else:
            ev = _noise_event(rnd.choice(kinds), account, region, when, rnd)
        items.append((account, region, when * 1000, ev))
    for kind, key in (("ram", "ram_list_users"), ("cloudsso", "cloudsso_list_users")):
        for _ in range(int(spec.get(key, 0))):
            when = rnd.uniform(start, end)
            items.append((account, region, when * 1000, _noise_event(kind, account, region, when, rnd)))
    added = state.events.add_many(items)
    return {"added": added, "account_id": account, "region": region, "start": fmt_time(start),
            "end": fmt_time(end), "total_events": state.events.count}


def add_raw_events(state, items):
    """Raw events: each item is an event dict (account from userIdentity.accountId, region from acsRegion,
    time from eventTime) or {"account_id", "region", "event"}."""
    batch = []
    for item in items or ():
        if not isinstance(item, dict):
            raise ValueError("each event must be an object")
        event = item.get("event", item)
        if not isinstance(event, dict):
            raise ValueError("event must be an object")
        event = dict(event)
        account = str(item.get("account_id") or (event.get("userIdentity") or {}).get("accountId")
                      or DEFAULT_ACCOUNT_ID)
        region = item.get("region") or event.get("acsRegion") or state.default_region
        if event.get("eventTime"):
            when = parse_time(event["eventTime"])
        else:
            when = state.now()
            event["eventTime"] = fmt_time(when)
        event.setdefault("eventId", request_id())
        event.setdefault("acsRegion", region)
        batch.append((account, region, when * 1000, event))
    return {"added": state.events.add_many(batch), "total_events": state.events.count}


registry.register_seed("events", add_raw_events)
