"""Concurrency: two rotations of one directory at once, and many directories in one play with forks.

- With the role's lock (the default), two ansible-playbook processes on one controller started at once: one
  proceeds, the other stops at the lock before any write, naming the holder; the directory converges.
- Without it (scim_rotation_lock: false, and two controllers: two state folders, as two AWX execution nodes
  with concurrent jobs allowed), the second run's plan sees the first run's new credential, whose secret it
  does not have, younger than the grace period: it stops instead of deleting it.
- The other documented way to serialize, AWX job template concurrency off: the shipped AWX configuration sets
  allow_simultaneous: false on the rotation job template.
- Many directories rotated in one play with forks: all succeed, no state crosses between hosts.

The interleaving is made certain with the probe callback's barrier: the first run is held at the start of
"Paste the new token into the simulated identity provider" (after the lock and the create) while the second
runs.
"""

import concurrent.futures
import json
import os
import re

import yaml

from tests.helpers.ansible import ROOT
from tests.reliability.harness import FULL, Barrier, Held, Rotation, new_runner, probe_env, read_probe, write_calls

HOLD_AT = "Paste the new token into the simulated identity provider"
WRITE_TASKS = ("Create the new credential", "Disable the old credential", "Delete the old credential",
               "Delete Disabled credentials", "Delete Enabled credentials", "Re-enable the old credential",
               "Delete the new credential", "Delete the credential this run created")


def writes_of(records):
    return [r["task"] for r in records if r["status"] == "ok" and r["result"].get("changed")
            and r["task"].split(" : ", 1)[-1].startswith(WRITE_TASKS)]


def test_two_rotations_at_once_with_the_lock(cloud, sweep):
    world = Rotation(cloud, 1, idp="custom")
    directory_id = world.directories[0]
    runners = [cloud.runner, new_runner(cloud, "second", sweep)]
    barriers = [Barrier(os.path.join(cloud.work, "barrier-%d" % i), HOLD_AT) for i in (0, 1)]
    probes = [os.path.join(r.work, "probe-lock.jsonl") for r in runners]
    cloud.control.reset_calls()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        runs = [pool.submit(world.run, runner=runners[i], expect_rc=None, env=probe_env(probes[i], barriers[i]))
                for i in (0, 1)]
        # Whichever took the lock is held after its create; the other one has to end on its own.
        done, _ = concurrent.futures.wait(runs, timeout=300, return_when=concurrent.futures.FIRST_COMPLETED)
        loser = runs.index(list(done)[0])
        winner = 1 - loser
        barriers[winner].wait_reached(alive=lambda: not runs[winner].done())
        assert not os.path.exists(os.path.join(barriers[loser].folder, "reached"))
        barriers[winner].release()
        results = [r.result() for r in runs]
    assert results[winner].rc == 0 and results[loser].rc == 2
    assert "another run holds" in results[loser].stdout and "rotation.lock" in results[loser].stdout
    assert writes_of(read_probe(probes[loser])) == [], "the run that lost the lock wrote"
    assert write_calls(cloud.control.calls()) == {"cloudsso:CreateSCIMServerCredential": 1,
                                                  "cloudsso:UpdateSCIMServerCredentialStatus": 1,
                                                  "cloudsso:DeleteSCIMServerCredential": 1}
    assert not world.invariant_problems(directory_id), world.invariant_problems(directory_id)
    outcomes = sorted(r["outcome"] for r in world.reports(directory_id))
    assert outcomes == ["rotated", "stopped"], outcomes


def test_two_controllers_without_the_lock(cloud, sweep):
    """Two state folders (two controllers) and scim_rotation_lock false: the lock cannot help. The second run
    finds the first run's new credential (Enabled, its secret unknown there, minutes old) and stops."""
    world = Rotation(cloud, 1, idp="custom", play_vars={"scim_rotation_lock": False})
    directory_id = world.directories[0]
    old = world.old[directory_id]["credential_id"]
    second = new_runner(cloud, "controller-b", sweep)
    other_state = os.path.join(second.work, "state")
    second.allow_secret_file(os.path.join(other_state, directory_id, "pending.json"))
    inventory_b = world.write_inventory(os.path.join(world.work, "controller-b.json"),
                                        scim_rotation_state_dir=other_state)
    with Held(world, HOLD_AT):
        (new_id,) = [c for c in cloud.credentials(directory_id) if c != old]
        cloud.control.reset_calls()
        probe_b = os.path.join(second.work, "probe-b.jsonl")
        run_b = world.run(runner=second, inventory=inventory_b, expect_rc=2, env=probe_env(probe_b))
        assert write_calls(cloud.control.calls()) == {}
        assert writes_of(read_probe(probe_b)) == []
        assert re.search(r"created \d+ minutes ago and its secret is not known here: another rotation may be "
                         r"running", run_b.stdout), run_b.tail()
        assert cloud.credentials(directory_id) == {old: "Enabled", new_id: "Enabled"}
    assert world.report(directory_id)["outcome"] == "rotated"
    assert not world.invariant_problems(directory_id), world.invariant_problems(directory_id)


def test_awx_job_template_runs_one_job_at_a_time():
    """The documented serialization across controllers: the shipped AWX job template disallows concurrent
    jobs (the role's lock covers one controller only)."""
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))
    with open(os.path.join(ROOT, "awx", "configure_awx.yml")) as handle:
        plays = yaml.load(handle, Loader=Loader)
    templates = [task for play in plays for task in _tasks(play)
                 if any(key.endswith("job_template") for key in task)]
    assert templates, "no job template in awx/configure_awx.yml"
    for task in templates:
        (options,) = [v for k, v in task.items() if k.endswith("job_template")]
        assert options.get("allow_simultaneous") is False, task.get("name")


def _tasks(node):
    for key in ("tasks", "block", "rescue", "always", "pre_tasks", "post_tasks"):
        for task in node.get(key) or []:
            yield task
            for inner in _tasks(task):
                yield inner


def test_many_directories_with_forks(cloud):
    """Twenty directories (five in `make test`) rotated by one play with forks: each host's report names its
    own directory and credentials, each IdP holds its own directory's new credential, nothing is shared."""
    count, forks = (20, 10) if FULL else (5, 5)
    world = Rotation(cloud, count, idp="custom")
    cloud.control.reset_calls()
    world.run(forks=forks, verbosity=1)
    news = {}
    for directory_id in world.directories:
        assert not world.invariant_problems(directory_id), world.invariant_problems(directory_id)
        report = world.report(directory_id)
        (new_id,) = cloud.credentials(directory_id)
        assert (report["directory_id"], report["outcome"]) == (directory_id, "rotated")
        assert report["old_credential_id"] == world.old[directory_id]["credential_id"]
        assert report["new_credential_id"] == new_id == world.idp_view(directory_id)["credential_id"]
        assert [c["credential_id"] for c in report["credentials_after"]] == [new_id]
        others = json.dumps(report)
        for other in world.directories:
            if other != directory_id:
                assert other not in others and world.old[other]["credential_id"] not in others
        news[directory_id] = new_id
    assert len(set(news.values())) == count
    counts = write_calls(cloud.control.calls())
    assert counts == {"cloudsso:CreateSCIMServerCredential": count, "cloudsso:UpdateSCIMServerCredentialStatus": count,
                      "cloudsso:DeleteSCIMServerCredential": count}, counts
