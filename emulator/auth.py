"""Request authentication for the Alibaba Cloud RPC APIs, written from the published specification.

Two signature schemes:
- V3 ``ACS3-HMAC-SHA256`` (Authorization header; canonical request over method, path, query, signed
  headers and the hashed payload),
- V2 ``HMAC-SHA1`` / ``SignatureVersion 1.0`` (``Signature`` parameter over the sorted parameters).

The pure functions at the top are unit-tested against the official vectors. ``authenticate`` turns a
request into a :class:`Principal` or raises an :class:`ApiError` with the real error code.
Nothing here imports the collection's code or the SDK.
"""

import base64
import hashlib
import hmac
import re
import time
import urllib.parse

from .errors import ApiError, missing_parameter
from .util import fmt_time, parse_time

V3_ALGORITHM = "ACS3-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def percent_encode(value):
    """RFC 3986 encoding used by both schemes: only A-Z a-z 0-9 - _ . ~ stay literal (space is %20)."""
    return urllib.parse.quote(str(value), safe="~")


# ---------------------------------------------------------------- V3


def v3_canonical_query(pairs):
    """pairs: decoded (key, value) tuples from the query string. Keys and values encoded, sorted by key."""
    encoded = sorted((percent_encode(k), percent_encode(v)) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def v3_canonical_request(method, path, query_pairs, headers, signed_headers, hashed_payload):
    """headers: lower-case name -> list of values. signed_headers: lower-case names (any order)."""
    names = sorted(signed_headers)
    canonical_headers = ""
    for name in names:
        values = headers.get(name)
        if values is None:
            raise KeyError(name)
        canonical_headers += name + ":" + ",".join(sorted(v.strip() for v in values)) + "\n"
    return "\n".join([
        method.upper(),
        path or "/",
        v3_canonical_query(query_pairs),
        canonical_headers,
        ";".join(names),
        hashed_payload,
    ])


def v3_string_to_sign(canonical_request):
    return V3_ALGORITHM + "\n" + hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()


def v3_signature(secret, string_to_sign):
    return hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


_AUTH_RE = re.compile(r"^(\S+)\s+(.*)$", re.S)


def parse_v3_authorization(value):
    """'ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex' -> (algorithm, dict)."""
    m = _AUTH_RE.match(value.strip())
    if not m:
        raise ValueError("malformed Authorization header")
    algorithm, rest = m.group(1), m.group(2)
    fields = {}
    for part in rest.split(","):
        if "=" not in part:
            raise ValueError("malformed Authorization header")
        k, v = part.strip().split("=", 1)
        fields[k.strip()] = v.strip()
    for required in ("Credential", "SignedHeaders", "Signature"):
        if not fields.get(required):
            raise ValueError(f"{required} missing in Authorization header")
    return algorithm, fields


# ---------------------------------------------------------------- V2


def v2_string_to_sign(method, params):
    """params: dict of every request parameter (query + form body) except Signature."""
    canonical = "&".join(
        f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()) if k != "Signature"
    )
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical)}"


