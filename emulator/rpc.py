"""The Alibaba Cloud RPC gateway: ``POST /`` (and ``GET /``) for every registered RpcProduct.

Order of checks, as a real gateway does it: find the API (Action/Version), authenticate (signature, key,
STS token, timestamp, nonce), check RAM permissions, run the action, record the ActionTrail event.
"""

import urllib.parse

from . import registry
from .auth import authenticate_v2, authenticate_v3, signature_version, Principal
from .errors import ApiError, Response, missing_parameter, rpc_error_body
from .util import fmt_time, request_id

# Parameters that identify or sign the call; never copied into ActionTrail requestParameters.
_SIGNING_PARAMS = {"Signature", "SignatureMethod", "SignatureVersion", "SignatureNonce", "SignatureType",
                   "Timestamp", "AccessKeyId", "SecurityToken", "Format", "Action", "Version", "BearerToken"}
# Parameter names whose values are secrets: dropped from events whatever the product.
SECRET_PARAMS = {"SecurityToken", "Signature", "OIDCToken", "AccessKeySecret", "CredentialSecret", "BearerToken",
                 "SAMLAssertion", "AccessToken", "ClientSecret", "EncryptKey"}


class RpcContext:
    """What an action handler sees."""

    def __init__(self, req, state, product, action, params, principal, region, rid):
        self.req = req
        self.state = state
        self.product = product
        self.action = action
        self.params = params
        self.principal = principal
        self.region = region
        self.request_id = rid
        self.event_overrides = {}   # handlers may adjust their own event (e.g. account of an unsigned call)
        self.record_event = True

    def param(self, name, required=False, code=None):
        value = self.params.get(name)
        if value is None or value == "":
            if required:
                raise missing_parameter(name, code or "MissingParameter")
            return None
        return value

    def now(self):
        return self.state.now()


def parse_params(req):
    """Query string plus an application/x-www-form-urlencoded body (the SDK may send either)."""
    params = dict(req.query_pairs)
    ctype = (req.header("content-type") or "").lower()
    if req.body and "application/x-www-form-urlencoded" in ctype:
        try:
            body = req.body.decode("utf-8")
        except UnicodeDecodeError:
            body = ""
        for k, v in urllib.parse.parse_qsl(body, keep_blank_values=True):
            params[k] = v
    return params


def _action_and_version(req, params):
    if signature_version(req, params) == "v3":
        action = req.header("x-acs-action") or params.get("Action")
        version = req.header("x-acs-version") or params.get("Version")
    else:
        action = params.get("Action") or req.header("x-acs-action")
        version = params.get("Version") or req.header("x-acs-version")
    return action, version


def classify(req):
    params = parse_params(req)
    req.rpc_params = params
    action, version = _action_and_version(req, params)
    product, _ = registry.lookup_rpc(version, action)
    return (product.code if product else "rpc"), (action or "")


def _host_id(req, product):
    if product is not None:
        return product.host(req.region)
    return req.header("host") or "127.0.0.1"


def error_response(req, status, code, message, headers=None, product=None):
    rid = request_id()
    err = ApiError(status, code, message)
    body = rpc_error_body(err, rid, _host_id(req, product), product.code if product else None)
    hdrs = {"x-acs-request-id": rid}
    hdrs.update(headers or {})
    return Response(status, body, headers=hdrs, error_code=code)


def fault_error_response(req, status, code, message, headers=None):
    params = getattr(req, "rpc_params", None) or parse_params(req)
    action, version = _action_and_version(req, params)
    product, _ = registry.lookup_rpc(version, action)
    return error_response(req, status, code, message, headers, product)


def _ram_denied(state, product, ram_action, principal):
    code = product.ram_denied_code or state.config.get("ram_denied_code", "Forbidden.RAM")
    status = product.ram_denied_status if product.ram_denied_code else state.config.get("ram_denied_status", 403)
    message = product.ram_denied_message or (
        "User not authorized to operate on the specified resource, or this API doesn't support RAM.")
    detail = {
        "AuthAction": ram_action,
        "AuthPrincipalType": {"ak": "SubUser", "sts": "AssumedRoleUser"}.get(principal.kind, "Anonymous"),
        "AuthPrincipalOwnerId": principal.account_id,
        "AuthPrincipalDisplayName": principal.user_name,
        "PolicyType": "AccountLevelIdentityBasedPolicy",
        "NoPermissionType": "ImplicitDeny",
    }
    return ApiError(status, code, f"{message} Action: {ram_action}", extra={"AccessDeniedDetail": detail})


