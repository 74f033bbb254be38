"""Deployment calls: list, create, replace the model (validated first), settings, sharing,
delete (API-DELIVERY.md §5, §6).

Deployments are owned through ``userProvidedId``, which the API keeps unique: a creation
whose outcome is unknown is settled by :meth:`DeploymentCalls.find_deployment` before any
retry, so a crash never leaves two deployments of one manifest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from controller.model.delivery import LiveDeployment
from controller.model.deliveryparams import ReplacementCheck
from controller.model.live import LiveGrant
from controller.model.values import Fields, Json
from controller.remote.apierrors import NotFoundError
from controller.remote.decoders import MalformedPayloadError, decoding, job_grant_from_api
from controller.remote.pages import paginate
from controller.remote.poller import wait_for_status
from controller.remote.sharing import Entry, job_role_entry
from controller.remote.transport import Transport, json_body

DEPLOYMENTS = "deployments/"
DEPLOYMENT_CREATE = "deployments/fromModelPackage/"
DEPLOYMENT = "deployments/{deploymentId}/"
DEPLOYMENT_MODEL = "deployments/{deploymentId}/model/"
DEPLOYMENT_VALIDATION = "deployments/{deploymentId}/model/validation/"
DEPLOYMENT_SETTINGS = "deployments/{deploymentId}/settings/"
DEPLOYMENT_ROLES = "deployments/{deploymentId}/sharedRoles/"
REVOKED_ROLE = "NO_ROLE"


class DeploymentCalls:
    """Calls on ``deployments/``; mixed into ``DataRobotClient``."""

    http: Transport

    def list_deployments(
        self, *, user_provided_id: str | None = None, page_size: int | None = None
    ) -> list[LiveDeployment]:
        """Every deployment the token can see (``user_provided_id``: only that one)."""
        query = {"userProvidedId": user_provided_id} if user_provided_id else None
        pages = paginate(self.http, DEPLOYMENTS, query=query, page_size=page_size)
        with decoding("GET", DEPLOYMENTS):
            found = [deployment_from_api(raw) for raw in pages]
        if user_provided_id:  # a server that ignores the filter must not hand us another's
            found = [d for d in found if d.user_provided_id == user_provided_id]
        return found

    def find_deployment(self, user_provided_id: str) -> LiveDeployment | None:
        found = self.list_deployments(user_provided_id=user_provided_id)
        return found[0] if found else None

    def get_deployment(self, deployment_id: str) -> LiveDeployment:
        raw = self.http.get_json(DEPLOYMENT, path={"deploymentId": deployment_id})
        with decoding("GET", DEPLOYMENT):
            return deployment_from_api(raw)

    def create_deployment(self, body: Mapping[str, Json]) -> str:
        """POST ``{modelPackageId, label, predictionEnvironmentId, userProvidedId, ...}``
        and wait until it is launched; the new deployment's ID. A 5xx raises
        ``OutcomeUnknownError``: :meth:`find_deployment` by ``userProvidedId`` first."""
        response = self.http.request("POST", DEPLOYMENT_CREATE, json=dict(body))
        raw = json_body(response, "POST", DEPLOYMENT_CREATE)
        deployment_id = raw.get("id") if isinstance(raw, dict) else None
        location = response.headers.get("Location")
        if location:
            target = wait_for_status(self.http, location)
            if not deployment_id and target:
                deployment_id = target.rstrip("/").rsplit("/", 1)[-1]
        if not isinstance(deployment_id, str) or not deployment_id:
            with decoding("POST", DEPLOYMENT_CREATE):
                raise MalformedPayloadError("the created deployment's ID is not in the answer")
        return deployment_id

    def update_deployment(self, deployment_id: str, changes: Mapping[str, Json]) -> None:
        """PATCH ``{label?, description?, importance?}`` (204; safe to resend)."""
        self.http.request(
            "PATCH",
            DEPLOYMENT,
            path={"deploymentId": deployment_id},
            json=dict(changes),
            idempotent=True,
        )

    def validate_replacement(self, deployment_id: str, package_id: str) -> ReplacementCheck:
        """What DataRobot says of replacing the deployment's model with ``package_id``
        (a read: it changes nothing)."""
        response = self.http.request(
            "POST",
            DEPLOYMENT_VALIDATION,
            path={"deploymentId": deployment_id},
            json={"modelPackageId": package_id},
            idempotent=True,
        )
        raw = json_body(response, "POST", DEPLOYMENT_VALIDATION)
        with decoding("POST", DEPLOYMENT_VALIDATION):
            return replacement_check_from_api(raw)

    def replace_model(self, deployment_id: str, package_id: str, reason: str) -> None:
        """PATCH the deployment's model and wait for the replacement. Not resent: a second
        PATCH while the first is under way is refused (409); a 5xx raises
        ``OutcomeUnknownError``, settled by reading what the deployment serves."""
        response = self.http.request(
            "PATCH",
            DEPLOYMENT_MODEL,
            path={"deploymentId": deployment_id},
            json={"modelPackageId": package_id, "reason": reason},
            idempotent=False,
        )
        location = response.headers.get("Location")
        if location:
            wait_for_status(self.http, location)

    def get_deployment_settings(self, deployment_id: str) -> Fields:
        raw = self.http.get_json(DEPLOYMENT_SETTINGS, path={"deploymentId": deployment_id})
        if not isinstance(raw, dict):
            with decoding("GET", DEPLOYMENT_SETTINGS):
                raise MalformedPayloadError("the settings are not an object")
        return Fields({k: v for k, v in raw.items() if isinstance(k, str)})

    def update_deployment_settings(self, deployment_id: str, changes: Mapping[str, Json]) -> None:
        """PATCH settings (partial) and wait for them to be applied."""
        response = self.http.request(
            "PATCH",
            DEPLOYMENT_SETTINGS,
            path={"deploymentId": deployment_id},
            json=dict(changes),
            idempotent=True,
        )
        location = response.headers.get("Location")
        if location:
            wait_for_status(self.http, location)

    def get_deployment_roles(self, deployment_id: str) -> tuple[LiveGrant, ...]:
        pages = paginate(self.http, DEPLOYMENT_ROLES, path={"deploymentId": deployment_id})
        with decoding("GET", DEPLOYMENT_ROLES):
            return tuple(job_grant_from_api(raw) for raw in pages)

    def update_deployment_roles(self, deployment_id: str, entries: Iterable[Entry]) -> None:
        """Grant, change or revoke (``NO_ROLE``) roles, owners first."""
        roles = [job_role_entry(e) for e in entries]
        roles = [{**r, "role": r.get("role") or REVOKED_ROLE} for r in roles]
        for role in roles:
            role.pop("canShare", None)  # deployments' roles carry no canShare
        roles.sort(
            key=lambda r: 0 if r["role"] == "OWNER" else 2 if r["role"] == REVOKED_ROLE else 1
        )
        self.http.request(
            "PATCH",
            DEPLOYMENT_ROLES,
            path={"deploymentId": deployment_id},
            json={"operation": "updateRoles", "roles": roles},
            idempotent=True,
        )

    def delete_deployment(self, deployment_id: str) -> None:
        """DELETE; a 404 on a resend (the first attempt did it) counts as done."""
        try:
            self.http.request("DELETE", DEPLOYMENT, path={"deploymentId": deployment_id})
        except NotFoundError as exc:
            if exc.attempts <= 1:
                raise


def deployment_from_api(raw: Any) -> LiveDeployment:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("id"), str):
        raise MalformedPayloadError("a deployment without `id`")
    model = raw.get("model") or {}
    image = model.get("customModelImage") or {}
    package = raw.get("modelPackage") or {}
    environment = raw.get("predictionEnvironment") or {}
    return LiveDeployment(
        id=raw["id"],
        user_provided_id=raw.get("userProvidedId"),
        label=str(raw.get("label") or ""),
        description=raw.get("description"),
        importance=raw.get("importance"),
        package_id=package.get("id"),
        version_id=image.get("customModelVersionId") or model.get("id"),
        custom_model_id=image.get("customModelId"),
        version_label=image.get("customModelVersionLabel"),
        prediction_environment_id=environment.get("id"),
        status=raw.get("status"),
    )


def replacement_check_from_api(raw: Any) -> ReplacementCheck:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("status"), str):
        raise MalformedPayloadError("a replacement validation without `status`")
    checks = raw.get("checks") or {}
    return ReplacementCheck(
        status=raw["status"],
        message=str(raw.get("message") or ""),
        checks=tuple(
            sorted(
                (str(name), str(c.get("status")), str(c.get("message") or ""))
                for name, c in checks.items()
                if isinstance(c, Mapping)
            )
        ),
    )
