"""The SCIM endpoint: which tokens it accepts, the resources it stores, and the usage events it records."""

import json
import urllib.parse

import pytest

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


def _seed_creds(world, *statuses, **kw):
    return world.control.seed({"credentials": [dict({"directory_id": world.directory_id, "status": s}, **kw)
                                               for s in statuses]})["credentials"]


def _events(world, name=None, region="cn-shanghai"):
    events = world.control.events(account_id=world.account_id, region=region, limit=1000)["events"]
    return [e for e in events if name is None or e["eventName"] == name]


def _find_cred_id(event):
    """Where is SCIMCredentialId? (a small version of what the collection must do)"""
    def walk(obj):
        if isinstance(obj, str):
            try:
                return walk(json.loads(obj)) if obj.startswith("{") else None
            except ValueError:
                return None
        if isinstance(obj, dict):
            for k, v in obj.items():
                if k.lower() == "scimcredentialid":
                    return v
                found = walk(v)
                if found:
                    return found
        if isinstance(obj, list):
            for v in obj:
                found = walk(v)
                if found:
                    return found
        return None
    return walk(event)


def test_enabled_token_accepted_and_recorded(world):
    cred = _seed_creds(world, "Enabled")[0]
    status, _, body = world.scim("/Users?count=1", cred["secret"], headers={"User-Agent": "Azure-AD-SCIM/1.0"})
    assert status == 200 and body["totalResults"] == 0 and body["schemas"] == [
        "urn:ietf:params:scim:api:messages:2.0:ListResponse"]
    ev = _events(world, "ListUsers")
    assert len(ev) == 1
    assert ev[0]["additionalEventData"] == {"SCIMCredentialId": cred["credential_id"]}
    assert ev[0]["userAgent"] == "Azure-AD-SCIM/1.0" and ev[0]["sourceIpAddress"] == "127.0.0.1"
    assert ev[0]["serviceName"] == "cloudsso" and "errorCode" not in ev[0]
    assert cred["secret"] not in json.dumps(ev)


@pytest.mark.parametrize("case", ["disabled", "deleted", "expired", "unknown", "missing", "basic"])
def test_rejected_tokens_get_401_with_scim_error(world, case):
    enabled, disabled = _seed_creds(world, "Enabled", "Disabled")
    token = {"disabled": disabled["secret"], "deleted": enabled["secret"], "expired": enabled["secret"],
             "unknown": "x" * 64, "missing": None, "basic": None}[case]
    headers = {}
    if case == "deleted":
        from alibabacloud_cloudsso20210515 import models as sso
        world.sso().delete_scimserver_credential(sso.DeleteSCIMServerCredentialRequest(
            directory_id=world.directory_id, credential_id=enabled["credential_id"]))
    if case == "expired":
        world.control.clock(advance_seconds=366 * 86400)
    if case == "basic":
        headers["Authorization"] = "Basic dXNlcjpwYXNz"
    status, rh, body = world.scim("/Users?count=1", token, headers=headers)
    assert status == 401
    assert body["schemas"] == [ERROR_SCHEMA] and body["status"] == "401" and body["detail"]
    assert "Bearer" in rh.get("WWW-Authenticate", "")
    rejected = _events(world, "ListUsers")
    if case in ("disabled", "deleted", "expired"):
        cid = disabled["credential_id"] if case == "disabled" else enabled["credential_id"]
        assert len(rejected) == 1 and rejected[0]["errorCode"] and _find_cred_id(rejected[0]) == cid
    else:
        assert rejected == []  # no known credential, nothing to attribute


def test_reenabled_token_works_again(world):
    cred = _seed_creds(world, "Disabled")[0]
    assert world.scim("/Users", cred["secret"])[0] == 401
    from alibabacloud_cloudsso20210515 import models as sso
    world.sso().update_scimserver_credential_status(sso.UpdateSCIMServerCredentialStatusRequest(
        directory_id=world.directory_id, credential_id=cred["credential_id"], new_status="Enabled"))
    assert world.scim("/Users", cred["secret"])[0] == 200


