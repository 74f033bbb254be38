"""Apply a plan: run its actions against DataRobot, in order, independent objects in parallel.

Actions are grouped into chains, one per manifest (a model, then its version, then its
sharing); chains run on a bounded thread pool; deletions run last. A failure ends its own
chain only; the others go on, and the result names every failure.

Every creation is safe to repeat after a crash or an "outcome unknown" error: before
giving up on a creation whose effect is unknown, the object is looked up (models by
``userProvidedId``, versions by ``?mainBranchCommitSha=``, jobs by their stamp).
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from controller.engine.chains import (
    Chain,
    action_params,
    deleted_items,
    plan_chains,
    runtime_values,
    version_number,
)
from controller.engine.deployer import DELIVERY_HANDLERS, Deployer, GateFailures
from controller.engine.gatekeeper import Gatekeeper, GatePending, GateSteps
from controller.engine.outcomes import ActionResult, ApplyResult, LoggingReporter, Outcome, Reporter
from controller.errors import DrGitopsError, PlanError
from controller.logs import get_logger
from controller.model.identity import Stamp, items_digest, read_stamp, stamped
from controller.model.live import LiveJob, LiveVersion
from controller.model.params import (
    JobWrite,
    ModelAdopt,
    ModelCreate,
    VersionCreate,
    VersionMetadata,
    VersionMethod,
)
from controller.model.plans import Action, ActionKind, FileChangeKind, Plan
from controller.model.values import GitModelVersion, Json
from controller.remote import (
    DataRobotClient,
    FileUpload,
    NotFoundError,
    OutcomeUnknownError,
    ValidationError,
)

log = get_logger(__name__)


@dataclass(frozen=True)
class ApplySettings:
    namespace: str
    concurrency: int = 4
    wait_for_gates: bool = True  # False (serve): a build or test still running is pending


class Applier:
    """Runs one plan. ``root`` is the checkout the plan's files are read from."""

    def __init__(
        self,
        remote: DataRobotClient,
        root: Path,
        settings: ApplySettings,
        *,
        reporter: Reporter | None = None,
        stop: threading.Event | None = None,
        gate_failures: GateFailures | None = None,
    ) -> None:
        self._remote = remote
        # Versions whose blocking gate failed this run (filled by the gates): not registered.
        self.gate_failures = gate_failures or GateFailures()
        self._deployer = Deployer(remote, self.gate_failures)
        self._root = root
        self._settings = settings
        self._reporter = reporter or LoggingReporter()
        self._stop = stop or threading.Event()
        # Objects this apply created: nobody else can have made versions of them yet.
        self._created: set[str] = set()
        self._gates = GateSteps(Gatekeeper(remote, stop=self._stop, wait=settings.wait_for_gates))

    def apply(self, plan: Plan) -> ApplyResult:
        chains, deletions = plan_chains(plan.actions)
        # Deployments serve what the model chains register: they run once those are done.
        deployments = [c for c in chains if c.actions[0].key.kind == "Deployment"]
        chains = [c for c in chains if c.actions[0].key.kind != "Deployment"]
        self._revision: GitModelVersion | None = plan.revision
        self._commit = plan.revision.main_branch_commit_sha if plan.revision else None
        workers = max(1, self._settings.concurrency)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="apply") as pool:
            # Each task runs in a copy of this context, so run_id/revision stay in its logs.
            for future in [
                pool.submit(contextvars.copy_context().run, self._run_chain, c) for c in chains
            ]:
                future.result()
            for future in [
                pool.submit(contextvars.copy_context().run, self._run_chain, c) for c in deployments
            ]:
                future.result()
            if not self._stop.is_set():
                for future in [
                    pool.submit(contextvars.copy_context().run, self._run_chain, c)
                    for c in deletions
                ]:
                    future.result()
        results = [r for chain in chains + deployments + deletions for r in chain.results]
        stopped = self._stop.is_set() and len(results) < len(plan.actions)
        return ApplyResult(tuple(results), stopped=stopped, gates=self._gates.results())

    def _run_chain(self, chain: Chain) -> None:
        for index, action in enumerate(chain.actions):
            if self._stop.is_set():
                return
            result = self._run_action(chain, action)
            chain.results.append(result)
            if result.outcome is not Outcome.DONE:
                for rest in chain.actions[index + 1 :]:
                    chain.results.append(ActionResult(rest, Outcome.SKIPPED, result.skips()))
                return

    def _run_action(self, chain: Chain, action: Action) -> ActionResult:
        self._reporter.started(action)
        started = time.monotonic()
        if action.kind is ActionKind.BLOCKED:
            result = ActionResult(action, Outcome.BLOCKED, action.reason)
        else:
            try:
                object_id, detail = self._dispatch(chain, action)
                chain.object_id = object_id
                result = ActionResult(action, Outcome.DONE, object_id=object_id, detail=detail)
            except GatePending as exc:  # a build or test still runs (serve): the next run looks
                result = ActionResult(action, Outcome.PENDING, str(exc))
            except DrGitopsError as exc:
                log.warning(
                    "action_failed", key=str(action.key), kind=action.kind.value, error=str(exc)
                )
                result = ActionResult(action, Outcome.FAILED, str(exc))
        result = replace(result, seconds=round(time.monotonic() - started, 3))
        self._reporter.finished(result)
        return result

    def _dispatch(self, chain: Chain, action: Action) -> tuple[str, str]:
        delivery = DELIVERY_HANDLERS.get(action.kind)
        if delivery is not None:
            return delivery(self._deployer, chain.object_id or action.target_id, action)
        handler = _HANDLERS[action.kind]
        return handler(self, chain.object_id or action.target_id, action)

    # --- models ---------------------------------------------------------------------------

    def _create_model(self, _: str | None, action: Action) -> tuple[str, str]:
        body = action_params(action, ModelCreate).body.to_dict()
        try:
            created = self._remote.create_model(body, git_model_version=self._revision)
        except (OutcomeUnknownError, ValidationError) as exc:
            if isinstance(exc, ValidationError) and "user provided ID" not in str(exc):
                raise
            found = self._find_model(str(body["userProvidedId"]))
            if found is None:
                raise
            log.info("model_found_after_unknown_outcome", key=str(action.key), model_id=found)
            return found, "model existed already (an earlier attempt created it)"
        self._created.add(created.id)
        return created.id, "model created"

    def _find_model(self, upid: str) -> str | None:
        return next((m.id for m in self._remote.list_models() if m.user_provided_id == upid), None)

    def _update_model(self, model_id: str | None, action: Action) -> tuple[str, str]:
        assert model_id
        # gitModelVersion is always sent, from the revision; a change of it is no field.
        body: dict[str, Any] = {
            c.field: c.new for c in action.fields if not c.field.startswith("gitModelVersion.")
        }
        adopt = action_params(action, ModelAdopt) if action.kind is ActionKind.ADOPT_MODEL else None
        if adopt is not None:
            desired = body.get("description", adopt.description)
            stamp = Stamp(self._settings.namespace, action.key.name)
            body["description"] = stamped(str(desired or ""), stamp)
        self._remote.update_model(model_id, body, git_model_version=self._revision)
        if adopt is not None and adopt.version is not None and self._revision:
            # Adopting records this commit on the newest version too (see the planner).
            self._remote.update_version_metadata(
                model_id, adopt.version.id, git_model_version=self._revision
            )
        return model_id, "model adopted" if adopt is not None else "model updated"

    # --- versions -------------------------------------------------------------------------

    def _create_version(self, model_id: str | None, action: Action) -> tuple[str, str]:
        assert model_id
        params = action_params(action, VersionCreate)
        settings = {k: v for k, v in params.settings.items() if v is not None}
        description = settings.pop("description", None)  # only the metadata PATCH sets it
        base = params.base.label if params.base else None
        common: dict[str, Any] = {
            "is_major_update": params.major,
            "settings": settings,
            "runtime_parameter_values": runtime_values(params.runtime_values),
            "git_model_version": self._revision,
        }
        if model_id not in self._created:
            # An earlier run may have made this version and died before it knew (or its
            # request was still in flight): look before writing.
            existing = self._find_version(model_id, base)
            if existing is not None:
                log.info("version_exists_already", key=str(action.key), version=existing.label)
                self._gates.version_made(str(action.key), existing.id, existing.label)
                return model_id, f"version {existing.label} existed already (made from this commit)"
        try:
            if params.method is VersionMethod.CREATE:
                version = self._remote.create_version(
                    model_id, files=self._uploads(action), **common
                )
            elif params.method is VersionMethod.FROM_LATEST:
                version = self._remote.create_version_from_latest(
                    model_id,
                    files=self._uploads(action),
                    files_to_delete=deleted_items(action),
                    **common,
                )
            else:
                version = self._remote.create_version_with_settings(model_id, **common)
        except OutcomeUnknownError:
            found = self._find_version(model_id, base)
            if found is None:
                raise
            log.info(
                "version_found_after_unknown_outcome", key=str(action.key), version=found.label
            )
            version = found
        if description is not None:
            self._remote.update_version_metadata(model_id, version.id, description=str(description))
        self._gates.version_made(str(action.key), version.id, version.label)
        return model_id, f"version {version.label} created"

    def _find_version(self, model_id: str, base_label: str | None) -> LiveVersion | None:
        """The version an earlier attempt made from this commit, if it exists: one newer
        than the version the plan started from (an older version made from the same commit,
        superseded by hand since, does not count)."""
        if not self._commit:
            return None
        base = version_number(base_label)
        versions = self._remote.list_versions(model_id, main_branch_commit_sha=self._commit)
        return next((v for v in versions if (v.major, v.minor) > base), None)

    def _uploads(self, action: Action) -> list[FileUpload]:
        uploads = []
        for f in action.files:
            if f.change is FileChangeKind.DELETE or f.repo_path is None:
                continue
            relative = PurePosixPath(f.repo_path)
            if relative.is_absolute() or ".." in relative.parts:  # never from a valid plan
                raise PlanError(f"{action.key}: {f.repo_path!r} is not inside the repository")
            uploads.append(FileUpload(self._root / relative, f.path))
        return uploads

    def _update_version_metadata(self, model_id: str | None, action: Action) -> tuple[str, str]:
        assert model_id
        version = action_params(action, VersionMetadata).version
        changes = {c.field: c.new for c in action.fields}
        required = changes.get("requiredMetadataValues")
        self._remote.update_version_metadata(
            model_id,
            version.id,
            description=str(changes["description"]) if "description" in changes else None,
            required_metadata_values=[r for r in required if isinstance(r, dict)]
            if isinstance(required, list)
            else None,
            git_model_version=self._revision,
        )
        return model_id, f"version {version.label} metadata updated"

    # --- sharing --------------------------------------------------------------------------

    def _update_sharing(self, object_id: str | None, action: Action) -> tuple[str, str]:
        assert object_id
        if action.kind is ActionKind.UPDATE_MODEL_SHARING:
            self._remote.update_model_access(object_id, action.sharing)
        else:
            self._remote.update_job_roles(object_id, action.sharing)
        return object_id, f"{len(action.sharing)} sharing changes"

    # --- jobs -----------------------------------------------------------------------------

    def _create_job(self, _: str | None, action: Action) -> tuple[str, str]:
        params = action_params(action, JobWrite)
        body = params.body.to_dict()
        description = str(body.get("description") or "")
        stamp = Stamp(self._settings.namespace, action.key.name, self._commit)
        body["description"] = stamped(description, stamp)
        values = runtime_values(params.runtime_values)
        existing = self._find_job(action.key.name)
        if existing is not None:
            # Made by an earlier run that died before it knew: finish it instead.
            log.info("job_exists_already", key=str(action.key), job_id=existing.id)
            return self._update_job(existing.id, action)[0], "custom job existed already; updated"
        try:
            job = self._remote.create_job(
                body, files=self._uploads(action), runtime_parameter_values=values
            )
        except OutcomeUnknownError:
            found = self._find_job(action.key.name)
            if found is None:
                raise
            log.info("job_found_after_unknown_outcome", key=str(action.key), job_id=found.id)
            job = found
        self._finish_job(job, action, description)
        return job.id, "custom job created"

    def _find_job(self, name: str) -> LiveJob | None:
        """The job whose stamp names ``name`` in this namespace (searched by stamp text)."""
        marker = Stamp(self._settings.namespace, name).render()[:-1]  # "[dr-gitops ns=.. name=.."
        for job in self._remote.list_jobs(search=marker):
            stamp = read_stamp(str(job.fields.get("description") or ""))
            if stamp and stamp.namespace == self._settings.namespace and stamp.name == name:
                return job
        return None

    def _update_job(self, job_id: str | None, action: Action) -> tuple[str, str]:
        assert job_id
        # The description and entry point are written by _finish_job, with the stamp.
        body = {
            c.field: c.new for c in action.fields if c.field not in ("entryPoint", "description")
        }
        params = action_params(action, JobWrite)
        values = runtime_values(params.runtime_values) if action.runtime else None
        uploads = self._uploads(action)
        deleted = deleted_items(action)
        description = str(params.body.get("description") or "")
        if uploads or deleted:
            # New items get new IDs, which the stamp records: it can only follow.
            job = self._remote.update_job(
                job_id,
                body,
                files=uploads,
                files_to_delete=deleted,
                runtime_parameter_values=values,
            )
            self._finish_job(job, action, description)
        else:
            # The items stay as they are, so one PATCH carries the change and the stamp.
            job = self._remote.get_job(job_id)
            self._finish_job(job, action, description, body=body, values=values)
        adopted = action.kind is ActionKind.ADOPT_JOB
        return job_id, "custom job adopted" if adopted else "custom job updated"

    def _finish_job(
        self,
        job: LiveJob,
        action: Action,
        description: str,
        *,
        body: Mapping[str, Any] | None = None,
        values: list[dict[str, Json]] | None = None,
    ) -> None:
        """Point the entry point at its item and stamp the job with the commit and items,
        in one PATCH with ``body`` and runtime ``values`` when they are given."""
        by_path = {i.file_path: i.id for i in job.items}
        stamp = Stamp(
            self._settings.namespace, action.key.name, self._commit, items_digest(by_path.values())
        )
        wanted: dict[str, Any] = {"description": stamped(description, stamp)}
        entry = action_params(action, JobWrite).entry_point
        if entry:
            if entry not in by_path:
                raise PlanError(
                    f"{action.key}: the entry point {entry!r} is not among the job's files"
                )
            wanted["entryPoint"] = by_path[entry]
        current = {"description": job.fields.get("description"), "entryPoint": job.entry_point}
        fields = {k: v for k, v in wanted.items() if current.get(k) != v} | dict(body or {})
        if fields or values:
            self._idempotent(
                lambda: self._remote.update_job(job.id, fields, runtime_parameter_values=values)
            )

    # --- deletions ------------------------------------------------------------------------

    def _delete(self, object_id: str | None, action: Action) -> tuple[str, str]:
        assert object_id
        model = action.kind is ActionKind.DELETE_MODEL
        noun = "model" if model else "custom job"
        try:
            (self._remote.delete_model if model else self._remote.delete_job)(object_id)
        except NotFoundError:
            return object_id, f"{noun} was already gone"
        return object_id, f"{noun} deleted"

    # --- helpers --------------------------------------------------------------------------

    @staticmethod
    def _idempotent(call: Callable[[], object]) -> None:
        """Run a write that sets absolute values; resend it once if its outcome is unknown."""
        try:
            call()
        except OutcomeUnknownError:
            call()


_Handler = Callable[[Applier, str | None, Action], tuple[str, str]]
_HANDLERS: Mapping[ActionKind, _Handler] = {
    ActionKind.CREATE_MODEL: Applier._create_model,
    ActionKind.ADOPT_MODEL: Applier._update_model,
    ActionKind.UPDATE_MODEL: Applier._update_model,
    ActionKind.CREATE_VERSION: Applier._create_version,
    ActionKind.UPDATE_VERSION_METADATA: Applier._update_version_metadata,
    ActionKind.UPDATE_MODEL_SHARING: Applier._update_sharing,
    ActionKind.BUILD_DEPENDENCIES: lambda a, model_id, action: a._gates.build(model_id, action),
    ActionKind.TEST_VERSION: lambda a, model_id, action: a._gates.test(model_id, action),
    ActionKind.CREATE_JOB: Applier._create_job,
    ActionKind.ADOPT_JOB: Applier._update_job,
    ActionKind.UPDATE_JOB: Applier._update_job,
    ActionKind.UPDATE_JOB_SHARING: Applier._update_sharing,
    ActionKind.DELETE_MODEL: Applier._delete,
    ActionKind.DELETE_JOB: Applier._delete,
}
