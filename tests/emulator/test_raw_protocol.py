"""Wire-level checks the SDK never triggers: unsigned headers, body hash, replay, timestamps, routing.
Requests are signed with the official SDK's signer (the oracle), sent with http.client."""

import hashlib
import http.client
import json
import time
import urllib.parse
import uuid

import pytest
from alibabacloud_tea_openapi.utils import Utils

EMPTY = hashlib.sha256(b"").hexdigest()


class _Req:
    pass


def _now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def send_v3(world, action="ListSCIMServerCredentials", version="2021-05-15", query=None, body=b"", path="/",
            extra_headers=None, unsigned_headers=None, date=None, nonce=None, secret=None, hashed=None,
            drop_headers=(), token=None, ak=None):
    host = world.host
    headers = {"host": host, "x-acs-action": action, "x-acs-version": version,
               "x-acs-date": date or _now(), "x-acs-signature-nonce": nonce or uuid.uuid4().hex,
               "x-acs-content-sha256": hashed or hashlib.sha256(body).hexdigest()}
    if body:
        headers["content-type"] = "application/x-www-form-urlencoded"
    if token:
        headers["x-acs-security-token"] = token
    headers.update(extra_headers or {})
    for h in drop_headers:
        headers.pop(h, None)
    r = _Req()
    r.pathname, r.method, r.query, r.headers = path, "POST", dict(query or {}), dict(headers)
    headers["Authorization"] = Utils.get_authorization(r, "ACS3-HMAC-SHA256", headers.get("x-acs-content-sha256",
                                                                                             EMPTY),
                                                       ak or world.ak["id"], secret or world.ak["secret"])
    headers.update(unsigned_headers or {})
    qs = urllib.parse.urlencode(query or {}, quote_via=urllib.parse.quote)
    return _post(world, path + ("?" + qs if qs else ""), headers, body)


def _post(world, target, headers, body=b"", method="POST"):
    conn = http.client.HTTPConnection(world.host, timeout=10)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null")
    finally:
        conn.close()


def send_v2(world, params, method="GET", secret=None, sign=True):
    p = {"Format": "JSON", "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0",
         "SignatureNonce": uuid.uuid4().hex, "Timestamp": _now(), "AccessKeyId": world.ak["id"]}
    p.update(params)
    p = {k: v for k, v in p.items() if v is not None}
    if sign:
        p["Signature"] = Utils.get_rpcsignature(p, method, secret or world.ak["secret"])
    qs = urllib.parse.urlencode(p, quote_via=urllib.parse.quote)
    return _post(world, "/?" + qs, {"host": world.host}, method=method)


def test_raw_v3_baseline_and_form_body(world):
    status, body = send_v3(world, query={"DirectoryId": world.directory_id})
    assert status == 200 and body["TotalCounts"] == 0
    form = urllib.parse.urlencode({"DirectoryId": world.directory_id}).encode()
    status, body = send_v3(world, body=form)
    assert status == 200 and body["TotalCounts"] == 0


def test_every_x_acs_header_must_be_signed(world):
    status, body = send_v3(world, query={"DirectoryId": world.directory_id},
                           unsigned_headers={"x-acs-extra": "1"})
    assert (status, body["Code"]) == (400, "IncompleteSignature")
    assert "x-acs-extra" in body["Message"]
    assert set(body) >= {"RequestId", "HostId", "Code", "Message", "Recommend"}


def test_body_must_match_content_sha256(world):
    form = urllib.parse.urlencode({"DirectoryId": world.directory_id}).encode()
    status, body = send_v3(world, body=form, hashed=EMPTY)
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")


def test_replayed_nonce_rejected(world):
    nonce = uuid.uuid4().hex
    assert send_v3(world, query={"DirectoryId": world.directory_id}, nonce=nonce)[0] == 200
    status, body = send_v3(world, query={"DirectoryId": world.directory_id}, nonce=nonce)
    assert (status, body["Code"]) == (400, "SignatureNonceUsed")


@pytest.mark.parametrize("date,code", [
    ("2020-01-01T00:00:00Z", "InvalidTimeStamp.Expired"),
    ("yesterday", "InvalidTimeStamp.Format"),
])
def test_timestamps(world, date, code):
    status, body = send_v3(world, query={"DirectoryId": world.directory_id}, date=date)
    assert (status, body["Code"]) == (400, code)


def test_timestamp_checked_on_real_time_even_when_clock_moved(world):
    world.control.clock(advance_seconds=400 * 86400)
    assert send_v3(world, query={"DirectoryId": world.directory_id})[0] == 200


