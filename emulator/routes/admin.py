"""Admin routes under ``/__emulator__/`` (no authentication, never faulted, not counted).

=========================================  ==============================================
``GET /__emulator__/``                     this list
``GET /__emulator__/stats``                request counters (see :mod:`emulator.stats`)
``POST /__emulator__/reset``               state back to the seed, faults off, stats zeroed
``GET|PUT|DELETE /__emulator__/faults``    read, replace, clear faults (:mod:`emulator.faults`)
``GET /__emulator__/state``                the whole store as JSON (the state-file format)
``PUT /__emulator__/state``                load such a dump (the seed stays)
``GET|PUT /__emulator__/config``           durations, failingDependencies, maxUploadBytes
``GET|PUT|DELETE /__emulator__/modelTests``  scripted test outcomes (:mod:`emulator.routes.model_tests`)
``POST /__emulator__/customModels/{id}/deploy``  deploy a model (see :mod:`emulator.routes.deployments`)
``DELETE /__emulator__/deployments/{id}/`` undeploy
=========================================  ==============================================
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, request

from emulator.errors import ApiError, invalid
from emulator.routing import emulator, extra, respond

ADMIN_ROUTES = [
    "GET /__emulator__/",
    "GET /__emulator__/stats",
    "POST /__emulator__/reset",
    "GET /__emulator__/faults",
    "PUT /__emulator__/faults",
    "DELETE /__emulator__/faults",
    "GET /__emulator__/state",
    "PUT /__emulator__/state",
    "GET /__emulator__/config",
    "PUT /__emulator__/config",
    "GET /__emulator__/modelTests",
    "PUT /__emulator__/modelTests",
    "DELETE /__emulator__/modelTests",
    "POST /__emulator__/customModels/{customModelId}/deploy",
    "DELETE /__emulator__/deployments/{deploymentId}/",
]


def admin_body() -> Any:
    """The JSON body of an admin request (``{}`` when empty)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        raise ApiError(400, "Malformed JSON body") from None


@extra("GET", "/__emulator__/")
def admin_index() -> Response:
    return respond({"routes": ADMIN_ROUTES})


@extra("GET", "/__emulator__/stats")
def admin_stats() -> Response:
    return respond(emulator().stats.snapshot())


@extra("POST", "/__emulator__/reset")
def admin_reset() -> Response:
    emulator().reset()
    return respond({"reset": True})


@extra("GET", "/__emulator__/faults")
def admin_faults() -> Response:
    return respond(emulator().faults.snapshot())


@extra("PUT", "/__emulator__/faults")
def admin_set_faults() -> Response:
    return respond(emulator().faults.configure(admin_body()))


@extra("DELETE", "/__emulator__/faults")
def admin_clear_faults() -> Response:
    return respond(emulator().faults.configure({}))


@extra("GET", "/__emulator__/state")
def admin_state() -> Response:
    return respond(emulator().store.dump())


@extra("PUT", "/__emulator__/state")
def admin_load_state() -> Response:
    body = admin_body()
    try:
        emulator().store.load(body)
    except (ValueError, KeyError, TypeError) as exc:
        raise invalid({"body": f"not a state dump: {exc}"}, "Invalid state") from None
    return respond({"loaded": True})


@extra("GET", "/__emulator__/config")
def admin_config() -> Response:
    return respond(emulator().config)


@extra("PUT", "/__emulator__/config")
def admin_set_config() -> Response:
    return respond(emulator().configure(admin_body()))
