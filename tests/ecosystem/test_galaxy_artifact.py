"""The Galaxy artifact: built from this checkout, it holds exactly the collection (no tests, caches, venvs or
emulator), installs into an empty collections path, documents itself, and runs the demo and the rotation
playbook from the installed copy, addressed by FQCN, with the repository's .build/collections symlink tree
nowhere on the collections path. Every playbook run is leak-scanned (PlaybookRunner at -vvvv)."""

import json
import os
import re
import tarfile
import textwrap

import yaml

from tests.ecosystem.support import (GALAXY, ROOT, BIN, ansible_env, credential_types, inject, load_yaml, run)
from tests.helpers.ansible import REGION, PlaybookRunner
from tests.helpers.emulator import make_access_key, member_accounts

# What ships: these top-level folders and files, minus the contributor notes and the docs build script.
SHIPPED_FOLDERS = ("awx", "changelogs", "docs", "meta", "playbooks", "plugins", "roles")
SHIPPED_FILES = ("LICENSE", "README.md", "requirements.txt")
NOT_SHIPPED = ("docs/dev/", "docs/docsite/build-docs.sh")
MUST_SHIP = ("LICENSE", "README.md", "requirements.txt", "meta/runtime.yml", "meta/execution-environment.yml",
             "changelogs/changelog.yaml", "playbooks/rotate.yml", "playbooks/demo.yml", "playbooks/expiry_report.yml",
             "roles/scim_rotation/meta/argument_specs.yml", "plugins/modules/scim_credential.py",
             "awx/credential_types.yml", "awx/configure_awx.yml", "awx/survey.yml",
             "docs/docsite/extra-docs.yml", "docs/docsite/links.yml")
NEVER_SHIPPED = re.compile(r"(^|/)(emulator|tests|benchmarks|scripts|extensions|\.venv|\.build|\.cache|\.git|"
                           r"\.pytest_cache|__pycache__|collections)(/|$)|\.pyc$|^Makefile$|^pytest\.ini$")


def source_files():
    out = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT).stdout
    return set(f for f in out.split("\0") if f and os.path.isfile(os.path.join(ROOT, f)))


def ships(path):
    if path in SHIPPED_FILES:
        return True
    return path.split("/")[0] in SHIPPED_FOLDERS and not path.startswith(NOT_SHIPPED)


def test_artifact_holds_exactly_the_collection(artifact):
    with tarfile.open(artifact) as tar:
        names = set(m.name for m in tar.getmembers() if m.isfile())
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    names -= {"MANIFEST.json", "FILES.json"}
    expected = set(f for f in source_files() if ships(f))
    assert not names - expected, "shipped but should not: %s" % sorted(names - expected)
    assert not expected - names, "missing from the artifact: %s" % sorted(expected - names)
    assert set(MUST_SHIP) <= names, sorted(set(MUST_SHIP) - names)
    assert not [n for n in names if NEVER_SHIPPED.search(n)], [n for n in names if NEVER_SHIPPED.search(n)]
    # Galaxy metadata, as Automation Hub and `ansible-galaxy collection info` show it
    info = manifest["collection_info"]
    assert info["version"] == GALAXY["version"] and info["license"] == ["GPL-3.0-or-later"]
    for key in ("repository", "documentation", "homepage", "issues"):
        assert info[key].startswith("https://"), key
    assert info["readme"] == "README.md" and "cloud" in info["tags"] and info["dependencies"] == {}
    assert "GNU GENERAL PUBLIC LICENSE" in open(os.path.join(ROOT, "LICENSE")).read(200)


