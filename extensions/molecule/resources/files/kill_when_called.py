# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a command in its own session and SIGKILL its whole process group once the emulator has served one more
successful call of an action.

    python kill_when_called.py --url URL --action cloudsso:CreateSCIMServerCredential \
        [--file PATH] [--log PATH] [--timeout 240] [--detach RESULT] -- ansible-playbook ...

Molecule scenarios run a rotation this way (a run with `kill_after`, tasks/run.yml) to interrupt it right after
one step's write, as a crash, an OOM kill or a lost execution node would. With --file, the kill also waits until
that file exists (the create step writes the new secret to the pending file right after the emulator answers:
without it the kill could land in between). The command's output goes to --log (or is discarded), not to this
script's output: only its last lines, on stderr, when it was not killed where asked. Standard library only;
exits 0 once the command was killed, 1 when it ended first or on timeout.

With --detach RESULT it returns at once and goes on as a daemon (a session of its own, its parent gone, its
standard streams on /dev/null), so that the command runs below no process of the caller, as a separate job would;
once done it writes its exit status and its message as JSON to RESULT (0600, renamed into place whole: read it
once it exists).
"""

from __future__ import absolute_import, division, print_function

import argparse
import io
import json
import os
import signal
import subprocess
import sys
import time

from when_called import served

__metaclass__ = type


def tail(path, lines=40):
    if not path or not os.path.exists(path):
        return ""
    with open(path, errors="replace") as handle:
        return "".join(handle.readlines()[-lines:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--action", required=True, help="product:action, as in /_emulator/calls")
    parser.add_argument("--file", help="also wait until this file exists")
    parser.add_argument("--log", help="where the command's output goes")
    parser.add_argument("--timeout", type=float, default=240)
    parser.add_argument("--detach", metavar="RESULT", help="run as a daemon, and write the outcome to RESULT")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command to run")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command to run")
    if args.detach:
        return detach(args, command)
    return kill_when_called(args, command)


def kill_when_called(args, command):
    url = args.url.rstrip("/")
    product, action = args.action.split(":", 1)
    before = served(url, product, action)

    if args.log:
        os.makedirs(os.path.dirname(args.log) or ".", mode=0o700, exist_ok=True)
        output = os.fdopen(os.open(args.log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w")
    else:
        output = open(os.devnull, "w")
    with output:
        # A session of its own: one killpg reaches ansible-playbook, its workers and the module they run.
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                                start_new_session=True)
        killed = timed_out = False
        deadline = time.monotonic() + args.timeout
        while proc.poll() is None:
            if served(url, product, action) > before and (not args.file or os.path.exists(args.file)):
                os.killpg(proc.pid, signal.SIGKILL)
                killed = True
                break
            if time.monotonic() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                timed_out = True
                break
            time.sleep(0.1)
        proc.wait()

    what = args.action + (" and %s existed" % args.file if args.file else "")
    name = os.path.basename(command[0])
    if killed and proc.returncode == -signal.SIGKILL:
        print("killed %s (SIGKILL to its process group) once the emulator had served %s" % (name, what))
        return 0
    if timed_out:
        print("not killed where asked: %s ran %s seconds and the emulator had not served %s; killed it"
              % (name, args.timeout, what))
    else:
        print("not killed: %s ended by itself (rc %s) before the emulator had served %s%s"
              % (name, proc.returncode, what, "; the end of its output (%s) is on stderr" % args.log if args.log else ""))
    sys.stderr.write(tail(args.log))
    return 1


def detach(args, command):
    """Fork twice (the caller's child returns at once), then kill_when_called() with its output kept for RESULT."""
    result = os.path.abspath(args.detach)
    os.makedirs(os.path.dirname(result), mode=0o700, exist_ok=True)
    if os.fork():
        return 0
    os.setsid()
    if os.fork():
        os._exit(0)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    sys.stdout, sys.stderr = io.StringIO(), io.StringIO()
    try:
        rc = kill_when_called(args, command)
    except Exception as error:  # whatever happened must reach RESULT
        rc = 1
        sys.stderr.write("%s: %s\n" % (type(error).__name__, error))
    partial = result + ".partial"
    with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600), "w") as handle:
        json.dump({"rc": rc, "stdout": sys.stdout.getvalue(), "stderr": sys.stderr.getvalue()}, handle)
    os.rename(partial, result)
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