def test_missing_signing_header(world):
    status, body = send_v3(world, query={"DirectoryId": world.directory_id}, drop_headers=("x-acs-date",))
    assert (status, body["Code"]) == (400, "MissingParameter")


def test_routing_errors(world):
    status, body = send_v3(world, action="NoSuchAction")
    assert (status, body["Code"]) == (404, "InvalidAction.NotFound")
    status, body = send_v3(world, action="LookupEvents", version="1999-01-01")
    assert (status, body["Code"]) == (400, "InvalidVersion")
    status, body = _post(world, "/", {"host": world.host})
    assert (status, body["Code"]) == (400, "MissingParameter")


def test_unsigned_calls_rejected_except_oidc(world):
    status, body = _post(world, "/?Action=ListSCIMServerCredentials&Version=2021-05-15&DirectoryId=" +
                         world.directory_id, {"host": world.host})
    assert (status, body["Code"]) == (400, "MissingParameter") and "AccessKeyId" in body["Message"]


def test_signature_over_path_as_received_with_region_prefix(world):
    status, body = send_v3(world, path="/region/cn-shanghai/", query={"DirectoryId": world.directory_id})
    assert status == 200
    status, body = send_v3(world, path="/region/cn-shanghai", query={"DirectoryId": world.directory_id})
    assert status == 200


def test_v2_get_like_the_credentials_library(world):
    arn = world.control.seed({"roles": [{"name": "V2", "account_id": world.account_id,
                                         "permissions": ["*"]}]})["roles"][0]["arn"]
    status, body = send_v2(world, {"Action": "AssumeRole", "Version": "2015-04-01", "RoleArn": arn,
                                   "RoleSessionName": "lib", "DurationSeconds": "3600"})
    assert status == 200 and body["Credentials"]["AccessKeyId"].startswith("STS.")
    status, body = send_v2(world, {"Action": "AssumeRole", "Version": "2015-04-01", "RoleArn": arn,
                                   "RoleSessionName": "lib"}, secret="wrong")
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")
    status, body = send_v2(world, {"Action": "GetCallerIdentity", "Version": "2015-04-01",
                                   "SignatureNonce": None})
    assert (status, body["Code"]) == (400, "MissingParameter") and "SignatureNonce" in body["Message"]
    status, body = send_v2(world, {"Action": "GetCallerIdentity", "Version": "2015-04-01",
                                   "Timestamp": "2021-01-01T00:00:00Z"})
    assert (status, body["Code"]) == (400, "InvalidTimeStamp.Expired")


def test_v2_with_security_token_parameter(world):
    arn = world.control.seed({"roles": [{"name": "V2b", "account_id": world.account_id,
                                         "permissions": ["*"]}]})["roles"][0]["arn"]
    creds = send_v2(world, {"Action": "AssumeRole", "Version": "2015-04-01", "RoleArn": arn,
                            "RoleSessionName": "lib"})[1]["Credentials"]
    params = {"Action": "GetCallerIdentity", "Version": "2015-04-01", "AccessKeyId": creds["AccessKeyId"],
              "SecurityToken": creds["SecurityToken"]}
    status, body = send_v2(world, params, secret=creds["AccessKeySecret"])
    assert status == 200 and body["IdentityType"] == "AssumedRoleUser"
    params.pop("SecurityToken")
    status, body = send_v2(world, params, secret=creds["AccessKeySecret"])
    assert (status, body["Code"]) == (400, "MissingSecurityToken")


def test_v3_security_token_must_match(world):
    arn = world.control.seed({"roles": [{"name": "V3", "account_id": world.account_id,
                                         "permissions": ["*"]}]})["roles"][0]["arn"]
    creds = send_v2(world, {"Action": "AssumeRole", "Version": "2015-04-01", "RoleArn": arn,
                            "RoleSessionName": "lib"})[1]["Credentials"]
    status, body = send_v3(world, action="GetCallerIdentity", version="2015-04-01", ak=creds["AccessKeyId"],
                           secret=creds["AccessKeySecret"], token=creds["SecurityToken"])
    assert status == 200 and body["IdentityType"] == "AssumedRoleUser"
    status, body = send_v3(world, action="GetCallerIdentity", version="2015-04-01", ak=creds["AccessKeyId"],
                           secret=creds["AccessKeySecret"])
    assert (status, body["Code"]) == (400, "MissingSecurityToken")
