# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The SCIM token probe: does CloudSSO's SCIM endpoint accept this bearer token? Also the scim_token_check
module's runner and its deciders."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import AlibabaCloudError
from ansible_collections.alicloud.cloudsso.plugins.module_utils.secret_file import SecretFileError, read_token_file
from ansible_collections.alicloud.cloudsso.plugins.module_utils.transport import send, shorten
from ansible_collections.alicloud.cloudsso.plugins.module_utils.retries import is_retryable, jittered_backoff

# RFC 7644 says 401 for a bad token; CloudSSO's exact status is undocumented, so 403 counts as rejected too.
REJECTED_STATUSES = (401, 403)


def _scim_error_detail(response):
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict):
        detail = body.get("detail") or body.get("Message") or body.get("message")
        return shorten(detail) if detail else None
    return None


def probe_token(session, base_url, token, timeout=30, validate_certs=True, max_retries=5, sleep=None):
    """GET <base_url>/Users?count=1 with the token. Discovery endpoints may not need authentication,
    so the probe reads a resource that does.

    Returns dict(authenticated, status, detail, attempts). Raises AlibabaCloudError when the endpoint
    cannot give an answer about the token (unreachable, 404, 5xx after retries).
    """
    url = base_url.rstrip("/") + "/Users?count=1"
    headers = {"Authorization": "Bearer %s" % token, "Accept": "application/scim+json"}
    attempts = [0]

    @jittered_backoff(max_retries, should_retry=is_retryable, sleep=sleep)
    def attempt():
        attempts[0] += 1
        response = send(session, "GET", url, headers=headers, timeout=timeout, validate_certs=validate_certs,
                        action="SCIM GET /Users")
        if response.status_code == 429 or response.status_code >= 500:
            raise AlibabaCloudError("the SCIM endpoint answered HTTP %s" % response.status_code,
                                    status=response.status_code, action="SCIM GET /Users", endpoint=base_url,
                                    retry_after=_retry_after(response))
        return response

    response = attempt()
    status = response.status_code
    if 200 <= status < 300:
        return dict(authenticated=True, status=status, detail=None, attempts=attempts[0])
    if status in REJECTED_STATUSES:
        return dict(authenticated=False, status=status, detail=_scim_error_detail(response), attempts=attempts[0])
    raise AlibabaCloudError(
        "the SCIM endpoint answered HTTP %s, which says nothing about the token; check scim_endpoint (it should "
        "end with /scim/v2)" % status, status=status, action="SCIM GET /Users", endpoint=base_url)


def _retry_after(response):
    try:
        return float(response.headers.get("Retry-After"))
    except (TypeError, ValueError):
        return None


# --- the scim_token_check module -------------------------------------------------------------------------

def token_check_result(outcome, base_url, credential_id=None):
    """The module's result from probe_token()'s `outcome`."""
    result = dict(changed=False, authenticated=outcome["authenticated"], status=outcome["status"],
                  scim_endpoint=base_url, attempts=outcome["attempts"])
    if outcome["detail"]:
        result["detail"] = outcome["detail"]
    if credential_id:
        result["credential_id"] = credential_id
    return result


def expectation_failure(expect, outcome, base_url, credential_id=None):
    """The failure message when the probe's `outcome` is not what `expect` (accepted, rejected, any) asks
    for, else None."""
    which = "the token of %s" % credential_id if credential_id else "the token"
    if expect == "accepted" and not outcome["authenticated"]:
        reason = ": %s" % outcome["detail"] if outcome["detail"] else ""
        return "%s was rejected by %s (HTTP %s%s), but it must work" % (which, base_url, outcome["status"], reason)
    if expect == "rejected" and outcome["authenticated"]:
        return "%s still works at %s (HTTP %s), but it must be rejected" % (which, base_url, outcome["status"])
    return None


class ScimTokenCheckRunner(object):
    """Runs the scim_token_check module on an AlibabaCloudModule."""

    def __init__(self, module):
        self.module = module
        self.params = module.params

    def run(self):
        p = self.params
        token, credential_id = self._token()
        base_url = self.module.scim_endpoint(p["scim_endpoint"])
        try:
            outcome = probe_token(self.module.session, base_url, token, timeout=p["timeout"],
                                  validate_certs=p["validate_certs"], max_retries=p["max_retries"])
        except AlibabaCloudError as error:
            self.module.fail_from(error, scim_endpoint=base_url)
        result = token_check_result(outcome, base_url, credential_id)
        failure = expectation_failure(p["expect"], outcome, base_url, credential_id)
        if failure:
            self.module.fail_json(msg=failure, **result)
        self.module.exit_json(**result)

    def _token(self):
        """(token, credential ID or None): from `token`, or read from `token_file` (then masked)."""
        path = self.params["token_file"]
        if not path:
            return self.params["token"], None
        try:
            token, fields = read_token_file(path)
        except SecretFileError as error:
            self.module.fail_json(msg=str(error))
        self.module.register_secret(token)
        return token, fields.get("credential_id")
