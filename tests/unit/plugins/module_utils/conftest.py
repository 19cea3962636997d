# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Fakes for the module_utils tests: a session like transport.Session that answers from Python code (no
network), and FakeCloud, which plays STS, the ECS metadata service and a credentials URI, verifying V2
signatures with the official SDK's code."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from datetime import timedelta

try:
    from urllib.parse import parse_qsl, urlsplit
except ImportError:  # pragma: no cover
    from urlparse import parse_qsl, urlsplit  # type: ignore

import pytest
from ansible_collections.alicloud.cloudsso.plugins.module_utils import credentials as credentials_module
from ansible_collections.alicloud.cloudsso.plugins.module_utils import transport
from ansible_collections.alicloud.cloudsso.plugins.module_utils.transport import Headers


class FakeResponse(object):
    def __init__(self, status=200, body=None, headers=None, text=None):
        self.status_code = status
        self.headers = Headers(headers or {})
        if text is None:
            text = json.dumps(body) if body is not None else ""
        self.text = text
        self.content = text.encode("utf-8")

    def json(self):
        return json.loads(self.text)


class Recorded(object):
    """One request the code under test sent."""

    def __init__(self, method, url, headers, data, timeout, verify):
        self.method = method
        self.url = url
        parts = urlsplit(url)
        self.scheme, self.host, self.path = parts.scheme, parts.netloc, parts.path
        self.query = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.headers = Headers(headers or {})
        self.data = data
        self.timeout = timeout
        self.verify = verify


class FakeSession(object):
    """Stands in for transport.Session: `handler(recorded)` returns a FakeResponse or an exception to raise;
    or give `answers`, used in order."""

    def __init__(self, handler=None, answers=None):
        self.handler = handler
        self.answers = list(answers or [])
        self.requests = []
        self.headers = {}

    def request(self, method, url, headers=None, data=None, timeout=None, verify=True, allow_redirects=True):
        assert allow_redirects is False, "redirects must stay off: a redirect could carry a signed request away"
        recorded = Recorded(method, url, headers, data, timeout, verify)
        self.requests.append(recorded)
        result = self.handler(recorded) if self.handler else self.answers.pop(0)
        if isinstance(result, BaseException):
            raise result
        return result


def connection_refused(url="http://127.0.0.1:9/"):
    """What transport.Session raises when nothing listens."""
    parts = urlsplit(url)
    return transport.ConnectFailed(parts.hostname, parts.port or 80, ConnectionRefusedError(111, "Connection refused"))


def connect_timeout(url="http://100.100.100.200/"):
    return transport.ConnectTimeout("connect timeout")


def sdk_rpc_signature(query, secret, method="POST"):
    """The V2 signature the official SDK computes for `query` (without its Signature)."""
    from alibabacloud_tea_openapi.utils import Utils
    unsigned = dict((k, v) for k, v in query.items() if k != "Signature")
    return Utils.get_rpcsignature(unsigned, method, secret)


