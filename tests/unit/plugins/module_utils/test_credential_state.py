"""The scim_credential decisions: what each state does with each directory, and what it refuses."""

import pytest

from ansible_collections.alicloud.cloudsso.plugins.module_utils import credential_state as cs
from ansible_collections.alicloud.cloudsso.plugins.module_utils.module import AlibabaCloudModule

D = "d-00fc2p61abcd"


def cred(n, status="Enabled"):
    return {"credential_id": "scimcred-%020d" % n, "status": status, "create_time": "2026-0%d-01T00:00:00Z" % n}


A, B = cred(1), cred(2, "Disabled")


def decide(state, creds, **kw):
    return cs.decide(state, D, creds, **kw)


@pytest.mark.parametrize("state,target,action,status", [
    ("present", A, cs.NOTHING, None),
    ("enabled", A, cs.NOTHING, None),
    ("disabled", A, cs.SET_STATUS, "Disabled"),
    ("enabled", B, cs.SET_STATUS, "Enabled"),
    ("disabled", B, cs.NOTHING, None),
    ("absent", B, cs.DELETE, None),
])
def test_by_credential_id(state, target, action, status):
    d = decide(state, [A, B], credential_id=target["credential_id"])
    assert d.action == action and d.new_status == status and d.target is target
    assert d.changed is (action != cs.NOTHING)


def test_absent_of_unknown_id_is_idempotent():
    d = decide("absent", [A], credential_id="scimcred-%020d" % 9)
    assert d.action == cs.NOTHING and not d.changed


def test_absent_enabled_needs_force():
    with pytest.raises(cs.Refusal, match="is Enabled.*force=true"):
        decide("absent", [A], credential_id=A["credential_id"])
    assert decide("absent", [A], credential_id=A["credential_id"], force=True).action == cs.DELETE


@pytest.mark.parametrize("state", ["present", "enabled", "disabled"])
def test_unknown_id_fails_and_lists_existing(state):
    with pytest.raises(cs.Refusal) as err:
        decide(state, [A, B], credential_id="scimcred-%020d" % 9)
    assert A["credential_id"] in str(err.value) and B["credential_id"] in str(err.value)


def test_secret_file_absent_creates_for_present_and_enabled():
    for state in ("present", "enabled"):
        assert decide(state, [A], secret_file="/x.json").action == cs.CREATE


def test_secret_file_selects_its_credential():
    d = decide("disabled", [A, B], secret_file="/x.json", file_data={"credential_id": A["credential_id"],
                                                                      "directory_id": D})
    assert d.action == cs.SET_STATUS and d.target is A


def test_secret_file_of_other_directory_refused():
    with pytest.raises(cs.Refusal, match="belongs to directory d-111111111111"):
        decide("present", [A], secret_file="/x.json",
               file_data={"credential_id": A["credential_id"], "directory_id": "d-111111111111"})


def test_stale_secret_file_not_overwritten_without_force():
    stale = {"credential_id": "scimcred-%020d" % 9, "directory_id": D}
    with pytest.raises(cs.Refusal, match="does not exist in directory .* any more"):
        decide("enabled", [A], secret_file="/x.json", file_data=stale)
    assert decide("enabled", [A], secret_file="/x.json", file_data=stale, force=True).action == cs.CREATE


def test_absent_with_stale_file_removes_the_file():
    d = decide("absent", [A], secret_file="/x.json", file_data={"credential_id": "scimcred-%020d" % 9})
    assert d.action == cs.NOTHING and d.remove_file and d.changed


def test_absent_with_file_deletes_and_removes_file():
    d = decide("absent", [A, B], secret_file="/x.json", file_data={"credential_id": B["credential_id"]})
    assert d.action == cs.DELETE and d.remove_file


def test_third_credential_refused_with_both_ids():
    with pytest.raises(cs.Refusal) as err:
        decide("enabled", [A, B], secret_file="/x.json")
    message = str(err.value)
    assert "limit" in message and A["credential_id"] in message and B["credential_id"] in message


def test_present_without_selector():
    assert decide("present", [A]).action == cs.NOTHING
    with pytest.raises(cs.Refusal, match="would be lost"):
        decide("present", [])
    assert decide("present", [], return_secret=True).action == cs.CREATE


@pytest.mark.parametrize("state", ["enabled", "disabled"])
def test_status_states_need_a_selector(state):
    with pytest.raises(cs.Refusal, match="needs credential_id or secret_file"):
        decide(state, [A])


def test_disabled_with_missing_file_refused():
    with pytest.raises(cs.Refusal, match="does not exist"):
        decide("disabled", [A], secret_file="/x.json")


