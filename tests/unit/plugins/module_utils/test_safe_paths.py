"""safe_paths: folders made 0700 and never chmod-ed, untrusted folders and special files refused."""

import os
import stat

import pytest

from ansible_collections.alicloud.cloudsso.plugins.module_utils import safe_paths
from ansible_collections.alicloud.cloudsso.plugins.module_utils.safe_paths import UnsafePathError

OTHER_UID = 65534


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_missing_folders_are_created_0700(tmp_path):
    target = tmp_path / "a" / "b"
    created = safe_paths.ensure_folder(str(target), option="scim_rotation_state_dir", private=True)
    assert created == [str(tmp_path / "a"), str(target)]
    assert mode(tmp_path / "a") == 0o700 and mode(target) == 0o700


def test_check_mode_creates_nothing(tmp_path):
    target = tmp_path / "a"
    assert safe_paths.ensure_folder(str(target), check_mode=True) == [str(target)]
    assert not target.exists()


def test_existing_folder_keeps_its_mode(tmp_path):
    target = tmp_path / "shared"
    target.mkdir()
    os.chmod(target, 0o1777)
    assert safe_paths.ensure_folder(str(target), option="scim_rotation_report_path") == []
    assert mode(target) == 0o1777


def test_world_writable_folder_without_sticky_bit_is_refused(tmp_path):
    target = tmp_path / "open"
    target.mkdir()
    os.chmod(target, 0o777)
    with pytest.raises(UnsafePathError, match="scim_rotation_report_path .*0777.*sticky"):
        safe_paths.ensure_folder(str(target), option="scim_rotation_report_path")
    assert mode(target) == 0o777


def test_nothing_is_created_inside_an_untrusted_parent(tmp_path):
    parent = tmp_path / "open"
    parent.mkdir()
    os.chmod(parent, 0o777)
    with pytest.raises(UnsafePathError, match="parent folder"):
        safe_paths.ensure_folder(str(parent / "mine"), option="scim_rotation_state_dir")
    assert not (parent / "mine").exists()


