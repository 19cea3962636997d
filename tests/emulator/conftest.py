"""Fixtures for the emulator's own tests: one emulator process per pytest worker, reset before each test."""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tests.helpers.emulator import EmulatorProcess, http_request as http, make_access_key  # noqa: E402,F401


@pytest.fixture(scope="session")
def emulator_process():
    with EmulatorProcess() as emu:
        yield emu


@pytest.fixture
def emu(emulator_process):
    """A freshly reset emulator. LookupEvents rate limiting is off unless a test turns it on."""
    emulator_process.control.reset({"config": {"actiontrail_rate_per_second": 0}})
    return emulator_process


class World:
    """A seeded account: an all-powerful key, a directory, helpers to build SDK clients."""

    def __init__(self, emu, seeded, ak):
        self.emu = emu
        self.control = emu.control
        self.seeded = seeded
        self.ak = ak
        self.account_id = ak["account_id"]
        self.directory_id = seeded["directories"][0]["directory_id"]
        self.host = emu.url.split("//", 1)[1]

    def config(self, ak=None, secret=None, token=None, endpoint=None, **extra):
        from alibabacloud_tea_openapi.models import Config

        ak = ak or self.ak
        if isinstance(ak, dict):
            ak, secret = ak["id"], ak["secret"]
        return Config(access_key_id=ak, access_key_secret=secret, security_token=token,
                      endpoint=endpoint or self.host, protocol="http", read_timeout=10000,
                      connect_timeout=5000, **extra)

    def sso(self, *args, **kwargs):
        from alibabacloud_cloudsso20210515.client import Client

        return Client(self.config(*args, **kwargs))

    def trail(self, *args, **kwargs):
        from alibabacloud_actiontrail20200706.client import Client

        return Client(self.config(*args, **kwargs))

    def sts(self, *args, **kwargs):
        from alibabacloud_sts20150401.client import Client

        return Client(self.config(*args, **kwargs))

    def scim(self, path, token=None, method="GET", body=None, region=None, headers=None):
        return http(self.emu.url + (f"/region/{region}" if region else "") + "/scim/v2" + path, method=method,
                    body=body, headers=dict({"Authorization": f"Bearer {token}"} if token else {}, **(headers or {})))


@pytest.fixture
def world(emu):
    ak = make_access_key()
    seeded = emu.control.seed({"access_keys": [ak], "directories": [{"region": "cn-shanghai",
                                                                       "account_id": ak["account_id"]}]})
    return World(emu, seeded, ak)


@pytest.fixture
def make_world():
    """World(emu, seeded, access_key) for tests that start their own emulator process."""
    return World
