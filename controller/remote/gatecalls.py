"""Quality gate calls: dependency builds, custom model tests, training data assignment.

Routes (API-DELIVERY.md §1 to §3)::

    POST/GET/DELETE customModels/{id}/versions/{vid}/dependencyBuild/   start, read, cancel
    GET customModels/{id}/versions/{vid}/dependencyBuildLog/           the build's log
    POST customModelTests/ ; GET customModelTests/?customModelId=       start, list (newest first)
    GET/DELETE customModelTests/{testId}/ ; GET .../tail/?lines=N      read, cancel, log tail

Builds and tests take minutes on the real server: :func:`poll` waits for them, with a
backoff that grows with the time waited (from ``first`` seconds to ``ceiling``). A poll
answered 429 or 5xx is resent by the transport after the server's ``Retry-After`` (or its
own backoff, see :mod:`.transport`), so a rate limiter slows the polls down.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from controller.model.gates import LiveTest
from controller.model.values import Fields, Json
from controller.remote import routes
from controller.remote.apierrors import ConflictError, NotFoundError, UnexpectedResponseError
from controller.remote.transport import Transport, json_body

BUILD = "customModels/{customModelId}/versions/{customModelVersionId}/dependencyBuild/"
BUILD_LOG = "customModels/{customModelId}/versions/{customModelVersionId}/dependencyBuildLog/"
TEST_TAIL = "customModelTests/{customModelTestId}/tail/"
TAIL_LINES = 20
TESTS_READ = 50  # the newest tests of a model read at once: those of its newest versions

T = TypeVar("T")


@dataclass(frozen=True)
class TrainingState:
    """A version's training data assignment: running, or ended (with an error or not)."""

    in_progress: bool
    error: str | None = None
    dataset_id: str | None = None


class GateCalls:
    """Calls on dependency builds and custom model tests; mixed into ``DataRobotClient``."""

    http: Transport

    # --- dependency builds ----------------------------------------------------------------

    def get_dependency_build(self, model_id: str, version_id: str) -> str | None:
        """The build's ``buildStatus``, or ``None`` when the version was never built."""
        try:
            raw = self.http.get_json(BUILD, path=_version_path(model_id, version_id))
        except NotFoundError:
            return None
        return _build_status(raw, "GET")

    def start_dependency_build(self, model_id: str, version_id: str) -> str:
        """Start building the version's dependency image; its ``buildStatus``."""
        response = self.http.request("POST", BUILD, path=_version_path(model_id, version_id))
        return _build_status(json_body(response, "POST", BUILD), "POST")

    def cancel_dependency_build(self, model_id: str, version_id: str) -> None:
        with contextlib.suppress(NotFoundError, ConflictError):  # 409: it ended meanwhile
            self.http.request("DELETE", BUILD, path=_version_path(model_id, version_id))

    def dependency_build_log_tail(
        self, model_id: str, version_id: str, lines: int = TAIL_LINES
    ) -> str:
        """The last ``lines`` lines of the build log ("" when there is none)."""
        try:
            response = self.http.request("GET", BUILD_LOG, path=_version_path(model_id, version_id))
        except NotFoundError:
            return ""
        return "\n".join(response.text.splitlines()[-lines:])

    def version_dependencies(self, model_id: str, version_id: str) -> int:
        """How many dependencies the server parsed from the version's requirements.txt."""
        raw = self.http.get_json(routes.VERSION, path=_version_path(model_id, version_id))
        deps = raw.get("dependencies") if isinstance(raw, dict) else None
        return len(deps) if isinstance(deps, list) else 0

    def training_state(self, model_id: str, version_id: str) -> TrainingState:
        """Where the version's training data assignment is."""
        raw = self.http.get_json(routes.VERSION, path=_version_path(model_id, version_id))
        training = raw.get("trainingData") if isinstance(raw, dict) else None
        if not isinstance(training, dict):
            return TrainingState(in_progress=False)
        error = training.get("assignmentError")
        message = error.get("message") if isinstance(error, dict) else error
        return TrainingState(
            in_progress=bool(training.get("assignmentInProgress")),
            error=str(message) if message else None,
            dataset_id=_opt(training.get("datasetId")),
        )

    # --- custom model tests ---------------------------------------------------------------

    def list_model_tests(self, model_id: str, *, limit: int = TESTS_READ) -> list[LiveTest]:
        """The model's newest tests, newest first."""
        raw = self.http.get_json(
            routes.MODEL_TESTS, query={"customModelId": model_id, "limit": limit}
        )
        data = raw.get("data") if isinstance(raw, dict) else None
        if not isinstance(data, list):
            raise UnexpectedResponseError(
                method="GET", route=routes.API_PREFIX + routes.MODEL_TESTS, detail="no `data`"
            )
        return [test_from_api(t) for t in data if isinstance(t, dict)]

    def get_model_test(self, test_id: str) -> LiveTest:
        return test_from_api(
            self.http.get_json(routes.MODEL_TEST, path={"customModelTestId": test_id})
        )

    def create_model_test(self, model_id: str, version_id: str, body: Mapping[str, Json]) -> str:
        """Start a test of the version; the ``Location`` of its status (the test itself is
        found by listing: a new test is listed first, as the official client relies on)."""
        payload: dict[str, Any] = {
            **body,
            "customModelId": model_id,
            "customModelVersionId": version_id,
        }
        response = self.http.request("POST", routes.MODEL_TESTS, json=payload)
        return str(response.headers.get("Location") or "")

    def cancel_model_test(self, test_id: str) -> None:
        """Cancel a running test; one already finished (409) or gone (404) is left alone."""
        with contextlib.suppress(NotFoundError, ConflictError):  # 409: it ended meanwhile
            self.http.request("DELETE", routes.MODEL_TEST, path={"customModelTestId": test_id})

    def model_test_log_tail(self, test_id: str, lines: int = TAIL_LINES) -> str:
        try:
            raw = self.http.get_json(
                TEST_TAIL, path={"customModelTestId": test_id}, query={"lines": lines}
            )
        except NotFoundError:
            return ""
        return str(raw.get("log") or "").rstrip("\n") if isinstance(raw, dict) else ""


