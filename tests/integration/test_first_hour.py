"""The first hour of a new user (issue 14): one setting points everything at the emulator, a connection error
names the setting that governs the endpoint, messages are whole sentences said at once, and the small surprises
of scim_credential and scim_credential_info are gone. Each test runs ansible-playbook as users do."""

import json
import os
import re

import yaml

from tests.helpers.ansible import REGION, ROOT
from tests.reliability.harness import closed_port

ENDPOINT_VARIABLES = ("ALIBABA_CLOUD_CLOUDSSO_ENDPOINT", "ALIBABA_CLOUD_ACTIONTRAIL_ENDPOINT",
                      "ALIBABA_CLOUD_IDAAS_ENDPOINT", "ALIBABA_CLOUD_STS_ENDPOINT",
                      "ALIBABA_CLOUD_CLOUDSSO_SCIM_ENDPOINT", "ALIBABA_CLOUD_CLOUDSSO_GRAPH_ENDPOINT",
                      "ALIBABA_CLOUD_CLOUDSSO_LOGIN_ENDPOINT")


def only_base_url(cloud):
    """The runner's environment without any per-API endpoint variable (empty counts as unset)."""
    for name in ENDPOINT_VARIABLES:
        cloud.runner.env[name] = ""


def play(cloud, name, tasks, play_vars=None):
    path = os.path.join(cloud.work, name + ".yml")
    with open(path, "w") as handle:
        yaml.safe_dump([{"name": name, "hosts": "localhost", "gather_facts": False, "vars": play_vars or {},
                         "tasks": tasks}], handle, sort_keys=False)
    return path


def results(run):
    """The JSON results of the `debug: var=result_*` tasks, by variable name."""
    found = {}
    for match in re.finditer(r'ok: \[localhost\] => (\{\n.*?\n\})\n', run.stdout, re.S):
        found.update(json.loads(match.group(1)))
    return found


def test_one_base_url_serves_every_api_and_info_reports_the_scim_endpoint_in_use(cloud):
    directory_id, (cred,) = cloud.directory(credentials=[{}])
    only_base_url(cloud)
    tasks = [
        {"name": "Read", "alicloud.cloudsso.scim_credential_info": {"directory_id": directory_id},
         "register": "result_info"},
        {"name": "Probe", "alicloud.cloudsso.scim_token_check": {"token_file": cred["secret_file"]},
         "register": "result_probe"},
        {"name": "Usage", "alicloud.cloudsso.scim_usage_info": {"directory_id": directory_id, "since": "1h"},
         "register": "result_usage"},
        {"name": "Show", "ansible.builtin.debug": {"var": "item"}, "loop": ["{{ result_info.scim_endpoint }}",
                                                                            "{{ result_probe.authenticated }}",
                                                                            "{{ result_usage.conclusive }}"]},
    ]
    run = cloud.runner.playbook(play(cloud, "base", tasks), verbosity=0, env={"ALIBABA_CLOUD_CLOUDSSO_BASE_URL":
                                                                              cloud.emulator.url})
    expected = "%s/region/%s/scim/v2" % (cloud.emulator.url.rstrip("/"), REGION)
    assert '"item": "%s"' % expected in run.stdout
    assert '"item": true' in run.stdout
    counts = cloud.control.calls()["counts"]
    assert counts.get("cloudsso:ListSCIMServerCredentials") and counts.get("actiontrail:LookupEvents")


def test_every_endpoint_option_is_accepted_by_every_module_of_the_group(cloud):
    """actiontrail_endpoint_url (and the other endpoint options) in module_defaults of the group, as
    scim_rotation_auth puts them, no longer fails rotation_lock."""
    base = cloud.emulator.url.rstrip("/")
    directory_id, _ = cloud.directory(credentials=[{}])
    only_base_url(cloud)
    path = os.path.join(cloud.work, "group.yml")
    with open(path, "w") as handle:
        yaml.safe_dump([{"name": "group", "hosts": "localhost", "gather_facts": False,
                         "module_defaults": {"group/alicloud.cloudsso.cloudsso": {
                             "endpoint_url": base + "/region/{region}",
                             "actiontrail_endpoint_url": base + "/region/{region}", "sts_endpoint_url": base,
                             "base_url": base, "allow_insecure_http": False}},
                         "tasks": [
                             {"name": "Lock", "alicloud.cloudsso.rotation_lock": {
                                 "path": os.path.join(cloud.work, "x.lock"), "owner": "me", "state": "acquired"}},
                             {"name": "Usage", "alicloud.cloudsso.scim_usage_info": {"directory_id": directory_id,
                                                                                    "since": "1h"}}]}], handle)
    cloud.runner.playbook(path, verbosity=0)


