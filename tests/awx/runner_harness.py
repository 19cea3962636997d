"""Run the collection's playbooks the way AWX / Automation Controller runs a job, against the emulator.

AWX hands every job to ansible-runner as a *private data dir*:

    env/envvars      the job's environment, credentials injected by their credential type's `injectors.env`
    env/extravars    the job template's extra vars plus awx_* variables (never a secret here)
    env/cmdline      extra ansible-playbook arguments (forks, verbosity)
    env/settings     runner settings (job timeout)
    inventory/hosts  an executable script printing the inventory as JSON, as AWX writes it
    project/         the project checkout (here: a copy of the repository's playbooks/)

then runs `ansible-runner` (a separate process with an otherwise clean environment, as the execution
environment is) and reads `artifacts/<ident>/`: `status`, `rc`, `stdout`, `job_events/*.json` (what AWX
stores) and the `playbook_on_stats` event's `artifact_data` (the `set_stats` data AWX keeps as the job's
artifacts and hands to later workflow nodes).

Credentials are rendered from `awx/credential_types.yml` exactly as AWX does (Jinja2 sandbox, missing
optional inputs render as ""), after the checks AWX applies when the type is created, so the documented set
-up is the tested one.

    fleet = EntraFleet(emulator.control, count=10)           # 10 accounts' directories, one Entra app, 10 IdPs
    job = AwxJob(tmp_path / "job", emulator.url, fleet.credentials(), fleet.inventory(), extravars)
    result = job.run("rotate.yml", forks=10)
    result.status, result.artifact_data["scim_rotation"], result.events
"""

import json
import os
import shutil
import subprocess
import sys
import time
import uuid

import yaml
from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from tests.helpers.ansible import BIN, COLLECTIONS, REGION, clean_environment, emulator_env
from tests.helpers.emulator import make_access_key, member_accounts
from tests.helpers.leaks import find_leaks, read_tree

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CREDENTIAL_TYPES = os.path.join(ROOT, "awx", "credential_types.yml")
PLAYBOOKS = os.path.join(ROOT, "playbooks")
ALICLOUD_TYPE = "Alibaba Cloud (alicloud.cloudsso)"
ENTRA_TYPE = "Microsoft Entra ID automation app (alicloud.cloudsso)"
# The variables AWX refuses in a credential type's env injector (awx/main/fields.py, CredentialTypeInjectorField),
# besides every ANSIBLE_* name.
AWX_ENV_BLOCKLIST = frozenset((
    "VIRTUAL_ENV", "PATH", "PYTHONPATH", "JOB_ID", "INVENTORY_ID", "INVENTORY_SOURCE_ID", "INVENTORY_UPDATE_ID",
    "AD_HOC_COMMAND_ID", "REST_API_URL", "REST_API_TOKEN", "MAX_EVENT_RES", "CALLBACK_QUEUE", "CALLBACK_CONNECTION",
    "CACHE", "JOB_CALLBACK_DEBUG", "INVENTORY_HOSTVARS", "AWX_HOST", "PROJECT_REVISION", "SUPERVISOR_CONFIG_PATH"))
AWX_MASK = "**********"
# Endpoint variables of tests.helpers.ansible.emulator_env that are credentials or the credential's region: in a
# job they come only from the credential types' injectors.
INJECTED_BY_CREDENTIALS = ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_REGION")


# ------------------------------------------------------------------------------------------ credential types


def load_credential_types(path=CREDENTIAL_TYPES):
    """{name: credential type} from the repository's AWX credential types."""
    with open(path) as handle:
        document = yaml.safe_load(handle)
    return dict((t["name"], t) for t in document["alicloud_cloudsso_credential_types"])


def validate_credential_type(ctype):
    """The checks AWX makes when a custom credential type is created; returns a list of problems."""
    problems = []
    if ctype.get("kind") not in ("cloud", "net"):
        problems.append("kind must be cloud or net, not %r" % ctype.get("kind"))
    fields = ctype.get("inputs", {}).get("fields", [])
    ids = [f.get("id") for f in fields]
    for field in fields:
        if not field.get("id") or not field.get("label"):
            problems.append("every input field needs an id and a label: %r" % field)
        if field.get("type", "string") not in ("string", "boolean"):
            problems.append("field %s: type must be string or boolean" % field.get("id"))
    if len(set(ids)) != len(ids):
        problems.append("duplicate input ids")
    for required in ctype.get("inputs", {}).get("required", []):
        if required not in ids:
            problems.append("required input %s is not a field" % required)
    strict = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    namespace = dict((i, "x") for i in ids)
    for name, template in ctype.get("injectors", {}).get("env", {}).items():
        if name.startswith("ANSIBLE_") or name in AWX_ENV_BLOCKLIST:
            problems.append("AWX refuses the environment variable %s in an injector" % name)
        try:
            strict.from_string(template).render(**namespace)
        except Exception as exc:  # a template AWX would reject (undefined name, syntax error)
            problems.append("injector %s: %s" % (name, exc))
    if set(ctype.get("injectors", {})) - {"env"}:
        problems.append("only env injectors are expected (secrets as environment variables)")
    return problems


