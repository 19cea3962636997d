"""Fault injection: errors, latency and dropped connections, matched on product/action/method/path.

A rule::

    {"match": {"product": "cloudsso", "action": "CreateSCIMServerCredential"}   # or "cloudsso:Create..."
     "kind": "error" | "latency" | "drop_before_apply" | "drop_after_apply",
     "status": 503, "code": "ServiceUnavailable", "message": "...", "retry_after": 1500,  # error
     "seconds": 2.5,                                                                      # latency
     "count": 1,      # how many times it fires (null: every time)
     "after": 0}      # let the first N matching requests through

``match`` fields (all optional, "*" = any): product, action, method, path (prefix of the path without
the region prefix), region. Latency rules add up; at most one error/drop rule fires per request.
"""

import itertools
import threading

KINDS = ("error", "latency", "drop_before_apply", "drop_after_apply")
MATCH_KEYS = ("product", "action", "method", "path", "region")


class FaultError(ValueError):
    pass


def _parse_match(match):
    if match is None or match == "*":
        return {}
    if isinstance(match, str):
        # "cloudsso:CreateSCIMServerCredential", "scim:GET /scim/v2/Users", "metadata:/latest/api/token"
        product, _, rest = match.partition(":")
        out = {"product": product}
        rest = rest.strip()
        if rest and rest != "*":
            method, _, path = rest.partition(" ")
            if path:
                out["method"], out["path"] = method.upper(), path
            elif rest.startswith("/"):
                out["path"] = rest
            else:
                out["action"] = rest
        return out
    if not isinstance(match, dict):
        raise FaultError("match must be a string or an object")
    unknown = set(match) - set(MATCH_KEYS)
    if unknown:
        raise FaultError(f"unknown match keys: {', '.join(sorted(unknown))}")
    return {k: v for k, v in match.items() if v not in (None, "*")}


class FaultSet:
    def __init__(self):
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.rules = []

    def clear(self):
        with self._lock:
            self.rules = []

    def add(self, spec):
        if not isinstance(spec, dict):
            raise FaultError("a fault rule must be an object")
        kind = spec.get("kind")
        if kind not in KINDS:
            raise FaultError(f"kind must be one of {', '.join(KINDS)}")
        rule = {
            "id": next(self._ids),
            "match": _parse_match(spec.get("match")),
            "kind": kind,
            "count": spec.get("count", 1),
            "after": int(spec.get("after", 0) or 0),
            "seen": 0,
            "fired": 0,
        }
        if rule["count"] is not None:
            rule["count"] = int(rule["count"])
        if kind == "error":
            rule["status"] = int(spec.get("status", 503))
            rule["code"] = str(spec.get("code", "ServiceUnavailable"))
            rule["message"] = str(spec.get("message", "The request has failed due to a temporary failure of "
                                                      "the server."))
            if spec.get("retry_after") is not None:
                rule["retry_after"] = spec["retry_after"]
        elif kind == "latency":
            rule["seconds"] = float(spec.get("seconds", 1.0))
        with self._lock:
            self.rules.append(rule)
        return dict(rule)

    def snapshot(self):
        with self._lock:
            return [dict(r) for r in self.rules]

    @staticmethod
    def _matches(rule, info):
        for key, want in rule["match"].items():
            have = info.get(key)
            if have is None:
                return False
            if key == "path":
                if not str(have).startswith(str(want)):
                    return False
            elif key in ("method", "product"):
                if str(have).lower() != str(want).lower():
                    return False
            elif str(have) != str(want):
                return False
        return True

    def select(self, info):
        """info: {product, action, method, path, region}. Returns (latency_seconds, terminal_rule|None)."""
        latency = 0.0
        terminal = None
        with self._lock:
            for rule in self.rules:
                if not self._matches(rule, info):
                    continue
                if rule["kind"] != "latency" and terminal is not None:
                    continue  # one terminal fault per request; later rules keep their budget
                rule["seen"] += 1
                if rule["seen"] <= rule["after"]:
                    continue
                if rule["count"] is not None and rule["fired"] >= rule["count"]:
                    continue
                rule["fired"] += 1
                if rule["kind"] == "latency":
                    latency += rule["seconds"]
                else:
                    terminal = dict(rule)
        return latency, terminal
