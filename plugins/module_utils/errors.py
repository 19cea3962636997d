# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The exceptions for remote failures, and the words that explain them to a user.

`ApiError` is what every remote failure is, whatever the service: code that handles any of them catches
it (the retry decorator, the module base's `fail_from`). `AlibabaCloudError` is a failed call to an Alibaba
Cloud API (and any failure below one: connection, TLS, timeout); Microsoft Graph failures are
`entra.client.GraphError`. A kind of error that has its own words for a user overrides `explanation()`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ApiError(Exception):
    """A failed call to a remote API.

    `status` is the HTTP status (None when no answer came back), `code` the service's error code,
    `request_id` the service's request ID. `request_sent` tells the retry logic whether the request may
    have reached the server: False only when the connection failed before anything was sent. `final`: no
    retry can help (a host name that does not exist, a refused connection to this machine).
    """

    def __init__(self, message, code=None, status=None, request_id=None, action=None, endpoint=None,
                 recommend=None, request_sent=True, retry_after=None, attempts=1, final=False):
        super(ApiError, self).__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.request_id = request_id
        self.action = action
        self.endpoint = endpoint
        self.recommend = recommend
        self.request_sent = request_sent
        self.retry_after = retry_after
        self.attempts = attempts
        self.final = final

    @property
    def is_throttling(self):
        return bool(self.code and self.code.startswith("Throttling")) or self.status == 429

    @property
    def is_connection_error(self):
        return self.status is None and self.code in (CONNECTION_FAILED, TIMEOUT)

    def to_dict(self):
        """What a module returns under `error`: never a secret, only what the service said."""
        return dict((k, v) for k, v in (
            ("code", self.code), ("message", self.message), ("http_status", self.status),
            ("request_id", self.request_id), ("action", self.action), ("attempts", self.attempts),
        ) if v is not None)

    def explanation(self, product=None, setting=None):
        """This kind of error's own message for `explain()`, or None to use the common one."""
        return None


class AlibabaCloudError(ApiError):
    """A failed call to an Alibaba Cloud API, or a failure below one (connection, TLS, timeout)."""


class CredentialError(AlibabaCloudError):
    """No usable Alibaba Cloud credentials, or a credential source failed."""

    def __init__(self, message, **kwargs):
        kwargs.setdefault("code", "CredentialError")
        kwargs.setdefault("request_sent", False)
        super(CredentialError, self).__init__(message, **kwargs)


# Codes for failures that happen below the API (the client makes these up; the service never sends them).
CONNECTION_FAILED = "ConnectionFailed"
TIMEOUT = "Timeout"
TLS_ERROR = "TLSError"
INVALID_ENDPOINT = "InvalidEndpoint"

# RAM action names by product, so a permission error can name the action to allow.
RAM_PREFIX = {"cloudsso": "cloudsso", "actiontrail": "actiontrail", "sts": "sts", "eiam": "eiam"}


def ram_action(product, action):
    return "%s:%s" % (RAM_PREFIX.get(product, product), action)


def governed_by(setting):
    """Where to look when an endpoint cannot be reached: the setting that chose it, else the region."""
    if setting:
        return "check %s (it chose this endpoint) and the network" % setting
    return "check region (this is the public endpoint; endpoint_url or base_url override it) and the network"


def explain(error, product=None, setting=None):
    """A sentence or two that names the problem and the way out. Built only from the error's
    code, action and the service's message, which never holds a secret. `setting` is the option or
    environment variable that chose the endpoint the error happened at (None: the public endpoint).
    `error` is any ApiError; one with its own words (a GraphError) explains itself."""
    own = error.explanation(product, setting) if isinstance(error, ApiError) else None
    if own:
        return own
    code = error.code or ""
    action = error.action or "the request"
    where = " at %s" % error.endpoint if error.endpoint else ""
    if isinstance(error, CredentialError):
        return "No usable Alibaba Cloud credentials: %s" % error.message
    if code == CONNECTION_FAILED:
        check = governed_by(setting)
        return ("Cannot reach the endpoint%s for %s: %s. %s%s (proxy, firewall, DNS)."
                % (where, action, error.message, check[0].upper(), check[1:]))
    if code == TLS_ERROR:
        return "TLS to the endpoint%s failed for %s: %s" % (where, action, error.message)
    if code == INVALID_ENDPOINT:
        return "The endpoint URL for %s is not usable: %s" % (action, error.message)
    if code == TIMEOUT:
        return ("%s timed out%s after %s attempt(s): %s. Raise `timeout`, or %s."
                % (action, where, error.attempts, error.message, governed_by(setting)))
    if code == "SignatureDoesNotMatch":
        return ("%s was rejected with SignatureDoesNotMatch: the access key secret does not belong to the access "
                "key ID (or the request was altered by a proxy). Check access_key_secret." % action)
    if code.startswith("InvalidAccessKeyId"):
        return ("%s was rejected with %s: the access key ID is unknown or disabled. Check access_key_id and that "
                "the key is active in the RAM console." % (action, code))
    if code.startswith("InvalidSecurityToken") or code in ("MissingSecurityToken", "SecurityTokenExpired"):
        return ("%s was rejected with %s: the STS security token is missing, expired or does not match the "
                "access key. Get a fresh token (or let assume_role refresh it)." % (action, code))
    if code.startswith("InvalidTimeStamp") or code in ("RequestTimeTooSkewed",):
        return ("%s was rejected with %s: the clock of this machine differs from Alibaba Cloud's. Synchronize "
                "the clock (NTP)." % (action, code))
    if code in ("NoPermission", "Forbidden.RAM", "Forbidden", "Forbidden.NoPermission") or \
            code.startswith("NoPermission") or code.startswith("Forbidden"):
        needed = ram_action(product, error.action) if product and error.action else "the action"
        return ("%s was denied (%s): the RAM identity lacks permission. Allow `%s` in its RAM policy. "
                "Service message: %s" % (action, code, needed, error.message))
    if code == "EntityNotExists.Directory":
        return ("%s failed with %s: no such directory in this region%s. Check directory_id and region: a CloudSSO "
                "directory lives in one region, and in one account (its management account has only this one), so "
                "the credentials must be that account's (per inventory host: scim_rotation_auth, for example its "
                "assume_role). Service message: %s" % (action, code, where, error.message))
    if code.startswith("EntityNotExists"):
        return "%s failed with %s: %s" % (action, code, error.message)
    if error.is_throttling:
        return ("%s was still throttled (%s) after %s attempt(s). Lower the play's forks or raise max_retries."
                % (action, code or error.status, error.attempts))
    if code.startswith("MissingParameter") or code.startswith("InvalidParameter"):
        return "%s rejected a parameter (%s): %s" % (action, code, error.message)
    detail = "HTTP %s" % error.status if error.status else "no answer"
    if error.status and error.status >= 500:
        return ("%s failed on the server side (%s, %s) after %s attempt(s): %s"
                % (action, code or "no code", detail, error.attempts, error.message))
    return "%s failed (%s, %s): %s" % (action, code or "no code", detail, error.message)
