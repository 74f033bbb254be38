"""Benchmark the engine end to end: plan and apply N models x F files against the emulator.

Generates a real git repository in a temp dir: N ``CustomModel`` manifests, each with a
source folder of F files (``custom.py``, ``model-metadata.yaml`` defining a runtime
parameter the manifest sets, ``requirements.txt``, then data files), and drives the
engine the way ``dr-gitops plan``/``apply`` do (``open_source`` + ``Engine``) through:

1. the first apply of every model, once per ``--concurrency`` value (the emulator is reset
   between runs): wall time, throughput, requests by route, peak memory;
2. a no-op plan right after: wall time, API requests, git subprocesses, where the time goes;
3. a one-file change to one model, committed: plan, apply, writes;
4. ten models changed in one commit: plan, apply, writes;

then a table of figures against the targets of issues 5 and 3.

The emulator runs in its own process (``python -m emulator``) by default, as DataRobot
would: the controller's peak memory is then its own (the emulator holds every model and
file in memory), and the emulator's request handling does not compete for this
interpreter's GIL. On a 2-core machine it still competes for CPU, which makes the figures
pessimistic. ``--in-process`` serves it from a thread instead, as the tests do.

Peak memory is the controller process's peak resident set size (``VmHWM``, reset before
each phase through ``/proc/self/clear_refs``; ``ru_maxrss`` where that is unavailable),
which includes the interpreter (~50 MB). ``--tracemalloc`` adds the Python heap peak (and
slows everything down ~2x).

    .venv/bin/python bench/bench_engine.py [--models 1000] [--files 5] [--concurrency 1,4,8]
                                           [--in-process] [--profile] [--tracemalloc]
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import dataclasses
import io
import math
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import requests

from controller import logs
from controller.cli.planfiles import write_plan_json
from controller.engine import reconciling
from controller.engine.evidence import EvidenceGatherer
from controller.engine.reconciling import Engine, Planned
from controller.engine.render import markdown_parts, write_text
from controller.model.plans import ActionKind
from controller.remote import DataRobotClient, pages
from controller.settings import ApiSettings, EngineSettings, GitSettings
from controller.sources import open_source

TOKEN = "bench-token"
NAMESPACE = "bench/engine"
ENVIRONMENT_ID = "64d2ba178dd3f0b1fa2162f0"
# The emulator adds latency by sleeping in one of its worker threads: with fewer workers
# than the controller has requests in flight (up to 32 sharing reads), requests would queue
# in the emulator, which a real server's distance does not do (it holds none of its workers).
EMULATOR_THREADS = 32
PAGE = ApiSettings(endpoint="http://x/api/v2", token="x").page_size
GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}

MANIFEST = """\
apiVersion: dr-gitops/v1
kind: CustomModel
metadata:
  name: model-{n:04d}
spec:
  name: Model {n}
  description: Benchmark model number {n}.
  targetType: Regression
  targetName: y
  language: python
  version:
    source: ./model-{n:04d}
    baseEnvironmentId: {env}
    maximumMemory: 512Mi
    replicas: 1
    runtimeParameters:
      THRESHOLD: 0.7
"""
SHARING = """\
  sharing:
    - {username: gitops-bot@example.com, role: OWNER, canShare: true}
    - {username: bob@example.com, role: USER}
"""
METADATA = """\
name: model-{n:04d}
type: inference
targetType: regression
runtimeParameterDefinitions:
  - {{fieldName: THRESHOLD, type: numeric, defaultValue: 0.5, minValue: 0, maxValue: 1}}
