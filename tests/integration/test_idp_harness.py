"""Helpers shared by the identity provider integration tests (test_idp_*.py); no tests here. The emulator,
the per-test cloud and the playbook runner with its leak scan come from conftest.py."""


def calls(emulator, products=None, action=None):
    """The emulator's call log, filtered by product(s) and action."""
    return [c for c in emulator.control.calls()["log"]
            if (products is None or c["product"] in products) and (action is None or c["action"] == action)]
