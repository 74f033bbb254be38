"""Typed parameters of plan actions: what applying needs beyond the changes a plan shows.

Each action kind carries one frozen value (see ``PARAMS_BY_KIND`` in
:mod:`controller.model.plans`): a model creation its request ``body``, a version creation
its method, major or minor, base version, settings and runtime values, and so on (the
delivery kinds' classes are in :mod:`controller.model.deliveryparams`). The
changes themselves (fields, files, runtime changes, grants) stay on the action, where the
plan shows them.

Values hold secrets as they are: :meth:`ActionParams.masked` gives the form a plan is
rendered or saved in. ``to_json``/``from_json`` are the ``params`` object of
``schemas/plan.schema.json``, key for key, so saved plans keep their format. A saved plan
is only compared with the plan made anew (which is what is applied), so ``from_json``
reads a missing key as empty (the comparison then tells what differs) and refuses only a
value of the wrong type (``TypeError``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Self

from controller.model.paramreaders import (
    flag_at,
    mapping_at,
    opt_number_at,
    opt_text_at,
    text_at,
)
from controller.model.secrets import is_sensitive, masked
from controller.model.values import Fields, Json


@dataclass(frozen=True)
class ActionParams:
    """The parameters of an action kind that needs none (sharing, deletions, blocked)."""

    def to_json(self) -> dict[str, Json]:
        return {}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Self:
        return cls()

    def masked(self) -> Self:
        """The form a plan is rendered or saved in: secret-looking values masked."""
        return self


class VersionMethod(StrEnum):
    """How a version is made: ``create`` (exactly the source's files; a first version),
    ``from-latest`` (the latest's files, some replaced or deleted), ``settings-only``
    (settings or runtime values, no file)."""

    CREATE = "create"
    FROM_LATEST = "from-latest"
    SETTINGS_ONLY = "settings-only"


@dataclass(frozen=True)
class VersionRef:
    """A live version, by ID and label (``"1.3"``)."""

    id: str
    label: str


@dataclass(frozen=True)
class ParameterValue:
    """A runtime parameter value as it is sent (``None`` resets it to its default).

    ``sensitive`` is true once the value has been masked (a plan read back from a file)."""

    field_name: str
    type: str
    value: Json
    sensitive: bool = False

    def to_json(self) -> dict[str, Json]:
        doc: dict[str, Json] = {
            "fieldName": self.field_name,
            "type": self.type,
            "value": self.value,
        }
        if self.sensitive:
            doc["sensitive"] = True
        return doc

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ParameterValue:
        return cls(
            text_at(doc, "fieldName"),
            text_at(doc, "type"),
            doc.get("value"),
            sensitive=flag_at(doc, "sensitive"),
        )

    def masked(self) -> ParameterValue:
        if self.sensitive or not is_sensitive(self.field_name, self.type, self.value):
            return self
        return replace(self, value=masked(self.value), sensitive=True)

    def to_api(self) -> dict[str, Json]:
        """The ``runtimeParameterValues`` entry."""
        return {"fieldName": self.field_name, "type": self.type, "value": self.value}


def _values_json(values: tuple[ParameterValue, ...]) -> list[Json]:
    return [v.to_json() for v in values]


def _values_from_json(doc: Mapping[str, Any]) -> tuple[ParameterValue, ...]:
    values = doc.get("runtimeValues", [])
    if not isinstance(values, list):
        raise TypeError("params.runtimeValues: not a list")
    return tuple(ParameterValue.from_json(mapping_at(v, "runtimeValues")) for v in values)


@dataclass(frozen=True)
class ModelCreate(ActionParams):
    """``create-model``: the whole ``CustomModelCreate`` body."""

    body: Fields

    def to_json(self) -> dict[str, Json]:
        return {"body": self.body.to_dict()}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Self:
        return cls(Fields(mapping_at(doc.get("body"), "body")))


@dataclass(frozen=True)
class ModelAdopt(ActionParams):
    """``adopt-model``: the declared description (stamped when written) and, when the
    newest version only needs the commit recorded, that version."""

    description: Json
    version: VersionRef | None = None

    def to_json(self) -> dict[str, Json]:
        doc: dict[str, Json] = {"description": self.description}
        if self.version is not None:
            doc |= {"versionId": self.version.id, "versionLabel": self.version.label}
        return doc

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Self:
        version = _version(doc) if "versionId" in doc else None
        return cls(doc.get("description"), version)


@dataclass(frozen=True)
class VersionCreate(ActionParams):
    """``create-version``: how it is made, from which version, with which settings
    (``description`` included; it is set by a metadata PATCH) and runtime values."""

    method: VersionMethod
    major: bool
    base: VersionRef | None
    settings: Fields = field(default_factory=Fields)
    runtime_values: tuple[ParameterValue, ...] = ()

    def to_json(self) -> dict[str, Json]:
        return {
            "baseVersionId": self.base.id if self.base else None,
            "baseVersionLabel": self.base.label if self.base else None,
            "isMajorUpdate": self.major,
            "method": self.method.value,
            "runtimeValues": _values_json(self.runtime_values),
            "settings": self.settings.to_dict(),
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Self:
        base = None
        if doc.get("baseVersionId") is not None:
            base = VersionRef(text_at(doc, "baseVersionId"), text_at(doc, "baseVersionLabel"))
        method = doc.get("method", VersionMethod.CREATE.value)
        if method not in set(VersionMethod):
            raise TypeError(f"params.method: {method!r} is not one of {', '.join(VersionMethod)}")
        return cls(
            method=VersionMethod(method),
            major=flag_at(doc, "isMajorUpdate"),
            base=base,
            settings=Fields(mapping_at(doc.get("settings"), "settings")),
            runtime_values=_values_from_json(doc),
        )

    def masked(self) -> Self:
        return replace(self, runtime_values=tuple(v.masked() for v in self.runtime_values))


@dataclass(frozen=True)
class VersionMetadata(ActionParams):
    """``update-version-metadata``: the version whose metadata is patched."""

    version: VersionRef

    def to_json(self) -> dict[str, Json]:
        return {"versionId": self.version.id, "versionLabel": self.version.label}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Self:
        return cls(_version(doc))


@dataclass(frozen=True)
class JobWrite(ActionParams):
    """``create-job``, ``update-job``, ``adopt-job``: the whole job body as declared (the
    description is stamped when written), the entry point's path and the runtime values."""

    body: Fields
    entry_point: str | None = None
    runtime_values: tuple[ParameterValue, ...] = ()

    def to_json(self) -> dict[str, Json]:
        return {
            "body": self.body.to_dict(),
            "entryPoint": self.entry_point,
            "runtimeValues": _values_json(self.runtime_values),
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Self:
        entry = doc.get("entryPoint")
        return cls(
            Fields(mapping_at(doc.get("body"), "body")),
            None if entry is None else str(entry),
            _values_from_json(doc),
        )

    def masked(self) -> Self:
        return replace(self, runtime_values=tuple(v.masked() for v in self.runtime_values))


@dataclass(frozen=True)
class GateStep(ActionParams):
    """``build-dependencies`` and ``test-version``: the version (``version_id`` ``None``:
    the one this plan makes, ``version_label`` then says so) and how long to wait."""

    version_id: str | None
    version_label: str
    timeout: float | None = None


@dataclass(frozen=True)
class DependencyBuild(GateStep):
    """``build-dependencies``: ``mode`` is the manifest's ``dependencyBuild``."""

    mode: str = "auto"

    def to_json(self) -> dict[str, Json]:
        return {
            "mode": self.mode,
            "timeout": self.timeout,
            "versionId": self.version_id,
            "versionLabel": self.version_label,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Self:
        return cls(
            opt_text_at(doc, "versionId"),
            text_at(doc, "versionLabel"),
            opt_number_at(doc, "timeout"),
            mode=text_at(doc, "mode"),
        )


@dataclass(frozen=True)
class VersionTest(GateStep):
    """``test-version``: the ``CustomModelTests`` request ``body`` (without the model and
    version), its one-line ``summary``, and whether a failure ``blocking`` stops the run."""

    body: Fields = field(default_factory=Fields)
    summary: str = ""
    blocking: bool = True

    def to_json(self) -> dict[str, Json]:
        return {
            "blocking": self.blocking,
            "body": self.body.to_dict(),
            "summary": self.summary,
            "timeout": self.timeout,
            "versionId": self.version_id,
            "versionLabel": self.version_label,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Self:
        return cls(
            opt_text_at(doc, "versionId"),
            text_at(doc, "versionLabel"),
            opt_number_at(doc, "timeout"),
            body=Fields(mapping_at(doc.get("body"), "body")),
            summary=text_at(doc, "summary"),
            blocking=doc.get("blocking", True) is True,
        )


@dataclass(frozen=True)
class Blocked(ActionParams):
    """``blocked``: nothing, or for a failed gate which one (``build`` | ``test``), of which
    version, and the failed test."""

    gate: str | None = None
    version: VersionRef | None = None
    test_id: str | None = None

    def to_json(self) -> dict[str, Json]:
        if self.gate is None:
            return {}
        doc: dict[str, Json] = {"gate": self.gate}
        if self.version is not None:
            doc |= {"versionId": self.version.id, "versionLabel": self.version.label}
        if self.test_id is not None:
            doc["testId"] = self.test_id
        return doc

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Self:
        if "gate" not in doc:
            return cls()
        version = _version(doc) if "versionId" in doc else None
        return cls(text_at(doc, "gate"), version, opt_text_at(doc, "testId"))


def _version(doc: Mapping[str, Any]) -> VersionRef:
    return VersionRef(text_at(doc, "versionId"), text_at(doc, "versionLabel"))
