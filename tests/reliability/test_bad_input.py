"""Bad input matrix: every option of every module and every variable of the rotation role, with malformed,
missing, conflicting and out-of-range values. Each must fail before any write call, with a message that
names the option (or the problem), and change nothing.

The cases come from the modules' argument specs (captured by calling each module's main() with its
module base, AlibabaCloudModule or CollectionModule, replaced) and from the role's
meta/argument_specs.yml: every typed option gets a value of the wrong type, every option with choices a
value outside them, every required option is left out, every mutually exclusive pair is given together,
every required-one-of set is left empty. Options whose values
the collection checks itself (IDs, ranges, files, regions, endpoints, windows, credentials) have the
hand-written cases of SEMANTIC with the message expected. test_every_option_has_a_case fails when an option
has neither, so a new option cannot be forgotten.

Module cases run as batches, one ansible-playbook each (harness.Batch: the emulator's call log after each
case must hold no write); each module's valid options run first (in check mode) to prove the failures come
from the bad value. Role cases run as one play with an inventory host per case. Also here: an expired STS
token, a directory of another region, secret files that are directories, dangling symbolic links or not
writable (the module then runs as user nobody through setpriv: root can write anywhere), and clock skew
(through module_utils in Python: ansible-playbook cannot run with a moved clock without faketime, which
this machine lacks).
"""

import importlib
import json
import os
import re
import shutil
import sys
import tempfile
from datetime import datetime, timedelta, timezone

import pytest
import yaml

from tests.helpers.ansible import REGION, ROOT
from tests.reliability.harness import (FULL, Batch, Rotation, closed_port, probe_env,
                                      read_probe, write_calls)

from ansible_collections.alicloud.cloudsso.plugins.module_utils import module as module_base
from ansible_collections.alicloud.cloudsso.plugins.module_utils import signing
from ansible_collections.alicloud.cloudsso.plugins.module_utils.client import RpcClient
from ansible_collections.alicloud.cloudsso.plugins.module_utils.cloudsso import CloudSSO
from ansible_collections.alicloud.cloudsso.plugins.module_utils.credentials import Credential, StaticProvider
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import AlibabaCloudError, explain
from ansible_collections.alicloud.cloudsso.plugins.module_utils.entra.module import entra_argument_spec

MODULES = sorted(name[:-3] for name in os.listdir(os.path.join(ROOT, "plugins", "modules"))
                 if name.endswith(".py") and not name.startswith("_"))
IDP_MODULES = [m for m in MODULES if m.startswith(("entra_", "idaas_"))]
ACCOUNT = "1234567890123456"
ROLE_ARN = "acs:ram::%s:role/Rotator" % ACCOUNT
ROLE_SPECS = os.path.join(ROOT, "roles", "scim_rotation", "meta", "argument_specs.yml")
WRONG_SECRET = "{{ lookup('env', 'REL_WRONG_SECRET') }}"   # secrets come from the environment, as in AWX
WRONG_TOKEN = "{{ lookup('env', 'REL_WRONG_TOKEN') }}"


# --- the specs -----------------------------------------------------------------------------------------

class _Captured(Exception):
    pass


def module_spec(name):
    """(argument spec with the shared auth options, the other AnsibleModule keyword arguments)."""
    mod = importlib.import_module("ansible_collections.alicloud.cloudsso.plugins.modules." + name)

    class Capture(object):
        def __init__(self, argument_spec=None, **kwargs):
            spec = module_base.auth_argument_spec()
            spec.update(argument_spec or {})
            kwargs.pop("product", None)
            raise _Captured(spec, kwargs)

    originals = dict((base, getattr(mod, base)) for base in ("AlibabaCloudModule", "CollectionModule")
                     if hasattr(mod, base))
    for base in originals:
        setattr(mod, base, Capture)
    try:
        mod.main()
    except _Captured as captured:
        return captured.args
    finally:
        for base, original in originals.items():
            setattr(mod, base, original)
    raise AssertionError("%s.main() builds no AlibabaCloudModule or CollectionModule" % name)


SPECS = dict((name, module_spec(name)) for name in MODULES)


def option_paths(spec, prefix=""):
    """(path, option spec) of every option and sub-option (sub-options as parent.child)."""
    for name, option in sorted(spec.items()):
        yield prefix + name, option
        for item in option_paths(option.get("options") or {}, prefix + name + "."):
            yield item


def role_options():
    with open(ROLE_SPECS) as handle:
        return yaml.safe_load(handle)["argument_specs"]["main"]["options"]


# --- generated cases -----------------------------------------------------------------------------------

WRONG_TYPE = {"int": "abc", "float": "abc", "bool": "maybe", "list": {"not": "a list"}, "dict": "not-a-dict"}
SUBOPTION_BASE = {"assume_role": {"role_arn": ROLE_ARN}, "provision_on_demand": {"object_id": "x"},
                  "settings": [{"name": "the_app", "kind": "guid"}]}
CONFLICT_VALUES = {"credential_id": "scimcred-00000000000000000000", "secret_file": "/nonexistent/unused.json",
                   "token": WRONG_TOKEN, "token_file": "/nonexistent/unused-token"}


def set_path(args, path, value):
    """A copy of `args` with `path` (parent.child for a sub-option) set to `value`; None removes it."""
    args = json.loads(json.dumps(args))
    parts = path.split(".")
    target = args
    for part in parts[:-1]:
        target = target.setdefault(part, json.loads(json.dumps(SUBOPTION_BASE.get(part, {}))))
        if isinstance(target, list):  # a list of dicts: its first element
            target = target[0]
    if value is None:
        target.pop(parts[-1], None)
    else:
        target[parts[-1]] = value
    return args


