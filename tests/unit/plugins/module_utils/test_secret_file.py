"""secret_file: token files read once and refused unless shaped like a token or this collection's JSON,
special files and untrusted folders refused, and the in-flight marker of a create."""

import json
import os
import stat

import pytest

from ansible_collections.alicloud.cloudsso.plugins.module_utils import secret_file as sf

TOKEN = "A1b2-C3d4_E5f6.G7h8~" * 3
ENVIRON = b"PATH=/usr/bin\x00ALIBABA_CLOUD_ACCESS_KEY_SECRET=Planted-Secret-Value\x00HOME=/root\x00"


def write(path, content, mode=0o600):
    with open(str(path), "wb") as handle:
        handle.write(content if isinstance(content, bytes) else content.encode("utf-8"))
    os.chmod(str(path), mode)
    return str(path)


def test_a_plain_token_file_and_a_secret_file_are_read(tmp_path):
    assert sf.read_token_file(write(tmp_path / "t", TOKEN + "\r\n")) == (TOKEN, {})
    secret = write(tmp_path / "s.json", json.dumps({"directory_id": "d-00fc2p61abcd", "credential_id": "scimcred-x",
                                                    "credential_secret": TOKEN, "create_time": None}))
    assert sf.read_token_file(secret) == (TOKEN, {"directory_id": "d-00fc2p61abcd", "credential_id": "scimcred-x"})
    assert sf.read_token(secret) == TOKEN


@pytest.mark.parametrize("content, reason", [
    (ENVIRON, "holds characters that are not printable ASCII"),
    ("first line\nsecond line\n", "holds more than one line"),
    ("Planted-Secret value", "holds spaces"),
    ("Planted-Secret-\u00e9t\u00e9", "not printable ASCII"),
    ("x" * (sf.MAX_TOKEN_LENGTH + 1), "is longer than 16384 characters"),
    (b"y" * (sf.MAX_FILE_BYTES + 10), "is larger than 65536 bytes"),
])
def test_anything_not_shaped_like_a_token_is_refused_without_its_content(tmp_path, content, reason):
    path = write(tmp_path / "t", content)
    with pytest.raises(sf.SecretFileError) as raised:
        sf.read_token_file(path)
    message = str(raised.value)
    assert reason in message and path in message
    assert "Planted" not in message and "PATH" not in message and "xxxx" not in message


def test_proc_self_environ_is_refused(tmp_path):
    # NUL-separated variables: refused as not printable ASCII, or for the spaces a value holds (the process's own
    # environment decides which comes first, e.g. make's MAKEFLAGS); never quoted.
    with pytest.raises(sf.SecretFileError, match="not printable ASCII|holds spaces") as raised:
        sf.read_token_file("/proc/self/environ")
    assert "PATH" not in str(raised.value)
    assert os.environ["PATH"] not in str(raised.value)


@pytest.mark.parametrize("data, reason", [
    ({"credential_id": "scimcred-x"}, "is JSON without credential_secret"),
    ({"credential_secret": "two words"}, "its credential_secret is not shaped like a token"),
    ({"credential_secret": ["list"]}, "its credential_secret is not shaped like a token"),
    ([TOKEN], "is neither a secret file written by alicloud.cloudsso.scim_credential"),
])
def test_json_that_is_not_a_secret_file_is_refused(tmp_path, data, reason):
    with pytest.raises(sf.SecretFileError, match=reason):
        sf.read_token_file(write(tmp_path / "t.json", json.dumps(data)))


@pytest.mark.parametrize("plant, reason", [("fifo", "is a FIFO"), ("symlink", "is a symbolic link"),
                                           ("folder", "is a directory")])
def test_special_files_are_refused_without_hanging(tmp_path, plant, reason):
    path = str(tmp_path / "t")
    if plant == "fifo":
        os.mkfifo(path)
    elif plant == "symlink":
        os.symlink(write(tmp_path / "real", TOKEN), path)
    else:
        os.mkdir(path)
    for read in (sf.read_token_file, sf.read_secret_file):
        with pytest.raises(sf.SecretFileError, match=reason):
            read(path)


