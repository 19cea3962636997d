"""Unit tests for plugins/module_utils/cloudsso.py helpers that need no API."""

from ansible_collections.alicloud.cloudsso.plugins.module_utils import cloudsso


def test_sole_enabled_credential():
    creds = [{"credential_id": "a", "status": "Enabled"}, {"credential_id": "b", "status": "Disabled"}]
    assert cloudsso.sole_enabled_credential(creds, "a") is True
    assert cloudsso.sole_enabled_credential(creds, "b") is False
    assert cloudsso.sole_enabled_credential(creds, "c") is None
    assert cloudsso.sole_enabled_credential([dict(c, status="Enabled") for c in creds], "a") is False

