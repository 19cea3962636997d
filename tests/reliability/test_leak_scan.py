"""Secret leak scan over everything the suite prints and logs.

Every ansible-playbook run of the suite goes through PlaybookRunner, which scans its stdout, stderr,
ANSIBLE_LOG_PATH and every file it left in its folder (reports, the probe callback's JSON records, callback
outputs) for every secret the emulator ever issued plus the access key secrets and client secrets the test
used; at the end of the session conftest.py's sweep scans it all again, with the emulator's request log.
This file proves the scan can fail, then runs a full Entra ID rotation (access key secret, SCIM tokens,
Entra client secret and Graph tokens all in play) at every verbosity with every output Ansible offers:
the default callback with JSON and YAML result formats, ANSIBLE_LOG_PATH, the junit and tree callbacks, the
probe callback's JSON of every result, the role's report; then exception traces (a module that cannot import
the standard library's `http.client`, hidden by a PYTHONPATH, at -vvvv) and ANSIBLE_DEBUG.
"""

import os

import pytest

from tests.helpers.leaks import assert_no_leaks, find_leaks
from tests.reliability.harness import FULL, Batch, LeakSweep, Rotation, probe_env

# (verbosity, environment of the run): each run adds outputs. `make test` runs -vvvv and 0; RELIABILITY_FULL=1
# runs 1, 2 and 3 too.
RUNS = [
    (4, {"ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
         "ANSIBLE_CALLBACKS_ENABLED": "reliability_probe,ansible.builtin.tree"}),
    (0, {"ANSIBLE_CALLBACK_RESULT_FORMAT": "yaml",
         "ANSIBLE_CALLBACKS_ENABLED": "reliability_probe,ansible.builtin.junit"}),
]
if FULL:
    RUNS += [(1, {"ANSIBLE_CALLBACK_RESULT_FORMAT": "json"}), (2, {"ANSIBLE_CALLBACK_RESULT_FORMAT": "yaml"}),
             (3, {"ANSIBLE_CALLBACK_RESULT_FORMAT": "json", "ANSIBLE_CALLBACKS_ENABLED":
                  "reliability_probe,ansible.builtin.junit,ansible.builtin.tree"})]


def test_the_scan_can_fail(tmp_path):
    """The scan names where a secret is, never the secret; the session sweep finds one written late."""
    secret = "Planted-Secret-Value-0123456789"
    with pytest.raises(AssertionError) as raised:
        assert_no_leaks({"stdout": "ok", "report.json": "... %s ..." % secret}, [secret])
    assert "report.json" in str(raised.value) and secret not in str(raised.value)

    class Runner(object):
        work = str(tmp_path)
        runs = []
        secret_paths = [str(tmp_path / "allowed.json")]
        extra_secrets = [secret]

    (tmp_path / "allowed.json").write_text(secret)
    sweep = LeakSweep()
    sweep.track(Runner())
    assert sweep.leaks() == []
    (tmp_path / "written-later.log").write_text("token=%s" % secret)
    assert sweep.leaks() == [str(tmp_path / "written-later.log")]


def test_rotation_at_every_verbosity_and_output(cloud):
    """A forced Entra ID rotation per run: zero hits for every secret, in every output of every run."""
    world = Rotation(cloud, 1, idp="entra_id", play_vars={"scim_rotation_force": True})
    directory_id = world.directories[0]
    # Entra runs sync cycles on its own: every two seconds here, so the verification after the disable ends.
    cloud.control.call("PATCH", "idps/" + world.idps[directory_id], {"interval": 2})
    runner = cloud.runner
    secrets = [world.env["AZURE_CLIENT_SECRET"], cloud.access_key["secret"]]
    for verbosity, env in RUNS:
        out = os.path.join(runner.work, "probe-v%d.jsonl" % verbosity)
        run_env = probe_env(out)
        run_env.update(env, ANSIBLE_CALLBACK_TREE_DIR=os.path.join(runner.work, "tree-v%d" % verbosity),
                       JUNIT_OUTPUT_DIR=os.path.join(runner.work, "junit-v%d" % verbosity))
        world.run(verbosity=verbosity, env=run_env)
        assert world.report(directory_id)["outcome"] == "rotated"
    assert not world.invariant_problems(directory_id), world.invariant_problems(directory_id)
    # The outputs exist (so they were scanned) and the secrets were really in play.
    names = os.listdir(runner.work)
    assert "tree-v4" in names and "junit-v0" in names and os.listdir(os.path.join(runner.work, "junit-v0"))
    assert os.path.getsize(os.path.join(runner.work, "probe-v4.jsonl")) > 10000
    issued = cloud.control.secrets()
    assert all(secret in issued or secret in runner.extra_secrets for secret in secrets)
    assert len(issued) >= 2 + 2 * len(RUNS)  # SCIM secrets and Graph access tokens of every run
    texts = {"emulator request log": cloud.emulator.stderr()}
    assert texts["emulator request log"] and not find_leaks(texts, issued + runner.extra_secrets)


def test_exception_traces_and_ansible_debug(cloud, work):
    """Modules that fail with a traceback (an empty `http` package on the task's PYTHONPATH hides the standard
    library's `http.client` that the transport imports) at -vvvv while the task holds a secret in a no_log
    option; then ANSIBLE_DEBUG, with secrets where the collection keeps them: the access
    key in the environment (as AWX injects it) and SCIM tokens in files. ANSIBLE_DEBUG prints every module's
    arguments, no_log ones included (ansible-core, seen here): docs/reliability.md says never to combine it
    with secrets given as module options."""
    shadow = os.path.join(str(work), "no-http-client")
    os.makedirs(os.path.join(shadow, "http"))
    open(os.path.join(shadow, "http", "__init__.py"), "w").close()
    directory_id, (cred,) = cloud.directory(credentials=[{}])
    broken = {"environment": {"PYTHONPATH": shadow}}
    traceback = r"Module failed: cannot import name 'client' from 'http'"
    traces = Batch(cloud.runner, "traces")
    traces.add("option", "scim_token_check", {"token": "{{ lookup('env', 'REL_TRACE_TOKEN') }}", "expect": "accepted"},
               keywords=broken, expect="failed", msg=traceback)
    traces.add("file", "scim_token_check", {"token_file": cred["secret_file"], "expect": "accepted"},
               keywords=broken, expect="failed", msg=traceback)
    # ansible-core 2.19 shows module tracebacks only when asked to.
    run = traces.run(verbosity=4, env={"REL_TRACE_TOKEN": cred["secret"], "ANSIBLE_DISPLAY_TRACEBACK": "always"})
    assert not traces.problems(), traces.problems()
    assert "Traceback (most recent call last)" in run.output
    assert "ImportError: cannot import name 'client' from 'http'" in run.output

    debug = Batch(cloud.runner, "debug")
    debug.add("traceback", "scim_credential_info", {"directory_id": directory_id}, keywords=broken, expect="failed",
              msg=traceback)
    debug.add("token file", "scim_token_check", {"token_file": cred["secret_file"], "expect": "accepted"})
    debug.add("access key from the environment", "scim_credential_info", {"directory_id": directory_id})
    run = debug.run(verbosity=4, env={"ANSIBLE_DEBUG": "1", "ANSIBLE_DISPLAY_TRACEBACK": "always"})
    assert not debug.problems(), debug.problems()
    assert "done with _execute_module" in run.output  # ANSIBLE_DEBUG was on
