# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The module base warns, once, about a well-formed region where no document says a CloudSSO directory
can be, and still uses it; a malformed region fails."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest
from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args

from ansible_collections.alicloud.cloudsso.plugins.module_utils import endpoints
from ansible_collections.alicloud.cloudsso.plugins.module_utils.module import AlibabaCloudModule


@pytest.fixture(autouse=True)
def no_earlier_warnings():
    ansible_warnings._global_warnings.clear()  # a process-wide register, shared by the tests
    yield
    ansible_warnings._global_warnings.clear()


def _run(capsys, args, product="cloudsso", scim_region=None):
    """Build the module, read its region (twice) and exit; returns the module's JSON result with the
    warnings' texts under `warned`."""
    with patch_module_args(args):
        module = AlibabaCloudModule(argument_spec={}, product=product, supports_check_mode=True)
        with pytest.raises(SystemExit):
            region = module.region
            assert module.region == region
            if scim_region:
                module.scim_endpoint(region=scim_region)
            module.exit_json(changed=False, region=region)
    result = json.loads(capsys.readouterr().out)
    result["warned"] = list(ansible_warnings.get_warning_messages())
    return result


@pytest.mark.parametrize("region", endpoints.CLOUDSSO_REGIONS)
def test_documented_directory_regions_give_no_warning(capsys, region):
    result = _run(capsys, {"region": region})
    assert result["region"] == region and not result["warned"]


def test_the_directory_regions_of_the_documents():
    # CreateDirectory: Shanghai, Hong Kong, Silicon Valley, Frankfurt; "CloudSSO directory regions" adds
    # Seoul and Singapore.
    assert {"cn-shanghai", "cn-hongkong", "us-west-1", "eu-central-1"} <= set(endpoints.CLOUDSSO_REGIONS)
    assert "cn-beijing" not in endpoints.CLOUDSSO_REGIONS and "cn-hangzhou" not in endpoints.CLOUDSSO_REGIONS


def test_unknown_well_formed_region_is_used_with_one_warning(capsys):
    result = _run(capsys, {"region": "cn-beijing"})
    assert result["region"] == "cn-beijing" and "failed" not in result
    warnings = [w for w in result["warned"] if "cn-beijing" in w]
    assert len(warnings) == 1
    assert "CloudSSO directories" in warnings[0] and "cn-shanghai" in warnings[0]


def test_region_from_the_environment_is_checked_too(capsys, monkeypatch):
    monkeypatch.setenv("ALIBABA_CLOUD_REGION", "cn-hangzhou")
    result = _run(capsys, {})
    assert result["region"] == "cn-hangzhou"
    assert any("cn-hangzhou" in w for w in result["warned"])


def test_other_products_regions_are_not_directory_regions(capsys):
    # IDaaS lives in cn-hangzhou: its region is no directory region, so no warning...
    result = _run(capsys, {"region": "cn-hangzhou"}, product="eiam")
    assert not result["warned"]
    # ...but the directory region given for its SCIM endpoint is one.
    result = _run(capsys, {"region": "cn-hangzhou"}, product="eiam", scim_region="cn-beijing")
    assert [w for w in result["warned"] if "cn-beijing" in w]


def test_malformed_region_still_fails(capsys):
    with patch_module_args({"region": "Shanghai"}):
        module = AlibabaCloudModule(argument_spec={})
        with pytest.raises(SystemExit):
            module.region
    result = json.loads(capsys.readouterr().out)
    assert result["failed"] and "not a valid Alibaba Cloud region ID" in result["msg"]


@pytest.mark.parametrize("region, warned", [
    ("cn-shanghai", False), ("eu-central-1", False), ("cn-beijing", True), ("me-east-1", True),
    ("not a region", False), (None, False),
])
def test_cloudsso_region_warning(region, warned):
    assert bool(endpoints.cloudsso_region_warning(region)) is warned
