"""Shared helpers of the ecosystem tests: the Galaxy artifact, an installed copy, AWX credential injection,
and the awx.awx collection (taken from the `ansible` package on PyPI, cached under .cache/awx)."""

import fcntl
import glob
import os
import subprocess
import sys
import zipfile

import jinja2
import jinja2.meta
import yaml

from tests.helpers.ansible import clean_environment

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
GALAXY = yaml.safe_load(open(os.path.join(ROOT, "galaxy.yml")))
ARTIFACT_NAME = "%s-%s-%s.tar.gz" % (GALAXY["namespace"], GALAXY["name"], GALAXY["version"])
AWX_DIR = os.path.join(ROOT, "awx")
# The newest `ansible` release that installs on Python 3.11; it bundles awx.awx 24.6.1.
ANSIBLE_PACKAGE = "ansible==12.3.0"
AWX_CACHE = os.path.join(ROOT, ".cache", "awx")


def run(command, env=None, cwd=None, timeout=300, expect_rc=0):
    proc = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if expect_rc is not None:
        assert proc.returncode == expect_rc, "%s: rc %s\n%s\n%s" % (
            " ".join(command), proc.returncode, proc.stdout[-6000:], proc.stderr[-6000:])
    return proc


def ansible_env(collections_path, home, **more):
    """The caller's environment without cloud credentials or ANSIBLE_* settings, with only `collections_path`
    to find collections in (not the repository's .build/collections symlink tree)."""
    env = clean_environment()
    env.update(PATH=BIN + os.pathsep + env.get("PATH", ""), ANSIBLE_COLLECTIONS_PATH=collections_path,
               ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false", ANSIBLE_HOME=home, ANSIBLE_NOCOLOR="1")
    env.update(more)
    return env


def build_artifact(dest):
    run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--force", "--output-path", str(dest), ROOT])
    path = os.path.join(str(dest), ARTIFACT_NAME)
    assert os.path.isfile(path), os.listdir(str(dest))
    return path


def install_artifact(artifact, collections_path):
    run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--force", "-p", str(collections_path),
         artifact], env=ansible_env(str(collections_path), os.path.join(str(collections_path), ".home")))
    return os.path.join(str(collections_path), "ansible_collections", GALAXY["namespace"], GALAXY["name"])


class _Loader(yaml.SafeLoader):
    """YAML as Ansible reads it: `!unsafe` marks a string Ansible must not template."""


_Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def load_yaml(*parts):
    with open(os.path.join(ROOT, *parts)) as handle:
        return yaml.load(handle, Loader=_Loader)


def credential_types():
    return dict((t["name"], t) for t in load_yaml("awx", "credential_types.yml")["alicloud_cloudsso_credential_types"])


def injector_variables(credential_type):
    """{env var: set of input field ids its template uses}."""
    env = jinja2.Environment()
    return dict((name, jinja2.meta.find_undeclared_variables(env.parse(template)))
                for name, template in credential_type["injectors"].get("env", {}).items())


def inject(credential_type, inputs):
    """The environment AWX gives a job for a credential of `credential_type` with `inputs`: each env injector
    rendered with the inputs (an optional field left empty renders as an empty string)."""
    fields = dict((f["id"], "") for f in credential_type["inputs"]["fields"])
    fields.update(inputs)
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return dict((name, env.from_string(template).render(**fields))
                for name, template in credential_type["injectors"].get("env", {}).items())


def awx_collection():
    """A collections path holding awx.awx, extracted from the `ansible` wheel (downloaded once with pip)."""
    target = os.path.join(AWX_CACHE, "collections")
    marker = os.path.join(target, "ansible_collections", "awx", "awx", "MANIFEST.json")
    os.makedirs(AWX_CACHE, exist_ok=True)
    with open(os.path.join(AWX_CACHE, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # pytest-xdist workers share the cache
        if not os.path.isfile(marker):
            wheels = glob.glob(os.path.join(AWX_CACHE, "ansible-*.whl"))
            if not wheels:
                run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", AWX_CACHE,
                     ANSIBLE_PACKAGE], timeout=600)
                wheels = glob.glob(os.path.join(AWX_CACHE, "ansible-*.whl"))
            with zipfile.ZipFile(wheels[0]) as wheel:
                members = [m for m in wheel.namelist() if m.startswith("ansible_collections/awx/awx/")]
                assert members, "%s holds no awx.awx collection" % wheels[0]
                wheel.extractall(target, members)
    return target
