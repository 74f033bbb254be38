"""Applying a version's quality gates: its dependency build, then (after its training data
is assigned) its custom model test. The applier calls :class:`Gatekeeper` for the
``build-dependencies`` and ``test-version`` actions; models run in parallel there.

Crash safety: nothing is started before looking. A build that exists is waited for
(running), taken (succeeded) or reported (failed: never started again); a test of this
version and configuration that is running is waited for, one that passed is taken. So a
re-run after a crash never starts a second build or test for a version.

A build or test still running after the ``timeout`` is cancelled and the action fails.
``serve`` does not wait (``wait=False``): a step still running is *pending*, the run ends,
and the next run looks again; its ``timeout`` then counts from the test's creation. A
failed build names the tail of its log; a failed test each failed check with its message,
and the tail of its log.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from controller.errors import DrGitopsError, PlanError
from controller.logs import get_logger
from controller.model.gates import DEFAULT_TIMEOUT, RUNNING_BUILD, GateResult, LiveTest, TestSpec
from controller.model.params import DependencyBuild, GateStep, VersionTest
from controller.model.plans import Action
from controller.remote import DataRobotClient, OutcomeUnknownError, ValidationError
from controller.remote.gatecalls import poll

log = get_logger(__name__)
T = TypeVar("T")


class GateError(DrGitopsError):
    """A gate did not pass: a build or test failed, timed out, or could not start."""


class GatePending(GateError):
    """A build or test still runs, and this apply does not wait (``serve``): the next run
    looks again (and waits for it, never starting a second one)."""


@dataclass(frozen=True)
class Subject:
    """The version a gate action is about."""

    key: str
    model_id: str
    version_id: str
    label: str


class Gatekeeper:
    """Runs builds and tests; ``sleep`` and ``clock`` are injected for tests; ``stop``
    ends a wait early (see :meth:`_wait`)."""

    def __init__(
        self,
        remote: DataRobotClient,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        ceiling: float = 10.0,
        stop: threading.Event | None = None,
        wait: bool = True,
    ) -> None:
        self._remote = remote
        self._stop = stop or threading.Event()
        self._waits = wait
        self._sleep = sleep
        self._clock = clock
        self._ceiling = ceiling

    # --- dependency build -----------------------------------------------------------------

    def build(self, subject: Subject, step: DependencyBuild) -> str:
        """Build the version's dependencies (or wait for the build running); the detail."""
        model_id, version_id, label = subject.model_id, subject.version_id, subject.label
        timeout = _seconds(step.timeout)
        status = self._remote.get_dependency_build(model_id, version_id)
        if status == "failed":
            raise GateError(
                f"the dependency build of version {label} failed earlier, and a failed build "
                "is not started again without a change: fix requirements.txt and commit"
                + self._build_log(subject)
            )
        if status is None:
            if step.mode != "always" and not self._remote.version_dependencies(
                model_id, version_id
            ):
                return f"version {label} has no dependencies: nothing to build"
            status = self._start_build(subject)
        if status in RUNNING_BUILD:
            status, finished = self._wait(
                lambda: self._remote.get_dependency_build(model_id, version_id) or "failed",
                lambda s: s not in RUNNING_BUILD,
                timeout,
            )
            if not finished:
                self._remote.cancel_dependency_build(model_id, version_id)
                log.warning("dependency_build_cancelled", key=subject.key, version=label)
                raise GateError(
                    f"the dependency build of version {label} did not finish within "
                    f"{timeout:g}s; it was cancelled (raise test.timeout if builds take longer)"
                )
        if status != "success":
            log.warning("dependency_build_failed", key=subject.key, version=label)
            raise GateError(
                f"the dependency build of version {label} ended {status}" + self._build_log(subject)
            )
        log.info("dependency_build_succeeded", key=subject.key, version=label)
        return f"dependencies of version {label} built"

    def _start_build(self, subject: Subject) -> str:
        try:
            status = self._remote.start_dependency_build(subject.model_id, subject.version_id)
        except (OutcomeUnknownError, ValidationError):
            # It may have started (an unknown outcome; a 422 as one runs already): look.
            found = self._remote.get_dependency_build(subject.model_id, subject.version_id)
            if found is None:
                raise
            return found
        log.info("dependency_build_started", key=subject.key, version=subject.label)
        return status

    def _build_log(self, subject: Subject) -> str:
        tail = self._remote.dependency_build_log_tail(subject.model_id, subject.version_id)
        return f"; the build log ends:\n{tail}" if tail else ""

    # --- test -----------------------------------------------------------------------------

    def test(self, subject: Subject, step: VersionTest) -> tuple[str, GateResult]:
        """Test the version (or wait for its running test, or take its passed one)."""
        timeout = _seconds(step.timeout)
        spec = TestSpec.from_body(step.body, timeout=timeout, blocking=step.blocking)
        self._await_training_data(subject, timeout)
        test = self._existing_test(subject, spec)
        if test is None or not (test.running or spec.passes(test)):
            test = self._start_test(subject, spec)
        if test.running and not self._waits and _age(test.created) > timeout:
            self._remote.cancel_model_test(test.id)
            raise GateError(
                f"the test {test.id} of version {subject.label} did not finish within "
                f"{timeout:g}s (test.timeout); it was cancelled"
            )
        if test.running:
            test = self._wait_test(subject, test, timeout)
        return self._verdict(subject, spec, test)

    def _await_training_data(self, subject: Subject, timeout: float) -> None:
        state, finished = self._wait(
            lambda: self._remote.training_state(subject.model_id, subject.version_id),
            lambda s: not s.in_progress,
            timeout,
        )
        if not finished:
            raise GateError(
                f"the training data of version {subject.label} was still being assigned "
                f"after {timeout:g}s; run again later"
            )
        if state.error:
            raise GateError(
                f"the training data assignment of version {subject.label} failed: "
                f"{state.error}; check trainingDatasetId and partitionColumn"
            )

    def _existing_test(self, subject: Subject, spec: TestSpec) -> LiveTest | None:
        """The newest test of this version and configuration, if any."""
        tests = self._remote.list_model_tests(subject.model_id)
        return next(
            (t for t in tests if t.version_id == subject.version_id and spec.matches(t)), None
        )

    def _start_test(self, subject: Subject, spec: TestSpec) -> LiveTest:
        # The API runs one test of a model at a time: wait for another one to end first.
        _, idle = self._wait(
            lambda: self._remote.list_model_tests(subject.model_id, limit=5),
            lambda tests: not any(t.running for t in tests),
            spec.timeout,
        )
        if not idle:
            raise GateError(
                f"another test of {subject.key} was still running after {spec.timeout:g}s; "
                "run again when it has ended"
            )
        try:
            self._remote.create_model_test(subject.model_id, subject.version_id, spec.body())
        except OutcomeUnknownError:
            log.warning("model_test_outcome_unknown", key=subject.key, version=subject.label)
        found = self._existing_test(subject, spec)
        if found is None:
            raise GateError(f"the test of version {subject.label} started but is not listed")
        log.info("model_test_started", key=subject.key, version=subject.label, test_id=found.id)
        return found

    def _wait_test(self, subject: Subject, test: LiveTest, timeout: float) -> LiveTest:
        final, finished = self._wait(
            lambda: self._remote.get_model_test(test.id), lambda t: not t.running, timeout
        )
        if not finished:
            self._remote.cancel_model_test(test.id)
            log.warning(
                "model_test_cancelled", key=subject.key, version=subject.label, test_id=test.id
            )
            raise GateError(
                f"the test {test.id} of version {subject.label} did not finish within "
                f"{timeout:g}s (test.timeout); it was cancelled"
            )
        return final

    def _verdict(self, subject: Subject, spec: TestSpec, test: LiveTest) -> tuple[str, GateResult]:
        if spec.passes(test):
            log.info("model_test_passed", key=subject.key, version=subject.label, test_id=test.id)
            detail = (
                f"gate passed for version {subject.label}: test {test.id} {test.overall_status}"
            )
            return detail, self._result(subject, True, detail)
        tail = self._remote.model_test_log_tail(test.id)
        text = f"test {test.id} of version {subject.label} failed: {test.failure_text()}"
        if tail:
            text += f"; the test log ends:\n{tail}"
        log.warning(
            "model_test_failed",
            key=subject.key,
            version=subject.label,
            test_id=test.id,
            checks=[name for name, _ in test.failed_checks()],
        )
        if spec.blocking:
            raise GateError(text)
        detail = f"{text} (not blocking)"
        return detail, self._result(subject, False, detail)

    def failed(self, subject: Subject, detail: str) -> GateResult:
        return self._result(subject, False, detail)

    @staticmethod
    def _result(subject: Subject, passed: bool, detail: str) -> GateResult:
        return GateResult(subject.key, subject.version_id, subject.label, passed, detail)

    # --- helpers --------------------------------------------------------------------------

    def _wait(
        self, read: Callable[[], T], done: Callable[[T], bool], timeout: float
    ) -> tuple[T, bool]:
        """Poll until ``done``; a stop request (a lost lock, a second signal) ends the wait:
        the build or test goes on in DataRobot, and the next run waits for it. Without
        waiting (``serve``, so that a long test never holds up the next run), one look:
        :class:`GatePending` when it is not done."""
        if not self._waits:
            value = read()
            if not done(value):
                raise GatePending("still running in DataRobot; the next run looks again")
            return value, True
        value, finished = poll(
            read,
            lambda v: done(v) or self._stop.is_set(),
            timeout=timeout,
            ceiling=self._ceiling,
            sleep=self._sleep,
            clock=self._clock,
        )
        if self._stop.is_set() and not done(value):
            raise GateError(
                "stopped while waiting for a build or test; it goes on in DataRobot, and "
                "the next run waits for it (nothing is started twice)"
            )
        return value, finished


