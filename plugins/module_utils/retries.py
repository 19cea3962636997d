# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Retries with jittered exponential backoff, and the one rule that decides what may be retried."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import random
import time

from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import (
    ApiError,
    CredentialError,
    CONNECTION_FAILED,
    INVALID_ENDPOINT,
    TIMEOUT,
    TLS_ERROR,
)

DEFAULT_MAX_RETRIES = 5
BASE_DELAY = 0.5
MAX_DELAY = 20.0

SERVER_ERROR_CODES = ("ServiceUnavailable", "InternalError", "InternalFailure", "ServiceTimeout")


def is_retryable(error, idempotent=True):
    """May `error` be retried?

    Always: the request never left this machine, or the service refused it without acting on it
    (throttling). Only for idempotent calls: server errors and timeouts, after which a write may or may
    not have been applied. A non-idempotent call (CreateSCIMServerCredential has no client token) is
    never repeated after it may have reached the server: the caller lists and compares instead.
    """
    if not isinstance(error, ApiError) or isinstance(error, CredentialError):
        return False
    if error.code in (TLS_ERROR, INVALID_ENDPOINT) or getattr(error, "final", False):
        return False
    if not error.request_sent:
        return True
    if error.is_throttling:
        return True
    if not idempotent:
        return False
    if error.code in SERVER_ERROR_CODES or (error.status is not None and error.status >= 500):
        return True
    return error.code in (TIMEOUT, CONNECTION_FAILED)


def backoff_delay(attempt, retry_after=None, base_delay=BASE_DELAY, max_delay=MAX_DELAY, rng=random.random):
    """Full jitter: a random delay in [0, min(max_delay, base * 2**attempt)], but never shorter than the
    wait the service asked for (`retry_after`, seconds)."""
    ceiling = min(max_delay, base_delay * (2 ** attempt))
    delay = ceiling * rng()
    if retry_after is not None:
        delay = max(delay, min(float(retry_after), max_delay))
    return delay


def jittered_backoff(max_retries=DEFAULT_MAX_RETRIES, should_retry=is_retryable, base_delay=BASE_DELAY,
                     max_delay=MAX_DELAY, sleep=None, on_retry=None):
    """Decorator: call the function, retrying ApiError (any service's) for which `should_retry(error)` is true,
    at most `max_retries` times. The final error carries `attempts`. `sleep` and `on_retry(error, delay)`
    are hooks for tests and logging."""

    def decorator(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            attempt = 0
            while True:
                try:
                    return func(*args, **kwargs)
                except ApiError as error:
                    error.attempts = attempt + 1
                    if attempt >= max_retries or not should_retry(error):
                        raise
                    delay = backoff_delay(attempt, error.retry_after, base_delay, max_delay)
                    if on_retry:
                        on_retry(error, delay)
                    (sleep or time.sleep)(delay)
                    attempt += 1
        return wrapper

    return decorator
