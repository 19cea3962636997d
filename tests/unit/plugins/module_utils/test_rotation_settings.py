"""The role's settings checked with the modules' own checks, each message naming the setting."""

import pytest

from ansible_collections.alicloud.cloudsso.plugins.module_utils.rotation_settings import (
    KINDS,
    folders_to_look_at,
    invalid_settings,
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.rotation_plan import (
    invalid_plan_options,
    orphan_grace,
    secret_files_by_credential,
)

GUID = "0b6e3c9e-6b0e-4f1c-9d0e-2f3a4b5c6d7e"


@pytest.mark.parametrize("kind,good,bad,words", [
    ("directory_id", "d-00fc2p61abcd", "d-123", "'d-123' is not a CloudSSO directory ID"),
    ("directory_id", "d-00fc2p61abcd", "d-00fc2p61abcd\n", "is not a CloudSSO directory ID"),
    ("region", "cn-shanghai", "Shanghai!", "'Shanghai!' is not a valid Alibaba Cloud region ID"),
    ("region", "cn-shanghai", "cn-shanghai\n", "is not a valid Alibaba Cloud region ID"),
    ("guid", GUID, "nope", "'nope' is not a GUID"),
    ("idaas_instance_id", "idaas_ue2jvisn35ea5lmthk267abcde", "x", "'x' is not an IDaaS instance ID"),
    ("idaas_application_id", "app_mkv7rgt4d7i4u7zqtzev2mabcd", "y", "'y' is not an IDaaS application ID"),
    ("url", "http://127.0.0.1:8080/scim/v2", "not a url", "'not a url' is not an http(s) URL"),
    ("endpoint", "https://example.invalid", "http://emulator.invalid",
     ": plain http to a host other than this machine would carry secrets unencrypted"),
])
def test_each_kind_names_the_setting(kind, good, bad, words):
    assert invalid_settings([{"name": "the_setting", "value": good, "kind": kind}]) == []
    (problem,) = invalid_settings([{"name": "the_setting", "value": bad, "kind": kind}])
    assert problem.startswith("the_setting") and words in problem


@pytest.mark.parametrize("url", ["http://127.0.0.1:1/region/{region}", "http://localhost", "http://[::1]:80/x",
                                 "HTTPS://emulator.invalid", "emulator.invalid:443", "http://127.8.0.1"])
def test_endpoints_that_stay_on_this_machine_or_are_encrypted(url):
    assert invalid_settings([{"name": "e", "value": url, "kind": "endpoint"}]) == []


def test_empty_means_not_set_except_for_a_directory():
    for kind in KINDS:
        problems = invalid_settings([{"name": "s", "value": "", "kind": kind}, {"name": "t", "kind": kind}])
        assert (problems != []) is (kind == "directory_id"), kind


def test_hint_follows_the_problem_and_order_is_kept():
    problems = invalid_settings([
        {"name": "b", "value": "nope", "kind": "guid", "hint": "the object ID of the enterprise application"},
        {"name": "a", "value": "Bad!", "kind": "region"},
    ])
    assert problems == ["b 'nope' is not a GUID; the object ID of the enterprise application",
                        "a 'Bad!' is not a valid Alibaba Cloud region ID (for example cn-shanghai)"]


def test_unknown_kind_is_a_problem():
    (problem,) = invalid_settings([{"name": "s", "value": "v", "kind": "shoe_size"}])
    assert "unknown kind of check 'shoe_size'" in problem


def test_plan_options():
    params = dict(directory_id="d-00fc2p61abcd", actiontrail_region=None, min_age_days=0, expiring_within_days=None,
                  orphan_grace_minutes=None)
    assert invalid_plan_options(params) == []
    problems = invalid_plan_options(dict(params, directory_id="d-1", actiontrail_region="Bad!", min_age_days=-1))
    assert len(problems) == 3 and "min_age_days must be 0 or more, got -1" in problems


def test_orphan_grace_defaults_to_a_week_for_a_handoff():
    assert orphan_grace(None, False) == 120 and orphan_grace(None, True) == 7 * 24 * 60
    assert orphan_grace(0, True) == 0 and orphan_grace(30, False) == 30


def test_secret_files_by_credential_first_file_wins():
    kept = [("/a", {"credential_id": "c1"}), ("/b", {"credential_id": "c1"}), ("/c", None),
            ("/d", {"credential_id": "gone"})]
    assert secret_files_by_credential(kept, {"c1", "c2"}) == {"c1": "/a"}


def test_writable_folder_judges_what_the_caller_looked_up():
    checks = [{"name": "scim_rotation_secret_file", "value": "/secure/cloudsso", "kind": "writable_folder"},
              {"name": "other", "value": "/srv/kept", "kind": "writable_folder"}]
    assert folders_to_look_at(checks) == ["/secure/cloudsso", "/srv/kept"]
    assert invalid_settings(checks, {"/secure/cloudsso": True, "/srv/kept": True}) == []
    # Not looked up counts as missing: a folder nobody looked at is never taken for a good one.
    assert invalid_settings(checks, {"/srv/kept": True}) == [
        "scim_rotation_secret_file: the folder /secure/cloudsso does not exist or is not writable"]
    assert invalid_settings(checks[:1], {"/secure/cloudsso": False}) == [
        "scim_rotation_secret_file: the folder /secure/cloudsso does not exist or is not writable"]


def test_a_relative_writable_folder_is_refused_and_not_looked_at():
    checks = [{"name": "s", "value": "secure", "kind": "writable_folder"}, {"name": "t", "kind": "writable_folder"},
              {"name": "u", "value": "/x", "kind": "region"}]
    assert folders_to_look_at(checks) == []
    assert invalid_settings(checks[:2], {"secure": True}) == [
        "s: the folder secure is a relative path; give an absolute one"]
