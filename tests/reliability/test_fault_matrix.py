"""Fault matrix: every remote action the collection calls, under every kind of fault the emulator injects.

Kinds: throttling (the service's Throttling code / HTTP 429), HTTP 500 and 503, latency past the module's
timeout, a connection dropped before the server acted (drop_before_apply), a connection dropped after the
server applied the call (drop_after_apply), and a connection refused (an endpoint on a closed local port).

Each case is one module task in a batch playbook (harness.Batch): the emulator's faults and call counts are
reset before it, its result and the emulator's call log recorded after it. Each asserts the outcome
(retried and succeeded, or failed with a message that names the action and the endpoint), the exact write
calls, and the state of the case's own directory / identity provider afterwards. The rule they all obey:
a call that may have been applied is never repeated unless it is idempotent; a Create is never repeated
once it may have reached the server.

`make test` runs a representative set of kinds per action; RELIABILITY_FULL=1 runs every kind everywhere.
"""

import json
import os

import pytest

from tests.helpers.ansible import REGION
from tests.reliability.harness import (FULL, Batch, Held, Rotation, closed_port, days_ago,
                                      statuses)

from ansible_collections.alicloud.cloudsso.plugins.module_utils.client import RpcClient
from ansible_collections.alicloud.cloudsso.plugins.module_utils.cloudsso import CloudSSO
from ansible_collections.alicloud.cloudsso.plugins.module_utils.credentials import Credential, StaticProvider
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import AlibabaCloudError

ACCOUNT = "1234567890123456"
ROLE_ARN = "acs:ram::%s:role/Rotator" % ACCOUNT

FAULTS = {
    "throttle": dict(kind="error", status=400, code="Throttling.User", count=2, retry_after=200,
                     message="Request was denied due to user flow control."),
    "e500": dict(kind="error", status=500, code="InternalError", count=1, message="The request processing has failed."),
    "e503": dict(kind="error", status=503, code="ServiceUnavailable", count=1,
                 message="The request has failed due to a temporary failure of the server."),
    "latency": dict(kind="latency", seconds=3, count=1),
    "drop_before": dict(kind="drop_before_apply", count=1),
    "drop_after": dict(kind="drop_after_apply", count=1),
}
# Graph and the SCIM endpoint throttle with HTTP 429 and Retry-After (seconds; the rule takes milliseconds).
HTTP_THROTTLE = dict(kind="error", status=429, code="TooManyRequests", count=2, retry_after=1000,
                     message="Too many requests")
TIMEOUT = 2  # the module's timeout in latency cases (each latency fault holds the request 3 s)
ALL_KINDS = ("throttle", "e500", "e503", "latency", "drop_before", "drop_after", "refused")
# The representative set `make test` runs. 500 is handled as 503, drop_before as drop_after, and a timeout
# as a dropped answer by every call that is retried, so those kinds run where they differ (CloudSSO writes,
# the calls that wait on the network) and everywhere with RELIABILITY_FULL=1.
QUICK_KINDS = ("throttle", "e503", "drop_after", "refused")


def kinds(*special):
    return ALL_KINDS if FULL else tuple(k for k in ALL_KINDS if k in QUICK_KINDS or k in special)


def rule(match, kind):
    base = dict(HTTP_THROTTLE) if kind == "throttle" and match.split(":")[0] in ("graph", "entra-login", "scim") \
        else dict(FAULTS[kind])
    base["match"] = match
    return base


def fault_args(kind, args):
    """Module options for a case: a short timeout where the fault is latency."""
    args = dict(args)
    if kind == "latency":
        args["timeout"] = TIMEOUT
    if kind == "refused":
        args["max_retries"] = 2  # keep the backoff of the retried kinds short
    return args


def applied(case, product, action):
    """Calls of an action that the server applied (answered 2xx, or applied and then dropped)."""
    return [e for e in case.calls["log"] if e["product"] == product and e["action"] == action
            and e["status"] is not None and 200 <= e["status"] < 300]


def assert_batch(batch):
    problems = batch.problems()
    assert not problems, "%d of %d cases broke:\n%s" % (len(problems), len(batch.cases), "\n".join(problems))


def private(work, name):
    path = os.path.join(work, name)
    os.makedirs(path, mode=0o700)
    return path


# --- CloudSSO ------------------------------------------------------------------------------------------

