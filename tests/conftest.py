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
