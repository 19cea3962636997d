"""The leak scan's own rules: what read_tree reads, and that a FIFO in the scanned folder cannot hang it."""

import os
import threading

from tests.helpers.leaks import assert_no_leaks, find_leaks, read_tree

SECRET = "s3cr3t-value-0123456789"


def test_read_tree_reads_regular_files_only_and_never_waits_on_a_fifo(tmp_path):
    (tmp_path / "log.txt").write_text("printed " + SECRET)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "kept.json").write_text("{}")
    secret_file = tmp_path / "secret.json"
    secret_file.write_text(SECRET)
    os.symlink(str(secret_file), str(tmp_path / "link-to-secret"))
    os.mkfifo(str(tmp_path / "planted.fifo"))  # no writer: a blocking open would wait for ever

    result = {}
    reader = threading.Thread(target=lambda: result.update(read_tree(str(tmp_path), skip=[str(secret_file)])),
                              daemon=True)
    reader.start()
    reader.join(10)
    assert not reader.is_alive(), "read_tree waits on a FIFO"
    assert sorted(os.path.relpath(p, str(tmp_path)) for p in result) == ["log.txt", os.path.join("sub", "kept.json")]
    assert find_leaks(result, [SECRET]) == [(str(tmp_path / "log.txt"), 0)]


def test_assert_no_leaks_names_where_never_what():
    try:
        assert_no_leaks({"stdout": "x " + SECRET}, [SECRET])
    except AssertionError as error:
        assert "stdout" in str(error) and SECRET not in str(error)
    else:
        raise AssertionError("a leak was not found")
