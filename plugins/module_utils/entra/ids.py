# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The shapes of Microsoft Entra ID identifiers, defined once: the modules' option checks and the rotation
role's plan both use them. No I/O, no imports beyond `re`."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
DOMAIN = re.compile(r"^(?=.{3,253}$)%s(\.%s)+$" % (_LABEL, _LABEL))
# Job IDs look like "<templateId>.<hex>.<hex>"; only characters that are safe in a URL path are accepted.
JOB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


def invalid_entra_options(params):
    """Messages for malformed Entra options, found before any call."""
    problems = []
    if not params.get("tenant_id"):
        problems.append("tenant_id is required (or AZURE_TENANT_ID): the directory (tenant) ID or a verified "
                        "domain of the Entra tenant")
    elif not (GUID.fullmatch(params["tenant_id"]) or DOMAIN.fullmatch(params["tenant_id"])):
        problems.append("tenant_id %r is neither a GUID nor a domain name" % params["tenant_id"])
    if not params.get("client_id"):
        problems.append("client_id is required (or AZURE_CLIENT_ID): the application (client) ID of the "
                        "automation app registration")
    elif not GUID.fullmatch(params["client_id"]):
        problems.append("client_id %r is not a GUID (the application (client) ID of the app registration)"
                        % params["client_id"])
    if not GUID.fullmatch(params.get("service_principal_id") or ""):
        problems.append("service_principal_id %r is not a GUID: give the object ID of the enterprise "
                        "application (service principal)" % params.get("service_principal_id"))
    if params.get("job_id") and not JOB_ID.fullmatch(params["job_id"]):
        problems.append("job_id %r is not a synchronization job ID (for example "
                        "customappsso.2a7b5e0c9d7d4c1f8e3b6a5d4c3b2a10.4f1d2c3b-...)" % params["job_id"])
    return problems
