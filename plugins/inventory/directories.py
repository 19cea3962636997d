# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: directories
short_description: One inventory host per CloudSSO directory of a fleet of accounts
version_added: 0.1.0
author:
  - alicloud.cloudsso maintainers (@alicloud-cloudsso)
description:
  - Asks each account of O(accounts) for its CloudSSO directory with the CloudSSO API C(ListDirectories)
    (version 2021-05-15) in every region of O(regions), and adds one host per directory, named by its
    directory ID, with the host variables the P(alicloud.cloudsso.scim_rotation#role) role reads, so the
    playbook C(alicloud.cloudsso.rotate) rotates a whole fleet without a hand-written inventory.
  - A management account has at most one directory (C(You can create only one directory for a management
    account), CloudSSO CreateDirectory), so a fleet of directories is a fleet of accounts, each with its own
    credentials - an aliyun CLI profile, a RAM role to assume, or the standard credential chain
    (environment variables, as AWX injects them).
  - "Host variables: C(scim_rotation_directory_id), C(scim_rotation_region) (the directory's region, from the
    answer), C(scim_rotation_auth) (the options the collection's modules need to act as the account: only
    selectors such as C(profile), C(shared_credentials_file), C(assume_role) and C(endpoint_url), never a
    key; empty for an account of the standard chain), C(cloudsso_account) (the account's name),
    C(cloudsso_directory_name), C(cloudsso_directory_create_time) and C(ansible_connection=local)
    (a directory is an API object, not a machine). Every host is in the group C(cloudsso_directories)."
  - An account without a directory in the regions searched is reported as a warning that names it
    (O(missing_directory)). An account whose call fails (credentials, permission, network) fails the whole
    source with a message that names the account and the region, never a secret; Ansible then reports the
    source as unparsed (set C(ANSIBLE_INVENTORY_UNPARSED_FAILED=true) to make that fatal, as a rotation of a
    partial fleet should be).
  - The file's name must end with C(cloudsso_directories.yml) or C(cloudsso_directories.yaml).
extends_documentation_fragment:
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
options:
  plugin:
    description: The name of this plugin; must be V(alicloud.cloudsso.directories).
    required: true
    type: str
    choices: [alicloud.cloudsso.directories]
  accounts:
    description:
      - The accounts of the fleet, each with the credentials that reach it. An entry holds no key;
        C(access_key_id), C(access_key_secret) and C(security_token) are refused.
      - The default, one entry with nothing set, is the account of the standard credential chain
        (E(ALIBABA_CLOUD_ACCESS_KEY_ID) and E(ALIBABA_CLOUD_ACCESS_KEY_SECRET), OIDC, the aliyun CLI
        configuration, the ECS RAM role).
    type: list
    elements: dict
    default: [{}]
    suboptions:
      name:
        description:
          - The account's name in messages and in the host variable C(cloudsso_account). Defaults to the role
            ARN, else C(profile <name>), else C(account <n> (default credential chain)). Names must be unique.
        type: str
      profile:
        description: The aliyun CLI profile that holds this account's credentials (any mode the collection supports).
        type: str
      shared_credentials_file:
        description: The aliyun CLI configuration file of O(accounts[].profile). Defaults to O(shared_credentials_file).
        type: path
      assume_role:
        description:
          - A RAM role of this account, assumed with STS AssumeRole using the credentials of
            O(accounts[].profile) or, without a profile, of the standard credential chain (for example one
            access key of a central account that may assume a role in each member account).
        type: dict
        suboptions:
          role_arn:
            description: The role's ARN, C(acs:ram::<account id>:role/<name>).
            type: str
            required: true
          session_name:
            description: The STS session name.
            type: str
            default: alicloud-cloudsso
          duration_seconds:
            description: The lifetime of the STS credentials, 900 to 43200 seconds.
            type: int
            default: 3600
          external_id:
            description: The role's external ID, when its trust policy requires one.
            type: str
      regions:
        description: The regions to search for this account's directory. Defaults to O(regions).
        type: list
        elements: str
  regions:
    description:
      - The regions to search. C(ListDirectories) lists the directories of the region it is called in, and a
        directory lives in the one region chosen when it was created.
      - Defaults to every region where Alibaba Cloud documents CloudSSO directories (V(cn-shanghai),
        V(cn-hongkong), V(ap-northeast-2), V(ap-southeast-1), V(us-west-1), V(eu-central-1)); list only your
        directories' regions to save calls. Another well-formed region is searched with a warning.
    type: list
    elements: str
  missing_directory:
    description:
      - What to do about an account with no directory in the regions searched.
      - V(warn) warns, naming the account and the regions; V(fail) fails the source; V(ignore) says nothing.
    type: str
    choices: [warn, fail, ignore]
    default: warn
  shared_credentials_file:
    description: The aliyun CLI configuration file of the accounts that name a O(accounts[].profile).
    type: path
    env:
      - name: ALIBABA_CLOUD_CONFIG_FILE
      - name: ALICLOUD_SHARED_CREDENTIALS_FILE
  endpoint_url:
    description:
      - The CloudSSO endpoint, for example C(http://127.0.0.1:PORT/region/{region}) for the emulator;
        C({region}) is replaced by each region searched. It is also put in C(scim_rotation_auth).
      - Without it, E(ALIBABA_CLOUD_CLOUDSSO_ENDPOINT) or C(https://cloudsso.<region>.aliyuncs.com).
    type: str
  validate_certs:
    description: Whether to verify the endpoints' TLS certificates.
    type: bool
    default: true
  timeout:
    description: Seconds to wait for each HTTP request.
    type: int
    default: 30
  max_retries:
    description: Retries of a call that was throttled or failed in transit.
    type: int
    default: 5
notes:
  - Each account needs the RAM permission C(cloudsso:ListDirectories) (and C(sts:AssumeRole) on the role for
    O(accounts[].assume_role)); the rotation itself needs the permissions listed in the RAM policies guide.
  - The cache, when enabled, holds directory IDs, names, regions and the selectors of C(scim_rotation_auth),
    never a secret.
seealso:
  - ref: ansible_collections.alicloud.cloudsso.docsite.guide_scheduling
    description: The scheduling guide, section "A fleet of accounts".
"""

EXAMPLES = r"""
# cloudsso_directories.yml: three accounts, each found in the regions listed
plugin: alicloud.cloudsso.directories
regions: [cn-shanghai, eu-central-1]
accounts:
  # an aliyun CLI profile (any mode: AK, RamRoleArn, EcsRamRole, ...)
  - name: retail
    profile: retail
  # a role in each member account, assumed with the access key in the environment
  - assume_role:
      role_arn: acs:ram::1111111111111111:role/CloudSSORotator
  - assume_role:
      role_arn: acs:ram::2222222222222222:role/CloudSSORotator
      external_id: rotation-2222
    regions: [eu-central-1]
keyed_groups:
  - key: scim_rotation_region
    prefix: region
compose:
  scim_rotation_idp: "'entra_id'"

# Then: ansible-inventory -i cloudsso_directories.yml --graph
#       ansible-playbook -i cloudsso_directories.yml alicloud.cloudsso.rotate

# The account of the environment's keys only (AWX: the collection's credential type), cached for an hour
---
plugin: alicloud.cloudsso.directories
regions: [cn-shanghai]
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/alicloud-cloudsso-inventory
cache_timeout: 3600
"""

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible.utils.display import Display

from ansible_collections.alicloud.cloudsso.plugins.module_utils.directory_discovery import (
    DiscoveryError,
    account_label,
    account_problems,
    find_directories,
    region_problems,
    rotation_auth,
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.endpoints import CLOUDSSO_REGIONS, cloudsso_region_warning
from ansible_collections.alicloud.cloudsso.plugins.module_utils.transport import new_session

display = Display()

GROUP = "cloudsso_directories"
FILE_SUFFIXES = ("cloudsso_directories.yml", "cloudsso_directories.yaml")


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):

    NAME = "alicloud.cloudsso.directories"

    def verify_file(self, path):
        return super(InventoryModule, self).verify_file(path) and path.endswith(FILE_SUFFIXES)

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache=cache)
        self._read_config_data(path)
        accounts, regions = self.get_option("accounts"), self.get_option("regions") or list(CLOUDSSO_REGIONS)
        problems = account_problems(accounts) + region_problems(regions)
        if problems:
            raise AnsibleParserError("%s: %s" % (path, "; ".join(problems)))
        searched = set(regions).union(*(account.get("regions") or () for account in accounts))
        for warning in filter(None, (cloudsso_region_warning(region) for region in sorted(searched))):
            display.warning("alicloud.cloudsso.directories: %s" % warning)

        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        directories = None
        if use_cache:
            try:
                directories = self._cache[cache_key]
            except KeyError:
                pass
        if directories is None:
            directories = self._discover(accounts, regions)
            if self.get_option("cache"):
                self._cache[cache_key] = directories
        self._populate(directories)

    def _discover(self, accounts, regions):
        """Host records of every account (JSON-serialisable, no secret: what the cache keeps)."""
        options = dict(regions=regions, endpoint_url=self.get_option("endpoint_url"),
                       shared_credentials_file=self.get_option("shared_credentials_file"),
                       validate_certs=self.get_option("validate_certs"), timeout=self.get_option("timeout"),
                       max_retries=self.get_option("max_retries"))
        session = new_session()
        records = []
        for index, account in enumerate(accounts):
            try:
                found = find_directories(account, index, options, session)
            except DiscoveryError as error:
                raise AnsibleError("alicloud.cloudsso.directories: %s" % error)
            if not found:
                self._report_missing(account_label(account, index), account.get("regions") or regions)
            auth = rotation_auth(account, options["shared_credentials_file"], options["endpoint_url"])
            records.extend(dict(directory, auth=auth) for directory in found)
        return records

    def _report_missing(self, label, regions):
        message = "account %s has no CloudSSO directory in %s" % (label, ", ".join(regions))
        choice = self.get_option("missing_directory")
        if choice == "fail":
            raise AnsibleError("alicloud.cloudsso.directories: %s" % message)
        if choice == "warn":
            display.warning("alicloud.cloudsso.directories: %s" % message)

    def _populate(self, records):
        self.inventory.add_group(GROUP)
        strict = self.get_option("strict")
        for record in records:
            host = record["directory_id"]
            if host in self.inventory.hosts:
                raise AnsibleError("alicloud.cloudsso.directories: directory %s is listed by two accounts (%s and "
                                   "%s); each account has its own directory"
                                   % (host, self.inventory.get_host(host).vars.get("cloudsso_account"),
                                      record["account"]))
            self.inventory.add_host(host, group=GROUP)
            host_vars = dict(
                scim_rotation_directory_id=host,
                scim_rotation_region=record["region"],
                scim_rotation_auth=record["auth"],
                cloudsso_account=record["account"],
                cloudsso_directory_name=record.get("directory_name"),
                cloudsso_directory_create_time=record.get("create_time"),
                ansible_connection="local",
            )
            for name, value in host_vars.items():
                self.inventory.set_variable(host, name, value)
            self._set_composite_vars(self.get_option("compose"), host_vars, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), host_vars, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), host_vars, host, strict=strict)
