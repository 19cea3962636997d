"""entra_provisioning_token / _info / _job through ansible-playbook against the simulated Entra ID.

The playbook (test_roles/entra_provisioning) asserts what the modules return; this file sets the emulator up
and checks what only it can see: which Graph calls were made (no save in check mode or after a failed
validation, one token per module run, never `restart`), retries after 429 / 409 / 403, the credential the
simulated Entra ID syncs with, and that no secret shows at -vvvv or in the log file.
"""

import base64
import hashlib
import json
import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from test_idp_harness import calls  # noqa: E402

from tests.helpers.ansible import REGION  # noqa: E402
from tests.helpers.emulator import http_request  # noqa: E402

from ansible_collections.alicloud.cloudsso.plugins.module_utils.client import RpcClient  # noqa: E402
from ansible_collections.alicloud.cloudsso.plugins.module_utils.credentials import (  # noqa: E402
    Credential,
    StaticProvider,
)


class Setup:
    """A directory with an Enabled credential whose token the simulated Entra ID holds and syncs with."""

    def __init__(self, cloud, owner_permissions=("Application.ReadWrite.OwnedBy",), **idp_spec):
        self.cloud = cloud
        self.emu = emu = cloud.emulator
        self.ak = cloud.access_key
        self.directory_id, (self.old,) = cloud.directory(credentials=[{}])
        self.old_file = self.old["secret_file"]
        self.secrets = cloud.secrets_dir
        self.idp = emu.control.call("POST", "idps", dict({"kind": "entra", "directory_id": self.directory_id,
                                                          "interval": 0, "permissions": list(owner_permissions)},
                                                         **idp_spec))
        self.tenant_id, self.client_id = self.idp["tenant_id"], self.idp["client_id"]
        self.client_secret = self.idp["client_secret"]
        self.sp_id, self.job_id = self.idp["service_principal_id"], self.idp["job_id"]
        self.scim_base = "%s/region/%s/scim/v2" % (emu.url, REGION)
        users = emu.control.call("GET", "graph")["users"][self.tenant_id]
        self.user_object_id = sorted(users)[0]
        secrets = [{"key": "BaseAddress", "value": self.scim_base}, {"key": "SecretToken", "value": self.old["secret"]}]
        assert self.graph("PUT", "/secrets", {"value": secrets})[0] == 204
        assert self.sync()["cycle"]["ok"]
        self.playbooks = cloud.runner
        self.playbooks.env.update(AZURE_TENANT_ID=self.tenant_id, AZURE_CLIENT_ID=self.client_id,
                                  AZURE_CLIENT_SECRET=self.client_secret)
        self.new_file = os.path.join(self.secrets, "new.json")
        self.playbooks.allow_secret_file(self.new_file)

    def run(self, tags, env=None, **extra):
        return self.playbooks.target("entra_provisioning", self.extra(**extra), tags=tags, env=env)

    def credential(self, status="Enabled", name=None):
        cred = self.emu.control.seed({"credentials": [{"directory_id": self.directory_id, "status": status}]}
                                     )["credentials"][0]
        cred["secret_file"] = self.cloud.write_secret_file(self.directory_id, cred, name)
        return cred

    def graph(self, method, path, body=None):
        form = "grant_type=client_credentials&client_id=%s&client_secret=%s&scope=%s" % (
            self.client_id, self.client_secret, "https%3A%2F%2Fgraph.microsoft.com%2F.default")
        _, _, token = http_request("%s/%s/oauth2/v2.0/token" % (self.emu.url, self.tenant_id), "POST", form.encode(),
                                   {"Content-Type": "application/x-www-form-urlencoded"})
        return http_request("%s/v1.0/servicePrincipals/%s/synchronization%s" % (self.emu.url, self.sp_id, path), method,
                            json.dumps(body).encode() if body is not None else None,
                            {"Authorization": "Bearer " + token["access_token"], "Content-Type": "application/json"})

    def sync(self):
        return self.emu.control.call("POST", "idps/%s/sync" % self.idp["idp_id"])

    def set_status(self, credential_id, status):
        client = RpcClient("cloudsso", REGION, credentials=StaticProvider(Credential(self.ak["id"], self.ak["secret"])),
                           endpoint_url=self.emu.url + "/region/" + REGION)
        client.call("UpdateSCIMServerCredentialStatus",
                    {"DirectoryId": self.directory_id, "CredentialId": credential_id, "NewStatus": status})

    def extra(self, **more):
        values = dict(emulator_url=self.emu.url, directory_id=self.directory_id, entra_sp_id=self.sp_id,
                      entra_job_id=self.job_id, idp_id=self.idp["idp_id"], scim_base=self.scim_base,
                      old_credential_id=self.old["credential_id"], entra_user_object_id=self.user_object_id,
                      new_secret_file=self.new_file)
        values.update(more)
        return values

    def job(self):
        view = self.emu.control.call("GET", "graph")
        sp = [s for s in view["service_principals"] if s["id"] == self.sp_id][0]
        return sp, [j for j in sp["jobs"] if j["id"] == self.job_id][0]


