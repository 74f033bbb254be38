"""Every managed object as a run left it: what the status page shows per object.

A run of ``serve`` reports its objects in ``RunOutcome.objects`` (see
:mod:`controller.service.runs`), built here from the engine's plan (states as in
``dr-gitops status``: :func:`controller.engine.statuses.planned_statuses`) and, after an
apply, from each action's outcome:

==============  ===============================================================
``in-sync``     nothing to do, or every action on it was applied
``drifted``     the plan has actions for it that were not applied (observe mode,
                suspended), or it was changed outside git and is left so
                (a Deployment with ``heal: false``)
``missing``     its manifest's object does not exist yet (and was not created)
``pending``     a dependency build or model test of its new version still runs
``failed``      an action on it failed or did not run
``blocked``     the plan refuses an action on it
``orphaned``    owned by the namespace, but no manifest declares it
==============  ===============================================================

A custom model whose manifest asks for a test (``spec.version.test``) also gets its last
test result: ``passed``, ``failed`` or ``pending`` from the run's test action when it ran one,
otherwise from the snapshot's newest test of the newest version (``none``: not tested yet).
Objects without a test have no result (``None``).

After a run that wrote, the objects are read again (two list requests) so that the page
shows the newest version and commit, not the ones the plan started from.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from controller.engine.outcomes import ApplyResult, Outcome
    from controller.engine.reconciling import Planned
    from controller.engine.statuses import ObjectStatus, StatusReport

STATES = ("in-sync", "drifted", "missing", "pending", "failed", "blocked", "orphaned")


@dataclass(frozen=True)
class ObjectState:
    """One managed object for the status page (no secrets: names, IDs, labels, commits).

    ``commit_url`` is the newest version's ``gitModelVersion.commitUrl`` when it has one;
    ``actions`` the plan's action kinds for it; ``reason`` why it is not in sync;
    ``test_result`` the last test of a model whose manifest asks for one (``passed``,
    ``failed``, ``pending`` or ``none``; ``None`` when it asks for no test); ``serves``
    the model a deployment serves (``fraud 1.2``: its custom model and version label).
    """

    kind: str
    name: str
    display_name: str
    state: str
    id: str | None = None
    version: str | None = None
    commit: str | None = None
    commit_url: str | None = None
    updated: str | None = None
    actions: tuple[str, ...] = ()
    reason: str | None = None
    test_result: str | None = None
    serves: str | None = None


TEST_RESULTS = ("passed", "failed", "pending", "none")


def planned_objects(planned: Planned, revision: str) -> tuple[ObjectState, ...]:
    """Each object's state in the plan, nothing applied (observe mode, suspended)."""
    from controller.engine.statuses import planned_statuses

    report = planned_statuses(planned.plan, planned.desired, planned.snapshot, revision=revision)
    tests = _test_results(planned, None, report.objects)
    objects = tuple(
        _state(o, str(o.state), _commit_urls(planned), tests.get((o.kind, o.name)))
        for o in report.objects
    )
    return objects + _deployments(planned, None)


def applied_objects(
    planned: Planned,
    result: ApplyResult | None,
    revision: str,
    refreshed: StatusReport | None = None,
) -> tuple[ObjectState, ...]:
    """Each object's state once ``result`` was applied (``None``: nothing was to apply).

    ``refreshed`` (the namespace read again after the writes) gives the newest versions,
    IDs and commits; the states still come from the plan and the outcomes. Deployments
    get their ID and the model they serve from the deployments the plan read, and from
    the creations and replacements the run carried out (no request of their own).
    """
    from controller.engine.outcomes import Outcome
    from controller.engine.statuses import planned_statuses

    report = planned_statuses(planned.plan, planned.desired, planned.snapshot, revision=revision)
    outcomes: dict[tuple[str, str], set[Outcome]] = {}
    for r in result.results if result is not None else ():
        outcomes.setdefault((r.action.key.kind, r.action.key.name), set()).add(r.outcome)
    fresh = {(o.kind, o.name): o for o in refreshed.objects} if refreshed is not None else {}
    urls = _commit_urls(planned)
    tests = _test_results(planned, result, report.objects)
    states = []
    for status in report.objects:
        key = (status.kind, status.name)
        seen = outcomes.get(key)
        state = str(status.state)
        if seen:
            state = "in-sync" if seen == {Outcome.DONE} else _worst(seen)
        elif state in ("drifted", "missing"):
            state = "failed"  # planned, yet no action ran: the run stopped before it
        current = fresh.get(key)
        if current is not None:
            status = replace(
                status,
                id=current.id,
                version=current.version,
                commit=current.commit,
                updated=current.updated,
            )
        elif refreshed is not None and seen == {Outcome.DONE} and status.id is not None:
            continue  # it existed, every action on it was done, and it is gone: pruned
        states.append(_state(status, state, urls, tests.get(key)))
    return tuple(states) + _deployments(planned, result)