def test_diff_views_never_hold_secrets():
    view = cs.diff_view(dict(A, credential_secret="s3cr3t"))
    assert view == {"exists": True, "credential_id": A["credential_id"], "status": "Enabled"}
    assert cs.diff_view(None) == {"exists": False}


# --- the in-flight marker and ANSIBLE_DEBUG ---------------------------------------------------------------

MARKER = {"directory_id": D, "started": "2026-03-01T00:00:00Z", "credentials_before": [A["credential_id"]]}


def test_unaccounted_credentials_of_an_inflight_marker():
    new = cred(3)  # created 2026-03-01, the marker's time
    slightly_early = dict(cred(4), create_time="2026-02-28T23:50:00Z")  # within the clock skew
    long_before = dict(cred(5), create_time="2026-02-01T00:00:00Z")
    no_time = dict(cred(6), create_time=None)
    found = cs.unaccounted(MARKER, [A, new, slightly_early, long_before, no_time])
    assert [c["credential_id"] for c in found] == [c["credential_id"] for c in (new, slightly_early, no_time)]
    # the secret file's own credential is accounted for
    assert cs.unaccounted(MARKER, [A, new], known_id=new["credential_id"]) == []


@pytest.mark.parametrize("debug, env, on", [(False, None, False), (True, None, True), (False, "1", True),
                                            (False, "yes", True), (False, "0", False), (False, "", False)])
def test_debug_is_on(monkeypatch, debug, env, on):
    class Module(object):
        _debug = debug

    class Wrapper(object):
        module = Module()
    if env is None:
        monkeypatch.delenv("ANSIBLE_DEBUG", raising=False)
    else:
        monkeypatch.setenv("ANSIBLE_DEBUG", env)
    assert AlibabaCloudModule.debug.fget(Wrapper()) is on


# --- the check-mode prediction, return_secret and the listings (deciders the runners use) ----------------

@pytest.mark.parametrize("state, creds, kw, view, record", [
    ("enabled", [A], dict(secret_file="/x.json"), {"exists": True, "credential_id": "(new)", "status": "Enabled"},
     dict(credential_id=None, credential_type="BearerToken", status="Enabled", create_time=None, expire_time=None,
          directory_id=D, age_days=None, expires_in_days=None)),
    ("disabled", [A], dict(credential_id=A["credential_id"]),
     {"exists": True, "credential_id": A["credential_id"], "status": "Disabled"}, dict(A, status="Disabled")),
    ("absent", [A, B], dict(credential_id=B["credential_id"]), {"exists": False}, None),
    ("absent", [A], dict(credential_id="scimcred-%020d" % 9), {"exists": False}, None),
    ("present", [A], dict(credential_id=A["credential_id"]),
     {"exists": True, "credential_id": A["credential_id"], "status": "Enabled"}, A),
])
def test_check_mode_predicts_what_the_run_would_return(state, creds, kw, view, record):
    d = decide(state, creds, **kw)
    assert cs.predicted_view(d) == view
    assert cs.predicted_record(d, state, D) == record


def test_predicted_set_status_does_not_change_the_listed_record():
    d = decide("disabled", [A], credential_id=A["credential_id"])
    cs.predicted_record(d, "disabled", D)
    assert A["status"] == "Enabled"


@pytest.mark.parametrize("return_secret, no_log, debug, expected", [
    (False, False, True, None),
    (True, True, False, None),
    (True, False, False, "set no_log: true on the task"),
    (True, False, True, "set no_log: true on the task"),  # no_log is named first
    (True, True, True, "refused while ANSIBLE_DEBUG is on"),
])
def test_return_secret_needs_no_log_and_no_debug(return_secret, no_log, debug, expected):
    problem = cs.return_secret_problem(return_secret, no_log, debug)
    if expected is None:
        assert problem is None
    else:
        assert expected in problem and "return_secret=true" in problem


def test_new_credentials_are_those_the_first_listing_lacks():
    new = cred(3)
    assert cs.new_credentials([A], [A, B, new]) == [B, new]
    assert cs.new_credentials([A, B], [B]) == []


def test_last_enabled():
    other_enabled = cred(3)
    assert cs.last_enabled([A, B], A)
    assert not cs.last_enabled([A, B, other_enabled], A)
    assert cs.last_enabled([A], A)


def test_select_credentials():
    assert cs.select_credentials([A, B]) == [A, B]
    assert cs.select_credentials([A, B], B["credential_id"]) == [B]
    assert cs.select_credentials([A, B], "scimcred-%020d" % 9) == []
