"""Every branch of the rotation plan: where a rotation starts or resumes, and when it refuses."""

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.alicloud.cloudsso.plugins.module_utils import rotation
from ansible_collections.alicloud.cloudsso.plugins.module_utils.cloudsso import credential_record, format_time

NOW = datetime(2026, 11, 29, 12, 0, 0, tzinfo=timezone.utc)


def cred(cid, status="Enabled", age_days=10):
    created = NOW - timedelta(days=age_days)
    raw = {"CredentialId": "scimcred-%s" % cid.ljust(20, "0"), "Status": status, "CredentialType": "BearerToken",
           "CreateTime": format_time(created), "ExpireTime": format_time(created + timedelta(days=365))}
    return credential_record(raw, "d-00fc2p61abcd", now=NOW)




def with_use(base, record, first_ago=None, last_ago=None):
    entry = {"used": first_ago is not None}
    if first_ago is not None:
        entry["first_used"] = format_time(NOW - timedelta(minutes=first_ago))
        entry["last_used"] = format_time(NOW - timedelta(minutes=last_ago if last_ago is not None else first_ago))
    base["usage"][record["credential_id"]] = entry
    return base


def plan(credentials, use=None, pending=None, **kwargs):
    kwargs.setdefault("now", NOW)
    pending_file = {"credential_id": pending} if pending else None
    return rotation.make_plan(credentials, use or {"conclusive": False, "usage": {}}, pending_file, **kwargs)


def test_single_young_credential_is_not_due():
    p = plan([cred("a", age_days=10)])
    assert p.action == rotation.NOTHING and not p.due
    assert p.to_dict()["changes_planned"] is False


@pytest.mark.parametrize("age,expiring,min_age,due", [
    (300, 90, 180, True),       # older than min age
    (100, 90, 180, False),
    (290, 90, 400, True),       # expires in 75 days <= 90
    (200, 30, 400, False),      # expires in 165 days
])
def test_due_by_age_or_expiry(age, expiring, min_age, due):
    p = plan([cred("a", age_days=age)], min_age_days=min_age, expiring_within_days=expiring)
    assert p.due is due
    assert p.action == (rotation.ROTATE if due else rotation.NOTHING)


def test_force_rotates_a_fresh_credential():
    p = plan([cred("a", age_days=0)], force=True)
    assert p.action == rotation.ROTATE and p.due_reason == "forced"


def test_expired_credential_is_due():
    p = plan([cred("a", age_days=400)], min_age_days=None, expiring_within_days=0)
    assert p.due and "expires in -35 days" in p.due_reason


def test_no_credential_needs_force():
    assert plan([]).action == rotation.STOP
    p = plan([], force=True)
    assert p.action == rotation.ROTATE and p.current is None


def test_only_credential_disabled_stops_without_force():
    d = cred("d", status="Disabled")
    p = plan([d])
    assert p.action == rotation.STOP and "no Enabled" in p.reason


def test_disabled_unused_is_pruned_before_rotation():
    e, d = cred("e", age_days=300), cred("d", status="Disabled", age_days=400)
    use = with_use({"conclusive": True, "usage": {}}, e, 30)
    p = plan([d, e], use)
    assert p.action == rotation.ROTATE
    assert [c["credential_id"] for c in p.prune] == [d["credential_id"]]
    assert p.current is e


def test_disabled_in_use_blocks_a_due_rotation():
    e, d = cred("e", age_days=300), cred("d", status="Disabled", age_days=400)
    use = with_use(with_use({"conclusive": True, "usage": {}}, e, 30), d, 20)
    p = plan([d, e], use)
    assert p.action == rotation.STOP
    assert d["credential_id"] in p.reason and e["credential_id"] in p.reason and "in use" in p.reason


def test_disabled_with_inconclusive_evidence_blocks():
    e, d = cred("e", age_days=300), cred("d", status="Disabled")
    p = plan([d, e], {"conclusive": False, "usage": {}})
    assert p.action == rotation.STOP and "not proven" in p.reason


