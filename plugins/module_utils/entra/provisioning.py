# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The provisioning (synchronization) job of one enterprise application, through Microsoft Graph v1.0.

- `EntraProvisioning`: the job (find, read, start), its secrets list (read, save), validateCredentials
  and provisionOnDemand.
- Pure functions on Graph's answers: the job as modules return it (`job_status`), the outcome of
  provisionOnDemand (`parse_on_demand`), the keys a save must carry over (`plan_secrets`).
- The deciders of the entra_* runners: plain values in, a decision out (no I/O).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import json

try:
    from urllib.parse import quote, urlsplit
except ImportError:  # pragma: no cover
    from urllib import quote  # type: ignore
    from urlparse import urlsplit  # type: ignore

from ansible_collections.alicloud.cloudsso.plugins.module_utils.cloudsso import sole_enabled_credential
from ansible_collections.alicloud.cloudsso.plugins.module_utils.entra.client import GraphError, redact
from ansible_collections.alicloud.cloudsso.plugins.module_utils.entra.signin import EntraConfigError
from ansible_collections.alicloud.cloudsso.plugins.module_utils.times import parse_iso_time

QUARANTINE = "Quarantine"
PAUSED = "Paused"
ACTIVE = "Active"
STARTABLE = (PAUSED, QUARANTINE)
# provisionOnDemand results that can prove Entra authenticated to the target with the saved token: Success
# always; Skipped only after a step that called the target (a RedundantExport after matching the user).
# NotEffectivelyEntitled and other scoping skips are decided inside Entra before the target is called.
AUTHENTICATED_RESULTS = ("Success", "Skipped")
TARGET_STEP_TYPES = ("matching", "export")
# The synchronization secrets list (PUT example of the v1.0 "Add synchronization secrets" page): the
# credentials and, in the same list, the provisioning scope and the notification settings.
SECRET_PAIR_KEYS = ("BaseAddress", "SecretToken")
SYNC_ALL = "SyncAll"
SYNC_NOTIFICATIONS = "SyncNotificationSettings"
ENTRA_SOURCE_DIRECTORIES = ("azure active directory", "microsoft entra id", "aad", "azuread")


def _time(value):
    return value or None


def _execution(raw):
    if not isinstance(raw, dict) or not raw:
        return None
    error = raw.get("error") if isinstance(raw.get("error"), dict) else None
    return dict(
        state=raw.get("state"),
        time_began=_time(raw.get("timeBegan")),
        time_ended=_time(raw.get("timeEnded")),
        activity_identifier=raw.get("activityIdentifier"),
        count_exported=raw.get("countExported"),
        count_imported=raw.get("countImported"),
        error=dict(code=error.get("code"), message=error.get("message")) if error else None,
    )


def job_status(job, secrets=()):
    """The synchronization job as modules return it (snake_case, messages scrubbed)."""
    status = job.get("status") if isinstance(job.get("status"), dict) else {}
    schedule = job.get("schedule") if isinstance(job.get("schedule"), dict) else {}
    quarantine = status.get("quarantine") if isinstance(status.get("quarantine"), dict) else None
    record = dict(
        job_id=job.get("id"),
        template_id=job.get("templateId"),
        schedule=dict(interval=schedule.get("interval"), state=schedule.get("state"),
                      expiration=schedule.get("expiration")),
        code=status.get("code"),
        quarantined=status.get("code") == QUARANTINE,
        count_successive_complete_failures=status.get("countSuccessiveCompleteFailures"),
        last_execution=_execution(status.get("lastExecution")),
        last_successful_execution=_execution(status.get("lastSuccessfulExecution")),
        steady_state_last_achieved_time=status.get("steadyStateLastAchievedTime"),
        quarantine=None,
    )
    if quarantine:
        error = quarantine.get("error") if isinstance(quarantine.get("error"), dict) else None
        record["quarantine"] = dict(
            reason=quarantine.get("reason"),
            current_began=quarantine.get("currentBegan"),
            next_attempt=quarantine.get("nextAttempt"),
            series_began=quarantine.get("seriesBegan"),
            series_count=quarantine.get("seriesCount"),
            error=dict(code=error.get("code"), message=error.get("message")) if error else None,
        )
    return _scrub(record, secrets)


def _scrub(value, secrets):
    if isinstance(value, dict):
        return dict((k, _scrub(v, secrets)) for k, v in value.items())
    if isinstance(value, list):
        return [_scrub(v, secrets) for v in value]
    if isinstance(value, str):
        return redact(value, secrets)
    return value


