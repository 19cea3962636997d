# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Wait until the emulator has served one more successful call of an action, then make one control call.

    python when_called.py --url URL --action cloudsso:UpdateSCIMServerCredentialStatus \
        --post faults --body '{"match": ...}' [--timeout 120]

Molecule scenarios start it in the background (async) right before the role, to change the world at one exact
step of the rotation (for example: quarantine the Entra job right after the old credential is disabled).
Standard library only; exits 0 once the control call was made, 1 on timeout.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import sys
import time

try:
    from urllib.request import Request, urlopen
except ImportError:  # pragma: no cover - Python 2 is not supported by the emulator anyway
    sys.exit("Python 3 is needed")

__metaclass__ = type


def control(url, name, body=None):
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = Request("%s/_emulator/%s" % (url, name), data=data, method="GET" if data is None else "POST")
    request.add_header("Content-Type", "application/json")
    with urlopen(request, timeout=10) as answer:
        return json.loads(answer.read().decode("utf-8") or "null")


def served(url, product, action):
    """How many calls of product:action the emulator answered with a 2xx so far."""
    return control(url, "calls/counts")["answered"].get("%s:%s" % (product, action), 0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--action", required=True, help="product:action, as in /_emulator/calls")
    parser.add_argument("--post", required=True, help="control call to make, e.g. faults")
    parser.add_argument("--body", required=True, help="its JSON body")
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args()
    url = args.url.rstrip("/")
    product, action = args.action.split(":", 1)
    body = json.loads(args.body)
    before = served(url, product, action)
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        if served(url, product, action) > before:
            print(json.dumps(control(url, args.post, body)))
            return 0
        time.sleep(0.1)
    print("timed out waiting for %s" % args.action)
    return 1


if __name__ == "__main__":
    sys.exit(main())