def _event_params(params):
    out = {}
    for k, v in params.items():
        # nested request objects arrive flattened (ScimProvisioningConfig....AuthnParam.AccessToken)
        if k in _SIGNING_PARAMS or k in SECRET_PARAMS or k.rsplit(".", 1)[-1] in SECRET_PARAMS:
            continue
        out[k] = v
    return out


def record_event(ctx, error=None):
    state = ctx.state
    if not state.config.get("record_rpc_events", True) or not ctx.record_event:
        return
    principal = ctx.principal
    account = ctx.event_overrides.get("account_id") or (principal.account_id if principal else None)
    if not account:
        return
    now = state.now()
    product = ctx.product
    host = product.host(ctx.region)
    req_params = _event_params(ctx.params)
    req_params.update({"AcsHost": host, "AcsProduct": product.service_name, "RequestId": ctx.request_id,
                       "HostId": host, "RegionId": ctx.params.get("RegionId", ctx.region)})
    event = {
        "eventId": request_id(),
        "eventVersion": 1,
        "eventName": ctx.action.name,
        "eventType": "ApiCall",
        "eventRW": ctx.action.rw,
        "eventSource": host,
        "eventTime": fmt_time(now),
        "serviceName": product.service_name,
        "apiVersion": product.version,
        "acsRegion": ctx.region,
        "sourceIpAddress": ctx.req.client_ip,
        "userAgent": ctx.req.header("user-agent") or "",
        "requestId": ctx.request_id,
        "requestParameters": req_params,
        "additionalEventData": {},
        "userIdentity": ctx.event_overrides.get("user_identity") or principal.user_identity(),
    }
    if error is not None:
        event["errorCode"] = error.code
        event["errorMessage"] = error.message
    else:
        event["responseElements"] = {"RequestId": ctx.request_id}
    state.events.add(account, ctx.region, now * 1000, event)


def handle(req):
    state = req.state
    params = getattr(req, "rpc_params", None) or parse_params(req)
    action_name, version = _action_and_version(req, params)
    product, action = registry.lookup_rpc(version, action_name)
    rid = request_id()

    def fail(err, prod=product):
        body = rpc_error_body(err, rid, _host_id(req, prod), prod.code if prod else None)
        hdrs = {"x-acs-request-id": rid}
        hdrs.update(err.headers)
        return Response(err.status, body, headers=hdrs, error_code=err.code)

    if not action_name:
        return fail(missing_parameter("Action"))
    if not version:
        return fail(missing_parameter("Version"))
    if product is None:
        return fail(ApiError(400, "InvalidVersion", "Specified parameter Version is not valid."))
    if action is None:
        return fail(ApiError(404, "InvalidAction.NotFound", "Specified api is not found, please check your url "
                                                             "and method."))
    ctx = RpcContext(req, state, product, action, params, None, req.region, rid)
    sig = signature_version(req, params)
    try:
        if sig == "v3":
            ctx.principal = authenticate_v3(state, req)
        elif sig == "v2":
            ctx.principal = authenticate_v2(state, req, params)
        elif action.anonymous:
            ctx.principal = Principal("anonymous", None)
        else:
            raise missing_parameter("AccessKeyId")
    except ApiError as err:
        return fail(err)
    try:
        if ctx.principal.kind != "anonymous" and action.ram_action is not None:
            ram_action = action.ram_action or f"{product.ram_service}:{action.name}"
            if not ctx.principal.allowed(ram_action):
                raise _ram_denied(state, product, ram_action, ctx.principal)
        result = action.handler(ctx)
    except ApiError as err:
        if err.code.startswith("Throttling"):
            ctx.record_event = False  # rejected by flow control before the service saw it
        record_event(ctx, error=err)
        return fail(err)
    record_event(ctx)
    body = {"RequestId": rid}
    body.update(result or {})
    return Response(200, body, headers={"x-acs-request-id": rid})


def match(path):
    return path in ("", "/")


ROUTE = registry.Route(name="rpc", match=match, handle=handle, classify=classify,
                       error_response=fault_error_response)
