"""Test-only callback of the reliability suite (enabled by the suite through ANSIBLE_CALLBACKS_ENABLED).

- RELIABILITY_PROBE_OUT=<file>: append every task result (host, task, status, the result as Ansible holds
  it after no_log masking) as one JSON line: the "JSON callback" output the leak scan reads, and the
  record the tests assert cases on.
- RELIABILITY_BARRIER_TASK=<text> and RELIABILITY_BARRIER_DIR=<folder>: when a task whose name contains
  <text> starts for the first time, write <folder>/reached and wait (at most 300 s) until <folder>/release
  exists. The test acts in between (kill the emulator, start a second run) and then releases.

Killing a run at a step is tests/integration/test_rotation_resume.py's KillingSubprocess (the whole process
group, when the emulator has applied the step's write).
"""

import importlib.util
import json
import os
import time

# The plumbing shared with the benchmarks' callback (tests/helpers/callback_base.py), loaded by path.
SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "helpers", "callback_base.py")
_SPEC = importlib.util.spec_from_file_location("cloudsso_callback_base", os.path.normpath(SHARED))
_BASE = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_BASE)

DOCUMENTATION = """
name: reliability_probe
type: aggregate
short_description: records every result and can hold the run at a task (tests only)
description: See the module docstring.
"""
RECORDED = ("ok", "failed", "ignored", "skipped", "unreachable", "item_ok", "item_failed")


class CallbackModule(_BASE.TaskEventsCallback):
    CALLBACK_NAME = "reliability_probe"

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self.out = os.environ.get("RELIABILITY_PROBE_OUT")
        self.barrier = os.environ.get("RELIABILITY_BARRIER_TASK")
        self.barrier_dir = os.environ.get("RELIABILITY_BARRIER_DIR")

    # --- hold -----------------------------------------------------------------------------------------
    def task_started(self, task):
        name = task.get_name()
        if self.barrier and self.barrier in name:
            self.barrier = None
            with open(os.path.join(self.barrier_dir, "reached"), "w") as handle:
                handle.write(name)
            deadline = time.time() + 300
            while not os.path.exists(os.path.join(self.barrier_dir, "release")) and time.time() < deadline:
                time.sleep(0.05)

    # --- record -----------------------------------------------------------------------------------------
    def host_result(self, status, result):
        if not self.out or status not in RECORDED:
            return
        line = dict(status=status, host=result._host.get_name(), task=result._task.get_name(),
                    result=result._result)
        with open(self.out, "a") as handle:
            handle.write(json.dumps(line, default=str, sort_keys=True) + "\n")