def test_prune_disabled_false_blocks():
    e, d = cred("e", age_days=300), cred("d", status="Disabled")
    use = with_use({"conclusive": True, "usage": {}}, e, 30)
    p = plan([d, e], use, prune_disabled=False)
    assert p.action == rotation.STOP and "prune_disabled is false" in p.reason


def test_disabled_pruned_even_when_not_due():
    e, d = cred("e", age_days=5), cred("d", status="Disabled")
    use = with_use({"conclusive": True, "usage": {}}, e, 30)
    p = plan([d, e], use)
    assert p.action == rotation.NOTHING and p.prune == [d]
    assert p.to_dict()["changes_planned"] is True


def test_pending_enabled_not_yet_used_resumes_at_configure():
    old, new = cred("old", age_days=300), cred("new", age_days=0)
    use = with_use({"conclusive": True, "usage": {}}, old, 5)
    p = plan([old, new], use, pending=new["credential_id"])
    assert p.action == rotation.CONFIGURE and p.current is old and p.pending is new


def test_pending_used_after_old_resumes_at_disable():
    old, new = cred("old", age_days=300), cred("new", age_days=0)
    use = with_use(with_use({"conclusive": True, "usage": {}}, old, 60, 30), new, 20, 1)
    p = plan([old, new], use, pending=new["credential_id"])
    assert p.action == rotation.DISABLE


def test_pending_used_but_old_still_used_later_stays_at_configure():
    old, new = cred("old", age_days=300), cred("new", age_days=0)
    use = with_use(with_use({"conclusive": True, "usage": {}}, old, 60, 1), new, 20, 10)
    p = plan([old, new], use, pending=new["credential_id"])
    assert p.action == rotation.CONFIGURE


def test_old_already_disabled_resumes_at_verify():
    old, new = cred("old", status="Disabled", age_days=300), cred("new", age_days=0)
    p = plan([old, new], {"conclusive": False, "usage": {}}, pending=new["credential_id"])
    assert p.action == rotation.VERIFY and p.current is old


def test_old_already_deleted_resumes_at_verify():
    new = cred("new", age_days=0)
    p = plan([new], pending=new["credential_id"])
    assert p.action == rotation.VERIFY and p.current is None


def test_pending_disabled_by_rescue_is_dropped_and_rotation_restarts():
    old, new = cred("old", age_days=300), cred("new", status="Disabled", age_days=0)
    use = with_use({"conclusive": True, "usage": {}}, old, 5)
    p = plan([old, new], use, pending=new["credential_id"])
    assert p.action == rotation.ROTATE and p.prune == [new] and p.pending is None


def test_stale_pending_file_is_noted():
    e = cred("e", age_days=300)
    p = plan([e], pending="scimcred-" + "9" * 20)
    assert p.stale_pending_file and p.action == rotation.ROTATE


def test_two_enabled_one_unused_old_enough_is_an_orphan():
    used, orphan = cred("used", age_days=300), cred("orph", age_days=1)
    use = with_use({"conclusive": True, "usage": {}}, used, 5)
    p = plan([used, orphan], use)
    assert p.orphans == [orphan] and p.current is used and p.action == rotation.ROTATE


def test_two_enabled_young_unknown_credential_stops_for_grace():
    used = cred("used", age_days=300)
    young = credential_record({"CredentialId": "scimcred-" + "y" * 20, "Status": "Enabled",
                               "CreateTime": format_time(NOW - timedelta(minutes=10)),
                               "ExpireTime": format_time(NOW + timedelta(days=365))}, now=NOW)
    use = with_use({"conclusive": True, "usage": {}}, used, 5)
    p = plan([used, young], use)
    assert p.action == rotation.STOP and "another rotation may be running" in p.reason


def test_two_enabled_inconclusive_stops():
    a, b = cred("a", age_days=300), cred("b", age_days=2)
    p = plan([a, b], {"conclusive": False, "usage": {}})
    assert p.action == rotation.STOP and "unknown which one" in p.reason


