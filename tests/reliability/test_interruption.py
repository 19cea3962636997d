"""Interruptions the role's own matrix (tests/integration/test_rotation_resume.py: SIGKILL of ansible-playbook at
each step, Entra ID and manual modes) does not cover:

- a provider outage: the emulator (every remote API at once) is killed with SIGKILL in the middle of a
  rotation and started again from its state file, either within the modules' retries (the run goes on) or
  after the run gave up (the next run, pointed at the emulator's new address, converges);
- SIGKILL of ansible-playbook at each step for the IDaaS and custom identity providers (reusing
  test_rotation_resume's KillingSubprocess and Served), then a re-run that converges.

After each: docs/dev/design.md's invariants (harness.Rotation.invariant_problems) and the leak scan of every run.
"""

import os
import signal
import time

import pytest

import tests.helpers.ansible as ansible_helpers
from tests.helpers.emulator import EmulatorProcess
from tests.integration.conftest import Cloud
from tests.integration.test_rotation_resume import KillingSubprocess, Served
from tests.reliability.harness import FULL, Held, Rotation, new_runner


@pytest.fixture
def own_emulator(tmp_path, sweep):
    """An emulator of this test alone, keeping its state in a file, so it can be killed and restarted."""
    emu = EmulatorProcess(state_file=str(tmp_path / "emulator-state.json"))
    emu.start()
    sweep.track_emulator(emu)
    yield emu
    if emu.proc.poll() is None:
        sweep.collect(emu)
    emu.stop()


def restart_on_the_same_port(emu):
    """Start the killed emulator again from its state file, on the port the running playbook uses."""
    emu.extra_args += ["--port", str(emu.port)]  # the last --port wins over EmulatorProcess's --port 0
    emu.restart()


def test_outage_shorter_than_the_retries(own_emulator, tmp_path, sweep):
    """Every API goes away (SIGKILL) just as the old credential is to be disabled, and comes back from its
    state file a second later on the same port, dropping its first connections as a provider coming back does:
    they are retried, the rotation ends. (A refused connection to this machine is not retried: nothing
    listens there, which a retry cannot change; so the outage is over before the held task goes on.)"""
    cloud = Cloud(own_emulator, str(tmp_path))
    sweep.track(cloud.runner)
    world = Rotation(cloud, 1, idp="custom", play_vars={"scim_rotation_auth": {"max_retries": 8}})
    directory_id = world.directories[0]
    with Held(world, "Disable the old credential") as held:
        sweep.collect(own_emulator)
        own_emulator.kill()
        time.sleep(1)
        restart_on_the_same_port(own_emulator)
        own_emulator.control.add_fault(match="*", kind="drop_before_apply", count=3)
        held.release()
    assert [rule["fired"] for rule in own_emulator.control.faults()] == [3]  # the outage was seen, and retried
    assert world.report(directory_id)["outcome"] == "rotated"
    assert not world.invariant_problems(directory_id), world.invariant_problems(directory_id)


def test_outage_then_run_again(own_emulator, tmp_path, sweep):
    """The APIs go away for longer than the retries (the run and its rescue fail and say so); the emulator
    comes back from its state file on a new port, and the next run (pointed there) converges."""
    cloud = Cloud(own_emulator, str(tmp_path))
    sweep.track(cloud.runner)
    world = Rotation(cloud, 1, idp="custom", play_vars={"scim_rotation_auth": {"max_retries": 1}})
    directory_id = world.directories[0]
    with Held(world, "Disable the old credential", expect_rc=2) as held:
        sweep.collect(own_emulator)
        own_emulator.kill()
        held.release()
        # Back at once, but on a new port: for the running playbook the APIs stay away (its leak scan
        # reads the emulator's secrets through the new address).
        own_emulator.restart()
    failed = held.run
    report = world.report(directory_id)
    assert report["outcome"] == "failed" and report["failed_step"] == "disable_old", report["message"]
    assert "Cannot reach the endpoint" in failed.stdout
    world.follow(own_emulator)  # the next run is pointed at the new address
    runner = new_runner(cloud, "after-outage", sweep)
    world.run(runner=runner)
    assert not world.invariant_problems(directory_id), world.invariant_problems(directory_id)


# --- SIGKILL of ansible-playbook at each step, IDaaS and custom identity providers ----------------------

def _idp_took_new(world, directory_id):
    old = world.old[directory_id]["credential_id"]
    return lambda: world.idp_view(directory_id)["credential_id"] not in (None, old)


KILLS = {
    "created": lambda w, d: (lambda: os.path.exists(w.pending_file(d))),
    "configured": lambda w, d: _idp_took_new(w, d),
    "disabled": lambda w, d: Served(w.control, "cloudsso:UpdateSCIMServerCredentialStatus"),
    "deleted": lambda w, d: Served(w.control, "cloudsso:DeleteSCIMServerCredential"),
}
QUICK = [("custom", "configured"), ("idaas", "disabled")]
CASES = [(idp, step) for idp in ("custom", "idaas") for step in sorted(KILLS)] if FULL else QUICK


def killed_run(world, trigger):
    """playbooks/rotate.yml, SIGKILLed (the whole process group) when trigger() is true."""
    killer = KillingSubprocess(trigger)
    saved, ansible_helpers.subprocess = ansible_helpers.subprocess, killer
    try:
        run = world.run(expect_rc=None)
    finally:
        ansible_helpers.subprocess = saved
    assert killer.fired and run.rc == -signal.SIGKILL, "the run ended before the kill:\n" + run.tail()
    return run


@pytest.mark.parametrize("idp, step", CASES)
def test_killed_and_run_again(cloud, idp, step):
    world = Rotation(cloud, 1, idp=idp)
    directory_id = world.directories[0]
    killed_run(world, KILLS[step](world, directory_id))
    # Killed at any step, nothing is lost: the IdP holds an Enabled credential, every secret is known.
    assert not world.invariant_problems(directory_id, converged=False), world.invariant_problems(directory_id, False)
    world.run()
    assert not world.invariant_problems(directory_id), world.invariant_problems(directory_id)
    assert world.report(directory_id)["outcome"] in ("resumed", "rotated")
