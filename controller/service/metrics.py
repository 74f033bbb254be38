"""Prometheus metrics of the service, in a registry of its own (never the global one, so
two services in one process, as in tests, do not collide).

Names start with ``dr_gitops_``. Label values are bounded: triggers, results, action kinds,
HTTP methods, route *templates* and statuses, resource kinds and states.
"""

from __future__ import annotations

import threading

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from controller import __version__
from controller.service.history import RunRecord
from controller.service.runs import RESULTS, TRIGGERS, RunOutcome

DURATION_BUCKETS = (0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600)
ACTION_KINDS = (
    "created",
    "updated",
    "versions",
    "shared",
    "deleted",
    "failed",
    "builds",
    "tests",
)
GATE_RESULTS = ("passed", "failed")


class ServiceMetrics:
    """The service's metrics and the few calls that move them."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self._lock = threading.Lock()
        self._declare_run_metrics(self.registry)
        self._declare_state_metrics(self.registry)
        self._declare_label_values()

    def _declare_run_metrics(self, r: CollectorRegistry) -> None:
        self.duration = Histogram(
            "dr_gitops_reconcile_duration_seconds",
            "Wall time of reconcile runs, by result.",
            ["result"],
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.runs = Counter(
            "dr_gitops_reconcile_runs",
            "Reconcile runs, by trigger and result.",
            ["trigger", "result"],
            registry=r,
        )
        self.actions = Counter(
            "dr_gitops_actions",
            "Actions applied, by kind (failed: actions that failed).",
            ["action"],
            registry=r,
        )
        self.notifications = Counter(
            "dr_gitops_notifications",
            "Notifications, by target and result (sent, failed after retries, dropped: the "
            "queue was full).",
            ["target", "result"],
            registry=r,
        )
        self.api_requests = Counter(
            "dr_gitops_api_requests",
            "DataRobot API responses, by method, route template and status (0: no response).",
            ["method", "route", "status"],
            registry=r,
        )
        self.resources = Gauge(
            "dr_gitops_managed_resources",
            "Managed resources after the last run, by kind and state.",
            ["kind", "state"],
            registry=r,
        )
        self.model_tests = Counter(
            "dr_gitops_model_tests",
            "Custom model tests of versions carried out by runs, by result (passed; failed: "
            "a check failed, the test timed out or could not run).",
            ["result"],
            registry=r,
        )
        self.dependency_builds = Counter(
            "dr_gitops_dependency_builds",
            "Dependency builds of versions carried out by runs, by result.",
            ["result"],
            registry=r,
        )
        self.drift = Counter(
            "dr_gitops_drift_corrections",
            "Changes made to undo edits made outside git.",
            registry=r,
        )
        self.drift_fields = Counter(
            "dr_gitops_drift_fields_restored",
            "Values put back to undo edits made outside git, by field (an API field name, "
            "runtimeParameters, sharing, files).",
            ["field"],
            registry=r,
        )

    def _declare_state_metrics(self, r: CollectorRegistry) -> None:
        self.last_success = Gauge(
            "dr_gitops_last_success_timestamp_seconds",
            "When the last successful run finished (Unix time; 0: never).",
            registry=r,
        )
        self.last_run = Gauge(
            "dr_gitops_last_run_timestamp_seconds",
            "When the last run finished, whatever its result (Unix time; 0: never).",
            registry=r,
        )
        self.failures = Gauge(
            "dr_gitops_consecutive_failures",
            "Failed runs since the last successful one.",
            registry=r,
        )
        self.in_progress = Gauge(
            "dr_gitops_run_in_progress", "1 while a run is in progress.", registry=r
        )
        self.webhooks = Counter(
            "dr_gitops_webhooks",
            "Webhook deliveries, by source and outcome.",
            ["source", "outcome"],
            registry=r,
        )
        self.lock_held = Gauge(
            "dr_gitops_namespace_lock_held",
            "1 while this instance holds the namespace lock.",
            registry=r,
        )
        Gauge(
            "dr_gitops_build_info",
            "The running dr-gitops version (always 1).",
            ["version"],
            registry=r,
        ).labels(__version__).set(1)

    def _declare_label_values(self) -> None:
        # Series that exist from the start read as 0 instead of "no data" in dashboards.
        for trigger in TRIGGERS:
            for result in RESULTS:
                self.runs.labels(trigger, result)
        for action in ACTION_KINDS:
            self.actions.labels(action)
        for gate_result in GATE_RESULTS:
            self.model_tests.labels(gate_result)
            self.dependency_builds.labels(gate_result)

    def observe_api_request(self, method: str, route: str, status: int) -> None:
        """The engine's HTTP client reports one response (see ``RunRequest.on_api_request``)."""
        self.api_requests.labels(method.upper(), route, str(status)).inc()

    def run_started(self) -> None:
        self.in_progress.set(1)

    def run_finished(self, record: RunRecord, outcome: RunOutcome, failures: int) -> None:
        """Count a finished run and replace the managed-resource gauges with its view."""
        self.in_progress.set(0)
        self.duration.labels(record.result).observe(record.duration_seconds)
        self.runs.labels(record.trigger, record.result).inc()
        for action, count in record.counts.to_json().items():
            if count:
                self.actions.labels(action).inc(count)
        for gate in outcome.gates:
            counter = self.model_tests if gate.step == "test" else self.dependency_builds
            counter.labels(gate.result).inc()
        if record.drift_corrections:
            self.drift.inc(record.drift_corrections)
        for name, count in record.drift_fields:
            self.drift_fields.labels(name).inc(count)
        self.last_run.set(record.finished_at)
        self.failures.set(failures)
        if record.succeeded:
            self.last_success.set(record.finished_at)
        resources = outcome.resources_by_kind_and_state()
        if resources or record.succeeded:
            with self._lock:
                # A failed run that reports nothing keeps the last known picture.
                self.resources.clear()
                for (kind, state), count in sorted(resources.items()):
                    self.resources.labels(kind, state).set(count)

    def webhook(self, source: str, outcome: str) -> None:
        self.webhooks.labels(source, outcome).inc()
