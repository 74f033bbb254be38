"""Which live objects an export writes, under which names, and whether they are owned (pure).

Ownership is read as the engine reads it (see :mod:`controller.model.identity`):

* a model whose ``userProvidedId`` carries the namespace's prefix, or whose description
  ends in the namespace's stamp, is *owned*: its manifest keeps the name it has and needs
  no ``adopt`` flag;
* a job whose description ends in the namespace's stamp is owned likewise;
* an object stamped by *another* namespace, or a model whose ``userProvidedId`` carries
  another namespace's prefix (a namespace seen in a stamp or a lock, or the
  ``<namespace>/<name>`` form on a model with recorded commits), is managed from another
  repository: it is skipped, since adopting it here would make two repositories fight
  over it;
* namespace lock objects (``<ns>/.dr-gitops-lock``) are never exported;
* everything else was made by hand and is exported with ``metadata.adopt: true``, unless
  another object of its kind made by hand has the same display name: adoption finds
  objects by name, so those are skipped until they are renamed.
"""

from __future__ import annotations

import fnmatch
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from controller.engine.export.naming import NameAllocator, slugify
from controller.errors import ConfigError
from controller.model.desired import KIND_JOB, KIND_MODEL, Kind
from controller.model.identity import (
    is_lock_upid,
    lock_namespace_prefix,
    owned_model_name,
    read_stamp,
)
from controller.model.live import LiveJob, LiveModel, LiveSnapshot

L = TypeVar("L", LiveModel, LiveJob)


@dataclass(frozen=True)
class Selected(Generic[L]):
    """A live object to export, with its ``metadata.name``; ``owned`` means no adopt flag."""

    live: L
    name: str
    owned: bool


@dataclass(frozen=True)
class Skipped:
    """A live object left out, and why."""

    kind: Kind
    display_name: str
    object_id: str
    reason: str


@dataclass(frozen=True)
class Selection:
    models: tuple[Selected[LiveModel], ...]
    jobs: tuple[Selected[LiveJob], ...]
    skipped: tuple[Skipped, ...]
    filtered_out: int
    namespaces_seen: tuple[str, ...]


@dataclass(frozen=True)
class _Claim(Generic[L]):
    live: L
    owner: str | None  # the namespace that owns it, None when made by hand
    name: str | None  # its metadata.name there


def select(
    snapshot: LiveSnapshot,
    *,
    namespace: str | None,
    only_owned: bool = False,
    name_filters: Sequence[str] = (),
) -> Selection:
    """The objects to export. Raises ``ConfigError`` for a namespace that owns nothing."""
    seen = _namespaces_seen(snapshot)
    locks = [m for m in snapshot.models if is_lock_upid(m.user_provided_id)]
    models = [_model_claim(m, namespace, seen) for m in snapshot.models if m not in locks]
    jobs = [_job_claim(j) for j in snapshot.jobs]
    if namespace is not None:
        _check_namespace(namespace, seen, models, jobs)
    skipped: list[Skipped] = []
    kept_models, out_models = _filter(models, namespace, only_owned, name_filters, skipped)
    kept_jobs, out_jobs = _filter(jobs, namespace, only_owned, name_filters, skipped)
    chosen_models = _named(kept_models, KIND_MODEL, skipped)
    chosen_jobs = _named(kept_jobs, KIND_JOB, skipped)
    return Selection(
        models=chosen_models,
        jobs=chosen_jobs,
        skipped=tuple(sorted(skipped, key=lambda s: (s.kind, s.display_name, s.object_id))),
        filtered_out=out_models + out_jobs,
        namespaces_seen=tuple(sorted(seen)),
    )


def _namespaces_seen(snapshot: LiveSnapshot) -> set[str]:
    """Namespaces dr-gitops has left a mark of: stamps and lock objects."""
    seen: set[str] = set()
    descriptions = [m.fields.get("description") for m in snapshot.models]
    descriptions += [j.fields.get("description") for j in snapshot.jobs]
    for description in descriptions:
        stamp = read_stamp(str(description or ""))
        if stamp is not None:
            seen.add(stamp.namespace)
    for model in snapshot.models:
        upid = model.user_provided_id or ""
        if is_lock_upid(upid):
            seen.add(lock_namespace_prefix(upid))
        elif "/" in upid and _from_git(model):
            # `<namespace>/<name>` and commits recorded: made by dr-gitops (or DataRobot's
            # custom-models action, which names models the same way) from another repository.
            seen.add(upid.rsplit("/", 1)[0])
    return seen


def _from_git(model: LiveModel) -> bool:
    version = model.latest_version
    return model.git is not None or (version is not None and version.git is not None)


