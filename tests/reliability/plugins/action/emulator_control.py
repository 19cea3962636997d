"""Test-only action plugin: call the emulator's control API from a playbook, on the controller, without
running a module (a module run costs half a second; a batch of fault cases needs three control calls each).

    - name: Arrange the case
      emulator_control:
        url: http://127.0.0.1:PORT
        requests:
          - {method: POST, name: calls/reset}
          - {method: POST, name: faults, body: {match: "cloudsso:CreateSCIMServerCredential", kind: error}}
        settle: 0   # seconds to wait first (a request held by a latency fault is logged when it ends)

Returns `answers`, one per request. Never ask it for an answer that holds a secret (seed answers, a new
IdP's client secret): the result is printed and the probe callback records it.
"""

import os
import sys
import time

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tests.helpers.emulator import EmulatorControl, EmulatorError  # noqa: E402


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("url", "requests", "settle"))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        control = EmulatorControl(self._task.args["url"])
        time.sleep(float(self._task.args.get("settle") or 0))
        answers = []
        for request in self._task.args.get("requests") or []:
            try:
                answers.append(control.call(request.get("method", "GET"), request["name"], request.get("body")))
            except EmulatorError as error:
                raise AnsibleActionFail("control call %s %s failed: HTTP %s" % (
                    request.get("method", "GET"), request["name"], error.status))
        result.update(changed=False, answers=answers)
        return result
