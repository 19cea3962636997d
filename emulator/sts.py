"""STS 2015-04-01: AssumeRole, AssumeRoleWithOIDC (unsigned), GetCallerIdentity; RAM roles.

Issued credentials carry the role's permissions (narrowed by a session Policy) and expire on the
virtual clock. Error codes as documented on the AssumeRole / STS error-code pages.
"""

import json
import re

from . import registry
from .errors import ApiError, missing_parameter
from .util import (DEFAULT_ACCOUNT_ID, fmt_time, new_access_key_secret, new_numeric_id, new_security_token,
                   new_sts_id)

PRODUCT = registry.register_rpc(registry.RpcProduct(
    code="sts", version="2015-04-01", service_name="Sts", endpoint="sts", ram_service="sts",
    ram_denied_code="NoPermission", ram_denied_status=403,
    ram_denied_message="You are not authorized to do this action. You should be authorized by RAM.",
))

ROLE_ARN_RE = re.compile(r"^acs:ram::(\d+):role/([A-Za-z0-9.@+=,_-]{1,64})$", re.I)
OIDC_PROVIDER_ARN_RE = re.compile(r"^acs:ram::(\d+):oidc-provider/([A-Za-z0-9._-]{1,128})$", re.I)
SESSION_NAME_RE = re.compile(r"^[A-Za-z0-9.@_-]{2,64}$")
EXTERNAL_ID_RE = re.compile(r"^[A-Za-z0-9_+=,.@:/-]{2,96}$")
MIN_DURATION = 900
MAX_DURATION = 43200
CHAINED_MAX_DURATION = 3600
POLICY_MAX = 2048
NO_PERMISSION = "You are not authorized to do this action. You should be authorized by RAM."


# ---------------------------------------------------------------- issuing


def parse_session_policy(text):
    """-> (allow patterns, deny patterns); ApiError for a policy STS would reject."""
    if len(text.encode("utf-8")) > POLICY_MAX:
        raise ApiError(400, "InvalidParameter.PolicySize",
                       f"The size of Policy must be smaller than {POLICY_MAX} bytes.")
    try:
        doc = json.loads(text)
        statements = doc["Statement"]
        if isinstance(statements, dict):
            statements = [statements]
        allow, deny = [], []
        for st in statements:
            effect = st["Effect"]
            actions = st["Action"]
            if isinstance(actions, str):
                actions = [actions]
            if effect == "Allow":
                allow.extend(actions)
            elif effect == "Deny":
                deny.extend(actions)
            else:
                raise ValueError(effect)
    except (ValueError, KeyError, TypeError):
        raise ApiError(400, "InvalidParameter.PolicyGrammar", "The parameter Policy has not passed grammar check.")
    return allow, deny


def issue_credentials(state, role, session_name, duration, policy=None, source="AssumeRole"):
    now = state.now()
    allow, deny = (parse_session_policy(policy) if policy else (None, []))
    cred = {
        "id": new_sts_id(),
        "secret": new_access_key_secret(),
        "token": new_security_token(),
        "expiration": int(now + duration),
        "issued": int(now),
        "account_id": role["account_id"],
        "role_arn": role["arn"],
        "role_name": role["name"],
        "role_id": role["role_id"],
        "session_name": session_name,
        "permissions": list(role.get("permissions", ())),
        "deny": list(role.get("deny", ())) + list(deny),
        "policy_allow": allow,
        "source": source,
    }
    state.add_sts(cred)
    return cred


def credentials_view(cred):
    return {
        "AccessKeyId": cred["id"],
        "AccessKeySecret": cred["secret"],
        "SecurityToken": cred["token"],
        "Expiration": fmt_time(cred["expiration"]),
    }


def assumed_role_user(role, session_name):
    return {
        "Arn": f"acs:ram::{role['account_id']}:role/{role['name'].lower()}/{session_name}",
        "AssumedRoleId": f"{role['role_id']}:{session_name}",
    }


def _role_from_arn(state, arn):
    m = ROLE_ARN_RE.match(arn)
    if not m:
        raise ApiError(400, "InvalidParameter.RoleArn", "The parameter RoleArn is wrongly formed.")
    role = state.roles.get(_norm_arn(arn))
    if role is None:
        raise ApiError(404, "EntityNotExist.Role", "The specified Role not exists .")
    return role


