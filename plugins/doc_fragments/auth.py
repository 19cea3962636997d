# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Authentication and connection options shared by every module of the collection.
    DOCUMENTATION = r"""
options:
  access_key_id:
    description:
      - Alibaba Cloud access key ID.
      - Credentials are looked up in this order, and the first source that is configured is the only one
        used (if it fails, the task fails rather than acting as another identity).
      - 1. Options. O(access_key_id) with O(access_key_secret) (and O(security_token)); else O(profile)
        or O(shared_credentials_file); else O(ecs_role_name).
      - 2. Environment variables E(ALIBABA_CLOUD_ACCESS_KEY_ID), E(ALIBABA_CLOUD_ACCESS_KEY_SECRET),
        E(ALIBABA_CLOUD_SECURITY_TOKEN), then E(ALICLOUD_ACCESS_KEY), E(ALICLOUD_SECRET_KEY),
        E(ALICLOUD_SECURITY_TOKEN) of the alibaba.alicloud collection. Half of a pair is an error.
      - 3. OIDC / RRSA when E(ALIBABA_CLOUD_ROLE_ARN), E(ALIBABA_CLOUD_OIDC_PROVIDER_ARN) and
        E(ALIBABA_CLOUD_OIDC_TOKEN_FILE) are all set (E(ALIBABA_CLOUD_ROLE_SESSION_NAME) names the session).
      - 4. The aliyun CLI configuration file (see O(profile)); skipped when
        E(ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true).
      - 5. The ECS instance RAM role (see O(ecs_role_name)); when no role is configured, a one-second
        probe of the metadata service, skipped when E(ALIBABA_CLOUD_ECS_METADATA_DISABLED=true).
      - 6. The credentials URI in E(ALIBABA_CLOUD_CREDENTIALS_URI).
      - Then O(assume_role), if set, assumes a RAM role with the credentials found.
    type: str
    aliases: [alicloud_access_key, access_key]
  access_key_secret:
    description:
      - Alibaba Cloud access key secret. Never logged.
    type: str
    aliases: [alicloud_secret_key, secret_key]
  security_token:
    description:
      - STS security token, for temporary credentials. Never logged.
    type: str
    aliases: [alicloud_security_token]
  region:
    description:
      - The region of the CloudSSO directory, for example V(cn-shanghai) or V(ap-southeast-1).
      - Defaults to E(ALIBABA_CLOUD_REGION), E(ALICLOUD_REGION), E(ALIBABA_CLOUD_REGION_ID), then the
        C(region_id) of the aliyun CLI profile in use.
      - A directory lives in one of the regions Alibaba Cloud documents for CloudSSO directories (V(cn-shanghai),
        V(cn-hongkong), V(ap-northeast-2), V(ap-southeast-1), V(us-west-1), V(eu-central-1)). Another well-formed
        region ID is used with a warning, as the list grows; a malformed one fails.
    type: str
    aliases: [alicloud_region, region_id]
  profile:
    description:
      - Name of the profile to use in the aliyun CLI configuration file. Profile modes C(AK), C(StsToken),
        C(RamRoleArn), C(ChainableRamRoleArn), C(EcsRamRole), C(OIDC) and C(CredentialsURI) are supported.
      - Defaults to E(ALIBABA_CLOUD_PROFILE), E(ALICLOUD_PROFILE), then the file's C(current) profile. A
        profile named by the option or a variable must exist.
    type: str
  shared_credentials_file:
    description:
      - Path of the aliyun CLI configuration file.
      - Defaults to E(ALIBABA_CLOUD_CONFIG_FILE), E(ALICLOUD_SHARED_CREDENTIALS_FILE), then
        C(~/.aliyun/config.json).
    type: path
  assume_role:
    description:
      - Assume this RAM role with STS C(AssumeRole) on top of the credentials found as above.
      - The STS endpoint is C(sts.aliyuncs.com), C(sts.<region>.aliyuncs.com) when
        E(ALIBABA_CLOUD_STS_REGION) is set, or O(sts_endpoint_url).
    type: dict
    aliases: [alicloud_assume_role]
    suboptions:
      role_arn:
        description: ARN of the RAM role, C(acs:ram::<account-id>:role/<name>).
        type: str
        required: true
      session_name:
        description: Role session name, visible in ActionTrail.
        type: str
        default: alicloud-cloudsso
      duration_seconds:
        description: Lifetime of the temporary credentials, 900 to 43200 seconds.
        type: int
        default: 3600
      external_id:
        description: External ID the role's trust policy requires.
        type: str
      policy:
        description: A session policy (JSON document) that further limits the role's permissions.
        type: str
  ecs_role_name:
    description:
      - Name of the RAM role attached to the ECS instance this runs on. Credentials come from the
        instance metadata service (IMDSv2, falling back to v1 unless E(ALIBABA_CLOUD_IMDSV1_DISABLED) is
        V(true)).
      - Defaults to E(ALIBABA_CLOUD_ECS_METADATA). The metadata service is reached directly at
        C(100.100.100.200) (or E(ALIBABA_CLOUD_ECS_METADATA_ENDPOINT)); behind an HTTP proxy, add that
        address to E(NO_PROXY).
    type: str
  endpoint_url:
    description:
      - Override the endpoint of the module's own API (CloudSSO; IDaaS for M(alicloud.cloudsso.idaas_provisioning_token)).
        V({region}) in the value is replaced with the region.
      - Defaults to O(base_url), then E(ALIBABA_CLOUD_CLOUDSSO_ENDPOINT) (E(ALIBABA_CLOUD_IDAAS_ENDPOINT) for
        IDaaS), then E(ALIBABA_CLOUD_CLOUDSSO_BASE_URL), then C(https://cloudsso.<region>.aliyuncs.com).
    type: str
  base_url:
    description:
      - One base URL that serves every API this collection calls, such as the emulator of the source
        repository (for example V(http://127.0.0.1:8080)). Every endpoint not set more specifically is derived
        from it, the region being a path prefix, as the emulator expects
        (see the collection's C(docs/emulator.md)).
      - CloudSSO, ActionTrail and IDaaS at C(<base_url>/region/<region>), STS at C(<base_url>), the SCIM
        endpoint at C(<base_url>/region/<region>/scim/v2), Microsoft Graph and the Entra ID login endpoint at
        C(<base_url>).
      - Options win over environment variables, and a specific setting over a base URL. The order is the
        specific option (O(endpoint_url), O(actiontrail_endpoint_url), O(sts_endpoint_url), C(scim_endpoint),
        C(graph_endpoint), C(login_endpoint)), then O(base_url), then the specific environment variable, then
        E(ALIBABA_CLOUD_CLOUDSSO_BASE_URL).
    type: str
  actiontrail_endpoint_url:
    description:
      - Override the ActionTrail endpoint, used to find which credential an identity provider calls with.
        V({region}) in the value is replaced with the ActionTrail region.
      - Defaults to O(base_url), then E(ALIBABA_CLOUD_ACTIONTRAIL_ENDPOINT), then
        E(ALIBABA_CLOUD_CLOUDSSO_BASE_URL), then C(https://actiontrail.<region>.aliyuncs.com).
      - Accepted by every module (so that C(module_defaults) can set it for a group); only those that read
        ActionTrail use it.
    type: str
  sts_endpoint_url:
    description:
      - Override the STS endpoint, used by O(assume_role) and by OIDC / RRSA credentials.
      - Defaults to O(base_url), then E(ALIBABA_CLOUD_STS_ENDPOINT), then E(ALIBABA_CLOUD_CLOUDSSO_BASE_URL), then
        C(sts.aliyuncs.com)
        (C(sts.<region>.aliyuncs.com) when E(ALIBABA_CLOUD_STS_REGION) is set).
    type: str
  allow_insecure_http:
    description:
      - Allow plain C(http://) endpoints on hosts other than this machine.
      - By default an endpoint given as C(http://) is accepted only for loopback (C(127.0.0.0/8), C(::1),
        C(localhost)), such as the emulator; elsewhere a signed request, a SCIM secret or an Entra ID client
        secret would cross the network unencrypted. The refusal happens before any connection and names the
        setting that chose the endpoint.
      - Set to V(true) only for a test endpoint on a network you trust.
    type: bool
    default: false
  use_vpc_endpoint:
    description:
      - Use the VPC endpoints (for example C(cloudsso-vpc.<region>.aliyuncs.com)) instead of the public ones.
      - Defaults to E(ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED).
    type: bool
  validate_certs:
    description:
      - Verify TLS certificates. Set to V(false) only for a test endpoint.
      - Certificates are verified against the system's CA store; E(REQUESTS_CA_BUNDLE) or E(CURL_CA_BUNDLE)
        replace it, and OpenSSL reads E(SSL_CERT_FILE) and E(SSL_CERT_DIR).
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for each HTTP answer.
    type: int
    default: 30
  max_retries:
    description:
      - How many times a throttled or failed call is retried, with jittered exponential backoff.
      - A call that creates something is never retried once it may have reached the server.
    type: int
    default: 5
notes:
  - HTTP goes through the proxy that E(HTTPS_PROXY), E(HTTP_PROXY) or E(ALL_PROXY) name (lower case too;
    an C(http://) proxy, with a CONNECT tunnel for https), unless E(NO_PROXY) lists the host.
  - All modules of this collection are in the action group C(alicloud.cloudsso.cloudsso), so
    C(module_defaults) can set these options once for a play.
  - Secrets given as options or found by the credential chain are never logged or returned.
requirements:
  - python >= 3.8
"""