def v2_signature(secret, string_to_sign):
    digest = hmac.new((secret + "&").encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


# ---------------------------------------------------------------- principals and permissions


def action_allowed(patterns, ram_action):
    """RAM-style match: 'cloudsso:*', '*', exact names; case-insensitive like RAM action names."""
    import fnmatch

    target = ram_action.lower()
    return any(fnmatch.fnmatchcase(target, str(p).lower()) for p in (patterns or ()))


class Principal:
    """Who signed a request. ``allowed(ram_action)`` applies the RAM permissions (and STS session policy)."""

    def __init__(self, kind, account_id, access_key_id=None, permissions=(), deny=(), policy_allow=None,
                 user_name=None, principal_id=None, arn=None, identity_type=None, role=None, session_name=None,
                 role_id=None):
        self.kind = kind  # "ak", "sts" or "anonymous"
        self.account_id = account_id
        self.access_key_id = access_key_id
        self.permissions = list(permissions or ())
        self.deny = list(deny or ())
        self.policy_allow = policy_allow  # None: no session policy
        self.user_name = user_name
        self.principal_id = principal_id
        self.arn = arn
        self.identity_type = identity_type
        self.role = role
        self.session_name = session_name
        self.role_id = role_id

    def allowed(self, ram_action):
        if action_allowed(self.deny, ram_action):
            return False
        if not action_allowed(self.permissions, ram_action):
            return False
        if self.policy_allow is not None and not action_allowed(self.policy_allow, ram_action):
            return False
        return True

    def user_identity(self):
        """The ActionTrail ``userIdentity`` block of an event made by this principal."""
        if self.kind == "anonymous":
            return {"type": "anonymous", "accountId": self.account_id}
        ident = {
            "type": self.identity_type,
            "principalId": self.principal_id,
            "accountId": self.account_id,
            "accessKeyId": self.access_key_id,
            "userName": self.user_name,
        }
        if self.kind == "sts":
            ident["sessionContext"] = {"attributes": {"mfaAuthenticated": "false"}}
        return ident


def principal_for_access_key(ak):
    ident = ak.get("identity_type", "ram-user")
    user_name = ak.get("user_name") or ("root" if ident == "root-account" else "emulator-user")
    if ident == "root-account":
        arn = f"acs:ram::{ak['account_id']}:root"
        principal_id = ak["account_id"]
    else:
        arn = f"acs:ram::{ak['account_id']}:user/{user_name}"
        principal_id = ak.get("user_id") or ak["account_id"]
    return Principal(
        "ak", ak["account_id"], access_key_id=ak["id"], permissions=ak.get("permissions", ()),
        deny=ak.get("deny", ()), user_name=user_name, principal_id=principal_id, arn=arn, identity_type=ident,
    )


def principal_for_sts(cred):
    role_name = cred.get("role_name") or "role"
    session = cred.get("session_name") or "session"
    return Principal(
        "sts", cred["account_id"], access_key_id=cred["id"], permissions=cred.get("permissions", ()),
        deny=cred.get("deny", ()), policy_allow=cred.get("policy_allow"), user_name=f"{role_name}:{session}",
        principal_id=f"{cred.get('role_id', '')}:{session}",
        arn=f"acs:ram::{cred['account_id']}:assumed-role/{role_name}/{session}", identity_type="assumed-role",
        role=role_name, session_name=session, role_id=cred.get("role_id"),
    )


# ---------------------------------------------------------------- request authentication


def _check_timestamp(value, name, max_skew):
    """Signature timestamps are checked against the real clock: the SDK signs with the real time even when
    the emulator's virtual clock was moved."""
    try:
        ts = parse_time(value)
    except ValueError:
        raise ApiError(400, "InvalidTimeStamp.Format",
                       "Specified time stamp or date value is not well formatted.")
    if max_skew and abs(time.time() - ts) > max_skew:
        raise ApiError(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")


def _resolve_key(state, access_key_id, token):
    """Find the secret behind an AccessKeyId and validate the STS security token rules."""
    now = state.now()
    if access_key_id.startswith("STS."):
        cred = state.sts.get(access_key_id)
        if cred is None:
            raise ApiError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        if not token:
            raise ApiError(400, "MissingSecurityToken", "SecurityToken is mandatory for this action.")
        if not hmac.compare_digest(token, cred["token"]):
            if state.sts_token_owner(token):
                raise ApiError(400, "InvalidSecurityToken.MismatchWithAccessKey",
                               "Specified SecurityToken mismatch with the AccessKey.")
            raise ApiError(400, "InvalidSecurityToken.Malformed", "Specified SecurityToken is malformed.")
        if cred["expiration"] <= now:
            raise ApiError(400, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired.")
        return cred["secret"], principal_for_sts(cred)
    ak = state.access_keys.get(access_key_id)
    if ak is None:
        raise ApiError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
    if ak.get("status", "Active") != "Active":
        raise ApiError(400, "InvalidAccessKeyId.Inactive", "Specified access key is disabled.")
    if token:
        # A token with a long-term key: the gateway treats the call as an STS call that does not fit.
        if state.sts_token_owner(token):
            raise ApiError(400, "InvalidSecurityToken.MismatchWithAccessKey",
                           "Specified SecurityToken mismatch with the AccessKey.")
        raise ApiError(400, "InvalidSecurityToken.Malformed", "Specified SecurityToken is malformed.")
    return ak["secret"], principal_for_access_key(ak)


def _check_nonce(state, access_key_id, nonce):
    if not state.config.get("check_nonce", True):
        return
    if not state.use_nonce(access_key_id, nonce):
        raise ApiError(400, "SignatureNonceUsed", "Specified signature nonce was used already.")


def authenticate_v3(state, req):
    """req: the server's request object (method, raw_path, path_without_region, query_pairs, headers, body)."""
    max_skew = state.config.get("signature_max_skew_seconds", 900)
    try:
        algorithm, fields = parse_v3_authorization(req.header("authorization"))
    except ValueError as exc:
        raise ApiError(400, "IncompleteSignature", f"The request signature does not conform to Aliyun "
                                                   f"standards: {exc}.")
    if algorithm != V3_ALGORITHM:
        raise ApiError(400, "InvalidSignatureMethod",
                       f"Specified signature method {algorithm} is not supported by this endpoint.")
    for name in ("x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"):
        if not req.header(name):
            raise missing_parameter(name)
    signed = [h.strip().lower() for h in fields["SignedHeaders"].split(";") if h.strip()]
    must_sign = {"host"} | {name for name in req.headers if name.startswith("x-acs-")}
    unsigned = sorted(must_sign - set(signed))
    if unsigned:
        raise ApiError(400, "IncompleteSignature",
                       f"The request signature does not conform to Aliyun standards: header(s) "
                       f"{', '.join(unsigned)} must be signed.")
    missing = [h for h in signed if h not in req.headers]
    if missing:
        raise ApiError(400, "IncompleteSignature",
                       f"The request signature does not conform to Aliyun standards: signed header(s) "
                       f"{', '.join(missing)} not sent.")
    _check_timestamp(req.header("x-acs-date"), "x-acs-date", max_skew)
    access_key_id = fields["Credential"]
    secret, principal = _resolve_key(state, access_key_id, req.header("x-acs-security-token"))
    hashed_payload = req.header("x-acs-content-sha256").strip()  # signed as sent
    paths = [req.raw_path]
    if req.region_prefixed:
        # The official SDK takes "host:port/region/<id>" as its endpoint and signs "/", while the request
        # line carries the prefix: a signature over the path without the emulator's prefix is accepted too.
        paths.append(req.raw_path_without_region)
    ok = False
    for path in paths:
        canonical = v3_canonical_request(req.method, path, req.query_pairs, req.headers, signed, hashed_payload)
        expected = v3_signature(secret, v3_string_to_sign(canonical))
        if hmac.compare_digest(expected, fields["Signature"].strip().lower()):
            ok = True
            break
    if not ok:
        raise ApiError(400, "SignatureDoesNotMatch", "Specified signature does not match our calculation.")
    if not hmac.compare_digest(hashed_payload.lower(), hashlib.sha256(req.body).hexdigest()):
        raise ApiError(400, "SignatureDoesNotMatch",
                       "Specified signature does not match our calculation: x-acs-content-sha256 is not the "
                       "SHA-256 of the request body.")
    _check_nonce(state, access_key_id, req.header("x-acs-signature-nonce"))
    return principal


def authenticate_v2(state, req, params):
    max_skew = state.config.get("signature_max_skew_seconds", 900)
    for name in ("AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp"):
        if not params.get(name):
            raise missing_parameter(name)
    if params["SignatureMethod"] != "HMAC-SHA1":
        raise ApiError(400, "InvalidSignatureMethod",
                       f"Specified signature method {params['SignatureMethod']} is not supported.")
    if params["SignatureVersion"] != "1.0":
        raise ApiError(400, "InvalidSignatureVersion.NotSupported",
                       f"Specified signature version {params['SignatureVersion']} is not supported.")
    _check_timestamp(params["Timestamp"], "Timestamp", max_skew)
    access_key_id = params["AccessKeyId"]
    secret, principal = _resolve_key(state, access_key_id, params.get("SecurityToken"))
    expected = v2_signature(secret, v2_string_to_sign(req.method, params))
    if not hmac.compare_digest(expected, params["Signature"]):
        raise ApiError(400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation.")
    _check_nonce(state, access_key_id, params["SignatureNonce"])
    return principal


def signature_version(req, params):
    """'v3', 'v2' or None (unsigned)."""
    auth = req.header("authorization") or ""
    if auth.strip().upper().startswith("ACS3-"):
        return "v3"
    if "Signature" in params or "AccessKeyId" in params:
        return "v2"
    if auth:
        return "v3"  # some other Authorization scheme: let the V3 parser reject it with a clear message
    return None


__all__ = [
    "percent_encode", "v3_canonical_query", "v3_canonical_request", "v3_string_to_sign", "v3_signature",
    "parse_v3_authorization", "v2_string_to_sign", "v2_signature", "action_allowed", "Principal",
    "principal_for_access_key", "principal_for_sts", "authenticate_v3", "authenticate_v2", "signature_version",
    "fmt_time",
]
