# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the repository's own callbacks share: benchmarks/callback_plugins/bench_timing.py (per-task times of the
benchmarks) and tests/reliability/plugins/callback/reliability_probe.py (the reliability suite's record of every
result). Neither ships in the collection.

`TaskEventsCallback` is an aggregate callback that runs only when enabled by name (ANSIBLE_CALLBACKS_ENABLED) and
turns Ansible's many v2_* hooks into two: `task_started(task)` (tasks and handlers alike) and
`host_result(status, result)`, where status is one of RESULT_STATUSES. A callback subclasses it, sets
CALLBACK_NAME and DOCUMENTATION, and overrides what it needs; `playbook_ended()` runs once with the stats.

Ansible loads a callback plugin from its file, not as part of a package, so a callback loads this file by path:

    _SPEC = importlib.util.spec_from_file_location("cloudsso_callback_base", <path of this file>)
    _BASE = importlib.util.module_from_spec(_SPEC)
    _SPEC.loader.exec_module(_BASE)
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.callback import CallbackBase

# ok, failed, skipped, unreachable: a host's result of a task. ignored: failed under ignore_errors.
# item_ok, item_failed: one loop item's result (the task's own result follows). retry: an `until` attempt failed.
RESULT_STATUSES = ("ok", "failed", "ignored", "skipped", "unreachable", "item_ok", "item_failed", "retry")


class TaskEventsCallback(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NEEDS_ENABLED = True

    # --- what a callback overrides ------------------------------------------------------------------------
    def playbook_started(self):
        """The run starts."""

    def task_started(self, task):
        """A task (or a handler) starts."""

    def host_result(self, status, result):
        """A host's result of the current task; `status` is one of RESULT_STATUSES. The result is Ansible's
        (result._host, result._task, result._result after no_log masking)."""

    def playbook_ended(self, stats):
        """The run ends (the stats are Ansible's)."""

    # --- Ansible's hooks ----------------------------------------------------------------------------------
    def v2_playbook_on_start(self, playbook):
        self.playbook_started()

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.task_started(task)

    def v2_playbook_on_handler_task_start(self, task):
        self.task_started(task)

    def v2_runner_on_ok(self, result):
        self.host_result("ok", result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self.host_result("ignored" if ignore_errors else "failed", result)

    def v2_runner_on_skipped(self, result):
        self.host_result("skipped", result)

    def v2_runner_on_unreachable(self, result):
        self.host_result("unreachable", result)

    def v2_runner_item_on_ok(self, result):
        self.host_result("item_ok", result)

    def v2_runner_item_on_failed(self, result):
        self.host_result("item_failed", result)

    def v2_runner_retry(self, result):
        self.host_result("retry", result)

    def v2_playbook_on_stats(self, stats):
        self.playbook_ended(stats)
