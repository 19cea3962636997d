# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Microsoft Entra ID (Microsoft Graph) options shared by the entra_* modules.
    DOCUMENTATION = r"""
options:
  tenant_id:
    description:
      - The Entra ID tenant, as its directory (tenant) ID or one of its verified domains.
      - Defaults to E(AZURE_TENANT_ID), then E(AZURE_TENANT) (the name the azure.azcollection collection uses).
    type: str
    aliases: [tenant]
  client_id:
    description:
      - The application (client) ID of the app registration this collection signs in as (the automation
        app, not the enterprise application being provisioned).
      - Defaults to E(AZURE_CLIENT_ID).
    type: str
  client_secret:
    description:
      - A client secret of the automation app (its value, not its secret ID). Never logged.
      - Give at most one of O(client_secret), O(client_certificate_path), O(client_assertion) and
        O(client_assertion_file). Without any of them the environment is read, in this order,
        E(AZURE_CLIENT_SECRET) or E(AZURE_SECRET), E(AZURE_CLIENT_CERTIFICATE_PATH) (with
        E(AZURE_CLIENT_CERTIFICATE_PASSWORD)), E(AZURE_FEDERATED_TOKEN_FILE).
    type: str
    aliases: [secret]
  client_certificate_path:
    description:
      - A PEM file with the certificate uploaded to the automation app. The module signs a client assertion
        (RS256, C(x5t) thumbprint) with the matching RSA private key, which may be in the same file.
      - Needs the Python library C(cryptography); without it give a prebuilt O(client_assertion).
    type: path
  client_certificate_key_path:
    description:
      - A PEM file with the private key of O(client_certificate_path), when that file does not hold it.
    type: path
  client_certificate_password:
    description:
      - The password of an encrypted private key. Never logged.
      - Defaults to E(AZURE_CLIENT_CERTIFICATE_PASSWORD).
    type: str
  client_assertion:
    description:
      - A signed JWT client assertion for the automation app, built elsewhere. Never logged.
    type: str
  client_assertion_file:
    description:
      - A file holding a client assertion, read at each token request, for example the federated token of
        workload identity federation (E(AZURE_FEDERATED_TOKEN_FILE) in a Kubernetes pod).
      - It must hold the assertion alone, on one line (printable ASCII, no spaces, at most 16384 characters);
        any other content is refused before any network call, without showing it. A symbolic link is
        followed (Kubernetes mounts projected tokens as links), a FIFO or a device is refused.
    type: path
  service_principal_id:
    description:
      - The object ID of the enterprise application (service principal) whose provisioning is managed,
        as shown on its Overview page. Not the application (client) ID.
    type: str
    required: true
  job_id:
    description:
      - The ID of the application's provisioning (synchronization) job.
      - When not given, the application's only job is used; the task fails and lists the jobs when there
        are several, or when there is none.
    type: str
  graph_endpoint:
    description:
      - The Microsoft Graph base URL, for a national cloud (for example V(https://graph.microsoft.us)) or for
        the emulator in the source repository. The token is requested for C(<graph_endpoint>/.default).
      - Defaults to O(base_url), E(ALIBABA_CLOUD_CLOUDSSO_GRAPH_ENDPOINT), then V(https://graph.microsoft.com).
    type: str
  login_endpoint:
    description:
      - The Entra ID login (authority) base URL; tokens come from
        C(<login_endpoint>/<tenant_id>/oauth2/v2.0/token).
      - Defaults to O(base_url), E(ALIBABA_CLOUD_CLOUDSSO_LOGIN_ENDPOINT), E(AZURE_AUTHORITY_HOST), then
        V(https://login.microsoftonline.com).
    type: str
notes:
  - The automation app needs the Microsoft Graph B(application) permission C(Application.ReadWrite.OwnedBy)
    and must be an owner of the enterprise application (least privilege), or C(Synchronization.ReadWrite.All),
    with admin consent in both cases.
  - One access token is requested per task and reused by its calls. Throttling (HTTP 429) is retried after
    the C(Retry-After) the service asks for; HTTP 409 and 403, which Graph answers for a short while after a
    change, are retried a few times; server errors and connection failures up to O(max_retries) times.
  - Error messages from Graph and from the login endpoint are scrubbed of every secret and token before
    they are shown.
  - The Alibaba Cloud options of the C(alicloud.cloudsso.auth) fragment are accepted so that
    C(module_defaults) for the action group C(alicloud.cloudsso.cloudsso) applies.
"""
