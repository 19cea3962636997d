"""ECS instance metadata service (``/latest/...``): IMDSv2 tokens and RAM role credentials.

Header names as used by the official alibabacloud_credentials provider (ecs_ram_role.py):
``X-aliyun-ecs-metadata-token-ttl-seconds`` on ``PUT /latest/api/token`` and
``X-aliyun-ecs-metadata-token`` on the GETs. With the setting ``imds_v2_required`` a GET without a token
gets 403; otherwise IMDSv1 (no token) works. A token that is sent must be valid (else 401).
"""

import secrets

from . import registry
from .errors import Response
from .sts import issue_credentials, _norm_arn
from .util import fmt_time

TOKEN_HEADER = "x-aliyun-ecs-metadata-token"
TTL_HEADER = "x-aliyun-ecs-metadata-token-ttl-seconds"
CREDS_PATH = "/latest/meta-data/ram/security-credentials/"
MAX_TTL = 21600
REFRESH_MARGIN = 30 * 60  # hand out a new credential when the cached one expires within 30 minutes


def match(path):
    return path == "/latest" or path.startswith("/latest/")


def classify(req):
    return "metadata", req.path


def _text(status, text, code=None):
    return Response(status, text, content_type="text/plain", error_code=code)


def error_response(req, status, code, message, headers=None):
    r = _text(status, message or code, code)
    r.headers.update(headers or {})
    return r


def _token_ok(state, req):
    token = req.header(TOKEN_HEADER)
    if token is None:
        if state.config.get("imds_v2_required"):
            return _text(403, "Forbidden: an IMDSv2 token (X-aliyun-ecs-metadata-token) is required", "Forbidden")
        return None
    expiry = state.imds_tokens.get(token)
    if expiry is None or expiry <= state.now():
        return _text(401, "Unauthorized: the metadata token is invalid or expired", "Unauthorized")
    return None


def handle(req):
    state = req.state
    path = req.path
    if path == "/latest/api/token":
        if req.method != "PUT":
            return _text(405, "Method Not Allowed", "MethodNotAllowed")
        raw = req.header(TTL_HEADER)
        try:
            ttl = int(raw)
        except (TypeError, ValueError):
            return _text(400, "Bad Request: X-aliyun-ecs-metadata-token-ttl-seconds is required", "BadRequest")
        if not 1 <= ttl <= MAX_TTL:
            return _text(400, f"Bad Request: the token TTL must be 1..{MAX_TTL} seconds", "BadRequest")
        token = secrets.token_urlsafe(32)
        state.imds_tokens[token] = state.now() + ttl
        return _text(200, token)
    if req.method != "GET":
        return _text(405, "Method Not Allowed", "MethodNotAllowed")
    denied = _token_ok(state, req)
    if denied is not None:
        return denied
    if path in (CREDS_PATH, CREDS_PATH.rstrip("/")):
        names = sorted(state.ecs_roles)
        if not names:
            return _text(404, "Not Found", "NotFound")
        return _text(200, names[0])  # an instance has one RAM role attached
    if path.startswith(CREDS_PATH):
        name = path[len(CREDS_PATH):]
        spec = state.ecs_roles.get(name)
        if spec is None:
            return _text(404, "Not Found", "NotFound")
        role = state.roles.get(_norm_arn(spec["role_arn"]))
        if role is None:
            return _text(404, "Not Found", "NotFound")
        now = state.now()
        cred = state.sts.get(spec.get("current") or "")
        if cred is None or cred["expiration"] - now < REFRESH_MARGIN:
            duration = int(state.config.get("imds_credential_duration_seconds", 21600))
            cred = issue_credentials(state, role, "ecs-instance", duration, source="EcsRamRole")
            spec["current"] = cred["id"]
            state.dirty = True
        body = {
            "AccessKeyId": cred["id"],
            "AccessKeySecret": cred["secret"],
            "SecurityToken": cred["token"],
            "Expiration": fmt_time(cred["expiration"]),
            "LastUpdated": fmt_time(cred["issued"]),
            "Code": "Success",
        }
        return Response(200, body, content_type="text/plain")
    if path in ("/latest/meta-data/region-id",):
        return _text(200, req.region)
    if path in ("/latest/meta-data/instance-id",):
        return _text(200, "i-emulator0000000000")
    return _text(404, "Not Found", "NotFound")


ROUTE = registry.Route(name="metadata", match=match, handle=handle, classify=classify, error_response=error_response)