def test_cloudsso_faults(cloud, work):
    batch = Batch(cloud.runner, "cloudsso")
    refused = "http://127.0.0.1:%d" % closed_port()
    ok_reads = {"throttle", "e500", "e503", "latency", "drop_before", "drop_after"}

    # Reads: scim_credential_info calls ListSCIMServerCredentials, then GetSCIMSynchronizationStatus.
    for action in ("ListSCIMServerCredentials", "GetSCIMSynchronizationStatus"):
        for kind in kinds("latency") if action.startswith("List") else kinds():
            if kind == "refused" and action != "ListSCIMServerCredentials":
                continue  # one endpoint: refused before the first call
            directory_id, (cred,) = cloud.directory(credentials=[{}])
            args = fault_args(kind, dict(cloud.auth[directory_id], directory_id=directory_id))
            if kind == "refused":
                args["endpoint_url"] = refused
            batch.add("%s/%s" % (action, kind), "scim_credential_info", args,
                      faults=[rule("cloudsso:" + action, kind)] if kind != "refused" else [],
                      expect="ok" if kind in ok_reads else "failed", writes={},
                      msg=(r"Cannot reach the endpoint at %s/ for ListSCIMServerCredentials.*Check endpoint_url"
                           % refused) if kind == "refused" else None,
                      check=_same_credentials(cloud, directory_id, {cred["credential_id"]: "Enabled"}))

    # Create (not idempotent: no client token). Throttling is retried (the service did not act); anything
    # that may have reached the server is never retried: the module lists and compares instead.
    lost = r"CreateSCIMServerCredential was applied but its answer was lost.*now exists and its secret is lost"
    unclear = (r"CreateSCIMServerCredential failed without a clear answer, and the credentials listed afterwards "
               r"show no new one.*not retried automatically")
    for kind in kinds("e500", "drop_before", "latency"):
        if kind == "refused":
            continue  # the CloudSSO endpoint: covered by ListSCIMServerCredentials/refused (every module lists first)
        directory_id, (old,) = cloud.directory(credentials=[{"create_time": days_ago(300)}])
        secret_file = os.path.join(private(work, "create-" + kind), "new.json")
        cloud.runner.allow_secret_file(secret_file)
        creates = {"throttle": 3}.get(kind, 1)
        outcome = {"throttle": "created", "latency": "orphan", "drop_after": "orphan"}.get(kind, "unchanged")
        batch.add("CreateSCIMServerCredential/%s" % kind, "scim_credential",
                  fault_args(kind, dict(cloud.auth[directory_id], directory_id=directory_id, state="enabled",
                                        secret_file=secret_file)),
                  faults=[rule("cloudsso:CreateSCIMServerCredential", kind)],
                  expect="ok" if outcome == "created" else "failed",
                  msg={"orphan": lost, "unchanged": unclear}.get(outcome),
                  writes={"cloudsso:CreateSCIMServerCredential": creates},
                  check=_create_outcome(cloud, directory_id, old["credential_id"], secret_file, outcome))

    # Update and Delete are idempotent in effect (same status again; an absent credential stays absent):
    # retried after every fault that may have been applied, and they converge.
    for action, state, status in (("UpdateSCIMServerCredentialStatus", "disabled", "Enabled"),
                                  ("DeleteSCIMServerCredential", "absent", "Disabled")):
        for kind in kinds("e500", "drop_before", "latency"):
            if kind == "refused":
                continue  # same endpoint as the list before it
            directory_id, (keep, target) = cloud.directory(credentials=[{}, {"status": status}])
            attempts = {"throttle": 3, "e500": 2, "e503": 2, "drop_before": 2, "drop_after": 2, "latency": 2}[kind]
            expected = {keep["credential_id"]: "Enabled"}
            if state == "disabled":
                expected[target["credential_id"]] = "Disabled"
            batch.add("%s/%s" % (action, kind), "scim_credential",
                      fault_args(kind, dict(cloud.auth[directory_id], directory_id=directory_id,
                                            credential_id=target["credential_id"], state=state)),
                      faults=[rule("cloudsso:" + action, kind)], expect="ok",
                      writes={"cloudsso:" + action: attempts},
                      check=_same_credentials(cloud, directory_id, expected))

    batch.run()
    assert_batch(batch)


def _same_credentials(cloud, directory_id, expected):
    def check(case):
        got = cloud.credentials(directory_id)
        return [] if got == expected else ["directory holds %s, expected %s" % (got, expected)]
    return check


