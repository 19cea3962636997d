"""CloudSSO rules the collection relies on: two credentials, secret shown once, IDs, regions, expiry."""

import pytest
from alibabacloud_cloudsso20210515 import models as sso
from alibabacloud_tea_openapi.exceptions import ClientException

from tests.helpers.emulator import EmulatorError, make_access_key


def _create(c, did):
    req = sso.CreateSCIMServerCredentialRequest(directory_id=did)
    return c.create_scimserver_credential(req).body.scimserver_credential


def _list(c, did):
    return c.list_scimserver_credentials(sso.ListSCIMServerCredentialsRequest(directory_id=did)).body


def test_two_credential_limit_names_existing_ids_and_frees_up_after_delete(world):
    c, did = world.sso(), world.directory_id
    first, second = _create(c, did), _create(c, did)
    with pytest.raises(ClientException) as info:
        _create(c, did)
    assert info.value.code == "LimitExceeded.SCIMCredential"
    assert first.credential_id in info.value.message and second.credential_id in info.value.message
    assert _list(c, did).total_counts == 2
    c.delete_scimserver_credential(sso.DeleteSCIMServerCredentialRequest(directory_id=did,
                                                                          credential_id=first.credential_id))
    third = _create(c, did)
    assert {x.credential_id for x in _list(c, did).scimserver_credentials} == {second.credential_id,
                                                                                third.credential_id}


def test_secret_only_returned_by_create_and_unique(world):
    c, did = world.sso(), world.directory_id
    a, b = _create(c, did), _create(c, did)
    assert a.credential_secret != b.credential_secret
    raw_list = _list(c, did).to_map()
    assert a.credential_secret not in str(raw_list) and "CredentialSecret" not in str(raw_list)
    updated = c.update_scimserver_credential_status(sso.UpdateSCIMServerCredentialStatusRequest(
        directory_id=did, credential_id=a.credential_id, new_status="Disabled")).body.to_map()
    assert "CredentialSecret" not in str(updated)
    state = world.control.state()
    assert a.credential_secret not in str(state)
    assert a.credential_secret in world.control.secrets()  # the leak-scan list has it


def test_secret_never_in_events_or_logs(world):
    c, did = world.sso(), world.directory_id
    secret = _create(c, did).credential_secret
    events = world.control.events(account_id=world.account_id)["events"]
    assert any(e["eventName"] == "CreateSCIMServerCredential" for e in events)
    assert secret not in str(events)
    assert secret not in world.emu.stderr() and world.ak["secret"] not in world.emu.stderr()


@pytest.mark.parametrize("did,code", [
    ("d-ABCDEFGHIJKL", "InvalidParameter.DirectoryId"),
    ("d-short", "InvalidParameter.DirectoryId"),
    ("", "MissingParameter.DirectoryId"),
])
def test_malformed_directory_ids(world, did, code):
    with pytest.raises(ClientException) as info:
        _list(world.sso(), did or None)
    assert info.value.code == code and info.value.status_code == 400


def test_bad_credential_id_and_status(world):
    c, did = world.sso(), world.directory_id
    cred = _create(c, did)
    with pytest.raises(ClientException) as info:
        c.update_scimserver_credential_status(sso.UpdateSCIMServerCredentialStatusRequest(
            directory_id=did, credential_id="scimcred-TOO-SHORT", new_status="Disabled"))
    assert info.value.code == "InvalidParameter.CredentialId"
    with pytest.raises(ClientException) as info:
        c.update_scimserver_credential_status(sso.UpdateSCIMServerCredentialStatusRequest(
            directory_id=did, credential_id=cred.credential_id, new_status="disabled"))
    assert info.value.code == "InvalidParameter.NewStatus"
    with pytest.raises(ClientException) as info:
        c.update_scimserver_credential_status(sso.UpdateSCIMServerCredentialStatusRequest(
            directory_id=did, credential_id=cred.credential_id))
    assert info.value.code == "MissingParameter.NewStatus"
    with pytest.raises(ClientException) as info:
        c.set_scimsynchronization_status(sso.SetSCIMSynchronizationStatusRequest(
            directory_id=did, scimsynchronization_status="On"))
    assert info.value.code == "InvalidParameter.SCIMSynchronizationStatus"