def test_a_federated_token_mounted_as_a_link_is_followed(tmp_path):
    # Kubernetes projected volumes: token -> ..data/token
    real = write(tmp_path / "real-token", TOKEN + "\n")
    os.symlink(real, str(tmp_path / "token"))
    assert sf.read_token_file(str(tmp_path / "token"), what="client assertion file", follow_links=True)[0] == TOKEN
    os.mkfifo(str(tmp_path / "fifo"))
    os.symlink(str(tmp_path / "fifo"), str(tmp_path / "to-fifo"))
    with pytest.raises(sf.SecretFileError, match="is a FIFO"):
        sf.read_token_file(str(tmp_path / "to-fifo"), follow_links=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a file to another user")
def test_a_token_file_of_another_user_is_refused(tmp_path):
    path = write(tmp_path / "t", TOKEN)
    os.chown(path, 65534, 65534)
    with pytest.raises(sf.SecretFileError, match="is owned by uid 65534"):
        sf.read_token_file(path)


def test_check_writable_refuses_a_fifo_and_an_untrusted_folder_reached_through_a_link(tmp_path):
    fifo = str(tmp_path / "fifo.json")
    os.mkfifo(fifo)
    with pytest.raises(sf.SecretFileError, match="is a FIFO"):
        sf.check_writable(fifo)
    open_folder = tmp_path / "open"
    open_folder.mkdir()
    os.chmod(str(open_folder), 0o777)
    os.symlink(str(open_folder), str(tmp_path / "link"))
    with pytest.raises(sf.SecretFileError, match=r"has mode 0777.* \(a symbolic link to %s\)" % open_folder):
        sf.check_writable(str(tmp_path / "link" / "new.json"))
    with pytest.raises(sf.SecretFileError, match="cannot be written safely"):
        sf.write_secret_file(str(open_folder / "new.json"), {"credential_secret": TOKEN})
    assert os.listdir(str(open_folder)) == []
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    os.symlink(str(private), str(tmp_path / "good-link"))
    sf.check_writable(str(tmp_path / "good-link" / "new.json"))  # a link to a trusted folder is fine


def test_the_inflight_marker_is_written_0600_read_and_removed(tmp_path):
    path = str(tmp_path / "new.json")
    assert sf.read_inflight(path) is None
    sf.write_inflight(path, {"directory_id": "d-00fc2p61abcd", "started": "2026-12-06T10:00:00Z",
                             "credentials_before": ["scimcred-a"]})
    assert stat.S_IMODE(os.stat(path + ".inflight").st_mode) == 0o600
    assert sf.read_inflight(path)["credentials_before"] == ["scimcred-a"]
    sf.remove_inflight(path)
    sf.remove_inflight(path)  # gone already: fine
    assert os.listdir(str(tmp_path)) == []
    write(tmp_path / "new.json.inflight", "{}")
    with pytest.raises(sf.SecretFileError, match="is not the JSON this collection writes"):
        sf.read_inflight(path)


def test_read_candidate_token(tmp_path):
    secret_file = tmp_path / "s.json"
    secret_file.write_text(json.dumps({"directory_id": "d-00fc2p61abcd", "credential_id": "scimcred-x",
                                       "credential_secret": TOKEN, "create_time": "t"}))
    registered = []
    token, meta = sf.read_candidate_token({"token_file": str(secret_file)}, registered.append)
    assert token == TOKEN and meta == {"credential_id": "scimcred-x", "directory_id": "d-00fc2p61abcd"}
    assert registered == [TOKEN]
    plain = tmp_path / "t.txt"
    plain.write_text(TOKEN + "\n")
    assert sf.read_candidate_token({"token_file": str(plain)}, registered.append) == (TOKEN, {})
    assert sf.read_candidate_token({"token": "abc"}, registered.append) == ("abc", {})


def test_read_candidate_token_reads_the_file_once(tmp_path, monkeypatch):
    path = tmp_path / "t.txt"
    path.write_text(TOKEN)
    reads = []
    real = sf.read_token_file
    monkeypatch.setattr(sf, "read_token_file", lambda *args, **kwargs: reads.append(args) or real(*args, **kwargs))
    assert sf.read_candidate_token({"token_file": str(path), "token": None}, lambda value: None) == (TOKEN, {})
    assert len(reads) == 1