def _create_outcome(cloud, directory_id, old_id, secret_file, outcome):
    def check(case):
        creds = cloud.credentials(directory_id)
        new = [cid for cid in creds if cid != old_id]
        problems = []
        if len(applied(case, "cloudsso", "CreateSCIMServerCredential")) > 1:
            problems.append("more than one Create was applied")
        if outcome == "created":
            if len(new) != 1 or not os.path.exists(secret_file):
                problems.append("expected one new credential with its secret file, got %s" % creds)
            elif json.load(open(secret_file))["credential_id"] != new[0]:
                problems.append("the secret file names another credential")
            elif os.stat(secret_file).st_mode & 0o777 != 0o600:
                problems.append("the secret file is not 0600")
        elif outcome == "orphan":
            if len(new) != 1:
                problems.append("expected exactly one orphan, got %s" % creds)
            elif new[0] not in case.message or case.result.get("orphaned_credential_id") != new[0]:
                problems.append("the orphan %s is not named" % new[0])
            if os.path.exists(secret_file):
                problems.append("a secret file was written for a credential whose secret is lost")
        elif creds != {old_id: "Enabled"}:
            problems.append("the directory changed: %s" % creds)
        return problems
    return check


# --- SCIM probe, ActionTrail, STS, ECS metadata --------------------------------------------------------

def test_probe_actiontrail_sts_metadata_faults(cloud, work):
    emu = cloud.emulator
    cloud.control.seed({"roles": [{"arn": ROLE_ARN, "permissions": ["*"]}],
                        "ecs_roles": [{"name": "EcsRole", "account_id": ACCOUNT, "permissions": ["*"]}]})
    directory_id, (cred,) = cloud.directory(credentials=[{}])
    cloud.control.generate_events(count=20, days=0.01, credential_ids=[cred["credential_id"]], noise_ratio=0.0,
                                  directory_id=directory_id)
    batch = Batch(cloud.runner, "auth")
    refused = "http://127.0.0.1:%d" % closed_port()
    ok = {"throttle", "e500", "e503", "latency", "drop_before", "drop_after"}

    for kind in kinds("latency"):
        args = fault_args(kind, {"token_file": cred["secret_file"], "expect": "accepted"})
        if kind == "refused":
            args["scim_endpoint"] = refused + "/scim/v2"
        batch.add("SCIM GET /Users/%s" % kind, "scim_token_check", args,
                  faults=[rule("scim:GET /scim/v2/Users", kind)] if kind != "refused" else [],
                  expect="ok" if kind in ok else "failed", writes={},
                  msg=r"Cannot reach the endpoint at %s/scim/v2/Users for SCIM GET /Users" % refused
                  if kind == "refused" else None,
                  check=_attempts_match("scim", "ListUsers", kind))

    for kind in kinds():
        args = fault_args(kind, {"credential_ids": [cred["credential_id"]], "since": "1h"})
        if kind == "refused":
            args["actiontrail_endpoint_url"] = refused
        batch.add("LookupEvents/%s" % kind, "scim_usage_info", args,
                  faults=[rule("actiontrail:LookupEvents", kind)] if kind != "refused" else [],
                  expect="ok" if kind in ok else "failed", writes={},
                  msg=r"ActionTrail LookupEvents in %s failed after 0 page\(s\): Cannot reach the endpoint at %s/ "
                  % (REGION, refused) if kind == "refused" else None,
                  check=_used(cred["credential_id"]) if kind in ok else None)

    for kind in kinds("latency"):
        args = fault_args(kind, {"directory_id": directory_id, "assume_role": {"role_arn": ROLE_ARN}})
        batch.add("AssumeRole/%s" % kind, "scim_credential_info", args,
                  faults=[rule("sts:AssumeRole", kind)] if kind != "refused" else [],
                  environment={"ALIBABA_CLOUD_STS_ENDPOINT": refused} if kind == "refused" else None,
                  expect="ok" if kind in ok else "failed", writes={},
                  msg=r"No usable Alibaba Cloud credentials: assume_role of %s failed: ConnectionFailed: "
                  r"cannot connect to 127.0.0.1 port %s: .*"
                  r"Connection refused" % (ROLE_ARN, refused.rsplit(":", 1)[1]) if kind == "refused" else None)

    # The ECS metadata service is asked once: a failure there fails the run with the URL and the status
    # (a retry is not built in, see docs/reliability.md). The IMDSv2 token request falls back to IMDSv1.
    metadata_env = {"ALIBABA_CLOUD_ECS_METADATA_ENDPOINT": emu.url}
    role_path = "/latest/meta-data/ram/security-credentials/"
    for kind in kinds():
        if kind == "throttle":
            continue  # the metadata service has no throttling answer
        args = fault_args(kind, {"directory_id": directory_id, "ecs_role_name": "EcsRole"})
        env = dict(metadata_env)
        if kind == "refused":
            env["ALIBABA_CLOUD_ECS_METADATA_ENDPOINT"] = refused
        batch.add("ECS metadata credentials/%s" % kind, "scim_credential_info", args,
                  faults=[rule("metadata:" + role_path, kind)] if kind != "refused" else [],
                  environment=env, expect="failed", writes={},
                  msg=r"No usable Alibaba Cloud credentials: ECS RAM role EcsRole \(GET %s%sEcsRole\) "
                      r"(answered HTTP|failed)"
                  % (refused if kind == "refused" else emu.url, role_path))
    for kind in ("e503", "drop_after"):
        args = {"directory_id": directory_id, "ecs_role_name": "EcsRole"}
        batch.add("ECS metadata token/%s" % kind, "scim_credential_info", args,
                  faults=[rule("metadata:/latest/api/token", kind)], environment=metadata_env, expect="ok",
                  writes={})
    batch.run()
    assert_batch(batch)


