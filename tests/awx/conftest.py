"""Fixtures of the AWX harness tests: one emulator per test module (each test seeds its own fleet)."""

import pytest

from tests.helpers.emulator import EmulatorProcess


@pytest.fixture(scope="module")
def emulator():
    with EmulatorProcess() as emu:
        yield emu
