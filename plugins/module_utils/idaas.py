# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Alibaba Cloud IDaaS (EIAM 2021-12-01): the SCIM bearer token of an application's account
synchronization (provisioning) configuration.

SetApplicationProvisioningConfig replaces the whole configuration, so the token is changed by reading
the configuration (GetApplicationProvisioningConfig), changing AccessToken and ScimBaseUrl only, and
writing everything back. Nested request objects travel flattened in the query string, the way the
official SDKs send them: `ScimProvisioningConfig.AuthnConfiguration.AuthnParam.AccessToken`,
`ScimProvisioningConfig.ProvisioningActions.1`.

`IDaaSTokenRunner(module).run()` is the idaas_provisioning_token module; its decisions are the pure
functions above it (`invalid_idaas_options`, `plan_token_update`, `token_diff`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.alicloud.cloudsso.plugins.module_utils.endpoints import is_valid_region
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import ApiError
from ansible_collections.alicloud.cloudsso.plugins.module_utils.secret_file import SecretFileError, read_candidate_token

INSTANCE_ID_PATTERN = re.compile(r"^idaas_[a-z0-9]{8,64}$")
APPLICATION_ID_PATTERN = re.compile(r"^app_[a-z0-9]{8,64}$")

SCIM2 = "scim2"
BEARER_TOKEN = "bearer_token"
OAUTH2 = "oauth2"

# Request fields of SetApplicationProvisioningConfig (alibabacloud-eiam20211201 3.0.1,
# SetApplicationProvisioningConfigRequest), each also in the Get answer; the Set replaces the whole
# configuration, so every one of them the Get returned is written back. Fields of the Get answer that are
# not here (Status, ConfigOperateMode, ProvisionJwksEndpoint) are read-only.
TOP_FIELDS = ("ProvisionPassword", "NetworkAccessEndpointId")
CALLBACK_FIELDS = ("CallbackUrl", "EncryptKey", "EncryptRequired", "ListenEventScopes")
SCIM_FIELDS = ("ScimBaseUrl", "ProvisioningActions", "FullPushScopes")
AUTHN_FIELDS = ("AuthnMode", "GrantType")
AUTHN_PARAM_FIELDS = ("AccessToken", "AuthnMethod", "ClientId", "ClientSecret", "TokenEndpoint")


class IDaaSConfigError(ValueError):
    """The application's configuration is not one whose token this collection may change."""


def invalid_idaas_ids(params):
    problems = []
    if not INSTANCE_ID_PATTERN.fullmatch(params.get("instance_id") or ""):
        problems.append("instance_id %r is not an IDaaS EIAM instance ID (for example "
                        "idaas_ue2jvisn35ea5lmthk267abcde)" % params.get("instance_id"))
    if not APPLICATION_ID_PATTERN.fullmatch(params.get("application_id") or ""):
        problems.append("application_id %r is not an IDaaS application ID (for example "
                        "app_mkv7rgt4d7i4u7zqtzev2mabcd)" % params.get("application_id"))
    return problems


def invalid_idaas_options(params):
    """Messages for malformed options of idaas_provisioning_token, found before any call."""
    problems = invalid_idaas_ids(params)
    if params.get("directory_region") is not None and not is_valid_region(params["directory_region"]):
        problems.append("directory_region %r is not a valid Alibaba Cloud region ID (for example cn-shanghai)"
                        % params["directory_region"])
    return problems


def flatten(value, prefix="", out=None):
    """Nested dicts and lists as RPC query parameters: dotted keys, lists numbered from 1, booleans as
    true / false. None values are left out."""
    out = {} if out is None else out
    if value is None:
        return out
    if isinstance(value, dict):
        for key, item in value.items():
            flatten(item, "%s.%s" % (prefix, key) if prefix else key, out)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            flatten(item, "%s.%d" % (prefix, index + 1), out)
    elif isinstance(value, bool):
        out[prefix] = "true" if value else "false"
    else:
        out[prefix] = str(value)
    return out


def is_masked(value):
    """True when a returned token cannot be compared with ours: absent, empty, or masked with `*`."""
    return not value or "*" in value


def _pick(source, fields):
    # None and empty lists travel as nothing at all once flattened, so they are left out.
    source = source if isinstance(source, dict) else {}
    return dict((k, source[k]) for k in fields if source.get(k) is not None and source.get(k) != [])


def secrets_in(config):
    """Secret values an application's provisioning configuration holds (to be masked in all output)."""
    scim = config.get("ScimProvisioningConfig") or {}
    param = (scim.get("AuthnConfiguration") or {}).get("AuthnParam") or {}
    callback = config.get("CallbackProvisioningConfig") or {}
    return [v for v in (param.get("AccessToken"), param.get("ClientSecret"), callback.get("EncryptKey"))
            if v and not is_masked(v)]


def plan_token_update(config, scim_base_url, token):
    """What SetApplicationProvisioningConfig must carry to change the token and the SCIM base URL and
    nothing else, and what changes.

    Returns (request, changes): `request` is the nested request (without InstanceId / ApplicationId);
    `changes` is dict(token_changed (True, False, or None when the saved token cannot be read back),
    scim_endpoint_changed, previous_scim_endpoint). Raises IDaaSConfigError when the application is not
    set up for SCIM with a bearer token: this collection changes a token, not a synchronization setup.
    """
    config = config if isinstance(config, dict) else {}
    protocol = config.get("ProvisionProtocolType")
    scim = config.get("ScimProvisioningConfig") if isinstance(config.get("ScimProvisioningConfig"), dict) else None
    if protocol != SCIM2 or not scim:
        raise IDaaSConfigError(
            "the application's account synchronization is not set up for SCIM (protocol %r); configure SCIM "
            "synchronization with a bearer token in the IDaaS console first: this module only replaces the token"
            % protocol)
    authn = scim.get("AuthnConfiguration") if isinstance(scim.get("AuthnConfiguration"), dict) else {}
    if authn.get("GrantType") != BEARER_TOKEN:
        raise IDaaSConfigError(
            "the application's SCIM synchronization authenticates with grant type %r, not %r; switch it to a bearer "
            "token in the IDaaS console first" % (authn.get("GrantType"), BEARER_TOKEN))
    param = authn.get("AuthnParam") if isinstance(authn.get("AuthnParam"), dict) else {}
    saved_token = param.get("AccessToken")
    previous_url = scim.get("ScimBaseUrl")

    new_param = _pick(param, AUTHN_PARAM_FIELDS)
    new_param["AccessToken"] = token
    new_authn = _pick(authn, AUTHN_FIELDS)
    new_authn.setdefault("AuthnMode", OAUTH2)
    new_authn["AuthnParam"] = new_param
    new_scim = _pick(scim, SCIM_FIELDS)
    new_scim["ScimBaseUrl"] = scim_base_url
    new_scim["AuthnConfiguration"] = new_authn

    request = _pick(config, TOP_FIELDS)
    request.update(ProvisionProtocolType=protocol, ScimProvisioningConfig=new_scim)
    callback = _pick(config.get("CallbackProvisioningConfig"), CALLBACK_FIELDS)
    if callback:
        request["CallbackProvisioningConfig"] = callback

    changes = dict(
        token_changed=None if is_masked(saved_token) else saved_token != token,
        scim_endpoint_changed=(previous_url or "").rstrip("/") != scim_base_url.rstrip("/"),
        previous_scim_endpoint=previous_url,
    )
    return request, changes


class IDaaS(object):
    """The provisioning configuration actions; `client` is an RpcClient for product eiam."""

    def __init__(self, client):
        self.client = client

    def get_provisioning_config(self, instance_id, application_id):
        answer = self.client.call("GetApplicationProvisioningConfig",
                                  {"InstanceId": instance_id, "ApplicationId": application_id})
        config = answer.get("ApplicationProvisioningConfig")
        return config if isinstance(config, dict) else {}

    def set_provisioning_config(self, instance_id, application_id, request):
        params = {"InstanceId": instance_id, "ApplicationId": application_id}
        params.update(flatten(request))
        # The whole configuration is written each time, so repeating the call after an ambiguous failure is safe.
        self.client.call("SetApplicationProvisioningConfig", params, idempotent=True)


def token_diff(previous_scim_endpoint, scim_base_url, token_changed):
    """idaas_provisioning_token's diff: the SCIM base URL before and after, and whether the token is
    replaced (`token_changed` as plan_token_update says); never a token."""
    token_note = {True: "(replaced)", False: "(unchanged)", None: "(written; the saved one cannot be read)"}
    return dict(before=dict(scim_base_url=previous_scim_endpoint, access_token="(hidden)"),
                after=dict(scim_base_url=scim_base_url, access_token=token_note[token_changed]))


class IDaaSTokenRunner(object):
    """idaas_provisioning_token: read the application's provisioning configuration, and write it back with
    the new token and SCIM base URL when either differs."""

    def __init__(self, module):
        self.module = module
        self.params = module.params

    def run(self):
        module, p = self.module, self.params
        module.fail_on(invalid_idaas_options(p))
        try:
            token, _metadata = read_candidate_token(p, module.register_secret)
        except SecretFileError as error:
            module.fail_json(msg=str(error), changed=False)
        base_url = module.scim_endpoint(p["scim_endpoint"], region=p["directory_region"])
        result = dict(changed=False, instance_id=p["instance_id"], application_id=p["application_id"],
                      scim_endpoint=base_url)
        try:
            self.update(IDaaS(module.client()), base_url, token, result)
        except ApiError as error:
            module.fail_from(error, **result)
        if module.diff_mode:
            result["diff"] = token_diff(result["previous_scim_endpoint"], base_url, result["token_changed"])
        module.exit_json(**result)

    def update(self, api, base_url, token, result):
        module, p = self.module, self.params
        config = api.get_provisioning_config(p["instance_id"], p["application_id"])
        for secret in secrets_in(config):
            module.register_secret(secret)
        try:
            request, changes = plan_token_update(config, base_url, token)
        except IDaaSConfigError as error:
            module.fail_json(msg=str(error), **result)
        result.update(
            previous_scim_endpoint=changes["previous_scim_endpoint"],
            token_changed=changes["token_changed"],
            token_comparable=changes["token_changed"] is not None,
            scim_endpoint_changed=changes["scim_endpoint_changed"],
            provisioning_status=config.get("Status"),
        )
        result["changed"] = changes["token_changed"] is not False or changes["scim_endpoint_changed"]
        if result["changed"] and not module.check_mode:
            api.set_provisioning_config(p["instance_id"], p["application_id"], request)
