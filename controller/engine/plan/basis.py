"""The plan's basis: a digest of every live object the plan read, and of each part of it,
so that ``apply FILE`` can refuse a stale plan and say what changed (pure)."""

from __future__ import annotations

from hashlib import sha256

from controller.engine.ownership import MatchResult
from controller.engine.plan.canonical import (
    canonical_json,
    field_texts,
    map_text,
    object_json,
    object_variants,
)
from controller.model.desired import ResourceKey
from controller.model.live import LiveJob, LiveModel, LiveSnapshot
from controller.model.plans import BasisEntry
from controller.model.values import GitModelVersion


def plan_basis(
    live: LiveSnapshot, matched: MatchResult, *, include_orphans: bool
) -> tuple[BasisEntry, ...]:
    """Digests of every live object the plan read, for the stale-plan check."""
    models, jobs = matched.models, matched.jobs
    entries: list[BasisEntry] = []
    seen: dict[tuple[str, str], tuple[str, str]] = {}
    shared = _SharedTexts()
    model_groups = [models.owned, models.adopted] + ([models.orphans] if include_orphans else [])
    for group in model_groups:
        for key, model in group.items():
            facts, parts = _model_texts(model, live, shared)
            entries.append(_entry(key, model.id, facts, _model_summary(model), parts, seen))
    job_groups = [jobs.owned, jobs.adopted] + ([jobs.orphans] if include_orphans else [])
    for job_group in job_groups:
        for key, job in job_group.items():
            facts, parts = _job_texts(job, live)
            entries.append(_entry(key, job.id, facts, f"job {job.name!r}", parts, seen))
    return tuple(sorted(entries, key=lambda e: (e.key, e.object_id)))


def _entry(
    key: ResourceKey,
    object_id: str,
    facts: str,
    summary: str,
    parts: dict[str, str],
    seen: dict[tuple[str, str], tuple[str, str]],
) -> BasisEntry:
    """``facts`` and ``parts`` are canonical JSON texts (:mod:`.canonical`). ``seen`` holds
    the (name, digest) pair of each short part already digested: most fields have the same
    value in every model (``targetType``, ``language``, no sharing), and 10,000 entries
    then share one pair instead of holding 10,000 equal ones."""
    pairs = []
    for part in parts.items():  # (name, text): the key of ``seen`` as it is
        text = part[1]
        if len(text) > _SHARED_UP_TO:
            pairs.append((part[0], sha256(text.encode()).hexdigest()[:8]))
            continue
        pair = seen.get(part)
        if pair is None:
            pair = seen[part] = (part[0], _digest(text, 8))
        pairs.append(pair)
    pairs.sort()
    return BasisEntry(str(key), object_id, _digest(facts, 16), summary, tuple(pairs))


_SHARED_UP_TO = 100  # characters: longer parts (files, the version) are seldom equal


def _digest(text: str, size: int) -> str:
    return sha256(text.encode()).hexdigest()[:size]


class _SharedTexts:
    """The text of each git metadata value, by identity, for one basis: the decoder hands
    every model and version applied from one commit the same value (10,000 models: two
    encodings instead of 20,000). The values are kept so that their IDs stay theirs."""

    def __init__(self) -> None:
        self._texts: dict[int, tuple[GitModelVersion, str]] = {}

    def git(self, value: GitModelVersion | None) -> str:
        if value is None:
            return "null"
        known = self._texts.get(id(value))
        if known is None or known[0] is not value:
            known = self._texts[id(value)] = (value, object_json(value))
        return known[1]


def _model_texts(
    model: LiveModel, live: LiveSnapshot, shared: _SharedTexts
) -> tuple[str, dict[str, str]]:
    """The text of the model's facts (the model and its sharing), and of the parts a stale
    plan names: each API field, the newest version's files, runtime parameters and the rest
    of it, the sharing, and everything else. Each value is encoded once: the text of the
    whole is put together from the texts of its parts."""
    parts = field_texts(model.fields)
    fields_text = map_text(parts) if _named(parts) else canonical_json(model.fields)
    version = model.latest_version
    version_text = "null"
    if version is not None:
        files = parts["files"] = canonical_json(version.items)
        runtime = parts["runtimeParameters"] = canonical_json(version.runtime_parameters)
        git = shared.git(version.git)
        parts["version"], version_text = object_variants(
            version,
            {"items": "[]", "runtime_parameters": "[]", "git": git},
            {"items": files, "runtime_parameters": runtime, "git": git},
        )
    sharing = parts["sharing"] = canonical_json(live.model_sharing.get(model.id, ()))
    git = shared.git(model.git)
    parts["other"], whole = object_variants(
        model,
        {"fields": "{}", "latest_version": "null", "git": git},
        {"fields": fields_text, "latest_version": version_text, "git": git},
    )
    return '{"model": ' + whole + ', "sharing": ' + sharing + "}", parts


def _job_texts(job: LiveJob, live: LiveSnapshot) -> tuple[str, dict[str, str]]:
    parts = field_texts(job.fields)
    fields_text = map_text(parts) if _named(parts) else canonical_json(job.fields)
    files = parts["files"] = canonical_json(job.items)
    parts["entryPoint"] = canonical_json(job.entry_point)
    runtime = parts["runtimeParameters"] = canonical_json(job.runtime_parameters)
    sharing = parts["sharing"] = canonical_json(live.job_sharing.get(job.id, ()))
    parts["other"] = canonical_json(job.created)
    whole = object_json(job, {"fields": fields_text, "items": files, "runtime_parameters": runtime})
    return '{"job": ' + whole + ', "sharing": ' + sharing + "}", parts


def _named(texts: dict[str, str]) -> bool:
    return all(type(name) is str for name in texts)


def _model_summary(model: LiveModel) -> str:
    label = model.latest_version.label if model.latest_version else "no version"
    return f"model {model.name!r} at version {label}"
