"""Alibaba Cloud IDaaS EIAM 2021-12-01: an application's account synchronization (provisioning)
configuration, and the simulated IDaaS that pushes users into CloudSSO with its SCIM token.

RPC product ``eiam`` (V3/V2 signatures, RAM checks and events by the core), actions:

- ``GetApplicationProvisioningConfig`` (InstanceId, ApplicationId) -> ``ApplicationProvisioningConfig``
  {ApplicationId, InstanceId, ProvisionProtocolType, ProvisionPassword, Status, ConfigOperateMode
  (``standard`` or ``template``), NetworkAccessEndpointId, ProvisionJwksEndpoint, CallbackProvisioningConfig{...}, ScimProvisioningConfig{ScimBaseUrl,
  ProvisioningActions[], FullPushScopes[], AuthnConfiguration{AuthnMode, GrantType, AuthnParam{AccessToken,
  ClientId, ClientSecret, AuthnMethod, TokenEndpoint}}}}. The AccessToken is returned as saved, or masked
  (``******``) for an application seeded with ``mask_access_token``.
- ``SetApplicationProvisioningConfig``: nested objects arrive flattened (``ScimProvisioningConfig.
  AuthnConfiguration.AuthnParam.AccessToken``, ``...ProvisioningActions.1``) as the SDKs send them; the
  configuration is **replaced** by what was sent (a field left out is gone), as the real API does. Every
  field of the SDK's SetApplicationProvisioningConfigRequest is kept (NetworkAccessEndpointId included);
  the read-only Status, ConfigOperateMode and ProvisionJwksEndpoint stay as they were.

Unknown instance / application: ``EntityNotExists.Instance`` / ``EntityNotExists.Application`` (404; the
real codes are undocumented). Secret request parameters (AccessToken, ClientSecret, EncryptKey) are never
copied into the ActionTrail event.

The IdP kind ``idaas`` (emulator/idps.py) syncs with the application's ScimBaseUrl and AccessToken while
its synchronization Status is ``enabled``.
"""

import copy
import re

from . import idps, registry
from .errors import ApiError, invalid_parameter, missing_parameter
from .util import DEFAULT_ACCOUNT_ID, LOWER_ALNUM, rand_str

SECTION = "idaas"
MASK = "******"
PROTOCOLS = ("scim2", "idaas_callback")
GRANT_TYPES = ("bearer_token", "client_credentials")
AUTHN_MODES = ("oauth2",)
CONFIG_OPERATE_MODES = ("standard", "template")  # eiam 2021-12-01 GetApplicationProvisioningConfig model
SCIM_URN = "urn:alibaba:idaas:app:scim:"
INSTANCE_RE = re.compile(r"^idaas_[a-z0-9]{8,64}$")
APPLICATION_RE = re.compile(r"^app_[a-z0-9]{8,64}$")

PRODUCT = registry.register_rpc(registry.RpcProduct(
    code="eiam", version="2021-12-01", service_name="Eiam", endpoint="eiam", ram_service="eiam",
))

registry.register_state_section(SECTION, lambda: {"instances": {}})


def section(state):
    data = state.section(SECTION)
    data.setdefault("instances", {})
    return data


def unflatten(params, prefix):
    """The nested object sent as `prefix.A.B.1=...` query parameters (lists from numbered keys)."""
    root = {}
    for key, value in params.items():
        if not key.startswith(prefix + "."):
            continue
        node = root
        parts = key[len(prefix) + 1:].split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise invalid_parameter(key)
        node[parts[-1]] = value
    return _listify(root) if root else None


def _listify(node):
    if not isinstance(node, dict):
        return node
    if node and all(k.isdigit() for k in node):
        return [_listify(node[k]) for k in sorted(node, key=int)]
    return dict((k, _listify(v)) for k, v in node.items())


def _bool(value, name):
    if value is None:
        return None
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise invalid_parameter(name, detail="Valid values: true, false.")


def _list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def default_config(instance_id, application_id, base_url=None, token=None, status="enabled"):
    return {
        "ApplicationId": application_id, "InstanceId": instance_id, "ProvisionProtocolType": "scim2",
        "ProvisionPassword": False, "Status": status, "ConfigOperateMode": "standard", "NetworkAccessEndpointId": None,
        "ProvisionJwksEndpoint": "https://%s.aliyunidaas.com/api/v2/%s/provisioning/jwks" % (instance_id, application_id),
        "CallbackProvisioningConfig": {"CallbackUrl": None, "EncryptKey": None, "EncryptRequired": False,
                                       "ListenEventScopes": []},
        "ScimProvisioningConfig": {
            "ScimBaseUrl": base_url,
            "ProvisioningActions": [SCIM_URN + "User:CREATE", SCIM_URN + "User:UPDATE", SCIM_URN + "User:DELETE"],
            "FullPushScopes": [SCIM_URN + "User:PUSH"],
            "AuthnConfiguration": {"AuthnMode": "oauth2", "GrantType": "bearer_token",
                                   "AuthnParam": {"AccessToken": token}},
        },
    }


