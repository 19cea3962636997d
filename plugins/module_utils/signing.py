# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Alibaba Cloud request signatures: V3 (ACS3-HMAC-SHA256, the default) and V2 (HMAC-SHA1, for STS).

Pure functions, no I/O, so they are tested against the official vectors and the official SDK.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import hmac
import uuid
from datetime import datetime, timezone

try:
    from urllib.parse import quote
except ImportError:  # pragma: no cover - Python 2 is not supported, but the import sanity test runs it
    from urllib import quote  # type: ignore

V3_ALGORITHM = "ACS3-HMAC-SHA256"
V2_METHOD = "HMAC-SHA1"
V2_VERSION = "1.0"


def percent_encode(value):
    """RFC 3986 encoding as Alibaba Cloud canonicalizes it: only unreserved characters stay."""
    if not isinstance(value, str):
        value = str(value)
    return quote(value, safe="~")


def canonical_query(params):
    """Sorted `key=value` pairs joined by `&`, both sides percent-encoded; None values are dropped."""
    pairs = [(percent_encode(k), percent_encode(v)) for k, v in params.items() if v is not None]
    return "&".join("%s=%s" % pair for pair in sorted(pairs))


def utc_timestamp(now=None):
    now = now or datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


def new_nonce():
    return uuid.uuid4().hex


def sha256_hex(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def _signed_header_names(headers):
    # host, content-type and every x-acs-* header are signed; the service rejects unsigned x-acs-* headers.
    names = []
    for name in headers:
        lower = name.lower()
        if lower == "host" or lower == "content-type" or lower.startswith("x-acs-"):
            names.append(lower)
    return sorted(set(names))


def v3_canonical_request(method, pathname, query, headers, hashed_payload):
    lowered = dict((k.lower(), str(v).strip()) for k, v in headers.items())
    names = _signed_header_names(lowered)
    canonical_headers = "".join("%s:%s\n" % (name, lowered[name]) for name in names)
    return "\n".join([
        method.upper(),
        pathname or "/",
        canonical_query(query),
        canonical_headers,
        ";".join(names),
        hashed_payload,
    ]), names


def v3_authorization(method, pathname, query, headers, body, access_key_id, access_key_secret):
    """Return the Authorization header value for a request.

    `headers` must already hold host, x-acs-action, x-acs-version, x-acs-date, x-acs-signature-nonce,
    x-acs-content-sha256 and (STS credentials) x-acs-security-token.
    """
    hashed_payload = headers.get("x-acs-content-sha256") or sha256_hex(body or b"")
    canonical, names = v3_canonical_request(method, pathname, query, headers, hashed_payload)
    string_to_sign = "%s\n%s" % (V3_ALGORITHM, sha256_hex(canonical))
    signature = hmac.new(access_key_secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    return "%s Credential=%s,SignedHeaders=%s,Signature=%s" % (V3_ALGORITHM, access_key_id, ";".join(names), signature)


def v3_headers(host, action, version, body=b"", security_token=None, date=None, nonce=None):
    """The headers a V3 request needs before it is signed."""
    headers = {
        "host": host,
        "x-acs-action": action,
        "x-acs-version": version,
        "x-acs-date": date or utc_timestamp(),
        "x-acs-signature-nonce": nonce or new_nonce(),
        "x-acs-content-sha256": sha256_hex(body or b""),
    }
    if security_token:
        headers["x-acs-security-token"] = security_token
    return headers


def v2_signature(method, params, access_key_secret):
    """Base64 HMAC-SHA1 of `METHOD&%2F&<encoded canonical query>`, keyed with `secret&`."""
    string_to_sign = "%s&%s&%s" % (method.upper(), percent_encode("/"), percent_encode(canonical_query(params)))
    digest = hmac.new((access_key_secret + "&").encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def v2_signed_params(params, access_key_id, access_key_secret, method="POST", security_token=None,
                     timestamp=None, nonce=None):
    """Add the V2 common parameters and the Signature to a copy of `params`."""
    signed = dict(params)
    signed.update({
        "Format": "JSON",
        "AccessKeyId": access_key_id,
        "SignatureMethod": V2_METHOD,
        "SignatureVersion": V2_VERSION,
        "SignatureNonce": nonce or new_nonce(),
        "Timestamp": timestamp or utc_timestamp(),
    })
    if security_token:
        signed["SecurityToken"] = security_token
    signed["Signature"] = v2_signature(method, signed, access_key_secret)
    return signed
