"""Planning a model's quality gates (pure): the build and test after a new version, or of
the newest version when it has not passed the gates the manifest asks for.

After a new version: ``build-dependencies`` (when ``dependencyBuild`` and
``requirements.txt`` ask for it), then ``test-version``. Without a new version, the newest
version's live gates (:class:`~controller.model.gates.LiveGates`) decide:

==========================================  =============================================
newest version                              plan
==========================================  =============================================
never built (a build is wanted)             ``build-dependencies``
build running / test running                the same action: apply waits for it
build failed                                blocked: not built again without a change
no test for the current configuration      ``test-version`` (the configuration changed,
                                            or it was never tested)
newest matching test canceled / aborted     ``test-version`` again
newest matching test failed (blocking)      blocked: the failed gate, until a change
newest matching test passed                 nothing
==========================================  =============================================

Gate actions come last in the model's chain (after its sharing), so a failed gate stops
only what comes after the version.
"""

from __future__ import annotations

from controller.model.desired import DesiredModel, DesiredVersion
from controller.model.gates import FAILED_TEST, LiveGates, LiveTest, TestSpec, VersionGates
from controller.model.live import LiveModel, LiveSnapshot, LiveVersion
from controller.model.params import Blocked, DependencyBuild, VersionRef, VersionTest
from controller.model.plans import Action, ActionKind, FileChangeKind
from controller.model.values import Fields

NEW = "the new version"


def gate_actions(
    model: DesiredModel,
    live: LiveModel | None,
    new_version: Action | None,
    snapshot: LiveSnapshot,
) -> list[Action]:
    """The gate actions of ``model``, given the version action planned for it (if any)."""
    version = model.version
    if version is None or version.gates is None:
        return []
    gates = version.gates
    build = gates.wants_build(version.has_requirements)
    target = (live.id, live.name) if live is not None else (None, None)
    if new_version is not None or live is None or live.latest_version is None:
        actions = []
        if build:
            reason = _build_reason(gates, new_version)
            actions.append(_build(model, target, None, NEW, reason, gates))
        if gates.test is not None:
            reason = "a new version is tested before anything comes after it"
            actions.append(_test(model, target, None, NEW, reason, gates.test))
        return actions
    latest = live.latest_version
    state = snapshot.model_gates.get(live.id)
    if state is None or state.version_id != latest.id:
        state = LiveGates(latest.id)
    return _existing(model, version, gates, target, latest, state)


def gate_passed(model: DesiredModel, live: LiveModel, snapshot: LiveSnapshot) -> str | None:
    """The newest version's ID when it has passed every gate its manifest asks for (or
    asks for none), as the live state shows: what registration and deployments may go on
    from. ``None`` while a gate is missing, running or failed (a failure that does not
    block counts as passed)."""
    version, latest = model.version, live.latest_version
    if version is None or latest is None:
        return None
    if version.gates is None:
        return latest.id
    state = snapshot.model_gates.get(live.id)
    if state is None or state.version_id != latest.id:
        state = LiveGates(latest.id)
    target = (live.id, live.name)
    return None if _existing(model, version, version.gates, target, latest, state) else latest.id


def _existing(
    model: DesiredModel,
    version: DesiredVersion,
    gates: VersionGates,
    target: tuple[str | None, str | None],
    latest: LiveVersion,
    state: LiveGates,
) -> list[Action]:
    label = f"version {latest.label}"
    actions: list[Action] = []
    if gates.wants_build(version.has_requirements):
        if state.build_status == "failed":
            reason = (
                f"gate failed: the dependency build of {label} failed, and a failed build is "
                "not started again without a change; fix requirements.txt (or the "
                "environment) and commit: the new version is built"
            )
            params = Blocked("build", VersionRef(latest.id, latest.label))
            return [Action(ActionKind.BLOCKED, model.key, reason, *target, params=params)]
        if state.build_status is None:
            reason = f"{label} has no dependency build yet"
            actions.append(_build(model, target, latest.id, label, reason, gates))
        elif state.build_running:
            reason = f"a dependency build of {label} is running: wait for it"
            actions.append(_build(model, target, latest.id, label, reason, gates))
    spec = gates.test
    if spec is None:
        return actions
    mine = [t for t in state.tests if t.version_id == latest.id]
    matching = [t for t in mine if spec.matches(t)]
    newest = matching[0] if matching else None
    if newest is None:
        reason = (
            f"the test configuration changed since {label} was tested"
            if mine
            else f"{label} has no test for the current test configuration"
        )
    elif newest.running:
        reason = f"a test of {label} is running ({newest.id}): wait for its result"
    elif spec.passes(newest):
        return actions
    elif _failed(spec, newest):
        if not spec.blocking:
            return actions
        reason = (
            f"gate failed: test {newest.id} of {label}: {newest.failure_text()}; the same "
            "test is not run again without a change: fix the model and commit (a new "
            "version is tested), or change the test configuration"
        )
        params = Blocked("test", VersionRef(latest.id, latest.label), newest.id)
        return [*actions, Action(ActionKind.BLOCKED, model.key, reason, *target, params=params)]
    else:
        reason = f"the last test of {label} ended {newest.overall_status}: test it again"
    actions.append(_test(model, target, latest.id, label, reason, spec))
    return actions


def _failed(spec: TestSpec, test: LiveTest) -> bool:
    """A finished test whose result fails this configuration (not one cut short)."""
    if test.overall_status in FAILED_TEST:
        return True
    return test.overall_status == "warning" and not spec.passes(test)


def _build_reason(gates: VersionGates, new_version: Action | None) -> str:
    if gates.dependency_build.value == "always":
        return "dependencyBuild: always"
    changed = new_version is not None and any(
        f.path == "requirements.txt" and f.change is not FileChangeKind.DELETE
        for f in new_version.files
    )
    if changed:
        return "requirements.txt changed"
    return "the new version has a requirements.txt (a build belongs to one version)"


def _build(
    model: DesiredModel,
    target: tuple[str | None, str | None],
    version_id: str | None,
    label: str,
    reason: str,
    gates: VersionGates,
) -> Action:
    timeout = gates.test.timeout if gates.test is not None else None
    params = DependencyBuild(version_id, label, timeout, mode=gates.dependency_build.value)
    return Action(ActionKind.BUILD_DEPENDENCIES, model.key, reason, *target, params=params)


def _test(
    model: DesiredModel,
    target: tuple[str | None, str | None],
    version_id: str | None,
    label: str,
    reason: str,
    spec: TestSpec,
) -> Action:
    params = VersionTest(
        version_id,
        label,
        spec.timeout,
        body=Fields(spec.body()),
        summary=spec.summary(),
        blocking=spec.blocking,
    )
    return Action(ActionKind.TEST_VERSION, model.key, reason, *target, params=params)
