"""The leak scan: no secret may appear in anything a run printed, logged or wrote (outside the files that
exist to hold secrets)."""

import hashlib
import os

MIN_SECRET_LENGTH = 8  # shorter values (test fixtures such as "x") would match by chance

# Memo of the searches that found nothing: {digest of a text: the secrets it was searched for}. A test scans
# after every run the whole folder again (earlier logs included) with every secret its emulator ever issued,
# and the reliability sweep scans everything once more at the end: without the memo, the same text is searched
# for the same secret many times. The answer of a search never changes, so only a (text, secret) pair not
# searched before is searched; a pair that matched is never memoized, so a leak is reported every time.
_CLEAN = {}
_SECRETS = {}  # one string object per secret value, shared by every memo entry


def _digest(text):
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def find_leaks(texts, secrets):
    """[(where, index of the secret)] for every secret found in every text. `texts`: {where: text}."""
    values = [_SECRETS.setdefault(s, s) for s in dict.fromkeys(secrets) if s and len(s) >= MIN_SECRET_LENGTH]
    found = []
    for where, text in texts.items():
        clean = _CLEAN.setdefault(_digest(text), set())
        for index, secret in enumerate(values):
            if secret in clean:
                continue
            if secret in text:
                found.append((where, index))
            else:
                clean.add(secret)
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
