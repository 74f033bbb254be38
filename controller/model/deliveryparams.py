"""Typed parameters of the delivery actions (registration and deployments): what applying
needs beyond the changes a plan shows, one frozen class per action kind, as
:mod:`controller.model.params` has for models and jobs.

``to_json``/``from_json`` are the ``params`` object of ``schemas/plan.schema.json``, key for
key. None of these values is secret: a registered model's name and description, version
labels and IDs, a deployment's request body (label, description, importance, prediction
environment, ``userProvidedId``) and its declared settings.

Update, sharing and deletion of a deployment need nothing beyond the action's fields,
grant changes and target ID: they take the empty :class:`ActionParams`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from controller.model.paramreaders import (
    flag_at,
    integer_at,
    mapping_at,
    opt_flag_at,
    opt_text_at,
    text_at,
)
from controller.model.params import ActionParams
from controller.model.values import Fields, Json


@dataclass(frozen=True)
class VersionRegistration(ActionParams):
    """``register-version``: the custom model version to register (``version_id``
    ``None``: the one this run makes, labelled ``version_label``), as version
    ``registered_version`` of the registered model ``registered_model_name`` (its ID, or
    ``None`` when this registration creates it), with the declared ``description`` and
    ``is_global`` (``None``: not declared)."""

    registered_model_name: str
    registered_model_id: str | None
    registered_version: int
    version_label: str
    version_id: str | None = None
    description: str | None = None
    is_global: bool | None = None

    def to_json(self) -> dict[str, Json]:
        return {
            "description": self.description,
            "isGlobal": self.is_global,
            "registeredModelId": self.registered_model_id,
            "registeredModelName": self.registered_model_name,
            "registeredVersion": self.registered_version,
            "versionId": self.version_id,
            "versionLabel": self.version_label,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Self:
        return cls(
            registered_model_name=text_at(doc, "registeredModelName"),
            registered_model_id=opt_text_at(doc, "registeredModelId"),
            registered_version=integer_at(doc, "registeredVersion"),
            version_label=text_at(doc, "versionLabel"),
            version_id=opt_text_at(doc, "versionId"),
            description=opt_text_at(doc, "description"),
            is_global=opt_flag_at(doc, "isGlobal"),
        )


@dataclass(frozen=True)
class RegisteredModelUpdate(ActionParams):
    """``update-registered-model``: the registered model whose description or ``isGlobal``
    (the action's fields) are set as declared."""

    registered_model_id: str

    def to_json(self) -> dict[str, Json]:
        return {"registeredModelId": self.registered_model_id}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Self:
        return cls(text_at(doc, "registeredModelId"))


@dataclass(frozen=True)
class DeploymentTarget:
    """What a deployment should serve: version ``version_label`` of the CustomModel
    ``model``, asked for by the manifest's ``version`` (``pin``). ``package_id`` is the
    registered version when it exists; ``pending`` when this run registers it (the applier
    then takes the package its registration made)."""

    model: str
    pin: str
    version_label: str
    package_id: str | None = None
    version_id: str | None = None

    @property
    def pending(self) -> bool:
        return self.package_id is None

    def to_json(self) -> dict[str, Json]:
        return {
            "model": self.model,
            "packageId": self.package_id,
            "pending": self.pending,
            "pin": self.pin,
            "versionId": self.version_id,
            "versionLabel": self.version_label,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> DeploymentTarget:
        target = cls(
            model=text_at(doc, "model"),
            pin=text_at(doc, "pin"),
            version_label=text_at(doc, "versionLabel"),
            package_id=opt_text_at(doc, "packageId"),
            version_id=opt_text_at(doc, "versionId"),
        )
        if flag_at(doc, "pending") != target.pending:
            raise TypeError("params.target.pending: true exactly when packageId is null")
        return target


@dataclass(frozen=True)
class ReplacementCheck:
    """What DataRobot's replacement validation says: ``passing``, ``warning`` or
    ``failing``, and each check's ``(name, status, message)``."""

    status: str
    message: str
    checks: tuple[tuple[str, str, str], ...] = ()

    def named(self, *statuses: str) -> list[str]:
        """``"name: message"`` of the checks with one of ``statuses``."""
        return [f"{n}: {m}" for n, s, m in self.checks if s in statuses]

    def to_json(self) -> dict[str, Json]:
        return {
            "status": self.status,
            "message": self.message,
            "checks": {n: {"status": s, "message": m} for n, s, m in self.checks},
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ReplacementCheck:
        checks = mapping_at(doc.get("checks"), "validation.checks")
        return cls(
            text_at(doc, "status"),
            text_at(doc, "message"),
            tuple(
                (
                    str(name),
                    text_at(mapping_at(check, f"validation.checks.{name}"), "status"),
                    text_at(mapping_at(check, f"validation.checks.{name}"), "message"),
                )
                for name, check in checks.items()
            ),
        )


@dataclass(frozen=True)
class DeploymentSettings(ActionParams):
    """``update-deployment-settings``: the declared settings in the API's shape (only the
    declared keys are sent)."""

    settings: Fields = field(default_factory=Fields)

    def to_json(self) -> dict[str, Json]:
        return {"settings": self.settings.to_dict()}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Self:
        return cls(Fields(mapping_at(doc.get("settings"), "settings")))


@dataclass(frozen=True)
class DeploymentBody:
    """The ``deployments/fromModelPackage/`` request body without the package: the
    declared fields and the ``userProvidedId`` the deployment is owned by."""

    label: str
    prediction_environment_id: str
    user_provided_id: str
    importance: str | None = None
    description: str | None = None

    def to_json(self) -> dict[str, Json]:
        """The body's fields (a field not declared is left out)."""
        doc: dict[str, Json] = {
            "label": self.label,
            "predictionEnvironmentId": self.prediction_environment_id,
            "userProvidedId": self.user_provided_id,
            "importance": self.importance,
            "description": self.description,
        }
        return {k: v for k, v in doc.items() if v is not None}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> DeploymentBody:
        return cls(
            label=text_at(doc, "label"),
            prediction_environment_id=text_at(doc, "predictionEnvironmentId"),
            user_provided_id=text_at(doc, "userProvidedId"),
            importance=opt_text_at(doc, "importance"),
            description=opt_text_at(doc, "description"),
        )


@dataclass(frozen=True)
class DeploymentCreate(ActionParams):
    """``create-deployment``: the ``fromModelPackage`` request ``body`` without the
    package (taken from ``target`` when applied), the ``reason`` a later replacement gives,
    and the declared ``settings``."""

    target: DeploymentTarget
    body: DeploymentBody
    reason: str = "OTHER"
    settings: Fields = field(default_factory=Fields)

    def to_json(self) -> dict[str, Json]:
        return {
            "body": self.body.to_json(),
            "reason": self.reason,
            "settings": self.settings.to_dict(),
            "target": self.target.to_json(),
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Self:
        return cls(
            target=DeploymentTarget.from_json(mapping_at(doc.get("target"), "target")),
            body=DeploymentBody.from_json(mapping_at(doc.get("body"), "body")),
            reason=text_at(doc, "reason"),
            settings=Fields(mapping_at(doc.get("settings"), "settings")),
        )


@dataclass(frozen=True)
class ModelReplacement(ActionParams):
    """``replace-deployment-model``: what the deployment should serve, the replacement
    ``reason``, the declared ``settings`` (put back when the replacement resets them) and,
    when the registered version exists already, what the replacement ``validation`` said
    when planned."""

    target: DeploymentTarget
    reason: str = "OTHER"
    settings: Fields = field(default_factory=Fields)
    validation: ReplacementCheck | None = None

    def to_json(self) -> dict[str, Json]:
        doc: dict[str, Json] = {
            "reason": self.reason,
            "settings": self.settings.to_dict(),
            "target": self.target.to_json(),
        }
        if self.validation is not None:
            doc["validation"] = self.validation.to_json()
        return doc

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Self:
        validation = doc.get("validation")
        return cls(
            target=DeploymentTarget.from_json(mapping_at(doc.get("target"), "target")),
            reason=text_at(doc, "reason"),
            settings=Fields(mapping_at(doc.get("settings"), "settings")),
            validation=None
            if validation is None
            else ReplacementCheck.from_json(mapping_at(validation, "validation")),
        )
