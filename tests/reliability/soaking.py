"""Running dr-gitops again and again against a faulty emulator, and counting.

:class:`Controller` runs ``apply`` either in-process (the :class:`Engine`, as ``serve``
does) or as a ``python -m controller.cli`` subprocess (as CI does); :func:`converge`
repeats applies, alternating the two, until one succeeds, and records every run.
:class:`Chaos` keeps the emulator faulty while it runs: random 429/502/503/504 before and
after the write, dropped connections (closed and reset) and latency, plus a latency spike
re-armed on a seeded random beat. :class:`Ledger` remembers the commits applied and how
many versions each model should have by now.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from controller.cli import build_parser
from controller.engine.reconciling import Engine, Planned
from controller.manifests import load_desired_state
from controller.model.desired import DesiredJob, DesiredModel, DesiredState
from controller.remote import DataRobotClient
from controller.settings import ApiSettings, EngineSettings, GitSettings
from controller.sources import open_source
from emulator.server import EmulatorServer
from tests.reliability.bystanders import Bystander
from tests.reliability.verifying import Expectations, LiveApi, Verdict, verify

ROOT = Path(__file__).resolve().parents[2]
MAX_DELETIONS = 20


def soak_faults(seed: int, *, rate: float = 0.2, retry_after: int = 1) -> dict[str, Any]:
    """The soak's random faults: ``rate`` of requests answered 429 (with ``Retry-After``),
    502, 503 or 504, before or after the write; 3% more dropped; 0-20 ms of jitter."""
    return {
        "rate": rate,
        "statuses": [429, 502, 503, 504],
        "when": "both",
        "retryAfter": retry_after,
        "latencyMs": 0,
        "latencyJitterMs": 20,
        "dropConnection": 0.03,
        "dropMode": "close" if seed % 2 else "reset",
        "seed": seed,
    }


class Chaos:
    """Faults on while the block runs, with a latency spike (``spike_ms``, default 0.3-1.5 s,
    on the next request, any route) re-armed every 0.5-2 s; each re-arm also changes the
    drop mode and the seed."""

    def __init__(
        self,
        emulator: EmulatorServer,
        seed: int,
        *,
        spike_ms: tuple[int, int] = (300, 1500),
        **fault_options: Any,
    ) -> None:
        self.emulator = emulator
        self.seed = seed
        self.spike_ms = spike_ms
        self.options = fault_options
        self.spikes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="chaos", daemon=True)

    def __enter__(self) -> Chaos:
        self.emulator.set_faults(soak_faults(self.seed, **self.options))
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.emulator.set_faults({})

    def _beat(self) -> None:
        rng = random.Random(self.seed)
        tick = 0
        while not self._stop.wait(rng.uniform(0.5, 2.0)):
            tick += 1
            faults = soak_faults(self.seed * 7919 + tick, **self.options)
            spike = {"method": "*", "route": "*", "latencyMs": rng.randint(*self.spike_ms)}
            self.emulator.set_faults({**faults, "script": [spike]})
            self.spikes += 1


@dataclass
class RunRecord:
    number: int
    mode: str  # "cli" | "engine"
    ok: bool
    seconds: float
    detail: str = ""


@dataclass
class Convergence:
    runs: list[RunRecord] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def converged(self) -> bool:
        return bool(self.runs) and self.runs[-1].ok

    @property
    def runs_to_converge(self) -> int:
        return len(self.runs)

    def describe(self) -> str:
        marks = " ".join(f"{r.mode}:{'ok' if r.ok else 'fail'}" for r in self.runs)
        return f"{len(self.runs)} runs in {self.seconds:.1f}s ({marks})"


@dataclass(frozen=True)
class Controller:
    """dr-gitops pointed at one repository, emulator and namespace."""

    repo: Path
    api_url: str
    token: str
    namespace: str
    cache: Path
    concurrency: int = 4
    prune: bool = False  # apply with --prune (and at most MAX_DELETIONS deletions)

    def environ(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "DATAROBOT_ENDPOINT": self.api_url,
            "DATAROBOT_API_TOKEN": self.token,
            "DR_GITOPS_NAMESPACE": self.namespace,
            "DR_GITOPS_CACHE_DIR": str(self.cache),
            **extra,
        }

    def apply_command(self, *extra: str, lock: str = "none") -> list[str]:
        """``python -m controller.cli apply`` for this repository, with ``--lock LOCK`` when
        the command has the option (by default none: a crash test must not wait out a dead
        holder's lease)."""
        lock_args = ["--lock", lock] if apply_has_lock_option() else []
        return [
            sys.executable,
            "-m",
            "controller.cli",
            "--log-format",
            "json",
            "apply",
            "--repo",
            str(self.repo),
            "--concurrency",
            str(self.concurrency),
            *lock_args,
            *(["--prune", "--max-deletions", str(MAX_DELETIONS)] if self.prune else []),
            *extra,
        ]

    def apply_cli(self, *, timeout: float = 300.0) -> tuple[bool, str]:
        done = subprocess.run(
            self.apply_command(),
            env=self.environ(),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return done.returncode == 0, (done.stdout + done.stderr)[-2000:]

    def api_settings(self) -> ApiSettings:
        # Quicker backoff than the CLI's defaults; Retry-After is still honoured.
        return ApiSettings(
            endpoint=self.api_url, token=self.token, backoff_factor=0.05, backoff_jitter=0.05
        )

    @contextmanager
    def engine(self) -> Iterator[tuple[Engine, Any]]:
        git = GitSettings(repo=str(self.repo), cache_dir=self.cache, namespace=self.namespace)
        with (
            DataRobotClient(self.api_settings()) as client,
            open_source(git, environ={}) as source,
        ):
            settings = EngineSettings(
                concurrency=self.concurrency, prune=self.prune, max_deletions=MAX_DELETIONS
            )
            yield Engine(client, settings), source

    def apply_engine(self) -> tuple[bool, str]:
        try:
            with self.engine() as (engine, source):
                result = engine.apply(engine.plan(source))
        except Exception as exc:  # a failed run is data here, not an error of the harness
            return False, f"{type(exc).__name__}: {exc}"
        failures = [f"{r.action.key} {r.outcome.value}: {r.message}" for r in result.failures]
        return result.ok, "; ".join(failures)[:2000]

    def plan(self) -> Planned:
        with self.engine() as (engine, source):
            return engine.plan(source)

    def desired(self) -> DesiredState:
        return load_desired_state(self.repo)


def apply_has_lock_option() -> bool:
    """Whether ``dr-gitops apply`` takes ``--lock`` on this branch."""
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    apply = sub.choices["apply"]  # type: ignore[index]
    return any("--lock" in a.option_strings for a in apply._actions)


def converge(
    controller: Controller,
    *,
    max_runs: int = 12,
    modes: Sequence[str] = ("cli", "engine"),
    deadline: float = 600.0,
) -> Convergence:
    """Apply until a run succeeds (at most ``max_runs`` runs or ``deadline`` seconds),
    cycling through ``modes``."""
    result = Convergence()
    began = time.monotonic()
    for number in range(1, max_runs + 1):
        mode = modes[(number - 1) % len(modes)]
        started = time.monotonic()
        left = max(deadline - (started - began), 30.0)
        ok, detail = (
            controller.apply_cli(timeout=left) if mode == "cli" else controller.apply_engine()
        )
        result.runs.append(RunRecord(number, mode, ok, time.monotonic() - started, detail))
        if ok or time.monotonic() - began > deadline:
            break
    result.seconds = time.monotonic() - began
    return result


class Ledger:
    """The commits applied so far and, per model, the commits its versions were made from
    (those that changed its content: files by path inside the source and bytes, settings,
    runtime values; a moved folder or a file mode is no change) and the commit of its last
    field change (what ``gitModelVersion`` must say); per job, the commit of its last
    change (what its stamp must say)."""

    def __init__(self) -> None:
        self.history: list[str] = []
        self.versions: dict[str, list[str]] = {}
        self.fields: dict[str, str] = {}
        self.jobs: dict[str, str] = {}
        self._prints: dict[str, tuple[str, str]] = {}
        self._job_prints: dict[str, str] = {}

    def applied(self, commit: str, desired: DesiredState, root: Path) -> None:
        self.history.append(commit)
        for job in desired.jobs:
            content = job_fingerprint(job, root)
            if content != self._job_prints.get(job.key.name):
                self.jobs[job.key.name] = commit
            self._job_prints[job.key.name] = content
        for model in desired.models:
            name = model.key.name
            content = fingerprint(model, root)
            fields = json.dumps(dict(model.fields), sort_keys=True, default=str)
            old_content, old_fields = self._prints.get(name, ("", ""))
            if content != old_content:
                self.versions.setdefault(name, []).append(commit)
            if fields != old_fields:
                self.fields[name] = commit
            self._prints[name] = (content, fields)

    def expectations(self, namespace: str, bystanders: Sequence[Bystander] = ()) -> Expectations:
        return Expectations(
            namespace=namespace,
            head=self.history[-1],
            history=list(self.history),
            versions={k: list(v) for k, v in self.versions.items()},
            model_commits=dict(self.fields),
            job_commits=dict(self.jobs),
            bystanders=list(bystanders),
        )


def check_converged(
    controller: Controller, emulator: EmulatorServer, expect: Expectations
) -> tuple[Verdict, list[str]]:
    """With faults off: the next plan's actions (should be none) and the verifier's verdict."""
    emulator.set_faults({})
    plan = controller.plan().plan
    leftovers = [f"{a.key} {a.kind.value}: {a.reason}" for a in plan.actions]
    api = LiveApi(controller.api_url, controller.token)
    try:
        verdict = verify(api, controller.repo, controller.desired(), expect)
    finally:
        api.close()
    return verdict, leftovers


def wait_until_quiet(emulator: EmulatorServer, quiet: float = 0.4, limit: float = 30.0) -> None:
    """Until no request completed for ``quiet`` seconds: requests a killed controller left in
    flight land first, as they do while a real controller restarts."""
    last, since, began = emulator.stats()["total"], time.monotonic(), time.monotonic()
    while time.monotonic() - since < quiet and time.monotonic() - began < limit:
        time.sleep(0.05)
        now = emulator.stats()["total"]
        if now != last:
            last, since = now, time.monotonic()


def request_figures(stats: Mapping[str, Any], top: int = 8) -> str:
    """The emulator's counters as a few lines: total, writes, faults, busiest routes."""
    faults = stats.get("faults", {})
    lines = [
        f"requests: {stats['total']} total, {stats['writes']} writes; faults: "
        f"{faults.get('injected', 0)} error answers, {faults.get('dropped', 0)} dropped, "
        f"{faults.get('delayed', 0)} delayed"
    ]
    routes = sorted(stats.get("routes", {}).items(), key=lambda kv: -kv[1]["count"])
    for route, entry in routes[:top]:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(entry["statuses"].items()))
        lines.append(f"  {entry['count']:>6}  {route}  ({statuses})")
    return "\n".join(lines)


def fingerprint(model: DesiredModel, root: Path) -> str:
    """What decides whether a model needs a new version: its files (by content), version
    settings and runtime values."""
    if model.version is None:
        return ""
    files = sorted(
        (f.path, hashlib.sha256((root / f.repo_path).read_bytes()).hexdigest())
        for f in model.version.source.files
    )
    values = sorted((v.field_name, repr(v.value)) for v in model.version.runtime_values)
    blob = json.dumps([files, sorted(model.version.settings.items()), values], default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def job_fingerprint(job: DesiredJob, root: Path) -> str:
    """What decides whether a job is written to (and stamped): its fields, files (by path
    inside the source, and content), entry point and runtime values; not its sharing."""
    files = sorted(
        (f.path, hashlib.sha256((root / f.repo_path).read_bytes()).hexdigest())
        for f in (job.source.files if job.source else ())
    )
    values = sorted((v.field_name, repr(v.value)) for v in job.runtime_values)
    blob = json.dumps([sorted(job.fields.items()), files, job.entry_point, values], default=str)
    return hashlib.sha256(blob.encode()).hexdigest()