def _norm_arn(arn):
    m = ROLE_ARN_RE.match(arn)
    return f"acs:ram::{m.group(1)}:role/{m.group(2).lower()}" if m else arn


def _duration(ctx, role, chained=False):
    raw = ctx.param("DurationSeconds")
    if raw is None:
        duration = 3600
    else:
        try:
            duration = int(raw)
        except ValueError:
            raise ApiError(400, "InvalidParameter.DurationSeconds",
                           "The Min/Max value of DurationSeconds is 15min/1hr.")
    upper = min(int(role.get("max_session_duration", 3600)), MAX_DURATION)
    if chained:
        upper = min(upper, CHAINED_MAX_DURATION)
    if duration < MIN_DURATION or duration > upper:
        raise ApiError(400, "InvalidParameter.DurationSeconds",
                       f"The Min/Max value of DurationSeconds is 15min/1hr. (allowed for this role: "
                       f"{MIN_DURATION}..{upper})")
    return duration


def _session_name(ctx, required=True):
    name = ctx.param("RoleSessionName")
    if name is None:
        if required:
            raise missing_parameter("RoleSessionName", "MissingParameter.RoleSessionName")
        return None
    if not SESSION_NAME_RE.match(name):
        raise ApiError(400, "InvalidParameter.RoleSessionName", "The parameter RoleSessionName is wrongly formed.")
    return name


# ---------------------------------------------------------------- actions


@PRODUCT.add("AssumeRole", rw="Write", secret_response_keys=("Credentials",))
def assume_role(ctx):
    arn = ctx.param("RoleArn", required=True, code="MissingParameter.RoleArn")
    session = _session_name(ctx)
    role = _role_from_arn(ctx.state, arn)
    duration = _duration(ctx, role, chained=ctx.principal.kind == "sts")
    external_id = ctx.param("ExternalId")
    if external_id is not None and not EXTERNAL_ID_RE.match(external_id):
        raise ApiError(400, "InvalidParameter.ExternalId", "The parameter ExternalId is wrongly formed.")
    trusted = role.get("trusted_accounts") or [role["account_id"]]
    if ctx.principal.account_id not in trusted and "*" not in trusted:
        raise ApiError(403, "NoPermission", NO_PERMISSION + " (the role's trust policy does not allow this account)")
    if role.get("external_id") and external_id != role["external_id"]:
        # sts:ExternalId is a trust-policy condition: a missing or wrong value is a denied AssumeRole.
        raise ApiError(403, "NoPermission", NO_PERMISSION + " (trust policy condition sts:ExternalId not met)")
    cred = issue_credentials(ctx.state, role, session, duration, ctx.param("Policy"))
    return {"Credentials": credentials_view(cred), "AssumedRoleUser": assumed_role_user(role, session)}


@PRODUCT.add("AssumeRoleWithOIDC", rw="Write", anonymous=True, ram_action=None,
             secret_response_keys=("Credentials",))
def assume_role_with_oidc(ctx):
    arn = ctx.param("RoleArn", required=True, code="MissingParameter.RoleArn")
    provider_arn = ctx.param("OIDCProviderArn", required=True, code="MissingParameter.OIDCProviderArn")
    token = ctx.params.get("OIDCToken") or ""
    session = _session_name(ctx, required=False) or "oidc-session"
    role = _role_from_arn(ctx.state, arn)
    ctx.event_overrides["account_id"] = role["account_id"]
    ctx.event_overrides["user_identity"] = {"type": "oidc", "accountId": role["account_id"],
                                            "principalId": f"{role['role_id']}:{session}",
                                            "userName": f"{role['name']}:{session}", "identityProvider": provider_arn}
    if not OIDC_PROVIDER_ARN_RE.match(provider_arn):
        raise ApiError(400, "InvalidParameter.OIDCProviderArn", "The parameter OIDCProviderArn is wrongly formed.")
    oidc = role.get("oidc") or {}
    if oidc.get("provider_arn", "").lower() != provider_arn.lower():
        raise ApiError(401, "AuthenticationFail.NoPermission", "No such OIDC Provider registered.")
    if not token:
        raise ApiError(401, "AuthenticationFail.OIDCToken.Invalid", "The OIDCToken can not empty.")
    if token not in (oidc.get("tokens") or ()):
        raise ApiError(401, "AuthenticationFail.OIDCToken.InvalidSignature",
                       "OIDC token validate failed: invalid signature.")
    duration = _duration(ctx, role)
    cred = issue_credentials(ctx.state, role, session, duration, ctx.param("Policy"), source="AssumeRoleWithOIDC")
    now = int(ctx.now())
    return {
        "Credentials": credentials_view(cred),
        "AssumedRoleUser": assumed_role_user(role, session),
        "OIDCTokenInfo": {
            "Subject": oidc.get("subject", "system:serviceaccount:default:emulator"),
            "Issuer": oidc.get("issuer", "https://oidc.emulator.invalid"),
            "ClientIds": oidc.get("client_ids", "sts.aliyuncs.com"),
            "IssuanceTime": fmt_time(now - 60),
            "ExpirationTime": fmt_time(now + 3600),
            "VerificationInfo": "Success",
        },
    }


