# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.alicloud.cloudsso.plugins.module_utils import retries
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import (
    AlibabaCloudError,
    CONNECTION_FAILED,
    CredentialError,
    INVALID_ENDPOINT,
    TIMEOUT,
    TLS_ERROR,
)


def error(code=None, status=None, sent=True, retry_after=None):
    return AlibabaCloudError("m", code=code, status=status, request_sent=sent, retry_after=retry_after)


# (error, retry when idempotent, retry when not idempotent)
DECISIONS = [
    ("Throttling", error("Throttling", 400), True, True),
    ("Throttling.User", error("Throttling.User", 400), True, True),
    ("Throttling.Api", error("Throttling.Api", 400), True, True),
    ("HTTP 429 without code", error(None, 429), True, True),
    ("ServiceUnavailable 503", error("ServiceUnavailable", 503), True, False),
    ("InternalError 500", error("InternalError", 500), True, False),
    ("bare 502", error(None, 502), True, False),
    ("ServiceTimeout", error("ServiceTimeout", 504), True, False),
    ("connect timeout, not sent", error(TIMEOUT, None, sent=False), True, True),
    ("read timeout, sent", error(TIMEOUT, None, sent=True), True, False),
    ("connection refused, not sent", error(CONNECTION_FAILED, None, sent=False), True, True),
    ("connection reset after sending", error(CONNECTION_FAILED, None, sent=True), True, False),
    ("TLS", error(TLS_ERROR, None, sent=False), False, False),
    ("invalid endpoint", error(INVALID_ENDPOINT, None, sent=False), False, False),
    ("SignatureDoesNotMatch", error("SignatureDoesNotMatch", 400), False, False),
    ("InvalidAccessKeyId.NotFound", error("InvalidAccessKeyId.NotFound", 404), False, False),
    ("NoPermission", error("NoPermission", 403), False, False),
    ("Forbidden.RAM", error("Forbidden.RAM", 403), False, False),
    ("EntityNotExists.Directory", error("EntityNotExists.Directory", 404), False, False),
    ("InvalidParameter", error("InvalidParameter", 400), False, False),
    ("InvalidSecurityToken.Expired", error("InvalidSecurityToken.Expired", 400), False, False),
    ("credential error", CredentialError("no credentials"), False, False),
    ("credential error from STS throttling", CredentialError("assume_role failed", code="Throttling.User", status=400),
     False, False),
    ("not an AlibabaCloudError", ValueError("x"), False, False),
]


@pytest.mark.parametrize("err, idempotent_retry, write_retry", [d[1:] for d in DECISIONS], ids=[d[0] for d in DECISIONS])
def test_is_retryable(err, idempotent_retry, write_retry):
    assert retries.is_retryable(err, idempotent=True) is idempotent_retry
    assert retries.is_retryable(err, idempotent=False) is write_retry


def test_backoff_bounds_grow_exponentially_and_cap():
    assert retries.backoff_delay(0, rng=lambda: 1.0) == retries.BASE_DELAY
    assert retries.backoff_delay(3, rng=lambda: 1.0) == retries.BASE_DELAY * 8
    assert retries.backoff_delay(30, rng=lambda: 1.0) == retries.MAX_DELAY
    assert retries.backoff_delay(5, rng=lambda: 0.0) == 0.0


def test_backoff_is_jittered_within_bounds():
    delays = [retries.backoff_delay(2) for _ in range(200)]
    assert all(0 <= d <= retries.BASE_DELAY * 4 for d in delays)
    assert len(set(delays)) > 100, "full jitter: parallel forks must not retry in lockstep"


def test_retry_after_is_a_floor_but_capped():
    assert retries.backoff_delay(0, retry_after=3.5, rng=lambda: 0.0) == 3.5
    assert retries.backoff_delay(0, retry_after=0.1, rng=lambda: 1.0) == retries.BASE_DELAY
    assert retries.backoff_delay(0, retry_after=500, rng=lambda: 0.0) == retries.MAX_DELAY


class Flaky(object):
    """Raises the given errors in turn, then returns 'ok'."""

    def __init__(self, *errors):
        self.errors = list(errors)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def run(func, max_retries=5, idempotent=True):
    sleeps, retried = [], []
    wrapped = retries.jittered_backoff(max_retries, should_retry=lambda e: retries.is_retryable(e, idempotent),
                                       sleep=sleeps.append, on_retry=lambda e, d: retried.append((e.code, d)))(func)
    return wrapped, sleeps, retried


def test_retries_until_success_and_counts_attempts():
    func = Flaky(error("Throttling.User", 400), error("ServiceUnavailable", 503))
    wrapped, sleeps, retried = run(func)
    assert wrapped() == "ok"
    assert func.calls == 3 and len(sleeps) == 2
    assert [code for code, _ in retried] == ["Throttling.User", "ServiceUnavailable"]


def test_max_retries_is_respected_and_the_final_error_carries_attempts():
    func = Flaky(*[error("Throttling", 400) for _ in range(10)])
    wrapped, sleeps, _ = run(func, max_retries=3)
    with pytest.raises(AlibabaCloudError) as info:
        wrapped()
    assert func.calls == 4 and len(sleeps) == 3
    assert info.value.attempts == 4


def test_zero_retries_means_one_attempt():
    func = Flaky(error("Throttling", 400))
    wrapped, sleeps, _ = run(func, max_retries=0)
    with pytest.raises(AlibabaCloudError) as info:
        wrapped()
    assert (func.calls, sleeps, info.value.attempts) == (1, [], 1)


def test_non_retryable_error_is_raised_at_once():
    func = Flaky(error("NoPermission", 403))
    wrapped, sleeps, _ = run(func)
    with pytest.raises(AlibabaCloudError) as info:
        wrapped()
    assert (func.calls, sleeps, info.value.attempts) == (1, [], 1)


def test_write_is_not_repeated_after_an_ambiguous_failure():
    func = Flaky(error(TIMEOUT, None, sent=True))
    wrapped, _, _ = run(func, idempotent=False)
    with pytest.raises(AlibabaCloudError):
        wrapped()
    assert func.calls == 1


def test_write_is_repeated_when_nothing_was_sent_or_it_was_throttled():
    func = Flaky(error(CONNECTION_FAILED, None, sent=False), error("Throttling.User", 400))
    wrapped, _, _ = run(func, idempotent=False)
    assert wrapped() == "ok" and func.calls == 3


def test_retry_after_reaches_sleep():
    func = Flaky(error("Throttling", 429, retry_after=2.5))
    wrapped, sleeps, _ = run(func)
    wrapped()
    assert sleeps[0] >= 2.5


def test_other_exceptions_pass_through():
    def boom():
        raise KeyError("x")

    wrapped, sleeps, _ = run(boom)
    with pytest.raises(KeyError):
        wrapped()
    assert sleeps == []
