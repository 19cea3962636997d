"""The inventory plugin alicloud.cloudsso.directories against the emulator: a fleet of accounts (one aliyun CLI
profile with its own access key, two RAM roles assumed with a central key, one account without a directory)
becomes one host per directory; the host variables reach each account again in a playbook; no secret is
printed, and a failing account is named."""

import json
import os
import stat
import subprocess
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.alicloud.cloudsso.plugins.module_utils.endpoints import CLOUDSSO_REGIONS
from tests.helpers.ansible import BIN, COLLECTIONS, ROOT, PlaybookRunner, clean_environment, emulator_env
from tests.helpers.emulator import make_access_key
from tests.helpers.leaks import assert_no_leaks, read_tree

EXPIRY = os.path.join(ROOT, "playbooks", "expiry_report.yml")
ROTATE = os.path.join(ROOT, "playbooks", "rotate.yml")
HUB = "1300000000000000"
RETAIL, EU, HK, EMPTY = "1300000000000001", "1300000000000002", "1300000000000003", "1300000000000004"


def _role(account, trusted=HUB, name="CloudSSORotator"):
    return {"arn": "acs:ram::%s:role/%s" % (account, name.lower()), "account_id": account,
            "permissions": ["cloudsso:*"], "trusted_accounts": [trusted]}