def test_a_probe_failure_names_the_setting_that_chose_the_scim_endpoint(cloud):
    directory_id, (cred,) = cloud.directory(credentials=[{}])
    refused = "http://127.0.0.1:%d/scim/v2" % closed_port()
    tasks = [{"name": "Probe", "alicloud.cloudsso.scim_token_check": {"token_file": cred["secret_file"]}}]
    run = cloud.runner.playbook(play(cloud, "probe", tasks), verbosity=0, expect_rc=2,
                                env={"ALIBABA_CLOUD_CLOUDSSO_SCIM_ENDPOINT": refused})
    message = re.search(r'"msg": "(.*?)"', run.stdout).group(1)
    assert "Check ALIBABA_CLOUD_CLOUDSSO_SCIM_ENDPOINT (it chose this endpoint)" in message
    assert "endpoint_url" not in message
    # A refused connection on loopback fails at once: one attempt, not 12 to 15 seconds of retries.
    assert '"attempts": 1' in run.stdout and run.elapsed < 20, run.elapsed
    assert re.search(r"cannot connect to 127\.0\.0\.1 port \d+: \[Errno 111\] Connection refused\. Check", message)


def test_a_host_name_that_does_not_resolve_fails_at_once_with_a_whole_message(cloud):
    directory_id, _ = cloud.directory(credentials=[{}])
    tasks = [{"name": "Read", "alicloud.cloudsso.scim_credential_info": {
        "directory_id": directory_id, "endpoint_url": "https://cloudsso.nosuchhost.invalid"}}]
    run = cloud.runner.playbook(play(cloud, "dns", tasks), verbosity=0, expect_rc=2)
    message = re.search(r'"msg": "(.*?)"', run.stdout).group(1)
    assert "Failed to resolve 'cloudsso.nosuchhost.invalid'" in message
    assert "Check endpoint_url (it chose this endpoint)" in message
    assert '"attempts": 1' in run.stdout
    # Never cut mid-word, never a literal newline.
    assert not re.search(r"\w\.\s+Check", message.split("known)")[0]), message
    assert "\\n" not in message


def test_absent_without_a_selector_fails_like_enabled(cloud):
    directory_id, (cred,) = cloud.directory(credentials=[{"status": "Disabled"}])
    tasks = [{"name": "Delete what?", "alicloud.cloudsso.scim_credential": {"directory_id": directory_id,
                                                                           "state": "absent"}}]
    run = cloud.runner.playbook(play(cloud, "absent", tasks), verbosity=0, expect_rc=2)
    assert "state=absent needs credential_id or secret_file" in run.stdout
    assert cloud.credentials(directory_id) == {cred["credential_id"]: "Disabled"}


def test_check_mode_returns_the_predicted_credential_for_every_state(cloud):
    directory_id, (enabled, disabled) = cloud.directory(credentials=[{}, {"status": "Disabled"}])
    other, _ = cloud.directory(credentials=[{}])
    new_file = os.path.join(cloud.secrets_dir, "new.json")
    cases = [("result_disable", directory_id, {"state": "disabled", "credential_id": enabled["credential_id"]}),
             ("result_enable", directory_id, {"state": "enabled", "credential_id": disabled["credential_id"]}),
             ("result_delete", directory_id, {"state": "absent", "credential_id": disabled["credential_id"]}),
             ("result_keep", directory_id, {"state": "present", "credential_id": enabled["credential_id"]}),
             ("result_create", other, {"state": "enabled", "secret_file": new_file})]
    # The other directory is another account's (one directory per account): its task reaches it with that
    # account's role (cloud.auth).
    tasks = [{"name": name, "alicloud.cloudsso.scim_credential": dict(options, directory_id=directory,
                                                                      **cloud.auth.get(directory, {})),
              "register": name, "check_mode": True} for name, directory, options in cases]
    tasks.append({"name": "Show", "ansible.builtin.debug": {"msg": "{{ %s }}" % (
        "{" + ", ".join("'%s': %s.credential" % (name, name) for name, _, _ in cases) + "}")}})
    run = cloud.runner.playbook(play(cloud, "check", tasks), verbosity=0)
    shown = json.loads(re.search(r'ok: \[localhost\] => \{\n    "msg": (\{.*?\n    \})\n\}', run.stdout, re.S).group(1))
    assert shown["result_disable"]["credential_id"] == enabled["credential_id"]
    assert shown["result_disable"]["status"] == "Disabled"
    assert shown["result_enable"]["status"] == "Enabled"
    assert shown["result_delete"] is None
    assert shown["result_keep"]["status"] == "Enabled"
    assert shown["result_create"]["status"] == "Enabled" and shown["result_create"]["credential_id"] is None
    assert shown["result_create"]["directory_id"] == other
    assert not os.path.exists(new_file)
    assert cloud.credentials(directory_id) == {enabled["credential_id"]: "Enabled", disabled["credential_id"]: "Disabled"}


