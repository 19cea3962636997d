# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Finding each account's CloudSSO directory (the logic of the inventory plugin), with a fake HTTP session."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.alicloud.cloudsso.plugins.module_utils import directory_discovery as dd
from ansible_collections.alicloud.cloudsso.plugins.module_utils.endpoints import CLOUDSSO_REGIONS

SECRET = "Unit-Discovery-Secret-5e1d9a"
ENV = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "TESTDISCOVERYKEY0001", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET,
       "ALIBABA_CLOUD_CLI_PROFILE_DISABLED": "true", "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"}
OPTIONS = dict(timeout=5, validate_certs=True, max_retries=0)
DIRECTORY = {"DirectoryId": "d-00fc2p61abcd", "DirectoryName": "corp", "Region": "eu-central-1",
             "CreateTime": "2021-06-30T08:35:26Z", "UpdateTime": "2021-10-25T09:13:24Z"}


def _region_of(request):
    return request.host.split(".")[1]  # cloudsso.<region>.aliyuncs.com


def _discover(fakes, handler, account=None, **options):
    session = fakes.Session(handler)
    found = dd.find_directories(account or {}, 0, dict(OPTIONS, **options), session, env=ENV)
    return found, session


def test_directory_is_placed_by_the_answers_region_and_asked_in_every_region(fakes):
    def answer(request):
        assert request.headers["x-acs-action"] == "ListDirectories" and request.query == {}
        listed = [DIRECTORY] if _region_of(request) == "eu-central-1" else []
        return fakes.Response(200, {"RequestId": "r", "TotalCounts": len(listed), "Directories": listed})

    found, session = _discover(fakes, answer)
    assert [_region_of(r) for r in session.requests] == list(CLOUDSSO_REGIONS)
    assert found == [dict(directory_id="d-00fc2p61abcd", directory_name="corp", region="eu-central-1",
                          create_time="2021-06-30T08:35:26Z", update_time="2021-10-25T09:13:24Z",
                          account="account 1 (default credential chain)")]


def test_a_service_that_lists_the_directory_in_every_region_still_gives_one_host(fakes):
    # Undocumented either way: ListDirectories might not be regional. Merge by ID, trust the answer's Region.
    found, session = _discover(fakes, lambda r: fakes.Response(200, {"Directories": [DIRECTORY], "TotalCounts": 1}),
                               regions=["cn-shanghai", "eu-central-1", "us-west-1"])
    assert len(session.requests) == 3
    assert [(d["directory_id"], d["region"]) for d in found] == [("d-00fc2p61abcd", "eu-central-1")]


def test_an_answer_without_region_takes_the_region_asked(fakes):
    bare = dict((k, v) for k, v in DIRECTORY.items() if k != "Region")
    found, _ = _discover(fakes, lambda r: fakes.Response(200, {"Directories": [bare] if _region_of(r) == "cn-hongkong"
                                                                else []}),
                         account={"regions": ["cn-shanghai", "cn-hongkong"]}, regions=["us-west-1"])
    assert [(d["region"], d["account"]) for d in found] == [("cn-hongkong", "account 1 (default credential chain)")]


def test_no_directory_is_an_empty_list(fakes):
    found, session = _discover(fakes, lambda r: fakes.Response(200, {"Directories": [], "TotalCounts": 0}),
                               regions=["cn-shanghai"])
    assert found == [] and len(session.requests) == 1


def test_a_failure_names_the_account_and_region_and_never_the_secret(fakes):
    def denied(request):
        if _region_of(request) == "cn-hongkong":
            return fakes.Response(403, {"Code": "Forbidden.RAM", "RequestId": "r",
                                        "Message": "User not authorized (signed with %s)" % SECRET})
        return fakes.Response(200, {"Directories": []})

    with pytest.raises(dd.DiscoveryError) as info:
        _discover(fakes, denied, account={"name": "retail"}, regions=["cn-shanghai", "cn-hongkong"])
    message = str(info.value)
    assert message.startswith("account retail, region cn-hongkong: ")
    assert "cloudsso:ListDirectories" in message and "Forbidden.RAM" in message
    assert SECRET not in message and "********" in message


def test_missing_credentials_name_the_account(fakes):
    session = fakes.Session(lambda r: pytest.fail("no call without credentials"))
    with pytest.raises(dd.DiscoveryError) as info:
        dd.find_directories({"name": "lonely"}, 0, dict(OPTIONS, regions=["cn-shanghai"]), session,
                            env={"ALIBABA_CLOUD_CLI_PROFILE_DISABLED": "true",
                                 "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"})
    assert str(info.value).startswith("account lonely, region cn-shanghai: No usable Alibaba Cloud credentials")


@pytest.mark.parametrize("account, index, label", [
    ({"name": "retail", "profile": "p"}, 0, "retail"),
    ({"profile": "p", "assume_role": {"role_arn": "acs:ram::1:role/r"}}, 0, "acs:ram::1:role/r"),
    ({"profile": "p"}, 0, "profile p"),
    ({}, 2, "account 3 (default credential chain)"),
])
def test_account_label(account, index, label):
    assert dd.account_label(account, index) == label


def test_rotation_auth_holds_selectors_only():
    role = {"role_arn": "acs:ram::1:role/r", "external_id": "x-1", "duration_seconds": 900}
    assert dd.rotation_auth({"profile": "p", "assume_role": role}, "/cfg.json", "http://127.0.0.1:1/region/{region}") == {
        "profile": "p", "shared_credentials_file": "/cfg.json", "endpoint_url": "http://127.0.0.1:1/region/{region}",
        "assume_role": {"role_arn": "acs:ram::1:role/r", "external_id": "x-1", "duration_seconds": 900,
                        "session_name": "alicloud-cloudsso"}}
    assert dd.rotation_auth({"profile": "p", "shared_credentials_file": "/own.json"}, "/cfg.json") == {
        "profile": "p", "shared_credentials_file": "/own.json"}
    # the default chain: the modules read the same environment; a global config file is not forced on them
    assert dd.rotation_auth({}, "/cfg.json") == {}


@pytest.mark.parametrize("accounts, problem", [
    ([], "non-empty list"),
    ("prod", "non-empty list"),
    (["prod"], "accounts[0] must be a mapping"),
    ([{"access_key_secret": SECRET}], "accounts[0] has access_key_secret: an inventory file holds no key"),
    ([{"profil": "x"}], "accounts[0] has unknown keys profil"),
    ([{"assume_role": {}}], "accounts[0].assume_role must be a mapping with role_arn"),
    ([{"assume_role": {"role_arn": "a", "policy": "{}"}}], "accounts[0].assume_role has unknown keys policy"),
    ([{"assume_role": {"role_arn": "a", "duration_seconds": 60}}], "duration_seconds must be 900 to 43200"),
    ([{"regions": ["Shanghai"]}], "accounts[0].regions: 'Shanghai' is not a valid"),
    ([{"profile": "p"}, {"profile": "p"}], "accounts are named twice: profile p"),
])
def test_account_problems(accounts, problem):
    problems = dd.account_problems(accounts)
    assert any(problem in p for p in problems), problems
    assert not any(SECRET in p for p in problems)


def test_good_accounts_have_no_problem():
    assert dd.account_problems([{}, {"name": "a", "profile": "a", "regions": ["cn-shanghai"]},
                                {"assume_role": {"role_arn": "acs:ram::1:role/r", "session_name": "s"}}]) == []
