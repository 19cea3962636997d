"""CloudSSO OpenAPI 2021-05-15: the SCIM credential actions, SCIM sync status, directory statistics and
the list of directories.

Directories belong to an account and a region; a call for a directory of another account or region gets
``EntityNotExists.Directory``, as the real service answers for a wrong region. An account has at most one
directory ("You can create only one directory for a management account", CreateDirectory): a fleet of
directories is a fleet of accounts, and seeding a second directory for an account is refused.
"""

import calendar
import time

from . import registry
from .errors import ApiError, invalid_parameter
from .util import (CREDENTIAL_ID_RE, DEFAULT_ACCOUNT_ID, DIRECTORY_ID_RE, fmt_time, new_credential_id,
                   new_directory_id, new_scim_secret, parse_time)

PRODUCT = registry.register_rpc(registry.RpcProduct(
    code="cloudsso", version="2021-05-15", service_name="cloudsso", endpoint="cloudsso", ram_service="cloudsso",
))

STATUSES = ("Enabled", "Disabled")
ONE_DIRECTORY_RULE = ("You can create only one directory for a management account (CloudSSO CreateDirectory): "
                      "seed each directory with its own account_id")


# ---------------------------------------------------------------- helpers


def credential_view(cred):
    """The SCIMServerCredential object of the API (never the secret)."""
    return {
        "CredentialId": cred["credential_id"],
        "CredentialType": "BearerToken",
        "Status": cred["status"],
        "CreateTime": fmt_time(cred["create_time"]),
        "ExpireTime": fmt_time(cred["expire_time"]),
        "DirectoryId": cred["directory_id"],
    }


def directory_credentials(state, directory_id):
    creds = [c for c in state.credentials.values() if c["directory_id"] == directory_id]
    creds.sort(key=lambda c: (c["create_time"], c["credential_id"]))
    return creds


def _directory_id(ctx):
    value = ctx.param("DirectoryId", required=True, code="MissingParameter.DirectoryId")
    if not DIRECTORY_ID_RE.match(value):
        raise invalid_parameter("DirectoryId", "InvalidParameter.DirectoryId",
                                "A directory ID is 'd-' followed by 12 lower-case letters or digits.")
    return value


def _directory(ctx):
    directory_id = _directory_id(ctx)
    d = ctx.state.directories.get(directory_id)
    if d is None or d["account_id"] != ctx.principal.account_id or d["region"] != ctx.region:
        raise ApiError(404, "EntityNotExists.Directory", f"The specified directory {directory_id} does not exist.")
    return d


def _credential(ctx, directory):
    cid = ctx.param("CredentialId", required=True, code="MissingParameter.CredentialId")
    if not CREDENTIAL_ID_RE.match(cid):
        raise invalid_parameter("CredentialId", "InvalidParameter.CredentialId",
                                "A SCIM credential ID is 'scimcred-' followed by 20 lower-case letters or digits.")
    cred = ctx.state.credentials.get(cid)
    if cred is None or cred["directory_id"] != directory["directory_id"]:
        raise ApiError(404, "EntityNotExists.SCIMCredential", f"The specified SCIM credential {cid} does not exist.")
    return cred


def one_year_later(epoch):
    """The same wall-clock time one calendar year later (UTC). The documented sample (CreateTime
    2021-06-30T08:35:26Z, ExpireTime 2022-06-30T08:35:26Z) keeps the month, day and time; 365 days would
    land a day early across a 29 February. A credential created on 29 February expires on 28 February of
    the next year: no document says which, and the earlier day is the harsher choice (the collection then
    warns and rotates a day sooner, never a day too late)."""
    t = time.gmtime(int(epoch))
    year = t.tm_year + 1
    day = min(t.tm_mday, calendar.monthrange(year, t.tm_mon)[1])
    return calendar.timegm((year, t.tm_mon, day, t.tm_hour, t.tm_min, t.tm_sec))


