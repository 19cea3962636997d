"""Fixtures of the integration tests: one emulator per pytest worker, a fresh cloud per test, and a
playbook runner that scans every run for secrets."""

import json
import os
import stat

import pytest

from tests.helpers.ansible import REGION, PlaybookRunner
from tests.helpers.emulator import EmulatorProcess, make_access_key, member_accounts


@pytest.fixture(scope="session")
def emulator():
    with EmulatorProcess() as emu:
        yield emu


class Cloud(object):
    """One test's account in the emulator: an access key with every permission, and helpers to seed
    directories and credentials and keep their secrets in 0600 files (as scim_credential writes them)."""

    def __init__(self, emulator, work):
        self.emulator = emulator
        self.control = emulator.control
        self.work = work
        self.secrets_dir = os.path.join(work, "secrets")
        os.makedirs(self.secrets_dir, mode=0o700)
        self.control.reset()
        self.access_key = make_access_key(permissions=["*"])
        self.control.seed({"access_keys": [self.access_key]})
        self.runner = PlaybookRunner(os.path.join(work, "run"), emulator, self.access_key)
        self.auth = {}  # directory_id -> the module options that reach its account ({}: the environment's key)

    def directory(self, region=REGION, credentials=(), scim_sync="Enabled"):
        """Seed a directory with credentials given as dicts (status, create_time...); returns
        (directory_id, [seeded credentials with their secret_file paths]). An account has one directory: the
        first is this account's, each further one another account's, reached with the modules' options
        `self.auth[directory_id]` (a role of that account this one may assume)."""
        if self.auth:
            member = member_accounts(self.control, 1, self.access_key["account_id"], region, scim_sync=scim_sync,
                                     permissions=["*"])[0]
            directory_id = member["directory_id"]
            self.auth[directory_id] = member["auth"]
        else:
            seeded = self.control.seed({"directories": [{"region": region, "scim_sync": scim_sync,
                                                         "account_id": self.access_key["account_id"]}]})
            directory_id = seeded["directories"][0]["directory_id"]
            self.auth[directory_id] = {}
        made = []
        if credentials:
            docs = [dict(c, directory_id=directory_id) for c in credentials]
            made = self.control.seed({"credentials": docs})["credentials"]
            for cred in made:
                cred["secret_file"] = self.write_secret_file(directory_id, cred)
        return directory_id, made

    def write_secret_file(self, directory_id, cred, name=None):
        path = os.path.join(self.secrets_dir, name or "%s.json" % cred["credential_id"])
        with open(path, "w") as handle:
            json.dump({"directory_id": directory_id, "credential_id": cred["credential_id"],
                       "credential_secret": cred["secret"], "create_time": cred.get("create_time")}, handle)
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
        self.runner.allow_secret_file(path)
        return path

    def credentials(self, directory_id):
        """The directory's credentials as the emulator holds them: {credential_id: status}."""
        state = self.control.state()
        return dict((c["credential_id"], c["status"]) for c in state["credentials"]
                    if c["directory_id"] == directory_id)

    def write_calls(self):
        """Counts of CloudSSO write calls so far."""
        counts = self.control.calls()["counts"]
        return dict((k, v) for k, v in counts.items() if k.startswith("cloudsso:") and
                    not k.split(":")[1].startswith(("List", "Get")))


@pytest.fixture
def cloud(emulator, tmp_path):
    return Cloud(emulator, str(tmp_path))
