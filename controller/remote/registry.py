"""Model Registry calls: registered models, their versions (model packages) and the
prediction environments deployments run in (API-DELIVERY.md §4, §5).

A registered version is found by its link to the custom model version it was made from
(the package's ``modelId``), so registering is safe to repeat after a crash: look it up with
:meth:`RegistryCalls.find_package` before :meth:`RegistryCalls.register_version`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from controller.model.delivery import (
    LivePackage,
    LiveRegisteredModel,
    PredictionEnvironment,
)
from controller.model.values import Json
from controller.remote.apierrors import OperationFailedError
from controller.remote.decoders import MalformedPayloadError, decoding
from controller.remote.pages import paginate
from controller.remote.poller import wait_for_status
from controller.remote.routes import API_PREFIX
from controller.remote.transport import Transport, json_body

PACKAGES = "modelPackages/"
PACKAGE = "modelPackages/{modelPackageId}/"
PACKAGE_FROM_VERSION = "modelPackages/fromCustomModelVersion/"
REGISTERED_MODELS = "registeredModels/"
REGISTERED_MODEL = "registeredModels/{registeredModelId}/"
PREDICTION_ENVIRONMENTS = "predictionEnvironments/"


class RegistryCalls:
    """Calls on ``modelPackages/``, ``registeredModels/`` and ``predictionEnvironments/``;
    mixed into :class:`~controller.remote.client.DataRobotClient`."""

    http: Transport

    def list_registered_models(
        self, *, search: str | None = None, page_size: int | None = None
    ) -> list[LiveRegisteredModel]:
        """Every registered model the token can see (archived ones left out); ``search``:
        those whose name contains it."""
        query = {"search": search} if search else None
        pages = paginate(self.http, REGISTERED_MODELS, query=query, page_size=page_size)
        with decoding("GET", REGISTERED_MODELS):
            return [registered_model_from_api(raw) for raw in pages]

    def find_registered_model(self, name: str) -> LiveRegisteredModel | None:
        """The registered model named exactly ``name``, if any."""
        found = self.list_registered_models(search=name)
        return next((r for r in found if r.name == name and not r.archived), None)

    def list_packages(
        self, *, version_id: str | None = None, page_size: int | None = None
    ) -> list[LivePackage]:
        """Every registered version the token can see; ``version_id``: only those made from
        that custom model version."""
        query = {"modelId": version_id} if version_id else None
        pages = paginate(self.http, PACKAGES, query=query, page_size=page_size)
        with decoding("GET", PACKAGES):
            return [package_from_api(raw) for raw in pages]

    def find_package(self, version_id: str) -> LivePackage | None:
        """The registered version made from this custom model version, if any."""
        found = self.list_packages(version_id=version_id)
        return max(found, key=lambda p: p.registered_version) if found else None

    def register_version(
        self,
        version_id: str,
        *,
        registered_model_id: str | None = None,
        registered_model_name: str | None = None,
        registered_model_description: str | None = None,
    ) -> LivePackage:
        """Register a custom model version: the next version of ``registered_model_id``, or
        version 1 of a new registered model named ``registered_model_name``. Waits for the
        package build. A 5xx raises ``OutcomeUnknownError``: look with :meth:`find_package`
        before trying again."""
        body: dict[str, Json] = {"customModelVersionId": version_id}
        if registered_model_id:
            body["registeredModelId"] = registered_model_id
        else:
            body["registeredModelName"] = registered_model_name
            if registered_model_description:
                body["registeredModelDescription"] = registered_model_description
        response = self.http.request("POST", PACKAGE_FROM_VERSION, json=body)
        with decoding("POST", PACKAGE_FROM_VERSION):
            package = package_from_api(json_body(response, "POST", PACKAGE_FROM_VERSION))
        location = response.headers.get("Location")
        if location:
            wait_for_status(self.http, location)
        return package

    def wait_for_package(
        self, package: LivePackage, *, sleep: Callable[[float], None] = time.sleep
    ) -> LivePackage:
        """``package`` once its build is complete (polled, as the Terraform provider does);
        a failed build, or one still running after the async timeout, is an error."""
        deadline = time.monotonic() + self.http.settings.async_timeout
        interval = 0.1
        while package.build_status not in (None, "complete"):
            if package.build_status == "failed" or time.monotonic() > deadline:
                raise OperationFailedError(
                    method="GET",
                    route=API_PREFIX + PACKAGE,
                    detail=f"the model package {package.id} build is {package.build_status}",
                )
            sleep(interval)
            interval = min(interval * 1.5, 2.0)
            raw = self.http.get_json(PACKAGE, path={"modelPackageId": package.id})
            with decoding("GET", PACKAGE):
                package = package_from_api(raw)
        return package

    def update_registered_model(
        self, registered_model_id: str, changes: Mapping[str, Json]
    ) -> None:
        """PATCH ``{description?, isGlobal?, name?}`` (absolute values: safe to resend)."""
        self.http.request(
            "PATCH",
            REGISTERED_MODEL,
            path={"registeredModelId": registered_model_id},
            json=dict(changes),
            idempotent=True,
        )

    def list_prediction_environments(self) -> list[PredictionEnvironment]:
        """The prediction environments that support custom models."""
        pages = paginate(
            self.http, PREDICTION_ENVIRONMENTS, query={"supportedModelFormats": "customModel"}
        )
        with decoding("GET", PREDICTION_ENVIRONMENTS):
            return [
                PredictionEnvironment(_id(raw, "prediction environment"), str(raw.get("name")))
                for raw in pages
            ]


def registered_model_from_api(raw: Any) -> LiveRegisteredModel:
    return LiveRegisteredModel(
        id=_id(raw, "registered model"),
        name=str(raw.get("name") or ""),
        description=str(raw.get("description") or ""),
        is_global=bool(raw.get("isGlobal")),
        last_version=int(raw.get("lastVersionNum") or 0),
        archived=bool(raw.get("isArchived")),
    )


def package_from_api(raw: Any) -> LivePackage:
    package_id = _id(raw, "model package")
    details = (raw.get("sourceMeta") or {}).get("customModelDetails") or {}
    if not raw.get("registeredModelId") or not raw.get("modelId"):
        raise MalformedPayloadError("a model package without registeredModelId or modelId")
    return LivePackage(
        id=package_id,
        registered_model_id=str(raw["registeredModelId"]),
        registered_version=int(raw.get("registeredModelVersion") or 0),
        version_id=str(raw["modelId"]),
        custom_model_id=details.get("id"),
        version_label=details.get("versionLabel"),
        name=str(raw.get("name") or ""),
        build_status=raw.get("buildStatus"),
    )


def _id(raw: Any, what: str) -> str:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("id"), str) or not raw["id"]:
        raise MalformedPayloadError(f"a {what} without `id`")
    return str(raw["id"])
