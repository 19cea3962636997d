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

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: reliability_probe
type: aggregate
short_description: records every result and can hold the run at a task (tests only)
description: See the module docstring.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "reliability_probe"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self.out = os.environ.get("RELIABILITY_PROBE_OUT")
        self.barrier = os.environ.get("RELIABILITY_BARRIER_TASK")
        self.barrier_dir = os.environ.get("RELIABILITY_BARRIER_DIR")

    # --- hold -----------------------------------------------------------------------------------------
    def v2_playbook_on_task_start(self, task, is_conditional):
        name = task.get_name()
        if self.barrier and self.barrier in name:
            self.barrier = None
            with open(os.path.join(self.barrier_dir, "reached"), "w") as handle:
                handle.write(name)
            deadline = time.time() + 300
            while not os.path.exists(os.path.join(self.barrier_dir, "release")) and time.time() < deadline:
                time.sleep(0.05)

    v2_playbook_on_handler_task_start = v2_playbook_on_task_start

    # --- record -----------------------------------------------------------------------------------------
    def _record(self, status, result):
        if not self.out:
            return
        line = dict(status=status, host=result._host.get_name(), task=result._task.get_name(),
                    result=result._result)
        with open(self.out, "a") as handle:
            handle.write(json.dumps(line, default=str, sort_keys=True) + "\n")

    def v2_runner_on_ok(self, result):
        self._record("ok", result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record("ignored" if ignore_errors else "failed", result)

    def v2_runner_on_skipped(self, result):
        self._record("skipped", result)

    def v2_runner_on_unreachable(self, result):
        self._record("unreachable", result)

    def v2_runner_item_on_ok(self, result):
        self._record("item_ok", result)

    def v2_runner_item_on_failed(self, result):
        self._record("item_failed", result)
