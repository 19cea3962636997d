"""The emulator's own signature code against the official vectors (docs/dev/api-facts.md section 4) and against the
official SDK's signer as an oracle on varied inputs."""

import hashlib
import random
import string

import pytest

from emulator import auth

EMPTY = hashlib.sha256(b"").hexdigest()


def test_v3_official_vector():
    headers = {
        "host": ["ecs.cn-shanghai.aliyuncs.com"],
        "x-acs-action": ["RunInstances"],
        "x-acs-version": ["2014-05-26"],
        "x-acs-date": ["2023-10-26T10:22:32Z"],
        "x-acs-signature-nonce": ["3156853299f313e23d1673dc12e1703d"],
        "x-acs-content-sha256": [EMPTY],
    }
    query = [("ImageId", "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd"), ("RegionId", "cn-shanghai")]
    canonical = auth.v3_canonical_request("POST", "/", query, headers, list(headers), EMPTY)
    assert hashlib.sha256(canonical.encode()).hexdigest() == \
        "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
    signature = auth.v3_signature("YourAccessKeySecret", auth.v3_string_to_sign(canonical))
    assert signature == "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"


def test_v3_wrong_secret_or_changed_query_changes_signature():
    headers = {"host": ["h"], "x-acs-action": ["A"]}
    base = auth.v3_canonical_request("POST", "/", [("a", "1")], headers, ["host", "x-acs-action"], EMPTY)
    sig = auth.v3_signature("s", auth.v3_string_to_sign(base))
    assert auth.v3_signature("t", auth.v3_string_to_sign(base)) != sig
    changed = auth.v3_canonical_request("POST", "/", [("a", "2")], headers, ["host", "x-acs-action"], EMPTY)
    assert auth.v3_signature("s", auth.v3_string_to_sign(changed)) != sig


def test_v2_official_vector():
    params = {
        "AccessKeyId": "testid", "Action": "DescribeDedicatedHosts", "Format": "JSON", "RegionId": "cn-beijing",
        "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "edb2b34af0af9a6d14deaf7c1a5315eb",
        "SignatureVersion": "1.0", "Timestamp": "2023-03-13T08:34:30Z", "Version": "2014-05-26",
    }
    assert auth.v2_signature("testsecret", auth.v2_string_to_sign("GET", params)) == "9NaGiOspFP5UPcwX8Iwt2YJXXuk="
    # the Signature parameter itself is never part of the string to sign
    with_sig = dict(params, Signature="whatever")
    assert auth.v2_string_to_sign("GET", with_sig) == auth.v2_string_to_sign("GET", params)


def test_percent_encoding_rules():
    assert auth.percent_encode("a b*c/d:e~f") == "a%20b%2Ac%2Fd%3Ae~f"
    assert auth.v3_canonical_query([("b", "2"), ("a", "x y"), ("c", "")]) == "a=x%20y&b=2&c="


def test_parse_authorization_header():
    alg, fields = auth.parse_v3_authorization(
        "ACS3-HMAC-SHA256 Credential=AK1,SignedHeaders=host;x-acs-action,Signature=abcd")
    assert alg == "ACS3-HMAC-SHA256"
    assert fields == {"Credential": "AK1", "SignedHeaders": "host;x-acs-action", "Signature": "abcd"}
    with pytest.raises(ValueError):
        auth.parse_v3_authorization("ACS3-HMAC-SHA256 Credential=AK1,Signature=abcd")


def _random_text(rnd):
    alphabet = string.ascii_letters + string.digits + " -_.~*/:+=&%中"
    return "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 12)))


def test_v3_matches_sdk_oracle_on_random_requests():
    from alibabacloud_tea_openapi.utils import Utils

    class Req:
        pass

    rnd = random.Random(7)
    for _ in range(50):
        # parameter names are plain (the SDK leaves names unencoded, the spec encodes them: same result)
        query = {f"K{i}.{rnd.choice(string.ascii_letters)}": _random_text(rnd) for i in range(rnd.randint(0, 5))}
        headers = {"host": "h.example:8080", "x-acs-action": "Act", "x-acs-version": "2021-05-15",
                   "x-acs-date": "2024-01-01T00:00:00Z", "x-acs-signature-nonce": _random_text(rnd) or "n",
                   "user-agent": " UA/1 " + _random_text(rnd), "x-acs-content-sha256": EMPTY}
        r = Req()
        r.pathname, r.method, r.query, r.headers = "/", "POST", dict(query), dict(headers)
        expected = Utils.get_authorization(r, "ACS3-HMAC-SHA256", EMPTY, "AK", "secret")
        ours_canonical = auth.v3_canonical_request(
            "POST", "/", list(query.items()), {k: [v] for k, v in headers.items()}, list(headers), EMPTY)
        ours = auth.v3_signature("secret", auth.v3_string_to_sign(ours_canonical))
        assert expected.endswith("Signature=" + ours)


def test_v2_matches_sdk_oracle_on_random_requests():
    from alibabacloud_tea_openapi.utils import Utils

    rnd = random.Random(11)
    for _ in range(50):
        params = {f"P{i}": _random_text(rnd) for i in range(rnd.randint(1, 6))}
        method = rnd.choice(["GET", "POST"])
        assert auth.v2_signature("sek", auth.v2_string_to_sign(method, params)) == \
            Utils.get_rpcsignature(params, method, "sek")


def test_ram_action_patterns():
    assert auth.action_allowed(["cloudsso:*"], "cloudsso:CreateSCIMServerCredential")
    assert auth.action_allowed(["*"], "actiontrail:LookupEvents")
    assert auth.action_allowed(["CloudSSO:listSCIMServerCredentials"], "cloudsso:ListSCIMServerCredentials")
    assert not auth.action_allowed(["cloudsso:List*"], "cloudsso:CreateSCIMServerCredential")
    assert not auth.action_allowed([], "cloudsso:ListSCIMServerCredentials")
