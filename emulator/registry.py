"""The emulator's extension points: one table of RPC products and one list of path routes.

A product module registers itself at import time and is listed in ``emulator.products.MODULES``:

- ``register_rpc(RpcProduct(...))``: an Alibaba Cloud RPC API, dispatched on (version, action). The core
  does signature checks (V3/V2), RAM permission checks, faults, call counting, the error body and the
  ActionTrail event; the action handler gets an :class:`emulator.rpc.RpcContext` and returns a dict.
- ``register_route(Route(...))``: anything addressed by path (SCIM, ECS metadata, Microsoft Graph, a
  simulated IdP). ``match(path)`` sees the path without the ``/region/<id>`` prefix.
- ``register_seed(key, fn)``: ``POST /_emulator/seed`` passes ``body[key]`` to ``fn(state, value)``; the
  return value goes into the answer under the same key.
- ``register_state_section(name, factory)``: a JSON-serialisable dict in the persisted state
  (``state.section(name)``), cleared by reset.
- ``register_reset_hook(fn)``: ``fn(state)`` after a reset (in-memory caches of a module).
- ``register_clock_hook(fn)``: ``fn(app, before, after)`` after the virtual clock moved (control API), under
  the state lock; e.g. a simulated IdP runs the sync cycles that fell in between, calling the SCIM endpoint
  with ``app.internal_request(...)``.
- ``register_start_hook(fn)``: ``fn(app)`` once the server listens (start a daemon thread, ...).
- ``register_control(name, fn)``: control calls ``/_emulator/<name>[/...]``: ``fn(req, method, rest)``
  (rest: the remaining path segments) returns a JSON-able object, ``(status, object)`` or a Response;
  raise ``emulator.errors.ControlError(status, message)`` for errors. Core names cannot be taken.
"""

from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional


@dataclass
class Action:
    name: str
    handler: Callable
    rw: str = "Read"                 # ActionTrail eventRW
    anonymous: bool = False          # may be called unsigned (STS AssumeRoleWithOIDC)
    ram_action: Optional[str] = ""   # "" -> "<ram_service>:<name>"; None -> no RAM check
    secret_response_keys: tuple = ()  # response keys never copied into events or logs


@dataclass
class RpcProduct:
    code: str                 # short product code used in faults and call counts, e.g. "cloudsso"
    version: str              # e.g. "2021-05-15"
    service_name: str         # ActionTrail serviceName, e.g. "cloudsso"
    endpoint: str             # host prefix, e.g. "cloudsso" -> cloudsso.<region>.aliyuncs.com
    ram_service: str          # RAM action prefix, e.g. "cloudsso"
    actions: Dict[str, Action] = field(default_factory=dict)
    # RAM denial: None -> the emulator config "ram_denied_code" (Forbidden.RAM by default)
    ram_denied_code: Optional[str] = None
    ram_denied_status: int = 403
    ram_denied_message: Optional[str] = None
    regional_endpoint: bool = True

    def host(self, region):
        return f"{self.endpoint}.{region}.aliyuncs.com" if self.regional_endpoint else f"{self.endpoint}.aliyuncs.com"

    def add(self, name, rw="Read", anonymous=False, ram_action="", secret_response_keys=()):
        def deco(fn):
            self.actions[name] = Action(name, fn, rw=rw, anonymous=anonymous, ram_action=ram_action,
                                        secret_response_keys=secret_response_keys)
            return fn
        return deco


@dataclass
class Route:
    name: str                                   # product code for faults and call counts ("scim", ...)
    match: Callable[[str], bool]                # path without the region prefix
    handle: Callable                            # handle(request) -> emulator.errors.Response
    classify: Optional[Callable] = None         # classify(request) -> (product, action) for faults/counts
    error_response: Optional[Callable] = None   # error_response(request, status, code, message, headers)
    faults: bool = True                         # subject to fault injection (not the control API)


RPC_PRODUCTS: Dict[str, RpcProduct] = {}
ROUTES: List[Route] = []
SEED_HANDLERS: Dict[str, Callable] = {}
STATE_SECTIONS: Dict[str, Callable] = {}
RESET_HOOKS: List[Callable] = []
CLOCK_HOOKS: List[Callable] = []
CONTROL_HANDLERS: Dict[str, Callable] = {}
CORE_CONTROL_NAMES = {"health", "reset", "seed", "state", "secrets", "calls", "faults", "clock", "config", "events"}
START_HOOKS: List[Callable] = []


def register_rpc(product: RpcProduct):
    """Register a product; actions may be added to it (``@product.add(...)``) before or after."""
    RPC_PRODUCTS[product.code] = product
    return product


def lookup_rpc(version, action):
    """(RpcProduct, Action) for a (version, action) pair, (RpcProduct, None) for a known version with an
    unknown action, (None, None) for an unknown version."""
    known = None
    for product in RPC_PRODUCTS.values():
        if product.version == version:
            known = known or product
            if action in product.actions:
                return product, product.actions[action]
    return known, None


def register_route(route: Route, first=False):
    if first:
        ROUTES.insert(0, route)
    else:
        ROUTES.append(route)
    return route


def register_seed(key, fn):
    SEED_HANDLERS[key] = fn


def register_state_section(name, factory=dict):
    STATE_SECTIONS[name] = factory


def register_reset_hook(fn):
    RESET_HOOKS.append(fn)


def register_clock_hook(fn):
    CLOCK_HOOKS.append(fn)


def register_start_hook(fn):
    START_HOOKS.append(fn)


def register_control(name, fn):
    if name in CORE_CONTROL_NAMES or "/" in name:
        raise ValueError(f"control name {name!r} is taken or invalid")
    CONTROL_HANDLERS[name] = fn


def find_route(path):
    for route in ROUTES:
        if route.match(path):
            return route
    return None
