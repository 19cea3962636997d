"""CloudSSO ListDirectories (2021-05-15) through the official SDK: the raw answer has exactly the fields the
SDK model keeps, and each account sees only its own directory in the region it asks.

Sources: the ListDirectories document (no request parameter; Directories[] of DirectoryId, DirectoryName,
Region, CreateTime, UpdateTime; RequestId; TotalCounts; RAM resource
acs:cloudsso:{#regionId}:{#accountId}:directory/*) and alibabacloud_cloudsso20210515 1.7.0
models ListDirectoriesResponseBody / ListDirectoriesResponseBodyDirectories.
"""

import pytest
from alibabacloud_cloudsso20210515 import models as sso
from alibabacloud_tea_openapi.exceptions import ClientException
from darabonba.runtime import RuntimeOptions

from tests.helpers.emulator import make_access_key

TIME_FORMAT_LENGTH = len("2021-06-30T08:35:26Z")


def _raw_list_directories(client):
    """The raw JSON body, sent exactly as the SDK's list_directories_with_options sends it."""
    from alibabacloud_tea_openapi import utils_models as open_api_util_models

    params = open_api_util_models.Params(
        action="ListDirectories", version="2021-05-15", protocol="HTTPS", pathname="/", method="POST",
        auth_type="AK", style="RPC", req_body_type="formData", body_type="json")
    return client.call_api(params, open_api_util_models.OpenApiRequest(), RuntimeOptions())["body"]


def _keys(value, prefix=""):
    """Every key path of a JSON value (list items share their list's path)."""
    paths = set()
    if isinstance(value, dict):
        for key, sub in value.items():
            paths.add(prefix + key)
            paths |= _keys(sub, prefix + key + ".")
    elif isinstance(value, list):
        for item in value:
            paths |= _keys(item, prefix)
    return paths


@pytest.fixture
def fleet(emu):
    """Three accounts, each with its own key: one directory in cn-shanghai, one in eu-central-1, none."""
    keys = [make_access_key(account_id="12000000000000%02d" % i) for i in range(3)]
    seeded = emu.control.seed({
        "access_keys": keys,
        "directories": [
            {"account_id": keys[0]["account_id"], "region": "cn-shanghai", "name": "corp-cn",
             "create_time": "2021-06-30T08:35:26Z"},
            {"account_id": keys[1]["account_id"], "region": "eu-central-1", "name": "corp-eu"},
        ],
    })
    return keys, seeded["directories"]


def test_raw_answer_holds_exactly_what_the_sdk_model_keeps(world, fleet):
    keys, directories = fleet
    client = world.sso(keys[0])
    raw = _raw_list_directories(client)
    assert set(raw) == {"RequestId", "TotalCounts", "Directories"}
    model = sso.ListDirectoriesResponseBody().from_map(raw)
    assert model.to_map() == raw, "a field the SDK drops or renames"
    assert _keys(model.to_map()) == _keys(raw)
    assert model.total_counts == 1 and isinstance(raw["TotalCounts"], int)
    (item,) = model.directories
    assert set(raw["Directories"][0]) == {"DirectoryId", "DirectoryName", "Region", "CreateTime", "UpdateTime"}
    assert item.directory_id == directories[0]["directory_id"]
    assert item.directory_name == "corp-cn" and item.region == "cn-shanghai"
    assert item.create_time == "2021-06-30T08:35:26Z" and len(item.update_time) == TIME_FORMAT_LENGTH
    assert item.update_time.endswith("Z") and item.update_time >= item.create_time
    typed = client.list_directories().body
    assert typed.to_map()["Directories"] == raw["Directories"] and typed.request_id


def test_each_account_sees_only_its_own_directory_in_the_region_asked(world, fleet):
    keys, directories = fleet
    in_eu = f"{world.host}/region/eu-central-1"

    def listed(key, endpoint=None):
        body = world.sso(key, endpoint=endpoint).list_directories().body
        assert body.total_counts == len(body.directories)
        return [(d.directory_id, d.region) for d in body.directories]

    assert listed(keys[0]) == [(directories[0]["directory_id"], "cn-shanghai")]
    assert listed(keys[0], in_eu) == []
    assert listed(keys[1]) == []
    assert listed(keys[1], in_eu) == [(directories[1]["directory_id"], "eu-central-1")]
    assert listed(keys[2]) == [] and listed(keys[2], in_eu) == []
    # the world's own account (another one) does not see the fleet's directories either
    assert listed(world.ak) == [(world.directory_id, "cn-shanghai")]
    empty = _raw_list_directories(world.sso(keys[2]))
    assert empty["TotalCounts"] == 0 and empty["Directories"] == []


def test_list_directories_needs_its_ram_permission(world):
    key = make_access_key(account_id=world.account_id, permissions=["cloudsso:ListSCIMServerCredentials"])
    world.control.seed({"access_keys": [key]})
    with pytest.raises(ClientException) as info:
        world.sso(key).list_directories()
    assert info.value.code == "Forbidden.RAM" and info.value.status_code == 403
    assert "cloudsso:ListDirectories" in info.value.message
    allowed = make_access_key(account_id=world.account_id, permissions=["cloudsso:ListDirectories"])
    world.control.seed({"access_keys": [allowed]})
    assert world.sso(allowed).list_directories().body.total_counts == 1
