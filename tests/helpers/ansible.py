"""Run ansible-playbook the way users do, against the emulator, and scan everything it wrote for secrets.

    runner = PlaybookRunner(work_dir, emulator, access_key)
    run = runner.target("scim_credential", {"directory_id": ...})   # a role in tests/integration/test_roles
    run = runner.playbook("playbooks/rotate.yml", extra_vars, inventory=...)

Every run uses -vvvv and ANSIBLE_LOG_PATH, then the leak scan checks stdout, stderr, the log, and every
file the run left in the work folder except the secret files (the one place a secret may be).

Profiling: with CLOUDSSO_TEST_RUN_LOG=<file>, every run appends one JSON line to that file (the test, the
playbook, its rc, its wall seconds and its leak scan's), so that the runs a test makes can be counted and timed.
"""

import json
import os
import subprocess
import sys
import time

from tests.helpers.leaks import assert_no_leaks, read_tree

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(ROOT, ".build", "collections")
TEST_ROLES = os.path.join(ROOT, "tests", "integration", "test_roles")  # see docs/dev/conventions.md
ROLES = os.path.join(ROOT, "roles")
REGION = "cn-shanghai"
BIN = os.path.dirname(sys.executable)


def target_python():
    """The interpreter modules run with: the session's standard-library-only venv (tests/conftest.py), or
    sys.executable outside a pytest session."""
    return os.environ.get("CLOUDSSO_TEST_TARGET_PYTHON") or sys.executable


def emulator_env(emulator_url, access_key, region=REGION):
    """Alibaba Cloud keys in the environment (as AWX injects them) and every endpoint on the emulator."""
    base = emulator_url.rstrip("/")
    return dict(
        ALIBABA_CLOUD_ACCESS_KEY_ID=access_key["id"],
        ALIBABA_CLOUD_ACCESS_KEY_SECRET=access_key["secret"],
        ALIBABA_CLOUD_REGION=region,
        ALIBABA_CLOUD_CLOUDSSO_ENDPOINT=base + "/region/{region}",
        ALIBABA_CLOUD_ACTIONTRAIL_ENDPOINT=base + "/region/{region}",
        ALIBABA_CLOUD_IDAAS_ENDPOINT=base + "/region/{region}",
        ALIBABA_CLOUD_STS_ENDPOINT=base,
        ALIBABA_CLOUD_CLOUDSSO_SCIM_ENDPOINT=base + "/region/{region}/scim/v2",
        ALIBABA_CLOUD_CLOUDSSO_GRAPH_ENDPOINT=base,
        ALIBABA_CLOUD_CLOUDSSO_LOGIN_ENDPOINT=base,
        ALIBABA_CLOUD_ECS_METADATA_DISABLED="true",
        ALIBABA_CLOUD_CLI_PROFILE_DISABLED="true",
    )


def clean_environment():
    """The caller's environment without any cloud credential a developer may have exported."""
    return dict((k, v) for k, v in os.environ.items()
                if not k.startswith(("ALIBABA_CLOUD_", "ALICLOUD_", "AZURE_", "ANSIBLE_")))


def record_run(path, rc, elapsed, scan):
    """One line in CLOUDSSO_TEST_RUN_LOG (when set): which test ran which playbook, how long, and how long its
    leak scan took (profiling)."""
    log = os.environ.get("CLOUDSSO_TEST_RUN_LOG")
    if not log:
        return
    line = json.dumps({"test": os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0],
                       "playbook": os.path.basename(path), "rc": rc, "seconds": round(elapsed, 2),
                       "scan_seconds": round(scan, 3)})
    with open(log, "a") as handle:  # one short line per write: lines of parallel workers do not interleave
        handle.write(line + "\n")


class Run(object):
    def __init__(self, rc, stdout, stderr, log, elapsed, command):
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.log = log
        self.elapsed = elapsed
        self.command = command

    @property
    def output(self):
        return self.stdout + self.stderr

    def tail(self, chars=12000):
        return self.output[-chars:]


