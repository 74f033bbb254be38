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

from collections.abc import Mapping
from typing import Any

from controller.engine.export.drafts import (
    Draft,
    Files,
    Rendered,
    add_sharing,
    comment_out,
    header,
    manifest,
    runtime_values,
)
from controller.engine.export.selection import Selected
from controller.engine.export.yamltext import Path
from controller.manifests.modelspecs import CANONICAL_TARGET, WITH_TARGET_NAME
from controller.manifests.quantities import MAX_MEMORY, MIN_MEMORY
from controller.model.desired import KIND_JOB, KIND_MODEL
from controller.model.identity import DESCRIPTION_MAX, strip_stamp
from controller.model.live import LiveGrant, LiveJob, LiveModel
from controller.model.values import Fields

# --- models ------------------------------------------------------------------------------


def model_document(
    selected: Selected[LiveModel],
    sharing: tuple[LiveGrant, ...] | None,
    files: Files,
    registry: dict[str, Any] | None = None,
) -> Rendered:
    """The ``CustomModel`` manifest of a live model and its newest version (``registry``:
    its ``spec.registry`` block, see :mod:`.deliverydocs`)."""
    live = selected.live
    version = live.latest_version
    label = f", version {version.label}" if version else ", no version"
    draft = Draft(header(KIND_MODEL, "custom model", live.id, live.name, label, selected))
    spec = _model_fields(live.fields, draft)
    if version is not None and version.items:
        settings = _version_block(version.settings, version.description, selected.name, draft)
        runtime_path: Path = ("spec", "version", "runtimeParameters")
        runtime = runtime_values(version.runtime_parameters, runtime_path, draft)
        if runtime or runtime_path in draft.notes:
            settings["runtimeParameters"] = runtime
        if files.complete:
            spec["version"] = settings
        else:
            comment_out(draft, "version", settings, files, f"version {version.label}")
    elif version is not None:
        draft.note(("spec",), f"version {version.label} holds no files, so it is not managed here")
    if registry is not None:
        spec["registry"] = registry
    add_sharing(spec, sharing, KIND_MODEL, draft)
    return draft.done(manifest(KIND_MODEL, selected, spec))


def _description(fields: Fields, draft: Draft) -> str:
    """The user's description, with a note when it is longer than a manifest takes (kept
    whole: cutting or dropping it would change it in DataRobot at the next apply)."""
    description = strip_stamp(str(fields.get("description") or ""))
    if len(description) > DESCRIPTION_MAX:
        draft.note(
            ("spec",),
            f"the description has {len(description)} characters; manifests take at most "
            f"{DESCRIPTION_MAX} (room for the ownership stamp): shorten it before applying",
        )
        draft.report.append(
            f"description of {len(description)} characters is longer than {DESCRIPTION_MAX}; "
            "shorten it before applying"
        )
    return description


def _model_fields(fields: Fields, draft: Draft) -> dict[str, Any]:
    raw_target = str(fields.get("targetType") or "")
    target = CANONICAL_TARGET.get(raw_target.lower(), raw_target)
    spec: dict[str, Any] = {"name": str(fields.get("name") or "")}
    description = _description(fields, draft)
    if description:
        spec["description"] = description
    spec["targetType"] = target
    if target in WITH_TARGET_NAME and fields.get("targetName"):
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
    settings: Fields, description: str | None, name: str, draft: Draft
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
    # Training and holdout data, as the version shows them (the rules are the API's own).
    for key in ("trainingDatasetId", "trainingDatasetVersionId", "holdoutDatasetId"):
        if settings.get("trainingDatasetId") and settings.get(key):
            out[key] = str(settings[key])
    if settings.get("trainingDatasetId") and settings.get("partitionColumn"):
        out["partitionColumn"] = str(settings["partitionColumn"])
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
    draft = Draft(header(KIND_JOB, "custom job", live.id, live.name, "", selected))
    fields = live.fields
    spec: dict[str, Any] = {"name": live.name}
    description = _description(fields, draft)
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
    runtime = runtime_values(live.runtime_parameters, runtime_path, draft)
    if content and (runtime or runtime_path in draft.notes):
        content["runtimeParameters"] = runtime
    if content and not files.complete:
        comment_out(draft, None, content, files, "the job's files")
        content = {}
    elif not content and runtime:
        draft.note(("spec",), "runtime values are not managed: the job has no files to define them")
    spec.update({k: v for k, v in content.items() if k != "runtimeParameters"})
    if resources:
        spec["resources"] = resources
    if "runtimeParameters" in content:
        spec["runtimeParameters"] = content["runtimeParameters"]
    add_sharing(spec, sharing, KIND_JOB, draft)
    return draft.done(manifest(KIND_JOB, selected, spec))


def _resources(raw: object, draft: Draft) -> dict[str, Any]:
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