def parse_time(value):
    """Graph DateTimeOffset (`2024-01-04T08:00:00Z`, `...00.1234567Z`, `+00:00`) as epoch seconds."""
    parsed = parse_iso_time(value)
    return None if parsed is None else calendar.timegm(parsed.utctimetuple()) + parsed.microsecond / 1e6


def same_url(left, right):
    """Two SCIM base URLs are the same when they differ only in a trailing slash or the case of the
    scheme and host."""
    if not left or not right:
        return False

    def norm(url):
        parts = urlsplit(url.strip())
        return (parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), parts.query)

    return norm(left) == norm(right)


def _json_document(raw):
    if isinstance(raw, (dict, list)):
        return raw
    try:
        return json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return None


def _on_demand_steps(entries):
    steps = []
    for entry in entries:
        for step in entry.get("provisioningSteps") or []:
            if isinstance(step, dict):
                details = step.get("details") if isinstance(step.get("details"), dict) else {}
                steps.append(dict(name=step.get("name"), type=step.get("type") or step.get("provisioningStepType"),
                                  status=step.get("status"), description=step.get("description"),
                                  skip_reason=details.get("SkipReason")))
    return steps


def parse_on_demand(answer, secrets=()):
    """The outcome of provisionOnDemand, from the stringKeyStringValuePair Graph answers (v1.0 page, every
    example): `key` is the JSON result `{"result", "details": {"errorCode", "errorMessage"}}`, `value` the
    JSON provisioning record `{provisioningSteps[], statusInfo, ...}` (`"{}"` for a group). Older answers
    carried the record, or a list of records, in `value` only; both are read.

    `authenticated` is True only for an outcome Entra could not have reached without a successful call to
    the SCIM endpoint with the saved token: `Success` (the object was exported), or any result after a step
    that read or wrote the object in the target (type Matching or Export, status Success). A `Skipped`
    decided before that (NotEffectivelyEntitled: the object is out of the provisioning scope) proves nothing."""
    answer = answer if isinstance(answer, dict) else {}
    result = _json_document(answer.get("key"))
    record = _json_document(answer.get("value"))
    entries = [e for e in (record if isinstance(record, list) else [record]) if isinstance(e, dict)]
    status = reason = message = None
    if isinstance(result, dict):
        status = result.get("result") if isinstance(result.get("result"), str) else None
        details = result.get("details") if isinstance(result.get("details"), dict) else {}
        reason, message = details.get("errorCode"), details.get("errorMessage")
    for entry in entries:
        info = entry.get("statusInfo") or entry.get("status") or {}
        if isinstance(info, str):
            info = {"status": info}
        if isinstance(info, dict):
            status = status or info.get("status")
            error = info.get("errorInformation") if isinstance(info.get("errorInformation"), dict) else {}
            reason = reason or info.get("errorCode") or error.get("errorCode")
            message = message or info.get("reason") or error.get("reason")
    steps = _on_demand_steps(entries)
    if status is None and steps:
        statuses = [s["status"] for s in steps if s["status"]]
        failed = [s for s in statuses if s not in ("Success", "Skipped")]
        status = failed[0] if failed else ("Skipped" if "Skipped" in statuses else "Success" if statuses else None)
    reason = reason or next((s["skip_reason"] for s in steps if s["skip_reason"]), None)
    reached_target = any(str(s["type"] or "").lower() in TARGET_STEP_TYPES and s["status"] == "Success" for s in steps)
    authenticated = status == "Success" or (status in AUTHENTICATED_RESULTS and reached_target)
    return _scrub(dict(status=status, authenticated=authenticated, reason=reason, message=message, steps=steps),
                  secrets)


def plan_secrets(saved, sync_all=None, sync_notification_settings=None):
    """The keys besides BaseAddress and SecretToken that a save must send so that it changes nothing else:
    the provisioning scope (SyncAll) and the notification settings (SyncNotificationSettings), as given,
    or as read back from the saved list, with any other readable key carried over.

    `saved` is saved_secrets() (None: the list could not be read). Raises EntraConfigError, before any
    write, when a setting is needed and unknown: the list is unreadable and the option is not given, or a
    key other than the token reads as `*` and cannot be carried over."""
    settings = {}
    if saved is not None:
        masked = sorted(k for k, v in saved.items() if v == "*" and k not in SECRET_PAIR_KEYS)
        if masked:
            raise EntraConfigError("the saved synchronization secrets hold %s, which Graph does not return; saving the "
                                   "token would clear %s, so nothing was saved" % (", ".join(masked),
                                                                                   "them" if len(masked) > 1 else "it"))
        settings.update((k, v) for k, v in saved.items() if k not in SECRET_PAIR_KEYS and v is not None)
    if sync_all is not None:
        settings[SYNC_ALL] = "true" if sync_all else "false"
    if sync_notification_settings is not None:
        settings[SYNC_NOTIFICATIONS] = json.dumps(sync_notification_settings, separators=(",", ":"), sort_keys=True)
    if saved is None:
        missing = [option for option, key in (("sync_all", SYNC_ALL), ("sync_notification_settings", SYNC_NOTIFICATIONS))
                   if key not in settings]
        if missing:
            raise EntraConfigError(
                "Graph does not return the saved synchronization secrets, and saving the token replaces the whole list "
                "(the provisioning scope and the notification settings with it); give %s so that they are saved "
                "as they are. Nothing was saved." % " and ".join(missing))
    return settings


