"""The leak scan: no secret may appear in anything a run printed, logged or wrote (outside the files that
exist to hold secrets)."""

import os
import stat

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
    """{path: text} of every regular file below `folder`, except the paths in `skip` (secret files). Links are
    not followed, and FIFOs, sockets and devices hold nothing to scan: opening a FIFO would wait for a writer."""
    texts = {}
    skip = set(os.path.realpath(p) for p in skip)
    for base, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(base, name)
            if os.path.realpath(path) in skip:
                continue
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            except OSError:  # a link (ELOOP), gone, or unreadable
                continue
            with os.fdopen(fd, "r", errors="replace") as handle:
                if stat.S_ISREG(os.fstat(fd).st_mode):
                    texts[path] = handle.read()
    return texts