def _attempts_match(product, action, kind):
    """A retried call shows every attempt in the emulator's log; the last one answered."""
    def check(case):
        got = statuses(case, product, action)
        want = {"throttle": 3, "latency": 2, "e500": 2, "e503": 2, "drop_before": 2, "drop_after": 2}.get(kind)
        if want and len(got) != want:
            return ["%d %s calls (%s), expected %d" % (len(got), action, got, want)]
        return []
    return check


def _used(credential_id):
    def check(case):
        use = (case.result.get("usage") or {}).get(credential_id) or {}
        return [] if use.get("used") else ["the credential's use was not found after the retry"]
    return check


# --- Microsoft Graph and IDaaS -------------------------------------------------------------------------

def test_identity_provider_faults(cloud, work):
    control = cloud.control
    refused = "http://127.0.0.1:%d" % closed_port()
    ok = {"throttle", "e500", "e503", "latency", "drop_before", "drop_after"}

    # Entra ID: a directory with two Enabled credentials; the provisioning job holds the old one. Saving
    # the other one is a real change each time (it is never the directory's only Enabled credential).
    entra_dir, (old, new) = cloud.directory(credentials=[{}, {}])
    entra = control.call("POST", "idps", {"kind": "entra", "directory_id": entra_dir,
                                          "credential_id": old["credential_id"], "interval": 0})
    cloud.runner.extra_secrets.append(entra["client_secret"])
    graph = {"service_principal_id": entra["service_principal_id"]}
    paused = {"method": "POST", "name": "graph/jobs/%s/%s" % (entra["service_principal_id"], entra["job_id"]),
              "body": {"code": "Paused"}}
    batch = Batch(cloud.runner, "idps")

    def graph_case(name, match, module, args, writes, before=(), special=()):
        for kind in kinds(*special):
            if kind == "refused" and not match.startswith("entra-login"):
                continue  # the login endpoint refuses first (Graph's URL is also the token's scope)
            case_args = fault_args(kind, dict(graph, **args))
            if kind == "refused":
                case_args["login_endpoint"] = refused
            batch.add("%s/%s" % (name, kind), module, case_args, before=list(before),
                      faults=[rule(match, kind)] if kind != "refused" else [],
                      expect="ok" if kind in ok else "failed",
                      msg=r"Entra ID token request could not reach Microsoft Graph or the login endpoint at "
                          r"%s/[-0-9a-f]+/oauth2/v2.0/token \(ConnectionFailed\)"
                          r".*Check login_endpoint \(it chose this endpoint\)"
                      % refused if kind == "refused" else None,
                      writes=writes(kind) if kind in ok else {})

    retried = {"throttle": 3, "latency": 2, "e500": 2, "e503": 2, "drop_before": 2, "drop_after": 2}
    graph_case("Entra token", "entra-login:token", "entra_provisioning_info", {}, lambda kind: {})
    graph_case("Graph list jobs", "graph:listJobs", "entra_provisioning_info", {}, lambda kind: {})
    # Graph down for good (every connection reset): the retries end with a message naming Graph's URL.
    down = dict(FAULTS["drop_before"], match="graph:listJobs", count=None)
    batch.add("Graph list jobs/down", "entra_provisioning_info", dict(graph, max_retries=1), faults=[down],
              expect="failed", writes={},
              msg=r"list synchronization jobs could not reach Microsoft Graph or the login endpoint at %s/v1.0/\S+ "
                  r"\(ConnectionFailed\).*Check ALIBABA_CLOUD_CLOUDSSO_GRAPH_ENDPOINT \(it chose this endpoint\)" % cloud.emulator.url)
    graph_case("Graph validateCredentials", "graph:validateCredentials", "entra_provisioning_info",
               {"validate_saved": True}, lambda kind: {})
    graph_case("Graph PUT secrets", "graph:putSecrets", "entra_provisioning_token",
               {"token_file": new["secret_file"], "directory_id": entra_dir},
               lambda kind: {"graph:putSecrets": retried[kind]}, special=("latency",))
    graph_case("Graph start", "graph:start", "entra_provisioning_job", {"state": "started"},
               lambda kind: {"graph:start": retried[kind]}, before=[paused])

    # IDaaS: read-merge-write of the whole provisioning configuration. Each case sets the other token of
    # two, so each one is a real write.
    idaas_dir, tokens = cloud.directory(credentials=[{}, {}])
    idaas = control.call("POST", "idps", {"kind": "idaas", "directory_id": idaas_dir,
                                          "credential_id": tokens[1]["credential_id"], "interval": 0})
    ids = dict(cloud.auth[idaas_dir], instance_id=idaas["instance_id"], application_id=idaas["application_id"])
    last = [None]
    for action, writes, special in (("GetApplicationProvisioningConfig", lambda kind: 1, ()),
                                    ("SetApplicationProvisioningConfig", lambda kind: retried[kind], ("latency",))):
        for kind in kinds(*special):
            if kind == "refused" and action != "GetApplicationProvisioningConfig":
                continue
            token = [t for t in tokens if t["credential_id"] != last[0]][0]
            args = fault_args(kind, dict(ids, token_file=token["secret_file"]))
            if kind == "refused":
                args["endpoint_url"] = refused
            else:
                last[0] = token["credential_id"]
            batch.add("IDaaS %s/%s" % (action, kind), "idaas_provisioning_token", args,
                      faults=[rule("eiam:" + action, kind)] if kind != "refused" else [],
                      expect="ok" if kind in ok else "failed",
                      msg=r"Cannot reach the endpoint at %s/ for GetApplicationProvisioningConfig" % refused
                      if kind == "refused" else None,
                      writes={"eiam:SetApplicationProvisioningConfig": writes(kind)} if kind in ok else {})

    batch.run(env=dict(AZURE_TENANT_ID=entra["tenant_id"], AZURE_CLIENT_ID=entra["client_id"],
                       AZURE_CLIENT_SECRET=entra["client_secret"]))
    assert_batch(batch)
    # Afterwards each identity provider holds a token of an Enabled credential: the last one set.
    sp = [s for s in control.call("GET", "graph")["service_principals"] if s["id"] == entra["service_principal_id"]][0]
    assert (sp["credential_id"], sp["token_state"]) == (new["credential_id"], "Enabled")
    view = control.call("GET", "idps/" + idaas["idp_id"])
    assert (view["credential_id"], view["token_state"]) == (last[0], "Enabled")


