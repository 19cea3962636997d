#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: scim_usage_info
short_description: Find in ActionTrail which SCIM credentials an identity provider calls CloudSSO with
version_added: 0.1.0
description:
  - Searches Alibaba Cloud ActionTrail for SCIM calls that an identity provider (IdP) made to a CloudSSO
    directory, and tells for each SCIM credential whether it was used in a time window, when first and last,
    how often, and from which source IPs and user agents.
  - This is the evidence the rotation needs before it deletes an old credential, and what tells an operator
    which IdP still calls with an old token.
  - Pages through C(LookupEvents) (50 events a page, newest first), in windows of at most 30 days (the most one
    query may span), one query per event name and window, each matching the event name AND the service name
    C(cloudsso) (which leaves RAM's C(ListUsers) out). The service name of SCIM events is not documented and
    matching is exact; when that scan sees no SCIM call at all, the window is read again by event name alone
    (RV(service_name) is then V(null)). Calls are paced to at most
    O(max_calls_per_second) (ActionTrail allows 2 calls per second per account); throttled calls are retried
    with jittered exponential backoff.
  - Where CloudSSO records the credential ID in an event is not documented. The module therefore searches the
    whole event, and counts a credential as used by an event when the event holds its ID under a key named
    C(SCIMCredentialId) (any case, at any depth, in lists, in values that hold JSON encoded as a string) or as
    the literal ID anywhere. C(ListUsers) events without a SCIM credential ID (RAM's, or CloudSSO's own
    OpenAPI) are ignored.
  - ActionTrail shows an event minutes after the call. A call made in the last few minutes may not be
    visible yet; wait (or set O(until) a few minutes back) before calling a credential unused.
  - A credential is reported unused only with evidence that the search could see SCIM calls at all. When no
    event in the window carried any SCIM credential ID (wrong O(actiontrail_region), wrong O(event_names), a
    quiet IdP, or events not delivered yet), RV(conclusive) is V(false) and RV(unused) proves nothing.
  - Read-only. Returns IDs, times, source IPs, user agents and counts; never an event.
author:
  - alicloud.cloudsso maintainers (@alicloud-cloudsso)
options:
  directory_id:
    description:
      - ID of the CloudSSO directory, C(d-) followed by 12 letters or digits. Every SCIM credential the
        directory has now is checked (one C(ListSCIMServerCredentials) call).
      - At least one of O(directory_id) and O(credential_ids) is required; with both, the credentials of
        both are checked.
    type: str
  credential_ids:
    description:
      - SCIM credential IDs to check, C(scimcred-) followed by 20 letters or digits. They need not exist any
        more, so the use of a deleted credential can still be traced.
    type: list
    elements: str
  since:
    description:
      - Start of the search window. A time back from now, V(30m), V(24h), V(7d), V(2w) (units V(s), V(m),
        V(h), V(d), V(w); combined as in V(1d12h)), or an ISO 8601 time such as V(2024-01-04T08:00:00Z) (a
        time without offset is UTC).
      - At most 90 days back, ActionTrail's retention. Times are used in whole seconds.
      - The default of one day holds many sync cycles of an active IdP (Microsoft Entra ID syncs about every
        40 minutes).
    type: str
    default: 24h
  until:
    description:
      - End of the search window, in the same forms as O(since) (V(now) too). Defaults to now; a later time
        is cut to now.
    type: str
  event_names:
    description:
      - ActionTrail event names to search, one query per name. SCIM calls are recorded under the name of the
        SCIM operation; an IdP's sync cycle always lists users, so the default finds every active IdP.
      - Add names such as V(GetUser), V(CreateUser), V(PatchUser), V(ListGroups) to see more of the IdP's
        calls, at the cost of more pages.
      - Do not add CloudSSO OpenAPI actions such as V(UpdateSCIMServerCredentialStatus). Their events name a
        credential as the object of an administrator's call, and would count as a use of it.
    type: list
    elements: str
    default: [ListUsers]
  actiontrail_region:
    description:
      - The region whose ActionTrail events are searched. Whether CloudSSO records SCIM events in the
        directory's region or in the account's region for global events is not documented; when
        RV(conclusive) is V(false), try the other one.
      - Defaults to O(region).
    type: str
  stop_when_found:
    description:
      - Stop paging as soon as every checked credential has been seen in an event. "Is the new credential in
        use?" then costs one page when it is.
      - The counts, times, IPs and user agents then cover only the events read until then (newest first), so
        the C(first_used) of an entry of RV(usage) is the oldest use seen, not the first use in the window.
    type: bool
    default: false
  max_calls_per_second:
    description:
      - The most C(LookupEvents) calls per second this module makes, retries included. ActionTrail allows 2
        per second per account, shared by every tool and every fork that searches it at the same time.
      - The runs of this module on one machine with the same access key share this pace, forks of a play
        included. The time of the last call is kept in a file of a private per-user folder
        (C($XDG_RUNTIME_DIR/alicloud-cloudsso) when that folder is private, else C(~/.cache/alicloud-cloudsso),
        else C(<temp>/alicloud-cloudsso-<uid>)), checked for owner and mode. A run waits for its lock at most
        O(timeout) seconds; when the lock is held longer, or no such folder can be used, the run paces itself
        alone and warns. Other users, other machines and other tools searching the same account's ActionTrail
        are not counted; lower this value for them.
      - Each interval is lengthened by 0.05 seconds so that network jitter cannot push three calls into one
        second at the service, and the first call also waits one interval after the module starts, so that
        tasks that run this module back to back stay under the limit too.
      - More than 0, at most V(2).
    type: float
    default: 2
  ignore_user_agents:
    description:
      - Calls whose user agent starts with one of these are not counted as use. The default leaves out this
        collection's own token probes (M(alicloud.cloudsso.scim_token_check)), which prove that a token works
        but say nothing about which token an identity provider holds. They are counted in RV(ignored_calls).
      - Give V([]) to count every call.
    type: list
    elements: str
    default: [alicloud.cloudsso-ansible/]
  max_pages:
    description:
      - Stop after this many C(LookupEvents) pages, to bound the time a scan of a busy account takes (2 pages a
        second). When the limit ends the scan, RV(complete) is V(false), RV(window.searched_since) tells how far
        back the search got, and RV(conclusive) is V(false) while a checked credential was not seen.
      - Unlimited when not set.
    type: int
extends_documentation_fragment:
  - alicloud.cloudsso.auth
  - alicloud.cloudsso.attributes.read_only
notes:
  - RAM permissions used - C(actiontrail:LookupEvents), and C(cloudsso:ListSCIMServerCredentials) when
    O(directory_id) is given.
  - A rejected call is evidence too. An event with an error code (for example a call with a Disabled
    credential's token) still counts as a use, because the IdP holds that token; the C(error_count) of an
    entry of RV(usage) tells how many uses were rejected.
  - A 90-day scan of a busy account reads many pages at 2 a second; see O(max_pages) and
    O(stop_when_found).
seealso:
  - module: alicloud.cloudsso.scim_credential_info
  - module: alicloud.cloudsso.scim_credential
"""

EXAMPLES = r"""
- name: Which credentials of the directory did the IdP use in the last 7 days?
  alicloud.cloudsso.scim_usage_info:
    directory_id: d-00fc2p61abcd
    region: cn-shanghai
    since: 7d
  register: scim_usage

- name: Show which IdP (source IP, user agent) still calls with each credential
  ansible.builtin.debug:
    msg: "{{ item.key }}: used={{ item.value.used }} last={{ item.value.last_used }} from {{ item.value.source_ips }}"
  loop: "{{ scim_usage.usage | dict2items }}"

- name: Is the new credential in use since the hand-off? (one page when it is)
  alicloud.cloudsso.scim_usage_info:
    credential_ids: [scimcred-004whmnsa1rxe8newnew]
    since: "2026-01-04T08:00:00Z"
    stop_when_found: true
  register: new_use
  until: new_use.usage['scimcred-004whmnsa1rxe8newnew'].used
  retries: 12
  delay: 300

- name: Is the old credential unused since it was disabled? Requires evidence, not silence
  alicloud.cloudsso.scim_usage_info:
    credential_ids:
      - scimcred-004whmnsa1rxe8oldold
      - scimcred-004whmnsa1rxe8newnew
    since: "{{ disabled_at }}"
  register: old_use
  failed_when: >-
    not old_use.conclusive
    or 'scimcred-004whmnsa1rxe8oldold' not in old_use.unused

- name: Search the account's global-events region, slower, with other tools sharing the rate limit
  alicloud.cloudsso.scim_usage_info:
    directory_id: d-00fc2p61abcd
    region: ap-southeast-1
    actiontrail_region: cn-hangzhou
    since: 30d
    event_names: [ListUsers, GetUser]
    max_calls_per_second: 1
"""

RETURN = r"""
usage:
  description:
    - One entry per checked credential ID, keyed by the ID.
    - With O(stop_when_found), the counts cover the events read before the scan stopped.
  returned: always
  type: dict
  sample:
    scimcred-004whmnsa1rxe8abcdef:
      credential_id: scimcred-004whmnsa1rxe8abcdef
      used: true
      first_used: "2026-01-03T08:40:12Z"
      last_used: "2026-01-04T07:58:02Z"
      event_count: 36
      error_count: 0
      source_ips: ["20.43.64.17"]
      user_agents: ["Azure Provisioning Service"]
  contains:
    credential_id:
      description: The credential ID.
      type: str
    used:
      description: Whether an event in the searched window carried the ID.
      type: bool
    first_used:
      description: Time of the oldest event seen with the ID, UTC; V(null) when unused.
      type: str
    last_used:
      description: Time of the newest event seen with the ID, UTC; V(null) when unused.
      type: str
    event_count:
      description: Events that carried the ID.
      type: int
    error_count:
      description:
        - Of those, events with an error code, for example calls rejected because the credential is
          Disabled. They still mean that a client holds the token.
      type: int
    source_ips:
      description: Distinct source IP addresses of those events, sorted; at most 50.
      type: list
      elements: str
    user_agents:
      description: Distinct user agents of those events, sorted; at most 50.
      type: list
      elements: str
used:
  description: The checked credential IDs seen in at least one event.
  returned: always
  type: list
  elements: str
  sample: [scimcred-004whmnsa1rxe8abcdef]
unused:
  description:
    - The checked credential IDs seen in no event of the searched window.
    - Proof of disuse only when RV(conclusive) is V(true).
  returned: always
  type: list
  elements: str
  sample: [scimcred-004whmnsa1rxe8oldold]
credential_ids:
  description: The credential IDs checked, those of O(directory_id) (oldest first) then O(credential_ids).
  returned: always
  type: list
  elements: str
  sample: [scimcred-004whmnsa1rxe8oldold, scimcred-004whmnsa1rxe8abcdef]
other_credentials_seen:
  description:
    - Credential IDs that events carried but that were not checked, keyed by ID, with the same fields as
      RV(usage). A credential here that the directory does not list is likely an older credential's ID,
      or a credential of another directory in the account.
  returned: always
  type: dict
  sample: {}
ignored_calls:
  description: SCIM calls left out because of O(ignore_user_agents).
  returned: success
  type: int
  sample: 1
scim_events_seen:
  description: Events in the window that carried any SCIM credential ID, checked or not.
  returned: always
  type: int
  sample: 36
events_seen:
  description: Distinct events read in the window, SCIM or not (RAM's C(ListUsers) too).
  returned: always
  type: int
  sample: 52
conclusive:
  description:
    - V(true) when RV(unused) can be trusted. That needs a positive control, at least one SCIM event seen in
      the window (the IdP was visibly calling, so the absence of a credential means something), and a search of
      the whole window (or no credential left unseen).
    - V(false) means nothing can be called unused. Look at RV(scim_events_seen), O(actiontrail_region),
      O(event_names) and ActionTrail's delay.
  returned: always
  type: bool
  sample: true
complete:
  description:
    - Whether every page of the whole window was read. V(false) when O(stop_when_found) or O(max_pages) ended
      the scan early (see RV(stop_reason)).
  returned: always
  type: bool
  sample: true
stop_reason:
  description: Why the scan ended early, V(found) or V(max_pages); V(null) when RV(complete).
  returned: always
  type: str
  sample: null
pages:
  description: C(LookupEvents) calls that returned a page.
  returned: always
  type: int
  sample: 2
window:
  description: The window searched, UTC.
  returned: always
  type: dict
  contains:
    since:
      description: Start of the window, from O(since).
      type: str
      sample: "2026-01-03T08:00:00Z"
    until:
      description: End of the window, from O(until) (cut to now).
      type: str
      sample: "2026-01-04T08:00:00Z"
    searched_since:
      description:
        - The oldest time a query reached; V(null) when no query was made. Later than RV(window.since) when the
          scan stopped early, or when a long scan reached ActionTrail's 90-day limit while it ran.
      type: str
      sample: "2026-01-03T08:00:00Z"
windows:
  description: The pieces of at most 30 days that were queried, newest first.
  returned: always
  type: list
  elements: dict
  sample: [{since: "2026-01-03T08:00:00Z", until: "2026-01-04T08:00:00Z"}]
event_names:
  description: The event names searched.
  returned: always
  type: list
  elements: str
  sample: [ListUsers]
service_name:
  description:
    - The service name every query also matched; V(null) when the scan read the window again by event name alone
      because it saw no SCIM call with the service name.
  returned: always
  type: str
  sample: cloudsso
actiontrail_region:
  description: The region whose events were searched.
  returned: always
  type: str
  sample: cn-shanghai
directory_id:
  description: The directory, when O(directory_id) was given.
  returned: when O(directory_id) is given
  type: str
  sample: d-00fc2p61abcd
api_calls:
  description: HTTP requests this run made to Alibaba Cloud APIs, retries included.
  returned: always
  type: int
  sample: 3
api_calls_by_product:
  description: RV(api_calls) per API, C(actiontrail) and C(cloudsso). Throttled C(LookupEvents) calls that were
    retried make C(actiontrail) larger than RV(pages).
  returned: always
  type: dict
  sample: {actiontrail: 2, cloudsso: 1}
"""

from ansible_collections.alicloud.cloudsso.plugins.module_utils.actiontrail import DEFAULT_SINCE
from ansible_collections.alicloud.cloudsso.plugins.module_utils.module import AlibabaCloudModule
from ansible_collections.alicloud.cloudsso.plugins.module_utils.usage_info import UsageInfoRunner


def main():
    module = AlibabaCloudModule(
        argument_spec=dict(
            directory_id=dict(type="str"),
            credential_ids=dict(type="list", elements="str"),
            since=dict(type="str", default=DEFAULT_SINCE),
            until=dict(type="str"),
            event_names=dict(type="list", elements="str", default=["ListUsers"]),
            actiontrail_region=dict(type="str"),
            stop_when_found=dict(type="bool", default=False),
            max_calls_per_second=dict(type="float", default=2.0),
            max_pages=dict(type="int"),
            ignore_user_agents=dict(type="list", elements="str", default=["alicloud.cloudsso-ansible/"]),
        ),
        required_one_of=[("directory_id", "credential_ids")],
        supports_check_mode=True,
    )
    UsageInfoRunner(module).run()


if __name__ == "__main__":
    main()
