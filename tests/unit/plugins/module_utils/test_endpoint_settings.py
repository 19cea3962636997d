"""Which setting chooses each endpoint (base URL included), what counts as loopback, and messages that are
never cut in the middle of a word."""

import pytest

from ansible_collections.alicloud.cloudsso.plugins.module_utils import endpoints
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import AlibabaCloudError, CONNECTION_FAILED, explain
from ansible_collections.alicloud.cloudsso.plugins.module_utils.retries import is_retryable
from ansible_collections.alicloud.cloudsso.plugins.module_utils.transport import shorten

BASE = "http://127.0.0.1:8080"


@pytest.mark.parametrize("product,expected", [
    ("cloudsso", BASE + "/region/cn-shanghai"),
    ("actiontrail", BASE + "/region/cn-shanghai"),
    ("eiam", BASE + "/region/cn-shanghai"),
    ("sts", BASE),
])
def test_base_url_derives_every_rpc_endpoint(product, expected):
    assert endpoints.resolve_endpoint_setting(product, "cn-shanghai", base_url=BASE + "/", env={}) == (
        expected, "base_url")
    assert endpoints.resolve_endpoint_setting(product, "cn-shanghai", env={endpoints.BASE_URL_ENV: BASE}) == (
        expected, endpoints.BASE_URL_ENV)


def test_a_specific_setting_wins_over_the_base_url():
    env = {"ALIBABA_CLOUD_ACTIONTRAIL_ENDPOINT": "https://trail.example/{region}", endpoints.BASE_URL_ENV: BASE}
    assert endpoints.resolve_endpoint_setting("actiontrail", "cn-hongkong", env=env) == (
        "https://trail.example/cn-hongkong", "ALIBABA_CLOUD_ACTIONTRAIL_ENDPOINT")
    assert endpoints.resolve_endpoint_setting("actiontrail", "cn-hongkong", endpoint_url="https://o.example",
                                              option="actiontrail_endpoint_url", env=env, base_url=BASE) == (
        "https://o.example", "actiontrail_endpoint_url")
    # Options before the environment: the base_url option wins over a specific variable.
    assert endpoints.resolve_endpoint_setting("actiontrail", "cn-hongkong", env=env, base_url=BASE) == (
        BASE + "/region/cn-hongkong", "base_url")
    assert endpoints.resolve_endpoint_setting("cloudsso", "cn-hongkong", env={}) == (
        "https://cloudsso.cn-hongkong.aliyuncs.com", None)


def test_scim_and_microsoft_endpoints_below_the_base_url():
    assert endpoints.scim_endpoint_setting(base_url=BASE, env={}) == (BASE + "/region/{region}/scim/v2", "base_url")
    assert endpoints.scim_endpoint_setting(env={}) == (endpoints.SCIM_ENDPOINT_TEMPLATE, None)
    assert endpoints.endpoint_override("graph", env={endpoints.BASE_URL_ENV: BASE}) == (BASE, endpoints.BASE_URL_ENV)
    assert endpoints.endpoint_override("login", "https://login.example", "login_endpoint", base_url=BASE, env={}) == (
        "https://login.example", "login_endpoint")


@pytest.mark.parametrize("host,loopback", [
    ("127.0.0.1", True), ("127.255.0.9", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("LOCALHOST.", True), ("10.0.0.1", False), ("localhost.evil.invalid", False), ("fe80::1", False),
    ("emulator.invalid", False), ("", False), (None, False),
])
def test_is_loopback(host, loopback):
    assert endpoints.is_loopback(host) is loopback


def test_insecure_http_names_the_setting_and_the_way_out():
    message = endpoints.insecure_http("http://scim.emulator.invalid/scim/v2?x=1", "scim_endpoint")
    assert message.startswith("refusing plain http to scim.emulator.invalid (http://scim.emulator.invalid/scim/v2, "
                              "set by scim_endpoint)")
    assert "allow_insecure_http=true" in message and "x=1" not in message
    assert endpoints.insecure_http("http://scim.emulator.invalid", "scim_endpoint", allowed=True) is None
    assert endpoints.insecure_http("https://scim.emulator.invalid", "scim_endpoint") is None
    assert endpoints.insecure_http("http://127.0.0.1:9/scim/v2", "scim_endpoint") is None


def test_shorten_never_cuts_a_word():
    text = "Failed to resolve 'host' ([Errno -2] Name or service not known) " * 10
    short = shorten(text, 60)
    assert len(short) <= 60 and short.endswith("...")
    assert text.startswith(short[:-3]) and text[len(short) - 3] == " "
    assert shorten("one\nline\n  only") == "one line only"


def test_a_final_connection_error_is_not_retried_and_names_its_setting():
    error = AlibabaCloudError("Failed to resolve 'x.invalid'", code=CONNECTION_FAILED, request_sent=False,
                              action="ListDirectories", endpoint="https://x.invalid", final=True)
    assert not is_retryable(error)
    assert is_retryable(AlibabaCloudError("reset", code=CONNECTION_FAILED, request_sent=False))
    assert "Check base_url (it chose this endpoint)" in explain(error, setting="base_url")
