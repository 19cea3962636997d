"""The official Alibaba Cloud SDK calls the emulator for every action and parses every answer, errors
included. If the emulator's wire format drifted from the real API's, these clients would fail."""

import json

import pytest
from alibabacloud_actiontrail20200706 import models as at
from alibabacloud_cloudsso20210515 import models as sso
from alibabacloud_sts20150401 import models as sts
from alibabacloud_tea_openapi.exceptions import ClientException, ThrottlingException

from tests.helpers.emulator import make_access_key


def _sdk_error(fn, *args):
    with pytest.raises((ClientException, ThrottlingException)) as info:
        fn(*args)
    return info.value


def test_all_cloudsso_actions_parse(world):
    c = world.sso()
    did = world.directory_id
    created = c.create_scimserver_credential(sso.CreateSCIMServerCredentialRequest(directory_id=did)).body
    cred = created.scimserver_credential
    assert created.request_id
    assert cred.credential_id.startswith("scimcred-") and len(cred.credential_id) == 29
    assert cred.credential_type == "BearerToken" and cred.status == "Enabled"
    assert cred.directory_id == did and len(cred.credential_secret) >= 40
    assert int(cred.expire_time[:4]) == int(cred.create_time[:4]) + 1 and cred.expire_time[4:] == cred.create_time[4:]

    listed = c.list_scimserver_credentials(sso.ListSCIMServerCredentialsRequest(directory_id=did)).body
    assert listed.total_counts == 1
    assert listed.scimserver_credentials[0].credential_id == cred.credential_id
    assert listed.scimserver_credentials[0].to_map().get("CredentialSecret") is None

    updated = c.update_scimserver_credential_status(sso.UpdateSCIMServerCredentialStatusRequest(
        directory_id=did, credential_id=cred.credential_id, new_status="Disabled")).body
    assert updated.scimserver_credential.status == "Disabled"

    sync = c.get_scimsynchronization_status(sso.GetSCIMSynchronizationStatusRequest(directory_id=did)).body
    assert sync.scimsynchronization_status == "Enabled"
    c.set_scimsynchronization_status(sso.SetSCIMSynchronizationStatusRequest(
        directory_id=did, scimsynchronization_status="Disabled"))
    assert c.get_scimsynchronization_status(sso.GetSCIMSynchronizationStatusRequest(
        directory_id=did)).body.scimsynchronization_status == "Disabled"

    stats = c.get_directory_statistics(sso.GetDirectoryStatisticsRequest(directory_id=did)).body.directory_statistics
    assert stats.scimserver_credential_count == 1 and stats.scimsync_enabled is False
    assert stats.directory_id == did and stats.region == "cn-shanghai"

    deleted = c.delete_scimserver_credential(sso.DeleteSCIMServerCredentialRequest(
        directory_id=did, credential_id=cred.credential_id)).body
    assert deleted.request_id
    assert c.list_scimserver_credentials(sso.ListSCIMServerCredentialsRequest(directory_id=did)).body.total_counts == 0
    counts = world.control.calls()["counts"]
    for action in ("CreateSCIMServerCredential", "ListSCIMServerCredentials", "UpdateSCIMServerCredentialStatus",
                   "GetSCIMSynchronizationStatus", "SetSCIMSynchronizationStatus", "GetDirectoryStatistics",
                   "DeleteSCIMServerCredential"):
        assert counts[f"cloudsso:{action}"] >= 1


def test_lookup_events_with_paging(world):
    world.control.generate_events(count=0, ram_list_users=7, account_id=world.account_id, region="cn-shanghai",
                                  days=1)
    client = world.trail()
    attr = at.LookupEventsRequestLookupAttribute(key="ServiceName", value="Ram")
    seen, token, pages = [], None, 0
    while True:
        body = client.lookup_events(at.LookupEventsRequest(max_results="3", lookup_attribute=[attr],
                                                           next_token=token)).body
        pages += 1
        assert body.start_time and body.end_time and body.request_id
        seen.extend(e["eventId"] for e in body.events)
        assert all(e["serviceName"] == "Ram" for e in body.events)
        token = body.next_token
        if not token:
            break
    assert pages == 3 and len(seen) == 7 == len(set(seen))