def graph_calls(emu, action=None):
    return calls(emu, ("graph", "entra-login"), action)


def test_rotation_validate_save_verify(cloud):
    world = Setup(cloud)
    emu = world.emu
    emu.control.reset_calls()
    world.run("rotate")
    calls = emu.control.calls()["counts"]
    # validate before each save; saved twice while two credentials were Enabled, once without a region to
    # check the credentials, never in check mode or once the saved token was proven
    assert calls["graph:putSecrets"] == 3
    assert calls["graph:validateCredentials"] >= 6
    assert calls.get("graph:restart", 0) == 0 and calls.get("graph:start", 0) == 0
    # one access token per module run that talks to Graph (11 runs), none reused across runs
    assert calls["entra-login:token"] == 11
    sp, job = world.job()
    assert sp["token_state"] == "Enabled" and sp["credential_id"] != world.old["credential_id"]
    assert job["calls"] == {"start": 0, "restart": 0, "pause": 0}
    idp = emu.control.call("GET", "idps/" + world.idp["idp_id"])
    assert idp["credential_id"] == sp["credential_id"] and idp["last_cycle"]["ok"]
    assert oct(os.stat(world.new_file).st_mode & 0o777) == "0o600"


def test_quarantine_and_recovery(cloud):
    world = Setup(cloud)
    emu = world.emu
    world.set_status(world.old["credential_id"], "Disabled")
    assert world.sync()["cycle"]["auth_failed"]
    emu.control.reset_calls()
    world.run("quarantine")
    calls = emu.control.calls()["counts"]
    assert calls["graph:start"] == 1 and calls.get("graph:restart", 0) == 0
    sp, job = world.job()
    assert job["status"]["code"] == "Active" and job["calls"]["start"] == 1
    idp = emu.control.call("GET", "idps/" + world.idp["idp_id"])
    assert idp["last_cycle"]["ok"] and idp["credential_id"] == sp["credential_id"] != world.old["credential_id"]


def test_errors_name_the_problem_and_change_nothing(cloud):
    world = Setup(cloud)
    emu = world.emu
    disabled = world.credential("Disabled")
    other = emu.control.seed({"graph": {"apps": [{"tenant_id": world.tenant_id,
                                                  "permissions": ["Application.ReadWrite.OwnedBy"]}]}})["graph"]["apps"][0]
    multi = emu.control.seed({"graph": {"service_principals": [
        {"tenant_id": world.tenant_id, "owners": [world.client_id], "jobs": [{}, {"template_id": "scim"}]}]}}
    )["graph"]["service_principals"][0]
    bad_secret = "Zz9~" + uuid.uuid4().hex + uuid.uuid4().hex[:8]
    puts_before = len(graph_calls(emu, "putSecrets"))
    world.playbooks.extra_secrets += [bad_secret, disabled["secret"], other["client_secret"]]
    world.run("errors", env=dict(ENTRA_TEST_BAD_SECRET=bad_secret, ENTRA_TEST_OTHER_SECRET=other["client_secret"]),
              entra_other_client_id=other["client_id"], entra_multi_sp_id=multi["service_principal_id"],
              entra_multi_job_ids=multi["job_ids"], new_secret_file=world.old_file,
              disabled_secret_file=disabled["secret_file"])
    emu.control.call("POST", "graph/settings", {"echo_credentials": False})
    # the rejected candidate was never saved, nor anything else
    assert len(graph_calls(emu, "putSecrets")) == puts_before
    assert bad_secret in emu.control.secrets()  # the emulator saw it: the leak scan looked for it
    sp, _ = world.job()
    assert sp["credential_id"] == world.old["credential_id"]


def test_throttling_and_conflicts_are_retried(cloud):
    world = Setup(cloud)
    emu = world.emu
    world.credential(name="new.json")
    emu.control.clear_faults()
    emu.control.add_fault(match="graph:getJob", kind="error", status=429, code="TooManyRequests",
                          message="Too many requests", retry_after=1500, count=2)
    emu.control.add_fault(match="graph:putSecrets", kind="error", status=409, code="Conflict",
                          message="A concurrent change is in progress", count=2)
    emu.control.add_fault(match="graph:validateCredentials", kind="error", status=403,
                          code="Authorization_RequestDenied", message="Insufficient privileges", count=1)
    emu.control.reset_calls()
    world.run("throttle")
    emu.control.clear_faults()
    gets = graph_calls(emu, "getJob")
    assert [c["status"] for c in gets] == [429, 429, 200]
    from datetime import datetime
    times = [datetime.strptime(c["time"], "%Y-%m-%dT%H:%M:%SZ").timestamp() for c in gets]
    assert times[2] - times[0] >= 3  # two waits of Retry-After: 2 seconds
    assert [c["status"] for c in graph_calls(emu, "putSecrets")] == [409, 409, 204]
    assert [c["status"] for c in graph_calls(emu, "validateCredentials")][:2] == [403, 204]


