"""Fixtures of the ecosystem tests: the Galaxy artifact built from this checkout and a copy of it installed in
an empty collections path (one of each per pytest session, shared by its workers: tests only read them), and an
emulator."""

import pytest

from tests.ecosystem.support import build_artifact, install_artifact
from tests.helpers.emulator import EmulatorProcess
from tests.helpers.once import once_per_session


@pytest.fixture(scope="session")
def artifact(tmp_path_factory):
    return once_per_session(tmp_path_factory, "artifact", build_artifact)


@pytest.fixture(scope="session")
def installed(artifact, tmp_path_factory):
    """(collections path, path of the installed alicloud.cloudsso)."""
    return tuple(once_per_session(tmp_path_factory, "installed-collections",
                                  lambda collections: [collections, install_artifact(artifact, collections)]))


@pytest.fixture(scope="session")
def emulator():
    with EmulatorProcess() as emu:
        yield emu