def generated(spec, kwargs, base, options):
    """(case id, args, regex) for the options in `options`, from the spec alone."""
    cases = []
    for path, option in option_paths(spec):
        if path not in options:
            continue
        name = path.split(".")[-1]
        if not FULL and not option.get("required"):
            continue  # wrong types and choices are ansible-core's checks: RELIABILITY_FULL=1 runs them
        if option.get("type") == "dict":
            # ansible-core's message for a value that is not a dict does not name the option.
            cases.append(("%s wrong type" % path, set_path(base, path, WRONG_TYPE["dict"]),
                          r"dictionary requested, could not parse JSON or key=value"))
        elif option.get("type") in WRONG_TYPE:
            cases.append(("%s wrong type" % path, set_path(base, path, WRONG_TYPE[option["type"]]),
                          r"argument '%s' is of type" % re.escape(name)))
        if option.get("choices"):
            cases.append(("%s outside choices" % path, set_path(base, path, "bogus"),
                          r"value of %s must be one of" % re.escape(name)))
        if option.get("required"):
            cases.append(("%s missing" % path, set_path(base, path, None),
                          r"missing required arguments: %s" % re.escape(name)))
    for pair in kwargs.get("mutually_exclusive") or ():
        args = dict(base)
        for name in pair:
            args.setdefault(name, CONFLICT_VALUES[name])
        cases.append(("%s together" % "+".join(pair), args,
                      r"parameters are mutually exclusive: %s" % re.escape("|".join(pair))))
    for group in kwargs.get("required_one_of") or ():
        if any(spec[name].get("default") is not None for name in group):
            continue  # a member with a default always counts as given: the check cannot fire
        args = dict((k, v) for k, v in base.items() if k not in group)
        cases.append(("none of %s" % "/".join(group), args,
                      r"one of the following is required: %s" % re.escape(", ".join(group))))
    return cases


# --- hand-written cases --------------------------------------------------------------------------------

def _env_for_metadata(w):
    return {"ALIBABA_CLOUD_ECS_METADATA_ENDPOINT": w.cloud.emulator.url}


