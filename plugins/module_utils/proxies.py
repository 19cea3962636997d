# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Which proxy a request goes through, from the environment (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY, in
upper or lower case), as urllib and requests read it. transport.Session is the one user."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64

from urllib.parse import unquote


def env_proxies(env):
    """The proxies the environment sets ({scheme: URL}, "all" included) and the NO_PROXY list, read as urllib
    and requests read them: lower case names win over upper case ones, and HTTP_PROXY is ignored in a CGI
    request (REQUEST_METHOD set), where a client's Proxy header would arrive as that variable."""
    proxies = {}
    for lower in (False, True):
        for name, value in env.items():
            if value and name.lower().endswith("_proxy") and (name == name.lower()) == lower:
                if name == "HTTP_PROXY" and "REQUEST_METHOD" in env:
                    continue
                proxies[name.lower()[:-len("_proxy")]] = value
    return proxies, proxies.pop("no", "")


def bypasses_proxy(host, port, no_proxy):
    """NO_PROXY: names (a leading dot or none: the domain and its subdomains), host:port, IP networks
    (10.0.0.0/8) or "*"."""
    host = (host or "").lower().strip("[]")
    for entry in (e.strip().lower() for e in no_proxy.replace(" ", ",").split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        if "/" in entry:
            try:
                import ipaddress  # only for a network in NO_PROXY: one import less in every module
                if ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                pass
            continue
        name, entry_port = entry.split(":") if entry.count(":") == 1 else (entry, "")
        if entry_port and entry_port != str(port):
            continue
        name = name.lstrip(".").strip("[]")
        if host == name or host.endswith("." + name):
            return True
    return False


def proxy_headers(parts):
    """The Proxy-Authorization header for a proxy URL with a user (parts: its urlsplit), or none."""
    if parts.username is None:
        return {}
    pair = "%s:%s" % (unquote(parts.username), unquote(parts.password or ""))
    return {"Proxy-Authorization": "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")}