def test_sts_assume_role_get_caller_identity_and_sts_token_through_cloudsso(world):
    seeded = world.control.seed({"roles": [{"name": "Rotator", "account_id": world.account_id,
                                            "permissions": ["cloudsso:List*"]}]})
    arn = seeded["roles"][0]["arn"]
    client = world.sts()
    me = client.get_caller_identity().body
    assert me.account_id == world.account_id and me.identity_type == "RAMUser"
    body = client.assume_role(sts.AssumeRoleRequest(role_arn=arn, role_session_name="rotation",
                                                    duration_seconds=1800)).body
    creds = body.credentials
    assert creds.access_key_id.startswith("STS.") and creds.security_token and creds.expiration.endswith("Z")
    assert body.assumed_role_user.arn.endswith(":role/rotator/rotation")
    assert body.assumed_role_user.assumed_role_id.endswith(":rotation")
    via_sts = world.sso(creds.access_key_id, creds.access_key_secret, creds.security_token)
    listed = via_sts.list_scimserver_credentials(sso.ListSCIMServerCredentialsRequest(directory_id=world.directory_id))
    assert listed.body.total_counts == 0
    who = world.sts(creds.access_key_id, creds.access_key_secret, creds.security_token).get_caller_identity().body
    assert who.identity_type == "AssumedRoleUser" and who.arn.endswith("assumed-role/Rotator/rotation")
    # the role may list but not create: its permissions travel with the STS credentials
    err = _sdk_error(via_sts.create_scimserver_credential,
                     sso.CreateSCIMServerCredentialRequest(directory_id=world.directory_id))
    assert err.code == "Forbidden.RAM" and err.status_code == 403
    assert "cloudsso:CreateSCIMServerCredential" in err.message


def test_v2_signing_through_the_sdk(world):
    seeded = world.control.seed({"roles": [{"name": "V2Role", "account_id": world.account_id,
                                            "permissions": ["*"]}]})
    v2 = world.sts(signature_algorithm="v2")
    body = v2.assume_role(sts.AssumeRoleRequest(role_arn=seeded["roles"][0]["arn"], role_session_name="v2")).body
    assert body.credentials.access_key_id.startswith("STS.")
    c = world.sso(body.credentials.access_key_id, body.credentials.access_key_secret,
                  body.credentials.security_token, signature_algorithm="v2")
    assert c.list_scimserver_credentials(sso.ListSCIMServerCredentialsRequest(
        directory_id=world.directory_id)).body.total_counts == 0
    bad = world.sso(world.ak["id"], "not-the-secret", signature_algorithm="v2")
    err = _sdk_error(bad.list_scimserver_credentials,
                     sso.ListSCIMServerCredentialsRequest(directory_id=world.directory_id))
    assert err.code == "SignatureDoesNotMatch" and err.status_code == 400


def test_assume_role_with_oidc_unsigned(world):
    provider = f"acs:ram::{world.account_id}:oidc-provider/ack-rrsa"
    world.control.seed({"roles": [{"name": "OidcRole", "account_id": world.account_id, "permissions": ["cloudsso:*"],
                                   "oidc": {"provider_arn": provider, "token": "static-oidc-token"}}]})
    from alibabacloud_sts20150401.client import Client
    from alibabacloud_tea_openapi.models import Config

    anon = Client(Config(endpoint=world.host, protocol="http"))
    req = sts.AssumeRoleWithOIDCRequest(role_arn=f"acs:ram::{world.account_id}:role/OidcRole",
                                        oidcprovider_arn=provider, oidctoken="static-oidc-token",
                                        role_session_name="pod")
    body = anon.assume_role_with_oidc(req).body
    assert body.credentials.access_key_id.startswith("STS.")
    assert body.oidctoken_info.verification_info == "Success"
    req.oidctoken = "forged"
    err = _sdk_error(anon.assume_role_with_oidc, req)
    assert err.status_code == 401 and err.code.startswith("AuthenticationFail.OIDCToken")


