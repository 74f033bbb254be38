"""Pair each manifest with the live object it manages (pure; see controller.model.identity).

Owned objects are found by ``userProvidedId`` (models) or by their stamp (jobs, adopted
models). A manifest with ``metadata.adopt`` may take over one unowned object with exactly
its display name; objects another dr-gitops namespace owns (its stamp, or a
``userProvidedId`` under the prefix of a namespace whose stamps or lock are seen) are never
adopted, and a model's stamp never outranks another namespace's ``userProvidedId``.
Anything ambiguous is reported as a conflict rather than guessed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Generic, TypeVar

from controller.model.delivery import DesiredDeployment, LiveDeployment
from controller.model.desired import (
    KIND_JOB,
    KIND_MODEL,
    DesiredJob,
    DesiredModel,
    DesiredState,
    ResourceKey,
)
from controller.model.identity import (
    LOCK_NAME_PREFIX as _LOCK_NAME_PREFIX,  # of a lock object's display name
)
from controller.model.identity import (
    is_lock_upid,
    lock_namespace_prefix,
    model_upid,
    owned_model_name,
    read_stamp,
    upid_prefix,
)
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
    ambiguous: frozenset[ResourceKey] = frozenset()
    """Orphans that share a claim with another object (``name#id`` keys): never pruned."""

    def live_for(self, key: ResourceKey) -> L | None:
        return self.owned.get(key) or self.adopted.get(key)


@dataclass(frozen=True)
class MatchResult:
    """Every manifest paired with its live object, once per plan (both kinds), handed to
    the evidence gatherer and the planner alike, as gitops-engine's ``Reconcile`` hands one
    ``ReconciliationResult`` to diff and sync."""

    models: Matches[LiveModel]
    jobs: Matches[LiveJob]

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.models.warnings + self.jobs.warnings

    @property
    def orphans(self) -> tuple[ResourceKey, ...]:
        """Owned objects without a manifest, by key."""
        return tuple(sorted([*self.models.orphans, *self.jobs.orphans]))


def match(desired: DesiredState, live: LiveSnapshot, namespace: str) -> MatchResult:
    """Pair the manifests with the live models and jobs of ``namespace``."""
    return MatchResult(match_models(desired, live, namespace), match_jobs(desired, live, namespace))


def match_models(desired: DesiredState, live: LiveSnapshot, namespace: str) -> Matches[LiveModel]:
    claims: dict[ResourceKey, list[LiveModel]] = defaultdict(list)
    unowned: list[LiveModel] = []
    foreign: list[LiveModel] = []
    others = _other_prefixes(live, namespace)
    for model in live.models:
        upid = model.user_provided_id or ""
        name = owned_model_name(namespace, upid)
        stamp = read_stamp(str(model.fields.get("description") or ""))
        theirs = is_lock_upid(upid) or upid.startswith(others)
        if name is None and stamp is not None and stamp.namespace == namespace and not theirs:
            name = stamp.name  # adopted: its own userProvidedId, our stamp
        if name is not None:
            claims[ResourceKey(KIND_MODEL, name)].append(model)
        elif theirs or stamp is not None:
            foreign.append(model)
        else:
            unowned.append(model)
    return _pair(desired.models, claims, unowned, "model", foreign)


def match_jobs(desired: DesiredState, live: LiveSnapshot, namespace: str) -> Matches[LiveJob]:
    claims: dict[ResourceKey, list[LiveJob]] = defaultdict(list)
    unowned: list[LiveJob] = []
    foreign: list[LiveJob] = []
    for job in live.jobs:
        stamp = read_stamp(str(job.fields.get("description") or ""))
        if stamp is None:
            unowned.append(job)
        elif stamp.namespace == namespace:
            claims[ResourceKey(KIND_JOB, stamp.name)].append(job)
        else:
            foreign.append(job)
    return _pair(desired.jobs, claims, unowned, "job", foreign)


def _other_prefixes(live: LiveSnapshot, namespace: str) -> tuple[str, ...]:
    """``userProvidedId`` prefixes of the other namespaces dr-gitops has left a mark of
    (stamps, lock objects), longest first."""
    descriptions = [m.fields.get("description") for m in live.models]
    descriptions += [j.fields.get("description") for j in live.jobs]
    prefixes = {
        upid_prefix(stamp.namespace)
        for description in descriptions
        if (stamp := read_stamp(str(description or ""))) is not None
    }
    prefixes |= {
        lock_namespace_prefix(m.user_provided_id) + "/"
        for m in live.models
        if m.user_provided_id and is_lock_upid(m.user_provided_id)
    }
    prefixes.discard(upid_prefix(namespace))
    # Our own models are claimed before this is asked, so a prefix of ours ("a/" when we
    # are "a/b") cannot make them foreign.
    return tuple(sorted(prefixes, key=len, reverse=True))


def _unstamped(obj: LiveModel | LiveJob) -> bool:
    return read_stamp(str(obj.fields.get("description") or "")) is None


def _pair(
    wanted: Sequence[DesiredModel] | Sequence[DesiredJob],
    claims: Mapping[ResourceKey, list[L]],
    unowned: list[L],
    noun: str,
    foreign: Sequence[L] = (),
) -> Matches[L]:
    owned: dict[ResourceKey, L] = {}
    adopted: dict[ResourceKey, L] = {}
    conflicts: dict[ResourceKey, str] = {}
    warnings: list[str] = []
    by_name: dict[str, list[L]] = defaultdict(list)
    for obj in unowned:
        by_name[obj.name].append(obj)
    theirs: dict[str, list[L]] = defaultdict(list)
    for obj in foreign:
        theirs[obj.name].append(obj)
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
            elif theirs.get(res.adopt.name):
                ids = ", ".join(sorted(o.id for o in theirs[res.adopt.name]))
                conflicts[res.key] = (
                    f"cannot adopt the {noun} named {res.adopt.name!r} (id {ids}): another "
                    "dr-gitops namespace manages it. Remove it from that repository first (or "
                    "give this manifest another spec.name to make a new one)"
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
        elif theirs.get(display):
            ids = ", ".join(sorted(o.id for o in theirs[display]))
            warnings.append(
                f"{res.key}: a {noun} named {display!r} exists that another dr-gitops "
                f"namespace manages, so this one does not own it (id {ids}); a new one will be "
                "created"
            )
    wanted_keys = {r.key for r in wanted}
    # Only the claims no manifest wants are sorted (10,000 keys compared in Python were
    # most of matching's time, for none or a few orphans).
    unwanted = sorted(
        ((k, objs) for k, objs in claims.items() if k not in wanted_keys), key=itemgetter(0)
    )
    orphans = {k: objs[0] for k, objs in unwanted if len(objs) == 1}
    ambiguous: set[ResourceKey] = set()
    for key, objs in unwanted:
        if len(objs) > 1:
            several = {ResourceKey(key.kind, f"{key.name}#{o.id}"): o for o in objs}
            orphans.update(several)
            ambiguous.update(several)
    return Matches(owned, adopted, orphans, conflicts, tuple(warnings), frozenset(ambiguous))


def made_by_trusted(model: LiveModel, live: LiveSnapshot, trusted: Sequence[str]) -> bool:
    """Whether ``model`` was created by the token's user or a ``--trusted-creator``. True
    also when that cannot be told (the server names no creator, or not the token's user)."""
    creator, controller = model.created_by, live.controller_user
    if not creator or not controller:
        return True
    return creator.casefold() in {n.casefold() for n in (controller, *trusted)}


def held_elsewhere(
    desired: DesiredState,
    live: LiveSnapshot,
    namespace: str,
    models: Matches[LiveModel],
    jobs: Matches[LiveJob],
    trusted_creators: Sequence[str] = (),
) -> dict[str, tuple[str, ...]]:
    """Objects that carry the name of a manifest this namespace would create, under another
    dr-gitops namespace: ``{other namespace: ("CustomModel/churn (id ...)", ...)}``.

    A model counts when its stamp names another namespace, or when its ``userProvidedId``
    is ``<other namespace>/<manifest name>`` and it records a git commit (dr-gitops always
    writes one); a job when its stamp names another namespace. This is how a repository
    whose namespace changed (a new remote URL, a rename) finds its old objects, which it
    would otherwise create again. A namespace shortened with a hash in ``userProvidedId``
    is named in full when its lock object is seen.

    Models (and lock objects) made by another DataRobot user than the token's or a
    ``trusted_creators`` one are not counted (:func:`made_by_trusted`): anyone can make a
    model with such a stamp and share it with the controller, which would otherwise block
    every run and advise pinning a namespace of their choosing. Jobs have no creator field.
    """
    wanted_models = {
        m.key.name
        for m in desired.models
        if not models.live_for(m.key) and m.key not in models.conflicts
    }
    wanted_jobs = {
        j.key.name for j in desired.jobs if not jobs.live_for(j.key) and j.key not in jobs.conflicts
    }
    ours = [m for m in live.models if made_by_trusted(m, live, trusted_creators)]
    full_names = {
        lock_namespace_prefix(m.user_provided_id): m.name.removeprefix(_LOCK_NAME_PREFIX)
        for m in ours
        if m.user_provided_id and is_lock_upid(m.user_provided_id)
    }
    found: dict[str, list[str]] = defaultdict(list)
    for model in ours:
        upid = model.user_provided_id or ""
        stamp = read_stamp(str(model.fields.get("description") or ""))
        prefix, _, name = upid.rpartition("/")
        recorded = model.git is not None or bool(model.latest_version and model.latest_version.git)
        if stamp is not None and stamp.namespace != namespace and stamp.name in wanted_models:
            found[stamp.namespace].append(f"{KIND_MODEL}/{stamp.name} (id {model.id})")
        elif (
            recorded and prefix and name in wanted_models and f"{prefix}/" != upid_prefix(namespace)
        ):
            found[full_names.get(prefix, prefix)].append(f"{KIND_MODEL}/{name} (id {model.id})")
    for job in live.jobs:
        stamp = read_stamp(str(job.fields.get("description") or ""))
        if stamp is not None and stamp.namespace != namespace and stamp.name in wanted_jobs:
            found[stamp.namespace].append(f"{KIND_JOB}/{stamp.name} (id {job.id})")
    return {ns: tuple(sorted(objects)) for ns, objects in sorted(found.items())}


# --- deployments -------------------------------------------------------------------------


@dataclass(frozen=True)
class DeploymentMatches:
    """Deployment manifests paired with live deployments.

    ``owned``: found by ``userProvidedId = <namespace>/<metadata.name>`` (made by
    dr-gitops); ``adopted``: found by ``spec.deploymentId`` (made elsewhere; the ID is the
    identity, as DataRobot sets ``userProvidedId`` only at creation); ``conflicts``: the
    manifests that may not have the deployment they name, with why.
    """

    owned: Mapping[ResourceKey, LiveDeployment] = field(default_factory=dict)
    adopted: Mapping[ResourceKey, LiveDeployment] = field(default_factory=dict)
    conflicts: Mapping[ResourceKey, str] = field(default_factory=dict)

    def live_for(self, key: ResourceKey) -> LiveDeployment | None:
        return self.owned.get(key) or self.adopted.get(key)


def match_deployments(
    desired: Sequence[DesiredDeployment], live: Sequence[LiveDeployment], namespace: str
) -> DeploymentMatches:
    """Pair each Deployment manifest with its live deployment (see :class:`DeploymentMatches`).

    A manifest with ``spec.deploymentId`` is refused when that deployment does not exist,
    when its ``userProvidedId`` belongs to another manifest of this namespace or to anyone
    else (another namespace, another tool), or when this namespace also made a deployment
    for the manifest (two deployments, one manifest)."""
    prefix = upid_prefix(namespace)
    by_id = {d.id: d for d in live}
    by_upid = {d.user_provided_id: d for d in live if d.user_provided_id}
    owned: dict[ResourceKey, LiveDeployment] = {}
    adopted: dict[ResourceKey, LiveDeployment] = {}
    conflicts: dict[ResourceKey, str] = {}
    for deployment in desired:
        key = deployment.key
        upid = model_upid(namespace, key.name)
        made = by_upid.get(upid)
        if deployment.deployment_id is None:
            if made is not None:
                owned[key] = made
            continue
        wanted = by_id.get(deployment.deployment_id)
        theirs = wanted.user_provided_id if wanted is not None else None
        if wanted is None:
            conflicts[key] = (
                f"spec.deploymentId {deployment.deployment_id}: no such deployment (deleted, "
                "or not visible to this token); remove spec.deploymentId to create a new one"
            )
        elif theirs == upid:
            owned[key] = wanted
        elif made is not None:
            conflicts[key] = (
                f"spec.deploymentId names deployment {wanted.id}, but this namespace made "
                f"deployment {made.id} for this manifest already; keep one of them: remove "
                f"spec.deploymentId, or delete deployment {made.id}"
            )
        elif theirs and theirs.startswith(prefix):
            conflicts[key] = (
                f"deployment {wanted.id} belongs to Deployment/{theirs[len(prefix) :]} of this "
                "namespace (its userProvidedId); a deployment has one manifest"
            )
        elif theirs:
            conflicts[key] = (
                f"deployment {wanted.id} carries userProvidedId {theirs!r}: another namespace "
                "or tool manages it, so dr-gitops does not adopt it"
            )
        else:
            adopted[key] = wanted
    return DeploymentMatches(owned, adopted, conflicts)
