# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The rotation plan: from what CloudSSO, the pending secret file and ActionTrail tell, decide where a
rotation starts or resumes. Pure functions, no I/O, so every case is unit tested.

Vocabulary: the *current* credential is the one the identity provider (IdP) holds when the rotation
starts; the *pending* credential is the new one this rotation creates (its secret is in the pending
secret file). Like AWS Secrets Manager's AWSCURRENT / AWSPENDING, but derived from observable state
instead of stored labels, so nothing depends on files that live on one controller.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from datetime import timedelta

from ansible_collections.alicloud.cloudsso.plugins.module_utils.cloudsso import (
    DISABLED,
    ENABLED,
    parse_time,
)

# Where the run starts. Each later step is idempotent, so resuming at an earlier one is safe.
NOTHING = "none"          # not due, nothing to clean up
ROTATE = "rotate"         # create a pending credential, then configure, disable, verify, delete
CONFIGURE = "configure"   # the pending credential exists and its secret is known: configure the IdP
DISABLE = "disable"       # the IdP calls with the pending credential: disable the current one
VERIFY = "verify"         # the current one is disabled: verify, then delete it
STOP = "stop"             # a state the role must not touch; the message says why and the way out

# The step ladder of a run, in order: the role runs the steps the plan lists (plan_steps), in this order.
# prune: delete what the plan proved unused; create: the pending credential, probed; configure: give it to
# the IdP; disable: the current credential; verify: the switch; delete: the current credential; finish:
# keep the new secret and tidy up.
PRUNE = "prune"
CREATE = "create"
DELETE = "delete"
FINISH = "finish"
STEPS = (PRUNE, CREATE, CONFIGURE, DISABLE, VERIFY, DELETE, FINISH)
# Where each action enters the ladder (STOP enters nowhere).
ENTRY = {ROTATE: CREATE, CONFIGURE: CONFIGURE, DISABLE: DISABLE, VERIFY: VERIFY, NOTHING: FINISH}


class Plan(object):
    def __init__(self):
        self.action = NOTHING
        self.reason = ""
        self.due = False
        self.due_reason = ""
        self.current = None            # credential record
        self.pending = None            # credential record
        self.prune = []                # Disabled credentials verified unused: delete before anything else
        self.orphans = []              # Enabled credentials with a lost secret, verified unused: delete
        self.stale_pending_file = False  # the pending file names a credential that no longer exists
        self.pending_secret_known = False  # the pending secret file holds the pending credential's secret
        self.handoff = False           # a person gives the IdP the token (no API configures it again)
        self.notes = []

    def stop(self, reason):
        self.action = STOP
        self.reason = reason
        return self

    def to_dict(self):
        def cid(record):
            return record["credential_id"] if record else None
        result = dict(
            action=self.action, reason=self.reason, due=self.due, due_reason=self.due_reason,
            current_credential_id=cid(self.current), pending_credential_id=cid(self.pending),
            current_credential=self.current, pending_credential=self.pending,
            prune=[cid(c) for c in self.prune], orphans=[cid(c) for c in self.orphans],
            stale_pending_file=self.stale_pending_file, notes=list(self.notes),
            pending_secret_known=bool(self.pending_secret_known and self.pending),
        )
        result["steps"] = plan_steps(result, handoff=self.handoff)
        result["changes_planned"] = any(step != FINISH for step in result["steps"])
        return result


def plan_steps(plan, handoff=False):
    """The steps of STEPS a run carries out for `plan` (a Plan.to_dict() without its steps), in order.

    Each action enters the ladder at its ENTRY and runs to the end; disable and delete need a current
    credential. A resume at disable gives the IdP the pending token again (idempotent) when its secret is at
    hand and an API takes it (not `handoff`): the evidence of the switch could predate the save. Whether a
    manual hand-off is still waiting is known only during the run: the role checks that itself."""
    action = plan["action"]
    if action not in ENTRY:
        return []
    steps = [PRUNE] if plan["prune"] or plan["orphans"] or plan["stale_pending_file"] else []
    ladder = list(STEPS[STEPS.index(ENTRY[action]):])
    if action == DISABLE and plan["pending_secret_known"] and not handoff:
        ladder.insert(0, CONFIGURE)
    for step in ladder:
        if step in (DISABLE, DELETE) and not plan["current_credential_id"]:
            continue
        steps.append(step)
    return steps