def _seconds(value: float | None) -> float:
    return float(value) if value is not None and value > 0 else DEFAULT_TIMEOUT


def _age(created: str) -> float:
    """Seconds since an API timestamp (``0`` when it cannot be read)."""
    try:
        stamp = datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return max(0.0, (datetime.now(UTC) - stamp).total_seconds())


class GateSteps:
    """The applier's gate steps: the version each model's chain made (the steps after it
    build and test that one) and what each gate came to. Thread-safe: chains run in
    parallel, one per model."""

    def __init__(self, keeper: Gatekeeper) -> None:
        self._keeper = keeper
        self._lock = threading.Lock()
        self._versions: dict[str, tuple[str, str]] = {}
        self._results: list[GateResult] = []

    def version_made(self, key: str, version_id: str, label: str) -> None:
        with self._lock:
            self._versions[key] = (version_id, label)

    def results(self) -> tuple[GateResult, ...]:
        with self._lock:
            return tuple(sorted(self._results, key=lambda g: g.key))

    def build(self, model_id: str | None, action: Action) -> tuple[str, str]:
        """The ``build-dependencies`` handler: ``(model ID, detail)``."""
        subject = self._subject(model_id, action)
        assert isinstance(action.params, DependencyBuild)
        try:
            return subject.model_id, self._keeper.build(subject, action.params)
        except GatePending:
            raise
        except DrGitopsError as exc:
            self._record(self._keeper.failed(subject, str(exc)))
            raise

    def test(self, model_id: str | None, action: Action) -> tuple[str, str]:
        """The ``test-version`` handler: ``(model ID, detail)``."""
        subject = self._subject(model_id, action)
        assert isinstance(action.params, VersionTest)
        try:
            detail, gate = self._keeper.test(subject, action.params)
        except GatePending:
            raise
        except DrGitopsError as exc:
            self._record(self._keeper.failed(subject, str(exc)))
            raise
        self._record(gate)
        return subject.model_id, detail

    def _record(self, result: GateResult) -> None:
        with self._lock:
            self._results.append(result)

    def _subject(self, model_id: str | None, action: Action) -> Subject:
        """The version a gate step is about: the plan's, or the one this chain made."""
        if not model_id:
            raise PlanError(f"{action.key}: no model to build or test")
        with self._lock:
            made = self._versions.get(str(action.key))
        step = action.params
        assert isinstance(step, GateStep)
        if step.version_id:
            label = step.version_label.removeprefix("version ")
            return Subject(str(action.key), model_id, step.version_id, label)
        if made is None:
            raise PlanError(
                f"{action.key}: no version to build or test (the version step made none)"
            )
        return Subject(str(action.key), model_id, made[0], made[1])
