"""idaas_provisioning_token through ansible-playbook against the emulator's IDaaS (EIAM 2021-12-01).

The playbook (test_roles/idaas_provisioning) asserts the module's results; this file checks what only the
emulator sees: the Set calls made (none in check mode, none when nothing changed), that everything else
in the configuration survived the read-merge-write, that the simulated IDaaS then syncs with the new
credential, and that no secret shows at -vvvv or in the log file.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from test_idp_harness import calls  # noqa: E402

from tests.helpers.ansible import REGION  # noqa: E402
from tests.helpers.emulator import make_access_key  # noqa: E402

from ansible_collections.alicloud.cloudsso.plugins.module_utils.client import RpcClient  # noqa: E402
from ansible_collections.alicloud.cloudsso.plugins.module_utils.credentials import (  # noqa: E402
    Credential,
    StaticProvider,
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.idaas import IDaaS  # noqa: E402

SCIM_URN = "urn:alibaba:idaas:app:scim:"


def test_idaas_token_read_merge_write(cloud):
    emu, ak = cloud.emulator, cloud.access_key
    weak = make_access_key(permissions=["eiam:GetApplicationProvisioningConfig"])
    emu.control.seed({"access_keys": [weak]})
    directory_id, (old,) = cloud.directory(credentials=[{}])
    scim_base = "%s/region/%s/scim/v2" % (emu.url, REGION)
    idp = emu.control.call("POST", "idps", {"kind": "idaas", "directory_id": directory_id, "token": old["secret"],
                                            "users": 2, "interval": 0})
    instance_id = idp["instance_id"]
    assert emu.control.call("POST", "idps/%s/sync" % idp["idp_id"])["cycle"]["credential_id"] == old["credential_id"]
    extra_apps = emu.control.seed({"idaas": {"instances": [{"instance_id": instance_id, "applications": [
        {"token": old["secret"], "scim_base_url": scim_base, "mask_access_token": True},
        {"config": {"ProvisionProtocolType": "idaas_callback", "ScimProvisioningConfig": None}},
        {"token": None, "scim_base_url": scim_base, "config": {"ScimProvisioningConfig": {
            "ScimBaseUrl": scim_base, "ProvisioningActions": [SCIM_URN + "User:CREATE"],
            "AuthnConfiguration": {"AuthnMode": "oauth2", "GrantType": "client_credentials",
                                   "AuthnParam": {"ClientId": "cid", "AuthnMethod": "client_secret_post"}}}}},
    ]}]}})["idaas"]["instances"][0]["applications"]
    masked, callback, client_credentials = [a["application_id"] for a in extra_apps]

    api = IDaaS(RpcClient("eiam", REGION, credentials=StaticProvider(Credential(ak["id"], ak["secret"])),
                          endpoint_url=emu.url + "/region/" + REGION))
    before = api.get_provisioning_config(instance_id, idp["application_id"])

    emu.control.reset_calls()
    new_file = os.path.join(cloud.secrets_dir, "new.json")
    cloud.runner.allow_secret_file(new_file)
    cloud.runner.target("idaas_provisioning", dict(
        emulator_url=emu.url, directory_id=directory_id, directory_region=REGION, scim_base=scim_base,
        idp_id=idp["idp_id"], idaas_instance_id=instance_id, idaas_application_id=idp["application_id"],
        idaas_masked_application_id=masked, idaas_callback_application_id=callback,
        idaas_client_credentials_application_id=client_credentials, weak_key_id=weak["id"],
        new_secret_file=new_file, old_secret_file=old["secret_file"]), tags="idaas",
        env=dict(IDAAS_TEST_WEAK_SECRET=weak["secret"]))

    counts = emu.control.calls()["counts"]
    # main app: once (not in check mode, not on the re-run); masked app: twice; the denied try: once
    assert counts["eiam:SetApplicationProvisioningConfig"] == 4
    sets = calls(emu, ("eiam",), "SetApplicationProvisioningConfig")
    assert [c["status"] for c in sets].count(403) == 1
    after = api.get_provisioning_config(instance_id, idp["application_id"])
    new_token = after["ScimProvisioningConfig"]["AuthnConfiguration"]["AuthnParam"]["AccessToken"]
    assert new_token not in (old["secret"], None)
    # nothing but the token changed
    for config in (before, after):
        config["ScimProvisioningConfig"]["AuthnConfiguration"]["AuthnParam"].pop("AccessToken")
    assert before == after
    view = emu.control.call("GET", "idps/" + idp["idp_id"])
    assert view["credential_id"] != old["credential_id"] and view["last_cycle"]["ok"]
    assert view["last_cycle"]["credential_id"] == view["credential_id"]
