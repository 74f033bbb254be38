"""Custom model tests: start one (202 + status ``Location``) and wait for its result."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from controller.model.values import Json
from controller.remote import routes
from controller.remote.apierrors import UnexpectedResponseError
from controller.remote.gatecalls import GateCalls
from controller.remote.poller import wait_for_status
from controller.remote.routes import template_for_path

PASSED = frozenset({"succeeded", "warning", "skipped"})


@dataclass(frozen=True)
class ModelTestResult:
    """A finished custom model test: ``overall_status`` and each check's ``{status, message}``."""

    id: str
    overall_status: str
    testing_status: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def passed(self) -> bool:
        return self.overall_status.lower() in PASSED


class ModelTestCalls(GateCalls):
    """Starting a test and waiting for its result in one call (the gates' own calls, which
    the engine uses, start and poll separately); mixed into ``DataRobotClient``."""

    def start_model_test(
        self,
        model_id: str,
        version_id: str,
        *,
        dataset_id: str | None = None,
        options: Mapping[str, Json] | None = None,
    ) -> str:
        """Start testing a version; the status URL to pass to :meth:`wait_for_model_test`.

        ``options`` holds other CustomModelTests fields (``configuration``, memory, ...).
        """
        body: dict[str, Json] = dict(options or {})
        if dataset_id is not None:
            body["datasetId"] = dataset_id
        location = self.create_model_test(model_id, version_id, body)
        if not location:
            raise UnexpectedResponseError(
                method="POST",
                route=routes.API_PREFIX + routes.MODEL_TESTS,
                detail="no Location header to poll",
            )
        return location

    def wait_for_model_test(
        self, location: str, *, timeout: float | None = None
    ) -> ModelTestResult:
        """Poll a test's status until done, then read the finished test."""
        target = wait_for_status(self.http, location, timeout=timeout)
        if target is None:
            raise UnexpectedResponseError(
                method="GET",
                route=routes.API_PREFIX + routes.STATUS,
                detail="the finished test has no Location",
            )
        route = template_for_path(urlsplit(target).path)
        raw = self.http.get_json(route, url=target)
        if not isinstance(raw, dict) or not raw.get("id"):
            raise UnexpectedResponseError(
                method="GET", route=routes.API_PREFIX + route, detail="not a custom model test"
            )
        return ModelTestResult(
            id=str(raw["id"]),
            overall_status=str(raw.get("overallStatus") or ""),
            testing_status=dict(raw.get("testingStatus") or {}),
            raw=raw,
        )

    def run_model_test(
        self,
        model_id: str,
        version_id: str,
        *,
        dataset_id: str | None = None,
        options: Mapping[str, Json] | None = None,
        timeout: float | None = None,
    ) -> ModelTestResult:
        """Start a test and wait for its result."""
        location = self.start_model_test(
            model_id, version_id, dataset_id=dataset_id, options=options
        )
        return self.wait_for_model_test(location, timeout=timeout)