def create_credential(state, directory, create_time=None, secret=None, status="Enabled", credential_id=None,
                      expire_time=None):
    """Shared by the API and the seed: enforces the per-directory limit."""
    limit = state.config.get("cloudsso_credential_limit", 2)
    existing = directory_credentials(state, directory["directory_id"])
    if len(existing) >= limit:
        raise ApiError(
            400, "LimitExceeded.SCIMCredential",
            f"The number of SCIM credentials in directory {directory['directory_id']} has reached the limit of "
            f"{limit}: {', '.join(c['credential_id'] for c in existing)}.")
    now = int(state.now() if create_time is None else create_time)
    validity_days = state.config.get("cloudsso_credential_validity_days")
    cred = {
        "credential_id": credential_id or new_credential_id(),
        "directory_id": directory["directory_id"],
        "status": status,
        "create_time": now,
        "expire_time": (int(expire_time) if expire_time is not None
                        else one_year_later(now) if validity_days is None else now + int(validity_days * 86400)),
    }
    secret = secret or new_scim_secret()
    state.add_credential(cred, secret)
    return cred, secret


# ---------------------------------------------------------------- actions


@PRODUCT.add("CreateSCIMServerCredential", rw="Write", secret_response_keys=("CredentialSecret",))
def create_scim_server_credential(ctx):
    directory = _directory(ctx)
    cred, secret = create_credential(ctx.state, directory)
    view = credential_view(cred)
    view["CredentialSecret"] = secret
    return {"SCIMServerCredential": view}


@PRODUCT.add("ListSCIMServerCredentials")
def list_scim_server_credentials(ctx):
    directory = _directory(ctx)
    creds = directory_credentials(ctx.state, directory["directory_id"])
    return {"TotalCounts": len(creds), "SCIMServerCredentials": [credential_view(c) for c in creds]}


@PRODUCT.add("UpdateSCIMServerCredentialStatus", rw="Write")
def update_scim_server_credential_status(ctx):
    directory = _directory(ctx)
    cred = _credential(ctx, directory)
    new_status = ctx.param("NewStatus", required=True, code="MissingParameter.NewStatus")
    if new_status not in STATUSES:
        raise invalid_parameter("NewStatus", "InvalidParameter.NewStatus", "Valid values: Enabled, Disabled.")
    if cred["status"] != new_status:  # re-setting the current status is accepted as a no-op
        cred["status"] = new_status
        ctx.state.dirty = True
    return {"SCIMServerCredential": credential_view(cred)}


@PRODUCT.add("DeleteSCIMServerCredential", rw="Write")
def delete_scim_server_credential(ctx):
    directory = _directory(ctx)
    cred = _credential(ctx, directory)
    if ctx.state.config.get("cloudsso_forbid_delete_enabled") and cred["status"] == "Enabled":
        raise ApiError(409, "DeletionConflict.SCIMCredential.Enabled",
                       f"The SCIM credential {cred['credential_id']} is enabled; disable it before deleting it.")
    ctx.state.delete_credential(cred["credential_id"])
    return {}


@PRODUCT.add("GetSCIMSynchronizationStatus")
def get_scim_synchronization_status(ctx):
    directory = _directory(ctx)
    return {"SCIMSynchronizationStatus": directory["scim_sync"]}


@PRODUCT.add("SetSCIMSynchronizationStatus", rw="Write")
def set_scim_synchronization_status(ctx):
    directory = _directory(ctx)
    status = ctx.param("SCIMSynchronizationStatus", required=True, code="MissingParameter.SCIMSynchronizationStatus")
    if status not in STATUSES:
        raise invalid_parameter("SCIMSynchronizationStatus", "InvalidParameter.SCIMSynchronizationStatus",
                                "Valid values: Enabled, Disabled.")
    if directory["scim_sync"] != status:
        directory["scim_sync"] = status
        ctx.state.dirty = True
    return {}


@PRODUCT.add("GetDirectoryStatistics")
def get_directory_statistics(ctx):
    directory = _directory(ctx)
    did = directory["directory_id"]
    state = ctx.state
    return {"DirectoryStatistics": {
        "DirectoryId": did,
        "DirectoryName": directory.get("name", did),
        "Region": directory["region"],
        "SCIMServerCredentialCount": len(directory_credentials(state, did)),
        "SCIMSyncEnabled": directory["scim_sync"] == "Enabled",
        "SSOEnabled": True,
        "UserCount": len(state.scim_users.get(did, {})),
        "UserQuota": 1000,
        "GroupCount": len(state.scim_groups.get(did, {})),
        "GroupQuota": 500,
        "AccessConfigurationCount": 0,
        "AccessConfigurationQuota": 100,
        "AccessAssignmentCount": 0,
        "InProgressTaskCount": 0,
        "InlinePolicyPerAccessConfigurationQuota": 1,
        "SystemPolicyPerAccessConfigurationQuota": 10,
    }}