def test_demo_documents_every_endpoint_variable():
    """docs/emulator.md lists every endpoint setting: the role variables, the module options, the variables."""
    doc = open(os.path.join(ROOT, "docs", "emulator.md")).read()
    specs = yaml.safe_load(open(os.path.join(ROOT, "roles", "scim_rotation", "meta", "argument_specs.yml")))
    role_vars = [name for name in specs["argument_specs"]["main"]["options"]
                 if "endpoint" in name or name in ("scim_rotation_base_url", "scim_rotation_allow_insecure_http")]
    assert len(role_vars) == 9
    for name in role_vars + list(ENDPOINT_VARIABLES) + ["ALIBABA_CLOUD_CLOUDSSO_BASE_URL", "base_url",
                                                        "actiontrail_endpoint_url", "sts_endpoint_url",
                                                        "allow_insecure_http"]:
        assert "`%s`" % name in doc, name


def test_readme_says_how_to_install_and_what_make_demo_costs():
    readme = open(os.path.join(ROOT, "README.md")).read()
    install = readme.split("## Install", 1)[1].split("\n## ", 1)[0]
    for command in ("pip install ansible-core ", "ansible-galaxy collection install alicloud.cloudsso",
                    "ansible-galaxy collection install ./alicloud-cloudsso-",
                    "ansible-galaxy collection install git+https://github.com/alicloud-cloudsso/alicloud.cloudsso.git"):
        assert command in install, command
    assert "requests" not in install.split("```", 2)[1], "the collection needs no Python package besides ansible-core"
    # make demo installs the runtime set only, in its own venv, and the README states what it measured.
    makefile = open(os.path.join(ROOT, "Makefile")).read()
    demo = makefile.split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    assert "requirements-demo.txt" in makefile and ".venv" not in demo and "venv " not in demo.split("\n")[0]
    pinned = [line.split("==")[0].lower() for line in open(os.path.join(ROOT, "requirements-demo.txt"))
              if line.strip() and not line.startswith("#")]
    assert "ansible-core" in pinned and "requests" not in pinned and len(pinned) < 20
    assert not {"sphinx", "matplotlib", "molecule", "ansible-lint", "pytest"} & set(pinned)
    assert re.search(r"\*\*(\d+ min )?\d+ s\*\* the first time.*load average [\d.]+", readme.replace("\n", " "))


def test_a_failing_rotation_says_why_once_in_whole_sentences(cloud):
    """The verify step runs out of polls (the custom IdP gives the token to nobody): the reason is printed once,
    by the play's last task, without "Unknown error", a literal newline, or a word cut short."""
    directory_id, _ = cloud.directory(credentials=[{"create_time": "2026-01-04T08:00:00Z"}])
    nobody = os.path.join(cloud.work, "nobody.yml")
    with open(nobody, "w") as handle:
        yaml.safe_dump([{"name": "Give the token to nobody", "ansible.builtin.debug": {"msg": "not given"}}], handle)
    state = os.path.join(cloud.work, "state")
    cloud.runner.allow_secret_file(os.path.join(state, directory_id, "pending.json"))
    variables = {"scim_rotation_directory_id": directory_id, "scim_rotation_region": REGION,
                 "scim_rotation_idp": "custom", "scim_rotation_idp_tasks": nobody, "scim_rotation_state_dir": state,
                 "scim_rotation_usage_window": "1h", "scim_rotation_verify_interval_seconds": 1,
                 "scim_rotation_verify_timeout_seconds": 2}
    run = cloud.runner.playbook(os.path.join(ROOT, "playbooks", "rotate.yml"), variables, verbosity=0, expect_rc=2)
    reason = "no ActionTrail event shows scimcred-"
    printed = [line for line in run.stdout.splitlines() if reason in line]
    # One task says it: its "[ERROR]" line and its "fatal:" line.
    assert len(printed) == 2 and printed[0].startswith("[ERROR]") and printed[1].startswith("fatal:"), printed
    assert "Unknown error" not in run.stdout and "\\n" not in printed[1]
    message = json.loads(printed[1].split("=> ", 1)[1])["msg"]
    assert message.startswith(directory_id + ": failed at verify: ") and "(report: " in message
    assert "raise the timeout (rescue: old credential re-enabled" in message