def render_injectors(ctype, inputs, safe=False):
    """The environment AWX gives ansible-playbook for a credential of `ctype` with `inputs`.

    As CredentialType.inject_credential: a sandboxed Jinja2 environment, inputs that are absent or empty are
    undefined (they render as ""), and with `safe` the secret inputs render as AWX's mask (the job's stored
    environment)."""
    fields = dict((f["id"], f) for f in ctype["inputs"]["fields"])
    unknown = set(inputs) - set(fields)
    if unknown:
        raise ValueError("unknown inputs %s for %s" % (sorted(unknown), ctype["name"]))
    missing = [name for name in ctype["inputs"].get("required", []) if not inputs.get(name)]
    if missing:
        raise ValueError("required inputs %s missing for %s" % (missing, ctype["name"]))
    namespace = {}
    for name, value in inputs.items():
        if isinstance(value, bool):
            namespace[name] = value
        elif value:
            namespace[name] = AWX_MASK if safe and fields[name].get("secret") else value
    for name, field in fields.items():
        if field.get("type") == "boolean" and name not in inputs:
            namespace[name] = False
    sandbox = ImmutableSandboxedEnvironment()
    return dict((var, sandbox.from_string(template).render(**namespace))
                for var, template in ctype["injectors"]["env"].items())


class Credential(object):
    """One AWX credential: a credential type of awx/credential_types.yml and its inputs."""

    def __init__(self, type_name, **inputs):
        self.type_name = type_name
        self.inputs = inputs

    def ctype(self, types):
        return types[self.type_name]

    def secrets(self, types):
        fields = self.ctype(types)["inputs"]["fields"]
        return [self.inputs[f["id"]] for f in fields if f.get("secret") and self.inputs.get(f["id"])]


def inject(credentials, types=None):
    """(env, safe_env, secret values) of a job with these credentials, as AWX builds them."""
    types = types or load_credential_types()
    env, safe_env, secrets = {}, {}, []
    for credential in credentials:
        ctype = credential.ctype(types)
        problems = validate_credential_type(ctype)
        assert not problems, "AWX would refuse the credential type %r: %s" % (ctype["name"], problems)
        env.update(render_injectors(ctype, credential.inputs))
        safe_env.update(render_injectors(ctype, credential.inputs, safe=True))
        secrets += credential.secrets(types)
    return env, safe_env, secrets


# ------------------------------------------------------------------------------------------ the emulated fleet


