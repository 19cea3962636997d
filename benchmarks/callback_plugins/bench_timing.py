# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark-only callback: per-task wall times (and, optionally, the emulator's API call counts at each task
start) written as JSON at the end of the run. Not shipped: it lives in benchmarks/, and records task names,
paths, actions, times, statuses and retry counts only, never a result's content.

    ANSIBLE_CALLBACK_PLUGINS=benchmarks/callback_plugins ANSIBLE_CALLBACKS_ENABLED=bench_timing \
    BENCH_TIMING_FILE=/tmp/timing.json [BENCH_EMULATOR_URL=http://127.0.0.1:PORT] ansible-playbook ...
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
    name: bench_timing
    type: aggregate
    short_description: per-task wall times for the benchmarks
    description: Writes task start/end times, statuses and retries to BENCH_TIMING_FILE as JSON.
    requirements: [enable in ANSIBLE_CALLBACKS_ENABLED]
"""

import json
import os
import time

try:
    from urllib.request import urlopen
except ImportError:  # pragma: no cover
    from urllib2 import urlopen  # type: ignore

from ansible.plugins.callback import CallbackBase

LOADED = time.time()


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timing"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self.path = os.environ.get("BENCH_TIMING_FILE")
        self.emulator = os.environ.get("BENCH_EMULATOR_URL")
        self.tasks = []
        self.started = None

    def _calls(self):
        """{product:action: n} of the calls the emulator served so far, without its simulated IdPs' own
        (internal) SCIM calls."""
        if not self.emulator:
            return None
        with urlopen(self.emulator.rstrip("/") + "/_emulator/calls", timeout=10) as resp:
            log = json.loads(resp.read().decode("utf-8"))["log"]
        counts = {}
        for entry in log:
            if not entry.get("internal"):
                key = "%s:%s" % (entry["product"], entry["action"])
                counts[key] = counts.get(key, 0) + 1
        return counts

    def _close_task(self, now):
        if self.tasks and self.tasks[-1]["end"] is None:
            self.tasks[-1]["end"] = now
            self.tasks[-1]["calls_after"] = self._calls()

    def v2_playbook_on_start(self, playbook):
        self.started = time.time()

    def v2_playbook_on_task_start(self, task, is_conditional):
        now = time.time()
        self._close_task(now)
        calls = self.tasks[-1]["calls_after"] if self.tasks and self.emulator else self._calls()
        self.tasks.append(dict(name=task.get_name(), path=task.get_path(), action=task.action, start=now,
                               end=None, hosts={}, retries={}, delay=None, calls_before=calls,
                               calls_after=None))

    v2_playbook_on_handler_task_start = v2_playbook_on_task_start

    def _host(self, result, status):
        if self.tasks:
            self.tasks[-1]["hosts"][result._host.get_name()] = dict(status=status, end=time.time())

    def v2_runner_on_ok(self, result):
        self._host(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._host(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._host(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._host(result, "unreachable")

    def v2_runner_retry(self, result):
        if self.tasks:
            host = result._host.get_name()
            self.tasks[-1]["retries"][host] = self.tasks[-1]["retries"].get(host, 0) + 1
            delay = (getattr(result, "_task_fields", None) or {}).get("delay")
            if isinstance(delay, (int, float)):
                self.tasks[-1]["delay"] = delay  # templated by the worker

    def v2_playbook_on_stats(self, stats):
        now = time.time()
        self._close_task(now)
        if self.path:
            with open(self.path, "w") as handle:
                json.dump(dict(loaded=LOADED, started=self.started, ended=now, tasks=self.tasks), handle)