def test_errors_parse_with_code_and_status(world):
    did = world.directory_id
    req = sso.ListSCIMServerCredentialsRequest(directory_id=did)

    err = _sdk_error(world.sso(world.ak["id"], "wrong").list_scimserver_credentials, req)
    assert (err.code, err.status_code) == ("SignatureDoesNotMatch", 400)

    err = _sdk_error(world.sso("TESTNOSUCHKEY0000000000", "x").list_scimserver_credentials, req)
    assert (err.code, err.status_code) == ("InvalidAccessKeyId.NotFound", 404)

    arn = world.control.seed({"roles": [{"name": "R", "account_id": world.account_id,
                                         "permissions": ["*"]}]})["roles"][0]["arn"]
    creds = world.sts().assume_role(sts.AssumeRoleRequest(role_arn=arn, role_session_name="s1")).body.credentials
    err = _sdk_error(world.sso(creds.access_key_id, creds.access_key_secret).list_scimserver_credentials, req)
    assert (err.code, err.status_code) == ("MissingSecurityToken", 400)

    world.control.clock(advance_seconds=3601)
    err = _sdk_error(world.sso(creds.access_key_id, creds.access_key_secret,
                               creds.security_token).list_scimserver_credentials, req)
    assert (err.code, err.status_code) == ("InvalidSecurityToken.Expired", 400)

    weak = make_access_key(account_id=world.account_id, permissions=["actiontrail:LookupEvents"])
    world.control.seed({"access_keys": [weak]})
    err = _sdk_error(world.sso(weak).list_scimserver_credentials, req)
    assert (err.code, err.status_code) == ("Forbidden.RAM", 403)
    assert "cloudsso:ListSCIMServerCredentials" in err.message
    assert err.access_denied_detail["AuthAction"] == "cloudsso:ListSCIMServerCredentials"

    err = _sdk_error(world.sso().list_scimserver_credentials,
                     sso.ListSCIMServerCredentialsRequest(directory_id="d-zzzzzzzzzzzz"))
    assert (err.code, err.status_code) == ("EntityNotExists.Directory", 404)
    err = _sdk_error(world.sso().update_scimserver_credential_status, sso.UpdateSCIMServerCredentialStatusRequest(
        directory_id=did, credential_id="scimcred-" + "0" * 20, new_status="Disabled"))
    assert (err.code, err.status_code) == ("EntityNotExists.SCIMCredential", 404)

    c = world.sso()
    for _ in range(2):
        c.create_scimserver_credential(sso.CreateSCIMServerCredentialRequest(directory_id=did))
    err = _sdk_error(c.create_scimserver_credential, sso.CreateSCIMServerCredentialRequest(directory_id=did))
    assert (err.code, err.status_code) == ("LimitExceeded.SCIMCredential", 400)

    world.control.config(actiontrail_rate_per_second=2)
    trail = world.trail()
    codes = []
    for _ in range(4):
        try:
            trail.lookup_events(at.LookupEventsRequest())
            codes.append("ok")
        except ClientException as exc:
            codes.append((exc.code, exc.status_code))
    assert codes[:2] == ["ok", "ok"] and ("Throttling.User", 400) in codes[2:]


def test_region_prefix_in_sdk_endpoint(world):
    """The SDK accepts 'host:port/region/<id>' as endpoint; the region then selects the directory's region."""
    owner = make_access_key(account_id="8888888888888888")
    other = world.control.seed({"access_keys": [owner],
                                "directories": [{"region": "ap-southeast-1", "account_id": owner["account_id"]}]})
    did = other["directories"][0]["directory_id"]
    sg = world.sso(owner, endpoint=world.host + "/region/ap-southeast-1")
    assert sg.list_scimserver_credentials(sso.ListSCIMServerCredentialsRequest(directory_id=did)).body.total_counts == 0
    err = _sdk_error(world.sso(owner).list_scimserver_credentials,
                     sso.ListSCIMServerCredentialsRequest(directory_id=did))
    assert err.code == "EntityNotExists.Directory"


def test_error_fault_with_retry_after_reaches_the_sdk_as_throttling(world):
    world.control.add_fault(match={"product": "cloudsso", "action": "ListSCIMServerCredentials"}, kind="error",
                            status=400, code="Throttling.User", message="Request was denied due to user flow control.",
                            retry_after=1500)
    err = _sdk_error(world.sso().list_scimserver_credentials,
                     sso.ListSCIMServerCredentialsRequest(directory_id=world.directory_id))
    assert isinstance(err, ThrottlingException)
    assert err.code == "Throttling.User" and err.retry_after == 1500
    world.control.add_fault(match="cloudsso:ListSCIMServerCredentials", kind="error", status=503,
                            code="ServiceUnavailable")
    from alibabacloud_tea_openapi.exceptions import ServerException

    with pytest.raises(ServerException) as info:
        world.sso().list_scimserver_credentials(sso.ListSCIMServerCredentialsRequest(directory_id=world.directory_id))
    assert info.value.code == "ServiceUnavailable" and info.value.status_code == 503


