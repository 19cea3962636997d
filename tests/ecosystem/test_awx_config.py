"""AWX as code: the credential types are valid AWX definitions whose injectors set only variables the collection
reads; the survey asks only for variables the rotation reads; awx/configure_awx.yml passes a syntax check and
ansible-lint's production profile with the real awx.awx collection, and runs with the example settings against
awx.awx's own argument specs (each module replaced by one that validates its arguments with the real spec and
records what it would send to AWX), at -vvvv, leak-scanned."""

import json
import os
import re
import secrets
import subprocess
import sys
import textwrap

import yaml

from ansible_collections.alicloud.cloudsso.plugins.module_utils import credentials as chain
from ansible_collections.alicloud.cloudsso.plugins.module_utils.entra import signin as graph

from tests.ecosystem.support import (AWX_DIR, BIN, ROOT, ansible_env, awx_collection, credential_types,
                                     injector_variables, load_yaml, run)
from tests.helpers.leaks import assert_no_leaks

FIELD_ID = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
SECRET_WORDS = ("secret", "token", "password", "key_secret")
# Every variable the collection's credential chain and Entra sign-in read (their own constants).
COLLECTION_ENV = set(name for names in chain.ENV_PAIRS for name in names[:3]) | set(chain.REGION_ENV) | \
    set(graph.TENANT_ENV + graph.CLIENT_ID_ENV + graph.CLIENT_SECRET_ENV)


def test_credential_types_are_valid_awx_definitions():
    types = load_yaml("awx", "credential_types.yml")["alicloud_cloudsso_credential_types"]
    assert [t["name"] for t in types] == ["Alibaba Cloud (alicloud.cloudsso)",
                                          "Microsoft Entra ID automation app (alicloud.cloudsso)"]
    for ctype in types:
        assert set(ctype) == {"name", "description", "kind", "inputs", "injectors"}, ctype["name"]
        assert ctype["kind"] in ("cloud", "net")  # the kinds AWX allows for custom types
        fields = ctype["inputs"]["fields"]
        ids = [f["id"] for f in fields]
        assert len(ids) == len(set(ids)) and all(FIELD_ID.match(i) for i in ids), ids
        assert set(ctype["inputs"]["required"]) <= set(ids)
        for field in fields:
            assert field["label"] and field.get("type", "string") in ("string", "boolean")
            assert field.get("secret", False) == any(w in field["id"] for w in SECRET_WORDS), field["id"]
        assert set(ctype["injectors"]) == {"env"}, "inject only environment variables, never extra vars"
        for name, used in injector_variables(ctype).items():
            assert used and used <= set(ids), (name, used)
            assert not name.startswith("ANSIBLE_")  # reserved by AWX
        assert set(ids) == set().union(*injector_variables(ctype).values()), "an input that is never injected"


def test_every_injected_variable_is_read_by_the_collection():
    injected = set(name for ctype in credential_types().values() for name in ctype["injectors"]["env"])
    assert injected and injected <= COLLECTION_ENV, sorted(injected - COLLECTION_ENV)