@PRODUCT.add("GetCallerIdentity", ram_action=None)
def get_caller_identity(ctx):
    p = ctx.principal
    out = {"AccountId": p.account_id, "Arn": p.arn}
    if p.kind == "sts":
        out.update({"IdentityType": "AssumedRoleUser", "PrincipalId": p.principal_id, "RoleId": p.role_id})
    elif p.identity_type == "root-account":
        out.update({"IdentityType": "Account", "PrincipalId": p.account_id, "UserId": p.account_id})
    else:
        out.update({"IdentityType": "RAMUser", "PrincipalId": p.principal_id, "UserId": p.principal_id})
    return out


# ---------------------------------------------------------------- seeds


def seed_roles(state, items):
    out = []
    for spec in items or ():
        arn = spec.get("arn")
        if not arn:
            account = str(spec.get("account_id") or DEFAULT_ACCOUNT_ID)
            arn = f"acs:ram::{account}:role/{spec['name']}"
        m = ROLE_ARN_RE.match(arn)
        if not m:
            raise ValueError(f"bad role arn {arn!r}: acs:ram::<account>:role/<name>")
        max_duration = int(spec.get("max_session_duration", 3600))
        if not MIN_DURATION <= max_duration <= MAX_DURATION:
            raise ValueError("max_session_duration must be 900..43200")
        role = {
            "arn": arn,
            "account_id": m.group(1),
            "name": m.group(2),
            "role_id": spec.get("role_id") or new_numeric_id(17),
            "permissions": list(spec.get("permissions", [])),
            "deny": list(spec.get("deny", [])),
            "max_session_duration": max_duration,
            "external_id": spec.get("external_id"),
            "trusted_accounts": [str(a) for a in spec.get("trusted_accounts", [m.group(1)])],
            "oidc": None,
        }
        oidc = spec.get("oidc")
        if oidc:
            tokens = oidc.get("tokens") or ([oidc["token"]] if oidc.get("token") else [])
            role["oidc"] = {"provider_arn": oidc["provider_arn"], "tokens": list(tokens),
                            "subject": oidc.get("subject"), "issuer": oidc.get("issuer")}
            role["oidc"] = {k: v for k, v in role["oidc"].items() if v is not None}
            for t in tokens:
                state.remember_secret("oidc_token", arn, t)
        state.roles[_norm_arn(arn)] = role
        state.dirty = True
        view = {k: v for k, v in role.items() if k != "oidc"}
        view["oidc_provider_arn"] = (oidc or {}).get("provider_arn")
        out.append(view)
    return out


def seed_ecs_roles(state, items):
    """ECS instance RAM roles served by the metadata service: {name, role_arn} or {name, account_id, permissions}."""
    out = []
    for spec in items or ():
        name = spec["name"]
        role_arn = spec.get("role_arn")
        if role_arn:
            role = state.roles.get(_norm_arn(role_arn))
            if role is None:
                raise ValueError(f"ecs role {name}: unknown role_arn {role_arn!r} (seed it under roles first)")
        else:
            account = str(spec.get("account_id") or DEFAULT_ACCOUNT_ID)
            role = seed_roles(state, [{"arn": f"acs:ram::{account}:role/{name}",
                                       "permissions": spec.get("permissions", []),
                                       "max_session_duration": 43200}])[0]
            role_arn = role["arn"]
        state.ecs_roles[name] = {"name": name, "role_arn": role_arn}
        state.dirty = True
        out.append({"name": name, "role_arn": role_arn})
    return out


registry.register_seed("roles", seed_roles)
registry.register_seed("ecs_roles", seed_ecs_roles)
