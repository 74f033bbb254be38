"""Live objects → manifest documents, in the format of ``schemas/`` (pure).

Every value is written so that the engine, reading the manifest back, finds nothing to
change: the same fields the planner compares (see ``controller.manifests`` and
``controller.model.diffs``), the description without a dr-gitops stamp, memory as a
quantity that converts back to the same bytes, runtime values from each parameter's
``overrideValue`` (credentials as ``{credentialId}``), and sharing as the full list.

What cannot be written faithfully is left out, with a comment saying why and what to do:
a secret-looking runtime value, a setting outside what manifests accept, the files of a
version or job that could not be exported (their block is written commented out, so the
object is managed without its files until the user completes the folder).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from controller.engine.exporting.selecting import Selected
from controller.engine.exporting.yamlwriting import Commented, Path, block
from controller.manifests.quantities import MAX_MEMORY, MIN_MEMORY
from controller.model.desired import KIND_JOB, KIND_MODEL
from controller.model.identity import strip_stamp
from controller.model.live import LiveGrant, LiveJob, LiveModel, LiveRuntimeParameter
from controller.model.secrets import is_sensitive
from controller.model.values import Fields

TARGET_TYPES = (
    "Binary",
    "Regression",
    "Multiclass",
    "Anomaly",
    "Transform",
    "TextGeneration",
    "Unstructured",
)
_CANONICAL_TARGET = {t.lower(): t for t in TARGET_TYPES}
_WITH_TARGET = frozenset({"Binary", "Regression", "Multiclass", "TextGeneration"})
_OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
_RECIPIENT_ORDER = {"user": 0, "group": 1, "organization": 2}
SCHEMA_FILES = {KIND_MODEL: "custom-model.schema.json", KIND_JOB: "custom-job.schema.json"}
FOLDERS = {KIND_MODEL: "models", KIND_JOB: "jobs"}


@dataclass(frozen=True)
class Missing:
    """A file (``path`` inside the source folder) or a whole download (``path`` None)
    that could not be exported, and why."""

    path: str | None
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}" if self.path else self.reason


@dataclass(frozen=True)
class Files:
    """How the export of an object's files went: ``missing`` names what could not be
    written (with why), ``count`` the files that were."""

    count: int = 0
    missing: tuple[Missing, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class Rendered:
    """A manifest to write, and what the user should hear about it."""

    document: Commented
    notes: tuple[str, ...] = ()


@dataclass
class _Draft:
    header: list[str]
    notes: dict[Path, list[str]] = field(default_factory=dict)
    trailing: dict[tuple[Path, int], str] = field(default_factory=dict)
    report: list[str] = field(default_factory=list)

    def note(self, path: Path, *lines: str) -> None:
        self.notes.setdefault(path, []).extend(lines)

    def done(self, data: dict[str, Any]) -> Rendered:
        return Rendered(
            Commented(
                data,
                tuple(self.header),
                {k: tuple(v) for k, v in self.notes.items()},
                dict(self.trailing),
            ),
            tuple(self.report),
        )


# --- models ------------------------------------------------------------------------------


def model_document(
    selected: Selected[LiveModel], sharing: tuple[LiveGrant, ...] | None, files: Files
) -> Rendered:
    """The ``CustomModel`` manifest of a live model and its newest version."""
    live = selected.live
    version = live.latest_version
    label = f", version {version.label}" if version else ", no version"
    draft = _Draft(_header(KIND_MODEL, "custom model", live.id, live.name, label, selected))
    spec = _model_fields(live.fields)
    if version is not None and version.items:
        settings = _version_block(version.settings, version.description, selected.name, draft)
        runtime_path: Path = ("spec", "version", "runtimeParameters")
        runtime = _runtime(version.runtime_parameters, runtime_path, draft)
        if runtime or runtime_path in draft.notes:
            settings["runtimeParameters"] = runtime
        if files.complete:
            spec["version"] = settings
        else:
            _commented_out(draft, "version", settings, files, f"version {version.label}")
    elif version is not None:
        draft.note(("spec",), f"version {version.label} holds no files, so it is not managed here")
    _sharing(spec, sharing, KIND_MODEL, draft)
    return draft.done(_manifest(KIND_MODEL, selected, spec))


def _model_fields(fields: Fields) -> dict[str, Any]:
    raw_target = str(fields.get("targetType") or "")
    target = _CANONICAL_TARGET.get(raw_target.lower(), raw_target)
    spec: dict[str, Any] = {"name": str(fields.get("name") or "")}
    description = strip_stamp(str(fields.get("description") or ""))
    if description:
        spec["description"] = description
    spec["targetType"] = target
    if target in _WITH_TARGET and fields.get("targetName"):
        spec["targetName"] = fields["targetName"]
    if target == "Binary":
        for name in ("positiveClassLabel", "negativeClassLabel"):
            if fields.get(name) is not None:
                spec[name] = str(fields[name])
        if isinstance(fields.get("predictionThreshold"), int | float):
            spec["predictionThreshold"] = fields["predictionThreshold"]
    if target == "Multiclass" and isinstance(fields.get("classLabels"), list):
        spec["classLabels"] = [str(label) for label in fields["classLabels"]]  # type: ignore[union-attr]
    if fields.get("language"):
        spec["language"] = str(fields["language"])
    if target == "Anomaly" and isinstance(fields.get("calibratePredictions"), bool):
        spec["calibratePredictions"] = fields["calibratePredictions"]
    return spec


def _version_block(
    settings: Fields, description: str | None, name: str, draft: _Draft
) -> dict[str, Any]:
    path: Path = ("spec", "version")
    out: dict[str, Any] = {"source": f"./{name}"}
    if description:
        out["description"] = description
    if settings.get("baseEnvironmentId"):
        out["baseEnvironmentId"] = settings["baseEnvironmentId"]
    elif settings.get("baseEnvironmentVersionId"):
        out["baseEnvironmentVersionId"] = settings["baseEnvironmentVersionId"]
    bundle = settings.get("resourceBundleId")
    for key in ("maximumMemory", "desiredMemory"):
        value = settings.get(key)
        if value is None:
            continue
        quantity = memory_quantity(value)
        if bundle:
            draft.note(
                path,
                f"{key} ({value} bytes) is left out: a manifest sets it or resourceBundleId, not both",
            )
        elif quantity is None:
            draft.note(path, f"{key} ({value!r} bytes) is left out: manifests accept 128Mi to 14Gi")
            draft.report.append(f"{key} {value!r} is outside 128Mi..14Gi; left unmanaged")
        else:
            out[key] = quantity
    replicas = settings.get("replicas")
    if isinstance(replicas, int) and not isinstance(replicas, bool) and 1 <= replicas <= 8:
        out["replicas"] = replicas
    elif replicas is not None:
        draft.note(path, f"replicas ({replicas!r}) is left out: manifests accept 1 to 8")
    if isinstance(settings.get("requiresHa"), bool):
        out["requiresHa"] = settings["requiresHa"]
    policy = str(settings.get("networkEgressPolicy") or "").upper()
    if policy in ("NONE", "PUBLIC"):
        out["networkEgressPolicy"] = policy
    elif policy:
        draft.note(
            path, f"networkEgressPolicy ({policy}) is left out: manifests accept NONE or PUBLIC"
        )
    if bundle:
        out["resourceBundleId"] = bundle
    required = _required_metadata(settings.get("requiredMetadataValues"))
    if required:
        out["requiredMetadataValues"] = required
    return out


def memory_quantity(value: object) -> str | int | None:
    """Bytes as the shortest exact quantity (``512Mi``, ``1Gi``, ``500M``), or the integer;
    ``None`` when outside what manifests accept."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        return None
    amount = int(value)
    if not MIN_MEMORY <= amount <= MAX_MEMORY:
        return None
    for unit, size in (("Gi", 1024**3), ("Mi", 1024**2), ("G", 1000**3), ("M", 1000**2)):
        if amount % size == 0:
            return f"{amount // size}{unit}"
    return amount