# --- faults during a rotation: the rescue --------------------------------------------------------------

def _rotation_checks(world, directory_id, step):
    """What every failed rotation must leave: the play failed at `step`, the old credential Enabled and
    held by the IdP, nothing else in the directory, the report says so."""
    report = world.report(directory_id)
    old = world.old[directory_id]["credential_id"]
    problems = world.invariant_problems(directory_id, converged=False)
    if (report["outcome"], report["failed_step"]) != ("failed", step):
        problems.append("report: %s at %s" % (report["outcome"], report["failed_step"]))
    if world.cloud.credentials(directory_id) != {old: "Enabled"}:
        problems.append("directory holds %s" % world.cloud.credentials(directory_id))
    if world.idp_view(directory_id)["credential_id"] != old:
        problems.append("the IdP does not hold the old credential")
    if os.path.exists(world.pending_file(directory_id)):
        problems.append("the pending secret file of a deleted credential is left")
    return problems, report


def test_rotation_fault_at_configure_rescues(cloud):
    """IDaaS keeps answering 503 to SetApplicationProvisioningConfig: the rescue deletes the new credential
    (no IdP ever held it); the old one and the IdP are untouched."""
    world = Rotation(cloud, 1, idp="idaas", play_vars={"scim_rotation_auth": {"max_retries": 1}})
    directory_id = world.directories[0]
    cloud.control.reset_calls()
    cloud.control.add_fault(dict(FAULTS["e503"], match="eiam:SetApplicationProvisioningConfig", count=None))
    run = world.run(expect_rc=2)
    problems, report = _rotation_checks(world, directory_id, "configure_idp")
    assert not problems, problems
    assert report["rescue"]["new_deleted"] and not report["rescue"]["idp_had_new_token"]
    calls = cloud.control.calls()["counts"]
    assert calls["cloudsso:CreateSCIMServerCredential"] == 1 and calls["cloudsso:DeleteSCIMServerCredential"] == 1
    assert calls["eiam:SetApplicationProvisioningConfig"] == 2  # max_retries 1: two attempts, then the rescue
    assert "SetApplicationProvisioningConfig failed on the server side (ServiceUnavailable, HTTP 503)" in run.stdout