def _plain(value):
    """ansible-core 2.19 writes inventory strings (untrusted data) as {"__ansible_unsafe": "..."}."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return dict((k, _plain(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class Fleet(object):
    def __init__(self, emulator, work):
        self.emulator = emulator
        self.work = str(work)
        self.private = os.path.join(self.work, "private")  # outside the scanned run folder
        os.makedirs(self.private, mode=0o700)
        emulator.control.reset()
        self.hub_key = make_access_key(account_id=HUB, permissions=["sts:AssumeRole"])
        self.retail_key = make_access_key(account_id=RETAIL, permissions=["cloudsso:*"])
        seeded = emulator.control.seed({
            "access_keys": [self.hub_key, self.retail_key],
            "roles": [_role(EU), _role(HK), _role(EMPTY), _role(EU, trusted="1399999999999999", name="Untrusting")],
            "directories": [
                {"account_id": RETAIL, "region": "cn-shanghai", "name": "retail"},
                {"account_id": EU, "region": "eu-central-1", "name": "europe"},
                {"account_id": HK, "region": "cn-hongkong", "name": "hongkong"},
            ],
        })
        self.directories = dict((d["account_id"], d) for d in seeded["directories"])
        self.config_file = os.path.join(self.private, "aliyun-config.json")
        fd = os.open(self.config_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(fd, "w") as handle:
            json.dump({"current": "retail", "profiles": [{
                "name": "retail", "mode": "AK", "access_key_id": self.retail_key["id"],
                "access_key_secret": self.retail_key["secret"], "region_id": "cn-shanghai"}]}, handle)
        self.run_dir = os.path.join(self.work, "run")
        self.env = clean_environment()
        self.env.update(emulator_env(emulator.url, self.hub_key))
        self.env.update(PATH=BIN + os.pathsep + os.environ.get("PATH", ""), ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
                        ANSIBLE_HOME=os.path.join(self.work, "ansible-home"), ANSIBLE_NOCOLOR="1",
                        ANSIBLE_INVENTORY_UNPARSED_FAILED="true")

    def inventory_file(self, accounts, name="fleet", **options):
        os.makedirs(self.run_dir, exist_ok=True)
        path = os.path.join(self.run_dir, "%s.cloudsso_directories.yml" % name)
        config = dict(plugin="alicloud.cloudsso.directories", accounts=accounts,
                      shared_credentials_file=self.config_file, **options)
        with open(path, "w") as handle:
            json.dump(config, handle)  # JSON is YAML
        return path

    def inventory(self, path, expect_rc=0):
        """ansible-inventory --list at -vvvv; returns (inventory dict or None, stdout + stderr)."""
        output = os.path.join(self.run_dir, "inventory-output.json")
        if os.path.exists(output):
            os.unlink(output)
        proc = subprocess.run([os.path.join(BIN, "ansible-inventory"), "-i", path, "--list", "--output", output,
                               "-vvvv"], env=self.env, cwd=self.run_dir, capture_output=True, text=True, timeout=300)
        text = proc.stdout + proc.stderr
        written = open(output).read() if os.path.exists(output) else ""
        self.scan({"stdout": proc.stdout, "stderr": proc.stderr, "output": written})
        assert proc.returncode == expect_rc, text[-6000:]
        return (_plain(json.loads(written)) if written else None), text

    def scan(self, texts):
        assert_no_leaks(texts, self.emulator.control.secrets() + [self.hub_key["secret"], self.retail_key["secret"]])


FLEET_ACCOUNTS = [
    {"name": "retail", "profile": "retail"},
    {"assume_role": {"role_arn": "acs:ram::%s:role/cloudssorotator" % EU}},
    {"assume_role": {"role_arn": "acs:ram::%s:role/cloudssorotator" % HK, "session_name": "inventory"}},
    {"assume_role": {"role_arn": "acs:ram::%s:role/cloudssorotator" % EMPTY}},
]


@pytest.fixture
def fleet(emulator, tmp_path):
    return Fleet(emulator, tmp_path)


def test_one_host_per_directory_with_rotation_variables_and_no_secret(fleet):
    path = fleet.inventory_file(FLEET_ACCOUNTS, keyed_groups=[{"key": "scim_rotation_region", "prefix": "region"}],
                                compose={"scim_rotation_idp": "'manual'"})
    inventory, text = fleet.inventory(path)
    hostvars = inventory["_meta"]["hostvars"]
    expected = dict((fleet.directories[a]["directory_id"], fleet.directories[a]) for a in (RETAIL, EU, HK))
    assert sorted(hostvars) == sorted(expected)
    assert sorted(inventory["cloudsso_directories"]["hosts"]) == sorted(expected)
    for host, directory in expected.items():
        assert hostvars[host]["scim_rotation_directory_id"] == host
        assert hostvars[host]["scim_rotation_region"] == directory["region"]
        assert hostvars[host]["cloudsso_directory_name"] == directory["name"]
        assert hostvars[host]["ansible_connection"] == "local"
        assert hostvars[host]["scim_rotation_idp"] == "manual"  # compose
        assert host in inventory["region_%s" % directory["region"].replace("-", "_")]["hosts"]  # keyed_groups
    retail = hostvars[fleet.directories[RETAIL]["directory_id"]]
    assert retail["cloudsso_account"] == "retail"
    assert retail["scim_rotation_auth"] == {"profile": "retail", "shared_credentials_file": fleet.config_file}
    europe = hostvars[fleet.directories[EU]["directory_id"]]
    assert europe["cloudsso_account"] == "acs:ram::%s:role/cloudssorotator" % EU
    assert europe["scim_rotation_auth"] == {"assume_role": {
        "role_arn": "acs:ram::%s:role/cloudssorotator" % EU, "session_name": "alicloud-cloudsso",
        "duration_seconds": 3600}}
    hongkong = hostvars[fleet.directories[HK]["directory_id"]]
    assert hongkong["scim_rotation_auth"]["assume_role"]["session_name"] == "inventory"
    # the account without a directory is reported by name, with the regions searched
    assert "acs:ram::%s:role/cloudssorotator has no CloudSSO directory in %s" % (EMPTY, ", ".join(CLOUDSSO_REGIONS)) \
        in text
    # by default each account is asked in every documented region, with its own identity
    assert {"cn-shanghai", "cn-hongkong", "us-west-1", "eu-central-1"} <= set(CLOUDSSO_REGIONS)
    counts = fleet.emulator.control.calls()["counts"]
    assert counts["cloudsso:ListDirectories"] == 4 * len(CLOUDSSO_REGIONS)
    assert counts["sts:AssumeRole"] == 3


def test_the_shipped_expiry_report_reads_each_account_of_the_fleet(fleet):
    """The host variables reach each account again: its profile or its assumed role."""
    expiring = fleet.emulator.control.seed({"credentials": [
        {"directory_id": fleet.directories[a]["directory_id"]} for a in (RETAIL, EU, HK)]})["credentials"]
    path = fleet.inventory_file(FLEET_ACCOUNTS[:3], regions=["cn-shanghai", "cn-hongkong", "eu-central-1"])
    runner = PlaybookRunner(fleet.run_dir, fleet.emulator, fleet.hub_key, secret_paths=[fleet.config_file])
    runner.extra_secrets.append(fleet.retail_key["secret"])
    report = os.path.join(fleet.run_dir, "expiry.json")
    runner.playbook(EXPIRY, {"expiry_report_days": 400, "expiry_report_fail": False, "expiry_report_usage": False,
                             "expiry_report_path": report}, inventory=path,
                    env={"ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"})
    rows = dict((row["directory_id"], row) for row in json.load(open(report))["directories"])
    assert sorted(rows) == sorted(c["directory_id"] for c in expiring)
    for cred in expiring:
        assert [c["credential_id"] for c in rows[cred["directory_id"]]["credentials"]] == [cred["credential_id"]]
        assert rows[cred["directory_id"]]["expiring"] == [cred["credential_id"]]
    assert fleet.emulator.control.calls()["counts"]["cloudsso:ListSCIMServerCredentials"] == 3


def test_the_rotate_playbook_plans_each_directory_as_its_own_account(fleet):
    due = (datetime.now(timezone.utc) - timedelta(days=340)).strftime("%Y-%m-%dT%H:%M:%SZ")  # expires in ~25 days
    old = fleet.emulator.control.seed({"credentials": [
        {"directory_id": fleet.directories[a]["directory_id"], "create_time": due} for a in (RETAIL, EU)]})["credentials"]
    path = fleet.inventory_file(FLEET_ACCOUNTS[:2], regions=["cn-shanghai", "eu-central-1"])
    runner = PlaybookRunner(fleet.run_dir, fleet.emulator, fleet.hub_key, secret_paths=[fleet.config_file])
    runner.extra_secrets.append(fleet.retail_key["secret"])
    run = runner.playbook(ROTATE, {"scim_rotation_state_dir": os.path.join(fleet.run_dir, "state")}, inventory=path,
                          check=True, env={"ANSIBLE_INVENTORY_UNPARSED_FAILED": "true"})
    for cred in old:
        assert "%s: check mode: would rotate" % cred["directory_id"] in run.stdout, run.tail()
    state = fleet.emulator.control.state()
    assert sorted(c["credential_id"] for c in state["credentials"]) == sorted(c["credential_id"] for c in old)


def test_the_cache_saves_the_calls_and_holds_no_secret(fleet):
    cache_dir = os.path.join(fleet.run_dir, "inventory-cache")
    path = fleet.inventory_file(FLEET_ACCOUNTS[:2], regions=["cn-shanghai", "eu-central-1"], cache=True,
                                cache_plugin="ansible.builtin.jsonfile", cache_connection=cache_dir)
    first, _ = fleet.inventory(path)
    assert fleet.emulator.control.calls()["counts"]["cloudsso:ListDirectories"] == 4
    fleet.emulator.control.reset_calls()
    second, _ = fleet.inventory(path)
    assert second == first
    assert "cloudsso:ListDirectories" not in fleet.emulator.control.calls()["counts"]
    cached = read_tree(cache_dir)
    assert cached and any(fleet.directories[EU]["directory_id"] in text for text in cached.values())
    fleet.scan(cached)


def test_a_failing_account_is_named_and_no_secret_is_printed(fleet):
    untrusting = "acs:ram::%s:role/untrusting" % EU
    path = fleet.inventory_file([{"name": "retail", "profile": "retail"},
                                 {"assume_role": {"role_arn": untrusting}, "regions": ["cn-beijing"]}],
                                regions=["cn-shanghai"])
    inventory, text = fleet.inventory(path, expect_rc=1)
    assert "region 'cn-beijing' is not one where Alibaba Cloud documents CloudSSO directories" in text
    assert "account %s, region cn-beijing" % untrusting in text
    assert "NoPermission" in text


def test_a_key_in_the_inventory_file_is_refused_without_being_echoed(fleet):
    path = fleet.inventory_file([{"name": "inline", "access_key_id": fleet.hub_key["id"],
                                  "access_key_secret": fleet.hub_key["secret"]}])
    inventory, text = fleet.inventory(path, expect_rc=1)
    assert "accounts[0] has access_key_id, access_key_secret: an inventory file holds no key" in text
    assert fleet.emulator.control.calls()["counts"].get("cloudsso:ListDirectories", 0) == 0
