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

import importlib.util
import json
import os
import time

try:
    from urllib.request import urlopen
except ImportError:  # pragma: no cover
    from urllib2 import urlopen  # type: ignore

# The plumbing shared with the reliability suite's callback (tests/helpers/callback_base.py), loaded by path.
SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "helpers", "callback_base.py")
_SPEC = importlib.util.spec_from_file_location("cloudsso_callback_base", os.path.normpath(SHARED))
_BASE = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_BASE)

LOADED = time.time()
HOST_STATUS = dict(ok="ok", failed="failed", ignored="failed", skipped="skipped", unreachable="unreachable")


class CallbackModule(_BASE.TaskEventsCallback):
    CALLBACK_NAME = "bench_timing"

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

    def playbook_started(self):
        self.started = time.time()

    def task_started(self, task):
        now = time.time()
        self._close_task(now)
        calls = self.tasks[-1]["calls_after"] if self.tasks and self.emulator else self._calls()
        self.tasks.append(dict(name=task.get_name(), path=task.get_path(), action=task.action, start=now,
                               end=None, hosts={}, retries={}, delay=None, calls_before=calls,
                               calls_after=None))

    def host_result(self, status, result):
        if not self.tasks:
            return
        host = result._host.get_name()
        if status in HOST_STATUS:
            self.tasks[-1]["hosts"][host] = dict(status=HOST_STATUS[status], end=time.time())
        elif status == "retry":
            self.tasks[-1]["retries"][host] = self.tasks[-1]["retries"].get(host, 0) + 1
            delay = (getattr(result, "_task_fields", None) or {}).get("delay")
            if isinstance(delay, (int, float)):
                self.tasks[-1]["delay"] = delay  # templated by the worker

    def playbook_ended(self, stats):
        now = time.time()
        self._close_task(now)
        if self.path:
            with open(self.path, "w") as handle:
                json.dump(dict(loaded=LOADED, started=self.started, ended=now, tasks=self.tasks), handle)
