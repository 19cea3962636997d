"""once_per_session: the first worker produces, the others wait for its value; without xdist, no sharing."""

import threading
import time

from tests.helpers.once import once_per_session


class Factory(object):
    """The part of pytest's tmp_path_factory once_per_session uses, as one xdist worker sees it."""

    def __init__(self, shared, worker):
        self.base = shared / ("popen-" + worker)
        self.base.mkdir(parents=True, exist_ok=True)

    def getbasetemp(self):
        return self.base

    def mktemp(self, name):
        path = self.base / name
        path.mkdir()
        return path


def test_three_workers_share_one_production(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    produced = []

    def produce(folder):
        produced.append(folder)
        time.sleep(0.3)  # long enough for the other workers to be waiting on the lock
        return {"folder": folder}

    results = []
    workers = [threading.Thread(target=lambda w=w: results.append(
        once_per_session(Factory(tmp_path, w), "thing", produce))) for w in ("gw0", "gw1", "gw2")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(10)
    assert len(produced) == 1
    assert results == [{"folder": str(tmp_path / "thing")}] * 3


def test_a_failed_production_is_tried_again_by_the_next_worker(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")

    def broken(folder):
        raise RuntimeError("no")

    try:
        once_per_session(Factory(tmp_path, "gw0"), "thing", broken)
    except RuntimeError:
        pass
    assert once_per_session(Factory(tmp_path, "gw1"), "thing", lambda folder: 42) == 42


def test_without_xdist_each_call_produces(tmp_path, monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    factory = Factory(tmp_path, "main")
    first = once_per_session(factory, "a", lambda folder: folder)
    assert first == str(tmp_path / "popen-main" / "a")
    assert once_per_session(factory, "b", lambda folder: folder) != first
