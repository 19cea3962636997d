"""Write tests/durations.json (seconds per test id, setup + call + teardown) from pytest `--durations=0` output
or from the JSON file a session writes with CLOUDSSO_DURATIONS_OUT (tests/helpers/suite_times.py), merged into
what the file already holds (tests/conftest.py starts the longest tests first).

    CLOUDSSO_DURATIONS_OUT=$PWD/.build/durations.json make pytest
    .venv/bin/python scripts/durations.py --replace .build/durations.json   # a whole session: start afresh
    .venv/bin/python -m pytest -q -n 4 --durations=0 tests/integration | tee out.txt
    .venv/bin/python scripts/durations.py out.txt [more outputs...]
"""

import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DURATIONS = os.path.join(ROOT, "tests", "durations.json")
LINE = re.compile(r"^\s*([0-9.]+)s (setup|call|teardown)\s+(\S.*?)\s*$")


def main(args):
    replace = "--replace" in args
    paths = [a for a in args if a != "--replace"]
    seconds = {}
    for path in paths:
        if path.endswith(".json"):
            with open(path) as handle:
                seconds.update(json.load(handle))
            continue
        with open(path, errors="replace") as handle:
            for line in handle:
                match = LINE.match(line)
                if match:
                    nodeid = match.group(3)
                    seconds[nodeid] = seconds.get(nodeid, 0.0) + float(match.group(1))
    known = {}
    if os.path.exists(DURATIONS) and not replace:
        with open(DURATIONS) as handle:
            known = json.load(handle)
    known.update((k, round(v, 1)) for k, v in seconds.items())
    with open(DURATIONS, "w") as handle:
        json.dump(dict(sorted(known.items())), handle, indent=0, sort_keys=True)
        handle.write("\n")
    print("%d test ids measured, %d in %s" % (len(seconds), len(known), os.path.relpath(DURATIONS, ROOT)))


if __name__ == "__main__":
    main(sys.argv[1:])
