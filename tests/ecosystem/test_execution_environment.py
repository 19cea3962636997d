"""The execution environment: `ansible-builder create` on execution-environment.yml gives a build context that
holds the Galaxy artifact and the collection's requirements (none: HTTP goes through the standard library); the
Containerfile's galaxy and introspection steps, run here without a container engine, install the collection and
find no Python package to add."""

import hashlib
import os
import shutil

import yaml

from tests.ecosystem.support import ARTIFACT_NAME, BIN, ROOT, ansible_env, run


EE_ARTIFACT = "alicloud-cloudsso.tar.gz"


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_ansible_builder_create_gives_a_complete_context(artifact, tmp_path):
    definition = yaml.safe_load(open(os.path.join(ROOT, "execution-environment.yml")))
    assert definition["version"] == 3
    # The definition names no version: `make ee` copies the artifact to a version-less name and tags the image
    # with galaxy.yml's version, so a version bump in galaxy.yml cannot leave the definition behind.
    version = yaml.safe_load(open(os.path.join(ROOT, "galaxy.yml")))["version"]
    assert version not in open(os.path.join(ROOT, "execution-environment.yml")).read()
    shipped = [f["src"] for f in definition["additional_build_files"]]
    assert shipped == [".build/dist/" + EE_ARTIFACT]
    assert definition["dependencies"]["galaxy"]["collections"] == [
        {"name": "collections/" + EE_ARTIFACT, "type": "file"}]
    make = run(["make", "-n", "ee"], cwd=ROOT).stdout
    assert "cp .build/dist/%s .build/dist/%s" % (ARTIFACT_NAME, EE_ARTIFACT) in make
    assert "-t alicloud-cloudsso-ee:%s" % version in make
    for name in ("execution-environment.yml", "requirements.txt"):
        shutil.copy(os.path.join(ROOT, name), str(tmp_path / name))
    os.makedirs(str(tmp_path / ".build" / "dist"))
    shutil.copy(artifact, str(tmp_path / ".build" / "dist" / EE_ARTIFACT))
    context = tmp_path / "context"
    run([os.path.join(BIN, "ansible-builder"), "create", "-f", str(tmp_path / "execution-environment.yml"),
         "-c", str(context), "--output-filename", "Containerfile"])
    containerfile = open(str(context / "Containerfile")).read()
    assert 'EE_BASE_IMAGE="%s"' % definition["images"]["base_image"]["name"] in containerfile
    assert "ansible-core" in containerfile and "ansible-runner" in containerfile
    build = context / "_build"
    assert sha256(str(build / "collections" / EE_ARTIFACT)) == sha256(artifact)
    assert yaml.safe_load(open(str(build / "requirements.yml")))["collections"][0]["name"] == "collections/" + EE_ARTIFACT
    requirements = open(str(build / "requirements.txt")).read()
    assert requirements == open(os.path.join(ROOT, "requirements.txt")).read()
    assert not [line for line in requirements.splitlines() if line.strip() and not line.startswith("#")]

    # The galaxy stage: `ansible-galaxy collection install -r requirements.yml` in /build (= _build).
    collections = tmp_path / "image-collections"
    env = ansible_env(str(collections), str(tmp_path / "home"), ANSIBLE_GALAXY_DISABLE_GPG_VERIFY="1")
    run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "-r", "requirements.yml",
         "--collections-path", str(collections)], env=env, cwd=str(build))
    assert os.path.isfile(str(collections / "ansible_collections" / "alicloud" / "cloudsso" / "meta" / "runtime.yml"))
    # The builder stage: the context's own introspection script over the installed collections.
    pip = tmp_path / "pip.txt"
    run([os.path.join(BIN, "python"), str(build / "scripts" / "introspect.py"), "introspect",
         "--user-pip=%s" % (build / "requirements.txt"), "--write-pip=%s" % pip,
         "--write-bindep=%s" % (tmp_path / "bindep.txt"), str(collections)])
    written = open(str(pip)).read() if os.path.exists(str(pip)) else ""
    assert "alicloud.cloudsso" not in written and "requests" not in written


def test_introspect_lists_no_python_package_for_an_installed_copy(installed):
    collections, _ = installed
    assert os.path.isfile(os.path.join(collections, "ansible_collections", "alicloud", "cloudsso", "meta",
                                       "execution-environment.yml"))
    out = run([os.path.join(BIN, "ansible-builder"), "introspect", "--sanitize", collections]).stdout
    python = yaml.safe_load(out.split("---", 1)[1]).get("python") or []
    assert not [line for line in python if "alicloud.cloudsso" in line or "requests" in line], python