class FakeCloud(object):
    """STS, the ECS metadata service and credentials URIs behind one FakeSession.

    keys: access key ID -> (secret, security token or None) that STS accepts as signers.
    roles: role ARN -> True for roles STS lets anyone assume (issued keys are fresh each call).
    ecs_roles: role name -> True, or None when no metadata service answers (connect timeout).
    uris: URL without query -> FakeResponse.
    """

    STS_VERSION = "2015-04-01"

    def __init__(self, ecs_endpoint="100.100.100.200"):
        self.session = FakeSession(self.handle)
        self.keys = {}
        self.roles = {}
        self.sts_failure = None
        self.sts_lifetime = None
        self.ecs_endpoint = ecs_endpoint
        self.ecs_roles = None
        self.ecs_v2 = True
        self.ecs_lifetime = timedelta(hours=6)
        self.uris = {}
        self.issued = []
        self.oidc_tokens = []
        self.count = 0

    @property
    def requests(self):
        return self.session.requests

    def sts_requests(self, action=None):
        return [r for r in self.requests if r.query.get("Version") == self.STS_VERSION
                and (action is None or r.query.get("Action") == action)]

    def ecs_requests(self):
        return [r for r in self.requests if r.host == self.ecs_endpoint]

    def issue(self, lifetime, prefix):
        self.count += 1
        expiration = credentials_module.utcnow() + lifetime
        creds = {
            "AccessKeyId": "%s.fakeid%04d" % (prefix, self.count),
            "AccessKeySecret": "%s-secret-%04d-Zq8v" % (prefix.lower(), self.count),
            "SecurityToken": "%s-token-%04d-CAIS-xyz" % (prefix.lower(), self.count),
            "Expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        self.issued.append(creds)
        self.keys[creds["AccessKeyId"]] = (creds["AccessKeySecret"], creds["SecurityToken"])
        return creds

    def handle(self, request):
        if request.query.get("Version") == self.STS_VERSION:
            return self.sts(request)
        if request.host == self.ecs_endpoint:
            return self.ecs(request)
        url = "%s://%s%s" % (request.scheme, request.host, request.path)
        if url in self.uris:
            return self.uris[url]
        return connection_refused(url)

    def sts(self, request):
        if self.sts_failure is not None:
            return self.sts_failure
        query = request.query
        action = query.get("Action")
        if action == "AssumeRoleWithOIDC":
            assert "Signature" not in query and "AccessKeyId" not in query, "AssumeRoleWithOIDC must be unsigned"
            self.oidc_tokens.append(query.get("OIDCToken"))
        elif action == "AssumeRole":
            signer = self.keys.get(query.get("AccessKeyId"))
            if signer is None:
                return FakeResponse(404, {"Code": "InvalidAccessKeyId.NotFound", "Message": "Specified access key is not found.",
                                          "RequestId": "req-ak"})
            secret, token = signer
            if sdk_rpc_signature(query, secret, request.method) != query.get("Signature") or \
                    (token and query.get("SecurityToken") != token):
                return FakeResponse(400, {"Code": "SignatureDoesNotMatch", "RequestId": "req-sig",
                                          "Message": "Specified signature is not matched with our calculation."})
        else:
            return FakeResponse(400, {"Code": "InvalidAction.NotFound", "Message": action, "RequestId": "req-x"})
        if not self.roles.get(query.get("RoleArn")):
            return FakeResponse(404, {"Code": "EntityNotExist.Role", "Message": "The role not exists", "RequestId": "req-r"})
        lifetime = self.sts_lifetime or timedelta(seconds=int(query.get("DurationSeconds", "3600")))
        return FakeResponse(200, {"RequestId": "req-ok", "Credentials": self.issue(lifetime, "STS"),
                                  "AssumedRoleUser": {"Arn": query["RoleArn"] + "/" + query.get("RoleSessionName", "")}})

    def ecs(self, request):
        if self.ecs_roles is None:
            return connect_timeout()
        token_header = request.headers.get("X-aliyun-ecs-metadata-token")
        if request.method == "PUT" and request.path == "/latest/api/token":
            if not self.ecs_v2:
                return FakeResponse(404, text="Not Found")
            assert request.headers.get("X-aliyun-ecs-metadata-token-ttl-seconds") == "21600"
            return FakeResponse(200, text="imds-session-token-7f3a")
        if request.method != "GET":
            return FakeResponse(405, text="")
        if self.ecs_v2 and token_header != "imds-session-token-7f3a":
            return FakeResponse(401, text="")
        base = "/latest/meta-data/ram/security-credentials/"
        if request.path == base:
            return FakeResponse(200, text="\n".join(sorted(self.ecs_roles)))
        role = request.path[len(base):]
        if request.path.startswith(base) and role in self.ecs_roles:
            creds = self.issue(self.ecs_lifetime, "ECS")
            creds.update(Code="Success", LastUpdated="2024-01-01T00:00:00Z")
            return FakeResponse(200, creds)
        return FakeResponse(404, text="")


@pytest.fixture
def fake_cloud():
    return FakeCloud()


@pytest.fixture
def frozen_clock(monkeypatch):
    """Controls credentials.utcnow(): clock.advance(seconds)."""
    from datetime import datetime, timezone

    class Clock(object):
        now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)

        def advance(self, seconds):
            self.now = self.now + timedelta(seconds=seconds)

    instance = Clock()
    monkeypatch.setattr(credentials_module, "utcnow", lambda: instance.now)
    return instance


@pytest.fixture
def no_real_sessions(monkeypatch):
    """A test that forgets the fake session would reach the real network (or 100.100.100.200)."""
    def refuse():
        raise AssertionError("a test created a real HTTP session")
    monkeypatch.setattr(credentials_module, "new_session", refuse)


@pytest.fixture
def fakes():
    """The fake classes and helpers, for tests that build their own answers."""
    class Fakes(object):
        Response = FakeResponse
        Session = FakeSession
        Cloud = FakeCloud
        refused = staticmethod(connection_refused)
        timeout = staticmethod(connect_timeout)
        rpc_signature = staticmethod(sdk_rpc_signature)
    return Fakes
