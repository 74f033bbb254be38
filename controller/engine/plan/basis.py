"""The plan's basis: a digest of every live object the plan read, and of each part of it,
so that ``apply FILE`` can refuse a stale plan and say what changed (pure)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields, is_dataclass, replace

from controller.engine.ownership import MatchResult
from controller.model.desired import ResourceKey
from controller.model.live import LiveJob, LiveModel, LiveSnapshot
from controller.model.plans import BasisEntry
from controller.model.values import Fields


def plan_basis(
    live: LiveSnapshot, matched: MatchResult, *, include_orphans: bool
) -> tuple[BasisEntry, ...]:
    """Digests of every live object the plan read, for the stale-plan check."""
    models, jobs = matched.models, matched.jobs
    entries: list[BasisEntry] = []
    model_groups = [models.owned, models.adopted] + ([models.orphans] if include_orphans else [])
    for group in model_groups:
        for key, model in group.items():
            entries.append(
                _entry(
                    key,
                    model.id,
                    _model_facts(model, live),
                    _model_summary(model),
                    _model_parts(model, live),
                )
            )
    job_groups = [jobs.owned, jobs.adopted] + ([jobs.orphans] if include_orphans else [])
    for job_group in job_groups:
        for key, job in job_group.items():
            entries.append(
                _entry(
                    key, job.id, _job_facts(job, live), f"job {job.name!r}", _job_parts(job, live)
                )
            )
    return tuple(sorted(entries, key=lambda e: (e.key, e.object_id)))


def _entry(
    key: ResourceKey, object_id: str, facts: object, summary: str, parts: dict[str, object]
) -> BasisEntry:
    return BasisEntry(
        str(key),
        object_id,
        _digest(facts, 16),
        summary,
        tuple(sorted((name, _digest(value, 8)) for name, value in parts.items())),
    )


def _digest(value: object, size: int) -> str:
    text = json.dumps(value, sort_keys=True, default=_shallow)
    return hashlib.sha256(text.encode()).hexdigest()[:size]


def _model_parts(model: LiveModel, live: LiveSnapshot) -> dict[str, object]:
    """The parts a stale plan names: each API field, the newest version's files, runtime
    parameters and the rest of it, the sharing, and everything else."""
    parts: dict[str, object] = dict(model.fields.items())
    version = model.latest_version
    if version is not None:
        parts["files"] = version.items
        parts["runtimeParameters"] = version.runtime_parameters
        parts["version"] = replace(version, items=(), runtime_parameters=())
    parts["sharing"] = live.model_sharing.get(model.id, ())
    parts["other"] = replace(model, fields=Fields(), latest_version=None)
    return parts


def _job_parts(job: LiveJob, live: LiveSnapshot) -> dict[str, object]:
    parts: dict[str, object] = dict(job.fields.items())
    parts["files"] = job.items
    parts["entryPoint"] = job.entry_point
    parts["runtimeParameters"] = job.runtime_parameters
    parts["sharing"] = live.job_sharing.get(job.id, ())
    parts["other"] = job.created
    return parts


def _model_facts(model: LiveModel, live: LiveSnapshot) -> object:
    return {"model": model, "sharing": live.model_sharing.get(model.id, ())}


def _job_facts(job: LiveJob, live: LiveSnapshot) -> object:
    return {"job": job, "sharing": live.job_sharing.get(job.id, ())}


def _shallow(value: object) -> object:
    """JSON for our values without deep copies: a dataclass's own fields, a Fields' dict."""
    if isinstance(value, Fields):
        return dict(value.items())
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in fields(value)}
    return str(value)


def _model_summary(model: LiveModel) -> str:
    label = model.latest_version.label if model.latest_version else "no version"
    return f"model {model.name!r} at version {label}"
