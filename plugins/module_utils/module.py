# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The module base of every module that calls an API: AlibabaCloudModule adds, to the CollectionModule of
base.py, the region, the endpoints, the credential chain, clients per product, and failures turned into clear
messages that never hold a secret."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

try:
    from urllib.parse import urlsplit
except ImportError:  # pragma: no cover
    from urlparse import urlsplit  # type: ignore

from ansible_collections.alicloud.cloudsso.plugins.module_utils.base import (  # noqa: F401 pylint: disable=W0611
    CollectionModule,
    auth_argument_spec,  # importable from here too: the shared options, as module.auth_argument_spec()
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.client import RpcClient
from ansible_collections.alicloud.cloudsso.plugins.module_utils.credential_chain import (
    credentials_provider,
    profile_region,
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.endpoints import (
    cloudsso_region_warning,
    endpoint_override,
    insecure_http,
    is_valid_region,
    scim_endpoint_setting,
)
from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import AlibabaCloudError, explain
from ansible_collections.alicloud.cloudsso.plugins.module_utils.transport import new_session

REGION_ENV = ("ALIBABA_CLOUD_REGION", "ALICLOUD_REGION", "ALIBABA_CLOUD_REGION_ID")
# The option that overrides each product's endpoint when it is not the module's own (that one is endpoint_url).
ENDPOINT_OPTIONS = dict(actiontrail="actiontrail_endpoint_url", sts="sts_endpoint_url")


class AlibabaCloudModule(CollectionModule):
    """The base of a module that calls an API (CloudSSO, ActionTrail, STS, IDaaS, or Microsoft Graph with the
    Entra package). A new module picks it whenever it sends any request; a module that works on this machine
    only picks CollectionModule (base.py), which needs no HTTP session.

    Wraps AnsibleModule the way amazon.aws's AnsibleAWSModule does. `product` is the module's main API (its
    endpoint is `endpoint_url`); `client()` builds clients for it and for other products, sharing one HTTP
    session (`session`) and one credential provider. Besides what CollectionModule offers: `region`,
    `region_if_known()`, `scim_endpoint()`, `endpoint_url()`, `override()`, `client()`, `api_calls` and
    `fail_from()` (an API failure as a clear message); `exit_json()` adds `api_calls` once a client exists.
    """

    def __init__(self, argument_spec=None, product="cloudsso", **kwargs):
        self.product = product
        self._clients = {}
        super(AlibabaCloudModule, self).__init__(argument_spec=argument_spec, **kwargs)
        self._session = new_session()
        self._provider = None
        self._warned_regions = set()
        # base URL -> the option or environment variable that chose it, to name it when a call fails there
        self._endpoint_settings = {}

    def exit_json(self, **kwargs):
        if self._clients:
            kwargs.setdefault("api_calls", self.api_calls)
        self.module.exit_json(**kwargs)

    # --- options -------------------------------------------------------------------------------------
    @property
    def region(self):
        """The region from the option, the environment or the CLI profile; fails when none is found."""
        region = self.params.get("region")
        if not region:
            region = next((os.environ[name] for name in REGION_ENV if os.environ.get(name)), None)
        if not region:
            try:
                region = profile_region(self.params)
            except AlibabaCloudError as error:
                self.fail_from(error)
        if not region:
            self.fail_json(msg="region is required: set the region option, ALIBABA_CLOUD_REGION, or region_id in "
                               "the aliyun CLI profile")
        if not is_valid_region(region):
            self.fail_json(msg="region %r is not a valid Alibaba Cloud region ID (for example cn-shanghai)" % region)
        if self.product == "cloudsso":
            self.warn_unknown_directory_region(region)
        return region

    def region_if_known(self):
        """The region from the option, the environment or the CLI profile, or None when none is set (or the
        profile cannot be read): for modules that need a region only for an optional check."""
        region = self.params.get("region") or next(
            (os.environ[name] for name in REGION_ENV if os.environ.get(name)), None)
        if not region:
            try:
                region = profile_region(self.params)
            except AlibabaCloudError:
                return None
        return region or None

    def warn_unknown_directory_region(self, region):
        """Warn once per region that no document names as a CloudSSO directory region."""
        message = cloudsso_region_warning(region)
        if message and region not in self._warned_regions:
            self._warned_regions.add(region)
            self.warn(message)

    def scim_endpoint(self, override=None, region=None):
        """The SCIM base URL; the region (`region`, else the module's) is needed only when the URL template
        names it. Fails unless the result is an http(s) URL: an identity provider would be given it."""
        template, setting = scim_endpoint_setting(override, base_url=self.params.get("base_url"))
        if region and "{region}" in template:
            self.warn_unknown_directory_region(region)
        url = self.endpoint_url(template, setting, region)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or re.search(r"\s", url):
            self.fail_json(msg="%s %r is not an http(s) URL (for example https://cloudsso-scim-cn-shanghai.aliyun.com"
                               "/scim/v2)" % (setting or "scim_endpoint", url), changed=False)
        return url

    def endpoint_url(self, template, setting, region=None):
        """`template` ({region} filled with `region`, else the module's) as a URL, refused before any connection
        when it is plain http off loopback; `setting` (the option or variable that chose it) is named in the
        messages about it."""
        if "{region}" in template:
            template = template.replace("{region}", region or self.region)
        url = template.strip().rstrip("/")
        url = url if "://" in url else "https://" + url
        problem = insecure_http(url, setting, self.params.get("allow_insecure_http"))
        if problem:
            self.fail_json(msg=problem, changed=False)
        if setting:
            self._endpoint_settings[url] = setting
        return url

    def override(self, kind, value, option, env_names=()):
        """(URL template, setting) for the API `kind` from its option, its variables, else the base URL."""
        return endpoint_override(kind, value, option, env_names, base_url=self.params.get("base_url"))

    # --- clients -------------------------------------------------------------------------------------
    @property
    def session(self):
        """The HTTP session every call of this run shares."""
        return self._session

    @property
    def credentials(self):
        if self._provider is None:
            self._provider = credentials_provider(self.params, register_secret=self.register_secret,
                                                  session=self._session)
        return self._provider

    def client(self, product=None, region=None, endpoint_url=None):
        """An RpcClient for `product` (default: the module's) in `region` (default: the module's).
        The module's `endpoint_url` applies to its own product only; other products use their
        environment override or the public endpoint."""
        product = product or self.product
        region = region or self.region
        option = "endpoint_url" if product == self.product else ENDPOINT_OPTIONS.get(product)
        if endpoint_url is None and option:
            endpoint_url = self.params.get(option)
        key = (product, region, endpoint_url)
        if key not in self._clients:
            self._clients[key] = client = RpcClient(
                product, region, credentials=self.credentials, endpoint_url=endpoint_url,
                timeout=self.params["timeout"], validate_certs=self.params["validate_certs"],
                max_retries=self.params["max_retries"], use_vpc=self.params.get("use_vpc_endpoint"),
                session=self._session, base_url=self.params.get("base_url"), endpoint_option=option or "endpoint_url",
                allow_insecure_http=self.params.get("allow_insecure_http"))
            if client.setting:
                self._endpoint_settings[client.endpoint] = client.setting
        return self._clients[key]

    @property
    def api_calls(self):
        """HTTP requests made to Alibaba Cloud APIs in this run, retries included."""
        return sum(client.api_calls for client in self._clients.values())

    # --- failures ------------------------------------------------------------------------------------
    def fail_from(self, error, prefix=None, **result):
        """fail_json with a message that names the problem; the error's details go under `error`."""
        message = explain(error, product=self._product_of(error), setting=self.setting_of(error.endpoint))
        if prefix:
            message = "%s: %s" % (prefix, message)
        result.setdefault("error", error.to_dict())
        if self._clients:
            result.setdefault("api_calls", self.api_calls)
        self.fail_json(msg=message, **result)

    def setting_of(self, url):
        """The option or environment variable that chose the endpoint `url` is on, or None (the public host)."""
        url = url or ""
        bases = [base for base in self._endpoint_settings if url == base or url.startswith(base + "/")]
        return self._endpoint_settings[max(bases, key=len)] if bases else None

    def _product_of(self, error):
        for client in self._clients.values():
            if error.endpoint and error.endpoint == client.endpoint:
                return client.product
        return self.product