@PRODUCT.add("ListDirectories")
def list_directories(ctx):
    """No request parameters (documented). Only the caller account's directories of the request's region:
    the resource is acs:cloudsso:{#regionId}:{#accountId}:directory/* (the document's RAM table), and a
    directory's data lives in the region chosen at creation. No paging parameter exists."""
    found = sorted((d for d in ctx.state.directories.values()
                    if d["account_id"] == ctx.principal.account_id and d["region"] == ctx.region),
                   key=lambda d: d["directory_id"])
    return {"TotalCounts": len(found), "Directories": [directory_view(d) for d in found]}


def directory_view(directory):
    """An item of ListDirectories: the five fields of the document and of ListDirectoriesResponseBodyDirectories.
    Directories seeded by an older emulator have no create_time: the epoch stands in."""
    created = directory.get("create_time", 0)
    return {
        "DirectoryId": directory["directory_id"],
        "DirectoryName": directory.get("name") or directory["directory_id"],
        "Region": directory["region"],
        "CreateTime": fmt_time(created),
        "UpdateTime": fmt_time(directory.get("update_time", created)),
    }


# ---------------------------------------------------------------- seeds


def _time_arg(value, name):
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return parse_time(value)
    except ValueError:
        raise ValueError(f"{name} must be YYYY-MM-DDThh:mm:ssZ or epoch seconds")


def seed_directories(state, items):
    accounts = [str(spec.get("account_id") or DEFAULT_ACCOUNT_ID) for spec in items or ()]
    twice = sorted({a for a in accounts if accounts.count(a) > 1})
    if twice:  # checked before anything is added: a refused seed leaves no directory behind
        raise ValueError(f"two directories for account {twice[0]}. {ONE_DIRECTORY_RULE}")
    out = []
    for spec in items or ():
        did = spec.get("directory_id") or new_directory_id()
        if not DIRECTORY_ID_RE.match(did):
            raise ValueError(f"bad directory_id {did!r}: 'd-' + 12 lower-case letters or digits")
        if did in state.directories:
            raise ValueError(f"directory {did} already exists")
        sync = spec.get("scim_sync", "Enabled")
        if sync not in STATUSES:
            raise ValueError("scim_sync must be Enabled or Disabled")
        account = str(spec.get("account_id") or DEFAULT_ACCOUNT_ID)
        taken = next((x for x in state.directories.values() if x["account_id"] == account), None)
        if taken is not None:
            raise ValueError(f"account {account} already has directory {taken['directory_id']}. "
                             f"{ONE_DIRECTORY_RULE}")
        d = {
            "directory_id": did,
            "name": spec.get("name") or did,
            "region": spec.get("region") or state.default_region,
            "account_id": account,
            "scim_sync": sync,
            "create_time": int(_time_arg(spec.get("create_time"), "create_time") or state.now()),
        }
        state.directories[did] = d
        state.dirty = True
        out.append(dict(d))
    return out


def seed_credentials(state, items):
    out = []
    for spec in items or ():
        did = spec.get("directory_id")
        directory = state.directories.get(did)
        if directory is None:
            raise ValueError(f"credential for unknown directory {did!r}")
        status = spec.get("status", "Enabled")
        if status not in STATUSES:
            raise ValueError("status must be Enabled or Disabled")
        cid = spec.get("credential_id")
        if cid is not None and (not CREDENTIAL_ID_RE.match(cid) or cid in state.credentials
                                or cid in state.deleted_credentials):
            raise ValueError(f"bad or duplicate credential_id {cid!r}")
        try:
            cred, secret = create_credential(
                state, directory, create_time=_time_arg(spec.get("create_time"), "create_time"),
                secret=spec.get("secret"), status=status, credential_id=cid,
                expire_time=_time_arg(spec.get("expire_time"), "expire_time"))
        except ApiError as err:
            raise ValueError(err.message)
        view = {"credential_id": cred["credential_id"], "directory_id": did, "status": cred["status"],
                "create_time": fmt_time(cred["create_time"]), "expire_time": fmt_time(cred["expire_time"]),
                "secret": secret}
        out.append(view)
    return out


registry.register_seed("directories", seed_directories)
registry.register_seed("credentials", seed_credentials)