NOTIFY = '{"Enabled":true,"Recipients":"ops@example.com","DeleteThresholdEnabled":false}'


def test_a_rotation_keeps_the_scope_and_the_notification_settings(cloud):
    """A PUT of the secrets replaces the whole list: the token save must send SyncAll and
    SyncNotificationSettings again, or the job's scope falls back to the assigned users only."""
    world = Setup(cloud, tenant_users=3, assigned_users=2)
    emu = world.emu
    assert len(emu.control.state()["scim_users"][world.directory_id]) == 2  # the assigned users
    settings = [{"key": "SyncNotificationSettings", "value": NOTIFY}, {"key": "SyncAll", "value": "true"}]
    assert world.graph("PUT", "/secrets", {"value": [{"key": "BaseAddress", "value": world.scim_base},
                                                     {"key": "SecretToken", "value": world.old["secret"]}]
                                           + settings})[0] == 204
    world.credential(name="new.json")
    world.run("settings", notify_settings=NOTIFY)
    saved = dict((p["key"], p["value"]) for p in world.graph("GET", "/secrets")[2]["value"])
    assert saved["SyncAll"] == "true" and saved["SyncNotificationSettings"] == NOTIFY
    assert world.sync()["cycle"]["ok"]
    # all users and groups: the unassigned user is provisioned too, with the new token
    assert len(emu.control.state()["scim_users"][world.directory_id]) == 3


def test_an_out_of_scope_canary_proves_nothing(cloud):
    """Skipped (NotEffectivelyEntitled) is decided inside Entra: no SCIM call, so the module validates the
    saved credentials instead, and fails when CloudSSO rejects them."""
    world = Setup(cloud, tenant_users=3, assigned_users=2)
    emu = world.emu
    view = emu.control.call("GET", "graph")
    sp = [s for s in view["service_principals"] if s["id"] == world.sp_id][0]
    unassigned = [u for u in view["users"][world.tenant_id] if u not in sp["assigned"]]
    assert len(unassigned) == 1
    world.run("out_of_scope", entra_unassigned_object_id=unassigned[0])
    world.set_status(world.old["credential_id"], "Disabled")
    world.run("out_of_scope_rejected", entra_unassigned_object_id=unassigned[0])


def test_unreadable_settings_must_be_given(cloud):
    world = Setup(cloud)
    emu = world.emu
    world.credential(name="new.json")
    emu.control.call("POST", "graph/settings", {"secrets_readable": False})
    emu.control.reset_calls()
    world.run("settings_unreadable")
    assert [c["status"] for c in graph_calls(emu, "putSecrets")] == [204]  # only the run with the settings
    emu.control.call("POST", "graph/settings", {"secrets_readable": True})
    saved = dict((p["key"], p["value"]) for p in world.graph("GET", "/secrets")[2]["value"])
    assert saved["SyncAll"] == "true" and saved["SyncNotificationSettings"] == '{"DeleteThresholdEnabled":false,' \
                                                                              '"Enabled":false}'


def _certificate(folder):
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u"cloudsso-automation")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(42).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=2))
            .sign(key, hashes.SHA256()))
    path = os.path.join(folder, "automation.pem")
    with open(path, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    os.chmod(path, 0o600)
    x5t = base64.urlsafe_b64encode(hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).digest()).rstrip(b"=")
    return path, {"x5t": x5t.decode(), "n": "%x" % key.public_key().public_numbers().n, "e": 65537}


def test_certificate_credential(cloud):
    world = Setup(cloud)
    emu = world.emu
    path, cert = _certificate(world.secrets)
    # Another Entra enterprise application, for a directory of another account (one directory per account).
    other_directory = emu.control.seed({"directories": [{"region": REGION, "account_id": "1999999999999999"}]}
                                       )["directories"][0]["directory_id"]
    idp = emu.control.call("POST", "idps", {"kind": "entra", "directory_id": other_directory,
                                            "tenant_id": world.tenant_id, "client_secret": False,
                                            "certificates": [cert]})
    assert "client_secret" not in idp
    cert_vars = dict(entra_cert_sp_id=idp["service_principal_id"], entra_cert_client_id=idp["client_id"],
                     entra_cert_path=path)
    # A managed node with Python alone (the tests' target_python()): the module says what it needs, and calls nothing.
    emu.control.reset_calls()
    run = world.playbooks.target("entra_provisioning", world.extra(**cert_vars), tags="certificate", expect_rc=2)
    assert "certificate authentication needs the Python library cryptography; install it or give a prebuilt " \
           "client_assertion" in run.output
    assert graph_calls(emu, "token") == []
    # With cryptography installed there (the test venv's Python has it), as docs/idp-entra-id.md says.
    emu.control.reset_calls()
    world.run("certificate", ansible_python_interpreter=sys.executable, **cert_vars)
    assert [c["status"] for c in graph_calls(emu, "token")] == [200]