def add_instance(state, spec):
    data = section(state)
    instance_id = spec.get("instance_id") or "idaas_" + rand_str(LOWER_ALNUM, 26)
    if not INSTANCE_RE.match(instance_id):
        raise ValueError("instance_id must be idaas_ followed by lower-case letters or digits")
    instance = data["instances"].setdefault(instance_id, {
        "instance_id": instance_id, "region": spec.get("region") or state.default_region,
        "account_id": str(spec.get("account_id") or DEFAULT_ACCOUNT_ID), "applications": {}})
    out = {"instance_id": instance_id, "region": instance["region"], "applications": []}
    for app_spec in spec.get("applications") or ():
        out["applications"].append(add_application(state, instance, app_spec))
    state.dirty = True
    return out


def add_application(state, instance, spec):
    application_id = spec.get("application_id") or "app_" + rand_str(LOWER_ALNUM, 26)
    if not APPLICATION_RE.match(application_id) or application_id in instance["applications"]:
        raise ValueError("bad or duplicate application_id %r" % application_id)
    config = default_config(instance["instance_id"], application_id, spec.get("scim_base_url"), spec.get("token"),
                            spec.get("status", "enabled"))
    for key, value in (spec.get("config") or {}).items():
        config[key] = copy.deepcopy(value)
    if config.get("ConfigOperateMode") not in CONFIG_OPERATE_MODES:
        raise ValueError("ConfigOperateMode must be one of %s" % ", ".join(CONFIG_OPERATE_MODES))
    token = ((config.get("ScimProvisioningConfig") or {}).get("AuthnConfiguration") or {}).get("AuthnParam", {}) \
        .get("AccessToken")
    state.remember_secret("idaas_access_token", application_id, token)
    instance["applications"][application_id] = {"application_id": application_id, "config": config,
                                                "mask_access_token": bool(spec.get("mask_access_token", False)),
                                                "sets": 0}
    state.dirty = True
    return {"application_id": application_id, "instance_id": instance["instance_id"]}


def seed_idaas(state, spec):
    if not isinstance(spec, dict):
        raise ValueError("idaas seed must be an object with instances")
    return {"instances": [add_instance(state, i) for i in spec.get("instances") or ()]}


registry.register_seed("idaas", seed_idaas)


# ---------------------------------------------------------------- actions


def _application(ctx):
    instance_id = ctx.param("InstanceId", required=True, code="MissingParameter.InstanceId")
    application_id = ctx.param("ApplicationId", required=True, code="MissingParameter.ApplicationId")
    instance = section(ctx.state)["instances"].get(instance_id)
    if instance is None or instance["account_id"] != ctx.principal.account_id or instance["region"] != ctx.region:
        raise ApiError(404, "EntityNotExists.Instance", "The specified instance %s does not exist." % instance_id)
    app = instance["applications"].get(application_id)
    if app is None:
        raise ApiError(404, "EntityNotExists.Application", "The specified application %s does not exist."
                       % application_id)
    return instance, app


@PRODUCT.add("GetApplicationProvisioningConfig")
def get_application_provisioning_config(ctx):
    idps.scheduler(ctx.req.app)
    _, app = _application(ctx)
    config = copy.deepcopy(app["config"])
    param = (((config.get("ScimProvisioningConfig") or {}).get("AuthnConfiguration") or {}).get("AuthnParam") or {})
    if app["mask_access_token"] and param.get("AccessToken"):
        param["AccessToken"] = MASK
    return {"ApplicationProvisioningConfig": config}


