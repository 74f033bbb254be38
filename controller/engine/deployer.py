"""Apply delivery actions: register versions, create deployments, replace their model
(validated first), put settings back, share, delete.

The :class:`~controller.engine.applier.Applier` hands these actions here. Model chains run
first (a model, its version, its registration), deployment chains after them, so a
deployment that serves "the version this run registers" finds it in :class:`Deployer`'s
record of this run's registrations. Every write is safe to repeat after a crash:

* a registered version is found by its link to the custom model version before any
  registration (``GET /modelPackages/?modelId=``);
* a deployment is found by its ``userProvidedId`` before any creation;
* a replacement is skipped when the deployment serves the package already, and the
  settings the manifest declares are put back after it (a replacement may reset them).

The gate interface: :class:`GateFailures` holds the custom model version IDs whose blocking
gate (tests, dependency build: the quality-gates work) failed in this run. Such a version
is never registered, so no deployment moves to it, and the run fails naming it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TypeVar

from controller.errors import DrGitopsError
from controller.logs import get_logger
from controller.model.delivery import LATEST, LivePackage, is_label_pin, settings_changes
from controller.model.deliveryparams import (
    DeploymentCreate,
    DeploymentSettings,
    ModelReplacement,
    RegisteredModelUpdate,
    VersionRegistration,
)
from controller.model.params import ActionParams
from controller.model.plans import Action, ActionKind
from controller.remote import ConflictError, DataRobotClient, OutcomeUnknownError, ValidationError

log = get_logger(__name__)


class DeliveryError(DrGitopsError):
    """A delivery step cannot be carried out as planned (gate failed, validation failing,
    the version to serve was not registered)."""


class GateFailures:
    """The custom model version IDs whose blocking gate failed in this run (thread-safe).

    Filled by the gate steps of the model chains (``add``); read by registration."""

    def __init__(self, version_ids: set[str] | None = None) -> None:
        self._ids = set(version_ids or ())
        self._lock = threading.Lock()

    def add(self, version_id: str) -> None:
        with self._lock:
            self._ids.add(version_id)

    def __contains__(self, version_id: object) -> bool:
        with self._lock:
            return version_id in self._ids


class Deployer:
    """Delivery handlers: each takes the chain's object ID and the action and returns
    ``(object ID, what was done)``, like the applier's own."""

    def __init__(self, remote: DataRobotClient, gate_failures: GateFailures) -> None:
        self._remote = remote
        self._gates = gate_failures
        self._registered: dict[str, LivePackage] = {}
        self._lock = threading.Lock()

    # --- registry -------------------------------------------------------------------------

    def register(self, model_id: str | None, action: Action) -> tuple[str, str]:
        if not model_id:
            raise DeliveryError(f"{action.key}: the model does not exist, nothing to register")
        params = _params(action, VersionRegistration)
        version_id, label = params.version_id, params.version_label
        if not version_id:
            latest = self._remote.get_model(model_id).latest_version
            if latest is None:
                raise DeliveryError(f"{action.key}: the model has no version to register")
            version_id, label = latest.id, latest.label
        if version_id in self._gates:
            raise DeliveryError(
                f"{action.key}: version {label} failed its blocking gate, so it is not "
                "registered and no deployment moves to it; fix the model and commit again"
            )
        package = self._remote.find_package(version_id)
        if package is not None:
            package = self._remote.wait_for_package(package)
            self._record(action, package)
            return (
                model_id,
                f"version {label} was registered already (v{package.registered_version})",
            )
        name = params.registered_model_name
        package = self._register(version_id, params)
        self._record(action, package)
        if not params.registered_model_id and params.is_global:
            self._remote.update_registered_model(package.registered_model_id, {"isGlobal": True})
        return model_id, (f"version {label} registered as {name!r} v{package.registered_version}")

    def _register(self, version_id: str, params: VersionRegistration) -> LivePackage:
        name, registered_id = params.registered_model_name, params.registered_model_id
        try:
            return self._remote.register_version(
                version_id,
                registered_model_id=registered_id,
                registered_model_name=name,
                registered_model_description=params.description,
            )
        except OutcomeUnknownError:
            found = self._remote.find_package(version_id)
            if found is None:
                raise
            log.info("registration_found_after_unknown_outcome", version_id=version_id)
            return self._remote.wait_for_package(found)
        except ConflictError:
            if registered_id:
                raise
            # Made since the plan (by a run that died after creating it): add to it instead.
            existing = self._remote.find_registered_model(name)
            if existing is None:
                raise
            return self._remote.register_version(version_id, registered_model_id=existing.id)

    def _record(self, action: Action, package: LivePackage) -> None:
        with self._lock:
            self._registered[action.key.name] = package

    def update_registered_model(self, model_id: str | None, action: Action) -> tuple[str, str]:
        registered_id = _params(action, RegisteredModelUpdate).registered_model_id
        self._remote.update_registered_model(registered_id, {c.field: c.new for c in action.fields})
        return model_id or registered_id, "registered model updated"

    # --- deployments ----------------------------------------------------------------------

    def _package(self, action: Action) -> tuple[str, str]:
        """``(package ID, version label)`` the deployment should serve."""
        params = action.params
        if not isinstance(params, DeploymentCreate | ModelReplacement):
            raise TypeError(f"{action.kind.value} does not serve a version")
        target = params.target
        label = target.version_label
        if target.package_id:
            return target.package_id, label
        model = target.model
        with self._lock:
            package = self._registered.get(model)
        if package is None:
            raise DeliveryError(
                f"{action.key}: version {label} of CustomModel/{model} was not registered in "
                "this run (its gate failed, or an earlier step of the model did not succeed), "
                "so the deployment is left as it is"
            )
        pin = target.pin or LATEST
        wanted = target.version_id
        if (wanted and package.version_id != wanted) or (
            is_label_pin(pin) and package.version_label not in (None, pin)
        ):
            raise DeliveryError(
                f"{action.key}: this run registered version {package.version_label} of "
                f"CustomModel/{model}, not {label} as planned (a version was made meanwhile); "
                "run again"
            )
        return package.id, package.version_label or label

    def create(self, _: str | None, action: Action) -> tuple[str, str]:
        package_id, label = self._package(action)
        declared = _params(action, DeploymentCreate).body
        body = {**declared.to_json(), "modelPackageId": package_id}
        upid = declared.user_provided_id
        existing = self._remote.find_deployment(upid)
        if existing is not None:
            log.info("deployment_exists_already", key=str(action.key), deployment_id=existing.id)
            if existing.package_id != package_id:
                self._replace(existing.id, package_id, action)
            return existing.id, "deployment existed already (an earlier attempt created it)"
        try:
            deployment_id = self._remote.create_deployment(body)
        except (OutcomeUnknownError, ValidationError) as exc:
            if isinstance(exc, ValidationError) and "userProvidedId" not in str(exc):
                raise
            found = self._remote.find_deployment(upid)
            if found is None:
                raise
            deployment_id = found.id
        return deployment_id, f"deployment {declared.label!r} created, serving {label}"

    def replace(self, deployment_id: str | None, action: Action) -> tuple[str, str]:
        assert deployment_id
        package_id, label = self._package(action)
        current = self._remote.get_deployment(deployment_id)
        if current.package_id == package_id:
            detail = f"already serving {label}"
        else:
            detail = self._replace(deployment_id, package_id, action)
            detail = f"model replaced: {current.version_label} → {label}{detail}"
        restored = self._put_settings_back(deployment_id, action)
        if restored:
            detail += f"; {restored} reset setting(s) put back"
        return deployment_id, detail

    def _replace(self, deployment_id: str, package_id: str, action: Action) -> str:
        check = self._remote.validate_replacement(deployment_id, package_id)
        if check.status == "failing":
            raise DeliveryError(
                f"{action.key}: the replacement validation is failing, so the model is not "
                f"replaced: {'; '.join(check.named('failing')) or check.message}"
            )
        params = action.params
        reason = params.reason if isinstance(params, DeploymentCreate | ModelReplacement) else ""
        reason = reason or "OTHER"
        try:
            self._remote.replace_model(deployment_id, package_id, reason)
        except OutcomeUnknownError:
            if self._remote.get_deployment(deployment_id).package_id != package_id:
                raise
            log.info("replacement_found_after_unknown_outcome", key=str(action.key))
        if check.status == "warning":
            warned = "; ".join(check.named("warning"))
            log.warning("replacement_with_warnings", key=str(action.key), checks=warned)
            return f" (validation warning: {warned})"
        return ""

    def _put_settings_back(self, deployment_id: str, action: Action) -> int:
        params = action.params
        if not isinstance(params, DeploymentCreate | ModelReplacement | DeploymentSettings):
            raise TypeError(f"{action.kind.value} declares no settings")
        desired = params.settings
        if not desired:
            return 0
        current = self._remote.get_deployment_settings(deployment_id)
        changes = settings_changes(desired, current)
        keys = sorted({c.field.split(".")[1] for c in changes})
        if keys:
            self._remote.update_deployment_settings(deployment_id, {k: desired[k] for k in keys})
        return len(keys)

    def update(self, deployment_id: str | None, action: Action) -> tuple[str, str]:
        assert deployment_id
        self._remote.update_deployment(deployment_id, {c.field: c.new for c in action.fields})
        return deployment_id, "deployment updated"

    def settings(self, deployment_id: str | None, action: Action) -> tuple[str, str]:
        assert deployment_id
        changed = self._put_settings_back(deployment_id, action)
        return deployment_id, f"{changed} setting(s) updated" if changed else "settings as declared"

    def share(self, deployment_id: str | None, action: Action) -> tuple[str, str]:
        assert deployment_id
        self._remote.update_deployment_roles(deployment_id, action.sharing)
        return deployment_id, f"{len(action.sharing)} sharing changes"

    def delete(self, deployment_id: str | None, _: Action) -> tuple[str, str]:
        assert deployment_id
        self._remote.delete_deployment(deployment_id)
        return deployment_id, "deployment deleted"


_P = TypeVar("_P", bound=ActionParams)


def _params(action: Action, kind: type[_P]) -> _P:
    """The action's parameters, of the class its kind takes (``PARAMS_BY_KIND``)."""
    if not isinstance(action.params, kind):
        raise TypeError(f"a {action.kind.value} action takes {kind.__name__}")
    return action.params


_Handler = Callable[[Deployer, str | None, Action], tuple[str, str]]
DELIVERY_HANDLERS: Mapping[ActionKind, _Handler] = {
    ActionKind.REGISTER_VERSION: Deployer.register,
    ActionKind.UPDATE_REGISTERED_MODEL: Deployer.update_registered_model,
    ActionKind.CREATE_DEPLOYMENT: Deployer.create,
    ActionKind.REPLACE_DEPLOYMENT_MODEL: Deployer.replace,
    ActionKind.UPDATE_DEPLOYMENT: Deployer.update,
    ActionKind.UPDATE_DEPLOYMENT_SETTINGS: Deployer.settings,
    ActionKind.UPDATE_DEPLOYMENT_SHARING: Deployer.share,
    ActionKind.DELETE_DEPLOYMENT: Deployer.delete,
}
"""The handler of each delivery action kind (the applier hands these actions here)."""