def test_rotation_fault_at_disable_rescues(cloud):
    """UpdateSCIMServerCredentialStatus fails while disabling the old credential, after the IdP got the new
    token: the rescue puts the old token back in the IdP (custom restore tasks), then deletes the new one."""
    world = Rotation(cloud, 1, idp="custom", play_vars={"scim_rotation_auth": {"max_retries": 1}})
    directory_id = world.directories[0]
    cloud.control.add_fault(dict(FAULTS["e503"], match="cloudsso:UpdateSCIMServerCredentialStatus", count=2))
    world.run(expect_rc=2)
    problems, report = _rotation_checks(world, directory_id, "disable_old")
    assert not problems, problems
    rescue = report["rescue"]
    assert rescue["idp_had_new_token"] and rescue["idp_restored_to_old"] and rescue["new_deleted"], rescue
    assert world.sync(directory_id)["cycle"]["ok"]  # the IdP synchronizes with the old token again
    if FULL:
        world.run()
        assert not world.invariant_problems(directory_id)


# The create whose answer is lost, at rotation level, is tests/integration/test_rotation_resume.py's
# test_lost_create_answer_leaves_no_credential_without_secret.


def test_rotation_fault_after_the_old_credential_is_deleted(cloud):
    """A read fails for good after the old credential is gone: the new one must survive, and the IdP keep it."""
    world = Rotation(cloud, 1, idp="custom", play_vars={"scim_rotation_auth": {"max_retries": 1}})
    directory_id = world.directories[0]
    with Held(world, "Read the directory's credentials after the run", expect_rc=2):
        if world.old[directory_id]["credential_id"] in cloud.credentials(directory_id):
            pytest.fail("the old credential was not deleted before the finish step")
        cloud.control.add_fault(dict(FAULTS["e503"], match="cloudsso:ListSCIMServerCredentials", count=None))
    cloud.control.clear_faults()
    creds = cloud.credentials(directory_id)
    view = world.idp_view(directory_id)
    assert list(creds.values()) == ["Enabled"] and view["credential_id"] in creds, (creds, view["token_state"])


def test_delete_whose_answer_was_lost_is_a_success(cloud):
    """module_utils: DeleteSCIMServerCredential applied, its answer lost, retried: the retry's
    EntityNotExists.SCIMCredential means the first attempt worked. A first attempt that finds nothing still
    fails (the credential was never there, or someone else deleted it)."""
    directory_id, (cred,) = cloud.directory(credentials=[{"status": "Disabled"}])
    client = RpcClient("cloudsso", REGION, credentials=StaticProvider(Credential(cloud.access_key["id"],
                                                                                 cloud.access_key["secret"])),
                       endpoint_url=cloud.emulator.url + "/region/" + REGION, sleep=lambda seconds: None)
    cloud.control.add_fault(dict(FAULTS["drop_after"], match="cloudsso:DeleteSCIMServerCredential"))
    cloud.control.reset_calls()
    CloudSSO(client).delete_credential(directory_id, cred["credential_id"])
    log = [(e["status"], e["error_code"]) for e in cloud.control.calls()["log"]]
    assert log == [(200, None), (404, "EntityNotExists.SCIMCredential")]
    assert cloud.credentials(directory_id) == {}
    with pytest.raises(AlibabaCloudError) as raised:
        CloudSSO(client).delete_credential(directory_id, cred["credential_id"])
    assert raised.value.code == "EntityNotExists.SCIMCredential" and raised.value.attempts == 1
