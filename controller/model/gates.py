"""Quality gates of a model version: its dependency build and its custom model test.

Desired side (:class:`VersionGates`, from ``spec.version``): when to build the version's
dependency image and how to test the version. Live side (:class:`LiveGates`, read for the
newest version): the build's status and the model's tests. Pure values and the rules that
compare them; planning and applying use both.

The API does not return a test's ``configuration``, so a live test is matched with the
desired one by what it shows (:meth:`TestSpec.matches`): dataset (and version, when the
manifest pins it), resources, and which checks ran or were skipped. A check switched
between ``warn`` and ``fail`` alone is seen only through its result: a test whose check
ended ``warning`` does not pass a configuration that now says ``fail`` for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from controller.model.values import Fields, Json

# The checks of the reference, with its example defaults, and those DataRobot's
# custom-models action sends besides (API-DELIVERY.md §1): off unless configured.
BASE_CHECKS: Mapping[str, str] = {
    "errorCheck": "fail",
    "longRunningService": "fail",
    "nullValueImputation": "skip",
    "sideEffects": "skip",
}
EXTRA_CHECKS = ("predictionVerificationCheck", "performanceCheck", "stabilityCheck")
TEST_RESOURCES = ("maximumMemory", "replicas", "networkEgressPolicy")
DEFAULT_TIMEOUT = 1800.0

RUNNING_TEST = frozenset({"queued", "in_progress", "not_tested"})
PASSED_TEST = frozenset({"succeeded", "warning"})
FAILED_TEST = frozenset({"failed"})
RUNNING_BUILD = frozenset({"submitted", "processing", "queued", "in_progress"})


class BuildMode(StrEnum):
    """``spec.version.dependencyBuild``."""

    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


@dataclass(frozen=True)
class TestSpec:
    """``spec.version.test``: the CustomModelTests fields besides the model and version.

    ``checks`` holds every check's mode (the base checks with their defaults filled in);
    ``parameters`` the API's ``parameters`` object; ``resources`` the test's memory,
    replicas and egress; ``timeout`` is in seconds.
    """

    __test__ = False  # not a pytest test class, whatever its name

    dataset_id: str | None = None
    dataset_version_id: str | None = None
    checks: Fields = field(default_factory=lambda: Fields(BASE_CHECKS))
    parameters: Fields = field(default_factory=Fields)
    resources: Fields = field(default_factory=Fields)
    timeout: float = DEFAULT_TIMEOUT
    blocking: bool = True

    @classmethod
    def from_body(
        cls, body: Mapping[str, Json], *, timeout: float = DEFAULT_TIMEOUT, blocking: bool = True
    ) -> TestSpec:
        """The spec a plan's saved request ``body`` (:meth:`body`) was made from."""
        checks = body.get("configuration")
        parameters = body.get("parameters")
        dataset, version = body.get("datasetId"), body.get("datasetVersionId")
        return cls(
            dataset_id=str(dataset) if dataset else None,
            dataset_version_id=str(version) if version else None,
            checks=Fields(checks if isinstance(checks, dict) else BASE_CHECKS),
            parameters=Fields(parameters if isinstance(parameters, dict) else {}),
            resources=Fields({k: body[k] for k in TEST_RESOURCES if k in body}),
            timeout=timeout,
            blocking=blocking,
        )

    def body(self) -> dict[str, Json]:
        """The request fields of ``POST customModelTests/`` this spec sets."""
        body: dict[str, Json] = {"configuration": self.checks.to_dict()}
        if self.dataset_id:
            body["datasetId"] = self.dataset_id
        if self.dataset_version_id:
            body["datasetVersionId"] = self.dataset_version_id
        if self.parameters:
            body["parameters"] = self.parameters.to_dict()
        body.update(self.resources.to_dict())
        return body

    def summary(self) -> str:
        """``dataset X: checks errorCheck=fail, sideEffects=warn`` (skipped checks left out)."""
        ran = [f"{name}={mode}" for name, mode in self.checks.items() if mode != "skip"]
        dataset = f"dataset {self.dataset_id}" if self.dataset_id else "no dataset"
        return f"{dataset}: checks {', '.join(ran) or 'none'}"

    def matches(self, test: LiveTest) -> bool:
        """Whether ``test`` ran with this configuration, as far as the API shows it."""
        if self.dataset_id and test.dataset_id != self.dataset_id:
            return False
        if self.dataset_version_id and test.dataset_version_id != self.dataset_version_id:
            return False
        for name in TEST_RESOURCES:
            wanted = self.resources.get(name)
            if wanted is not None and str(test.resources.get(name)).upper() != str(wanted).upper():
                return False
        for name, mode in self.checks.items():
            status = test.checks.get(name, ("", ""))[0]
            if name in EXTRA_CHECKS and mode != "skip" and name not in test.checks:
                return False
            if name in test.checks and (mode == "skip") != (status == "skipped"):
                return False
        return True

    def passes(self, test: LiveTest) -> bool:
        """Whether the finished ``test`` passes this configuration's gate."""
        if test.overall_status not in PASSED_TEST:
            return False
        return not any(
            status == "warning" and self.checks.get(name) == "fail"
            for name, (status, _) in test.checks.items()
        )


@dataclass(frozen=True)
class VersionGates:
    """What a new (or the newest) version must pass before anything comes after it."""

    dependency_build: BuildMode = BuildMode.AUTO
    test: TestSpec | None = None

    def wants_build(self, has_requirements: bool) -> bool:
        if self.dependency_build is BuildMode.ALWAYS:
            return True
        return self.dependency_build is BuildMode.AUTO and has_requirements


@dataclass(frozen=True)
class LiveTest:
    """A custom model test as the API shows it. ``checks``: name → ``(status, message)``."""

    id: str
    version_id: str
    overall_status: str
    dataset_id: str | None = None
    dataset_version_id: str | None = None
    checks: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    resources: Fields = field(default_factory=Fields)
    created: str = ""

    @property
    def running(self) -> bool:
        return self.overall_status in RUNNING_TEST

    def failed_checks(self) -> list[tuple[str, str]]:
        """``(check, message)`` of each check that failed."""
        return [(n, m) for n, (s, m) in sorted(self.checks.items()) if s in FAILED_TEST]

    def failure_text(self) -> str:
        """``check sideEffects failed: <message>; ...`` or the overall status."""
        failed = self.failed_checks()
        if not failed:
            return f"the test ended {self.overall_status}"
        return "; ".join(f"check {n} failed: {m or '(no message)'}" for n, m in failed)


@dataclass(frozen=True)
class LiveGates:
    """The gates of a model's newest version: its build status (``None``: never built) and
    the model's tests of that version, newest first."""

    version_id: str
    build_status: str | None = None
    tests: tuple[LiveTest, ...] = ()

    @property
    def build_running(self) -> bool:
        return self.build_status in RUNNING_BUILD


@dataclass(frozen=True)
class GateResult:
    """What apply learnt about one version's gate: ``passed`` means every gate it asked
    for passed (what comes after the version, registration and deployments, may go on)."""

    key: str
    version_id: str
    version_label: str
    passed: bool
    detail: str = ""
