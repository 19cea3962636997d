# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The scim_token_check module: its deciders, and the module end to end in-process with a fake SCIM endpoint
(no network)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.alicloud.cloudsso.plugins.module_utils import module as module_base
from ansible_collections.alicloud.cloudsso.plugins.module_utils import scim
from ansible_collections.alicloud.cloudsso.plugins.modules import scim_token_check

URL = "http://127.0.0.1:9/scim/v2"
CRED = "scimcred-004whmnsa1rxe8oldold"
TOKEN = "Unit-Test-Scim-Token-4d2b9e"


def outcome(authenticated, status, detail=None):
    return dict(authenticated=authenticated, status=status, detail=detail, attempts=1)


# --- deciders --------------------------------------------------------------------------------------------

def test_result_of_an_accepted_token():
    assert scim.token_check_result(outcome(True, 200), URL) == dict(
        changed=False, authenticated=True, status=200, scim_endpoint=URL, attempts=1)


def test_result_of_a_rejected_token_of_a_secret_file():
    result = scim.token_check_result(outcome(False, 401, "Bad token"), URL, CRED)
    assert result["authenticated"] is False and result["detail"] == "Bad token" and result["credential_id"] == CRED


@pytest.mark.parametrize("expect, probe, credential_id, message", [
    ("any", outcome(True, 200), None, None),
    ("any", outcome(False, 401), None, None),
    ("accepted", outcome(True, 200), None, None),
    ("rejected", outcome(False, 403), None, None),
    ("accepted", outcome(False, 401, "Bad token"), CRED,
     "the token of %s was rejected by %s (HTTP 401: Bad token), but it must work" % (CRED, URL)),
    ("accepted", outcome(False, 403), None, "the token was rejected by %s (HTTP 403), but it must work" % URL),
    ("rejected", outcome(True, 200), CRED,
     "the token of %s still works at %s (HTTP 200), but it must be rejected" % (CRED, URL)),
])
def test_expectation_failure(expect, probe, credential_id, message):
    assert scim.expectation_failure(expect, probe, URL, credential_id) == message


# --- the module in-process -------------------------------------------------------------------------------

class Response(object):
    def __init__(self, status, body):
        self.status_code = status
        self.headers = {}
        self.text = json.dumps(body)

    def json(self):
        return json.loads(self.text)


class Endpoint(object):
    """A SCIM endpoint that accepts one token."""

    def __init__(self):
        self.headers = {}
        self.requests = []

    def request(self, method, url, headers=None, data=None, timeout=None, verify=True, allow_redirects=True):
        self.requests.append((method, url))
        if headers.get("Authorization") == "Bearer %s" % TOKEN:
            return Response(200, {"Resources": []})
        return Response(401, {"detail": "Bad token"})


@pytest.fixture
def endpoint(monkeypatch):
    fake = Endpoint()
    monkeypatch.setattr(module_base, "new_session", lambda: fake)
    return fake


def run(capsys, **args):
    params = dict(scim_endpoint=URL, max_retries=0)
    params.update(args)
    with patch_module_args(params):
        with pytest.raises(SystemExit):
            scim_token_check.main()
    return json.loads(capsys.readouterr().out)


def test_token_accepted(capsys, endpoint):
    result = run(capsys, token=TOKEN, expect="accepted")
    assert not result.get("failed") and result["authenticated"] and result["status"] == 200
    assert endpoint.requests == [("GET", URL + "/Users?count=1")]
    assert TOKEN not in json.dumps(result)


def test_token_of_a_secret_file_rejected_but_expected_to_work(capsys, endpoint, tmp_path):
    path = str(tmp_path / "secret.json")
    with open(path, "w") as handle:
        json.dump({"directory_id": "d-00fc2p61abcd", "credential_id": CRED,
                   "credential_secret": "Unit-Test-Other-Token-77aa"}, handle)
    os.chmod(path, 0o600)
    result = run(capsys, token_file=path, expect="accepted")
    assert result["failed"] and result["authenticated"] is False and result["credential_id"] == CRED
    assert result["msg"] == "the token of %s was rejected by %s (HTTP 401: Bad token), but it must work" % (CRED, URL)
    assert "Unit-Test-Other-Token-77aa" not in json.dumps(result)


def test_unreadable_token_file_fails_before_any_request(capsys, endpoint, tmp_path):
    result = run(capsys, token_file=str(tmp_path / "missing"))
    assert result["failed"] and str(tmp_path / "missing") in result["msg"] and endpoint.requests == []
