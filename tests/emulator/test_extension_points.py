"""The extension points another module (Graph, IDaaS, simulated IdPs) builds on, exercised in-process."""

import json

import pytest

from emulator import registry
from emulator.control import apply_seed
from emulator.errors import ControlError, Response
from emulator.server import Emulator


@pytest.fixture
def app():
    emu = Emulator(port=0)
    yield emu
    emu.httpd.server_close()


@pytest.fixture
def toy_module():
    """A module the way graph.py would be written: a route, a seed key, a state section, a clock hook."""
    ticks = []

    def handle(req):
        data = req.state.section("toy")
        data["hits"] = data.get("hits", 0) + 1
        req.state.dirty = True
        return Response(200, {"path": req.path, "region": req.region, "hits": data["hits"]})

    route = registry.Route(name="toy", match=lambda p: p.startswith("/v1.0/"), handle=handle,
                           classify=lambda req: ("toy", req.method + " " + req.path),
                           error_response=lambda req, status, code, msg, headers: Response(status, {"error": code}))
    registry.register_route(route, first=True)
    registry.register_seed("toy", lambda state, value: state.section("toy").update(value) or dict(value))
    registry.register_state_section("toy", dict)
    hook = lambda app, before, after: ticks.append(round(after - before))  # noqa: E731
    registry.register_clock_hook(hook)

    def control(req, method, rest):
        if method == "GET" and rest:
            return {"toy": rest[0], "hits": req.state.section("toy").get("hits", 0)}
        if method == "POST":
            from emulator.control import read_json
            return 201, {"got": read_json(req, {})}
        raise ControlError(404, "no such toy call")

    registry.register_control("toys", control)
    yield ticks
    del registry.CONTROL_HANDLERS["toys"]
    registry.ROUTES.remove(route)
    del registry.SEED_HANDLERS["toy"]
    del registry.STATE_SECTIONS["toy"]
    registry.CLOCK_HOOKS.remove(hook)


def test_route_seed_section_faults_and_counts(app, toy_module):
    assert apply_seed(app.state, {"toy": {"hits": 10}}) == {"toy": {"hits": 10}}
    resp = app.internal_request("GET", "/region/eu-central-1/v1.0/servicePrincipals")
    assert resp.status == 200 and json.loads(resp.body) == {"path": "/v1.0/servicePrincipals",
                                                           "region": "eu-central-1", "hits": 11}
    app.faults.add({"match": {"product": "toy"}, "kind": "error", "status": 429, "code": "TooMany"})
    assert app.internal_request("GET", "/v1.0/x").status == 429
    app.faults.add({"match": "toy:*", "kind": "drop_before_apply"})
    assert app.internal_request("GET", "/v1.0/x") is None
    assert app.state.calls.counts["toy:GET /v1.0/servicePrincipals"] == 1
    assert app.state.calls.log[-1]["internal"] is True


def test_clock_hook_runs_on_clock_moves(app, toy_module):
    resp = app.internal_request("POST", "/_emulator/clock", body={"advance_seconds": 2400})
    assert resp.status == 200 and toy_module == [2400]


def test_internal_request_reaches_scim_with_events(app):
    seeded = apply_seed(app.state, {"directories": [{}]})
    did = seeded["directories"][0]["directory_id"]
    cred = apply_seed(app.state, {"credentials": [{"directory_id": did}]})["credentials"][0]
    resp = app.internal_request("GET", "/scim/v2/Users?count=1", {"Authorization": f"Bearer {cred['secret']}",
                                                                  "User-Agent": "SimulatedEntra/1"})
    assert resp.status == 200
    events = [e for _, _, _, e in app.state.events.all_events()]
    assert events[-1]["eventName"] == "ListUsers" and events[-1]["userAgent"] == "SimulatedEntra/1"


def test_extension_control_calls(app, toy_module):
    resp = app.internal_request("GET", "/_emulator/toys/t1")
    assert resp.status == 200 and json.loads(resp.body) == {"toy": "t1", "hits": 0}
    resp = app.internal_request("POST", "/_emulator/toys", body={"a": 1})
    assert resp.status == 201 and json.loads(resp.body) == {"got": {"a": 1}}
    assert app.internal_request("DELETE", "/_emulator/toys").status == 404
    with pytest.raises(ValueError):
        registry.register_control("state", lambda req, method, rest: None)
