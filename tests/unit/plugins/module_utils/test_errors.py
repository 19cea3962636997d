# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.alicloud.cloudsso.plugins.module_utils.errors import (
    AlibabaCloudError,
    ApiError,
    CONNECTION_FAILED,
    CredentialError,
    INVALID_ENDPOINT,
    TIMEOUT,
    TLS_ERROR,
    explain,
    ram_action,
)

# Values that must never reach an explanation: only code, action and the service's message may.
HIDDEN = dict(request_id="hiddenRequestId-1", recommend="https://hidden.recommend/?secret=hiddenRecommend")


def make(code=None, status=None, message="service message", action="CreateSCIMServerCredential", **kwargs):
    values = dict(HIDDEN)
    values.update(kwargs)
    return AlibabaCloudError(message, code=code, status=status, action=action,
                             endpoint="https://cloudsso.cn-shanghai.aliyuncs.com", **values)


@pytest.mark.parametrize("error, product, expected", [
    (make("SignatureDoesNotMatch", 400), "cloudsso", ["SignatureDoesNotMatch", "access key secret", "access_key_secret"]),
    (make("InvalidAccessKeyId.NotFound", 404), "cloudsso", ["InvalidAccessKeyId.NotFound", "access key ID", "access_key_id"]),
    (make("InvalidAccessKeyId.Inactive", 400), "cloudsso", ["InvalidAccessKeyId.Inactive", "disabled"]),
    (make("NoPermission", 403), "cloudsso", ["denied (NoPermission)", "`cloudsso:CreateSCIMServerCredential`", "service message"]),
    (make("Forbidden.RAM", 403, action="LookupEvents"), "actiontrail", ["Forbidden.RAM", "`actiontrail:LookupEvents`"]),
    (make("Forbidden.NoPermission", 403, action="DeleteSCIMServerCredential"), "cloudsso",
     ["`cloudsso:DeleteSCIMServerCredential`"]),
    (make("EntityNotExists.Directory", 404, "The specified directory does not exist.", action="ListSCIMServerCredentials"),
     "cloudsso", ["ListSCIMServerCredentials", "EntityNotExists.Directory", "The specified directory does not exist.",
                  "in one account", "scim_rotation_auth"]),
    (make("EntityNotExists.SCIMCredential", 404), "cloudsso", ["EntityNotExists.SCIMCredential"]),
    (make("Throttling.User", 400, attempts=6), "cloudsso", ["still throttled (Throttling.User) after 6 attempt(s)", "max_retries"]),
    (make(None, 429, attempts=3), "cloudsso", ["still throttled (429) after 3 attempt(s)"]),
    (make(TIMEOUT, None, "no answer within 30 seconds (ReadTimeout)", attempts=1), "cloudsso",
     ["timed out", "cloudsso.cn-shanghai.aliyuncs.com", "Raise `timeout`"]),
    (make(CONNECTION_FAILED, None, "Connection refused"), "cloudsso",
     ["Cannot reach the endpoint", "Connection refused", "Check region", "endpoint_url or base_url"]),
    (make(TLS_ERROR, None, "CERTIFICATE_VERIFY_FAILED"), "cloudsso", ["TLS", "CERTIFICATE_VERIFY_FAILED"]),
    (make(INVALID_ENDPOINT, None, "invalid endpoint URL"), "cloudsso", ["not usable"]),
    (make("InvalidSecurityToken.Expired", 400), "cloudsso", ["InvalidSecurityToken.Expired", "STS security token"]),
    (make("InvalidSecurityToken.MismatchWithAccessKey", 400), "cloudsso", ["security token"]),
    (make("InvalidTimeStamp.Expired", 400), "cloudsso", ["clock", "NTP"]),
    (make("InvalidParameter.DirectoryId", 400, "DirectoryId is invalid"), "cloudsso", ["rejected a parameter", "DirectoryId is invalid"]),
    (make("MissingParameter", 400), "cloudsso", ["rejected a parameter"]),
    (make("InternalError", 500, attempts=6), "cloudsso", ["server side", "InternalError", "6 attempt(s)"]),
    (make("SomethingNew", 409), "cloudsso", ["SomethingNew", "HTTP 409", "service message"]),
    (CredentialError("assume_role of acs:ram::1:role/r failed: NoPermission: denied (HTTP 403)", code="NoPermission", status=403),
     "cloudsso", ["No usable Alibaba Cloud credentials", "assume_role", "NoPermission"]),
], ids=lambda value: value.code if isinstance(value, AlibabaCloudError) else None)
def test_explain(error, product, expected):
    text = explain(error, product=product)
    for fragment in expected:
        assert fragment in text
    for hidden in HIDDEN.values():
        assert hidden not in text


def test_permission_error_without_product_still_explains():
    text = explain(make("NoPermission", 403))
    assert "RAM" in text and "Allow `the action`" in text


def test_ram_action():
    assert ram_action("cloudsso", "CreateSCIMServerCredential") == "cloudsso:CreateSCIMServerCredential"
    assert ram_action("eiam", "SetApplicationProvisioningConfig") == "eiam:SetApplicationProvisioningConfig"
    assert ram_action("other", "X") == "other:X"


def test_error_properties_and_to_dict():
    error = make("Throttling.Api", 400, attempts=2)
    assert error.is_throttling and not error.is_connection_error
    assert make(None, 429).is_throttling and not make("InternalError", 500).is_throttling
    assert make(CONNECTION_FAILED).is_connection_error and make(TIMEOUT).is_connection_error
    assert error.to_dict() == dict(code="Throttling.Api", message="service message", http_status=400,
                                   request_id=HIDDEN["request_id"], action="CreateSCIMServerCredential", attempts=2)
    assert "recommend" not in error.to_dict()


def test_credential_error_defaults():
    error = CredentialError("nothing found")
    assert (error.code, error.request_sent, error.status) == ("CredentialError", False, None)
    assert str(error) == "nothing found"


def test_every_error_kind_is_an_api_error():
    assert issubclass(AlibabaCloudError, ApiError) and issubclass(CredentialError, AlibabaCloudError)
    neutral = ApiError("no answer", code=CONNECTION_FAILED, action="Some call", endpoint="https://api.example")
    assert neutral.is_connection_error and neutral.explanation() is None
    assert neutral.to_dict() == dict(code=CONNECTION_FAILED, message="no answer", action="Some call", attempts=1)
    # Without words of its own, an ApiError is explained the common way.
    assert explain(neutral).startswith("Cannot reach the endpoint at https://api.example for Some call: no answer.")


def test_an_error_kind_with_its_own_words_explains_itself():
    class OwnWords(ApiError):
        def explanation(self, product=None, setting=None):
            return "own words (%s, %s)" % (product, setting)

    assert explain(OwnWords("x", code="NoPermission"), product="p", setting="s") == "own words (p, s)"