# option (or "module:option") -> [(case id, overrides (a dict, or a function of the World), regex the message
# must match[, task environment (endpoints only)])]. None as a value removes the option.
SEMANTIC = {
    "directory_id": [
        ("malformed", {"directory_id": "d-123"}, r"directory_id 'd-123' is not a CloudSSO directory ID"),
        ("of another region", {"region": "ap-southeast-1"},
         r"EntityNotExists.Directory: no such directory in this region.*Check directory_id and region")],
    "credential_id": [("malformed", {"credential_id": "abc"}, r"credential_id 'abc' is not a SCIM credential ID")],
    "credential_ids": [("malformed", {"credential_ids": ["scimcred-x"]},
                        r"credential_ids 'scimcred-x' is not a SCIM credential ID")],
    "region": [("malformed", {"region": "Shanghai!"}, r"region 'Shanghai!' is not a valid Alibaba Cloud region ID")],
    "timeout": [("0", {"timeout": 0}, r"timeout must be a positive number of seconds")],
    "max_retries": [("-1", {"max_retries": -1}, r"max_retries must be 0 or more")],
    "access_key_id": [
        ("without secret", {"access_key_id": "TESTONLYTHEID"},
         r"access_key_id and access_key_secret must be given together"),
        ("unknown", {"access_key_id": "TESTNOSUCHKEY0000", "access_key_secret": WRONG_SECRET},
         r"InvalidAccessKeyId.NotFound: the access key ID is unknown.*Check access_key_id")],
    "access_key_secret": [
        ("wrong", lambda w: {"access_key_id": w.cloud.access_key["id"], "access_key_secret": WRONG_SECRET},
         r"SignatureDoesNotMatch.*Check access_key_secret")],
    "security_token": [
        ("without key", {"security_token": WRONG_TOKEN}, r"security_token needs access_key_id and access_key_secret"),
        ("expired", lambda w: {"access_key_id": w.sts["AccessKeyId"],
                               "access_key_secret": "{{ lookup('env', 'REL_STS_SECRET') }}",
                               "security_token": "{{ lookup('env', 'REL_STS_TOKEN') }}"},
         r"InvalidSecurityToken.Expired: the STS security token is missing, expired")],
    "profile": [("unknown", lambda w: {"profile": "nosuch", "shared_credentials_file": w.cli_config},
                 r"profile 'nosuch' .*is not in the aliyun CLI configuration file")],
    "shared_credentials_file": [
        ("missing", lambda w: {"shared_credentials_file": os.path.join(w.folder, "none.json")},
         r"aliyun CLI configuration file \S*none.json does not exist"),
        ("not JSON", lambda w: {"shared_credentials_file": w.garbage}, r"is not valid JSON")],
    "ecs_role_name": [("unknown", {"ecs_role_name": "NoSuchRole"},
                       r"ECS RAM role NoSuchRole \(GET \S+\) answered HTTP 404", _env_for_metadata)],
    "endpoint_url": [
        ("unusable", {"endpoint_url": "ftp://127.0.0.1:1"}, r"The endpoint URL for \w+ is not usable"),
        ("refused", lambda w: {"endpoint_url": w.refused, "max_retries": 0}, r"Cannot reach the endpoint at http")],
    "use_vpc_endpoint": [],
    "validate_certs": [],
    "assume_role.role_arn": [("malformed", {"assume_role": {"role_arn": "not-an-arn"}},
                              r"assume_role of not-an-arn failed")],
    "assume_role.duration_seconds": [("100", {"assume_role": {"role_arn": ROLE_ARN, "duration_seconds": 100}},
                                      r"assume_role.duration_seconds must be between 900 and 43200")],
    "assume_role.external_id": [
        ("wrong", {"assume_role": {"role_arn": ROLE_ARN, "external_id": "wrong-id"}},
         r"assume_role of %s failed: NoPermission" % re.escape(ROLE_ARN))],
    "assume_role.policy": [("not JSON", {"assume_role": {"role_arn": ROLE_ARN, "external_id": "rel-external-1",
                                                         "policy": "not json"}},
                            r"InvalidParameter.PolicyGrammar")],
    "assume_role.session_name": [("malformed", {"assume_role": {"role_arn": ROLE_ARN, "external_id": "rel-external-1",
                                                                "session_name": "a b!"}},
                                  r"InvalidParameter.RoleSessionName")],
    "secret_file": [
        ("a directory", lambda w: {"secret_file": w.directory, "state": "enabled"}, r"secret file \S+ is a directory"),
        ("a dangling symlink", lambda w: {"secret_file": w.dangling, "state": "enabled"},
         r"secret file \S+ is a symbolic link"),
        ("in no folder", lambda w: {"secret_file": os.path.join(w.folder, "none", "x.json"), "state": "enabled"},
         r"the folder of secret file \S+ does not exist"),
        ("not JSON", lambda w: {"secret_file": w.garbage}, r"is not the JSON this collection writes"),
        ("of another directory", lambda w: {"secret_file": w.foreign}, r"belongs to directory d-000000000000")],
    "return_secret": [("without no_log", {"return_secret": True, "state": "enabled"},
                       r"return_secret=true puts the secret in the task result: set no_log: true")],
    "force": [("a third credential", lambda w: dict(w.full_auth, directory_id=w.full_directory, state="enabled",
                                                    force=True, secret_file=os.path.join(w.folder, "third.json")),
               r"already has 2 SCIM credentials, the limit")],
    "scim_credential:state": [("disabled without selector", {"state": "disabled"},
                               r"state=disabled needs credential_id or secret_file")],
    "entra_provisioning_token:directory_id": [
        ("malformed", {"directory_id": "d-123"}, r"directory_id 'd-123' is not a CloudSSO directory ID"),
        ("of another region", {"region": "ap-southeast-1"},
         r"Entra ID could not authenticate to \S+/region/ap-southeast-1/scim/v2 with the candidate token, so nothing "
         r"was saved")],
    "token_file": [
        ("missing", lambda w: {"token_file": os.path.join(w.folder, "none")}, r"cannot read token file"),
        ("empty", lambda w: {"token_file": w.empty}, r"token file \S+ is empty"),
        ("JSON without a secret", lambda w: {"token_file": w.no_secret}, r"is JSON without credential_secret")],
    "token": [("rejected", {"token": WRONG_TOKEN, "token_file": None, "expect": "accepted"},
               r"the token was rejected by \S+ \(HTTP 401: The bearer token is not valid.\), but it must work")],
    "expect": [("a working token must be rejected", {"expect": "rejected"},
                r"still works at \S+ \(HTTP 200\), but it must be rejected")],
    "scim_endpoint": [("not a URL", {"scim_endpoint": "not a url"}, r"scim_endpoint 'https://not a url' is not an "
                                                                    r"http\(s\) URL")],
    "scim_token_check:scim_endpoint": [
        ("not a URL", {"scim_endpoint": "not a url"}, r"scim_endpoint 'https://not a url' is not an http\(s\) URL"),
        ("not SCIM", lambda w: {"scim_endpoint": w.cloud.emulator.url + "/nowhere"},
         r"answered HTTP 404, which says nothing about the token; check scim_endpoint")],
    "since": [("not a time", {"since": "yesterday"}, r"since 'yesterday' is not a time"),
              ("past 90 days", {"since": "100d"}, r"is more than 90 days ago"),
              ("in the future", {"since": "2999-01-01T00:00:00Z"}, r"since 2999-01-01T00:00:00Z is in the future")],
    "until": [("before since", {"since": "1h", "until": "2h"}, r"since \(\S+\) must be earlier than until")],
    "event_names": [("empty", {"event_names": [""]}, r"event_names must list at least one")],
    "actiontrail_region": [("malformed", {"actiontrail_region": "Bad!"},
                            r"actiontrail_region 'Bad!' is not a valid Alibaba Cloud region ID")],
    "actiontrail_endpoint_url": [("unusable", lambda w: dict(w.full_auth, actiontrail_endpoint_url="ftp://127.0.0.1:1",
                                                             directory_id=w.full_directory),
                                  r"The endpoint URL for LookupEvents is not usable")],
    # An auth option since every module of the group accepts it; these two do not read ActionTrail.
    "scim_credential:actiontrail_endpoint_url": [],
    "scim_credential_info:actiontrail_endpoint_url": [],
    "idaas_provisioning_token:actiontrail_endpoint_url": [],
    "base_url": [("plain http off loopback", {"base_url": "http://all.emulator.invalid"},
                  r"refusing plain http to all\.emulator\.invalid .*set by base_url",
                  lambda w: dict.fromkeys(("ALIBABA_CLOUD_CLOUDSSO_ENDPOINT", "ALIBABA_CLOUD_IDAAS_ENDPOINT",
                                           "ALIBABA_CLOUD_CLOUDSSO_SCIM_ENDPOINT"), ""))],
    "sts_endpoint_url": [("plain http off loopback", {"sts_endpoint_url": "http://sts.emulator.invalid",
                                                      "assume_role": {"role_arn": ROLE_ARN}},
                          r"refusing plain http to sts\.emulator\.invalid .*set by sts_endpoint_url")],
    "max_calls_per_second": [
        ("3", {"max_calls_per_second": 3}, r"max_calls_per_second must be more than 0 and at most 2"),
        ("0", {"max_calls_per_second": 0}, r"max_calls_per_second must be more than 0 and at most 2")],
    "max_pages": [("0", {"max_pages": 0}, r"max_pages must be 1 or more")],
    "min_age_days": [("-1", {"min_age_days": -1}, r"min_age_days must be 0 or more")],
    "expiring_within_days": [("-1", {"expiring_within_days": -1}, r"expiring_within_days must be 0 or more")],
    "orphan_grace_minutes": [("-1", {"orphan_grace_minutes": -1}, r"orphan_grace_minutes must be 0 or more")],
    "usage_window": [("not a window", {"usage_window": "banana"}, r"usage_window: since 'banana' is not a time")],
    "settings.value": [("not a GUID", {"settings": [{"name": "the_app", "value": "nope", "kind": "guid"}]},
                        r"the_app 'nope' is not a GUID")],
    "pending_secret_file": [
        ("a directory", lambda w: {"pending_secret_file": w.directory}, r"secret file \S+ is a directory"),
        ("not JSON", lambda w: {"pending_secret_file": w.garbage}, r"is not the JSON this collection writes")],
    "path": [("in no folder", lambda w: {"path": os.path.join(w.folder, "none", "x.lock"), "state": "acquired"},
              r"cannot use lock file \S+x.lock")],
    "write.src": [("missing", lambda w: {"write": [{"path": os.path.join(w.folder, "kept.json"), "variable": "kept",
                                                    "src": os.path.join(w.folder, "none.json")}]},
                   r"kept \S+kept.json: cannot read \S+none.json: No such file")],
    "stale_after_minutes": [("0", {"stale_after_minutes": 0, "state": "acquired"},
                             r"stale_after_minutes must be 1 or more")],
    "tenant_id": [("malformed", {"tenant_id": "not a tenant"},
                   r"tenant_id 'not a tenant' is neither a GUID nor a domain")],
    "client_id": [("malformed", {"client_id": "abc"}, r"client_id 'abc' is not a GUID")],
    "client_secret": [
        ("with another credential", lambda w: {"client_secret": WRONG_SECRET, "client_assertion_file": w.garbage},
         r"give only one Entra client credential"),
        ("wrong", {"client_secret": WRONG_SECRET},
         r"Entra ID rejected the client credential \(invalid_client, AADSTS7000215\).*Check client_secret")],
    "client_assertion": [("not a JWT", {"client_assertion": WRONG_TOKEN}, r"Entra ID rejected the client assertion")],
    "client_assertion_file": [("missing", lambda w: {"client_assertion_file": os.path.join(w.folder, "none.jwt")},
                               r"none.jwt")],
    "client_certificate_path": [
        ("missing", lambda w: {"client_certificate_path": os.path.join(w.folder, "none.pem")}, r"none.pem"),
        ("without cryptography", lambda w: {"client_certificate_path": os.path.join(w.folder, "none.pem")},
         r"certificate authentication needs the Python library cryptography; install it or give a prebuilt "
         r"client_assertion")],
    "service_principal_id": [
        ("malformed", {"service_principal_id": "nope"}, r"service_principal_id 'nope' is not a GUID"),
        ("unknown", {"service_principal_id": "00000000-0000-4000-8000-000000000000"},
         r"Microsoft Graph found no such object.*Check service_principal_id")],
    "job_id": [("malformed", {"job_id": "../x"}, r"job_id '../x' is not a synchronization job ID"),
               ("unknown", {"job_id": "customappsso.nosuchjob"}, r"found no such object.*job_id")],
    "graph_endpoint": [("unusable", {"graph_endpoint": "ftp://127.0.0.1:1"}, r"ftp://127.0.0.1:1")],
    "login_endpoint": [("refused", lambda w: {"login_endpoint": w.refused, "max_retries": 0},
                        r"could not reach Microsoft Graph or the login endpoint at http")],
    "wait_timeout": [("0", {"wait_timeout": 0, "wait": True}, r"wait_timeout and poll_interval must be positive")],
    "poll_interval": [("0", {"poll_interval": 0, "wait": True}, r"wait_timeout and poll_interval must be positive")],
    # Only Graph knows its users: the call is made, and refused.
    "provision_on_demand.object_id": [("unknown user", {"provision_on_demand": {"object_id": "nope"}, "state": None},
                                       r"nope")],
    "instance_id": [("malformed", {"instance_id": "x"}, r"instance_id 'x' is not an IDaaS EIAM instance ID")],
    "application_id": [("malformed", {"application_id": "y"}, r"application_id 'y' is not an IDaaS application ID")],
    "directory_region": [("malformed", {"directory_region": "Bad!"},
                          r"directory_region 'Bad!' is not a valid Alibaba Cloud region ID")],
}
# Options that have no bad value the collection could see before the service does, or whose bad values
# are tested elsewhere: the reason is the record.
FREE = {
    "settings.hint": "any text, said after the problem of its setting",
    "write.content": "any text is written as it is",
    "owner": "any text names the run holding a lock",
    "ignore_user_agents": "any text; it only filters events",
    "provision_on_demand.rule_id": "Graph checks it (tests/integration/test_idp_entra.py)",
    "client_certificate_password": "a wrong password fails loading the key (tests/integration/test_idp_entra.py)",
    "client_certificate_key_path": "read with client_certificate_path (tests/integration/test_idp_entra.py)",
}
# Shared options are checked by one function for every module that has them (auth_argument_spec and
# auth_option_problems; entra_argument_spec and invalid_entra_options): `make test` runs them on one module
# each, RELIABILITY_FULL=1 on every module.
SHARED = {"scim_credential": set(module_base.auth_argument_spec()),
          "entra_provisioning_info": set(entra_argument_spec())}