"""


# --- the repository ---------------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, env={**os.environ, **GIT_ENV},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def source_files(n: int, count: int) -> dict[str, str]:
    files = {
        "custom.py": f"# model {n}\ndef score(data, model, **kwargs):\n    return data\n",
        "model-metadata.yaml": METADATA.format(n=n),
        "requirements.txt": "pandas>=2.0\nscikit-learn>=1.4\n",
    }
    for extra in range(max(0, count - len(files))):
        files[f"data/part-{extra}.csv"] = f"x,y\n{n},{extra}\n" * 20
    return dict(list(files.items())[:count])


def make_repo(root: Path, models: int, files: int, *, sharing: bool = False) -> None:
    """A repository of ``models`` manifests under ``models/``, one commit."""
    for n in range(models):
        folder = root / "models" / f"model-{n:04d}"
        (root / "models" / f"model-{n:04d}.yaml").parent.mkdir(parents=True, exist_ok=True)
        (root / "models" / f"model-{n:04d}.yaml").write_text(
            MANIFEST.format(n=n, env=ENVIRONMENT_ID) + (SHARING if sharing else "")
        )
        for rel, text in source_files(n, files).items():
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text(text)
    git(root, "init", "--quiet", "--initial-branch=main")
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", "models")


def change_models(root: Path, indexes: range, message: str) -> None:
    for n in indexes:
        path = root / "models" / f"model-{n:04d}" / "custom.py"
        path.write_text(path.read_text() + f"# changed: {message}\n")
    git(root, "commit", "--quiet", "-am", message)


# --- the emulator -----------------------------------------------------------------------


@dataclass
class Emulator:
    api_url: str
    admin_url: str
    pid: int | None = None  # None when served from this process
    latency_ms: int = 0
    session: requests.Session = field(default_factory=requests.Session)

    def cpu_s(self) -> float | None:
        """CPU seconds the emulator process has used so far (None when in-process)."""
        if self.pid is None:
            return None
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stats(self) -> dict[str, Any]:
        answer = self.session.get(f"{self.admin_url}/__emulator__/stats", timeout=60)
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result

    def reset(self) -> None:
        """Back to the seed (faults off: the latency is set again)."""
        self.session.post(f"{self.admin_url}/__emulator__/reset", timeout=60).raise_for_status()
        self.set_latency(self.latency_ms)

    def set_latency(self, ms: int) -> None:
        self.latency_ms = ms
        answer = self.session.put(
            f"{self.admin_url}/__emulator__/faults", json={"latencyMs": ms}, timeout=60
        )
        answer.raise_for_status()


@contextlib.contextmanager
def serve(in_process: bool, threads: int = EMULATOR_THREADS) -> Iterator[Emulator]:
    if in_process:
        from emulator.server import EmulatorServer

        with EmulatorServer(token=TOKEN, threads=threads) as server:
            yield Emulator(server.api_url, server.url)
        return
    command = [
        sys.executable, "-m", "emulator", "--port", "0", "--token", TOKEN,
        "--threads", str(threads),
    ]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        api_url = proc.stdout.readline().split()[2]  # "dr-emulator serving http://H:P/api/v2 ..."
        yield Emulator(api_url, api_url.removesuffix("/api/v2"), proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@dataclass(frozen=True)
class Served:
    """What the emulator served between two stats readings."""

    routes: dict[str, int]
    writes: int

    @property
    def total(self) -> int:
        return sum(self.routes.values())

    @staticmethod
    def between(before: dict[str, Any], after: dict[str, Any]) -> Served:
        routes = {}
        for route, entry in after["routes"].items():
            delta = entry["count"] - before["routes"].get(route, {"count": 0})["count"]
            if delta:
                routes[route] = delta
        return Served(routes, after["writes"] - before["writes"])


# --- measuring --------------------------------------------------------------------------


class PeakMemory:
    """The process's peak RSS since :meth:`reset` (and the Python heap peak if tracing)."""

    def __init__(self, trace: bool) -> None:
        self.trace = trace
        self.resettable = True
        if trace:
            tracemalloc.start()

    def reset(self) -> None:
        try:
            Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM (Linux >= 4.0)
        except OSError:
            self.resettable = False
        if self.trace:
            tracemalloc.reset_peak()

    def rss_mb(self) -> float:
        with contextlib.suppress(OSError):
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def heap_mb(self) -> float | None:
        return tracemalloc.get_traced_memory()[1] / 2**20 if self.trace else None

    def describe(self) -> str:
        heap = self.heap_mb()
        kind = "VmHWM" if self.resettable else "ru_maxrss (whole run)"
        return f"{self.rss_mb():.0f} MB peak RSS ({kind})" + (
            f", {heap:.0f} MB Python heap peak (tracemalloc)" if heap is not None else ""
        )


