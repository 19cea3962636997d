# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Ansible glue of the entra_* modules: the options of doc fragment alicloud.cloudsso.entra, the Graph
client built from them, failures turned into messages, and the runners of the three modules.

`XxxRunner(module).run()` does what its module does and ends with exit_json or fail_json. The decisions
are the pure functions of entra/provisioning.py (and the diffs here); the runners only read, call and
report."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible.module_utils.basic import env_fallback

from ansible_collections.alicloud.cloudsso.plugins.module_utils.cloudsso import (
    CloudSSO,
    validate_credential_id,
    validate_directory_id,
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.entra.client import (
    DEFAULT_GRAPH_ENDPOINT,
    GraphClient,
    GraphError,
    explain_graph,
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.entra.ids import invalid_entra_options
from ansible_collections.alicloud.cloudsso.plugins.module_utils.entra.provisioning import (
    SECRET_PAIR_KEYS,
    EntraProvisioning,
    credential_proof,
    cycle_after,
    failed_steps,
    job_status,
    judge_on_demand,
    last_began,
    needs_start,
    plan_secrets,
    proof_with_saved_url,
    proven_saved,
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.entra.signin import (
    CLIENT_ID_ENV,
    DEFAULT_LOGIN_ENDPOINT,
    TENANT_ENV,
    EntraConfigError,
    select_credential,
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import AlibabaCloudError, ApiError
from ansible_collections.alicloud.cloudsso.plugins.module_utils.secret_file import SecretFileError, read_candidate_token

GRAPH_ENDPOINT_ENV = ("ALIBABA_CLOUD_CLOUDSSO_GRAPH_ENDPOINT",)
LOGIN_ENDPOINT_ENV = ("ALIBABA_CLOUD_CLOUDSSO_LOGIN_ENDPOINT", "AZURE_AUTHORITY_HOST")
UNKNOWN_CREDENTIAL = ("the token's CloudSSO credential is not known (give token_file as a secret file, or "
                      "credential_id and directory_id)")


def entra_argument_spec():
    """The options of doc fragment alicloud.cloudsso.entra."""
    return dict(
        tenant_id=dict(type="str", aliases=["tenant"], fallback=(env_fallback, list(TENANT_ENV))),
        client_id=dict(type="str", fallback=(env_fallback, list(CLIENT_ID_ENV))),
        client_secret=dict(type="str", no_log=True, aliases=["secret"]),
        client_certificate_path=dict(type="path"),
        client_certificate_key_path=dict(type="path", no_log=False),
        client_certificate_password=dict(type="str", no_log=True),
        client_assertion=dict(type="str", no_log=True),
        client_assertion_file=dict(type="path"),
        service_principal_id=dict(type="str", required=True),
        job_id=dict(type="str"),
        # Their variables (and the base URL) are read by graph_client_from_module, which names the one in use.
        graph_endpoint=dict(type="str"),
        login_endpoint=dict(type="str"),
    )


def graph_client_from_module(module):
    """A GraphClient built from the entra options of an AlibabaCloudModule; fails the module with a
    clear message on bad options."""
    params = module.params
    module.fail_on(invalid_entra_options(params))
    try:
        credential = select_credential(params)
        if credential.kind == "assertion_file":
            credential.read_assertion_file()  # refused before any call, not at the first token request
    except EntraConfigError as error:
        module.fail_json(msg=str(error), changed=False)
    endpoints, settings = {}, {}
    for kind, default, env_names in (("graph", DEFAULT_GRAPH_ENDPOINT, GRAPH_ENDPOINT_ENV),
                                     ("login", DEFAULT_LOGIN_ENDPOINT, LOGIN_ENDPOINT_ENV)):
        option = "%s_endpoint" % kind
        template, settings[kind] = module.override(kind, params.get(option), option, env_names)
        endpoints[option] = module.endpoint_url(template or default, settings[kind])
    client = GraphClient(
        module.session, params["tenant_id"], params["client_id"], credential,
        timeout=params["timeout"], validate_certs=params["validate_certs"], max_retries=params["max_retries"],
        register_secret=module.register_secret, **endpoints)
    # Graph and login may share one base URL (the emulator's): the path tells them apart, not the host.
    client.endpoint_settings = settings
    return client


def fail_graph(module, error, graph=None, **result):
    """Fail the module with a message for a GraphError; any other ApiError raised on the way (a CloudSSO
    call) goes to the module base's fail_from."""
    if not isinstance(error, GraphError):
        module.fail_from(error, **result)
        return
    message = explain_graph(error, graph.setting_at(error.endpoint) if graph is not None else None)
    if error.aadsts and graph is not None:
        message += " (The sign-in used the %s.)" % graph.credential.description
    result.setdefault("error", error.to_dict())
    if graph is not None:
        result.setdefault("graph_calls", graph.api_calls)
    module.fail_json(msg=message, **result)


class EntraRunner(object):
    """What the entra_* runners share: the Graph client of the module's options, the enterprise
    application's provisioning, and the way a run fails and ends (always with `graph_calls`)."""

    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.graph = None
        self.provisioning = None

    def connect(self):
        self.graph = graph_client_from_module(self.module)
        self.provisioning = EntraProvisioning(self.graph, self.params["service_principal_id"])

    def guarded(self, work, result):
        """work(result); a bad option or a failed call fails the module with a clear message."""
        try:
            work(result)
        except EntraConfigError as error:
            self.module.fail_json(msg=str(error), graph_calls=self.graph.api_calls, **result)
        except ApiError as error:
            fail_graph(self.module, error, self.graph, **result)

    def fail(self, msg, result):
        result["graph_calls"] = self.graph.api_calls
        self.module.fail_json(msg=msg, **result)

    def finish(self, result):
        result["graph_calls"] = self.graph.api_calls
        self.module.exit_json(**result)


# ------------------------------------------------------------------------------------------- runners

def job_diff(status_before, code_now, changed, check_mode, state):
    """entra_provisioning_job's diff: the status code before and after (predicted in check mode)."""
    after = "Active" if changed and check_mode and state else code_now
    return dict(before=dict(code=status_before), after=dict(code=after))


def token_diff(saved_secrets, base_address, settings, already_saved):
    """entra_provisioning_token's diff: the Tenant URL, the other keys of the secrets list (`saved_secrets`,
    None when unreadable; `settings`, those saved, None when nothing is) and which token; never a token."""
    kept = dict((k, v) for k, v in (saved_secrets or {}).items() if k not in SECRET_PAIR_KEYS)
    saved_base = (saved_secrets or {}).get("BaseAddress") or None
    return dict(
        before=dict(base_address=saved_base or "(not readable)",
                    settings=kept if saved_secrets is not None else "(not readable)",
                    secret_token="(this token)" if already_saved else "(another or unknown token)"),
        after=dict(base_address=base_address, settings=kept if settings is None else settings,
                   secret_token="(this token)"))


class EntraInfoRunner(EntraRunner):
    """entra_provisioning_info: the job's status and, on request, whether the saved token works."""

    def run(self):
        self.connect()
        result = dict(changed=False, service_principal_id=self.params["service_principal_id"])
        self.guarded(self.read, result)
        self.finish(result)

    def read(self, result):
        p = self.params
        job = self.provisioning.resolve_job(p["job_id"])
        result["job"] = job_status(job, self.graph.secrets)
        if p["validate_saved"]:
            outcome = self.provisioning.validate(job.get("id") or p["job_id"], use_saved=True)
            result["saved_token_valid"] = outcome["valid"]
            if not outcome["valid"]:
                result["validation"] = dict(code=outcome["code"], message=outcome["message"])
            base_address = self.provisioning.saved_base_address()
            if base_address:
                result["base_address"] = base_address


class EntraJobRunner(EntraRunner):
    """entra_provisioning_job: start a Paused or quarantined job, provision a canary, wait for a cycle."""

    def run(self):
        p = self.params
        if p["wait_timeout"] <= 0 or p["poll_interval"] <= 0:
            self.module.fail_json(msg="wait_timeout and poll_interval must be positive numbers of seconds")
        self.began = time.time()
        self.connect()
        result = dict(changed=False, started=False, service_principal_id=p["service_principal_id"])
        self.guarded(self.act, result)
        if self.module.diff_mode:
            result["diff"] = job_diff(result["status_before"], result["job"]["code"], result["changed"],
                                      self.module.check_mode, p["state"])
        self.finish(result)

    def act(self, result):
        p, check_mode = self.params, self.module.check_mode
        raw = self.provisioning.resolve_job(p["job_id"])
        job_id = result["job_id"] = raw.get("id") or p["job_id"]
        job = job_status(raw, self.graph.secrets)
        result["status_before"] = job["code"]
        previous_began = last_began(job)

        if needs_start(p["state"], job["code"]):
            result["changed"] = True
            if not check_mode:
                self.provisioning.start(job_id)
                result["started"] = True
                job = job_status(self.provisioning.job(job_id), self.graph.secrets)
        if p["provision_on_demand"] and not check_mode:
            self.provision_canary(job_id, job, result)
        if p["wait"] and not check_mode:
            job = self.wait(job_id, job, previous_began, result)
        result["job"] = job

    def provision_canary(self, job_id, job, result):
        demand = self.params["provision_on_demand"]
        rule_id = demand["rule_id"] or self.provisioning.provisioning_rule(job_id)
        outcome = self.provisioning.provision_on_demand(job_id, rule_id, demand["object_id"], demand["object_type"])
        outcome.update(rule_id=rule_id, object_id=demand["object_id"])
        result["provisioning"] = outcome
        if outcome["status"] == "Success":
            result["changed"] = True
        verdict = judge_on_demand(outcome)
        if verdict == "skipped":
            self.module.warn("On-demand provisioning of %s was Skipped (%s) before Entra ID called the SCIM endpoint, "
                             "so it proves nothing about the saved token; Entra ID validates the saved credentials "
                             "instead." % (demand["object_id"], outcome["reason"] or "no reason given"))
            check = self.provisioning.validate(job_id, use_saved=True)
            result["saved_token_valid"] = check["valid"]
            if not check["valid"]:
                result["job"] = job
                self.fail("On-demand provisioning of %s was Skipped (%s) and Entra ID cannot authenticate with the "
                          "saved token: %s" % (demand["object_id"], outcome["reason"], check["message"]), result)
        elif verdict == "failed":
            result["job"] = job
            self.fail("On-demand provisioning of %s ended with %s: %s" % (
                demand["object_id"], outcome["status"] or "no result", failed_steps(outcome)), result)

    def wait(self, job_id, job, previous_began, result):
        """The job once a cycle that began after `previous_began` has ended; fails on a quarantine or the
        deadline."""
        p = self.params
        deadline = self.began + p["wait_timeout"]
        while True:
            verdict = cycle_after(job, previous_began)
            if verdict == "done":
                break
            if verdict == "quarantined":
                result["job"] = job
                self.fail("The job went into quarantine (%s): %s" % (
                    (job["quarantine"] or {}).get("reason"),
                    ((job["quarantine"] or {}).get("error") or {}).get("message")), result)
            if time.time() >= deadline:
                result["job"] = job
                self.fail("No synchronization cycle ended within %s seconds (job %s, last execution %s)"
                          % (p["wait_timeout"], job["code"], job.get("last_execution")), result)
            time.sleep(min(p["poll_interval"], max(deadline - time.time(), 0.1)))
            job = job_status(self.provisioning.job(job_id), self.graph.secrets)
        result["waited_seconds"] = round(time.time() - self.began, 1)
        return job


class EntraTokenRunner(EntraRunner):
    """entra_provisioning_token: validate the candidate token, prove it already saved or save it, validate
    the saved one."""

    def run(self):
        p, module = self.params, self.module
        try:
            self.token, metadata = read_candidate_token(p, module.register_secret)
        except SecretFileError as error:
            module.fail_json(msg=str(error), changed=False)
        self.credential_id = p["credential_id"] or metadata.get("credential_id")
        self.directory_id = p["directory_id"] or metadata.get("directory_id")
        module.fail_on([problem for problem in (
            validate_credential_id(self.credential_id) if self.credential_id else None,
            validate_directory_id(self.directory_id) if self.directory_id else None) if problem])
        self.base_address = module.scim_endpoint(p["scim_endpoint"])
        self.saved_secrets = None
        self.connect()
        result = dict(changed=False, service_principal_id=p["service_principal_id"], scim_endpoint=self.base_address,
                      saved=False, already_saved=False)
        if self.credential_id:
            result["credential_id"] = self.credential_id
        self.guarded(self.save, result)
        if module.diff_mode:
            result["diff"] = token_diff(self.saved_secrets, self.base_address, result.get("settings"),
                                        result["already_saved"])
        self.finish(result)

    def save(self, result):
        p, provisioning, base_address = self.params, self.provisioning, self.base_address
        job = provisioning.resolve_job(p["job_id"])
        job_id = result["job_id"] = job.get("id") or p["job_id"]
        if p["validate"]:
            outcome = provisioning.validate(job_id, base_address=base_address, token=self.token)
            result["candidate_valid"] = outcome["valid"]
            if not outcome["valid"]:
                result["validation"] = dict(code=outcome["code"], message=outcome["message"])
                self.fail("Entra ID could not authenticate to %s with the candidate token, so nothing was saved: %s"
                          % (base_address, outcome["message"]), result)

        self.saved_secrets = provisioning.saved_secrets()
        saved_base = (self.saved_secrets or {}).get("BaseAddress") or None
        sole, reason = proof_with_saved_url(self.credential_proof(), saved_base, base_address)
        if sole:
            result["already_saved"], reason = proven_saved(
                reason, provisioning.validate(job_id, use_saved=True)["valid"])
        result["proof"] = reason
        if result["already_saved"]:
            return
        # Fails (EntraConfigError) before any write when the scope or the notifications are unknown.
        result["settings"] = plan_secrets(self.saved_secrets, p["sync_all"], p["sync_notification_settings"])
        result["changed"] = True
        if self.module.check_mode:
            return
        provisioning.save(base_address, self.token, result["settings"])
        result["saved"] = True
        if p["validate"]:
            after = provisioning.validate(job_id, use_saved=True)
            result["saved_token_valid"] = after["valid"]
            if not after["valid"]:
                result["validation"] = dict(code=after["code"], message=after["message"])
                self.fail("The secrets were saved, but Entra ID cannot authenticate with the saved token: %s"
                          % after["message"], result)

    def credential_proof(self):
        """(sole, reason): sole is True when the token's credential is the directory's only Enabled one."""
        module, directory_id = self.module, self.directory_id
        if not (directory_id and self.credential_id):
            return False, UNKNOWN_CREDENTIAL
        if not module.region_if_known():
            module.warn("No region is set, so the credentials of %s cannot be read to check whether Entra ID "
                        "already holds this token; the token is saved." % directory_id)
            return False, "the directory's region is not known"
        try:
            credentials = CloudSSO(module.client()).list_credentials(directory_id)
        except AlibabaCloudError as error:
            module.warn("Cannot read the credentials of %s to check whether Entra ID already holds this token (%s); "
                        "the token is saved." % (directory_id, error.code or error.message))
            return False, "the directory's credentials could not be read"
        return credential_proof(credentials, directory_id, self.credential_id)
