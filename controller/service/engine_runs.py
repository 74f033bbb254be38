"""The run function of ``dr-gitops serve``: each run fetches git, then is the one
reconcile of :mod:`controller.service.orchestrator`, and says what it did as a
:class:`~controller.service.runs.RunOutcome`.

It fulfils the contract of :mod:`controller.service.runs` with the real engine.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from typing import Literal

from controller.engine.outcomes import ApplyResult, Outcome
from controller.engine.reconciling import Planned
from controller.engine.render import render_text
from controller.engine.statuses import StatusReport, read_owned
from controller.engine.tickmemory import TickMemory
from controller.errors import DrGitopsError, LockError
from controller.logs import get_logger
from controller.manifests import ManifestError
from controller.model.plans import ActionKind
from controller.remote import DataRobotClient, PageMemo
from controller.service.objectstates import ObjectState, applied_objects, planned_objects
from controller.service.orchestrator import Orchestrator, Reconciled, Session, open_session
from controller.service.runs import (
    ActionCounts,
    GateReport,
    ResourceCount,
    RunOutcome,
    RunRequest,
)
from controller.settings import ApiSettings, EngineSettings, GitSettings
from controller.sources import GitSource

log = get_logger(__name__)

_COUNTED_AS = {
    ActionKind.CREATE_MODEL: "created",
    ActionKind.CREATE_JOB: "created",
    ActionKind.ADOPT_MODEL: "updated",
    ActionKind.ADOPT_JOB: "updated",
    ActionKind.UPDATE_MODEL: "updated",
    ActionKind.UPDATE_JOB: "updated",
    ActionKind.UPDATE_VERSION_METADATA: "updated",
    ActionKind.CREATE_VERSION: "versions",
    ActionKind.UPDATE_MODEL_SHARING: "shared",
    ActionKind.UPDATE_JOB_SHARING: "shared",
    ActionKind.DELETE_MODEL: "deleted",
    ActionKind.DELETE_JOB: "deleted",
    ActionKind.BUILD_DEPENDENCIES: "builds",
    ActionKind.TEST_VERSION: "tests",
    # Deployment drift put back counts as updates, like a model's.
    ActionKind.REGISTER_VERSION: "versions",
    ActionKind.UPDATE_REGISTERED_MODEL: "updated",
    ActionKind.CREATE_DEPLOYMENT: "created",
    ActionKind.REPLACE_DEPLOYMENT_MODEL: "updated",
    ActionKind.UPDATE_DEPLOYMENT: "updated",
    ActionKind.UPDATE_DEPLOYMENT_SETTINGS: "updated",
    ActionKind.UPDATE_DEPLOYMENT_SHARING: "shared",
    ActionKind.DELETE_DEPLOYMENT: "deleted",
}


@dataclass(frozen=True)
class EngineRunner:
    """``RunFn`` for the service: settings in, one reconcile per call.

    ``environ`` is the environment git runs with. ``namespace`` is the namespace ``serve``
    started under, whose lock it holds: a run
    whose checkout says another (a merged ``.dr-gitops.yaml`` that changes ``namespace:``)
    fails before planning, since it would write under a namespace it holds no lock for.

    ``memory`` and ``pages`` live as long as the runner: a run whose commit (and uncommitted
    files) and DataRobot did not move since the last run takes over that run's desired
    state, decoded list pages, matching and plan instead of computing them again
    (:mod:`controller.engine.tickmemory`). Every run still reads DataRobot, so drift made by
    hand is seen by the next run.
    """

    git: GitSettings
    api: ApiSettings
    engine: EngineSettings
    environ: Mapping[str, str]
    namespace: str | None = None
    memory: TickMemory = field(default_factory=TickMemory, compare=False, repr=False)
    pages: PageMemo = field(default_factory=PageMemo, compare=False, repr=False)
    quiet: QuietRuns = field(default_factory=lambda: QuietRuns(), compare=False, repr=False)

    def __call__(self, request: RunRequest) -> RunOutcome:
        def observe(method: str, route: str, status: int | str, _elapsed: float) -> None:
            request.on_api_request(method, route, status if isinstance(status, int) else 0)

        def opened() -> AbstractContextManager[Session]:
            # A service is not a CI pipeline: gitModelVersion comes from plain git.
            # What changed in git since the last successful run is not drift (heal: false).
            engine = replace(self.engine, drift_baseline=request.last_success_revision)
            return open_session(
                self.git,
                self.api,
                engine,
                environ=self.environ,
                ci=None,
                on_request=observe,
                memory=self.memory,
                pages=self.pages,
            )

        self.pages.next_tick()  # pages neither this run nor the last read are forgotten

        revision: list[str] = []

        def inspect(source: GitSource) -> None:
            revision.append(source.checkout.sha)
            request.on_revision(source.checkout.sha)
            _check_pushed(source, request.pushed_revision)
            _check_namespace(source, self.namespace)

        # The service holds the namespace lock for its whole life: no locking here.
        # A long build or test never holds up the next run: it is left pending.
        refreshed: list[StatusReport | None] = []

        def read_again(s: Session, done: Reconciled) -> None:
            # The objects after the writes, for the status page's newest versions.
            if done.result is not None and done.result.results:
                refreshed.append(_read_again(s.client, done.planned))

        # Observe mode and a suspended service plan and report: nothing is approved.
        orchestrator = Orchestrator(
            opened,
            inspect=inspect,
            approve=lambda _plan: not request.dry_run,
            after_apply=read_again,
            wait_for_gates=False,
        )
        try:
            done = orchestrator.reconcile(request.stop)
        except ManifestError as exc:
            log.warning("run_failed", error=str(exc))
            return RunOutcome(
                "failed", _last(revision), errors=(str(exc),), failed_gate="manifest validation"
            )
        except DrGitopsError as exc:
            log.warning("run_failed", error=str(exc))
            return RunOutcome("failed", _last(revision), errors=(str(exc),))
        read = refreshed[0] if refreshed else None
        return _outcome(
            done, _last(revision) or "", request.last_success_revision, read, self.quiet
        )


class QuietRuns:
    """The object states and counts of the last run that had nothing to do, for the next
    one planned from the same desired state, snapshot, checkout and plan (at 10,000 models
    working them out again costs more than the rest of such a run)."""

    def __init__(self) -> None:
        self._kept: tuple[tuple[object, ...], RunOutcome] | None = None

    def outcome(self, planned: Planned, revision: str) -> RunOutcome:
        key = (planned.plan, planned.snapshot, planned.checkout, revision, planned.deployments)
        kept = self._kept
        if kept is not None and kept[0][0] is planned.desired and kept[0][1:] == key:
            return kept[1]
        outcome = RunOutcome(
            "no-op",
            revision,
            resources=_resources(planned, None),
            objects=applied_objects(planned, None, revision, None),
        )
        self._kept = ((planned.desired, *key), outcome)
        return outcome


def _last(revisions: list[str]) -> str | None:
    return revisions[-1] if revisions else None


def _outcome(
    done: Reconciled,
    revision: str,
    last_success: str | None,
    refreshed: StatusReport | None,
    quiet: QuietRuns | None = None,
) -> RunOutcome:
    planned, result = done.planned, done.result
    for report in planned.plan.drift:
        fields = [c.field for c in report.fields] + (["sharing"] if report.sharing else [])
        log.info("drift_reported", key=str(report.key), fields=fields, healed=False)
    if done.declined:
        # Observe mode or suspended: the plan is reported, nothing applied.
        return _dry_run(planned, revision)
    if done.stopped:
        return RunOutcome("failed", revision, errors=("stopped before applying",))
    if result is None:
        return (quiet or QuietRuns()).outcome(planned, revision)
    drift = revision == last_success
    gates = _gates(result)
    failed = [g for g in gates if g.result == "failed"]
    return RunOutcome(
        "success" if result.ok else "failed",
        revision,
        counts=_counts(result),
        gates=gates,
        failed_gate=f"quality gate ({failed[0].step}) of {failed[0].key}" if failed else None,
        resources=_resources(planned, result),
        drift_fields=_healed(result) if drift else (),
        changes=_changes(result),
        blocked=tuple(f"{a.key}: {a.reason}" for a in planned.plan.blocked),
        objects=applied_objects(planned, result, revision, refreshed),
        plan=render_text(planned.plan),
        errors=tuple(f"{r.action.key}: {r.message}" for r in result.failures)
        + (("stopped before every action ran; the next run continues",) if result.stopped else ()),
    )


def _dry_run(planned: Planned, revision: str) -> RunOutcome:
    """A run that plans and applies nothing (observe mode, suspended): the objects get
    their states in the plan, which is kept as the pending plan."""
    objects = planned_objects(planned, revision)
    log.info(
        "run_planned_only",
        actions=len(planned.plan.actions),
        drifted=sum(o.state in ("drifted", "missing") for o in objects),
    )
    return RunOutcome(
        "planned",
        revision,
        resources=_resource_counts(objects),
        blocked=tuple(f"{a.key}: {a.reason}" for a in planned.plan.blocked),
        objects=objects,
        plan=render_text(planned.plan),
    )


def _read_again(client: DataRobotClient, planned: Planned) -> StatusReport | None:
    """The namespace's objects after the writes (list requests), for their newest
    versions; ``None`` when they cannot be read (the page then shows the planned ones)."""
    try:
        return read_owned(client, planned.namespace, with_deployments=False)
    except DrGitopsError as exc:
        log.warning("objects_not_read_again", error=str(exc))
        return None


def _resource_counts(objects: tuple[ObjectState, ...]) -> tuple[ResourceCount, ...]:
    states = Counter((o.kind, o.state) for o in objects)
    return tuple(ResourceCount(kind, state, n) for (kind, state), n in sorted(states.items()))


def _check_namespace(source: GitSource, started: str | None) -> None:
    if started is None or source.namespace() == started:
        return
    raise LockError(
        f"the namespace is now {source.namespace()!r} ({source.namespace_origin()}), but "
        f"this service started under {started!r} and holds that namespace's lock: nothing "
        "was written. Restart dr-gitops serve to apply under the new namespace (it then "
        "takes that namespace's lock)"
    )


def _check_pushed(source: GitSource, pushed: str | None) -> None:
    """Say so when a webhook announced a commit the run cannot see: the run goes on with
    what it has, but the push will only be applied once the repository has it."""
    if pushed is None or pushed == source.checkout.sha or source.is_ancestor(pushed):
        return
    log.warning(
        "pushed_revision_not_read",
        pushed_revision=pushed,
        revision=source.checkout.sha,
        hint=(
            "the repository read does not hold the pushed commit yet: with --repo PATH "
            "something else must update it (git pull, git-sync; or give --repo a URL); with "
            "a URL, the git server had not served it yet (the next run will)"
        ),
    )


def _counts(result: ApplyResult) -> ActionCounts:
    done = Counter(_COUNTED_AS[r.action.kind] for r in result.results if r.outcome is Outcome.DONE)
    return ActionCounts(
        created=done["created"],
        updated=done["updated"],
        versions=done["versions"],
        shared=done["shared"],
        deleted=done["deleted"],
        failed=len(result.failures),
        builds=done["builds"],
        tests=done["tests"],
    )


def _gates(result: ApplyResult) -> tuple[GateReport, ...]:
    """Each build and test the run carried out to an end, passed or failed (a step
    skipped after an earlier failure, or blocked by the plan, did not run)."""
    reports = []
    for r in result.results:
        if not r.action.kind.is_gate or r.outcome not in (Outcome.DONE, Outcome.FAILED):
            continue
        step: Literal["build", "test"] = (
            "build" if r.action.kind is ActionKind.BUILD_DEPENDENCIES else "test"
        )
        passed = r.outcome is Outcome.DONE and (
            step == "build" or result.gate_passed(str(r.action.key)) is not None
        )
        detail = (r.detail or r.message).split("\n", 1)[0]
        reports.append(
            GateReport(str(r.action.key), step, "passed" if passed else "failed", detail)
        )
    return tuple(reports)


def _changes(result: ApplyResult) -> tuple[str, ...]:
    """Per object, what was applied: ``"CustomModel/x: model updated; version 1.3 created"``."""
    done: dict[str, list[str]] = {}
    for r in result.results:
        if r.outcome is Outcome.DONE:
            done.setdefault(str(r.action.key), []).append(r.detail or r.action.kind.value)
    return tuple(f"{key}: {'; '.join(details)}" for key, details in sorted(done.items()))


def _healed(result: ApplyResult) -> tuple[tuple[str, int], ...]:
    """Log each object whose drift was undone with the fields put back; count them by
    field. (A run at the revision of the last successful one only undoes drift.)"""
    restored: Counter[str] = Counter()
    for r in result.results:
        if r.outcome is not Outcome.DONE or r.action.kind.is_creation:
            continue
        fields = Counter(c.field for c in r.action.fields)
        fields.update("runtimeParameters" for _ in r.action.runtime)
        fields.update("sharing" for _ in r.action.sharing)
        fields.update("files" for _ in r.action.files)
        if fields:
            log.info(
                "drift_healed",
                key=str(r.action.key),
                action=r.action.kind.value,
                fields=sorted(fields),
                values=sum(fields.values()),
            )
            restored.update(fields)
    return tuple(sorted(restored.items()))


def _resources(planned: Planned, result: ApplyResult | None) -> tuple[ResourceCount, ...]:
    """Managed resources by kind and state as the run left them: in-sync (nothing to do, or
    every action on it done), pending (a build or test still runs), failed (an action
    failed, was blocked or did not run), drifted (changed outside git and left so:
    ``heal: false``), orphaned (owned, no manifest, not pruned)."""
    outcomes: dict[str, set[Outcome]] = {}
    if result is not None:
        for r in result.results:
            outcomes.setdefault(str(r.action.key), set()).add(r.outcome)
    states: Counter[tuple[str, str]] = Counter()
    reported = {d.key for d in planned.plan.drift}
    for key in sorted(planned.desired.keys()):
        seen = outcomes.get(str(key), {Outcome.DONE})
        if seen == {Outcome.DONE} and key in reported:
            state = "drifted"  # heal: false: changed outside git, reported and left
        elif seen == {Outcome.DONE}:
            state = "in-sync"
        elif Outcome.PENDING in seen and not seen & {Outcome.FAILED, Outcome.BLOCKED}:
            state = "pending"  # a build or test still runs; the next run looks again
        else:
            state = "failed"
        states[(key.kind, state)] += 1
    for key in planned.orphans:
        if str(key) not in outcomes:
            states[(key.kind, "orphaned")] += 1
    return tuple(ResourceCount(kind, state, n) for (kind, state), n in sorted(states.items()))