# Calls the service refuses (nothing changes) that only it can refuse.
REFUSED_CALLS = {("entra_provisioning_job", "provision_on_demand.object_id"): {"graph:provisionOnDemand": 1}}


# The modules that use the Alibaba Cloud options to call Alibaba Cloud; the others accept them (for
# module_defaults of the action group) and check only what the module base checks for every module.
CALLS_ALIBABA = ("scim_credential", "scim_credential_info", "scim_usage_info", "scim_rotation_plan",
                 "idaas_provisioning_token")
CHECKED_FOR_EVERY_MODULE = {("timeout", "0"), ("max_retries", "-1"), ("access_key_id", "without secret"),
                            ("security_token", "without key"), ("assume_role.duration_seconds", "100")}


# Modules run with a standard-library-only Python (tests/conftest.py), as on a managed node. Certificate sign-in
# needs cryptography there: a case about the certificate itself runs with the test venv's Python, which has it.
CASE_KEYWORDS = {("client_certificate_path", "missing"): {"vars": {"ansible_python_interpreter": sys.executable}}}


def semantic_cases(world, module, path):
    """The applicable hand-written cases of one option of one module."""
    spec = SPECS[module][0]
    auth = set(module_base.auth_argument_spec())
    cases = []
    for entry in SEMANTIC.get("%s:%s" % (module, path), SEMANTIC.get(path, ())):
        case_id, overrides, regex = entry[:3]
        env = entry[3] if len(entry) > 3 else None
        if path.split(".")[0] in auth and module not in CALLS_ALIBABA and (path, case_id) not in \
                CHECKED_FOR_EVERY_MODULE:
            continue
        if callable(overrides):
            overrides = overrides(world)
        if not all(k.split(".")[0] in spec for k, v in overrides.items() if v is not None):
            continue
        if path == "scim_endpoint" and module not in ("scim_token_check", "entra_provisioning_token",
                                                      "idaas_provisioning_token"):
            continue  # elsewhere it is only returned
        cases.append((case_id, overrides, regex, env(world) if callable(env) else env))
    return cases