def test_wrong_region_rejected_and_sync_disabled_forbidden(world):
    cred = _seed_creds(world, "Enabled")[0]
    assert world.scim("/Users", cred["secret"], region="ap-southeast-1")[0] == 401
    assert world.scim("/Users", cred["secret"], region="cn-shanghai")[0] == 200
    from alibabacloud_cloudsso20210515 import models as sso
    world.sso().set_scimsynchronization_status(sso.SetSCIMSynchronizationStatusRequest(
        directory_id=world.directory_id, scimsynchronization_status="Disabled"))
    status, _, body = world.scim("/Users", cred["secret"])
    assert status == 403 and body["schemas"] == [ERROR_SCHEMA]


def test_discovery_needs_no_token(world):
    for path in ("/ServiceProviderConfig", "/ResourceTypes", "/Schemas"):
        status, _, body = world.scim(path)
        assert status == 200 and body
    assert _events(world) == []


@pytest.mark.parametrize("location", ["additionalEventData", "requestParameters", "userIdentity", "json_string"])
def test_scim_credential_id_location_setting(world, location):
    world.control.config(scim_event_location=location)
    cred = _seed_creds(world, "Enabled")[0]
    world.scim("/Users", cred["secret"])
    ev = _events(world, "ListUsers")[0]
    cid = cred["credential_id"]
    if location == "additionalEventData":
        assert ev["additionalEventData"]["SCIMCredentialId"] == cid
    elif location == "requestParameters":
        assert ev["requestParameters"]["SCIMCredentialId"] == cid and ev["additionalEventData"] == {}
    elif location == "userIdentity":
        assert ev["userIdentity"]["SCIMCredentialId"] == cid and ev["additionalEventData"] == {}
    else:
        assert isinstance(ev["additionalEventData"], str)
        assert json.loads(ev["additionalEventData"]) == {"SCIMCredentialId": cid}
    assert _find_cred_id(ev) == cid


def test_random_location_varies_but_always_findable(world):
    world.control.config(scim_event_location="random")
    cred = _seed_creds(world, "Enabled")[0]
    for _ in range(30):
        world.scim("/Users?count=1", cred["secret"])
    events = _events(world, "ListUsers")
    assert len(events) == 30 and all(_find_cred_id(e) == cred["credential_id"] for e in events)
    shapes = {("s" if isinstance(e["additionalEventData"], str) else "d" if e["additionalEventData"] else "-",
               "SCIMCredentialId" in e["requestParameters"], "SCIMCredentialId" in e["userIdentity"])
              for e in events}
    assert len(shapes) >= 3


def test_event_region_override_and_service_name(world):
    world.control.config(scim_event_region="cn-hangzhou", scim_event_service_name="CloudSSO")
    cred = _seed_creds(world, "Enabled")[0]
    world.scim("/Users", cred["secret"])
    assert _events(world, "ListUsers") == []
    moved = _events(world, "ListUsers", region="cn-hangzhou")
    assert len(moved) == 1 and moved[0]["serviceName"] == "CloudSSO" and moved[0]["acsRegion"] == "cn-hangzhou"


def test_rejected_calls_not_recorded_when_disabled_by_setting(world):
    world.control.config(record_rejected_scim_calls=False)
    cred = _seed_creds(world, "Disabled")[0]
    assert world.scim("/Users", cred["secret"])[0] == 401
    assert _events(world) == []