class EntraProvisioning(object):
    """The synchronization jobs and secrets of one enterprise application (service principal)."""

    def __init__(self, graph, service_principal_id):
        self.graph = graph
        self.sp = service_principal_id

    @property
    def _base(self):
        return "/servicePrincipals/%s/synchronization" % quote(self.sp, safe="")

    def _job_path(self, job_id, suffix=""):
        return "%s/jobs/%s%s" % (self._base, quote(job_id, safe=""), suffix)

    def jobs(self):
        body = self.graph.request("GET", self._base + "/jobs", action="list synchronization jobs")[1]
        return [job for job in (body or {}).get("value") or [] if isinstance(job, dict)]

    def job(self, job_id):
        body = self.graph.request("GET", self._job_path(job_id), action="get synchronization job")[1]
        return body or {}

    def resolve_job(self, job_id=None):
        """The job `job_id`, or the application's only job. Raises EntraConfigError when there is none
        or several."""
        if job_id:
            return self.job(job_id)
        jobs = self.jobs()
        if len(jobs) == 1:
            return jobs[0]
        if not jobs:
            raise EntraConfigError(
                "the enterprise application %s has no provisioning (synchronization) job; set up automatic "
                "provisioning in the Entra admin center first" % self.sp)
        listed = ", ".join("%s (template %s)" % (j.get("id"), j.get("templateId")) for j in jobs)
        raise EntraConfigError("the enterprise application %s has %d synchronization jobs; choose one with job_id: %s"
                               % (self.sp, len(jobs), listed))

    def validate(self, job_id, base_address=None, token=None, use_saved=False):
        """validateCredentials. Returns dict(valid, code, message): a 204 means Entra authenticated to the
        target; a 400 means it could not (Entra's reason, scrubbed). Other failures raise GraphError."""
        if token:
            self.graph.add_secret(token)
        if use_saved:
            body = {"useSavedCredentials": True}
            action = "validate the saved credentials"
        else:
            body = {"useSavedCredentials": False, "credentials": [
                {"key": "BaseAddress", "value": base_address}, {"key": "SecretToken", "value": token}]}
            action = "validate the candidate credentials"
        try:
            self.graph.request("POST", self._job_path(job_id, "/validateCredentials"), body=body, action=action)
        except GraphError as error:
            if error.status == 400:
                return dict(valid=False, code=error.code, message=error.message)
            raise
        return dict(valid=True, code=None, message=None)

    def saved_secrets(self):
        """The saved synchronization secrets as {key: value} (secret values read as `*`), or None when Graph
        does not let them be read (v1.0 documents only the PUT; the beta GET answers the list)."""
        try:
            body = self.graph.request("GET", self._base + "/secrets", action="read the synchronization secrets")[1]
        except GraphError as error:
            if error.status in (400, 404, 405):
                return None
            raise
        values = body.get("value") if isinstance(body, dict) else body
        if not isinstance(values, list):
            return None
        return dict((pair["key"], pair.get("value")) for pair in values if isinstance(pair, dict) and pair.get("key"))

    def saved_base_address(self):
        """The saved BaseAddress, or None when Graph does not return it (the token itself reads as `*`)."""
        return (self.saved_secrets() or {}).get("BaseAddress") or None

    def save(self, base_address, token, settings):
        """Save BaseAddress and SecretToken with `settings`, the other keys of the list (from
        plan_secrets). A PUT replaces the whole list, so whatever is left out is gone."""
        self.graph.add_secret(token)
        body = {"value": [{"key": "BaseAddress", "value": base_address}, {"key": "SecretToken", "value": token}] +
                [{"key": key, "value": value} for key, value in settings.items()]}
        self.graph.request("PUT", self._base + "/secrets", body=body, action="save the synchronization secrets")

    def start(self, job_id):
        self.graph.request("POST", self._job_path(job_id, "/start"), action="start the synchronization job")

    def rules(self, job_id):
        body = self.graph.request("GET", self._job_path(job_id, "/schema"), action="read the synchronization schema")[1]
        return [rule for rule in (body or {}).get("synchronizationRules") or [] if isinstance(rule, dict)]

    def provisioning_rule(self, job_id):
        """The rule provisionOnDemand needs: the only rule, or the only one whose source is Entra ID."""
        rules = self.rules(job_id)
        if len(rules) == 1:
            return rules[0].get("id")
        outbound = [r for r in rules if str(r.get("sourceDirectoryName") or "").lower() in ENTRA_SOURCE_DIRECTORIES]
        if len(outbound) == 1:
            return outbound[0].get("id")
        listed = ", ".join("%s (%s to %s)" % (r.get("id"), r.get("sourceDirectoryName"), r.get("targetDirectoryName"))
                           for r in rules)
        raise EntraConfigError("cannot tell which synchronization rule to use (%s); give provision_on_demand.rule_id"
                               % (listed or "the job has no rules"))

    def provision_on_demand(self, job_id, rule_id, object_id, object_type="User"):
        subject = {"objectId": object_id, "objectTypeName": object_type}
        body = {"parameters": [{"ruleId": rule_id, "subjects": [subject]}]}
        answer = self.graph.request("POST", self._job_path(job_id, "/provisionOnDemand"), body=body,
                                    action="provision on demand")[1]
        return parse_on_demand(answer or {}, self.graph.secrets)


