"""Pair each manifest with the live object it manages (pure; see controller.model.identity).

Owned objects are found by ``userProvidedId`` (models) or by their stamp (jobs, adopted
models). A manifest with ``metadata.adopt`` may take over one unowned object with exactly
its display name. Anything ambiguous is reported as a conflict rather than guessed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from controller.model.desired import (
    KIND_JOB,
    KIND_MODEL,
    DesiredJob,
    DesiredModel,
    DesiredState,
    ResourceKey,
)
from controller.model.identity import owned_model_name, read_stamp
from controller.model.live import LiveJob, LiveModel, LiveSnapshot

L = TypeVar("L", LiveModel, LiveJob)


@dataclass(frozen=True)
class Matches(Generic[L]):
    """The pairing for one kind."""

    owned: Mapping[ResourceKey, L] = field(default_factory=dict)
    adopted: Mapping[ResourceKey, L] = field(default_factory=dict)
    orphans: Mapping[ResourceKey, L] = field(default_factory=dict)
    conflicts: Mapping[ResourceKey, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def live_for(self, key: ResourceKey) -> L | None:
        return self.owned.get(key) or self.adopted.get(key)


def match_models(desired: DesiredState, live: LiveSnapshot, namespace: str) -> Matches[LiveModel]:
    claims: dict[ResourceKey, list[LiveModel]] = defaultdict(list)
    unowned: list[LiveModel] = []
    for model in live.models:
        name = owned_model_name(namespace, model.user_provided_id)
        if name is None:
            stamp = read_stamp(str(model.fields.get("description") or ""))
            name = stamp.name if stamp and stamp.namespace == namespace else None
        if name is None:
            unowned.append(model)
        else:
            claims[ResourceKey(KIND_MODEL, name)].append(model)
    return _pair(desired.models, claims, unowned, "model")


def match_jobs(desired: DesiredState, live: LiveSnapshot, namespace: str) -> Matches[LiveJob]:
    claims: dict[ResourceKey, list[LiveJob]] = defaultdict(list)
    unowned: list[LiveJob] = []
    for job in live.jobs:
        stamp = read_stamp(str(job.fields.get("description") or ""))
        if stamp and stamp.namespace == namespace:
            claims[ResourceKey(KIND_JOB, stamp.name)].append(job)
        else:
            unowned.append(job)
    return _pair(desired.jobs, claims, unowned, "job")


def _unstamped(obj: LiveModel | LiveJob) -> bool:
    return read_stamp(str(obj.fields.get("description") or "")) is None


def _pair(
    wanted: Sequence[DesiredModel] | Sequence[DesiredJob],
    claims: Mapping[ResourceKey, list[L]],
    unowned: list[L],
    noun: str,
) -> Matches[L]:
    owned: dict[ResourceKey, L] = {}
    adopted: dict[ResourceKey, L] = {}
    conflicts: dict[ResourceKey, str] = {}
    warnings: list[str] = []
    by_name: dict[str, list[L]] = defaultdict(list)
    for obj in unowned:
        by_name[obj.name].append(obj)
    for res in wanted:
        found = claims.get(res.key, [])
        display = str(res.fields.get("name") or res.key.name)
        if len(found) > 1:
            ids = ", ".join(sorted(o.id for o in found))
            conflicts[res.key] = (
                f"{len(found)} {noun}s claim {res.key} (ids {ids}); delete the extra ones or "
                "remove their dr-gitops stamp so that exactly one remains"
            )
        elif found:
            owned[res.key] = found[0]
        elif res.adopt is not None:
            candidates = by_name.get(res.adopt.name, [])
            if len(candidates) == 1:
                adopted[res.key] = candidates[0]
            elif len(candidates) > 1:
                ids = ", ".join(sorted(o.id for o in candidates))
                conflicts[res.key] = (
                    f"cannot adopt: {len(candidates)} {noun}s are named {res.adopt.name!r} "
                    f"(ids {ids}); rename all but one in DataRobot first"
                )
            else:
                warnings.append(
                    f"{res.key}: metadata.adopt is set but no {noun} named {res.adopt.name!r} "
                    "exists; it will be created"
                )
        elif noun == "job" and (
            unstamped := [o for o in by_name.get(display, []) if _unstamped(o)]
        ):
            # A job's ownership lives in its description; one edited by hand loses it. Rather
            # than make a second job (or claim one made by hand), ask.
            ids = ", ".join(sorted(o.id for o in unstamped))
            conflicts[res.key] = (
                f"a custom job named {display!r} exists that dr-gitops does not own (id {ids}; "
                "if it was made by dr-gitops, its description lost the dr-gitops stamp). Set "
                "metadata.adopt: true to take it over, or rename one of them"
            )
        elif by_name.get(display):
            ids = ", ".join(sorted(o.id for o in by_name[display]))
            warnings.append(
                f"{res.key}: a {noun} named {display!r} exists that dr-gitops does not own "
                f"(id {ids}); a new one will be created. Set metadata.adopt: true to take it over instead"
            )
    wanted_keys = {r.key for r in wanted}
    orphans = {
        k: objs[0] for k, objs in sorted(claims.items()) if k not in wanted_keys and len(objs) == 1
    }
    for key, objs in sorted(claims.items()):
        if key not in wanted_keys and len(objs) > 1:
            orphans.update({ResourceKey(key.kind, f"{key.name}#{o.id}"): o for o in objs})
    return Matches(owned, adopted, orphans, conflicts, tuple(warnings))