def test_every_option_has_a_case():
    """Every option of every module and every role variable has a bad-input case, or a reason in FREE /
    ROLE_FREE why it cannot have one."""
    missing = []
    for module in MODULES:
        spec, _ = SPECS[module]
        for path, option in option_paths(spec):
            if not (option.get("type") in WRONG_TYPE or option.get("choices") or option.get("required")
                    or SEMANTIC.get(path) or path in FREE):
                missing.append("%s: %s" % (module, path))
    for name, option in role_options().items():
        if not (option.get("type") in WRONG_TYPE or option.get("choices") or name in ROLE_CASES or name in ROLE_LATE
                or name in ROLE_FREE):
            missing.append("role: %s" % name)
    assert not missing, "options without a bad-input case: %s" % ", ".join(missing)


# --- the world the module cases run in -----------------------------------------------------------------

class World(object):
    """A directory with one Enabled credential and its secret file; an Entra provisioning job and an IDaaS
    application that hold its token; STS and ECS roles; a directory already at the two-credential limit; an
    expired STS session; files that are wrong in every way a secret file can be."""

    def __init__(self, cloud, work):
        self.cloud = cloud
        control = cloud.control
        control.seed({"roles": [{"arn": ROLE_ARN, "permissions": ["*"], "external_id": "rel-external-1"}],
                      "ecs_roles": [{"name": "EcsRole", "account_id": ACCOUNT, "permissions": ["*"]}]})
        self.directory_id, (self.cred,) = cloud.directory(credentials=[{}])
        self.full_directory, _ = cloud.directory(credentials=[{}, {"status": "Disabled"}])
        self.full_auth = cloud.auth[self.full_directory]  # another account's directory (one per account)
        self.entra = control.call("POST", "idps", {"kind": "entra", "directory_id": self.directory_id,
                                                   "credential_id": self.cred["credential_id"], "interval": 0})
        self.idaas = control.call("POST", "idps", {"kind": "idaas", "directory_id": self.directory_id,
                                                   "credential_id": self.cred["credential_id"], "interval": 0})
        self.sts = assume_role(cloud, ROLE_ARN, external_id="rel-external-1")
        self.folder = os.path.join(work, "files")
        os.makedirs(self.folder, mode=0o700)
        self.directory = os.path.join(self.folder, "a-directory")
        os.mkdir(self.directory)
        self.dangling = os.path.join(self.folder, "dangling.json")
        os.symlink(os.path.join(self.folder, "elsewhere", "target.json"), self.dangling)
        self.garbage = self._file("garbage.json", "not json at all")
        self.empty = self._file("empty-token", "   \n")
        self.no_secret = self._file("no-secret.json", json.dumps({"credential_id": "x"}))
        self.foreign = self._file("foreign.json", json.dumps({
            "directory_id": "d-000000000000", "credential_id": self.cred["credential_id"],
            "credential_secret": "Foreign-Secret-Value-0123456789", "create_time": None}))
        self.cli_config = self._file("aliyun.json", json.dumps({"current": "a", "profiles": [
            {"name": "a", "mode": "AK", "access_key_id": "TESTNOSUCHKEY",
             "access_key_secret": "Cli-Profile-Secret-0123",
             "region_id": REGION}]}))
        self.refused = "http://127.0.0.1:%d" % closed_port()
        self.env = dict(AZURE_TENANT_ID=self.entra["tenant_id"], AZURE_CLIENT_ID=self.entra["client_id"],
                        AZURE_CLIENT_SECRET=self.entra["client_secret"],
                        REL_WRONG_TOKEN="Wrong-Token-Value-0123456789abcdef",
                        REL_WRONG_SECRET="Wrong-Access-Key-Secret-0123456789",
                        REL_STS_SECRET=self.sts["AccessKeySecret"], REL_STS_TOKEN=self.sts["SecurityToken"])
        cloud.runner.extra_secrets += [self.entra["client_secret"], "Foreign-Secret-Value-0123456789",
                                       "Cli-Profile-Secret-0123", self.env["REL_WRONG_TOKEN"],
                                       self.env["REL_WRONG_SECRET"]]
        for name in ("secret_file",):
            cloud.runner.allow_secret_file(self.cred[name])

    def _file(self, name, text):
        path = os.path.join(self.folder, name)
        with open(path, "w") as handle:
            handle.write(text)
        os.chmod(path, 0o600)
        return path

    def base(self, module):
        """Valid options of each module: its first case, which must pass."""
        d, f = self.directory_id, self.cred["secret_file"]
        sp = {"service_principal_id": self.entra["service_principal_id"]}
        return {
            "scim_credential": {"directory_id": d, "state": "present"},
            "scim_credential_info": {"directory_id": d},
            "scim_usage_info": {"directory_id": d, "since": "1h"},
            "scim_token_check": {"token_file": f, "expect": "accepted"},
            "scim_rotation_plan": {"directory_id": d, "pending_secret_file": os.path.join(self.folder, "pending.json")},
            "rotation_lock": {"path": os.path.join(self.folder, "base.lock"), "owner": "bad-input",
                              "state": "released"},
            "rotation_paths": {"folders": [{"path": self.folder, "variable": "state_dir", "private": True}],
                               "files": [{"path": os.path.join(self.folder, "report.json"), "variable": "report"}],
                               "write": [{"path": os.path.join(self.folder, "report.json"), "variable": "report",
                                          "content": "{}\n"}],
                               "remove": [{"path": os.path.join(self.folder, "none.json"), "variable": "state_dir"}]},
            "entra_provisioning_info": dict(sp),
            "entra_provisioning_token": dict(sp, token_file=f),
            "entra_provisioning_job": dict(sp, state="started"),
            "idaas_provisioning_token": {"instance_id": self.idaas["instance_id"],
                                         "application_id": self.idaas["application_id"], "token_file": f},
        }[module]


def assume_role(cloud, role_arn, **extra):
    """STS credentials for `role_arn`, through the collection's client (Python, not a playbook)."""
    client = RpcClient("sts", REGION, credentials=StaticProvider(Credential(cloud.access_key["id"],
                                                                            cloud.access_key["secret"])),
                       endpoint_url=cloud.emulator.url)
    query = {"RoleArn": role_arn, "RoleSessionName": "reliability", "DurationSeconds": "900"}
    if extra.get("external_id"):
        query["ExternalId"] = extra["external_id"]
    return client.call("AssumeRole", query)["Credentials"]