# ------------------------------------------------------------------------------------------- deciders

def needs_start(state, code):
    """Whether entra_provisioning_job starts a job whose status code is `code`: only a Paused or
    quarantined one, and only when asked to (`state` started)."""
    return state == "started" and code in STARTABLE


def last_began(job):
    """When the last execution of `job` (job_status) began, as epoch seconds, or None."""
    return parse_time((job.get("last_execution") or {}).get("time_began"))


def cycle_after(job, previous_began):
    """'done' when an execution that began after `previous_began` (the last one seen when the task began;
    None: there was none) has ended, 'quarantined' when the job is in quarantine (start clears it, so after
    a start this is a new one), else None. Only the job's own times are compared: no clock skew."""
    if job["code"] == QUARANTINE:
        return "quarantined"
    began = last_began(job)
    ended = parse_time((job.get("last_execution") or {}).get("time_ended"))
    if began is None or ended is None or job["code"] in STARTABLE:
        return None
    if previous_began is None or began > previous_began:
        return "done"
    return None


def judge_on_demand(outcome):
    """What an on-demand provisioning outcome (parse_on_demand) shows about the saved token: 'proven',
    'skipped' (Skipped before the target was called: it proves nothing, so the saved credentials must be
    validated instead) or 'failed'."""
    if outcome["authenticated"]:
        return "proven"
    return "skipped" if outcome["status"] == "Skipped" else "failed"


def failed_steps(outcome):
    """The steps of an on-demand outcome that neither succeeded nor were skipped, as one line."""
    failed = [s for s in outcome["steps"] if s.get("status") not in ("Success", "Skipped")]
    return "; ".join("%s: %s" % (s.get("name"), s.get("description")) for s in failed) or "no step details"


def credential_proof(credentials, directory_id, credential_id):
    """(sole, reason): whether `credential_id` is the only Enabled one of `credentials`, the CloudSSO
    credentials of `directory_id`. Only then is a saved token Entra ID authenticates with this one."""
    sole = sole_enabled_credential(credentials, credential_id)
    if sole is None:
        return False, "credential %s is not in directory %s" % (credential_id, directory_id)
    if not sole:
        return False, "credential %s is not the directory's only Enabled credential" % credential_id
    return True, "credential %s is the directory's only Enabled credential" % credential_id


def proof_with_saved_url(proof, saved_base, base_address):
    """`proof` (sole, reason), unless Graph returned a saved Tenant URL other than `base_address`."""
    if proof[0] and saved_base is not None and not same_url(saved_base, base_address):
        return False, "the saved Tenant URL is another one"
    return proof


def proven_saved(reason, saved_valid):
    """(already saved, reason) once Entra ID validated the saved token for a credential that passed
    credential_proof: the saved token is this one only when Entra ID authenticates with it."""
    if saved_valid:
        return True, "%s and Entra ID authenticates with the saved token" % reason
    return False, "Entra ID cannot authenticate with the saved token"
