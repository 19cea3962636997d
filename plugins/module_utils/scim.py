# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The SCIM token probe: does CloudSSO's SCIM endpoint accept this bearer token?"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import AlibabaCloudError
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
