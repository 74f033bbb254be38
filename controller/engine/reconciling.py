"""Reconcile once: load the manifests, read DataRobot, plan, and (when asked) apply.

The steps, each a call into one layer::

    checkout  = source.checkout                         # controller.sources (fetched already)
    desired   = load_desired_state(...)                 # controller.manifests; invalid → stop
    snapshot  = read_snapshot(client)                   # controller.remote: one pass of lists
    matched   = match(desired, snapshot, namespace)     # who owns what, once
    sharing   = read_sharing(client, declared ids)      # only where manifests declare sharing
    evidence  = EvidenceGatherer(...).gather(...)       # git diffs first, downloads second
    plan      = make_plan(inputs, matched)              # pure (controller.engine.plan)

Nothing is written to DataRobot unless every manifest loaded and validated.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Generic, TypeVar

from controller.engine.applier import Applier, ApplySettings
from controller.engine.evidence import Evidence, EvidenceGatherer
from controller.engine.outcomes import ApplyResult, Reporter
from controller.engine.ownership import MatchResult, held_elsewhere, match
from controller.engine.plan import PlanInputs, make_plan
from controller.engine.rollouts import with_delivery
from controller.engine.saved_plans import plan_to_apply
from controller.engine.targets import limited_plan, only, targeted_keys
from controller.engine.tickmemory import TickMemory, checkout_key
from controller.errors import PlanError
from controller.logs import get_logger
from controller.manifests import load_desired_state
from controller.model.delivery import LiveDeployment
from controller.model.desired import DesiredState, ResourceKey
from controller.model.identity import valid_namespace
from controller.model.live import LiveJob, LiveSnapshot
from controller.model.plans import Plan
from controller.model.values import GitModelVersion
from controller.remote import (
    ApiError,
    DataRobotClient,
    ForbiddenError,
    NotFoundError,
    read_gates,
    read_sharing,
    read_snapshot,
    with_sharing,
)
from controller.repository_settings import repository_settings_path
from controller.settings import EngineSettings
from controller.sources import Checkout, CiFacts, GitSource

log = get_logger(__name__)
T = TypeVar("T")
READS_SIDE_BY_SIDE = 16
"""Per-object reads (sharing, gates) in flight at once, at least: each waits for a round
trip, and at 20 ms one at a time 1,000 sharing reads would take 20 s (issue 20). Raised to
twice ``--concurrency`` when that is more, up to 32 (the client's connection pool)."""


@dataclass(frozen=True)
class Planned:
    """A plan and everything it was computed from."""

    plan: Plan
    desired: DesiredState
    snapshot: LiveSnapshot
    checkout: Checkout
    evidence: Evidence
    pull_request: bool
    orphans: tuple[ResourceKey, ...] = ()
    deployments: tuple[LiveDeployment, ...] | None = None
    """The deployments the plan read (``None``: none declared nor pruned, so not read)."""

    @property
    def namespace(self) -> str:
        return self.plan.namespace


class Engine:
    """One engine per command or service run: a client, settings and what the CI system
    says about the commit (``ci``, read at the edge; None outside CI and in the service).
    ``memory`` is what ``serve`` keeps from one run to the next (:mod:`.tickmemory`)."""

    def __init__(
        self,
        client: DataRobotClient,
        settings: EngineSettings,
        *,
        ci: CiFacts | None = None,
        memory: TickMemory | None = None,
    ) -> None:
        self._client = client
        self._settings = settings
        self._ci = ci
        self._memory = memory if memory is not None else TickMemory(keep=False)

    # --- planning ------------------------------------------------------------------------

    def _jobs_or_refusal(self) -> tuple[LiveJob, ...] | ApiError:
        try:
            return tuple(self._client.list_jobs())
        except (ForbiddenError, NotFoundError) as exc:  # custom jobs not enabled here
            return exc

    def _jobs(
        self, read: tuple[LiveJob, ...] | ApiError, desired: DesiredState
    ) -> tuple[LiveJob, ...]:
        if not isinstance(read, ApiError):
            return read
        if desired.jobs:
            raise PlanError(
                f"the manifests declare custom jobs, but DataRobot answered {read.status} to "
                "listing them: custom jobs are not enabled for this token or installation. "
                "Ask your DataRobot admin, or remove the CustomJob manifests"
            )
        return ()  # no job manifests: none to match, and none this token could have made

    def plan(self, source: GitSource) -> Planned:
        """Plan from the source's checkout against DataRobot as it is now."""
        checkout = source.checkout
        namespace = source.namespace()
        if not valid_namespace(namespace):
            raise PlanError(
                f"the namespace {namespace!r} is not valid: use letters, digits and . _ / : @ - "
                "(set DR_GITOPS_NAMESPACE or --namespace)"
            )
        # Read the models while the manifests load; invalid manifests still stop everything
        # before a single write, and are reported at once (the reader is a daemon thread).
        models_read = _Background(lambda: read_snapshot(self._client, read_jobs=False))
        # Jobs too, even without job manifests: an owned job whose manifest is gone is said.
        jobs_read = _Background(self._jobs_or_refusal)
        exclude = source.repository.exclude
        memory = self._memory
        reads = min(max(READS_SIDE_BY_SIDE, 2 * self._settings.concurrency), 32)
        desired = memory.desired(
            checkout_key(checkout, self._settings.path, exclude, str(source.cache_dir)),
            lambda: _without_ignored(
                load_desired_state(
                    checkout.root,
                    checkout.root / self._settings.path,
                    default_exclude=exclude,
                    cache_dir=source.cache_dir,
                    tree=source.committed_tree(),
                ),
                source,
            ),
        )
        targets = targeted_keys(self._settings.targets, desired)
        # Only the targeted objects are read in detail (sharing, evidence); the whole
        # desired state still decides what is owned, so nothing else looks orphaned.
        scope = desired if targets is None else only(desired, targets)
        revision = source.git_model_version(self._ci)
        ci = self._ci
        # A pull/merge request pipeline never applies, whatever it checked out.
        pull_request = revision.pull_request_commit_sha is not None or bool(ci and ci.pull_request)
        snapshot = replace(models_read.result(), jobs=self._jobs(jobs_read.result(), desired))
        matched = memory.matched(
            desired, snapshot, namespace, lambda: match(desired, snapshot, namespace)
        )
        models, jobs = matched.models, matched.jobs
        model_ids = [
            live.id
            for m in scope.models
            if m.sharing is not None and (live := models.live_for(m.key))
        ]
        job_ids = [
            job.id for j in scope.jobs if j.sharing is not None and (job := jobs.live_for(j.key))
        ]
        gated = [
            (live.id, live.latest_version.id)
            for m in scope.models
            if m.version is not None
            and m.version.gates is not None
            and (live := models.live_for(m.key)) is not None
            and live.latest_version is not None
        ]
        # Sharing and gates (a request per object: the API has no bulk read) are read side
        # by side, while the namespace is checked and the evidence gathered.
        shared = (
            _Background(lambda: read_sharing(self._client, model_ids, job_ids, concurrency=reads))
            if model_ids or job_ids
            else None
        )
        gates_read = (
            _Background(
                lambda: read_gates(
                    self._client, gated, concurrency=max(8, self._settings.concurrency)
                )
            )
            if gated
            else None
        )
        notes = self._namespace_notes(source, desired, snapshot, matched, revision, pull_request)
        gatherer = EvidenceGatherer(
            source, self._client, checkout.root, concurrency=self._settings.concurrency
        )
        evidence = memory.evidence(scope, matched, lambda: gatherer.gather(scope, matched))
        if shared is not None:
            snapshot = with_sharing(snapshot, *shared.result())
        if gates_read is not None:
            snapshot = replace(snapshot, model_gates=gates_read.result())
        elsewhere = memory.elsewhere(
            desired, lambda: declared_elsewhere(self._settings, checkout.root, desired, exclude)
        )
        inputs = PlanInputs(
            desired=desired,
            live=snapshot,
            namespace=namespace,
            revision=revision,
            model_evidence=evidence.models,
            job_evidence=evidence.jobs,
            refresh_metadata=not pull_request,
            prune=self._settings.prune,
            max_deletions=self._settings.max_deletions,
            allow_empty=self._settings.allow_empty,
            declared_elsewhere=elsewhere,
            trusted_creators=self._settings.trusted_creators,
        )
        plan = memory.plan(inputs, matched, lambda: make_plan(inputs, matched))
        plan, read = with_delivery(
            plan, self._client, self._settings, source, desired, snapshot, models, elsewhere
        )
        if targets is not None:
            plan = limited_plan(plan, targets)
        plan = replace(
            plan,
            warnings=(*notes, *plan.warnings, *_checkout_warnings(desired, checkout, evidence)),
        )
        log.info(
            "plan_made",
            namespace=namespace,
            revision=checkout.sha[:12],
            actions=len(plan.actions),
            unchanged=plan.unchanged,
            downloads=evidence.downloads,
            git_calls=source.git_calls,
        )
        orphans = matched.orphans
        return Planned(plan, desired, snapshot, checkout, evidence, pull_request, orphans, read)

    def _namespace_notes(
        self,
        source: GitSource,
        desired: DesiredState,
        snapshot: LiveSnapshot,
        matched: MatchResult,
        revision: GitModelVersion,
        pull_request: bool,
    ) -> tuple[str, ...]:
        """What the top of the plan says about the namespace; raises ``PlanError`` when a
        namespace nobody chose would make a duplicate of objects another one holds."""
        namespace = source.namespace()
        file = repository_settings_path(self._settings.path)
        notes = []
        base = revision.main_branch_commit_sha
        if pull_request and base != source.checkout.sha:
            before = source.namespace_at(base)
            if before is not None and before != namespace:
                notes.append(
                    f"this pull request changes the namespace from {before!r} (at its base "
                    f"{base[:12]}) to {namespace!r} ({source.namespace_origin()}): once merged, "
                    f"dr-gitops creates every model and job again under {namespace!r} and no "
                    f"longer manages those of {before!r}"
                )
        trusted = self._settings.trusted_creators
        held = self._memory.derived(
            "held elsewhere",
            matched,
            desired,
            trusted,
            make=lambda: held_elsewhere(
                desired, snapshot, namespace, matched.models, matched.jobs, trusted
            ),
        )
        for other, objects in held.items():
            listed = _listed(list(objects))
            if not source.namespace_pinned:
                raise PlanError(
                    f"DataRobot holds objects of these manifests under another namespace, "
                    f"{other!r} ({listed}), but this run's namespace is {namespace!r} "
                    f"({source.namespace_origin()}): it would create a duplicate of each. "
                    "Nothing was written. If this repository used to be that one (a new remote "
                    f"URL, a rename), pin its namespace: add `namespace: {other}` to {file} (or "
                    "pass --namespace / set DR_GITOPS_NAMESPACE). If they are another "
                    "repository's objects that share these names, adopt this namespace "
                    f"explicitly: `namespace: {namespace}` in {file}"
                )
            notes.append(
                f"namespace {other!r} holds objects with the names of these manifests "
                f"({listed}); namespace {namespace!r} ({source.namespace_origin()}) does not "
                f"own them and creates its own. If this repository used to be {other!r}, set "
                f"`namespace: {other}` in {file} instead"
            )
        return tuple(notes)

    # --- applying ------------------------------------------------------------------------

    def apply(
        self, planned: Planned, *, plan: Plan | None = None, reporter: Reporter | None = None,
        stop: threading.Event | None = None, wait_for_gates: bool = True,
    ) -> ApplyResult:  # fmt: skip
        """Apply ``plan`` (default: the one just made) from ``planned``'s checkout;
        ``wait_for_gates=False`` leaves builds and tests still running pending. The caller
        has asked :meth:`check_can_apply` first (the orchestrator does, once)."""
        applier = Applier(
            self._client,
            planned.checkout.root,
            ApplySettings(
                namespace=planned.namespace,
                concurrency=self._settings.concurrency,
                wait_for_gates=wait_for_gates,
            ),
            reporter=reporter,
            stop=stop,
        )
        return applier.apply(plan or planned.plan)

    def check_can_apply(self, planned: Planned) -> None:
        """Raise ``PlanError`` when this checkout must not be applied (a pull request's, or
        a working tree with uncommitted changes); callers ask before taking the lock
        (:mod:`controller.service.orchestrator`)."""
        if planned.pull_request:
            raise PlanError(
                "refusing to apply from a pull request: DataRobot would get the pull request's "
                "files before they are merged. Run `plan` on pull requests and `apply` on the "
                "main branch"
            )
        dirty = relevant_dirty_paths(planned)
        if dirty and not self._settings.allow_dirty:
            raise PlanError(
                f"refusing to apply a working tree with uncommitted changes ({_listed(dirty)}): "
                "versions would record a commit that does not hold their files. Commit them, "
                "or pass --allow-dirty"
            )

    def check_saved(self, saved: Plan, planned: Planned) -> Plan:
        """The plan to apply for a saved one: the plan made now, if it is the saved plan,
        with the saved plan's ``gitModelVersion`` (its ref name and commit link).

        Raises ``PlanError`` naming what changed otherwise: a plan made in a pull request,
        another namespace or commit,
        DataRobot changed since (the basis), or actions that are not the ones the manifests
        at that commit call for now (a plan file edited by hand, or made by another version).
        The plan made now is the one applied, so a saved plan can never make dr-gitops do
        what the manifests do not ask for, and secret-looking values (which a saved plan
        never holds) come from the manifests.
        """
        return plan_to_apply(saved, planned.plan, planned.checkout.sha)


def relevant_dirty_paths(planned: Planned) -> list[str]:
    """The uncommitted paths that change what is applied: files in the source folders, and
    YAML files (manifests, added or gone) under the manifest root. A notes file or a saved
    plan elsewhere does not make a version record a commit that lacks its files."""
    return _relevant_dirty(planned.desired, planned.checkout)


def _checkout_warnings(
    desired: DesiredState, checkout: Checkout, evidence: Evidence
) -> tuple[str, ...]:
    """What the plan should say about the checkout it was made from."""
    warnings = []
    dirty = _relevant_dirty(desired, checkout)
    if dirty:
        warnings.append(
            f"the plan includes uncommitted changes ({_listed(dirty)}); apply refuses them "
            "unless --allow-dirty: commit them first"
        )
    if evidence.newer_commits:
        warnings.append(
            "DataRobot holds versions made from commits newer than the one checked out "
            f"({_listed([c[:12] for c in evidence.newer_commits])}); applying this plan rolls "
            f"them back to {checkout.sha[:12]}. Check out the newest commit unless that is "
            "what you want"
        )
    return tuple(warnings)


def _listed(items: list[str], limit: int = 5) -> str:
    more = len(items) - limit
    return ", ".join(items[:limit]) + (f" and {more} more" if more > 0 else "")


def _relevant_dirty(desired: DesiredState, checkout: Checkout) -> list[str]:
    if not checkout.dirty_paths:
        return []  # a clean checkout (10,000 source folders need not be listed for it)
    root = desired.root
    folders = tuple(
        "" if s.dir in ("", ".") else s.dir.rstrip("/") + "/" for s in desired.sources()
    )
    manifests = "" if root in ("", ".") else root.rstrip("/") + "/"
    return [
        p
        for p in checkout.dirty_paths
        if p.startswith(folders) or (p.startswith(manifests) and p.endswith((".yaml", ".yml")))
    ]


def _without_ignored(desired: DesiredState, source: GitSource) -> DesiredState:
    """In a working tree, the files git ignores are no part of a source (a `.env`, build
    output): they would be uploaded from here but never from a clone of the commit."""
    ignored = source.ignored(s.dir for s in desired.sources())
    if not ignored:
        return desired
    files = frozenset(p for p in ignored if not p.endswith("/"))
    folders = tuple(p for p in ignored if p.endswith("/"))
    log.info("ignored_files_left_out", paths=list(ignored[:20]), count=len(ignored))
    return desired.without(lambda path: path in files or path.startswith(folders))


def declared_elsewhere(
    settings: EngineSettings, root: Path, desired: DesiredState, exclude: tuple[str, ...] = ()
) -> frozenset[ResourceKey]:
    """With ``--prune`` and ``--path`` narrower than the repository: the keys of manifests
    elsewhere in the repository, which pruning this folder must not delete. (Every manifest
    of the repository is loaded for it, so an invalid one anywhere refuses the prune.)"""
    if not settings.prune or Path(settings.path) == Path("."):
        return frozenset()
    return load_desired_state(root, root, default_exclude=exclude).keys() - desired.keys()


class _Background(Generic[T]):
    """A call running in a daemon thread (in a copy of the caller's log context)."""

    def __init__(self, call: Callable[[], T]) -> None:
        self._done = threading.Event()
        self._value: T | None = None
        self._error: BaseException | None = None
        context = contextvars.copy_context()
        threading.Thread(target=context.run, args=(self._run, call), daemon=True).start()

    def _run(self, call: Callable[[], T]) -> None:
        try:
            self._value = call()
        except BaseException as exc:
            self._error = exc
        finally:
            self._done.set()

    def result(self) -> T:
        self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._value is not None
        return self._value