class StepTimer:
    """Wall time of each step of ``Engine.plan``, by wrapping what it calls from outside."""

    STEPS: ClassVar[dict[str, str]] = {
        "load_desired_state": "manifests (find, parse, validate, list sources)",
        "git_model_version": "gitModelVersion (CI env, commit URL)",
        "read_snapshot": "snapshot (list models/jobs, account)",
        "match": "matching manifests to live objects",
        "read_sharing": "sharing reads",
        "gather": "evidence (git diffs / downloads)",
        "make_plan": "planning (pure)",
    }

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()
        self.cpu: Counter[str] = Counter()
        """CPU seconds of each step, in the threads that ran it (``time.thread_time``): the
        snapshot's include the list pages read in the page-reading threads."""
        self._undo: list[Callable[[], None]] = []
        self._inside = threading.local()

    def _wrap(self, owner: Any, name: str, step: str) -> None:
        original = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started, cpu = time.perf_counter(), time.thread_time()
            self._inside.step = True
            try:
                return original(*args, **kwargs)
            finally:
                self._inside.step = False
                self.seconds[step] += time.perf_counter() - started
                self.cpu[step] += time.thread_time() - cpu

        setattr(owner, name, timed)
        self._undo.append(lambda: setattr(owner, name, original))

    def _wrap_pages(self) -> None:
        """Pages read in the page-reading threads count as the snapshot's CPU (those read
        in a step's own thread are counted by the step already)."""
        original = pages._page

        def timed(*args: Any, **kwargs: Any) -> Any:
            if getattr(self._inside, "step", False):
                return original(*args, **kwargs)
            cpu = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.cpu["read_snapshot"] += time.thread_time() - cpu

        pages._page = timed  # type: ignore[assignment]
        self._undo.append(lambda: setattr(pages, "_page", original))

    def __enter__(self) -> StepTimer:
        from controller.sources.source import GitSource

        for name in ("load_desired_state", "read_snapshot", "read_sharing", "make_plan"):
            self._wrap(reconciling, name, name)
        self._wrap(reconciling, "match", "match")  # one matcher for models and jobs
        self._wrap(EvidenceGatherer, "gather", "gather")
        self._wrap(GitSource, "git_model_version", "git_model_version")
        self._wrap_pages()
        return self

    def __exit__(self, *_: object) -> None:
        for undo in reversed(self._undo):
            undo()


@dataclass
class Run:
    """One plan (and maybe apply) from a fresh ``open_source``, as one CLI command does."""

    open_s: float = 0.0
    plan_s: float = 0.0
    apply_s: float = 0.0
    git_calls: int = 0
    git_commands: dict[str, int] = field(default_factory=dict)
    plan_served: Served = Served({}, 0)
    apply_served: Served = Served({}, 0)
    actions: Counter[str] = field(default_factory=Counter)
    failures: int = 0
    steps: dict[str, float] = field(default_factory=dict)
    steps_cpu: dict[str, float] = field(default_factory=dict)
    after_empty: bool | None = None
    cpu_s: float = 0.0  # this process (all threads), open + plan + apply
    emulator_cpu_s: float | None = None
    render_s: dict[str, float] = field(default_factory=dict)
    render_cpu_s: float = 0.0

    @property
    def wall_s(self) -> float:
        return self.open_s + self.plan_s + self.apply_s