@pytest.fixture
def world(cloud, work):
    made = World(cloud, work)
    # The STS session above lasts 900 s of the emulator's clock: move past it (the clock drives nothing
    # else these cases look at).
    cloud.control.clock(advance_seconds=1000)
    return made


def module_options(module):
    """The options whose cases run for `module`."""
    spec, _ = SPECS[module]
    shared = set()
    if not FULL:
        for owner, names in SHARED.items():
            if module != owner:
                shared |= names
    return [path for path, _ in option_paths(spec) if path.split(".")[0] not in shared]


def build_batch(cloud, world, name, modules):
    batch = Batch(cloud.runner, name)
    for module in modules:
        base = world.base(module)
        spec, kwargs = SPECS[module]
        # The valid options must pass (in check mode: no write), so each failure below is the bad value's.
        batch.add("%s: valid options" % module, module, base, writes={},
                  keywords={} if module == "rotation_lock" else {"check_mode": True})
        options = module_options(module)
        for case_id, args, regex in generated(spec, kwargs, base, options):
            batch.add("%s: %s" % (module, case_id), module, args, expect="failed", msg=regex, writes={},
                      keywords={"check_mode": False})
        for path in options:
            for case_id, overrides, regex, env in semantic_cases(world, module, path):
                args = base
                for key, value in overrides.items():
                    args = set_path(args, key, value)
                batch.add("%s: %s %s" % (module, path, case_id), module, args, expect="failed", msg=regex,
                          writes=REFUSED_CALLS.get((module, path), {}), environment=env,
                          keywords=CASE_KEYWORDS.get((path, case_id), {}))
    return batch


def run_batch(cloud, world, batch):
    before = cloud.control.state()
    batch.run(env=world.env)
    problems = batch.problems()
    after = cloud.control.state()
    for key in ("credentials", "deleted_credentials"):
        if before[key] != after[key]:
            problems.append("the emulator's %s changed" % key)
    assert not problems, "%d of %d cases broke:\n%s" % (len(problems), len(batch.cases), "\n".join(problems))
    return batch


def test_cloudsso_modules_bad_input(cloud, world):
    run_batch(cloud, world, build_batch(cloud, world, "cloudsso", [m for m in MODULES if m not in IDP_MODULES]))


def test_identity_provider_modules_bad_input(cloud, world):
    batch = run_batch(cloud, world, build_batch(cloud, world, "idps", IDP_MODULES))
    sp = [s for s in cloud.control.call("GET", "graph")["service_principals"]
          if s["id"] == world.entra["service_principal_id"]][0]
    assert sp["credential_id"] == world.cred["credential_id"]  # nothing was saved
    assert len(batch.cases) > 40


# --- a secret file in a folder the user cannot write (as user nobody) -----------------------------------

NOBODY = "#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups %s \"$@\"\n"


@pytest.mark.skipif(not shutil.which("setpriv") or os.geteuid() != 0, reason="needs root and setpriv to run as nobody")
def test_secret_file_not_writable_by_the_user(cloud, work):
    """Run scim_credential as user nobody (pipelining: the module comes on stdin) with a secret file in a
    root-owned folder: it fails before the create, naming the folder."""
    directory_id, (old,) = cloud.directory(credentials=[{}])
    outside = tempfile.mkdtemp(prefix="rel-unwritable-")
    try:
        os.chmod(outside, 0o755)
        folder = os.path.join(outside, "secrets")
        os.mkdir(folder, 0o755)
        wrapper = os.path.join(outside, "python-as-nobody")
        with open(wrapper, "w") as handle:
            handle.write(NOBODY % sys.executable)
        os.chmod(wrapper, 0o755)
        batch = Batch(cloud.runner, "nobody")
        as_nobody = {"vars": {"ansible_python_interpreter": wrapper, "ansible_pipelining": True}}
        batch.add("whoami", "ansible.builtin.command", {"cmd": "id -u"}, keywords=as_nobody, writes={})
        batch.add("secret file not writable", "scim_credential",
                  {"directory_id": directory_id, "state": "enabled", "secret_file": os.path.join(folder, "new.json")},
                  keywords=as_nobody, expect="failed", msg=r"the folder of secret file \S+new.json is not writable; "
                                                            r"nothing was created", writes={})
        batch.run()
        assert batch.cases[0].result["stdout"].strip() == "65534"
        assert not batch.problems(), batch.problems()
        assert cloud.credentials(directory_id) == {old["credential_id"]: "Enabled"}
        assert os.listdir(folder) == []
    finally:
        shutil.rmtree(outside)


# --- clock skew (module_utils, in Python) --------------------------------------------------------------

@pytest.mark.parametrize("skew_minutes, max_skew, accepted", [(10, 900, True), (20, 900, False), (-20, 900, False),
                                                            (10, 300, False)])
def test_clock_skew(cloud, monkeypatch, skew_minutes, max_skew, accepted):
    """The request is signed with this machine's clock, moved by `skew_minutes`; the emulator accepts
    `max_skew` seconds (signature_max_skew_seconds, 900 as Alibaba Cloud). Too far off: one attempt (not
    retried), a message that names the clock, and no credential created."""
    directory_id, (old,) = cloud.directory(credentials=[{}])
    cloud.control.config(signature_max_skew_seconds=max_skew)
    real = signing.utc_timestamp
    monkeypatch.setattr(signing, "utc_timestamp",
                        lambda now=None: real((now or datetime.now(timezone.utc)) + timedelta(minutes=skew_minutes)))
    client = RpcClient("cloudsso", REGION, credentials=StaticProvider(Credential(cloud.access_key["id"],
                                                                                 cloud.access_key["secret"])),
                       endpoint_url=cloud.emulator.url + "/region/" + REGION, sleep=lambda seconds: None)
    cloud.control.reset_calls()
    try:
        CloudSSO(client).create_credential(directory_id)
    except AlibabaCloudError as error:
        assert not accepted, "rejected: %s" % error.code
        assert error.code == "InvalidTimeStamp.Expired" and error.attempts == 1
        assert "the clock of this machine differs from Alibaba Cloud's" in explain(error)
        assert cloud.credentials(directory_id) == {old["credential_id"]: "Enabled"}
    else:
        assert accepted, "a request signed %s minutes off was accepted" % skew_minutes
    assert cloud.control.calls()["counts"]["cloudsso:CreateSCIMServerCredential"] == 1