class EntraFleet(object):
    """`count` accounts, each with its one CloudSSO directory (one directory per management account) holding one
    Enabled SCIM credential created `credential_age_days` ago and a RAM role (CloudSSOScimRotation) that the
    automation account may assume; and one Microsoft Entra tenant whose automation app owns one enterprise
    application (service principal, one provisioning job) per directory. One simulated Entra IdP per directory
    holds the directory's credential (the emulator starts it with the credential's token: the test never
    handles it) and syncs every `idp_interval` seconds.

    So one AWX credential of each type serves every account, as operators of many Alibaba Cloud accounts set it
    up: the automation account's access key (allowed only sts:AssumeRole), each host assuming the role of its
    own account (`scim_rotation_auth.assume_role`, no secret in the inventory), and the one Entra app's client
    secret."""

    def __init__(self, control, count, region=REGION, idp_interval=2, credential_age_days=330, prefix="dir"):
        self.control = control
        self.region = region
        self.access_key = make_access_key(permissions=["sts:AssumeRole"])
        now = control.clock()["epoch"]
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - credential_age_days * 86400))
        control.seed({"access_keys": [self.access_key]})
        self.accounts = member_accounts(control, count, self.access_key["account_id"], region,
                                        names=["%s-%03d" % (prefix, n) for n in range(count)])
        ids = [a["directory_id"] for a in self.accounts]
        creds = control.seed({"credentials": [{"directory_id": d, "create_time": created} for d in ids]})["credentials"]
        graph = control.seed({"graph": {"tenants": [{"users": 2}]}})["graph"]
        self.tenant_id = graph["tenants"][0]["tenant_id"]
        app = control.seed({"graph": {"apps": [{"tenant_id": self.tenant_id,
                                                "permissions": ["Application.ReadWrite.OwnedBy"]}]}})["graph"]["apps"][0]
        self.client_id, self.client_secret = app["client_id"], app["client_secret"]
        sps = control.seed({"graph": {"service_principals": [
            {"tenant_id": self.tenant_id, "owners": [self.client_id], "jobs": [{}]} for _ in ids]}})["graph"]
        self.directories = []
        for n, (account, cred, sp) in enumerate(zip(self.accounts, creds, sps["service_principals"])):
            directory_id = account["directory_id"]
            idp = control.call("POST", "idps", {
                "kind": "entra", "directory_id": directory_id, "service_principal_id": sp["service_principal_id"],
                "job_id": sp["job_ids"][0], "credential_id": cred["credential_id"], "interval": idp_interval})
            self.directories.append(dict(
                host="%s-%03d" % (prefix, n), directory_id=directory_id, old_credential_id=cred["credential_id"],
                account_id=account["account_id"], role_arn=account["role_arn"],
                service_principal_id=sp["service_principal_id"], job_id=sp["job_ids"][0], idp_id=idp["idp_id"]))

    def credentials(self, region=True):
        """The job's two AWX credentials (the optional security token left empty, as most users do)."""
        alicloud = dict(access_key_id=self.access_key["id"], access_key_secret=self.access_key["secret"])
        if region:
            alicloud["region"] = self.region
        return [Credential(ALICLOUD_TYPE, **alicloud),
                Credential(ENTRA_TYPE, tenant_id=self.tenant_id, client_id=self.client_id,
                           client_secret=self.client_secret)]

    def host_vars(self, **common):
        """{host: vars}: per directory its ID, region, enterprise application and the role of its account to
        assume with the job's credential, never a secret."""
        return dict((d["host"], dict(common, scim_rotation_directory_id=d["directory_id"],
                                     scim_rotation_region=self.region, scim_rotation_idp="entra_id",
                                     scim_rotation_auth={"assume_role": {"role_arn": d["role_arn"],
                                                                         "session_name": "awx-scim-rotation"}},
                                     scim_rotation_entra={"service_principal_id": d["service_principal_id"]}))
                    for d in self.directories)

    def idp_views(self):
        return dict((d["host"], self.control.call("GET", "idps/" + d["idp_id"])) for d in self.directories)

    def credentials_now(self):
        """{directory_id: {credential_id: status}} as the emulator holds them."""
        state = self.control.state()
        out = dict((d["directory_id"], {}) for d in self.directories)
        for cred in state["credentials"]:
            if cred["directory_id"] in out:
                out[cred["directory_id"]][cred["credential_id"]] = cred["status"]
        return out


# ------------------------------------------------------------------------------------------ the job


def _inventory_script(host_vars, group_vars):
    """The inventory as AWX writes it: an executable script that prints JSON (build_inventory)."""
    data = {"all": {"hosts": sorted(host_vars), "vars": group_vars}, "_meta": {"hostvars": host_vars}}
    return "#! %s\n# -*- coding: utf-8 -*-\nprint(%r)\n" % (sys.executable, json.dumps(data))


class JobResult(object):
    def __init__(self, job, ident, proc, elapsed):
        self.job = job
        self.ident = ident
        self.elapsed = elapsed
        self.runner_rc = proc.returncode
        self.runner_output = proc.stdout + proc.stderr
        self.artifacts = os.path.join(job.root, "artifacts", ident)
        self.status = self._read("status")
        self.rc = int(self._read("rc") or -1)
        self.stdout = self._read("stdout")
        self.events = self._events()

    def _read(self, name):
        path = os.path.join(self.artifacts, name)
        if not os.path.exists(path):
            return ""
        with open(path) as handle:
            return handle.read().strip()

    def _events(self):
        folder = os.path.join(self.artifacts, "job_events")
        events = []
        for name in os.listdir(folder) if os.path.isdir(folder) else ():
            with open(os.path.join(folder, name)) as handle:
                events.append(json.load(handle))
        return sorted(events, key=lambda e: e.get("counter", 0))

    @property
    def stats_event(self):
        found = [e for e in self.events if e.get("event") == "playbook_on_stats"]
        return found[-1] if found else None

    @property
    def artifact_data(self):
        """The set_stats data of the run (per_host: false), which AWX stores as the job's artifacts."""
        return (self.stats_event or {}).get("event_data", {}).get("artifact_data", {})

    def host_events(self, host):
        return [e for e in self.events if e.get("event_data", {}).get("host") == host]

    def tail(self, chars=6000):
        return "status %s rc %s\n%s\n%s" % (self.status, self.rc, self.stdout[-chars:], self.runner_output[-2000:])