# ---------------------------------------------------------------- field by field: raw answers vs SDK models
# Every CloudSSO and ActionTrail action the collection calls, made with the collection's own client and its
# own parameters (the raw JSON it reads), then handed to the official SDK's response model: a field the model
# does not know is one the real API does not send (the emulator invented it), a field the model reshapes is
# one whose type differs. The same call through the SDK client must return what the raw call returned.

def _collection_client(world, product):
    from ansible_collections.alicloud.cloudsso.plugins.module_utils.client import RpcClient
    from ansible_collections.alicloud.cloudsso.plugins.module_utils.credentials import Credential, StaticProvider

    return RpcClient(product, "cn-shanghai", endpoint_url=world.emu.url + "/region/cn-shanghai",
                     credentials=StaticProvider(Credential(world.ak["id"], world.ak["secret"])),
                     sleep=lambda seconds: None)


def field_differences(raw, kept, path="body"):
    """Where `kept` (the SDK model's to_map() of `raw`) differs from `raw`: fields dropped, added or changed."""
    if isinstance(raw, dict) and isinstance(kept, dict):
        out = ["%s.%s: not in the SDK model" % (path, k) for k in sorted(set(raw) - set(kept))]
        out += ["%s.%s: added by the SDK model" % (path, k) for k in sorted(set(kept) - set(raw))]
        for key in sorted(set(raw) & set(kept)):
            out += field_differences(raw[key], kept[key], "%s.%s" % (path, key))
        return out
    if isinstance(raw, list) and isinstance(kept, list) and len(raw) == len(kept):
        return [d for n, (r, k) in enumerate(zip(raw, kept))
                for d in field_differences(r, k, "%s[%d]" % (path, n))]
    if type(raw) is not type(kept) or raw != kept:
        return ["%s: %r in the answer, %r in the SDK model" % (path, raw, kept)]
    return []


def assert_kept_whole(raw, model_class, sdk_body=None):
    kept = model_class().from_map(raw).to_map()
    assert field_differences(raw, kept) == []
    if sdk_body is not None:  # the SDK client's own call: the same fields (but its own RequestId)
        theirs = dict(sdk_body.to_map(), RequestId=raw["RequestId"])
        assert field_differences(raw, theirs) == []


def test_field_differences_can_fail():
    assert field_differences({"A": 1, "B": {"C": "x"}}, {"A": "1", "B": {}, "D": 2}) == [
        "body.D: added by the SDK model", "body.A: 1 in the answer, '1' in the SDK model",
        "body.B.C: not in the SDK model"]
    with pytest.raises(AssertionError):
        assert_kept_whole({"RequestId": "R", "TotalCounts": 0, "Invented": True},
                          sso.ListSCIMServerCredentialsResponseBody)


def test_every_cloudsso_action_the_collection_calls_keeps_every_field_in_the_sdk_model(world):
    from ansible_collections.alicloud.cloudsso.plugins.module_utils.cloudsso import CloudSSO

    did = world.directory_id
    ours = CloudSSO(_collection_client(world, "cloudsso"))
    raw_client, sdk = ours.client, world.sso()

    created = raw_client.call("CreateSCIMServerCredential", {"DirectoryId": did}, idempotent=False)
    assert set(created["SCIMServerCredential"]) == {"CredentialId", "CredentialType", "Status", "CreateTime",
                                                    "ExpireTime", "DirectoryId", "CredentialSecret"}
    assert_kept_whole(created, sso.CreateSCIMServerCredentialResponseBody)
    cid = created["SCIMServerCredential"]["CredentialId"]
    sdk_created = sdk.create_scimserver_credential(sso.CreateSCIMServerCredentialRequest(directory_id=did)).body

    listed = raw_client.call("ListSCIMServerCredentials", {"DirectoryId": did})
    assert listed["TotalCounts"] == 2 and "CredentialSecret" not in json.dumps(listed)
    assert_kept_whole(listed, sso.ListSCIMServerCredentialsResponseBody,
                      sdk.list_scimserver_credentials(sso.ListSCIMServerCredentialsRequest(directory_id=did)).body)

    updated = raw_client.call("UpdateSCIMServerCredentialStatus",
                              {"DirectoryId": did, "CredentialId": cid, "NewStatus": "Disabled"})
    assert updated["SCIMServerCredential"]["Status"] == "Disabled"
    assert_kept_whole(updated, sso.UpdateSCIMServerCredentialStatusResponseBody,
                      sdk.update_scimserver_credential_status(sso.UpdateSCIMServerCredentialStatusRequest(
                          directory_id=did, credential_id=cid, new_status="Disabled")).body)

    status = raw_client.call("GetSCIMSynchronizationStatus", {"DirectoryId": did})
    assert status["SCIMSynchronizationStatus"] == "Enabled"
    assert_kept_whole(status, sso.GetSCIMSynchronizationStatusResponseBody, sdk.get_scimsynchronization_status(
        sso.GetSCIMSynchronizationStatusRequest(directory_id=did)).body)

    deleted = raw_client.call("DeleteSCIMServerCredential", {"DirectoryId": did, "CredentialId": cid})
    assert_kept_whole(deleted, sso.DeleteSCIMServerCredentialResponseBody,
                      sdk.delete_scimserver_credential(sso.DeleteSCIMServerCredentialRequest(
                          directory_id=did, credential_id=sdk_created.scimserver_credential.credential_id)).body)
    # The collection's own reading of the same answers.
    assert ours.list_credentials(did) == []