def _required_metadata(raw: object) -> list[dict[str, str]]:
    if not isinstance(raw, list):
        return []
    entries = [
        {"fieldName": str(e["fieldName"]), "value": str(e.get("value") or "")}
        for e in raw
        if isinstance(e, Mapping) and e.get("fieldName")
    ]
    return sorted(entries, key=lambda e: e["fieldName"])


# --- jobs --------------------------------------------------------------------------------


def job_document(
    selected: Selected[LiveJob], sharing: tuple[LiveGrant, ...] | None, files: Files
) -> Rendered:
    """The ``CustomJob`` manifest of a live job."""
    live = selected.live
    draft = _Draft(_header(KIND_JOB, "custom job", live.id, live.name, "", selected))
    fields = live.fields
    spec: dict[str, Any] = {"name": live.name}
    description = strip_stamp(str(fields.get("description") or ""))
    if description:
        spec["description"] = description
    spec["jobType"] = str(fields.get("jobType") or "default")
    if fields.get("environmentId"):
        spec["environmentId"] = fields["environmentId"]
    else:
        draft.note(
            (), "spec.environmentId is required: the job has no execution environment in DataRobot"
        )
    resources = _resources(fields.get("resources"), draft)
    content: dict[str, Any] = {}
    if live.items:
        content["source"] = f"./{selected.name}"
        entry = next((i.file_path for i in live.items if i.id == live.entry_point), None)
        if entry:
            content["entryPoint"] = entry
    runtime_path: Path = ("spec", "runtimeParameters")
    runtime = _runtime(live.runtime_parameters, runtime_path, draft)
    if content and (runtime or runtime_path in draft.notes):
        content["runtimeParameters"] = runtime
    if content and not files.complete:
        _commented_out(draft, None, content, files, "the job's files")
        content = {}
    elif not content and runtime:
        draft.note(("spec",), "runtime values are not managed: the job has no files to define them")
    spec.update({k: v for k, v in content.items() if k != "runtimeParameters"})
    if resources:
        spec["resources"] = resources
    if "runtimeParameters" in content:
        spec["runtimeParameters"] = content["runtimeParameters"]
    _sharing(spec, sharing, KIND_JOB, draft)
    return draft.done(_manifest(KIND_JOB, selected, spec))


