# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The client for Alibaba Cloud RPC-style APIs (CloudSSO, ActionTrail, STS, IDaaS): sign, send, parse,
retry. Everything product-specific lives in endpoints.PRODUCTS."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover
    from urlparse import urlsplit  # type: ignore

from ansible_collections.alicloud.cloudsso.plugins.module_utils import signing
from ansible_collections.alicloud.cloudsso.plugins.module_utils.endpoints import (
    PRODUCTS,
    insecure_http,
    resolve_endpoint_setting,
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import AlibabaCloudError, INVALID_ENDPOINT
from ansible_collections.alicloud.cloudsso.plugins.module_utils.transport import new_session, send
from ansible_collections.alicloud.cloudsso.plugins.module_utils.retries import (
    DEFAULT_MAX_RETRIES,
    is_retryable,
    jittered_backoff,
)


def _retry_after_seconds(response):
    # x-acs-retry-after is the wait in milliseconds (alibabacloud-tea-openapi reads it the same way).
    value = response.headers.get("x-acs-retry-after")
    try:
        millis = int(value)
    except (TypeError, ValueError):
        return None
    return millis / 1000.0 if millis > 0 else None


def parse_response(response, action, endpoint):
    """The decoded JSON body of a 2xx answer, or an AlibabaCloudError built from the error body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if 200 <= response.status_code < 300 and isinstance(body, dict):
        return body
    if not isinstance(body, dict):
        raise AlibabaCloudError("HTTP %s with a body that is not JSON" % response.status_code,
                                status=response.status_code, action=action, endpoint=endpoint,
                                retry_after=_retry_after_seconds(response))
    raise AlibabaCloudError(
        body.get("Message") or body.get("message") or "HTTP %s" % response.status_code,
        code=body.get("Code") or body.get("code"),
        status=response.status_code,
        request_id=body.get("RequestId") or body.get("requestId"),
        recommend=body.get("Recommend"),
        action=action,
        endpoint=endpoint,
        retry_after=_retry_after_seconds(response),
    )


class RpcClient(object):
    """One product in one region.

    `credentials` is a provider with `get()` returning a credentials.Credential (None for anonymous
    calls such as AssumeRoleWithOIDC). `call_log` records each action with its attempts, so modules can
    report the API calls they made. `setting` names what chose the endpoint (an option or an environment
    variable; None for the public host), for error messages. Plain http off loopback is refused before
    any connection unless `allow_insecure_http`.
    """

    def __init__(self, product, region, credentials=None, endpoint_url=None, timeout=30, validate_certs=True,
                 max_retries=DEFAULT_MAX_RETRIES, use_vpc=None, session=None, sleep=None, env=None, base_url=None,
                 endpoint_option="endpoint_url", allow_insecure_http=False):
        info = PRODUCTS[product]
        self.product = product
        self.region = region
        self.version = info["version"]
        self.signature_version = info["signature"]
        self.endpoint, self.setting = resolve_endpoint_setting(product, region, endpoint_url=endpoint_url,
                                                               use_vpc=use_vpc, env=env, base_url=base_url,
                                                               option=endpoint_option)
        self.insecure = insecure_http(self.endpoint, self.setting, allow_insecure_http)
        parts = urlsplit(self.endpoint)
        self._scheme, self._host = parts.scheme, parts.netloc
        self._pathname = parts.path.rstrip("/") + "/"
        self.credentials = credentials
        self.timeout = timeout
        self.validate_certs = validate_certs
        self.max_retries = max_retries
        self.session = session or new_session()
        self.sleep = sleep
        self.call_log = []

    def call(self, action, params=None, idempotent=True, anonymous=False):
        """Call `action` and return the decoded answer.

        Non-idempotent calls are retried only when nothing can have been applied (see retries.is_retryable).
        """
        attempts = []

        def on_retry(error, delay):
            attempts.append((error.code or error.status, round(delay, 3)))

        @jittered_backoff(self.max_retries, should_retry=lambda err: is_retryable(err, idempotent),
                          sleep=self.sleep, on_retry=on_retry)
        def attempt():
            return self._send(action, params or {}, anonymous)

        try:
            result = attempt()
        except AlibabaCloudError as error:
            self.call_log.append(dict(action=action, attempts=error.attempts, ok=False, code=error.code))
            raise
        self.call_log.append(dict(action=action, attempts=len(attempts) + 1, ok=True))
        return result

    def _send(self, action, params, anonymous):
        if self.insecure:
            raise AlibabaCloudError(self.insecure, code=INVALID_ENDPOINT, action=action, endpoint=self.endpoint,
                                    request_sent=False)
        credential = None if anonymous else self.credentials.get()
        query = dict((k, str(v)) for k, v in params.items() if v is not None)
        headers = {"host": self._host}
        if self.signature_version == "v3":
            headers.update(signing.v3_headers(self._host, action, self.version,
                                              security_token=credential.security_token if credential else None))
            if credential:
                headers["Authorization"] = signing.v3_authorization(
                    "POST", self._pathname, query, headers, b"", credential.access_key_id, credential.access_key_secret)
        else:
            query.update(Action=action, Version=self.version)
            if credential:
                query = signing.v2_signed_params(query, credential.access_key_id, credential.access_key_secret,
                                                 method="POST", security_token=credential.security_token)
            else:
                query.update(Format="JSON", Timestamp=signing.utc_timestamp(), SignatureNonce=signing.new_nonce())
        url = "%s://%s%s?%s" % (self._scheme, self._host, self._pathname, signing.canonical_query(query))
        response = send(self.session, "POST", url, headers=headers, data=b"", timeout=self.timeout,
                        validate_certs=self.validate_certs, action=action)
        return parse_response(response, action, self.endpoint)

    @property
    def api_calls(self):
        return sum(entry["attempts"] for entry in self.call_log)
