"""The one ISO 8601 parser that CloudSSO, ActionTrail, STS / ECS metadata and Graph times go through."""

from datetime import datetime, timezone

import pytest

from ansible_collections.alicloud.cloudsso.plugins.module_utils import cloudsso, credentials
from ansible_collections.alicloud.cloudsso.plugins.module_utils.entra import provisioning as graph
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import CredentialError
from ansible_collections.alicloud.cloudsso.plugins.module_utils.times import parse_iso_time


def utc(*parts):
    return datetime(*parts, tzinfo=timezone.utc)


@pytest.mark.parametrize("text, expected", [
    ("2024-01-04T08:00:00Z", utc(2024, 1, 4, 8, 0, 0)),
    ("2024-01-04T08:00:00.1234567Z", utc(2024, 1, 4, 8, 0, 0, 123456)),   # Graph: 7 digits
    ("2024-01-04T08:00:00.5Z", utc(2024, 1, 4, 8, 0, 0, 500000)),
    ("2024-01-04T10:30:00+02:30", utc(2024, 1, 4, 8, 0, 0)),
    ("2024-01-04T03:00:00-0500", utc(2024, 1, 4, 8, 0, 0)),
    ("2024-01-04 08:00:00", utc(2024, 1, 4, 8, 0, 0)),                     # no zone: UTC
    ("2024-01-04T08:00", utc(2024, 1, 4, 8, 0, 0)),
    ("2024-01-04", utc(2024, 1, 4)),
    (" 2024-01-04T08:00:00Z ", utc(2024, 1, 4, 8, 0, 0)),
])
def test_parses(text, expected):
    assert parse_iso_time(text) == expected


@pytest.mark.parametrize("text", [None, "", "yesterday", "2024-13-04T08:00:00Z", "2024-01-04T25:00:00Z",
                                  "2024-01-04T08:00:00ZZ", "1704355200", "2024-01-04T08"])
def test_refuses(text):
    assert parse_iso_time(text) is None


def test_every_caller_agrees():
    text = "2024-01-04T08:00:00.250Z"
    assert cloudsso.parse_time(text) == credentials.parse_expiration(text) == utc(2024, 1, 4, 8, 0, 0, 250000)
    assert graph.parse_time(text) == pytest.approx(1704355200.25)
    with pytest.raises(CredentialError, match="is not an ISO 8601 time"):
        credentials.parse_expiration("tomorrow")
