"""The leak scan: no secret may appear in anything a run printed, logged or wrote (outside the files that
exist to hold secrets)."""

import os

MIN_SECRET_LENGTH = 8  # shorter values (test fixtures such as "x") would match by chance


def find_leaks(texts, secrets):
    """[(where, index of the secret)] for every secret found in every text. `texts`: {where: text}."""
    values = [s for s in dict.fromkeys(secrets) if s and len(s) >= MIN_SECRET_LENGTH]
    found = []
    for where, text in texts.items():
        for index, secret in enumerate(values):
            if secret in text:
                found.append((where, index))
    return found


def assert_no_leaks(texts, secrets):
    values = [s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH]
    assert values, "the leak scan needs secrets to look for"
    leaks = find_leaks(texts, values)
    # Name where, never what: the assertion message is itself output.
    assert not leaks, "secrets found in: %s" % ", ".join(sorted(set(where for where, _ in leaks)))


def read_tree(folder, skip=()):
    """{path: text} of every file below `folder`, except the paths in `skip` (secret files)."""
    texts = {}
    skip = set(os.path.realpath(p) for p in skip)
    for base, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(base, name)
            if os.path.realpath(path) in skip or os.path.islink(path):
                continue
            try:
                with open(path, "r", errors="replace") as handle:
                    texts[path] = handle.read()
            except OSError:
                continue
    return texts