def test_private_folder_must_be_closed_to_others(tmp_path):
    target = tmp_path / "state"
    target.mkdir()
    os.chmod(target, 0o755)
    with pytest.raises(UnsafePathError, match="0755"):
        safe_paths.check_folder(str(target), option="scim_rotation_state_dir", private=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a folder to another user")
def test_folder_of_another_user_is_refused(tmp_path):
    target = tmp_path / "theirs"
    target.mkdir(mode=0o700)
    os.chown(target, OTHER_UID, OTHER_UID)
    with pytest.raises(UnsafePathError, match="owned by uid %d" % OTHER_UID):
        safe_paths.check_folder(str(target), option="scim_rotation_state_dir", private=True)
    with pytest.raises(UnsafePathError, match="owned by uid %d" % OTHER_UID):
        safe_paths.check_folder(str(target))


def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "rotation.lock"
    os.mkfifo(str(fifo))
    with pytest.raises(UnsafePathError, match="FIFO"):
        safe_paths.open_regular(str(fifo), os.O_RDWR | os.O_CREAT)
    with pytest.raises(UnsafePathError, match="FIFO"):
        safe_paths.open_regular(str(fifo), os.O_WRONLY)
    with pytest.raises(UnsafePathError, match="FIFO"):
        safe_paths.refuse_special(str(fifo), option="secret_file")


def test_symlink_is_refused(tmp_path):
    real = tmp_path / "real"
    real.write_text("x")
    link = tmp_path / "link"
    link.symlink_to(real)
    with pytest.raises(UnsafePathError, match="symbolic link"):
        safe_paths.open_regular(str(link))
    with pytest.raises(UnsafePathError, match="symbolic link"):
        safe_paths.refuse_special(str(link))


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a file to another user")
def test_file_of_another_user_is_refused(tmp_path):
    planted = tmp_path / "pace"
    planted.write_text("0")
    os.chown(planted, OTHER_UID, OTHER_UID)
    with pytest.raises(UnsafePathError, match="owned by uid"):
        safe_paths.open_regular(str(planted), os.O_RDWR)


def test_regular_file_opens_in_blocking_mode(tmp_path):
    path = tmp_path / "f"
    fd = safe_paths.open_regular(str(path), os.O_RDWR | os.O_CREAT)
    try:
        import fcntl
        assert not fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_NONBLOCK
        assert mode(path) == 0o600
    finally:
        os.close(fd)
    safe_paths.refuse_special(str(path))
    safe_paths.refuse_special(str(tmp_path / "missing"))


def test_relative_paths_are_named_with_their_option():
    problems = safe_paths.relative_paths([("secret_file", "kept.json"), ("path", "/abs/x.lock"), ("other", None)])
    assert problems == ["secret_file kept.json is a relative path; give an absolute one (or one that starts with ~): "
                        "it would land in the folder the module runs in"]


# --- the rotation_paths module's deciders ----------------------------------------------------------------

def test_check_file_accepts_a_missing_or_regular_file_only(tmp_path):
    safe_paths.check_file(str(tmp_path / "missing.json"), "scim_rotation_report_path")
    regular = tmp_path / "report.json"
    regular.write_text("{}")
    safe_paths.check_file(str(regular), "scim_rotation_report_path")
    fifo = tmp_path / "fifo"
    os.mkfifo(str(fifo))
    with pytest.raises(UnsafePathError, match="scim_rotation_report_path .*fifo is a FIFO"):
        safe_paths.check_file(str(fifo), "scim_rotation_report_path")


@pytest.mark.parametrize("mode, warned", [(0o40700, False), (0o40750, True), (0o40701, True), (0o41777, True)])
def test_open_folder_warning(mode, warned):
    warning = safe_paths.open_folder_warning("scim_rotation_secret_file", "/secure", mode)
    if not warned:
        assert warning is None
    else:
        assert warning.startswith("scim_rotation_secret_file: the folder /secure can be entered by other users "
                                  "(mode %04o)" % stat.S_IMODE(mode))


def test_paths_failure_says_what_was_made_before_it():
    assert safe_paths.paths_failure("x is a FIFO", [], False) == ("x is a FIFO; nothing was written", False)
    assert safe_paths.paths_failure("x is a FIFO", ["/a", "/a/b"], False) == \
        ("x is a FIFO; made before it: /a, /a/b", True)
    # in check mode nothing was made, even when folders would have been
    assert safe_paths.paths_failure("x is a FIFO", ["/a"], True) == ("x is a FIFO; nothing was written", False)


def test_writable_folder_looks_and_changes_nothing(tmp_path, monkeypatch):
    folder = tmp_path / "secure"
    folder.mkdir()
    os.chmod(str(folder), 0o750)
    link = tmp_path / "link"
    link.symlink_to(folder)
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    assert safe_paths.writable_folder(str(folder)) and safe_paths.writable_folder(str(link))
    assert not safe_paths.writable_folder(str(a_file)) and not safe_paths.writable_folder(str(tmp_path / "missing"))
    assert stat.S_IMODE(os.stat(str(folder)).st_mode) == 0o750 and os.listdir(str(folder)) == []
    # Not writable for this user (root may write anywhere, so the answer of access() is simulated).
    monkeypatch.setattr(safe_paths.os, "access", lambda path, mode: False)
    assert not safe_paths.writable_folder(str(folder))


def test_paths_failure_names_what_was_removed_before_it():
    assert safe_paths.paths_failure("x: cannot write it", ["/a/r.json"], False, ["/a/p.json"]) == \
        ("x: cannot write it; made before it: /a/r.json; removed before it: /a/p.json", True)
    assert safe_paths.paths_failure("x", [], True, ["/a/p.json"]) == ("x; nothing was written", False)


def test_replace_file_writes_0600_atomically_and_never_through_a_link(tmp_path):
    target = tmp_path / "victim"
    target.write_text("keep")
    path = tmp_path / "kept.json"
    path.symlink_to(target)
    safe_paths.replace_file(str(path), b"new\n")
    assert not path.is_symlink() and path.read_bytes() == b"new\n" and target.read_text() == "keep"
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600
    assert sorted(os.listdir(str(tmp_path))) == ["kept.json", "victim"]  # no temporary file left
    assert safe_paths.holds(str(path), b"new\n") and not safe_paths.holds(str(path), b"other")
    assert not safe_paths.holds(str(path), b"new") and not safe_paths.holds(str(path), b"new\n\n")
    os.chmod(str(path), 0o644)
    assert not safe_paths.holds(str(path), b"new\n")  # the mode is made 0600 again by a write
    assert not safe_paths.holds(str(tmp_path / "missing"), b"")


def test_read_regular_refuses_links_fifos_and_large_files(tmp_path):
    regular = tmp_path / "pending.json"
    regular.write_bytes(b"x" * 10)
    assert safe_paths.read_regular(str(regular)) == b"x" * 10
    with pytest.raises(UnsafePathError, match="is larger than 9 bytes"):
        safe_paths.read_regular(str(regular), limit=9)
    link = tmp_path / "link"
    link.symlink_to(regular)
    with pytest.raises(UnsafePathError, match="is a symbolic link"):
        safe_paths.read_regular(str(link), option="scim_rotation_secret_file")
    fifo = tmp_path / "fifo"
    os.mkfifo(str(fifo))
    with pytest.raises(UnsafePathError, match="is a FIFO"):
        safe_paths.read_regular(str(fifo))


def test_remove_file_removes_a_link_itself_and_refuses_a_folder(tmp_path):
    target = tmp_path / "target"
    target.write_text("keep")
    link = tmp_path / "link"
    link.symlink_to(target)
    assert safe_paths.would_remove(str(link)) and safe_paths.remove_file(str(link))
    assert not os.path.lexists(str(link)) and target.read_text() == "keep"
    assert not safe_paths.would_remove(str(link)) and not safe_paths.remove_file(str(link))
    assert not safe_paths.remove_file(str(target / "below-a-file"))
    folder = tmp_path / "HANDOFF.txt"
    folder.mkdir()
    for call in (safe_paths.would_remove, safe_paths.remove_file):
        with pytest.raises(UnsafePathError, match="scim_rotation_state_dir .*HANDOFF.txt is a directory"):
            call(str(folder), "scim_rotation_state_dir")
    assert folder.is_dir()


def test_secret_in_a_secret_file_content():
    assert safe_paths.secret_in(b'{"credential_id": "c", "credential_secret": "s3cret"}') == "s3cret"
    assert safe_paths.secret_in(b"not json") is None and safe_paths.secret_in(b"[1]") is None
    assert safe_paths.secret_in(b"\xff") is None