class PlaybookRunner(object):
    def __init__(self, work_dir, emulator, access_key, region=REGION, env=None, secret_paths=()):
        self.work = str(work_dir)
        self.emulator = emulator
        self.access_key = access_key
        self.env = emulator_env(emulator.url, access_key, region)
        self.env.update(env or {})
        self.secret_paths = list(secret_paths)  # files allowed to hold secrets
        self.extra_secrets = [access_key["secret"]]
        self.runs = []
        os.makedirs(self.work, exist_ok=True)
        self.inventory = os.path.join(self.work, "inventory.ini")
        with open(self.inventory, "w") as handle:
            handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % target_python())

    def allow_secret_file(self, path):
        self.secret_paths.append(str(path))

    def target(self, name, extra_vars=None, **kwargs):
        """Run the test role tests/integration/test_roles/<name> on localhost."""
        play = os.path.join(self.work, "play-%s.yml" % name)
        with open(play, "w") as handle:
            handle.write("- name: Integration target %s\n  hosts: localhost\n  gather_facts: false\n  roles:\n"
                         "    - role: %s\n" % (name, name))
        return self.playbook(play, extra_vars, **kwargs)

    def playbook(self, path, extra_vars=None, inventory=None, check=False, diff=False, tags=None, limit=None,
                 expect_rc=0, verbosity=4, env=None, timeout=600, forks=None, args=()):
        index = len(self.runs)
        log = os.path.join(self.work, "ansible-%d.log" % index)
        vars_file = os.path.join(self.work, "vars-%d.json" % index)
        with open(vars_file, "w") as handle:
            json.dump(extra_vars or {}, handle)
        command = [os.path.join(BIN, "ansible-playbook"), "-i", inventory or self.inventory, path,
                   "-e", "@" + vars_file]
        if verbosity:
            command.append("-" + "v" * verbosity)
        if check:
            command.append("--check")
        if diff:
            command.append("--diff")
        if tags:
            command += ["--tags", tags]
        if limit:
            command += ["--limit", limit]
        if forks:
            command += ["--forks", str(forks)]
        command += list(args)
        run_env = clean_environment()
        run_env.update(
            PATH=BIN + os.pathsep + os.environ.get("PATH", ""),
            ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
            ANSIBLE_ROLES_PATH=os.pathsep.join([TEST_ROLES, ROLES]),
            ANSIBLE_HOME=os.path.join(self.work, "ansible-home"),
            ANSIBLE_LOCAL_TEMP=os.path.join(self.work, "ansible-tmp"),
            ANSIBLE_LOG_PATH=log,
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_FORCE_COLOR="0",
            ANSIBLE_RETRY_FILES_ENABLED="false",
            ANSIBLE_PYTHON_INTERPRETER=target_python(),
        )
        run_env.update(self.env)
        run_env.update(env or {})
        started = time.monotonic()
        proc = subprocess.run(command, env=run_env, cwd=self.work, capture_output=True, text=True, timeout=timeout)
        elapsed = time.monotonic() - started
        log_text = open(log).read() if os.path.exists(log) else ""
        run = Run(proc.returncode, proc.stdout, proc.stderr, log_text, elapsed, command)
        self.runs.append(run)
        if verbosity:
            assert log_text, "ANSIBLE_LOG_PATH was not written"
        scan_started = time.monotonic()
        self.scan(run)
        record_run(path, proc.returncode, elapsed, time.monotonic() - scan_started)
        if expect_rc is not None:
            assert proc.returncode == expect_rc, "rc %s, expected %s:\n%s" % (proc.returncode, expect_rc, run.tail())
        return run

    def scan(self, run):
        texts = {"stdout": run.stdout, "stderr": run.stderr, "log": run.log}
        texts.update(read_tree(self.work, skip=self.secret_paths))
        assert_no_leaks(texts, self.emulator.control.secrets() + self.extra_secrets)