def _resources(raw: object, draft: _Draft) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        return {}
    out: dict[str, Any] = {}
    policy = str(raw.get("egressNetworkPolicy") or "").lower()
    if policy in ("none", "public"):
        out["egressNetworkPolicy"] = policy
    if raw.get("resourceBundleId"):
        out["resourceBundleId"] = str(raw["resourceBundleId"])
    others = sorted(
        k
        for k, v in raw.items()
        if v is not None and k not in ("egressNetworkPolicy", "resourceBundleId")
    )
    if others:
        draft.report.append(
            f"resources.{', resources.'.join(others)} cannot be written in a manifest"
        )
    return out


# --- shared parts ------------------------------------------------------------------------


def _runtime(
    parameters: tuple[LiveRuntimeParameter, ...], path: Path, draft: _Draft
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for param in sorted(parameters, key=lambda p: p.field_name):
        value = param.override_value
        if value is None:
            continue
        if param.type == "credential" and isinstance(value, str) and _OBJECT_ID.match(value):
            values[param.field_name] = {"credentialId": value}
        elif param.type == "credential" or is_sensitive(param.field_name, param.type, value):
            draft.note(
                path,
                f"{param.field_name}: not exported, the value looks like a secret. Store it as a "
                "DataRobot credential, make the parameter a `type: credential` in the source's "
                f"metadata file, and set {param.field_name}: {{credentialId: <ID>}} here. "
                "Until then dr-gitops resets it to its default.",
            )
            draft.report.append(
                f"runtime parameter {param.field_name}: a secret-looking value was not written; "
                "the plan will reset it unless you reference it as a credential"
            )
        else:
            values[param.field_name] = value
    return values


def _sharing(
    spec: dict[str, Any], grants: tuple[LiveGrant, ...] | None, kind: str, draft: _Draft
) -> None:
    if grants is None:
        draft.note(("spec",), "sharing is not managed: it could not be read when this was exported")
        draft.report.append("sharing could not be read; left unmanaged")
        return
    if not grants:
        return
    ordered = sorted(
        grants,
        key=lambda g: (_RECIPIENT_ORDER.get(g.recipient_type, 3), g.name.lower(), g.id or ""),
    )
    entries: list[dict[str, Any]] = []
    for index, grant in enumerate(ordered):
        entry, comment = _grant_entry(grant, kind)
        entries.append(entry)
        if comment:
            draft.trailing[(("spec", "sharing"), index)] = comment
    spec["sharing"] = entries


def _grant_entry(grant: LiveGrant, kind: str) -> tuple[dict[str, Any], str | None]:
    entry: dict[str, Any] = {}
    comment = None
    if kind == KIND_MODEL or (grant.recipient_type == "user" and grant.name):
        entry["username"] = grant.name
    elif grant.id:
        # Group and organization names need not be unique; the ID always is.
        entry["shareRecipientType"] = grant.recipient_type
        entry["id"] = grant.id
        comment = grant.name or None
    else:
        entry["shareRecipientType"] = grant.recipient_type
        entry["name"] = grant.name
    entry["role"] = grant.role.upper()
    if grant.can_share is not None:
        entry["canShare"] = grant.can_share
    return entry, comment


def _commented_out(
    draft: _Draft, key: str | None, content: dict[str, Any], files: Files, what: str
) -> None:
    shown = {key: content} if key else content
    draft.note(
        ("spec",),
        f"Not managed yet: {what} could not all be exported:",
        *(f"  - {m}" for m in files.missing),
        "Complete the source folder, then uncomment these lines to manage the files too:",
        *block(shown),
    )
    draft.report.append(
        f"{what} are not managed until the folder is completed (see the comment in the manifest)"
    )


def _header(
    kind: str, noun: str, object_id: str, display: str, extra: str, selected: Selected[Any]
) -> list[str]:
    lines = [
        f"yaml-language-server: $schema=../schemas/{SCHEMA_FILES[kind]}",
        "",
        f"Exported by `dr-gitops export` from DataRobot {noun} {object_id} ({display!r}{extra}).",
    ]
    if not selected.owned:
        lines.append(
            "Made by hand: `metadata.adopt: true` lets dr-gitops take it over at the next apply."
        )
    return lines


def _manifest(kind: str, selected: Selected[Any], spec: dict[str, Any]) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": selected.name}
    if not selected.owned:
        metadata["adopt"] = True
    return {"apiVersion": "dr-gitops/v1", "kind": kind, "metadata": metadata, "spec": spec}