def test_installed_copy_verifies_and_documents_itself(installed, tmp_path):
    collections, path = installed
    env = ansible_env(collections, str(tmp_path / "home"))
    listed = run([os.path.join(BIN, "ansible-galaxy"), "collection", "list", "alicloud.cloudsso", "--format", "json"],
                 env=env).stdout
    assert list(json.loads(listed)) == [os.path.join(collections, "ansible_collections")]
    run([os.path.join(BIN, "ansible-galaxy"), "collection", "verify", "--offline", "-p", collections,
         "alicloud.cloudsso"], env=env)
    modules = json.loads(run([os.path.join(BIN, "ansible-doc"), "-l", "-j", "alicloud.cloudsso"], env=env).stdout)
    shipped = sorted(f[:-3] for f in os.listdir(os.path.join(ROOT, "plugins", "modules")) if f.endswith(".py"))
    assert sorted(m.split(".")[-1] for m in modules) == shipped
    role = json.loads(run([os.path.join(BIN, "ansible-doc"), "-t", "role", "-j", "alicloud.cloudsso.scim_rotation"],
                          env=env).stdout)
    assert role["alicloud.cloudsso.scim_rotation"]["path"].startswith(collections)


class StateFileEmulator(object):
    """Stands in for EmulatorProcess in PlaybookRunner when the playbook starts its own emulator (the demo):
    every secret that emulator issued, read from its state file."""

    url = "http://127.0.0.1:9"

    def __init__(self, state_path):
        self.state_path = state_path
        self.control = self

    def secrets(self):
        with open(self.state_path) as handle:
            values = [s["value"] for s in json.load(handle)["secrets"]]
        assert values, "the demo's emulator issued no secret: the leak scan would prove nothing"
        return values


def demo_source(folder, state_path):
    """A stand-in for the source checkout: its `emulator` package is the repository's, started with --state
    so that the test can read every secret it issued once the demo has stopped it."""
    package = os.path.join(folder, "emulator")
    os.makedirs(package)
    real = os.path.join(ROOT, "emulator")
    with open(os.path.join(package, "__init__.py"), "w") as handle:
        handle.write("__path__.append(%r)\n" % real)
    with open(os.path.join(package, "__main__.py"), "w") as handle:
        handle.write(textwrap.dedent("""\
            import importlib.util, os, sys
            spec = importlib.util.spec_from_file_location("emulator._main", os.path.join(%r, "__main__.py"))
            main = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(main)
            sys.exit(main.main(sys.argv[1:] + ["--state", %r]))
            """ % (real, state_path)))
    return folder


def assert_ran_from(run_, installed_path):
    assert "task path: %s/playbooks/" % installed_path in run_.stdout
    for part in ("playbooks", "roles", "plugins"):
        assert "%s/%s/" % (ROOT, part) not in run_.output, "the repository's %s was used" % part


def test_demo_runs_from_the_installed_copy(installed, tmp_path):
    collections, path = installed
    state = str(tmp_path / "emulator-state.json")
    runner = PlaybookRunner(tmp_path / "run", StateFileEmulator(state), make_access_key())
    demo_dir = str(tmp_path / "run" / "demo")
    result = runner.playbook("alicloud.cloudsso.demo", {"demo_source": demo_source(str(tmp_path / "src"), state),
                                                        "demo_dir": demo_dir},
                             env=ansible_env(collections, str(tmp_path / "home"), ANSIBLE_ROLES_PATH=str(tmp_path)),
                             timeout=300)
    assert_ran_from(result, path)
    report = json.load(open(os.path.join(demo_dir, "rotation-report.json")))
    assert report["outcome"] == "rotated" and report["old_credential_id"] != report["new_credential_id"]


