"""The WSGI app: routes, authentication, faults, stats and error answers around the handlers.

For every ``/api/v2`` request, in order: size limit (413), authentication (401), the fault
decision (latency, then an error or a dropped connection *before* the handler), the
handler under the store's lock, then an *after* fault if one was decided, then stats.
Admin routes (``/__emulator__/...``) skip authentication, faults and stats.
"""

from __future__ import annotations

import logging
import time
import uuid
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from emulator import routes  # noqa: F401 - importing registers every route
from emulator.core import Emulator
from emulator.errors import ApiError
from emulator.faults import Fault
from emulator.routing import ROUTES, Handler, Route, respond

log = logging.getLogger("emulator")

API_PREFIX = "/api/v2/"
DROP_FLAG = "emulator.drop_connection"
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def create_app(emu: Emulator) -> Flask:
    """A Flask app serving ``emu``."""
    app = Flask("emulator")
    app.extensions["emulator"] = emu
    app.config.update(
        MAX_FORM_PARTS=200_000, MAX_FORM_MEMORY_SIZE=64 * 1024 * 1024, JSON_SORT_KEYS=False
    )
    app.url_map.strict_slashes = True
    for route in ROUTES:
        app.add_url_rule(
            _flask_rule(route.path),
            endpoint=route.key,
            view_func=_locked(route, emu),
            methods=[route.method],
        )
    app.before_request(_before)
    app.after_request(_after)
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    return app


def _flask_rule(path: str) -> str:
    return path.replace("{", "<").replace("}", ">")


def _locked(route: Route, emu: Emulator) -> Handler:
    def view(**kwargs: Any) -> Response:
        g.route = route
        with emu.store.lock:
            response = route.handler(**kwargs)
            if request.method in _WRITE_METHODS and response.status_code < 400:
                emu.store.changed()
            return response

    view.__name__ = route.handler.__name__
    return view


def _emu() -> Emulator:
    from emulator.routing import emulator

    return emulator()


def _is_api() -> bool:
    return request.path.startswith(API_PREFIX)


def _route_key() -> str:
    return request.url_rule.endpoint if request.url_rule else f"{request.method} (no route)"


def _before() -> Response | None:
    g.request_id = uuid.uuid4().hex
    g.started = time.perf_counter()
    g.fault = None
    if not _is_api():
        return None
    emu = _emu()
    limit = emu.config["maxUploadBytes"]
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(
            413, "Item or collection of items was too large in size (bytes).", limitBytes=limit
        )
    request.max_content_length = limit
    _authenticate(emu)
    fault = emu.faults.decide(request.method, _template(), request.path)
    if fault is None:
        return None
    g.fault = fault
    if fault.latency > 0:
        emu.stats.fault("delayed")
        time.sleep(fault.latency)
    if fault.when == "before" and (fault.drop or fault.status):
        return _fault_response(fault)
    return None


def _template() -> str:
    endpoint = request.url_rule.endpoint if request.url_rule else ""
    return endpoint.split(" ", 1)[1] if " " in endpoint else request.path


def _authenticate(emu: Emulator) -> None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    user = emu.store.user_for_token(token.strip()) if scheme in ("Bearer", "Token") else None
    if user is None:
        raise ApiError(
            401,
            "Authentication failed: send 'Authorization: Bearer <API token>' with a valid token",
        )
    g.user = user


def _fault_response(fault: Fault) -> Response:
    emu = _emu()
    if fault.drop:
        emu.stats.fault("dropped")
        request.environ[DROP_FLAG] = fault.drop
        return Response(b"", status=500)
    emu.stats.fault("injected")
    status = fault.status or 503
    retry_after = fault.retry_after if status != 429 or fault.retry_after is not None else 1
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    return respond({"message": f"{phrase} (fault injected by the emulator)"}, status, headers)


def _after(response: Response) -> Response:
    if not _is_api():
        return response
    emu = _emu()
    fault: Fault | None = g.get("fault")
    handled = fault is None or fault.when == "after" or not (fault.drop or fault.status)
    write = (
        handled
        and request.method in _WRITE_METHODS
        and response.status_code < 400
        and request.url_rule is not None
    )
    if fault is not None and fault.when == "after" and (fault.drop or fault.status):
        response = _fault_response(fault)
    response.headers["X-DataRobot-Request-ID"] = g.get("request_id", "")
    dropped = request.environ.get(DROP_FLAG, False)
    emu.stats.record(_route_key(), "dropped" if dropped else response.status_code, write=write)
    return response


def _api_error(error: ApiError) -> Response:
    return respond(error.body(), error.status, error.headers)


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    messages = {
        404: "Resource not found",
        405: f"Method {request.method} not allowed on {request.path}",
        413: "Item or collection of items was too large in size (bytes).",
    }
    return respond({"message": messages.get(status, error.description or error.name)}, status)


def _unexpected(error: Exception) -> Response:
    log.exception("emulator bug while serving %s %s", request.method, request.path)
    return respond(
        {"message": f"Internal server error in the emulator: {type(error).__name__}: {error}"}, 500
    )
