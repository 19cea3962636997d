"""Make the collection importable as ansible_collections.alicloud.cloudsso, and tests.helpers importable."""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLLECTIONS = os.path.join(ROOT, ".build", "collections")
LINK = os.path.join(COLLECTIONS, "ansible_collections", "alicloud", "cloudsso")


def _ensure_collection_link():
    if os.path.islink(LINK) and os.path.realpath(LINK) == ROOT:
        return
    os.makedirs(os.path.dirname(LINK), exist_ok=True)
    tmp = "%s.%d.tmp" % (LINK, os.getpid())
    os.symlink(ROOT, tmp)
    os.replace(tmp, LINK)  # atomic, so parallel pytest workers do not race


_ensure_collection_link()
for path in (COLLECTIONS, ROOT):
    if path not in sys.path:
        sys.path.insert(0, path)


# Longest first: with xdist the slow cases start at once and the short ones fill in around them, instead of a
# slow case starting last and running alone. tests/durations.json holds seconds per test id, measured
# (scripts/durations.py from a `--durations=0` output); a test it does not know runs after the known ones.
DURATIONS = os.path.join(ROOT, "tests", "durations.json")


def pytest_collection_modifyitems(config, items):
    if not os.path.exists(DURATIONS):
        return
    import json

    with open(DURATIONS) as handle:
        seconds = json.load(handle)
    items.sort(key=lambda item: -seconds.get(item.nodeid, 0.0))  # stable: unknown ones keep their order


# Wall and CPU seconds per suite when one session runs several (make test): tests/helpers/suite_times.py.
from tests.helpers.suite_times import (  # noqa: E402,F401  (hooks pytest finds by name)
    pytest_configure,
    pytest_runtest_makereport,
    pytest_runtest_setup,
)