# --- role variables ------------------------------------------------------------------------------------

# Hand-written role cases: variable -> [(case id, host vars, regex)]. They must fail before any write.
ROLE_CASES = {
    "scim_rotation_directory_id": [("malformed", {"scim_rotation_directory_id": "d-123"},
                                    r"Invalid rotation settings for d-123: scim_rotation_directory_id 'd-123' is not a CloudSSO directory ID"),
                                   ("missing", {"scim_rotation_directory_id": None}, r"scim_rotation_directory_id")],
    "scim_rotation_region": [("malformed", {"scim_rotation_region": "Shanghai!"},
                              r"region 'Shanghai!' is not a valid Alibaba Cloud region ID"),
                             ("of another region", {"scim_rotation_region": "ap-southeast-1"},
                              r"EntityNotExists.Directory: no such directory in this region")],
    "scim_rotation_auth": [("bad option value", {"scim_rotation_auth": {"timeout": 0}},
                            r"timeout must be a positive number of seconds"),
                           ("wrong secret", {"scim_rotation_auth": {"access_key_id": "TESTNOSUCHKEY0000",
                                                                    "access_key_secret": WRONG_SECRET}},
                            r"InvalidAccessKeyId.NotFound")],
    "scim_rotation_entra": [("no service principal", {"scim_rotation_idp": "entra_id", "scim_rotation_entra": {}},
                             r"entra_id needs scim_rotation_entra.service_principal_id")],
    "scim_rotation_idaas": [("no application", {"scim_rotation_idp": "idaas", "scim_rotation_idaas": {}},
                             r"idaas needs scim_rotation_idaas.instance_id and application_id")],
    "scim_rotation_idp_tasks": [("custom without tasks", {"scim_rotation_idp_tasks": ""},
                                 r"custom needs scim_rotation_idp_tasks")],
    "scim_rotation_min_age_days": [("-1", {"scim_rotation_min_age_days": -1}, r"min_age_days must be 0 or more")],
    "scim_rotation_expiring_within_days": [("-1", {"scim_rotation_expiring_within_days": -1},
                                            r"expiring_within_days must be 0 or more")],
    "scim_rotation_usage_window": [("not a window", {"scim_rotation_usage_window": "banana"},
                                    r"usage_window: since 'banana' is not a time"),
                                   ("past 90 days", {"scim_rotation_usage_window": "100d"}, r"more than 90 days ago")],
    "scim_rotation_verify_timeout_seconds": [("-1", {"scim_rotation_verify_timeout_seconds": -1},
                                              r"Invalid rotation settings")],
    "scim_rotation_verify_interval_seconds": [("0", {"scim_rotation_verify_interval_seconds": 0},
                                               r"the verify interval must be positive")],
    "scim_rotation_state_dir": [("a file", {"scim_rotation_state_dir": "__FILE__"}, r"(not a directory|exists|not a folder)")],
    "scim_rotation_lock_stale_minutes": [("0", {"scim_rotation_lock_stale_minutes": 0},
                                          r"stale_after_minutes must be 1 or more")],
    "scim_rotation_actiontrail_region": [("malformed", {"scim_rotation_actiontrail_region": "Bad!"},
                                          r"actiontrail_region 'Bad!' is not a valid Alibaba Cloud region ID")],
}
# Every endpoint variable: plain http off loopback stops the run before it starts.
ROLE_CASES.update(("scim_rotation_%s" % name, [("plain http off loopback",
                                                {"scim_rotation_%s" % name: "http://%s.emulator.invalid" % name},
                                                r"scim_rotation_%s: plain http to a host other than this machine" % name)])
                  for name in ("base_url", "endpoint_url", "actiontrail_endpoint_url", "sts_endpoint_url",
                               "idaas_endpoint_url", "graph_endpoint", "login_endpoint"))
# Bad values the role notices only after it has written (created the new credential, or later), or never:
# prepare.yml checks them up front (test_role_bad_input_found_late).
ROLE_LATE = {
    "scim_rotation_idp_verify_tasks": ("no such file", {"scim_rotation_idp_verify_tasks": "/nonexistent/verify.yml"}),
    "scim_rotation_idp_restore_tasks": ("no such file",
                                        {"scim_rotation_idp_restore_tasks": "/nonexistent/restore.yml"}),
    "scim_rotation_scim_endpoint": ("not a URL", {"scim_rotation_scim_endpoint": "not a url"}),
    "scim_rotation_previous_secret_file": ("no such file",
                                           {"scim_rotation_previous_secret_file": "/nonexistent/old.json"}),
    "scim_rotation_orphan_grace_minutes": ("-1", {"scim_rotation_orphan_grace_minutes": -1}),
    "scim_rotation_entra": ("malformed service principal", {"scim_rotation_idp": "entra_id",
                                                             "scim_rotation_entra": {"service_principal_id": "nope"}}),
    "scim_rotation_entra_canary": ("unknown user", {"scim_rotation_idp": "entra_id",
                                                    "scim_rotation_entra": {"service_principal_id": "nope"},
                                                    "scim_rotation_entra_canary": {"object_id": "nope"}}),
    "scim_rotation_secret_file": ("in no folder", {"scim_rotation_secret_file": "/nonexistent/kept.json"}),
    "scim_rotation_idp_tasks/missing": ("no such file", {"scim_rotation_idp_tasks": "/nonexistent/set.yml"}),
    "scim_rotation_idaas/ids": ("malformed IDs", {"scim_rotation_idp": "idaas",
                                                  "scim_rotation_idaas": {"instance_id": "x", "application_id": "y"}}),
}
ROLE_FREE = {
    "settings.hint": "any text, said after the problem of its setting",
    "scim_rotation_previous_secret": "the old token's value, used only to restore the IdP in the rescue",
    "scim_rotation_report_path": "any path: its folder is created",
}
ROLE_WRONG_TYPE = {"int": "abc", "bool": "maybe", "dict": "not-a-dict"}
WRITE_TASKS = ("Create the new credential", "Disable the old credential", "Delete the old credential",
               "Delete Disabled credentials", "Delete Enabled credentials", "Re-enable the old credential",
               "Delete the new credential", "Delete the credential this run created")
