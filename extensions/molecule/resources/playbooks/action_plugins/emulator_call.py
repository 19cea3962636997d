"""Test-only action plugin of the Molecule scenarios: one call to the emulator's control API (``/_emulator/...``),
made in the controller's worker. A ``uri`` task starts a module process (about 0.4 CPU-s); this does not.

    - name: Seed the account and the directory
      emulator_call:
        url: "{{ cloudsso_url }}"   # the emulator, on the loopback interface only
        method: POST                # GET (the default), POST, PATCH, DELETE
        name: seed                  # the control path after /_emulator/
        body: {...}                 # sent as JSON (optional)
        status: 200                 # the status expected (the default: 200)
      register: cloudsso_seeded     # .json: the answer, .status: its status (as the uri module returns them)
      no_log: true                  # whenever the body or the answer holds a secret

Ansible finds it because it lies in action_plugins/ beside the playbooks (playbook-adjacent plugins).
"""

import json
import urllib.error
import urllib.parse
import urllib.request

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

LOOPBACK = ("127.0.0.1", "localhost", "::1")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("url", "method", "name", "body", "status"))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = self._task.args
        base = str(args["url"]).rstrip("/")
        if urllib.parse.urlsplit(base).hostname not in LOOPBACK:
            raise AnsibleActionFail("the emulator must listen on the loopback interface, not %s" % base)
        method = str(args.get("method", "GET")).upper()
        name = str(args["name"]).lstrip("/")
        body = args.get("body")
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request("%s/_emulator/%s" % (base, name), data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                status, text = answer.status, answer.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            status, text = error.code, ""   # the body of an error may echo the request: not shown
        except (urllib.error.URLError, OSError) as error:
            raise AnsibleActionFail("%s /_emulator/%s: %s" % (method, name, getattr(error, "reason", error)))
        expected = int(args.get("status", 200))
        if status != expected:
            raise AnsibleActionFail("%s /_emulator/%s: HTTP %s, expected %s" % (method, name, status, expected))
        result.update(changed=method != "GET", status=status, json=json.loads(text) if text.strip() else None)
        return result