def test_two_enabled_both_in_use_interleaved_stops():
    a, b = cred("a", age_days=300), cred("b", age_days=2)
    use = with_use(with_use({"conclusive": True, "usage": {}}, a, 60, 1), b, 50, 2)
    p = plan([a, b], use)
    assert p.action == rotation.STOP and "both are in use" in p.reason


def test_two_enabled_switched_to_newer_resumes_at_disable_without_pending_file():
    a, b = cred("a", age_days=300), cred("b", age_days=2)
    use = with_use(with_use({"conclusive": True, "usage": {}}, a, 120, 60), b, 50, 2)
    p = plan([a, b], use)
    assert p.action == rotation.DISABLE and p.current is a and p.pending is b


def test_plan_dict_names_ids():
    old, new = cred("old", age_days=300), cred("new", age_days=0)
    d = plan([old, new], with_use({"conclusive": True, "usage": {}}, old, 5), pending=new["credential_id"]).to_dict()
    assert d["current_credential_id"] == old["credential_id"] and d["pending_credential_id"] == new["credential_id"]
    assert d["action"] == "configure" and d["changes_planned"] is True


# --- the steps of a run (plan.steps) ------------------------------------------------------------------

def steps(p):
    return p.to_dict()["steps"]


def test_steps_follow_the_ladder_from_each_entry():
    assert rotation.STEPS == ("prune", "create", "configure", "disable", "verify", "delete", "finish")
    assert steps(plan([cred("a", age_days=300)])) == ["create", "configure", "disable", "verify", "delete", "finish"]
    assert steps(plan([cred("a", age_days=10)])) == ["finish"]
    assert steps(plan([])) == []


def test_steps_of_a_resume():
    old, new = cred("old", age_days=300), cred("new", age_days=0)
    use = with_use({"conclusive": True, "usage": {}}, old, 5)
    assert steps(plan([old, new], use, pending=new["credential_id"])) == [
        "configure", "disable", "verify", "delete", "finish"]
    disabled = cred("old", status="Disabled", age_days=300)
    assert steps(plan([disabled, new], pending=new["credential_id"])) == ["verify", "delete", "finish"]
    # The old credential is already gone: nothing to delete.
    assert steps(plan([new], pending=new["credential_id"])) == ["verify", "finish"]


def test_resume_at_disable_configures_again_when_the_secret_is_at_hand_and_an_api_takes_it():
    old, new = cred("old", age_days=300), cred("new", age_days=0)
    use = with_use(with_use({"conclusive": True, "usage": {}}, old, 60, 30), new, 20, 1)
    at_hand = plan([old, new], use, pending=new["credential_id"])
    assert at_hand.to_dict()["pending_secret_known"] is True
    assert steps(at_hand) == ["configure", "disable", "verify", "delete", "finish"]
    assert steps(plan([old, new], use, pending=new["credential_id"], handoff=True)) == [
        "disable", "verify", "delete", "finish"]
    # Switched to the newer credential, but no pending file here: its secret is not at hand.
    elsewhere = plan([old, new], use)
    assert elsewhere.action == rotation.DISABLE and elsewhere.to_dict()["pending_secret_known"] is False
    assert steps(elsewhere) == ["disable", "verify", "delete", "finish"]


def test_steps_start_with_prune_when_something_goes():
    e, d = cred("e", age_days=5), cred("d", status="Disabled")
    use = with_use({"conclusive": True, "usage": {}}, e, 30)
    assert steps(plan([d, e], use)) == ["prune", "finish"]
    assert steps(plan([cred("e", age_days=300)], pending="scimcred-" + "9" * 20))[0] == "prune"


def test_forced_rotation_without_a_credential_has_nothing_to_disable():
    p = plan([], force=True)
    assert steps(p) == ["create", "configure", "verify", "finish"]


def test_plan_steps_is_pure():
    d = {"action": "disable", "prune": [], "orphans": [], "stale_pending_file": False, "pending_secret_known": True,
         "current_credential_id": "scimcred-" + "1" * 20}
    assert rotation.plan_steps(d) == ["configure", "disable", "verify", "delete", "finish"]
    assert rotation.plan_steps(dict(d, action="stop")) == []
