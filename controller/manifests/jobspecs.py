"""A schema-valid ``CustomJob`` document → :class:`DesiredJob`.

Normalisations: ``name`` defaults to ``metadata.name``; ``description`` to the empty
string; ``jobType`` to ``default`` (the API's default); ``resources.egressNetworkPolicy``
in the API's lower case, ``none`` when ``resources`` is given without it; ``entryPoint``
as a clean posix path inside the source.
"""

from __future__ import annotations

import posixpath
from typing import Any

from controller.manifests.context import (
    BuildContext,
    SchemaVerdict,
    finding_problems,
    stamp_problems,
)
from controller.manifests.grants import job_grants
from controller.manifests.problems import FieldPath, Problem
from controller.manifests.runtimeparams import METADATA_FILES, check_values, read_definitions
from controller.manifests.schemas import did_you_mean
from controller.manifests.yamlparser import Document
from controller.model.desired import (
    KIND_JOB,
    Adoption,
    DesiredJob,
    ResourceKey,
    RuntimeParameterDefinition,
    RuntimeValue,
    SharingGrant,
    Source,
)
from controller.model.values import Fields, Json, Location


def build_job(
    document: Document, verdict: SchemaVerdict, context: BuildContext
) -> tuple[DesiredJob | None, list[Problem]]:
    """The desired job, or ``None`` with the problems that prevent it."""
    data: dict[str, Any] = document.data
    spec: dict[str, Any] = data["spec"]
    problems: list[Problem] = stamp_problems(document, spec)
    # Each part is checked when its own fields passed the schema, so that one typo does
    # not hide the other problems of the document.
    fields = (
        job_fields(data["metadata"]["name"], spec)
        if verdict.clean(("spec",), but=[("spec", name) for name in ("sharing", *_FILES)])
        else None
    )
    source, entry_point, values, definitions, found = _job_files(document, spec, context, verdict)
    problems += found
    sharing: tuple[SharingGrant, ...] | None = None
    if "sharing" in spec and verdict.clean(("spec", "sharing")):
        sharing, found = job_grants(document, ("spec", "sharing"), spec["sharing"])
        problems += found
    if fields is None or verdict.paths or any(p.is_error for p in problems):
        return None, problems
    adopt = Adoption(str(fields["name"])) if data["metadata"].get("adopt") else None
    job = DesiredJob(
        key=ResourceKey("CustomJob", data["metadata"]["name"]),
        location=Location(document.file, document.index, document.line),
        fields=fields,
        source=source,
        entry_point=entry_point,
        runtime_values=values,
        runtime_definitions=definitions,
        sharing=sharing,
        adopt=adopt,
    )
    return job, problems


def job_fields(key: str, spec: dict[str, Any]) -> Fields:
    """The job's API fields, normalised."""
    values: dict[str, Json] = {
        "name": spec.get("name", key),
        "description": spec.get("description", ""),
        "jobType": spec.get("jobType", "default"),
        "environmentId": spec["environmentId"],
    }
    if "environmentVersionId" in spec:
        values["environmentVersionId"] = spec["environmentVersionId"]
    if "resources" in spec:
        resources: dict[str, Json] = {
            "egressNetworkPolicy": spec["resources"].get("egressNetworkPolicy", "none").lower()
        }
        if "resourceBundleId" in spec["resources"]:
            resources["resourceBundleId"] = spec["resources"]["resourceBundleId"]
        values["resources"] = resources
    return Fields(values)


_Files = tuple[
    Source | None,
    str | None,
    tuple[RuntimeValue, ...],
    tuple[RuntimeParameterDefinition, ...],
    list[Problem],
]


_FILES = ("source", "exclude", "entryPoint", "runtimeParameters")
"""The job's fields checked against its source folder."""


def _job_files(
    document: Document, spec: dict[str, Any], context: BuildContext, verdict: SchemaVerdict
) -> _Files:
    clean = {name: verdict.clean(("spec", name)) for name in _FILES}
    if not (clean["source"] and clean["exclude"]):
        return None, None, (), (), []
    if "source" not in spec:
        problems = [
            document.problem(
                ("spec", name),
                f"{name} needs a source folder",
                "add source: <folder with the job's files>",
            )
            for name in ("entryPoint", "runtimeParameters", "exclude")
            if name in spec
        ]
        return None, None, (), (), problems
    listing = context.lister.list_source(
        posixpath.dirname(document.file), spec["source"], spec.get("exclude", [])
    )
    problems = finding_problems(document, ("spec", "source"), listing.findings)
    if listing.source is None:
        return None, None, (), (), problems
    entry_point, found = (
        _entry_point(document, spec.get("entryPoint"), listing.source)
        if clean["entryPoint"]
        else (None, [])
    )
    problems += found
    definitions, found = read_definitions(
        context.repo_root,
        listing.source,
        KIND_JOB,
        context.limits,
        context.parsed,
        context.metadata,
    )
    if found or not clean["runtimeParameters"]:
        return listing.source, entry_point, (), (), problems + found
    values, found = check_values(
        document,
        ("spec", "runtimeParameters"),
        spec.get("runtimeParameters", {}),
        definitions,
        METADATA_FILES[KIND_JOB],
    )
    problems += found
    return listing.source, entry_point, values, definitions or (), problems


def _entry_point(
    document: Document, raw: str | None, source: Source
) -> tuple[str | None, list[Problem]]:
    if raw is None:
        return None, []
    path: FieldPath = ("spec", "entryPoint")
    normal = posixpath.normpath(raw)
    if posixpath.isabs(raw) or normal.startswith(".."):
        return None, [
            document.problem(
                path,
                f"entryPoint {raw!r} is not a path inside the source folder",
                "write it relative to the source folder, e.g. run.sh",
            )
        ]
    paths = sorted(source.paths())
    if normal not in source.paths():
        hint = did_you_mean(normal, paths) if paths else "add the file to the source folder"
        if not hint.startswith("did you mean"):
            hint = f"add {normal} to {source.dir}, or name one of its files"
        return None, [
            document.problem(
                path, f"entryPoint {raw!r} is not among the files of {source.dir}", hint
            )
        ]
    return normal, []
