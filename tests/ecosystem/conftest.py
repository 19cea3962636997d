"""Fixtures of the ecosystem tests: the Galaxy artifact built from this checkout and a copy of it installed in
an empty collections path (one of each per pytest worker), and an emulator."""

import pytest

from tests.ecosystem.support import build_artifact, install_artifact
from tests.helpers.emulator import EmulatorProcess


@pytest.fixture(scope="session")
def artifact(tmp_path_factory):
    return build_artifact(tmp_path_factory.mktemp("artifact"))


@pytest.fixture(scope="session")
def installed(artifact, tmp_path_factory):
    """(collections path, path of the installed alicloud.cloudsso)."""
    collections = tmp_path_factory.mktemp("installed-collections")
    return str(collections), install_artifact(artifact, collections)


@pytest.fixture(scope="session")
def emulator():
    with EmulatorProcess() as emu:
        yield emu
