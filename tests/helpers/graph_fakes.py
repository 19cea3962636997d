"""Fakes for the unit tests of plugins/module_utils/entra: a session like transport.Session that answers Graph and
login requests from queued responses (no network), and a GraphClient built on it."""

import json

from ansible_collections.alicloud.cloudsso.plugins.module_utils.entra.client import GraphClient
from ansible_collections.alicloud.cloudsso.plugins.module_utils.entra.signin import EntraCredential
from ansible_collections.alicloud.cloudsso.plugins.module_utils.transport import Headers

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT = "0f0b7e4c-2a5b-4a7e-9a51-3a0d1f6c2b10"
SP = "5a1c7d0e-9b2f-4a4c-8e3d-6f7a8b9c0d1e"
SECRET = "Xq8~client.secret-VALUE_0123456789abc"
SCIM_TOKEN = "scimTokenAbCdEfGh0123456789-_ZyXwVuTsRqPoNmLkJiH"
ACCESS = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJncmFwaCJ9.c2lnbmF0dXJlLXBhcnQ"


class FakeResponse(object):
    def __init__(self, status, body=None, headers=None):
        self.status_code = status
        self._body = body
        self.headers = Headers(headers or {})
        if body is None:
            self.content = b""
        elif isinstance(body, (dict, list)):
            self.content = json.dumps(body).encode()
        else:
            self.content = body.encode() if isinstance(body, str) else body

    def json(self):
        if isinstance(self._body, (dict, list)):
            return self._body
        return json.loads(self.content.decode())


class FakeSession(object):
    """Answers from a list of (predicate, response) rules, in order; records every request."""

    def __init__(self):
        self.requests = []
        self.queue = {}

    def add(self, method, path_part, *responses):
        self.queue.setdefault((method, path_part), []).extend(responses)

    def request(self, method, url, headers=None, data=None, timeout=None, verify=None, allow_redirects=None):
        self.requests.append(dict(method=method, url=url, headers=dict(headers or {}), data=data))
        for (m, part), responses in self.queue.items():
            if m == method and part in url and responses:
                response = responses.pop(0) if len(responses) > 1 else responses[0]
                if isinstance(response, Exception):
                    raise response
                return response
        raise AssertionError("unexpected request %s %s" % (method, url))

    def calls(self, method=None, part=""):
        return [r for r in self.requests if (method is None or r["method"] == method) and part in r["url"]]


def token_ok(token=ACCESS, expires_in=3599):
    return FakeResponse(200, {"token_type": "Bearer", "expires_in": expires_in, "access_token": token})


def make_client(session, credential=None, sleeps=None, **kwargs):
    registered = kwargs.pop("registered", [])
    return GraphClient(session, TENANT, CLIENT, credential or EntraCredential("secret", value=SECRET),
                       graph_endpoint=kwargs.pop("graph_endpoint", "https://graph.example"),
                       login_endpoint=kwargs.pop("login_endpoint", "https://login.example"),
                       sleep=(sleeps.append if sleeps is not None else (lambda s: None)),
                       register_secret=registered.append, **kwargs)