ROLE_PLAY = [{"name": "Rotation role with bad variables", "hosts": "all", "connection": "local",
              "gather_facts": False, "roles": [{"role": "alicloud.cloudsso.scim_rotation"}]}]


def task_name(record):
    """The task's own name, without the "role : " prefix."""
    return record["task"].split(" : ", 1)[-1]


def role_cases(late=False):
    """(host name, variable, case id, host vars, regex) for every case."""
    cases = []
    if late:
        subset = ROLE_LATE if FULL else dict((k, ROLE_LATE[k]) for k in (
            "scim_rotation_scim_endpoint", "scim_rotation_idaas/ids"))
        for name, (case_id, overrides) in sorted(subset.items()):
            cases.append((name.split("/")[0], case_id, overrides, None))
        return cases
    for name, option in sorted(role_options().items()):
        if option.get("type") in ROLE_WRONG_TYPE:
            cases.append((name, "wrong type", {name: ROLE_WRONG_TYPE[option["type"]]}, re.escape(name)))
        if option.get("choices"):
            cases.append((name, "outside choices", {name: "bogus"}, re.escape(name)))
        for case_id, overrides, regex in ROLE_CASES.get(name, ()):
            cases.append((name, case_id, overrides, regex))
    return cases


def run_role_cases(cloud, work, cases, name):
    """One play, one inventory host per case (each with its own directory whose token a simulated IdP
    holds); returns {host: (case, records of the probe callback)}."""
    world = Rotation(cloud, len(cases), idp="custom", name=name)
    a_file = os.path.join(work, "a-file")
    open(a_file, "w").close()
    hosts, by_host = {}, {}
    for index, ((option, case_id, overrides, regex), directory_id) in enumerate(zip(cases, world.directories)):
        host = dict(world.hosts[directory_id])
        for key, value in overrides.items():
            if value is None:
                host.pop(key, None)
            else:
                host[key] = a_file if value == "__FILE__" else value
        name_ = "case%02d" % index
        hosts[name_] = host
        by_host[name_] = (option, case_id, regex, directory_id)
    inventory = os.path.join(world.work, "cases.json")
    with open(inventory, "w") as handle:
        json.dump({"all": {"hosts": hosts, "vars": world.play_vars}}, handle, indent=1)
    play = os.path.join(cloud.runner.work, "%s.yml" % name)
    with open(play, "w") as handle:
        json.dump(ROLE_PLAY, handle)
    out = os.path.join(cloud.runner.work, "probe-%s.jsonl" % name)
    env = probe_env(out)
    env.update(REL_WRONG_SECRET="Wrong-Access-Key-Secret-0123456789")
    cloud.runner.extra_secrets.append(env["REL_WRONG_SECRET"])
    cloud.control.reset_calls()
    for directory_id in world.directories:
        cloud.runner.allow_secret_file(world.pending_file(directory_id))
    cloud.runner.playbook(play, inventory=inventory, forks=8, expect_rc=None, env=env, verbosity=1)
    records = read_probe(out)
    outcome = {}
    for host, (option, case_id, regex, directory_id) in by_host.items():
        mine = [r for r in records if r["host"] == host]
        failures = [r["result"].get("msg") or "" for r in mine if r["status"] in ("failed", "item_failed")]
        writes = [task_name(r) for r in mine if r["status"] in ("ok", "item_ok") and r["result"].get("changed")
                  and task_name(r).startswith(WRITE_TASKS)]
        old = {world.old[directory_id]["credential_id"]: "Enabled"}
        outcome[host] = dict(option=option, case=case_id, regex=regex, directory_id=directory_id,
                             message="\n".join(failures) if failures else None, writes=writes,
                             unchanged=not world.invariant_problems(directory_id, converged=False)
                             and cloud.credentials(directory_id) == old)
    return outcome


def role_case_problems(outcome, extra_check=None):
    """Every way the role cases of run_role_cases differ from "failed before any write, with the message
    expected, its directory unchanged" (and from `extra_check(seen)`, a list of problems), as text."""
    problems = []
    for host, seen in sorted(outcome.items()):
        what = "%s (%s %s)" % (host, seen["option"], seen["case"])
        if seen["message"] is None:
            problems.append("%s: did not fail" % what)
        elif not re.search(seen["regex"], seen["message"], re.S):
            problems.append("%s: message %r does not match %r" % (what, seen["message"][:300], seen["regex"]))
        if seen["writes"]:
            problems.append("%s: wrote (%s)" % (what, seen["writes"]))
        if not seen["unchanged"]:
            problems.append("%s: its directory or IdP changed" % what)
        problems += ["%s: %s" % (what, problem) for problem in (extra_check(seen) if extra_check else [])]
    return problems


def test_role_bad_input(cloud, work):
    """Every role variable with a wrong type, a value outside its choices, and the hand-written cases: the
    host fails before any write, with a message naming the variable or the problem, its directory unchanged."""
    outcome = run_role_cases(cloud, work, role_cases(), "role-bad-input")
    problems = role_case_problems(outcome)
    assert not problems, "%d of %d role cases broke:\n%s" % (len(problems), len(outcome), "\n".join(problems))
    assert write_calls(cloud.control.calls()) == {}


def test_role_bad_input_found_late(cloud, work):
    """Values the role uses only after the new credential exists (task files, the SCIM URL, the IdP's IDs, the
    secret file's folder, the previous secret file, a negative grace period): refused in prepare.yml before
    any write, with a message that names the variable."""
    outcome = run_role_cases(cloud, work, role_cases(late=True), "role-late")
    late = sorted("%s (%s): %s" % (seen["option"], seen["case"], "failed after writing %s" % seen["writes"]
                                   if seen["writes"] else "accepted" if seen["message"] is None else "?")
                  for seen in outcome.values() if seen["writes"] or seen["message"] is None)
    assert not late, "bad role input not refused before the first write: %s" % "; ".join(late)
    unnamed = sorted("%s (%s): %r" % (seen["option"], seen["case"], seen["message"][:300])
                     for seen in outcome.values() if seen["option"] not in seen["message"])
    assert not unnamed, "the message does not name the variable: %s" % "; ".join(unnamed)
    assert write_calls(cloud.control.calls()) == {}