def rotation_due(credential, min_age_days, expiring_within_days, force):
    """(due, reason) for the credential the IdP holds."""
    if force:
        return True, "forced"
    expires = credential.get("expires_in_days")
    if expires is not None and expiring_within_days is not None and expires <= expiring_within_days:
        return True, "expires in %s days (threshold %s)" % (expires, expiring_within_days)
    age = credential.get("age_days")
    if age is not None and min_age_days is not None and age >= min_age_days:
        return True, "%s days old (threshold %s)" % (age, min_age_days)
    return False, "%s days old, expires in %s days: not due (thresholds: age %s, expiry %s)" % (
        age, expires, min_age_days, expiring_within_days)


def _use(usage, record):
    return (usage.get("usage") or {}).get(record["credential_id"]) or {}


def _used(usage, record):
    return bool(_use(usage, record).get("used"))


def _last_used(usage, record):
    return parse_time(_use(usage, record).get("last_used"))


def _first_used(usage, record):
    return parse_time(_use(usage, record).get("first_used"))


def _conclusively_unused(usage, record):
    return bool(usage.get("conclusive")) and not _used(usage, record)


def _describe(record, usage):
    use = _use(usage, record)
    seen = ("last used %s" % use.get("last_used")) if use.get("used") else "no use seen"
    return "%s (%s, created %s, %s)" % (record["credential_id"], record["status"], record["create_time"], seen)


def _switched_to(usage, pending, current):
    """Whether ActionTrail shows the IdP calling with `pending` and no longer with `current`: the pending
    credential was used, and the current one was not used after the pending one's first use."""
    first_pending = _first_used(usage, pending)
    if not first_pending:
        return False
    last_current = _last_used(usage, current)
    return last_current is None or last_current < first_pending


def make_plan(credentials, usage, pending_file=None, now=None, min_age_days=180, expiring_within_days=90,
              force=False, prune_disabled=True, orphan_grace_minutes=120, handoff=False):
    """Decide where the rotation starts. `credentials`: records from CloudSSO (cloudsso.credential_record);
    `usage`: the result of scim_usage_info over a recent window for every credential of the directory
    (`usage`, `conclusive`); `pending_file`: the content of the pending secret file or None; `handoff`: a
    person gives the identity provider the token (plan_steps)."""
    plan = Plan()
    plan.handoff = handoff
    by_id = dict((c["credential_id"], c) for c in credentials)
    pending_id = (pending_file or {}).get("credential_id")
    if pending_id and pending_id not in by_id:
        plan.stale_pending_file = True
        plan.notes.append("the pending secret file names %s, which no longer exists; it will be replaced" % pending_id)
        pending_id = None
    pending = by_id.get(pending_id) if pending_id else None
    others = [c for c in credentials if c is not pending]

    if pending is not None:
        return _plan_with_pending(plan, pending, others, usage, prune_disabled)

    disabled = [c for c in others if c["status"] == DISABLED]
    enabled = [c for c in others if c["status"] == ENABLED]
    plan.prune = [c for c in disabled if prune_disabled and _conclusively_unused(usage, c)]
    kept_disabled = [c for c in disabled if c not in plan.prune]

    current = None
    if len(enabled) == 2:
        current = _pick_current(plan, enabled, usage, now, orphan_grace_minutes)
        if current is None or plan.action == DISABLE:
            plan.current = current
            return plan
    elif enabled:
        current = enabled[0]
    plan.current = current

    if current is None:
        if not force:
            return plan.stop("directory has no Enabled SCIM credential, so no identity provider can synchronize. "
                             "Set scim_rotation_force=true to create one and configure the identity provider.")
        plan.due, plan.due_reason = True, "no Enabled credential (forced)"
    else:
        plan.due, plan.due_reason = rotation_due(current, min_age_days, expiring_within_days, force)
    if not plan.due:
        return plan
    if kept_disabled and len(credentials) - len(plan.prune) - len(plan.orphans) >= 2:
        record = kept_disabled[0]
        why = ("scim_rotation_prune_disabled is false" if not prune_disabled else
               "ActionTrail shows it in use" if _used(usage, record) else
               "ActionTrail saw no SCIM call in the window, so its disuse is not proven")
        return plan.stop(
            "a rotation is due but the directory has no free slot: %s. The Disabled credential %s is not deleted "
            "(%s). Delete it yourself once it is unused (alicloud.cloudsso.scim_credential state=absent)."
            % ("; ".join(_describe(c, usage) for c in credentials), record["credential_id"], why))
    plan.action = ROTATE
    return plan