class AwxJob(object):
    """A private data dir laid out as AWX gives it to ansible-runner."""

    def __init__(self, root, emulator_url, credentials, host_vars, extravars=None, group_vars=None, env=None):
        self.root = str(root)
        self.emulator_url = emulator_url
        self.home = os.path.join(self.root + "-home")  # the execution environment's home (~/.cache lives there)
        injected, self.safe_env, self.injected_secrets = inject(credentials)
        self.injected_env = injected
        job_id = str(abs(hash(self.root)) % 100000)
        base = dict((k, v) for k, v in emulator_env(emulator_url, {"id": "", "secret": ""}).items()
                    if k not in INJECTED_BY_CREDENTIALS)
        # What AWX puts in every job's environment (build_env), then the injected credentials.
        self.envvars = dict(base, JOB_ID=job_id, AWX_HOST="https://awx.example.invalid", MAX_EVENT_RES="700000",
                            ANSIBLE_FORCE_COLOR="True", ANSIBLE_HOST_KEY_CHECKING="False",
                            ANSIBLE_RETRY_FILES_ENABLED="False", ANSIBLE_INVENTORY_UNPARSED_FAILED="True",
                            ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_PYTHON_INTERPRETER=sys.executable,
                            ANSIBLE_HOME=os.path.join(self.home, ".ansible"),
                            ANSIBLE_LOCAL_TEMP=os.path.join(self.home, ".ansible", "tmp"))
        self.envvars.update(env or {})
        self.envvars.update(injected)
        self.extravars = dict(extravars or {}, awx_job_id=int(job_id), tower_job_id=int(job_id),
                              awx_job_template_name="Rotate CloudSSO SCIM credentials", awx_user_name="admin")
        self.host_vars = host_vars
        self.group_vars = dict(group_vars or {})
        self.results = []
        self._write()

    def _write(self):
        for sub in ("env", "inventory", "project"):
            os.makedirs(os.path.join(self.root, sub), exist_ok=True)
        os.makedirs(self.home, exist_ok=True)
        self._write_file("env/envvars", yaml.safe_dump(self.envvars, default_flow_style=False), 0o600)
        self._write_file("env/extravars", yaml.safe_dump(self.extravars, default_flow_style=False), 0o600)
        self._write_file("env/settings", yaml.safe_dump({"job_timeout": 1800}), 0o600)
        self._write_file("inventory/hosts", _inventory_script(self.host_vars, self.group_vars), 0o700)
        for name in os.listdir(PLAYBOOKS):
            if name.endswith(".yml"):
                shutil.copy(os.path.join(PLAYBOOKS, name), os.path.join(self.root, "project", name))

    def _write_file(self, relative, text, mode):
        path = os.path.join(self.root, relative)
        with open(path, "w") as handle:
            handle.write(text)
        os.chmod(path, mode)

    def run(self, playbook, forks=5, verbosity=0, limit=None, extravars=None, timeout=1800):
        """Run `playbook` (a file of project/) through the ansible-runner CLI; returns a JobResult."""
        if extravars:
            self.extravars.update(extravars)
            self._write_file("env/extravars", yaml.safe_dump(self.extravars, default_flow_style=False), 0o600)
        cmdline = ["--forks", str(forks)] + (["-" + "v" * verbosity] if verbosity else [])
        self._write_file("env/cmdline", " ".join(cmdline), 0o600)
        ident = "%d-%s" % (len(self.results) + 1, uuid.uuid4().hex[:8])
        command = [os.path.join(BIN, "ansible-runner"), "run", self.root, "-p", playbook, "--ident", ident]
        if limit:
            command += ["--limit", limit]
        # The execution environment's process: nothing from the caller but PATH and the EE's home.
        env = clean_environment()
        env.update(PATH=BIN + os.pathsep + os.environ.get("PATH", ""), HOME=self.home)
        started = time.monotonic()
        proc = subprocess.run(command, env=env, cwd=self.root, capture_output=True, text=True, timeout=timeout)
        result = JobResult(self, ident, proc, time.monotonic() - started)
        self.results.append(result)
        return result

    def leaks(self, secrets):
        """The sorted places (files of the private data dir and of the home folder, relative; the runner's
        own output) where any of `secrets` appears."""
        texts = dict((os.path.relpath(path, self.root), text) for path, text in read_tree(self.root).items())
        texts.update(("home/" + os.path.relpath(path, self.home), text) for path, text in read_tree(self.home).items())
        texts.update(("runner output %d" % n, r.runner_output) for n, r in enumerate(self.results))
        return sorted(set(where for where, _ in find_leaks(texts, secrets)))