def test_survey_asks_only_for_what_the_rotation_reads():
    spec = load_yaml("awx", "survey.yml")["alicloud_cloudsso_rotate_survey"]["spec"]
    role = load_yaml("roles", "scim_rotation", "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    rotate = open(os.path.join(ROOT, "playbooks", "rotate.yml")).read()
    for question in spec:
        variable = question["variable"]
        assert variable in role or "%s |" % variable in rotate, variable
        assert question["type"] in ("text", "textarea", "password", "integer", "float", "multiplechoice",
                                    "multiselect")
        option = role.get(variable, {})
        if question["type"] == "multiplechoice":
            assert question["default"] in question["choices"]
            if option.get("type") == "bool":
                assert sorted(question["choices"]) == ["false", "true"], variable
        if question["type"] == "integer":
            assert option.get("type") == "int" and question["min"] <= question["default"] <= question["max"]
            assert question["default"] == option.get("default", question["default"])


def test_configure_awx_passes_syntax_check_and_production_lint(tmp_path):
    env = ansible_env(awx_collection(), str(tmp_path / "home"))
    run([os.path.join(BIN, "ansible-playbook"), "--syntax-check", "configure_awx.yml", "-e",
         "@configure_awx_vars.example.yml"], env=env, cwd=AWX_DIR)
    # Its own configuration: the repository's may exclude this playbook from `make lint`, which lacks awx.awx.
    config = tmp_path / "ansible-lint.yml"
    config.write_text("profile: production\n")
    lint = run([os.path.join(BIN, "ansible-lint"), "-c", str(config), "--offline", "awx/configure_awx.yml",
                "awx/survey.yml", "awx/credential_types.yml", "awx/configure_awx_vars.example.yml"], env=env, cwd=ROOT,
               expect_rc=None, timeout=300)
    assert "4 files processed" in lint.stdout + lint.stderr, lint.stdout[-2000:] + lint.stderr[-2000:]
    assert lint.returncode == 0, lint.stdout[-4000:] + lint.stderr[-4000:]


CAPTURE = textwrap.dedent("""\
    import importlib, json, sys
    from ansible_collections.awx.awx.plugins.module_utils import controller_api as api

    class Captured(Exception):
        pass

    def capture(self, argument_spec=None, direct_params=None, error_callback=None, warn_callback=None, **kwargs):
        spec = dict(api.ControllerModule.AUTH_ARGSPEC)
        spec.update(argument_spec or {})
        raise Captured(spec, kwargs)

    api.ControllerAPIModule.__init__ = capture
    specs = {}
    for name in sys.argv[1:]:
        try:
            importlib.import_module("ansible_collections.awx.awx.plugins.modules." + name).main()
        except Captured as exc:
            specs[name] = {"argument_spec": exc.args[0], "kwargs": exc.args[1]}
    print(json.dumps(specs, default=lambda value: value.__name__))  # fallback=(env_fallback, [...])
    """)

SHIM = textwrap.dedent("""\
    #!/usr/bin/python
    # Test stand-in for awx.awx.%(name)s: the real argument spec, validated by AnsibleModule; the validated
    # parameters (what the real module would send to AWX) are appended to $AWX_SHIM_RECORD.
    import json
    import os
    from ansible.module_utils.basic import AnsibleModule, env_fallback
    SPEC = json.loads(%(spec)r)
    for option in SPEC["argument_spec"].values():
        if option.get("fallback"):
            assert option["fallback"][0] == "env_fallback"
            option["fallback"] = (env_fallback, option["fallback"][1])

    def main():
        kwargs = dict(SPEC["kwargs"])
        kwargs.pop("supports_check_mode", None)
        module = AnsibleModule(argument_spec=SPEC["argument_spec"], supports_check_mode=True, **kwargs)
        with open(os.environ["AWX_SHIM_RECORD"], "a") as handle:
            handle.write(json.dumps({"module": %(name)r, "params": module.params}) + "\\n")
        module.exit_json(changed=True)

    main()
    """)


def shim_collection(folder):
    """awx.awx with every module used by configure_awx.yml replaced by a recorder with the real argument spec."""
    real = awx_collection()
    playbook = open(os.path.join(AWX_DIR, "configure_awx.yml")).read()
    used = sorted(set(re.findall(r"^\s+awx\.awx\.(\w+):$", playbook, re.M)))
    out = subprocess.run([sys.executable, "-c", CAPTURE] + used, env=dict(os.environ, PYTHONPATH=real),
                         capture_output=True, text=True, check=True).stdout
    specs = json.loads(out)
    assert sorted(specs) == used
    base = os.path.join(folder, "ansible_collections", "awx", "awx")
    os.makedirs(os.path.join(base, "plugins", "modules"))
    os.makedirs(os.path.join(base, "meta"))
    with open(os.path.join(real, "ansible_collections", "awx", "awx", "meta", "runtime.yml")) as src, \
            open(os.path.join(base, "meta", "runtime.yml"), "w") as dst:
        dst.write(src.read())
    for name, spec in specs.items():
        with open(os.path.join(base, "plugins", "modules", name + ".py"), "w") as handle:
            handle.write(SHIM % {"name": name, "spec": json.dumps(spec)})
    return folder, used


def test_configure_awx_runs_against_the_awx_awx_argument_specs(tmp_path):
    collections, used = shim_collection(str(tmp_path / "shim"))
    record = tmp_path / "awx-received.jsonl"  # what AWX would store (its database): allowed to hold secrets
    values = dict((name, "Sx" + secrets.token_urlsafe(24)) for name in
                  ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "AZURE_CLIENT_SECRET", "SMTP_PASSWORD"))
    log = tmp_path / "ansible.log"
    env = ansible_env(collections, str(tmp_path / "home"), AWX_SHIM_RECORD=str(record), ANSIBLE_LOG_PATH=str(log),
                      CONTROLLER_HOST="https://awx.invalid", ALIBABA_CLOUD_ACCESS_KEY_ID="TESTKEYID0000000000", **values)
    result = run([os.path.join(BIN, "ansible-playbook"), "configure_awx.yml", "-e", "@configure_awx_vars.example.yml",
                  "-vvvv"], env=env, cwd=AWX_DIR)
    assert_no_leaks({"stdout": result.stdout, "stderr": result.stderr, "log": log.read_text()}, list(values.values()))
    calls = [json.loads(line) for line in record.read_text().splitlines()]
    by_module = {}
    for call in calls:
        by_module.setdefault(call["module"], []).append(call["params"])
    assert sorted(by_module) == used
    example = load_yaml("awx", "configure_awx_vars.example.yml")

    # credential types reach AWX exactly as written: AWX templates in the injectors, untouched by Ansible
    sent = dict((p["name"], p) for p in by_module["credential_type"])
    for name, ctype in credential_types().items():
        assert dict((k, sent[name][k]) for k in ("description", "kind", "inputs", "injectors")) == \
            dict((k, ctype[k]) for k in ("description", "kind", "inputs", "injectors"))
    creds = dict((p["credential_type"], p["inputs"]) for p in by_module["credential"])
    assert creds["Alibaba Cloud (alicloud.cloudsso)"]["access_key_secret"] == values["ALIBABA_CLOUD_ACCESS_KEY_SECRET"]
    assert creds["Microsoft Entra ID automation app (alicloud.cloudsso)"]["client_secret"] == values["AZURE_CLIENT_SECRET"]

    (inventory,) = by_module["inventory"]
    assert inventory["variables"]["ansible_python_interpreter"] == "{{ ansible_playbook_python }}"
    assert [(h["name"], h["variables"]) for h in by_module["host"]] == \
        [(d["name"], d["variables"]) for d in example["cloudsso_awx_directories"]]

    (template,) = by_module["job_template"]
    assert template["allow_simultaneous"] is False and template["survey_enabled"] is True
    assert template["survey_spec"] == load_yaml("awx", "survey.yml")["alicloud_cloudsso_rotate_survey"]
    assert template["playbook"] == "playbooks/rotate.yml" and template["execution_environment"] == "alicloud.cloudsso"
    assert template["credentials"] == [example["cloudsso_awx_alibaba_credential"]["name"],
                                       example["cloudsso_awx_entra_credential"]["name"]]
    names = [n["name"] for n in example["cloudsso_awx_notifications"]]
    assert template["notification_templates_error"] == names and template["notification_templates_success"] == names[:1]

    notifications = dict((p["name"], p) for p in by_module["notification_template"])
    assert "{{ job.host_status_counts }}" in notifications[names[0]]["messages"]["error"]["message"]
    assert notifications[names[1]]["messages"]["error"]["body"].startswith("{{ job_friendly_name }} #{{ job.id }}")
    assert notifications[names[1]]["notification_configuration"]["password"] == values["SMTP_PASSWORD"]

    (schedule,) = by_module["schedule"]
    assert schedule["unified_job_template"] == template["name"] and "FREQ=DAILY" in schedule["rrule"]
    (project,) = by_module["project"]
    assert project["wait"] is True and project["scm_url"].endswith(".git")