def test_the_collections_lookup_events_query_keeps_every_field_in_the_sdk_model(world):
    """The collection's query (EventName AND ServiceName, MaxResults 50, 30-day pieces of a 90-day window) is
    accepted, its raw pages are what the SDK model keeps, and the SDK client asking the same gets the same events."""
    from datetime import timedelta

    from ansible_collections.alicloud.cloudsso.plugins.module_utils import actiontrail as scan_utils
    from ansible_collections.alicloud.cloudsso.plugins.module_utils.pacing import Pacer

    secret = world.control.seed({"credentials": [{"directory_id": world.directory_id}]})["credentials"][0]
    world.control.generate_events(count=70, days=80, credential_ids=[secret["credential_id"]], noise_ratio=0.3,
                                  directory_id=world.directory_id, seed=11)
    trail = _collection_client(world, "actiontrail")
    raw_pages = []
    real_call = trail.call

    def recording_call(action, params=None, **kwargs):
        raw_pages.append((dict(params), real_call(action, params, **kwargs)))
        return raw_pages[-1][1]

    trail.call = recording_call
    now = scan_utils.parse_time(world.control.clock()["now"])
    virtual = [0.0]  # the pacer's bookkeeping on a clock its sleeps move: no waiting (rate limit is off here)
    pacer = Pacer(2, clock=lambda: virtual[0], sleep=lambda s: virtual.__setitem__(0, virtual[0] + s))
    result = scan_utils.UsageScan(trail, [secret["credential_id"]], now - timedelta(days=89), now, pacer=pacer,
                                  now=lambda: now).run().result()
    assert result["used"] == [secret["credential_id"]] and result["service_name"] == "cloudsso"
    assert len(result["windows"]) == 3 and result["complete"] and len(raw_pages) == result["pages"]
    sdk = world.trail()
    for params, raw in raw_pages:
        assert (params["LookupAttribute.1.Key"], params["LookupAttribute.2.Key"]) == ("EventName", "ServiceName")
        assert_kept_whole(raw, at.LookupEventsResponseBody)
        request = at.LookupEventsRequest(
            start_time=params["StartTime"], end_time=params["EndTime"], max_results=params["MaxResults"],
            next_token=params.get("NextToken"), lookup_attribute=[
                at.LookupEventsRequestLookupAttribute(key=params["LookupAttribute.%d.Key" % n],
                                                             value=params["LookupAttribute.%d.Value" % n])
                for n in (1, 2)])
        theirs = sdk.lookup_events(request).body
        assert [e["eventId"] for e in theirs.events] == [e["eventId"] for e in raw["Events"]]
        assert theirs.next_token == raw.get("NextToken")
    # The limits the pieces respect: one query over 30 days, or starting beyond the 90 days, is refused.
    for start_days, end_days in ((31, 0), (91, 80)):
        err = _sdk_error(sdk.lookup_events, at.LookupEventsRequest(
            start_time=scan_utils.format_time(now - timedelta(days=start_days)),
            end_time=scan_utils.format_time(now - timedelta(days=end_days))))
        assert (err.code, err.status_code) == ("InvalidParameter", 400)