def test_users_and_groups_lifecycle(world):
    tok = _seed_creds(world, "Enabled")[0]["secret"]
    status, rh, alice = world.scim("/Users", tok, "POST", {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "alice@example.com",
        "externalId": "ext-1", "name": {"givenName": "Alice"}, "emails": [{"type": "work", "value": "a@x"}],
        "password": "never-returned"})
    assert status == 201 and alice["id"].startswith("u-") and rh["Location"].endswith(alice["id"])
    assert "password" not in alice and alice["active"] is True and alice["meta"]["resourceType"] == "User"
    assert world.scim("/Users", tok, "POST", {"userName": "ALICE@example.com"})[0] == 409
    assert world.scim("/Users", tok, "POST", {"displayName": "no user name"})[0] == 400
    _, _, bob = world.scim("/Users", tok, "POST", {"userName": "bob@example.com"})

    flt = urllib.parse.quote('userName eq "Alice@Example.com"')
    status, _, found = world.scim(f"/Users?filter={flt}", tok)
    assert status == 200 and [u["id"] for u in found["Resources"]] == [alice["id"]]
    assert world.scim("/Users?filter=" + urllib.parse.quote("userName co \"a\""), tok)[2]["scimType"] == "invalidFilter"
    page = world.scim("/Users?startIndex=2&count=1", tok)[2]
    assert page["totalResults"] == 2 and page["startIndex"] == 2 and [u["id"] for u in page["Resources"]] == [bob["id"]]
    assert world.scim("/Users?count=500", tok)[2]["itemsPerPage"] == 2

    status, _, patched = world.scim(f"/Users/{alice['id']}", tok, "PATCH", {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "Replace", "path": "active", "value": "False"},
                       {"op": "replace", "path": 'emails[type eq "work"].value', "value": "alice@new"},
                       {"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
                        "value": "Ops"}]})
    assert status == 200 and patched["active"] is False and patched["emails"][0]["value"] == "alice@new"
    assert patched["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"] == "Ops"

    status, _, group = world.scim("/Groups", tok, "POST",
                                  {"displayName": "admins", "members": [{"value": alice["id"]}]})
    assert status == 201 and group["members"][0]["value"] == alice["id"]
    assert world.scim("/Groups", tok, "POST", {"displayName": "x", "members": [{"value": "u-nobody"}]})[0] == 400
    status, _, group = world.scim(f"/Groups/{group['id']}", tok, "PATCH", {
        "Operations": [{"op": "Add", "path": "members", "value": [{"value": bob["id"]}]},
                       {"op": "Remove", "path": f'members[value eq "{alice["id"]}"]'}]})
    assert [m["value"] for m in group["members"]] == [bob["id"]]
    status, _, replaced = world.scim(f"/Users/{bob['id']}", tok, "PUT", {"userName": "robert@example.com"})
    assert status == 200 and replaced["userName"] == "robert@example.com" and replaced["id"] == bob["id"]
    assert world.scim(f"/Users/{bob['id']}", tok, "DELETE")[0] == 204
    assert world.scim(f"/Users/{bob['id']}", tok)[0] == 404
    assert world.scim(f"/Groups/{group['id']}", tok)[2]["members"] == []
    assert world.scim("/Me", tok)[0] == 501
    names = [e["eventName"] for e in _events(world)]
    for op in ("CreateUser", "ListUsers", "PatchUser", "CreateGroup", "PatchGroup", "UpdateUser", "DeleteUser",
               "GetUser", "GetGroup"):
        assert op in names
    failed = [e for e in _events(world, "GetUser") if e.get("errorCode")]
    assert failed and failed[0]["errorCode"] == "ResourceNotFound"


def test_directories_are_isolated(world):
    other = world.control.seed({"directories": [{"account_id": "8888888888888888"}]})["directories"][0]["directory_id"]
    mine = _seed_creds(world, "Enabled")[0]["secret"]
    theirs = world.control.seed({"credentials": [{"directory_id": other}]})["credentials"][0]["secret"]
    world.scim("/Users", mine, "POST", {"userName": "only-here"})
    assert world.scim("/Users", theirs)[2]["totalResults"] == 0
    assert world.scim("/Users", mine)[2]["totalResults"] == 1