def _deployments(planned: Planned, result: ApplyResult | None) -> tuple[ObjectState, ...]:
    """One row per Deployment manifest: its state from the plan and the outcomes (as for
    models); its ID and the model it serves as the plan read them (by ``userProvidedId``,
    or adopted by ``spec.deploymentId``), or as a creation or replacement of this run left
    them."""
    from controller.engine.outcomes import Outcome
    from controller.engine.ownership import match_deployments

    live = planned.deployments or ()
    matches = match_deployments(planned.desired.deployments, live, planned.namespace)
    rows = []
    for wanted in planned.desired.deployments:
        key = wanted.key
        actions = [a for a in planned.plan.actions if a.key == key]
        blocked = [a for a in planned.plan.blocked if a.key == key]
        seen = {
            r.outcome for r in (result.results if result is not None else ()) if r.action.key == key
        }
        found = matches.live_for(key)  # by userProvidedId, or adopted by spec.deploymentId
        deployment_id = found.id if found is not None else None
        served = found.version_label if found is not None else None
        for r in result.results if result is not None else ():
            params = r.action.params
            if r.action.key == key and r.outcome is Outcome.DONE and _serves(params):
                deployment_id = r.object_id or deployment_id
                served = _serves(params)
        drift = [d for d in planned.plan.drift if d.key == key]
        reason: str | None
        if blocked:
            state, reason = "blocked", blocked[0].reason
        elif seen and seen == {Outcome.DONE} and drift:
            state, reason = "drifted", drift[0].reason  # heal: false: git's part applied
        elif seen:
            state = "in-sync" if seen == {Outcome.DONE} else _worst(seen)
            reason = actions[0].reason if actions else None
        elif actions:
            exists = found is not None or any(not a.kind.is_creation for a in actions)
            state = ("failed" if result is not None else "drifted") if exists else "missing"
            reason = actions[0].reason
        else:
            state, reason = ("drifted", drift[0].reason) if drift else ("in-sync", None)
        rows.append(
            ObjectState(
                kind=key.kind,
                name=key.name,
                display_name=wanted.label,
                state=state,
                id=deployment_id,
                actions=tuple(a.kind.value for a in actions),
                reason=None if state == "in-sync" else reason,
                serves=f"{wanted.model} {served}" if served else None,
            )
        )
    return tuple(rows)


def _serves(params: object) -> str | None:
    """The version label a creation or replacement makes the deployment serve."""
    from controller.model.deliveryparams import DeploymentCreate, ModelReplacement

    if isinstance(params, DeploymentCreate | ModelReplacement):
        return params.target.version_label
    return None


def _worst(seen: set[Outcome]) -> str:
    from controller.engine.outcomes import Outcome

    if Outcome.BLOCKED in seen:
        return "blocked"
    if Outcome.PENDING in seen and Outcome.FAILED not in seen:
        return "pending"  # a build or test still runs; the next run looks again
    return "failed"


def _commit_urls(planned: Planned) -> dict[str, tuple[str, str]]:
    """Model ID → the newest version's commit and its URL (jobs record none)."""
    urls: dict[str, tuple[str, str]] = {}
    for model in planned.snapshot.models:
        latest = model.latest_version
        git = (latest.git if latest is not None else None) or model.git
        if git is not None and git.commit_url and git.main_branch_commit_sha:
            urls[model.id] = (git.main_branch_commit_sha, git.commit_url)
    return urls


def _test_results(
    planned: Planned, result: ApplyResult | None, statuses: tuple[ObjectStatus, ...]
) -> dict[tuple[str, str], str]:
    """(kind, name) → the last test result of each model whose manifest asks for a test:
    the run's own test when it carried one out or left one running, else the newest test
    of the newest version in the snapshot the plan was made from."""
    from controller.engine.outcomes import Outcome
    from controller.model.gates import FAILED_TEST, PASSED_TEST, RUNNING_TEST
    from controller.model.plans import ActionKind

    ran: dict[tuple[str, str], str] = {}
    for r in result.results if result is not None else ():
        if r.action.kind is not ActionKind.TEST_VERSION:
            continue
        key = (r.action.key.kind, r.action.key.name)
        if r.outcome is Outcome.PENDING:
            ran[key] = "pending"
        elif r.outcome is Outcome.DONE:
            passed = result is not None and result.gate_passed(str(r.action.key)) is not None
            ran[key] = "passed" if passed else "failed"
        elif r.outcome is Outcome.FAILED:
            ran[key] = "failed"
    models = {m.id: m for m in planned.snapshot.models}
    ids = {(o.kind, o.name): o.id for o in statuses}
    found: dict[tuple[str, str], str] = {}
    for model in planned.desired.models:
        gates = model.version.gates if model.version is not None else None
        if gates is None or gates.test is None:
            continue
        key = (model.key.kind, model.key.name)
        if key in ran:
            found[key] = ran[key]
            continue
        live = models.get(ids.get(key) or "")
        latest = live.latest_version if live is not None else None
        state = planned.snapshot.model_gates.get(live.id) if live is not None else None
        tests = state.tests if state is not None and latest is not None else ()
        newest = next((t for t in tests if latest and t.version_id == latest.id), None)
        if newest is None:
            found[key] = "none"
        elif newest.overall_status in RUNNING_TEST:
            found[key] = "pending"
        elif newest.overall_status in PASSED_TEST:
            found[key] = "passed"
        elif newest.overall_status in FAILED_TEST:
            found[key] = "failed"
        else:
            found[key] = "none"  # canceled or aborted: not tested to an end
    return found


def _state(
    status: ObjectStatus,
    state: str,
    urls: dict[str, tuple[str, str]],
    test_result: str | None = None,
) -> ObjectState:
    sha, url = urls.get(status.id or "", ("", ""))
    if url and status.commit != sha:
        # Read again after a new version: its URL is the same template at the new commit.
        url = url.replace(sha, status.commit) if status.commit and sha in url else ""
    return ObjectState(
        kind=status.kind,
        name=status.name,
        display_name=status.display_name,
        state=state,
        id=status.id,
        version=status.version,
        commit=status.commit,
        commit_url=url or None,
        updated=status.updated,
        actions=status.actions,
        reason=None if state == "in-sync" else status.reason,
        test_result=test_result,
    )
