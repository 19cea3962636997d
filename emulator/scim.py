"""The CloudSSO SCIM 2.0 endpoint (``/scim/v2/...``), per directory, authenticated by SCIM credentials.

Bearer token -> credential -> directory. Enabled and unexpired credentials are accepted; disabled,
deleted, expired and unknown ones get 401 with a SCIM error body. Every call made with a token of a known
credential is recorded as an ActionTrail event carrying the key ``SCIMCredentialId`` (location: setting
``scim_event_location``). Discovery endpoints need no token and record nothing.
"""

import copy
import json
import re
import urllib.parse

from . import registry
from .actiontrail import record_scim_event
from .errors import Response
from .util import LOWER_ALNUM, fmt_time, rand_str

BASE = "/scim/v2"
CONTENT_TYPE = "application/scim+json"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
MAX_PAGE = 100
UNSUPPORTED = ("Me", "Bulk", ".search")

FILTER_RE = re.compile(r'^\s*([A-Za-z][\w.]*)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.I)
PATH_RE = re.compile(r'^(?P<attr>[A-Za-z$][\w$-]*)(?:\[(?P<filter>[^\]]+)\])?(?:\.(?P<sub>[A-Za-z$][\w$-]*))?$')
USER_FILTER_ATTRS = {"username": "userName", "externalid": "externalId", "id": "id", "displayname": "displayName",
                     "emails.value": "emails.value"}
GROUP_FILTER_ATTRS = {"displayname": "displayName", "externalid": "externalId", "id": "id",
                      "members.value": "members.value"}


class ScimError(Exception):
    def __init__(self, status, detail, scim_type=None, event_code=None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.scim_type = scim_type
        self.event_code = event_code


def scim_response(status, body=None, headers=None, error_code=None):
    return Response(status, b"" if body is None else body, content_type=CONTENT_TYPE, headers=headers,
                    error_code=error_code)


def error_response(req, status, code, message, headers=None):
    body = {"schemas": [ERROR_SCHEMA], "status": str(status), "detail": message}
    hdrs = dict(headers or {})
    if status == 401:
        hdrs.setdefault("WWW-Authenticate", 'Bearer realm="cloudsso-scim"')
    return scim_response(status, body, hdrs, error_code=code)


def _error(err):
    body = {"schemas": [ERROR_SCHEMA], "status": str(err.status), "detail": err.detail}
    if err.scim_type:
        body["scimType"] = err.scim_type
    headers = {"WWW-Authenticate": 'Bearer realm="cloudsso-scim"'} if err.status == 401 else None
    return scim_response(err.status, body, headers, error_code=err.event_code or err.scim_type or str(err.status))


# ---------------------------------------------------------------- routing


def match(path):
    return path == BASE or path.startswith(BASE + "/")


def _segments(req):
    # split the raw path so that an encoded '/' inside a segment stays inside it
    rest = req.raw_path_without_region[len(BASE):].strip("/")
    return [urllib.parse.unquote(s) for s in rest.split("/")] if rest else []


def classify(req):
    seg = _segments(req)
    m = req.method
    if not seg:
        return "scim", "Unknown"
    head = seg[0]
    if head == "ServiceProviderConfig":
        return "scim", "GetServiceProviderConfig"
    if head == "ResourceTypes":
        return "scim", "GetResourceType" if len(seg) > 1 else "ListResourceTypes"
    if head == "Schemas":
        return "scim", "GetSchema" if len(seg) > 1 else "ListSchemas"
    if head in ("Users", "Groups") and len(seg) <= 2:
        noun = head[:-1]
        if len(seg) == 1:
            return "scim", {"GET": f"List{head}", "POST": f"Create{noun}"}.get(m, f"{m.title()}{head}")
        return "scim", {"GET": f"Get{noun}", "PUT": f"Update{noun}", "PATCH": f"Patch{noun}",
                        "DELETE": f"Delete{noun}"}.get(m, f"{m.title()}{noun}")
    return "scim", "Unsupported"


def base_url(req):
    host = req.header("host") or "127.0.0.1"
    prefix = f"/region/{req.region}" if req.region_prefixed else ""
    return f"http://{host}{prefix}{BASE}"


# ---------------------------------------------------------------- discovery (no auth)


def _service_provider_config(req):
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "https://www.alibabacloud.com/help/en/cloudsso/",
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": MAX_PAGE},
        "changePassword": {"supported": False},
        "sort": {"supported": False},
        "etag": {"supported": False},
        "authenticationSchemes": [{"type": "oauthbearertoken", "name": "OAuth Bearer Token",
                                   "description": "Authentication with a CloudSSO SCIM credential",
                                   "primary": True}],
        "meta": {"resourceType": "ServiceProviderConfig", "location": base_url(req) + "/ServiceProviderConfig"},
    }


def _resource_types(req):
    base = base_url(req)
    return [
        {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"], "id": "User", "name": "User",
         "endpoint": "/Users", "schema": USER_SCHEMA,
         "schemaExtensions": [{"schema": ENTERPRISE_SCHEMA, "required": False}],
         "meta": {"resourceType": "ResourceType", "location": base + "/ResourceTypes/User"}},
        {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"], "id": "Group", "name": "Group",
         "endpoint": "/Groups", "schema": GROUP_SCHEMA,
         "meta": {"resourceType": "ResourceType", "location": base + "/ResourceTypes/Group"}},
    ]


def _schemas(req):
    base = base_url(req)

    def attr(name, typ="string", multi=False, required=False, uniqueness="none", sub=None):
        a = {"name": name, "type": typ, "multiValued": multi, "required": required, "caseExact": False,
             "mutability": "readWrite", "returned": "default", "uniqueness": uniqueness}
        if sub:
            a["subAttributes"] = sub
        return a

    return [
        {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"], "id": USER_SCHEMA, "name": "User",
         "attributes": [attr("userName", required=True, uniqueness="server"), attr("displayName"),
                        attr("externalId"), attr("active", "boolean"),
                        attr("name", "complex", sub=[attr("givenName"), attr("familyName"), attr("formatted")]),
                        attr("emails", "complex", multi=True, sub=[attr("value"), attr("type"),
                                                                   attr("primary", "boolean")])],
         "meta": {"resourceType": "Schema", "location": base + "/Schemas/" + USER_SCHEMA}},
        {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"], "id": GROUP_SCHEMA, "name": "Group",
         "attributes": [attr("displayName", required=True, uniqueness="server"), attr("externalId"),
                        attr("members", "complex", multi=True, sub=[attr("value"), attr("display")])],
         "meta": {"resourceType": "Schema", "location": base + "/Schemas/" + GROUP_SCHEMA}},
    ]


def _list(resources, start=1, total=None):
    return {"schemas": [LIST_SCHEMA], "totalResults": len(resources) if total is None else total,
            "itemsPerPage": len(resources), "startIndex": start, "Resources": resources}


# ---------------------------------------------------------------- auth


def _authenticate(req, op):
    """-> (credential, directory) or ScimError. Records rejected calls of known credentials."""
    state = req.state
    auth = req.header("authorization") or ""
    scheme, _, token = auth.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ScimError(401, "Authentication is required: send a SCIM credential as a Bearer token.",
                        event_code="MissingCredential")
    cred, deleted = state.credential_by_secret(token.strip())
    if cred is None:
        raise ScimError(401, "The bearer token is not valid.", event_code="InvalidCredential")
    directory = state.directories.get(cred["directory_id"])
    problem = None
    status = 401
    if directory is None:
        problem = ("InvalidCredential", "The bearer token is not valid.")
    elif deleted:
        problem = ("CredentialDeleted", "The bearer token is not valid: the SCIM credential was deleted.")
    elif directory["region"] != req.region:
        problem = ("InvalidRegion", "The bearer token is not valid for this endpoint's region.")
    elif cred["status"] != "Enabled":
        problem = ("CredentialDisabled", "The bearer token is not valid: the SCIM credential is disabled.")
    elif cred["expire_time"] <= state.now():
        problem = ("CredentialExpired", "The bearer token is not valid: the SCIM credential has expired.")
    elif directory.get("scim_sync") != "Enabled":
        problem = ("SCIMSynchronizationDisabled", "SCIM synchronization is disabled for this directory.")
        status = 403
    if problem:
        if directory is not None and state.config.get("record_rejected_scim_calls", True):
            record_scim_event(state, directory, cred["credential_id"], op, req, error_code=problem[0],
                              error_message=problem[1], query=_event_query(req))
        raise ScimError(status, problem[1], event_code=problem[0])
    return cred, directory


def _event_query(req):
    q = {k: v for k, v in req.query_pairs if k in ("filter", "startIndex", "count", "attributes",
                                                   "excludedAttributes")}
    return q or None


# ---------------------------------------------------------------- resources


def _new_id(prefix):
    return prefix + rand_str(LOWER_ALNUM, 20)


def _body(req):
    if not req.body:
        raise ScimError(400, "A JSON request body is required.", "invalidSyntax")
    try:
        data = json.loads(req.body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ScimError(400, "The request body is not valid JSON.", "invalidSyntax")
    if not isinstance(data, dict):
        raise ScimError(400, "The request body must be a JSON object.", "invalidSyntax")
    return data


def _key(obj, name):
    """SCIM attribute names are case-insensitive: the existing key that matches name, or name."""
    low = name.lower()
    for k in obj:
        if k.lower() == low:
            return k
    return name


def _get(obj, name, default=None):
    return obj.get(_key(obj, name), default)


def _coerce_active(res):
    k = _key(res, "active")
    if k in res and isinstance(res[k], str):
        res[k] = res[k].strip().lower() == "true"


def _clean(data, kind):
    res = {k: copy.deepcopy(v) for k, v in data.items() if k.lower() not in ("id", "meta", "password")}
    res["schemas"] = data.get("schemas") or [USER_SCHEMA if kind == "Users" else GROUP_SCHEMA]
    if kind == "Users":
        _coerce_active(res)
        if _key(res, "active") not in res:
            res["active"] = True
    return res


def _meta(req, kind, rid, created, version, now):
    return {"resourceType": kind[:-1], "created": fmt_time(created), "lastModified": fmt_time(now),
            "location": f"{base_url(req)}/{kind}/{rid}", "version": f'W/"{version}"'}


def _present(req, kind, stored, excluded=()):
    out = {k: copy.deepcopy(v) for k, v in stored.items() if not k.startswith("_")}
    out["meta"] = _meta(req, kind, stored["id"], stored["_created"], stored["_version"], stored["_modified"])
    for name in excluded:
        out.pop(_key(out, name), None)
    return out


def _store(state, kind, directory_id):
    table = state.scim_users if kind == "Users" else state.scim_groups
    return table.setdefault(directory_id, {})


def _unique_field(kind):
    return "userName" if kind == "Users" else "displayName"


def _check_resource(state, kind, directory_id, res, own_id=None):
    field = _unique_field(kind)
    value = _get(res, field)
    if not isinstance(value, str) or not value.strip():
        raise ScimError(400, f"Attribute '{field}' is required.", "invalidValue")
    low = value.lower()
    for rid, other in _store(state, kind, directory_id).items():
        if rid != own_id and str(_get(other, field, "")).lower() == low:
            raise ScimError(409, f"A {kind[:-1].lower()} with {field} '{value}' already exists.", "uniqueness")
    if kind == "Groups":
        users = _store(state, "Users", directory_id)
        members = _get(res, "members") or []
        if not isinstance(members, list):
            raise ScimError(400, "Attribute 'members' must be a list.", "invalidValue")
        seen = []
        for m in members:
            if not isinstance(m, dict) or m.get("value") not in users:
                raise ScimError(400, f"Member {m.get('value') if isinstance(m, dict) else m!r} is not a user of "
                                     f"this directory.", "invalidValue")
            if m["value"] not in [s["value"] for s in seen]:
                seen.append({"value": m["value"], "display": m.get("display") or _get(users[m["value"]], "userName")})
        res[_key(res, "members")] = seen


def _find(state, kind, directory_id, rid):
    item = _store(state, kind, directory_id).get(rid)
    if item is None:
        raise ScimError(404, f"Resource {rid} not found.", event_code="ResourceNotFound")
    return item


def _filter_predicate(kind, expr):
    m = FILTER_RE.match(expr or "")
    allowed = USER_FILTER_ATTRS if kind == "Users" else GROUP_FILTER_ATTRS
    if not m or m.group(1).lower() not in allowed:
        raise ScimError(400, f"Unsupported filter {expr!r}: use '<attribute> eq \"value\"' with one of "
                             f"{', '.join(allowed.values())}.", "invalidFilter")
    attr = allowed[m.group(1).lower()]
    value = m.group(2).replace('\\"', '"').replace("\\\\", "\\")
    case_exact = attr in ("id", "externalId", "members.value")

    def same(a):
        if a is None:
            return False
        return str(a) == value if case_exact else str(a).lower() == value.lower()

    def pred(res):
        if "." in attr:
            outer, inner = attr.split(".")
            return any(isinstance(x, dict) and same(x.get(inner)) for x in (_get(res, outer) or []))
        return same(res.get("id") if attr == "id" else _get(res, attr))

    return pred


def _int_param(req, name, default):
    for k, v in req.query_pairs:
        if k == name:
            try:
                return int(v)
            except ValueError:
                raise ScimError(400, f"Query parameter {name} must be an integer.", "invalidValue")
    return default


def _query(req, name):
    for k, v in req.query_pairs:
        if k == name:
            return v
    return None


# ---------------------------------------------------------------- PATCH


def _set_path(res, path, value, op):
    if path.lower().startswith("urn:"):
        schema, _, attr = path.rpartition(":")
        if schema.lower() in (USER_SCHEMA.lower(), GROUP_SCHEMA.lower()):
            path = attr
        else:
            ext = res.setdefault(_key(res, schema), {})
            if op == "remove":
                ext.pop(_key(ext, attr), None)
            else:
                ext[_key(ext, attr)] = value
            return
    m = PATH_RE.match(path)
    if not m:
        raise ScimError(400, f"Unsupported PATCH path {path!r}.", "invalidPath")
    attr, flt, sub = m.group("attr"), m.group("filter"), m.group("sub")
    key = _key(res, attr)
    if flt:
        fm = FILTER_RE.match(flt)
        if not fm:
            raise ScimError(400, f"Unsupported value filter {flt!r}.", "invalidFilter")
        fattr, fval = fm.group(1), fm.group(2)
        items = res.get(key) or []
        hits = [x for x in items if isinstance(x, dict) and str(x.get(fattr, "")).lower() == fval.lower()]
        if op == "remove":
            if sub:
                for x in hits:
                    x.pop(sub, None)
            else:
                res[key] = [x for x in items if x not in hits]
            return
        if not hits:
            new = {fattr: fval}
            items.append(new)
            hits = [new]
        for x in hits:
            if sub:
                x[sub] = value
            elif isinstance(value, dict):
                x.update(value)
        res[key] = items
        return
    if sub:
        parent = res.setdefault(key, {})
        if not isinstance(parent, dict):
            raise ScimError(400, f"Attribute {attr} is not complex.", "invalidPath")
        if op == "remove":
            parent.pop(_key(parent, sub), None)
        else:
            parent[_key(parent, sub)] = value
        return
    if op == "remove":
        if isinstance(value, list) and isinstance(res.get(key), list):
            drop = {v.get("value") for v in value if isinstance(v, dict)}
            res[key] = [x for x in res[key] if not (isinstance(x, dict) and x.get("value") in drop)]
        else:
            res.pop(key, None)
        return
    if op == "add" and isinstance(res.get(key), list) and isinstance(value, list):
        res[key] = res[key] + value
    elif op == "add" and isinstance(res.get(key), dict) and isinstance(value, dict):
        res[key].update(value)
    else:
        res[key] = value


def apply_patch(res, body):
    ops = _get(body, "Operations")
    if not isinstance(ops, list) or not ops:
        raise ScimError(400, "A PATCH request needs a non-empty 'Operations' list.", "invalidSyntax")
    for op in ops:
        if not isinstance(op, dict):
            raise ScimError(400, "Each PATCH operation must be an object.", "invalidSyntax")
        name = str(_get(op, "op", "")).lower()
        if name not in ("add", "replace", "remove"):
            raise ScimError(400, f"Unsupported PATCH op {_get(op, 'op')!r}.", "invalidSyntax")
        path = _get(op, "path")
        value = _get(op, "value")
        if not path:
            if name == "remove":
                raise ScimError(400, "A remove operation needs a path.", "noTarget")
            if not isinstance(value, dict):
                raise ScimError(400, "An operation without path needs an object value.", "invalidValue")
            for k, v in value.items():
                _set_path(res, k, v, name)
            continue
        _set_path(res, path, value, name)
    _coerce_active(res)


# ---------------------------------------------------------------- handler


def handle(req):
    state = req.state
    _, op = classify(req)
    seg = _segments(req)
    try:
        if op == "GetServiceProviderConfig":
            return scim_response(200, _service_provider_config(req))
        if op == "ListResourceTypes":
            types = _resource_types(req)
            return scim_response(200, _list(types))
        if op == "GetResourceType":
            for t in _resource_types(req):
                if t["id"] == seg[1]:
                    return scim_response(200, t)
            raise ScimError(404, f"Resource type {seg[1]} not found.")
        if op == "ListSchemas":
            return scim_response(200, _list(_schemas(req)))
        if op == "GetSchema":
            for s in _schemas(req):
                if s["id"] == seg[1]:
                    return scim_response(200, s)
            raise ScimError(404, f"Schema {seg[1]} not found.")
        cred, directory = _authenticate(req, op)
    except ScimError as err:
        return _error(err)

    query = _event_query(req)
    try:
        resp = _dispatch(req, op, seg, directory)
    except ScimError as err:
        record_scim_event(state, directory, cred["credential_id"], op, req,
                          error_code=err.event_code or err.scim_type or str(err.status), error_message=err.detail,
                          query=query)
        return _error(err)
    record_scim_event(state, directory, cred["credential_id"], op, req, query=query)
    return resp


def _dispatch(req, op, seg, directory):
    state = req.state
    did = directory["directory_id"]
    if op == "Unsupported" or op == "Unknown":
        if seg and seg[0] in UNSUPPORTED:
            raise ScimError(501, f"/{seg[0]} is not supported by this service provider.")
        raise ScimError(404, "Unknown SCIM endpoint.")
    kind = seg[0]
    now = int(state.now())
    excluded = [a.strip() for a in (_query(req, "excludedAttributes") or "").split(",") if a.strip()]
    if op in ("ListUsers", "ListGroups"):
        items = list(_store(state, kind, did).values())  # creation order (dicts keep it, and so does JSON)
        flt = _query(req, "filter")
        if flt is not None:
            pred = _filter_predicate(kind, flt)
            items = [r for r in items if pred(r)]
        start = max(1, _int_param(req, "startIndex", 1))
        count = min(MAX_PAGE, max(0, _int_param(req, "count", MAX_PAGE)))
        page = items[start - 1:start - 1 + count]
        return scim_response(200, _list([_present(req, kind, r, excluded) for r in page], start, len(items)))
    if op in ("CreateUser", "CreateGroup"):
        res = _clean(_body(req), kind)
        _check_resource(state, kind, did, res)
        rid = _new_id("u-" if kind == "Users" else "g-")
        res.update({"id": rid, "_created": now, "_modified": now, "_version": 1})
        _store(state, kind, did)[rid] = res
        state.dirty = True
        out = _present(req, kind, res)
        return scim_response(201, out, {"Location": out["meta"]["location"]})
    rid = seg[1]
    current = _find(state, kind, did, rid)
    if op in ("GetUser", "GetGroup"):
        return scim_response(200, _present(req, kind, current, excluded))
    if op in ("UpdateUser", "UpdateGroup"):
        res = _clean(_body(req), kind)
        _check_resource(state, kind, did, res, own_id=rid)
        res.update({"id": rid, "_created": current["_created"], "_modified": now,
                    "_version": current["_version"] + 1})
        _store(state, kind, did)[rid] = res
        state.dirty = True
        return scim_response(200, _present(req, kind, res))
    if op in ("PatchUser", "PatchGroup"):
        res = copy.deepcopy(current)
        apply_patch(res, _body(req))
        _check_resource(state, kind, did, res, own_id=rid)
        res.update({"id": rid, "_modified": now, "_version": current["_version"] + 1})
        _store(state, kind, did)[rid] = res
        state.dirty = True
        return scim_response(200, _present(req, kind, res))
    if op in ("DeleteUser", "DeleteGroup"):
        del _store(state, kind, did)[rid]
        if kind == "Users":
            for group in _store(state, "Groups", did).values():
                members = _get(group, "members") or []
                kept = [m for m in members if m.get("value") != rid]
                if len(kept) != len(members):
                    group[_key(group, "members")] = kept
        state.dirty = True
        return scim_response(204)
    raise ScimError(405, f"Method {req.method} is not allowed here.")


ROUTE = registry.Route(name="scim", match=match, handle=handle, classify=classify, error_response=error_response)
