# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Where each product lives: API version, public and VPC host per region, and the override variables."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover
    from urlparse import urlsplit  # type: ignore

try:
    import ipaddress
except ImportError:  # pragma: no cover - Python 2 without the backport: names are compared only
    ipaddress = None

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

# One base URL that serves every API (the emulator does: docs/emulator.md, "One port, every API"), and
# where each API lives below it. Any more specific setting wins over it.
BASE_URL_OPTION = "base_url"
BASE_URL_ENV = "ALIBABA_CLOUD_CLOUDSSO_BASE_URL"
BASE_PATHS = dict(cloudsso="/region/{region}", actiontrail="/region/{region}", eiam="/region/{region}", sts="",
                  scim="/region/{region}/scim/v2", graph="", login="")
INSECURE_HTTP_OPTION = "allow_insecure_http"

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


def endpoint_override(kind, value=None, option=None, env_names=(), base_url=None, env=None):
    """The URL template that governs the API `kind` and the name of the setting it came from, or
    (None, None) when the built-in default applies.

    Options before the environment, the specific before the base URL: the specific option (`value`, named
    `option`), the base_url option, the specific environment variables `env_names`, then
    ALIBABA_CLOUD_CLOUDSSO_BASE_URL. The base URL gets the API's path below it.
    """
    env = os.environ if env is None else env
    if value:
        return value, option
    if base_url:
        return _with_scheme(base_url) + BASE_PATHS[kind], BASE_URL_OPTION
    for name in env_names:
        if env.get(name):
            return env[name], name
    if env.get(BASE_URL_ENV):
        return _with_scheme(env[BASE_URL_ENV]) + BASE_PATHS[kind], BASE_URL_ENV
    return None, None


def resolve_endpoint(product, region, endpoint_url=None, use_vpc=None, env=None, base_url=None):
    """The base URL (scheme, host, optional path, no trailing slash) for `product` in `region`."""
    return resolve_endpoint_setting(product, region, endpoint_url, use_vpc, env, base_url)[0]


def resolve_endpoint_setting(product, region, endpoint_url=None, use_vpc=None, env=None, base_url=None,
                             option="endpoint_url"):
    """(base URL, name of the setting that chose it or None for the public host) for `product` in `region`.

    Precedence: `endpoint_url` (the module option named `option`), the base_url option, the product's
    environment variable, ALIBABA_CLOUD_CLOUDSSO_BASE_URL, then the public (or VPC) host. Overrides may contain
    `{region}`, filled with the region.
    """
    env = os.environ if env is None else env
    info = PRODUCTS[product]
    override, setting = endpoint_override(product, endpoint_url, option, (info["env"],), base_url, env)
    if override:
        return _with_scheme(_fill(override, region)), setting
    return _public_endpoint(product, region, use_vpc, env), None


def _public_endpoint(product, region, use_vpc, env):
    info = PRODUCTS[product]
    if use_vpc is None:
        use_vpc = str(env.get(VPC_ENV, "")).lower() == "true"
    if product == "sts":
        sts_region = env.get("ALIBABA_CLOUD_STS_REGION")
        if use_vpc and sts_region:
            return "https://" + _fill(info["vpc_host"], sts_region)
        return "https://" + (_fill(info["regional_host"], sts_region) if sts_region else info["host"])
    template = info["vpc_host"] if use_vpc else info["host"]
    return "https://" + _fill(template, region)


def scim_endpoint_setting(override=None, env=None, base_url=None, option="scim_endpoint"):
    """(SCIM URL template, name of the setting that gave it or None for CloudSSO's public one)."""
    template, setting = endpoint_override("scim", override, option, (SCIM_ENDPOINT_ENV,), base_url, env)
    return (template, setting) if template else (SCIM_ENDPOINT_TEMPLATE, None)


def scim_endpoint_template(override=None, env=None, base_url=None):
    return scim_endpoint_setting(override, env, base_url)[0]


def scim_endpoint(region, override=None, env=None, base_url=None):
    """The SCIM base URL an identity provider uses for a directory in `region` (no trailing slash)."""
    return _with_scheme(_fill(scim_endpoint_template(override, env, base_url), region))


def is_loopback(host):
    """127.0.0.0/8, ::1 and the name localhost: traffic to them never leaves this machine."""
    host = (host or "").strip("[]").lower().rstrip(".")
    if host == "localhost":
        return True
    if ipaddress is None:
        return host == "::1" or host.startswith("127.")
    try:
        return ipaddress.ip_address(u"%s" % host).is_loopback
    except ValueError:
        return False


def insecure_http(url, setting, allowed=False):
    """The message that refuses `url` when it is plain http to a host off this machine, else None.

    A SCIM secret, an access key signature or an Entra client secret would cross the network in clear;
    only loopback (the emulator, a local proxy) is accepted unless `allowed` (allow_insecure_http).
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None  # not a URL at all: the transport reports it
    if allowed or parts.scheme.lower() != "http" or is_loopback(host):
        return None
    return ("refusing plain http to %s (%s, set by %s): secrets would cross the network unencrypted. Use "
            "https, or set %s=true if the network to that host is trusted"
            % (host, url.split("?")[0], setting or "the default", INSECURE_HTTP_OPTION))