class Bench:
    def __init__(self, repo: Path, cache: Path, emulator: Emulator, memory: PeakMemory) -> None:
        self.repo = repo
        self.cache = cache
        self.emulator = emulator
        self.memory = memory
        self.client = DataRobotClient(ApiSettings(endpoint=emulator.api_url, token=TOKEN))

    def run(
        self, *, apply: bool, concurrency: int = 4, profile: cProfile.Profile | None = None,
        render: bool = False,
    ) -> Run:  # fmt: skip
        run = Run()
        before = self.emulator.stats()
        settings = GitSettings(repo=str(self.repo), cache_dir=self.cache, namespace=NAMESPACE)
        engine = Engine(self.client, EngineSettings(concurrency=concurrency))
        emulator_cpu = self.emulator.cpu_s()
        cpu = time.process_time()
        started = time.perf_counter()
        if profile:
            profile.enable()
        with (
            open_source(settings, environ={**os.environ, **GIT_ENV}) as source,
            StepTimer() as steps,
        ):
            opened = time.perf_counter()
            planned: Planned = engine.plan(source)
            planned_at = time.perf_counter()
            if profile:
                profile.disable()
            run.git_calls, run.git_commands = source.git_calls, dict(source.git_commands)
            run.steps = dict(steps.seconds)
            run.steps_cpu = dict(steps.cpu)
            middle = self.emulator.stats()
            run.plan_served = Served.between(before, middle)
            run.actions = Counter(a.kind.value for a in planned.plan.actions)
            if render:
                rendering = time.process_time()
                run.render_s = render_times(planned)
                run.render_cpu_s = time.process_time() - rendering
            if apply:
                applying = time.perf_counter()
                result = engine.apply(planned)
                run.apply_s = time.perf_counter() - applying
                run.failures = len(result.failures)
                run.apply_served = Served.between(middle, self.emulator.stats())
        run.open_s, run.plan_s = opened - started, planned_at - opened
        # Rendering's CPU, not its wall time: on a loaded machine the two differ by times.
        run.cpu_s = time.process_time() - cpu - run.render_cpu_s
        if emulator_cpu is not None:
            run.emulator_cpu_s = (self.emulator.cpu_s() or 0.0) - emulator_cpu
        return run

    def settle(self) -> bool:
        """True when a plan right now is empty."""
        return not self.run(apply=False).actions


def render_times(planned: Planned) -> dict[str, float]:
    """Seconds to render the plan as `dr-gitops plan` can (text, JSON, Markdown)."""
    out: dict[str, float] = {}
    for name, render in (
        ("text", lambda: _stream_text(planned)),
        ("json", lambda: _stream_json(planned)),
        ("markdown", lambda: list(map(len, markdown_parts(planned.plan)))),
    ):
        started = time.perf_counter()
        render()
        out[name] = time.perf_counter() - started
    return out


def _stream_text(planned: Planned) -> None:
    """`plan`/`apply`'s text: written an action at a time, as the CLI does."""
    with open(os.devnull, "w", encoding="utf-8") as out:
        write_text(planned.plan, out)


def _stream_json(planned: Planned) -> None:
    """`plan --output json`: the document written as it is encoded, as the CLI does."""
    with open(os.devnull, "w", encoding="utf-8") as out:
        write_plan_json(planned.plan, out)


def cpu_note(run: Run) -> str:
    emulator = f", emulator {run.emulator_cpu_s:.1f} s" if run.emulator_cpu_s is not None else ""
    return f"CPU: controller {run.cpu_s:.1f} s{emulator}"


# --- phases -----------------------------------------------------------------------------


def show_routes(served: Served, indent: str = "    ") -> None:
    for route, count in sorted(served.routes.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"{indent}{count:>6}  {route}")


def show_steps(run: Run) -> None:
    print(f"    {run.open_s:7.3f} s  open_source (rev-parse, status, remote)")
    for step, label in StepTimer.STEPS.items():
        if step in run.steps:
            cpu = run.steps_cpu.get(step)
            print(f"    {run.steps[step]:7.3f} s  {label}" + (f" [CPU {cpu:.3f} s]" if cpu else ""))
    rest = run.plan_s - sum(run.steps.values())
    if rest >= 0:
        print(f"    {rest:7.3f} s  the rest of Engine.plan (logging, bookkeeping)")
    else:  # the snapshot is read while the manifests load, so the steps overlap
        print(f"    {-rest:7.3f} s  overlapped (the snapshot is read while manifests load)")


def first_apply(bench: Bench, args: argparse.Namespace, figures: dict[str, Any]) -> None:
    print(f"\n== 1. first apply of {args.models} models x {args.files} files")
    for index, concurrency in enumerate(args.concurrency):
        if index:
            bench.emulator.reset()
        bench.memory.reset()
        run = bench.run(apply=True, concurrency=concurrency, render=index == 0)
        requests_ = run.plan_served.total + run.apply_served.total
        print(
            f"--concurrency {concurrency}: {run.wall_s:.1f} s wall (open {run.open_s:.2f} s, "
            f"plan {run.plan_s:.2f} s, apply {run.apply_s:.1f} s); "
            f"{args.models / run.wall_s:.1f} models/s, {requests_ / run.wall_s:.0f} requests/s "
            f"({requests_} requests, {run.apply_served.writes} writes, {run.failures} failures); "
            f"{bench.memory.describe()}; {cpu_note(run)}"
        )
        if run.render_s:
            shown = ", ".join(f"{k} {v:.2f} s" for k, v in run.render_s.items())
            print(f"    rendering its plan ({sum(run.actions.values())} actions): {shown}")
        figures.setdefault("first_apply", []).append(
            (concurrency, run, requests_, bench.memory.rss_mb(), bench.memory.heap_mb())
        )
    print("  requests by route (last run: plan + apply):")
    last = figures["first_apply"][-1][1]
    show_routes(
        Served(dict(Counter(last.plan_served.routes) + Counter(last.apply_served.routes)), 0)
    )


