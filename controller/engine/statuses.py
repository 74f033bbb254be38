"""What a namespace owns in DataRobot, and (given a plan) whether each object is in sync.

``dr-gitops status`` (like ``flux get`` and ``terraform state list``) is built here:

* :func:`read_owned` reads the live models, jobs and deployments with list requests only
  (each model page embeds the newest version) and lists every object the namespace owns,
  found the way the planner finds them (:mod:`controller.engine.ownership`:
  ``userProvidedId`` for models and deployments, the stamp for jobs and adopted models;
  a deployment adopted by ``spec.deploymentId`` is known from its manifest only, so it is
  listed with ``--repo``).
* :func:`owned_statuses` (pure) does the same from a snapshot; :func:`planned_statuses`
  (pure) adds each object's state from the engine's plan: *in-sync* (the plan has no action
  for it), *drifted* (it has), *missing* (its manifest's object does not exist yet),
  *blocked* (the plan refuses an action for it) or *orphaned* (owned, but no manifest).

Nothing here writes to DataRobot.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum

from controller.engine.ownership import (
    DeploymentMatches,
    Matches,
    match_deployments,
    match_jobs,
    match_models,
)
from controller.model.delivery import KIND_DEPLOYMENT, LiveDeployment
from controller.model.desired import KIND_JOB, KIND_MODEL, DesiredState, ResourceKey
from controller.model.identity import owned_model_name, read_stamp
from controller.model.live import LiveJob, LiveModel, LiveSnapshot
from controller.model.plans import Action, ActionKind, Plan
from controller.remote import ApiError, DataRobotClient, ForbiddenError, NotFoundError

STATUS_FORMAT = 1


class SyncState(StrEnum):
    """How an object compares with the manifests (only known with a repository)."""

    IN_SYNC = "in-sync"
    DRIFTED = "drifted"
    MISSING = "missing"
    BLOCKED = "blocked"
    ORPHANED = "orphaned"


@dataclass(frozen=True)
class ObjectStatus:
    """One object of the namespace: what DataRobot holds, and its state when known.

    ``id`` is ``None`` only for a manifest whose object does not exist yet (*missing*).
    ``version`` is the newest version's label (models) or the label of the version a
    deployment serves (deployments), ``commit`` the commit it was
    made from (``gitModelVersion.mainBranchCommitSha``; for jobs, their stamp's).
    ``actions`` are the kinds of the plan's actions for it; ``reason`` says why it is not
    in sync (the first action's reason) or why it is blocked.
    """

    kind: str
    name: str
    id: str | None
    display_name: str
    version: str | None = None
    commit: str | None = None
    updated: str | None = None
    state: SyncState | None = None
    actions: tuple[str, ...] = ()
    reason: str | None = None


@dataclass(frozen=True)
class StatusReport:
    """Every object of ``namespace``; ``revision`` is the manifests' commit when the
    states come from a plan (``None``: ownership only, no states)."""

    namespace: str
    objects: tuple[ObjectStatus, ...]
    revision: str | None = None
    jobs_readable: bool = True

    @property
    def with_states(self) -> bool:
        return self.revision is not None

    def counts(self) -> dict[str, int]:
        """Objects per state (every state named, zero included), or per kind without."""
        if self.with_states:
            return {s.value: sum(o.state is s for o in self.objects) for s in SyncState}
        kinds = (KIND_MODEL, KIND_JOB, KIND_DEPLOYMENT)
        return {k: sum(o.kind == k for o in self.objects) for k in kinds}


def read_owned(
    client: DataRobotClient, namespace: str, *, with_deployments: bool = True
) -> StatusReport:
    """Every object ``namespace`` owns, read with the model and job list requests only.

    Where custom jobs are not enabled for the token (403/404 on their list), jobs are left
    out and ``jobs_readable`` is false. ``with_deployments=False`` skips the deployment list
    (the service's read after a run lists deployments on its own).
    """
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="status") as pool:
        models = pool.submit(client.list_models)
        jobs = pool.submit(_jobs_or_refusal, client)
        listed = pool.submit(read_deployments, client) if with_deployments else None
        snapshot = LiveSnapshot(models=tuple(models.result()))
        read = jobs.result()
        deployments = listed.result() if listed is not None else ()
    if isinstance(read, ApiError):
        return owned_statuses(snapshot, namespace, jobs_readable=False, deployments=deployments)
    return owned_statuses(
        LiveSnapshot(models=snapshot.models, jobs=read), namespace, deployments=deployments
    )


def _jobs_or_refusal(client: DataRobotClient) -> tuple[LiveJob, ...] | ApiError:
    try:
        return tuple(client.list_jobs())
    except (ForbiddenError, NotFoundError) as exc:  # custom jobs not enabled here
        return exc


def read_deployments(client: DataRobotClient) -> tuple[LiveDeployment, ...]:
    """Every deployment (one list), or none where deployments are not enabled."""
    try:
        return tuple(client.list_deployments())
    except (ForbiddenError, NotFoundError):
        return ()


def owned_statuses(
    snapshot: LiveSnapshot,
    namespace: str,
    *,
    jobs_readable: bool = True,
    deployments: tuple[LiveDeployment, ...] = (),
) -> StatusReport:
    """Every object of ``snapshot`` (and of ``deployments``) that ``namespace`` owns,
    without states."""
    # Matched against no manifests, every object the namespace claims is an "orphan".
    nothing = DesiredState()
    models = match_models(nothing, snapshot, namespace)
    jobs = match_jobs(nothing, snapshot, namespace)
    found = [_model_status(k, m) for k, m in models.orphans.items()]
    found += [_job_status(k, j) for k, j in jobs.orphans.items()]
    found += [_deployment_status(k, d) for k, d in _owned_deployments(deployments, namespace)]
    return StatusReport(namespace, _sorted(found), jobs_readable=jobs_readable)


def planned_statuses(
    plan: Plan,
    desired: DesiredState,
    snapshot: LiveSnapshot,
    *,
    revision: str,
    jobs_readable: bool = True,
    deployments: tuple[LiveDeployment, ...] | None = None,
) -> StatusReport:
    """Every manifest's object and every orphan, each with its state in ``plan`` (made
    from ``desired`` and ``snapshot`` without ``--target``, at the commit ``revision``);
    deployments too when the live ``deployments`` are given (``None``: not listed)."""
    namespace = plan.namespace
    models = match_models(desired, snapshot, namespace)
    jobs = match_jobs(desired, snapshot, namespace)
    by_key: dict[ResourceKey, list[Action]] = defaultdict(list)
    for action in plan.actions:
        by_key[action.key].append(action)
    found: list[ObjectStatus] = []
    for model in desired.models:
        found.append(_managed(model.key, str(model.fields.get("name") or ""), models, by_key))
    for job in desired.jobs:
        found.append(_managed(job.key, str(job.fields.get("name") or ""), jobs, by_key))
    for key, live_model in models.orphans.items():
        found.append(_orphaned(_model_status(key, live_model), by_key.get(key, [])))
    for key, live_job in jobs.orphans.items():
        found.append(_orphaned(_job_status(key, live_job), by_key.get(key, [])))
    if deployments is not None:
        found += _deployment_rows(desired, deployments, namespace, by_key)
    return StatusReport(namespace, _sorted(found), revision, jobs_readable)


def _deployment_rows(
    desired: DesiredState,
    deployments: tuple[LiveDeployment, ...],
    namespace: str,
    by_key: Mapping[ResourceKey, list[Action]],
) -> list[ObjectStatus]:
    found = []
    served = match_deployments(desired.deployments, deployments, namespace)
    for wanted in desired.deployments:
        found.append(_managed(wanted.key, wanted.label, served, by_key))
    declared = {d.key for d in desired.deployments}
    for key, live in _owned_deployments(deployments, namespace):
        if key not in declared:
            found.append(_orphaned(_deployment_status(key, live), by_key.get(key, [])))
    return found


def _managed(
    key: ResourceKey,
    display_name: str,
    matches: Matches[LiveModel] | Matches[LiveJob] | DeploymentMatches,
    by_key: Mapping[ResourceKey, list[Action]],
) -> ObjectStatus:
    live = matches.live_for(key)
    if isinstance(live, LiveModel):
        status = _model_status(key, live)
    elif isinstance(live, LiveJob):
        status = _job_status(key, live)
    elif isinstance(live, LiveDeployment):
        status = _deployment_status(key, live)
    else:
        status = ObjectStatus(key.kind, key.name, None, display_name or key.name)
    actions = by_key.get(key, [])
    blocked = [a for a in actions if a.kind is ActionKind.BLOCKED]
    if blocked:
        state, reason = SyncState.BLOCKED, blocked[0].reason
    elif live is None:
        state = SyncState.MISSING
        reason = actions[0].reason if actions else "no object in DataRobot yet"
    elif actions:
        state, reason = SyncState.DRIFTED, actions[0].reason
    else:
        state, reason = SyncState.IN_SYNC, None
    return _with(status, state, actions, reason)


def _orphaned(status: ObjectStatus, actions: list[Action]) -> ObjectStatus:
    blocked = [a for a in actions if a.kind is ActionKind.BLOCKED]
    if blocked:
        return _with(status, SyncState.BLOCKED, actions, blocked[0].reason)
    reason = "owned by this namespace, but no manifest declares it (`apply --prune` deletes it)"
    return _with(status, SyncState.ORPHANED, actions, reason)


def _with(
    status: ObjectStatus, state: SyncState, actions: list[Action], reason: str | None
) -> ObjectStatus:
    kinds = tuple(dict.fromkeys(a.kind.value for a in actions))
    return ObjectStatus(
        status.kind,
        status.name,
        status.id,
        status.display_name,
        status.version,
        status.commit,
        status.updated,
        state,
        kinds,
        reason,
    )


def _model_status(key: ResourceKey, model: LiveModel) -> ObjectStatus:
    latest = model.latest_version
    git = (latest.git if latest is not None else None) or model.git
    return ObjectStatus(
        KIND_MODEL,
        key.name,
        model.id,
        model.name,
        version=latest.label if latest is not None else None,
        commit=git.main_branch_commit_sha if git is not None else None,
        updated=model.updated or (latest.created if latest is not None else None) or None,
    )


def _job_status(key: ResourceKey, job: LiveJob) -> ObjectStatus:
    stamp = read_stamp(str(job.fields.get("description") or ""))
    return ObjectStatus(
        KIND_JOB,
        key.name,
        job.id,
        job.name,
        commit=stamp.commit if stamp is not None else None,
        updated=job.updated or job.created or None,
    )


def _deployment_status(key: ResourceKey, deployment: LiveDeployment) -> ObjectStatus:
    return ObjectStatus(
        KIND_DEPLOYMENT, key.name, deployment.id, deployment.label, deployment.version_label
    )


def _owned_deployments(
    deployments: tuple[LiveDeployment, ...], namespace: str
) -> list[tuple[ResourceKey, LiveDeployment]]:
    """The deployments ``namespace`` made (``userProvidedId``), by key."""
    found = []
    for live in deployments:
        name = owned_model_name(namespace, live.user_provided_id)
        if name is not None:
            found.append((ResourceKey(KIND_DEPLOYMENT, name), live))
    return found


def _sorted(found: list[ObjectStatus]) -> tuple[ObjectStatus, ...]:
    order = {KIND_MODEL: 0, KIND_JOB: 1, KIND_DEPLOYMENT: 2}
    return tuple(sorted(found, key=lambda o: (order.get(o.kind, 2), o.name, o.id or "")))
