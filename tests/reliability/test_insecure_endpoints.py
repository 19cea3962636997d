"""A shared controller and the network are hostile (issue 13, items 3 and 4).

Plain http to a host other than this machine: every endpoint setting (module option, base URL, environment
variable) that names one is refused before any connection, with a message that names the setting and the
option that would allow it (allow_insecure_http). The "remote" hosts are names under .invalid, which never
resolve: a refusal that came after a connection attempt would read "Failed to resolve", not "refusing".

`make demo`'s folder: a fresh private folder (mkdtemp) checked for owner and mode, never the predictable
$TMPDIR/alicloud-cloudsso-demo that another local user could make or replace between two tasks.
"""

import json
import os
import re
import subprocess
import sys

import pytest

from tests.helpers.ansible import COLLECTIONS, ROOT, clean_environment
from tests.reliability.harness import Batch

from ansible_collections.alicloud.cloudsso.plugins.module_utils.client import RpcClient
from ansible_collections.alicloud.cloudsso.plugins.module_utils.credentials import Credential, StaticProvider
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import AlibabaCloudError, INVALID_ENDPOINT

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
APP = "0b9a2c1d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
SP = "5a1c7d0e-9b2f-4a4c-8e3d-6f7a8b9c0d1e"
FAKE_CLIENT_SECRET = "{{ lookup('env', 'REL_FAKE_CLIENT_SECRET') }}"


def refused(host, setting):
    return r"refusing plain http to %s \(.*, set by %s\).*set allow_insecure_http=true" % (re.escape(host), setting)


def test_plain_http_off_loopback_is_refused_before_any_connection_for_every_setting(cloud):
    directory_id, (cred,) = cloud.directory(credentials=[{}])
    entra = {"tenant_id": TENANT, "client_id": APP, "client_secret": FAKE_CLIENT_SECRET, "service_principal_id": SP}
    batch = Batch(cloud.runner, "insecure")
    batch.add("endpoint_url", "scim_credential_info",
              {"directory_id": directory_id, "endpoint_url": "http://cloudsso.emulator.invalid:8080/region/{region}"},
              expect="failed", msg=refused("cloudsso.emulator.invalid", "endpoint_url"), writes={})
    batch.add("base_url", "scim_credential_info",
              {"directory_id": directory_id, "base_url": "http://all.emulator.invalid:8080"},
              environment={"ALIBABA_CLOUD_CLOUDSSO_ENDPOINT": ""},
              expect="failed", msg=refused("all.emulator.invalid", "base_url"), writes={})
    batch.add("ALIBABA_CLOUD_CLOUDSSO_BASE_URL", "scim_credential_info", {"directory_id": directory_id},
              environment={"ALIBABA_CLOUD_CLOUDSSO_ENDPOINT": "",
                           "ALIBABA_CLOUD_CLOUDSSO_BASE_URL": "http://all.emulator.invalid"},
              expect="failed", msg=refused("all.emulator.invalid", "ALIBABA_CLOUD_CLOUDSSO_BASE_URL"), writes={})
    batch.add("ALIBABA_CLOUD_CLOUDSSO_ENDPOINT", "scim_credential_info", {"directory_id": directory_id},
              environment={"ALIBABA_CLOUD_CLOUDSSO_ENDPOINT": "http://cloudsso.emulator.invalid/region/{region}"},
              expect="failed", msg=refused("cloudsso.emulator.invalid", "ALIBABA_CLOUD_CLOUDSSO_ENDPOINT"), writes={})
    batch.add("scim_endpoint", "scim_token_check",
              {"token_file": cred["secret_file"], "scim_endpoint": "http://scim.emulator.invalid/scim/v2"},
              expect="failed", msg=refused("scim.emulator.invalid", "scim_endpoint"), writes={})
    batch.add("scim_endpoint of info", "scim_credential_info",
              {"directory_id": directory_id, "scim_endpoint": "http://scim.emulator.invalid/scim/v2"},
              expect="failed", msg=refused("scim.emulator.invalid", "scim_endpoint"), writes={})
    batch.add("actiontrail_endpoint_url", "scim_usage_info",
              {"directory_id": directory_id, "since": "1h", "actiontrail_endpoint_url": "http://trail.emulator.invalid"},
              expect="failed", msg=refused("trail.emulator.invalid", "actiontrail_endpoint_url"), writes={})
    batch.add("sts_endpoint_url", "scim_credential_info",
              {"directory_id": directory_id, "sts_endpoint_url": "http://sts.emulator.invalid",
               "assume_role": {"role_arn": "acs:ram::1234567890123456:role/Rotator"}},
              expect="failed", msg=refused("sts.emulator.invalid", "sts_endpoint_url"), writes={})
    batch.add("graph_endpoint", "entra_provisioning_info", dict(entra, graph_endpoint="http://graph.emulator.invalid"),
              expect="failed", msg=refused("graph.emulator.invalid", "graph_endpoint"))
    batch.add("login_endpoint", "entra_provisioning_info", dict(entra, login_endpoint="http://login.emulator.invalid"),
              expect="failed", msg=refused("login.emulator.invalid", "login_endpoint"))
    batch.add("ALIBABA_CLOUD_CLOUDSSO_LOGIN_ENDPOINT", "entra_provisioning_info", entra,
              environment={"ALIBABA_CLOUD_CLOUDSSO_LOGIN_ENDPOINT": "http://login.emulator.invalid"},
              expect="failed", msg=refused("login.emulator.invalid", "ALIBABA_CLOUD_CLOUDSSO_LOGIN_ENDPOINT"))
    # Allowed explicitly: the request is attempted, and fails where a .invalid name must (no address).
    batch.add("allowed", "scim_credential_info",
              {"directory_id": directory_id, "endpoint_url": "http://cloudsso.emulator.invalid/region/{region}",
               "allow_insecure_http": True, "max_retries": 0},
              expect="failed", msg=r"Failed to resolve 'cloudsso.emulator.invalid'.*Check endpoint_url", writes={})
    # Loopback over http is the emulator: accepted.
    batch.add("loopback", "scim_credential_info", {"directory_id": directory_id}, expect="ok", writes={})
    batch.run(env={"REL_FAKE_CLIENT_SECRET": "not-a-real-secret-value"})
    assert not batch.problems(), "\n".join(batch.problems())