def poll(
    read: Callable[[], T],
    done: Callable[[T], bool],
    *,
    timeout: float,
    first: float = 0.2,
    ceiling: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[T, bool]:
    """Call ``read`` until ``done`` says so or ``timeout`` seconds pass; ``(last value,
    finished in time)``. The wait between polls is a fifth of the time waited so far (at
    least ``first``, at most ``ceiling``): a step is seen ended at most ~20 % late, and a
    build of ten minutes costs a few dozen polls, not thousands."""
    started = clock()
    deadline = started + timeout
    while True:
        value = read()
        if done(value):
            return value, True
        now = clock()
        if now >= deadline:
            return value, False
        interval = min(ceiling, max(first, (now - started) / 5))
        sleep(min(interval, deadline - now))


def test_from_api(raw: Any) -> LiveTest:
    """A custom model test (CustomModelTestsResponse) as a live value."""
    if not isinstance(raw, dict) or not raw.get("id"):
        raise UnexpectedResponseError(
            method="GET",
            route=routes.API_PREFIX + routes.MODEL_TEST,
            detail="not a custom model test",
        )
    version = raw.get("customModelVersion")
    checks: dict[str, tuple[str, str]] = {}
    for name, result in (raw.get("testingStatus") or {}).items():
        if isinstance(result, dict):
            checks[str(name)] = (str(result.get("status") or ""), str(result.get("message") or ""))
    return LiveTest(
        id=str(raw["id"]),
        version_id=str(version.get("id") if isinstance(version, dict) else ""),
        overall_status=str(raw.get("overallStatus") or "").lower(),
        dataset_id=_opt(raw.get("datasetId")),
        dataset_version_id=_opt(raw.get("datasetVersionId")),
        checks=checks,
        resources=Fields(
            {k: raw[k] for k in ("maximumMemory", "replicas", "networkEgressPolicy") if k in raw}
        ),
        created=str(raw.get("created") or ""),
    )


def _build_status(raw: Any, method: str) -> str:
    status = raw.get("buildStatus") if isinstance(raw, dict) else None
    if not status:
        raise UnexpectedResponseError(
            method=method, route=routes.API_PREFIX + BUILD, detail="no `buildStatus`"
        )
    return str(status).lower()


def _version_path(model_id: str, version_id: str) -> dict[str, str]:
    return {"customModelId": model_id, "customModelVersionId": version_id}


def _opt(value: object) -> str | None:
    return None if value is None or value == "" else str(value)
