"""Every Molecule scenario of extensions/molecule/ through `molecule test`, leak-scanned.

Each test starts its own emulator (EmulatorProcess: loopback, port 0, stops with this process) and hands its URL
to the scenario through CLOUDSSO_EMULATOR_URL, so the scenario's prepare only seeds it and its destroy leaves it
running. That is what makes the leak scan robust: after Molecule has finished, however it finished (a failed
verify, a crash before destroy), this test still asks the live emulator for every secret it issued
(`/_emulator/secrets`: the access key, the SCIM secrets, the Entra app's client secret, the tokens Graph and
IDaaS received) and searches for them in everything Molecule printed, the ansible log (ANSIBLE_LOG_PATH) and every
file left in the scenario's ephemeral folder. No secret file has to be written for the test and then excluded:
destroy removes the scenario's secret files, so nothing in the folder may hold a secret.

Ansible runs at -vvvv (ANSIBLE_VERBOSITY=4). The collection is built and installed into a temporary ANSIBLE_HOME
once per pytest session (`ansible-galaxy collection install` of the checkout, which honours galaxy.yml's
build_ignore, as Molecule's prerun does), so the scenarios exercise the built artifact; Molecule's prerun, which
would install it again before every scenario, is turned off by laying no_prerun.yml over the scenarios' base
config.
"""

import glob
import json
import os
import subprocess
import sys

import pytest
import yaml

from tests.helpers.ansible import ROOT, clean_environment
from tests.helpers.emulator import EmulatorProcess
from tests.helpers.leaks import assert_no_leaks, read_tree
from tests.helpers.once import once_per_session

BIN = os.path.dirname(sys.executable)
MOLECULE_DIR = os.path.join(ROOT, "extensions", "molecule")
BASE_CONFIGS = [os.path.join(MOLECULE_DIR, "config.yml"), os.path.join(os.path.dirname(__file__), "no_prerun.yml")]
SCENARIOS = sorted(name for name in os.listdir(MOLECULE_DIR)
                   if os.path.isfile(os.path.join(MOLECULE_DIR, name, "molecule.yml")))


def scenario_spec(name):
    with open(os.path.join(MOLECULE_DIR, name, "molecule.yml")) as handle:
        config = yaml.safe_load(handle)
    return config["provisioner"]["inventory"]["host_vars"]["localhost"]["scenario"]


def install_collection(home):
    env = clean_environment()
    env.update(ANSIBLE_HOME=home, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--force", ROOT,
                    "-p", os.path.join(home, "collections")], cwd=ROOT, env=env, check=True, capture_output=True,
                   timeout=300)
    return home


@pytest.fixture(scope="session")
def ansible_home(tmp_path_factory):
    """One ANSIBLE_HOME per pytest session, with the built collection installed in it. Scenarios running at the
    same time share it: each ansible process keeps its temporary files in a folder of its own there."""
    return once_per_session(tmp_path_factory, "ansible-home", install_collection)


def test_every_scenario_is_collected():
    assert len(SCENARIOS) >= 9, SCENARIOS


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_molecule_scenario(scenario, tmp_path, ansible_home):
    ephemeral = str(tmp_path / "ephemeral")
    log = str(tmp_path / "ansible.log")
    with EmulatorProcess() as emulator:
        env = clean_environment()
        env.update(
            PATH=BIN + os.pathsep + os.environ.get("PATH", ""),
            ANSIBLE_HOME=ansible_home,
            ANSIBLE_LOG_PATH=log,
            ANSIBLE_VERBOSITY="4",
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_FORCE_COLOR="0",
            NO_COLOR="1",
            MOLECULE_EPHEMERAL_DIRECTORY=ephemeral,
            CLOUDSSO_EMULATOR_URL=emulator.url,
        )
        base_configs = [arg for path in BASE_CONFIGS for arg in ("--base-config", path)]
        proc = subprocess.run([os.path.join(BIN, "molecule")] + base_configs + ["test", "--scenario-name", scenario],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        log_text = open(log).read() if os.path.exists(log) else ""
        texts = {"molecule stdout": proc.stdout, "molecule stderr": proc.stderr, "ansible log": log_text}
        texts.update(read_tree(ephemeral))
        assert_no_leaks(texts, emulator.control.secrets())
        output = proc.stdout + proc.stderr
        assert proc.returncode == 0, "molecule test -s %s: rc %s\n%s" % (scenario, proc.returncode, output[-15000:])
        # destroy stopped nothing it did not start
        assert emulator.proc.poll() is None

    assert "ESTABLISH LOCAL CONNECTION" in log_text  # ANSIBLE_VERBOSITY took effect (-vvv and more)
    # the role and the modules came from the collection installed in ANSIBLE_HOME (the built artifact)
    assert os.path.join(ansible_home, "collections", "ansible_collections", "alicloud", "cloudsso", "roles") in log_text
    runs = scenario_spec(scenario)["runs"]
    # the role validated its arguments once per run (meta/argument_specs.yml), and passed; a run killed on purpose
    # (`kill_after`) is a child ansible-playbook that inherits ANSIBLE_LOG_PATH and validates before it is killed
    assert log_text.count("Validating arguments against arg spec 'main'") == len(runs)
    # a JSON report per run that was neither killed nor a dry run (check mode writes nothing), and its message as
    # the summary line of the play's output
    reports = sorted(glob.glob(os.path.join(ephemeral, "cloudsso", "reports", "run-*.json")))
    assert len(reports) == len([run for run in runs if run.get("expect") != "killed" and not run.get("check_mode")])
    # a killed run's child ansible-playbook left its output beside the reports, so the leak scan above read it
    for number, run in enumerate(runs, 1):
        if run.get("expect") == "killed":
            assert os.path.isfile(os.path.join(ephemeral, "cloudsso", "reports", "run-%d.killed.log" % number))
    for path in reports:
        with open(path) as handle:
            report = json.load(handle)
        assert "%s (report: %s)" % (report["message"], path) in output
    # destroy removed the secrets and the rotation state
    assert not os.path.exists(os.path.join(ephemeral, "cloudsso", "secrets"))
    assert not os.path.exists(os.path.join(ephemeral, "cloudsso", "state"))