def test_rotate_playbook_runs_from_the_installed_copy_as_awx_runs_it(installed, emulator, tmp_path):
    """Two directories rotated with Microsoft Entra ID, credentials injected as the AWX credential types do,
    the survey's answers as extra vars; a third directory that does not exist fails the job (rc 2) while the
    other two rotate, and every directory's report reaches set_stats (the job's artifacts)."""
    collections, path = installed
    control = emulator.control
    control.reset()
    key = make_access_key(permissions=["*"])
    control.seed({"access_keys": [key]})
    directories = {}
    app = {}
    # Two directories are two accounts (one directory per account): each host assumes a role in its own.
    accounts = dict(zip(("dir-a", "dir-b"), member_accounts(control, 2, key["account_id"], REGION)))
    for host, account in accounts.items():
        directory_id = account["directory_id"]
        old = control.seed({"credentials": [{"directory_id": directory_id}]})["credentials"][0]["credential_id"]
        idp = control.call("POST", "idps", dict({"kind": "entra", "directory_id": directory_id, "credential_id": old,
                                                 "interval": 2}, **app))
        app = app or {"tenant_id": idp["tenant_id"], "client_id": idp["client_id"], "client_secret": idp["client_secret"]}
        directories[host] = {"directory_id": directory_id, "old": old, "idp": idp, "auth": account["auth"]}
    work = tmp_path / "run"
    runner = PlaybookRunner(work, emulator, key)
    for name in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_REGION"):
        del runner.env[name]  # they come from the credential types' injectors below
    types = credential_types()
    runner.env.update(inject(types["Alibaba Cloud (alicloud.cloudsso)"],
                             {"access_key_id": key["id"], "access_key_secret": key["secret"], "region": REGION}))
    runner.env.update(inject(types["Microsoft Entra ID automation app (alicloud.cloudsso)"], app))
    inventory = {"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": os.path.join(BIN, "python"),
                 "scim_rotation_idp": "entra_id", "scim_rotation_state_dir": str(work / "state"),
                 "scim_rotation_usage_window": "1h", "scim_rotation_verify_interval_seconds": 2},
        "hosts": dict((host, {"scim_rotation_directory_id": d["directory_id"], "scim_rotation_auth": d["auth"],
                              "scim_rotation_entra": {"service_principal_id": d["idp"]["service_principal_id"]}})
                      for host, d in directories.items())}}
    inventory["all"]["hosts"]["dir-missing"] = {"scim_rotation_directory_id": "d-000000000000", "scim_rotation_idp": "manual"}
    with open(str(work / "directories.yml"), "w") as handle:
        yaml.safe_dump(inventory, handle)
    # What AWX sends from the survey: the defaults, with "Rotate even if not due" answered "true" (a string)
    # and a shorter verification timeout.
    answers = dict((q["variable"], q["default"]) for q in load_yaml("awx", "survey.yml")["alicloud_cloudsso_rotate_survey"]["spec"])
    answers.update(scim_rotation_force="true", scim_rotation_verify_timeout_seconds=120)
    result = runner.playbook("alicloud.cloudsso.rotate", answers, inventory=str(work / "directories.yml"),
                             expect_rc=2, timeout=400, forks=3,
                             env=ansible_env(collections, str(tmp_path / "home"), ANSIBLE_ROLES_PATH=str(tmp_path),
                                             ANSIBLE_SHOW_CUSTOM_STATS="true"))
    assert_ran_from(result, path)
    recap = dict(re.findall(r"^(dir-\S+)\s+:.*failed=(\d+)", result.stdout, re.M))
    assert recap == {"dir-a": "0", "dir-b": "0", "dir-missing": "1"}, recap
    assert "EntityNotExists.Directory" in result.stdout
    state = control.state()
    for host, d in directories.items():
        creds = [c for c in state["credentials"] if c["directory_id"] == d["directory_id"]]
        assert len(creds) == 1 and creds[0]["status"] == "Enabled" and creds[0]["credential_id"] != d["old"], creds
        idp = control.call("GET", "idps/" + d["idp"]["idp_id"])
        assert idp["credential_id"] == creds[0]["credential_id"] and idp["last_cycle"]["ok"], (host, idp)
    # set_stats data, which AWX keeps as the job's artifacts: one report per directory
    stats = json.loads(result.stdout.split("CUSTOM STATS:", 1)[1].split("RUN:", 1)[1].strip())["scim_rotation"]
    outcomes = dict((d, report["outcome"]) for d, report in stats.items())
    expected = dict((d["directory_id"], "rotated") for d in directories.values())
    expected["d-000000000000"] = "stopped"
    assert outcomes == expected
    assert "EntityNotExists.Directory" in stats["d-000000000000"]["message"]