def _model_claim(model: LiveModel, namespace: str | None, seen: set[str]) -> _Claim[LiveModel]:
    # The engine's order: our userProvidedId prefix, then a stamp; other namespaces' prefixes
    # last (the engine would call such a model unowned, but adopting it would steal it).
    upid = model.user_provided_id
    if namespace and (name := owned_model_name(namespace, upid)) is not None:
        return _Claim(model, namespace, name)
    stamp = read_stamp(str(model.fields.get("description") or ""))
    if stamp is not None:
        return _Claim(model, stamp.namespace, stamp.name)
    for owner in sorted(seen - {namespace or ""}):
        if (name := owned_model_name(owner, upid)) is not None:
            return _Claim(model, owner, name)
    return _Claim(model, None, None)


def _job_claim(job: LiveJob) -> _Claim[LiveJob]:
    stamp = read_stamp(str(job.fields.get("description") or ""))
    if stamp is not None:
        return _Claim(job, stamp.namespace, stamp.name)
    return _Claim(job, None, None)


def _check_namespace(
    namespace: str,
    seen: set[str],
    models: Iterable[_Claim[LiveModel]],
    jobs: Iterable[_Claim[LiveJob]],
) -> None:
    owners = {c.owner for c in models} | {c.owner for c in jobs}
    if namespace in owners or namespace in seen:
        return
    known = ", ".join(repr(n) for n in sorted(seen)) or "none"
    raise ConfigError(
        f"no model or job in DataRobot is owned by the namespace {namespace!r} (namespaces "
        f"dr-gitops has marked objects with: {known}). Check the spelling, or leave "
        "--namespace out to export every object for adoption"
    )


def _filter(
    claims: list[_Claim[L]],
    namespace: str | None,
    only_owned: bool,
    patterns: Sequence[str],
    skipped: list[Skipped],
) -> tuple[list[_Claim[L]], int]:
    kept: list[_Claim[L]] = []
    left_out = 0
    for claim in claims:
        kind: Kind = KIND_MODEL if isinstance(claim.live, LiveModel) else KIND_JOB
        if claim.owner is not None and claim.owner != namespace:
            hint = (
                f"export it with --namespace {claim.owner}"
                if namespace is None
                else ("export that repository separately with its own --namespace")
            )
            skipped.append(
                Skipped(
                    kind,
                    claim.live.name,
                    claim.live.id,
                    f"managed by dr-gitops in the namespace {claim.owner!r} "
                    f"(as {claim.name}); {hint}",
                )
            )
        elif (only_owned and claim.owner is None) or not _matches(claim, patterns):
            left_out += 1
        else:
            kept.append(claim)
    return kept, left_out


def _matches(claim: _Claim[L], patterns: Sequence[str]) -> bool:
    if not patterns:
        return True
    noun = "model" if isinstance(claim.live, LiveModel) else "job"
    names = [claim.live.name.lower(), claim.name or slugify(claim.live.name, noun)]
    return any(fnmatch.fnmatchcase(n, p.lower()) for p in patterns for n in names)


def _named(claims: list[_Claim[L]], kind: Kind, skipped: list[Skipped]) -> tuple[Selected[L], ...]:
    names = NameAllocator()
    chosen: list[Selected[L]] = []
    noun = "model" if kind == KIND_MODEL else "job"
    for claim in sorted((c for c in claims if c.owner), key=lambda c: (c.name or "", c.live.id)):
        assert claim.name is not None
        if names.reserve(claim.name):
            chosen.append(Selected(claim.live, claim.name, owned=True))
        else:
            skipped.append(
                Skipped(
                    kind,
                    claim.live.name,
                    claim.live.id,
                    f"another {noun} claims {kind}/{claim.name} too; dr-gitops reports a "
                    "conflict until all but one are deleted or lose their dr-gitops mark",
                )
            )
    unowned = sorted((c for c in claims if not c.owner), key=lambda c: (c.live.created, c.live.id))
    for claim in _unambiguous(unowned, kind, skipped):
        chosen.append(Selected(claim.live, names.allocate(slugify(claim.live.name, noun)), False))
    return tuple(sorted(chosen, key=lambda s: s.name))


def _unambiguous(unowned: list[_Claim[L]], kind: Kind, skipped: list[Skipped]) -> list[_Claim[L]]:
    """Objects made by hand whose display name no other one shares: adoption finds objects
    by name, so a shared name can be adopted by no manifest at all."""
    by_name: dict[str, list[_Claim[L]]] = defaultdict(list)
    for claim in unowned:
        by_name[claim.live.name].append(claim)
    noun = "models" if kind == KIND_MODEL else "jobs"
    for name, group in by_name.items():
        if len(group) > 1:
            skipped.extend(
                Skipped(
                    kind,
                    name,
                    claim.live.id,
                    f"{len(group)} {noun} are named {name!r} and dr-gitops adopts objects by "
                    "name; rename them in DataRobot so that each name is unique, then export "
                    "them again (with --name-filter and --force to add them to this folder)",
                )
                for claim in group
            )
    return [c for c in unowned if len(by_name[c.live.name]) == 1]