# Names under .invalid only: tests never name an address off this machine, even one they do not connect to.
@pytest.mark.parametrize("url", ["http://cloudsso.emulator.invalid", "http://cloudsso.emulator.invalid:8080",
                                 "http://127.0.0.1.evil.invalid", "http://localhost.evil.invalid"])
def test_the_client_refuses_before_its_session_is_used(url):
    class NoNetwork(object):
        def request(self, *args, **kwargs):
            raise AssertionError("a connection was attempted to %s" % url)

    client = RpcClient("cloudsso", "cn-shanghai", credentials=StaticProvider(Credential("TESTID", "TESTSECRET")),
                       endpoint_url=url, session=NoNetwork(), sleep=lambda seconds: None)
    with pytest.raises(AlibabaCloudError) as info:
        client.call("ListDirectories")
    assert info.value.code == INVALID_ENDPOINT and info.value.attempts == 1
    assert "set by endpoint_url" in info.value.message and "allow_insecure_http=true" in info.value.message


@pytest.mark.parametrize("url", ["http://127.0.0.1:1", "http://127.8.9.10:1", "http://localhost:1", "http://[::1]:1",
                                 "https://cloudsso.emulator.invalid"])
def test_loopback_and_https_are_not_refused(url):
    assert RpcClient("cloudsso", "cn-shanghai", endpoint_url=url).insecure is None


# --- make demo's folder -----------------------------------------------------------------------------------

def run_demo(tmp_path, *extra):
    env = clean_environment()
    env.update(TMPDIR=str(tmp_path), ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_HOME=str(tmp_path / "home"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "home" / "tmp"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
               PATH=os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""))
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
               os.path.join(ROOT, "playbooks", "demo.yml")] + list(extra)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, cwd=str(tmp_path))


def test_demo_uses_a_fresh_private_folder_and_leaves_a_planted_one_alone(tmp_path):
    # Another local user made the predictable folder first, with a file of theirs in it.
    planted = tmp_path / "alicloud-cloudsso-demo"
    planted.mkdir(mode=0o777)
    (planted / "emulator.url").write_text("http://127.0.0.1:9/\n")
    proc = run_demo(tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert (planted / "emulator.url").read_text() == "http://127.0.0.1:9/\n"
    assert sorted(os.listdir(str(planted))) == ["emulator.url"]
    (used,) = set(re.findall(r"Full report: (\S+)/rotation-report.json", proc.stdout))
    assert os.path.dirname(used) == str(tmp_path) and os.path.basename(used).startswith("alicloud-cloudsso-demo.")
    assert used != str(planted)
    info = os.lstat(used)
    assert info.st_uid == os.getuid() and oct(info.st_mode & 0o777) == oct(0o700)
    assert json.load(open(os.path.join(used, "rotation-report.json")))["outcome"] == "rotated"
    # What the user reads (issue 14, item 3): sentences, not a Python dict, and no inventory warning.
    evidence = [line for line in proc.stdout.splitlines() if '"Evidence: ' in line]
    assert evidence and "{" not in evidence[0] and "The SCIM endpoint accepted the new token" in evidence[0]
    assert "[WARNING]" not in proc.stdout + proc.stderr
    # The user guide's sample output is the real one ("..." stands for what varies).
    guide = open(os.path.join(ROOT, "docs", "docsite", "rst", "guide_first_rotation.rst")).read()
    sample = guide.split('"msg": [', 1)[1].split("]", 1)[0].strip().splitlines()
    printed = proc.stdout.replace(str(tmp_path), "/tmp").split('"msg": [')[-1].split("]", 1)[0].strip().splitlines()
    assert len(sample) == len(printed) == 6
    for expected, line in zip(sample, printed):
        pattern = ".+?".join(re.escape(part) for part in expected.strip().split("..."))
        assert re.fullmatch(pattern, line.strip()), (expected, line)


def test_demo_refuses_a_given_folder_that_is_not_private(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(str(shared), 0o755)
    proc = run_demo(tmp_path, "-e", "demo_dir=%s" % shared)
    assert proc.returncode == 2
    assert "is not a private folder of this user" in proc.stdout
    assert os.listdir(str(shared)) == [] and oct(os.stat(str(shared)).st_mode & 0o777) == oct(0o755)