def noop_plan(bench: Bench, args: argparse.Namespace, figures: dict[str, Any]) -> None:
    print("\n== 2. no-op plan right after (fresh open_source each time, as `dr-gitops plan`)")
    runs = []
    for _ in range(args.repeat):
        bench.memory.reset()
        runs.append(bench.run(apply=False))
    run = sorted(runs, key=lambda r: r.wall_s)[len(runs) // 2]
    walls = ", ".join(f"{r.wall_s:.2f}" for r in runs)
    print(
        f"wall {run.wall_s:.2f} s median of [{walls}] (open_source {run.open_s:.2f} s + plan "
        f"{run.plan_s:.2f} s); {cpu_note(run)}; {bench.memory.describe()}"
    )
    print(f"actions: {sum(run.actions.values())}")
    print(f"API requests: {run.plan_served.total}, writes {run.plan_served.writes}")
    show_routes(run.plan_served)
    print(f"git subprocesses: {run.git_calls} {run.git_commands}")
    print("where the time goes (median run):")
    show_steps(run)
    figures["noop"] = run
    if args.noop_latency_ms:
        saved = bench.emulator.latency_ms
        bench.emulator.set_latency(args.noop_latency_ms)
        slow_runs = [bench.run(apply=False) for _ in range(args.repeat)]
        slow = sorted(slow_runs, key=lambda r: r.wall_s)[len(slow_runs) // 2]
        bench.emulator.set_latency(saved)
        print(
            f"the same with {args.noop_latency_ms} ms added to every API request (a real server "
            f"is farther away than loopback): wall {slow.wall_s:.2f} s median of "
            f"[{', '.join(f'{r.wall_s:.2f}' for r in slow_runs)}], snapshot "
            f"{slow.steps.get('read_snapshot', 0):.2f} s for {slow.plan_served.total} requests; "
            f"{cpu_note(slow)}"
        )
        show_steps(slow)
        figures["noop_slow"] = slow
    if args.profile:
        profile = cProfile.Profile()
        bench.run(apply=False, profile=profile)
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out).strip_dirs().sort_stats("cumulative")
        stats.print_stats(40)
        out.write("\n-- by own time --\n")
        stats.sort_stats("tottime").print_stats(25)
        print("cProfile of one no-op plan (open_source + Engine.plan; this thread only):")
        print(out.getvalue())


def change(bench: Bench, label: str, count: int, figures: dict[str, Any]) -> None:
    change_models(bench.repo, range(count), label)
    run = bench.run(apply=True)
    run.after_empty = bench.settle()
    print(
        f"plan {run.open_s + run.plan_s:.2f} s ({run.plan_served.total} requests, "
        f"{run.git_calls} git subprocesses {run.git_commands}), actions {dict(run.actions)}; "
        f"apply {run.apply_s:.2f} s: {run.apply_served.writes} writes "
        f"({run.failures} failures); next plan empty: {run.after_empty}; {cpu_note(run)}"
    )
    show_routes(run.apply_served)
    figures[label] = run


def history(bench: Bench, commits: int, figures: dict[str, Any]) -> None:
    """A no-op plan once ``commits`` models record ``commits`` distinct commits.

    That is the state after as many merges that each changed a different model. Building it
    with an apply per merge would take minutes, so each merge here only adds a note outside
    every source folder, and the model's newest version is stamped with that merge by a
    version metadata PATCH: its files are then exactly those of the commit it records.
    """
    shas = []
    for index in range(commits):
        note = bench.repo / "notes" / f"merge-{index:03d}.md"
        note.parent.mkdir(exist_ok=True)
        note.write_text(f"merge {index}\n")
        git(bench.repo, "add", str(note))
        git(bench.repo, "commit", "--quiet", "-m", f"merge {index}")
        shas.append(git(bench.repo, "rev-parse", "HEAD"))
    by_name = {m.user_provided_id: m for m in bench.client.list_models()}
    for index, sha in enumerate(shas):
        model = by_name[f"{NAMESPACE}/model-{10 + index:04d}"]  # 0-9: the ten-model change
        assert model.latest_version is not None
        assert model.latest_version.git is not None
        recorded = dataclasses.replace(model.latest_version.git, main_branch_commit_sha=sha)
        bench.client.update_version_metadata(
            model.id, model.latest_version.id, git_model_version=recorded
        )
    run = bench.run(apply=False)
    print(
        f"{commits} distinct recorded commits: no-op plan {run.wall_s:.2f} s wall, "
        f"{sum(run.actions.values())} actions, {run.plan_served.total} requests, "
        f"{run.git_calls} git subprocesses {run.git_commands}; evidence "
        f"{run.steps.get('gather', 0):.2f} s; {cpu_note(run)}"
    )
    figures["history"] = (commits, run)


Row = tuple[str, str, str, bool | None]


def rows(args: argparse.Namespace, figures: dict[str, Any]) -> list[Row]:
    n = args.models
    expected_requests = math.ceil(n / PAGE) + 2  # model pages, the jobs page, account info
    noop: Run = figures["noop"]
    one: Run = figures["one-file"]
    ten: Run = figures["ten-models"]
    out: list[Row] = []
    for concurrency, run, requests_, rss, heap in figures["first_apply"]:
        created = run.actions[ActionKind.CREATE_MODEL.value] == n and run.failures == 0
        name = f"first apply c={concurrency}"
        out += [
            (f"{name}: wall", f"{run.wall_s:.1f} s", "all made, 0 failed", created),
            (f"{name}: CPU controller/emulator", f"{run.cpu_s:.1f} s / " + (f"{run.emulator_cpu_s:.1f} s" if run.emulator_cpu_s is not None else "n/a"), "(print)", None),
            (f"{name}: throughput", f"{n / run.wall_s:.0f} models/s, {requests_ / run.wall_s:.0f} req/s", "(print)", None),
            (f"{name}: peak RSS", f"{rss:.0f} MB", "< 250 MB", rss < 250),
        ]  # fmt: skip
        if heap is not None:
            out.append((f"{name}: Python heap peak", f"{heap:.0f} MB", "< 250 MB", heap < 250))
    loading = noop.steps.get("load_desired_state", 0.0)
    one_plan, ten_plan = one.open_s + one.plan_s, ten.open_s + ten.plan_s
    out += [
        ("no-op plan: wall", f"{noop.wall_s:.2f} s", "< 3 s", noop.wall_s < 3),
        ("no-op plan: controller CPU", f"{noop.cpu_s:.2f} s", "(print)", None),
        ("no-op plan: actions", f"{sum(noop.actions.values())}", "0", not noop.actions),
        ("no-op plan: API requests", f"{noop.plan_served.total}", f"{expected_requests}", noop.plan_served.total == expected_requests),
        ("no-op plan: git subprocesses", f"{noop.git_calls}", "a handful (<= 10)", noop.git_calls <= 10),
        ("one-file change: plan wall", f"{one_plan:.2f} s", "< 3 s", one_plan < 3),
        ("one-file change: writes", f"{one.apply_served.writes}", "1", one.apply_served.writes == 1),
        ("one-file change: next plan empty", f"{one.after_empty}", "True", one.after_empty),
        ("10 models changed: plan wall", f"{ten_plan:.2f} s", "< 3 s", ten_plan < 3),
        ("10 models changed: writes", f"{ten.apply_served.writes}", "10", ten.apply_served.writes == 10),
        ("10 models changed: next plan empty", f"{ten.after_empty}", "True", ten.after_empty),
        *history_rows(figures),
        ("manifest loading (issue 3)", f"{loading:.2f} s", "< 2 s", loading < 2),
    ]  # fmt: skip
    return out


def history_rows(figures: dict[str, Any]) -> list[Row]:
    if "history" not in figures:
        return []
    commits, run = figures["history"]
    name = f"no-op plan, {commits} recorded commits"
    return [
        (f"{name}: wall", f"{run.wall_s:.2f} s", "< 3 s", run.wall_s < 3),
        # A constant handful, whatever the number of distinct commits (not 2 per commit).
        (f"{name}: git", f"{run.git_calls} subprocesses", "a handful (<= 10)", run.git_calls <= 10),
    ]


def table(args: argparse.Namespace, figures: dict[str, Any]) -> None:
    print(
        f"\n== figures vs targets ({args.models} models x {args.files} files, {os.cpu_count()} cores)"
    )
    print(f"{'figure':<44} {'measured':<30} {'target':<20} met")
    for name, measured, target, ok in rows(args, figures):
        mark = "-" if ok is None else ("yes" if ok else "NO")
        print(f"{name:<44} {measured:<30} {target:<20} {mark}")
    if args.tracemalloc:
        print("(--tracemalloc slows Python down several times: compare times without it)")
    if args.sharing:
        print("(--sharing: each model's sharing is one GET, the API has no bulk read)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--files", type=int, default=5, help="files per model source folder")
    parser.add_argument(
        "--concurrency", default="1,4,8",
        type=lambda s: [int(c) for c in s.split(",")], help="first-apply concurrencies",
    )  # fmt: skip
    parser.add_argument("--repeat", type=int, default=3, help="no-op plans to take the median of")
    parser.add_argument(
        "--latency-ms", type=int, default=0, help="added to every API request, all phases"
    )
    parser.add_argument(
        "--noop-latency-ms", type=int, default=50,
        help="one more no-op plan with this latency per request (0: skip)",
    )  # fmt: skip
    parser.add_argument(
        "--in-process", action="store_true", help="serve the emulator from a thread"
    )
    parser.add_argument(
        "--history", type=int, default=50,
        help="then a no-op plan with this many distinct recorded commits (0: skip)",
    )  # fmt: skip
    parser.add_argument(
        "--sharing", action="store_true",
        help="manifests declare sharing (read per model: the API has no bulk read)",
    )  # fmt: skip
    parser.add_argument(
        "--emulator-threads", type=int, default=EMULATOR_THREADS,
        help=f"the emulator's worker threads (default {EMULATOR_THREADS}; was 8 before "
        "2026-12-07: fewer than the reads in flight queues them behind the added latency)",
    )  # fmt: skip
    parser.add_argument("--profile", action="store_true", help="cProfile one no-op plan")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace the Python heap")
    args = parser.parse_args(argv)
    if args.files < 2:
        parser.error("--files must be at least 2 (custom.py and model-metadata.yaml)")
    logs.configure(level="warning")
    baseline_mb = PeakMemory(False).rss_mb()
    memory = PeakMemory(args.tracemalloc)
    where = "in this process" if args.in_process else "in its own process"
    print(
        f"emulator {where}; {args.models} models x {args.files} files"
        f"{' with sharing' if args.sharing else ''}; {args.emulator_threads} emulator threads; "
        f"{os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}; RSS after imports {baseline_mb:.0f} MB"
    )
    figures: dict[str, Any] = {}
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp,
        serve(args.in_process, args.emulator_threads) as emu,
    ):
        emu.set_latency(args.latency_ms)
        repo, cache = Path(tmp) / "repo", Path(tmp) / "cache"
        repo.mkdir()
        make_repo(repo, args.models, args.files, sharing=args.sharing)
        print(f"repository generated and committed in {time.perf_counter() - started:.1f} s")
        bench = Bench(repo, cache, emu, memory)
        try:
            first_apply(bench, args, figures)
            noop_plan(bench, args, figures)
            print("\n== 3. one-file change to one model, committed")
            change(bench, "one-file", 1, figures)
            print("\n== 4. ten models changed in one commit")
            change(bench, "ten-models", 10, figures)
            commits = min(args.history, args.models - 10)
            if commits > 0:
                print(f"\n== 5. after {commits} merges that each changed a different model")
                history(bench, commits, figures)
        finally:
            bench.client.close()
    table(args, figures)
    print(
        f"\ntotal benchmark time {time.perf_counter() - started:.0f} s; "
        f"load average now {os.getloadavg()[0]:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