@PRODUCT.add("SetApplicationProvisioningConfig", rw="Write")
def set_application_provisioning_config(ctx):
    idps.scheduler(ctx.req.app)
    params = ctx.params
    instance, app = _application(ctx)
    protocol = params.get("ProvisionProtocolType")
    if not protocol:
        raise missing_parameter("ProvisionProtocolType", "MissingParameter.ProvisionProtocolType")
    if protocol not in PROTOCOLS:
        raise invalid_parameter("ProvisionProtocolType", "InvalidParameter.ProvisionProtocolType",
                                "Valid values: %s." % ", ".join(PROTOCOLS))
    scim = unflatten(params, "ScimProvisioningConfig")
    callback = unflatten(params, "CallbackProvisioningConfig") or {}
    new = {"ApplicationId": app["application_id"], "InstanceId": instance["instance_id"],
           "ProvisionProtocolType": protocol, "ProvisionPassword": _bool(params.get("ProvisionPassword"),
                                                                         "ProvisionPassword") or False,
           "Status": app["config"].get("Status", "enabled"), "ConfigOperateMode": app["config"].get("ConfigOperateMode"),
           "ProvisionJwksEndpoint": app["config"].get("ProvisionJwksEndpoint"),
           "NetworkAccessEndpointId": params.get("NetworkAccessEndpointId") or None,
           "CallbackProvisioningConfig": {"CallbackUrl": callback.get("CallbackUrl"),
                                          "EncryptKey": callback.get("EncryptKey"),
                                          "EncryptRequired": _bool(callback.get("EncryptRequired"),
                                                                   "CallbackProvisioningConfig.EncryptRequired") or False,
                                          "ListenEventScopes": _list(callback.get("ListenEventScopes"))},
           "ScimProvisioningConfig": None}
    if protocol == "scim2":
        if not isinstance(scim, dict) or not scim.get("ScimBaseUrl"):
            raise missing_parameter("ScimProvisioningConfig.ScimBaseUrl", "MissingParameter.ScimBaseUrl")
        authn = scim.get("AuthnConfiguration") if isinstance(scim.get("AuthnConfiguration"), dict) else {}
        if authn.get("AuthnMode", "oauth2") not in AUTHN_MODES:
            raise invalid_parameter("ScimProvisioningConfig.AuthnConfiguration.AuthnMode")
        if authn.get("GrantType") not in GRANT_TYPES:
            raise invalid_parameter("ScimProvisioningConfig.AuthnConfiguration.GrantType",
                                    detail="Valid values: %s." % ", ".join(GRANT_TYPES))
        param = authn.get("AuthnParam") if isinstance(authn.get("AuthnParam"), dict) else {}
        if authn["GrantType"] == "bearer_token" and not param.get("AccessToken"):
            raise missing_parameter("ScimProvisioningConfig.AuthnConfiguration.AuthnParam.AccessToken",
                                    "MissingParameter.AccessToken")
        for name in ("ProvisioningActions", "FullPushScopes"):
            for value in _list(scim.get(name)):
                if not str(value).startswith(SCIM_URN):
                    raise invalid_parameter("ScimProvisioningConfig.%s" % name, detail="Unknown value %s." % value)
        ctx.state.remember_secret("idaas_access_token", app["application_id"], param.get("AccessToken"))
        ctx.state.remember_secret("idaas_client_secret", app["application_id"], param.get("ClientSecret"))
        new["ScimProvisioningConfig"] = {
            "ScimBaseUrl": scim["ScimBaseUrl"], "ProvisioningActions": _list(scim.get("ProvisioningActions")),
            "FullPushScopes": _list(scim.get("FullPushScopes")),
            "AuthnConfiguration": {"AuthnMode": authn.get("AuthnMode", "oauth2"), "GrantType": authn["GrantType"],
                                   "AuthnParam": dict((k, param.get(k)) for k in (
                                       "AccessToken", "ClientId", "ClientSecret", "AuthnMethod", "TokenEndpoint")
                                       if param.get(k) is not None)}}
    ctx.state.remember_secret("idaas_encrypt_key", app["application_id"], callback.get("EncryptKey"))
    app["config"] = new
    app["sets"] += 1
    ctx.state.dirty = True
    return {}


# ---------------------------------------------------------------- the idaas IdP kind


class IdaasKind(idps.Kind):
    """An IDaaS application: syncs with its ScimBaseUrl and AccessToken while synchronization is enabled."""

    name = "idaas"
    user_agent = "AlibabaCloud-IDaaS-Provisioning (emulated)"

    def create(self, state, app, idp, spec):
        data = section(state)
        instance_id = spec.get("instance_id")
        instance = data["instances"].get(instance_id) if instance_id else None
        if instance is None:
            directory = state.directories[idp["directory_id"]]
            instance_id = add_instance(state, {"instance_id": instance_id, "region": spec.get("instance_region"),
                                               "account_id": spec.get("account_id") or directory["account_id"]}
                                       )["instance_id"]
            instance = data["instances"][instance_id]
        application_id = spec.get("application_id")
        if application_id is None or application_id not in instance["applications"]:
            base_url = spec.get("scim_base_url") or idps.local_scim_base(app, idp["region"])
            token = spec.get("token")
            if spec.get("token_file"):
                token = idps.read_token_file(spec["token_file"])
            application_id = add_application(state, instance, {
                "application_id": application_id, "scim_base_url": base_url, "token": token,
                "mask_access_token": spec.get("mask_access_token", False)})["application_id"]
        idp["instance_id"] = instance_id
        idp["application_id"] = application_id
        return {"instance_id": instance_id, "application_id": application_id, "instance_region": instance["region"]}

    def _config(self, state, idp):
        instance = section(state)["instances"].get(idp.get("instance_id")) or {}
        app = instance.get("applications", {}).get(idp.get("application_id"))
        return app["config"] if app else None

    def held(self, state, idp):
        config = self._config(state, idp) or {}
        scim = config.get("ScimProvisioningConfig") or {}
        authn = scim.get("AuthnConfiguration") or {}
        if config.get("ProvisionProtocolType") != "scim2" or authn.get("GrantType") != "bearer_token":
            return None, None
        return scim.get("ScimBaseUrl"), (authn.get("AuthnParam") or {}).get("AccessToken")

    def runnable(self, state, idp):
        config = self._config(state, idp)
        if config is None:
            return False, "the application was deleted"
        if config.get("Status") != "enabled":
            return False, "account synchronization is disabled"
        return True, None

    def view(self, state, idp):
        config = self._config(state, idp) or {}
        return {"instance_id": idp.get("instance_id"), "application_id": idp.get("application_id"),
                "provisioning_status": config.get("Status")}


idps.register_kind(IdaasKind())
