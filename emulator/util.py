"""Small helpers shared by every emulator module: time formats, identifiers, random secrets."""

import calendar
import re
import secrets
import string
import time
import uuid

LOWER_ALNUM = string.ascii_lowercase + string.digits
UPPER_ALNUM = string.ascii_uppercase + string.digits
ALNUM = string.ascii_letters + string.digits

DEFAULT_ACCOUNT_ID = "1234567890123456"

_TIME_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?Z$")


def fmt_time(ts):
    """Epoch seconds -> 'YYYY-MM-DDThh:mm:ssZ' (UTC), the format of every Alibaba Cloud API."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(ts)))


def parse_time(value):
    """'YYYY-MM-DDThh:mm:ss[.fff]Z' -> epoch seconds (float); ValueError on anything else."""
    if not isinstance(value, str):
        raise ValueError("not a string")
    m = _TIME_RE.match(value.strip())
    if not m:
        raise ValueError("bad time format")
    year, mon, day, hh, mm, ss = (int(g) for g in m.groups()[:6])
    frac = float(m.group(7)) if m.group(7) else 0.0
    # timegm validates nothing, so round-trip through struct_time to reject 2024-02-31 and the like
    ts = calendar.timegm((year, mon, day, hh, mm, ss, 0, 0, 0))
    if time.gmtime(ts)[:6] != (year, mon, day, hh, mm, ss):
        raise ValueError("no such date")
    return ts + frac


def rand_str(alphabet, n):
    return "".join(secrets.choice(alphabet) for _ in range(n))


def request_id():
    """Alibaba Cloud request IDs are upper-case UUIDs."""
    return str(uuid.uuid4()).upper()


def new_directory_id():
    return "d-" + rand_str(LOWER_ALNUM, 12)


def new_credential_id():
    return "scimcred-" + rand_str(LOWER_ALNUM, 20)


def new_access_key_id():
    # Never the LTAI prefix of real keys: a pre-commit check flags those as leaked credentials.
    return "EMU" + rand_str(UPPER_ALNUM, 21)


def new_access_key_secret():
    return rand_str(ALNUM, 30)


def new_scim_secret():
    # 64 URL-safe characters and no fixed prefix, like an opaque bearer token.
    return secrets.token_urlsafe(48)


def new_sts_id():
    return "STS." + rand_str(ALNUM, 25)


def new_security_token():
    # Real STS tokens are long base64 blobs with '+', '/' and '=': they exercise the clients' URL encoding.
    import base64

    return "CAIS" + base64.b64encode(secrets.token_bytes(240)).decode("ascii")


def new_numeric_id(n=16):
    return str(secrets.randbelow(9) + 1) + rand_str(string.digits, n - 1)


DIRECTORY_ID_RE = re.compile(r"^d-[a-z0-9]{12}$")
CREDENTIAL_ID_RE = re.compile(r"^scimcred-[a-z0-9]{20}$")
ACCOUNT_ID_RE = re.compile(r"^\d{1,32}$")
REGION_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
