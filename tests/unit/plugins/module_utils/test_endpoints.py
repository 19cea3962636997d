# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.alicloud.cloudsso.plugins.module_utils import endpoints


@pytest.mark.parametrize("product, region, expected", [
    ("cloudsso", "cn-shanghai", "https://cloudsso.cn-shanghai.aliyuncs.com"),
    ("cloudsso", "ap-southeast-1", "https://cloudsso.ap-southeast-1.aliyuncs.com"),
    ("actiontrail", "eu-central-1", "https://actiontrail.eu-central-1.aliyuncs.com"),
    ("eiam", "cn-hangzhou", "https://eiam.cn-hangzhou.aliyuncs.com"),
    ("sts", "cn-shanghai", "https://sts.aliyuncs.com"),
])
def test_public(product, region, expected):
    assert endpoints.resolve_endpoint(product, region, env={}) == expected


@pytest.mark.parametrize("product, region, env, use_vpc, expected", [
    ("cloudsso", "cn-shanghai", {}, True, "https://cloudsso-vpc.cn-shanghai.aliyuncs.com"),
    ("cloudsso", "cn-shanghai", {"ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED": "true"}, None,
     "https://cloudsso-vpc.cn-shanghai.aliyuncs.com"),
    ("cloudsso", "cn-shanghai", {"ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED": "TRUE"}, False,
     "https://cloudsso.cn-shanghai.aliyuncs.com"),
    ("actiontrail", "us-west-1", {}, True, "https://actiontrail-vpc.us-west-1.aliyuncs.com"),
    ("sts", "cn-shanghai", {}, True, "https://sts.aliyuncs.com"),
    ("sts", "cn-shanghai", {"ALIBABA_CLOUD_STS_REGION": "cn-beijing"}, True, "https://sts-vpc.cn-beijing.aliyuncs.com"),
    ("sts", "cn-shanghai", {"ALIBABA_CLOUD_STS_REGION": "cn-beijing"}, None, "https://sts.cn-beijing.aliyuncs.com"),
])
def test_vpc_and_sts_region(product, region, env, use_vpc, expected):
    assert endpoints.resolve_endpoint(product, region, use_vpc=use_vpc, env=env) == expected


@pytest.mark.parametrize("product, endpoint_url, env, expected", [
    ("cloudsso", "http://127.0.0.1:8080", {}, "http://127.0.0.1:8080"),
    ("cloudsso", "http://127.0.0.1:8080/region/{region}/", {}, "http://127.0.0.1:8080/region/ap-southeast-1"),
    ("cloudsso", "cloudsso.example.internal", {}, "https://cloudsso.example.internal"),
    ("cloudsso", None, {"ALIBABA_CLOUD_CLOUDSSO_ENDPOINT": "http://emu:1/region/{region}"}, "http://emu:1/region/ap-southeast-1"),
    ("cloudsso", "http://option", {"ALIBABA_CLOUD_CLOUDSSO_ENDPOINT": "http://env"}, "http://option"),
    ("actiontrail", None, {"ALIBABA_CLOUD_ACTIONTRAIL_ENDPOINT": "http://at:2"}, "http://at:2"),
    ("actiontrail", None, {"ALIBABA_CLOUD_CLOUDSSO_ENDPOINT": "http://only-cloudsso"},
     "https://actiontrail.ap-southeast-1.aliyuncs.com"),
    ("sts", None, {"ALIBABA_CLOUD_STS_ENDPOINT": "sts-vpc.cn-hangzhou.aliyuncs.com"}, "https://sts-vpc.cn-hangzhou.aliyuncs.com"),
    ("eiam", None, {"ALIBABA_CLOUD_IDAAS_ENDPOINT": "http://idaas:3/{region}"}, "http://idaas:3/ap-southeast-1"),
    ("cloudsso", "http://127.0.0.1:8080", {"ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED": "true"}, "http://127.0.0.1:8080"),
])
def test_overrides(product, endpoint_url, env, expected):
    assert endpoints.resolve_endpoint(product, "ap-southeast-1", endpoint_url=endpoint_url, env=env) == expected


@pytest.mark.parametrize("region, override, env, expected", [
    ("cn-shanghai", None, {}, "https://cloudsso-scim-cn-shanghai.aliyun.com/scim/v2"),
    ("ap-southeast-1", None, {}, "https://cloudsso-scim-ap-southeast-1.aliyun.com/scim/v2"),
    ("cn-shanghai", "http://127.0.0.1:8080/region/{region}/scim/v2/", {}, "http://127.0.0.1:8080/region/cn-shanghai/scim/v2"),
    ("cn-shanghai", None, {"ALIBABA_CLOUD_CLOUDSSO_SCIM_ENDPOINT": "scim.example.com/{region}"},
     "https://scim.example.com/cn-shanghai"),
    ("cn-shanghai", "http://opt", {"ALIBABA_CLOUD_CLOUDSSO_SCIM_ENDPOINT": "http://env"}, "http://opt"),
])
def test_scim_endpoint(region, override, env, expected):
    assert endpoints.scim_endpoint(region, override=override, env=env) == expected


@pytest.mark.parametrize("region, valid", [
    ("cn-shanghai", True), ("ap-southeast-1", True), ("us-west-1", True), ("cn-shanghai-finance-1", True),
    ("", False), (None, False), ("CN-SHANGHAI", False), ("shanghai", False), ("cn_shanghai", False),
    ("cn-shanghai/../x", False), ("http://x", False),
])
def test_is_valid_region(region, valid):
    assert endpoints.is_valid_region(region) is valid


def test_every_product_has_what_the_client_needs():
    for product, info in endpoints.PRODUCTS.items():
        assert info["signature"] in ("v2", "v3")
        assert info["env"].startswith("ALIBABA_CLOUD_") and info["env"].endswith("_ENDPOINT")
        assert "{region}" in info["vpc_host"]
    assert endpoints.PRODUCTS["sts"]["signature"] == "v2"
    assert endpoints.PRODUCTS["cloudsso"]["version"] == "2021-05-15"
    assert endpoints.PRODUCTS["actiontrail"]["version"] == "2020-07-06"
