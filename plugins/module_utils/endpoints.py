# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Where each product lives: API version, public and VPC host per region, and the override variables."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

# product -> API version, public host, VPC host, endpoint override variable, signature version
PRODUCTS = {
    "cloudsso": dict(version="2021-05-15", host="cloudsso.{region}.aliyuncs.com",
                     vpc_host="cloudsso-vpc.{region}.aliyuncs.com", env="ALIBABA_CLOUD_CLOUDSSO_ENDPOINT",
                     signature="v3"),
    "actiontrail": dict(version="2020-07-06", host="actiontrail.{region}.aliyuncs.com",
                        vpc_host="actiontrail-vpc.{region}.aliyuncs.com", env="ALIBABA_CLOUD_ACTIONTRAIL_ENDPOINT",
                        signature="v3"),
    # STS is global; a regional endpoint is used when a region is given through ALIBABA_CLOUD_STS_REGION.
    "sts": dict(version="2015-04-01", host="sts.aliyuncs.com", regional_host="sts.{region}.aliyuncs.com",
                vpc_host="sts-vpc.{region}.aliyuncs.com", env="ALIBABA_CLOUD_STS_ENDPOINT", signature="v2"),
    "eiam": dict(version="2021-12-01", host="eiam.{region}.aliyuncs.com", vpc_host="eiam-vpc.{region}.aliyuncs.com",
                 env="ALIBABA_CLOUD_IDAAS_ENDPOINT", signature="v3"),
}

# Regions where a CloudSSO directory can be created. The CreateDirectory page names cn-shanghai,
# cn-hongkong, us-west-1 and eu-central-1; the newer "CloudSSO directory regions" page
# (help.aliyun.com/en/cloudsso/product-overview/sso-region-description) adds ap-northeast-2 (Seoul) and
# ap-southeast-1 (Singapore). Other well-formed regions get a warning, never a refusal: the list grows
# faster than this collection is released.
CLOUDSSO_REGIONS = ("cn-shanghai", "cn-hongkong", "ap-northeast-2", "ap-southeast-1", "us-west-1", "eu-central-1")

SCIM_ENDPOINT_TEMPLATE = "https://cloudsso-scim-{region}.aliyun.com/scim/v2"
SCIM_ENDPOINT_ENV = "ALIBABA_CLOUD_CLOUDSSO_SCIM_ENDPOINT"
VPC_ENV = "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED"

REGION_PATTERN = re.compile(r"^[a-z]{2,}(-[a-z0-9]+){1,3}$")


def is_valid_region(region):
    return bool(region) and bool(REGION_PATTERN.fullmatch(region))


def cloudsso_region_warning(region):
    """A warning for a well-formed region where no document says a CloudSSO directory can be, else None."""
    if not is_valid_region(region) or region in CLOUDSSO_REGIONS:
        return None
    return ("region %r is not one where Alibaba Cloud documents CloudSSO directories (%s): check the region; "
            "the call is made anyway, as the list may have grown." % (region, ", ".join(CLOUDSSO_REGIONS)))


def _fill(template, region):
    return template.replace("{region}", region or "")


def _with_scheme(url):
    url = url.strip().rstrip("/")
    return url if "://" in url else "https://" + url


def resolve_endpoint(product, region, endpoint_url=None, use_vpc=None, env=None):
    """The base URL (scheme, host, optional path, no trailing slash) for `product` in `region`.

    Precedence: `endpoint_url` (module option), the product's environment variable, then the public
    (or VPC) host. Overrides may contain `{region}`, filled with the region.
    """
    env = os.environ if env is None else env
    info = PRODUCTS[product]
    override = endpoint_url or env.get(info["env"])
    if override:
        return _with_scheme(_fill(override, region))
    if use_vpc is None:
        use_vpc = str(env.get(VPC_ENV, "")).lower() == "true"
    if product == "sts":
        sts_region = env.get("ALIBABA_CLOUD_STS_REGION")
        if use_vpc and sts_region:
            return "https://" + _fill(info["vpc_host"], sts_region)
        return "https://" + (_fill(info["regional_host"], sts_region) if sts_region else info["host"])
    template = info["vpc_host"] if use_vpc else info["host"]
    return "https://" + _fill(template, region)


def scim_endpoint_template(override=None, env=None):
    env = os.environ if env is None else env
    return override or env.get(SCIM_ENDPOINT_ENV) or SCIM_ENDPOINT_TEMPLATE


def scim_endpoint(region, override=None, env=None):
    """The SCIM base URL an identity provider uses for a directory in `region` (no trailing slash)."""
    return _with_scheme(_fill(scim_endpoint_template(override, env), region))
