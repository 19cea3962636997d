#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark-only module: the no-op path of alicloud.cloudsso.scim_credential (state=present on a directory
that has a credential) written the usual way, on the official Alibaba Cloud SDK
(alibabacloud-cloudsso20210515 + alibabacloud-tea-openapi). benchmarks/module_cost.py compares its cost with
the collection's module. It handles nothing else."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: sdk_scim_credential
short_description: Benchmark stand-in built on the official SDK (no-op path only)
description: Lists the directory's SCIM credentials with the official SDK; unchanged when one exists.
options:
  directory_id: {type: str, required: true, description: The directory.}
  region: {type: str, default: cn-shanghai, description: The region.}
  endpoint: {type: str, required: true, description: "host[:port][/path] of the CloudSSO API (the emulator)."}
author: [alicloud.cloudsso contributors]
"""

import os

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec=dict(directory_id=dict(type="str", required=True),
                                              region=dict(type="str", default="cn-shanghai"),
                                              endpoint=dict(type="str", required=True)),
                           supports_check_mode=True)
    from alibabacloud_cloudsso20210515 import models
    from alibabacloud_cloudsso20210515.client import Client
    from alibabacloud_tea_openapi.models import Config

    client = Client(Config(access_key_id=os.environ["ALIBABA_CLOUD_ACCESS_KEY_ID"],
                           access_key_secret=os.environ["ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
                           region_id=module.params["region"], endpoint=module.params["endpoint"], protocol="http"))
    listed = client.list_scimserver_credentials(
        models.ListSCIMServerCredentialsRequest(directory_id=module.params["directory_id"])).body
    if not listed.total_counts:
        module.fail_json(msg="the benchmark stand-in only handles a directory that has a credential")
    module.exit_json(changed=False, credentials=[c.credential_id for c in listed.scimserver_credentials])


if __name__ == "__main__":
    main()
