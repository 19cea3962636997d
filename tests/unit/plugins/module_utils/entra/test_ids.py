"""Unit tests for plugins/module_utils/entra/ids.py: the shapes of Entra IDs, checked before any call."""

import pytest

from ansible_collections.alicloud.cloudsso.plugins.module_utils.entra import ids

from tests.helpers.graph_fakes import CLIENT, SP, TENANT


def test_invalid_entra_options():
    good = dict(tenant_id=TENANT, client_id=CLIENT, service_principal_id=SP, job_id="customappsso.abc.def")
    assert ids.invalid_entra_options(good) == []
    assert ids.invalid_entra_options(dict(good, tenant_id="contoso.onmicrosoft.com")) == []
    problems = ids.invalid_entra_options(dict(good, tenant_id="not a tenant", client_id="x", service_principal_id="y",
                                            job_id="../etc"))
    assert len(problems) == 4
    assert "tenant_id" in problems[0] and "client_id" in problems[1] and "service_principal_id" in problems[2]


@pytest.mark.parametrize("option", ["tenant_id", "client_id", "service_principal_id", "job_id"])
def test_entra_ids_with_a_trailing_newline_are_refused(option):
    params = dict(tenant_id=TENANT, client_id=CLIENT, service_principal_id=SP, job_id="customappsso.abc.def")
    assert not ids.invalid_entra_options(params)
    params[option] += "\n"
    assert any(option in problem for problem in ids.invalid_entra_options(params))


@pytest.mark.parametrize("value,guid,domain", [
    (TENANT, True, False),
    (TENANT.upper(), True, False),
    ("contoso.onmicrosoft.com", False, True),
    (TENANT + "0", False, False),
    ("not a tenant", False, False),
    ("localhost", False, False),
])
def test_guid_and_domain_patterns(value, guid, domain):
    assert bool(ids.GUID.fullmatch(value)) is guid
    assert bool(ids.DOMAIN.fullmatch(value)) is domain


def test_job_id_pattern():
    assert ids.JOB_ID.fullmatch("customappsso.6f1e2d3c4b5a69788796a5b4c3d2e1f0.8a7b6c5d-4e3f-2a1b-0c9d-8e7f6a5b4c3d")
    for bad in ("../etc", "a/b", ".hidden", "a" * 201, "job id"):
        assert not ids.JOB_ID.fullmatch(bad)