def test_credential_of_another_directory_is_not_found(world):
    neighbour = make_access_key(account_id="8888888888888888")
    other = world.control.seed({"access_keys": [neighbour], "directories": [{"account_id": "8888888888888888"}]}
                               )["directories"][0]["directory_id"]
    cred = _create(world.sso(), world.directory_id)
    with pytest.raises(ClientException) as info:
        world.sso(neighbour).delete_scimserver_credential(sso.DeleteSCIMServerCredentialRequest(
            directory_id=other, credential_id=cred.credential_id))
    assert info.value.code == "EntityNotExists.SCIMCredential"


def test_one_directory_per_account(world):
    """"You can create only one directory for a management account" (CreateDirectory): a second one for the
    same account is refused with the rule in the message; another account may have its own."""
    with pytest.raises(EmulatorError) as info:
        world.control.seed({"directories": [{"account_id": world.account_id}]})
    assert info.value.status == 400
    assert "only one directory for a management account" in info.value.body and world.directory_id in info.value.body
    with pytest.raises(EmulatorError):
        world.control.seed({"directories": [{"account_id": "7777777777777777"}, {"account_id": "7777777777777777"}]})
    seeded = world.control.seed({"directories": [{"account_id": "7777777777777777"}]})["directories"]
    assert [d["account_id"] for d in seeded] == ["7777777777777777"]


def test_directory_of_another_account_is_not_found(world):
    stranger = make_access_key(account_id="9999999999999999")
    world.control.seed({"access_keys": [stranger]})
    with pytest.raises(ClientException) as info:
        _list(world.sso(stranger), world.directory_id)
    assert info.value.code == "EntityNotExists.Directory"


def test_expired_credential_stays_listed_with_its_status(world):
    c, did = world.sso(), world.directory_id
    cred = _create(c, did)
    world.control.clock(advance_seconds=366 * 86400)
    listed = _list(c, did).scimserver_credentials
    assert [(x.credential_id, x.status) for x in listed] == [(cred.credential_id, "Enabled")]
    assert world.control.state()["credentials"][0]["expired"] is True


def test_seeded_create_time_sets_expiry_one_year_later(world):
    seeded = world.control.seed({"credentials": [{"directory_id": world.directory_id, "status": "Disabled",
                                                  "create_time": "2024-02-29T10:00:00Z"}]})["credentials"][0]
    assert seeded["create_time"] == "2024-02-29T10:00:00Z"
    assert seeded["expire_time"] == "2025-02-28T10:00:00Z"  # no 29 February in 2025: the day before
    listed = _list(world.sso(), world.directory_id).scimserver_credentials[0]
    assert listed.status == "Disabled" and listed.create_time == "2024-02-29T10:00:00Z"


@pytest.mark.parametrize("created, expires", [
    ("2027-03-01T08:35:26Z", "2028-03-01T08:35:26Z"),  # 365 days would give 2028-02-29
    ("2028-01-15T00:00:00Z", "2029-01-15T00:00:00Z"),  # 365 days would give 2029-01-14
    ("2028-02-29T23:59:59Z", "2029-02-28T23:59:59Z"),  # created on 29 February: 28 February
    ("2026-12-06T18:00:00Z", "2027-12-06T18:00:00Z"),  # no 29 February in between
])
def test_expire_time_is_one_calendar_year_after_create_time(world, created, expires):
    """The documented sample is CreateTime 2021-06-30T08:35:26Z, ExpireTime 2022-06-30T08:35:26Z: same month,
    day and time one year later, also when the year in between holds a 29 February."""
    world.control.clock(now=created)
    cred = _create(world.sso(), world.directory_id)
    assert (cred.create_time, cred.expire_time) == (created, expires)
    listed = _list(world.sso(), world.directory_id).scimserver_credentials[0]
    assert (listed.create_time, listed.expire_time) == (created, expires)


def test_reenabling_and_same_status_are_accepted(world):
    c, did = world.sso(), world.directory_id
    cred = _create(c, did)
    for status in ("Enabled", "Disabled", "Disabled", "Enabled"):
        out = c.update_scimserver_credential_status(sso.UpdateSCIMServerCredentialStatusRequest(
            directory_id=did, credential_id=cred.credential_id, new_status=status)).body.scimserver_credential
        assert out.status == status


def test_optional_rule_forbidding_deletion_of_enabled_credentials(world):
    world.control.config(cloudsso_forbid_delete_enabled=True)
    c, did = world.sso(), world.directory_id
    cred = _create(c, did)
    with pytest.raises(ClientException) as info:
        c.delete_scimserver_credential(sso.DeleteSCIMServerCredentialRequest(directory_id=did,
                                                                              credential_id=cred.credential_id))
    assert info.value.code == "DeletionConflict.SCIMCredential.Enabled"