def _plan_with_pending(plan, pending, others, usage, prune_disabled):
    """A pending credential from an earlier run exists and its secret is known: resume."""
    plan.pending = pending
    plan.pending_secret_known = True
    if len(others) > 1:
        return plan.stop("directory has three credentials, which CloudSSO does not allow; inspect it by hand")
    current = others[0] if others else None
    plan.current = current
    plan.due, plan.due_reason = True, "resuming the rotation to %s" % pending["credential_id"]
    if pending["status"] == DISABLED:
        if current is None or current["status"] != ENABLED:
            return plan.stop("the pending credential %s is Disabled and there is no other Enabled credential; "
                             "enable one by hand (alicloud.cloudsso.scim_credential state=enabled)"
                             % pending["credential_id"])
        # An earlier run's rescue left it disabled: drop it if unused and start over.
        if not (prune_disabled and _conclusively_unused(usage, pending)):
            return plan.stop("the pending credential %s from an earlier run is Disabled and its disuse is not "
                             "proven; delete it by hand once unused" % pending["credential_id"])
        plan.prune.append(pending)
        plan.pending, plan.pending_secret_known = None, False
        plan.action = ROTATE
        plan.due_reason = "starting over: the earlier attempt's credential %s is removed" % pending["credential_id"]
        return plan
    if current is None:
        plan.action = VERIFY
        plan.notes.append("the previous credential is already gone")
        return plan
    if current["status"] == DISABLED:
        plan.action = VERIFY
        return plan
    plan.action = DISABLE if _switched_to(usage, pending, current) else CONFIGURE
    return plan


def _pick_current(plan, enabled, usage, now, orphan_grace_minutes):
    """Two Enabled credentials and no pending file: the IdP holds the one ActionTrail shows in use; the
    other is a credential whose secret is lost (an interrupted run on another controller, or an orphan
    of a lost create answer). It is deleted only when proven unused and older than the grace period
    (a younger one may belong to a rotation running right now elsewhere)."""
    used = [c for c in enabled if _used(usage, c)]
    if not usage.get("conclusive") or not used:
        plan.stop("directory has two Enabled credentials (%s) and ActionTrail shows no SCIM call in the window, so "
                  "it is unknown which one the identity provider holds. Disable the one it does not use, or widen "
                  "scim_rotation_usage_window." % "; ".join(_describe(c, usage) for c in enabled))
        return None
    if len(used) == 2:
        older, newer = sorted(enabled, key=lambda c: c["create_time"] or "")
        if _switched_to(usage, newer, older):
            # An earlier run handed the newer credential to the IdP and stopped before disabling the older.
            plan.pending = newer
            plan.action = DISABLE
            plan.due, plan.due_reason = True, "resuming: the identity provider already calls with %s" % (
                newer["credential_id"])
            return older
        plan.stop("directory has two Enabled credentials and both are in use (%s): two identity providers, or a "
                  "switch in progress. Finish the switch by hand (disable the one that should go) and run again."
                  % "; ".join(_describe(c, usage) for c in enabled))
        return None
    current = used[0]
    other = [c for c in enabled if c is not current][0]
    created = parse_time(other["create_time"])
    if created and now and now - created < timedelta(minutes=orphan_grace_minutes):
        plan.stop("credential %s was created %s minutes ago and its secret is not known here: another rotation may "
                  "be running. Wait, or delete it by hand if it is an orphan."
                  % (other["credential_id"], int((now - created).total_seconds() // 60)))
        return None
    plan.orphans.append(other)
    plan.notes.append("%s is Enabled, unused and its secret is unknown here: it will be deleted"
                      % other["credential_id"])
    return current


def needs_evidence(credentials, pending_file):
    """Only ActionTrail can settle these cases: a Disabled credential (is it unused?), two Enabled ones
    (which one does the identity provider hold?), or a pending one (has the provider switched?)."""
    enabled = [c for c in credentials if c["status"] == ENABLED]
    return bool(pending_file) or len(enabled) > 1 or len(enabled) < len(credentials)
