"""Two controllers started at once on one namespace never both apply.

Each controller process has its own API token (of the same user), and the emulator records
every write with its token and times (:mod:`tests.reliability.overlaps`), so overlaps are
seen from the server's side, whatever the controllers believe. Without a lock the detector
does see both applying at once (so it can fail); with the DataRobot lock (the default) the
writes of one controller all end before the other's begin, and the result is exact.

The tests wait on events (log lines of the processes, their exit), never on the wall clock:
timeouts are generous and only a hung process reaches them; the lock TTL is long enough that
no heartbeat of a holder slowed down by a loaded machine comes too late, so the waiter gets
the lock only when the holder releases it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from emulator.server import EmulatorServer
from tests.fixtures.gitrepos import GitRepo
from tests.fixtures.reliability import Figures
from tests.fixtures.service import WEBHOOK_SECRET, request
from tests.reliability.overlaps import WriteRecorder, apply_spans, overlaps, recorded_emulator
from tests.reliability.processes import ServeProcess
from tests.reliability.repos import Shape, evolve, generate
from tests.reliability.soaking import Controller, Ledger, check_converged

TOKENS = ("controller-a-token-5f2e", "controller-b-token-9c1d")
NAMESPACE = "reliability/concurrency"


@dataclass
class World:
    emulator: EmulatorServer
    recorder: WriteRecorder
    work: GitRepo
    bare: Path
    tmp: Path
    shape: Shape
    ledger: Ledger = field(default_factory=Ledger)

    def env(self, index: int) -> dict[str, str]:
        return {
            **os.environ,
            "DATAROBOT_ENDPOINT": self.emulator.api_url,
            "DATAROBOT_API_TOKEN": TOKENS[index],
            "DR_GITOPS_NAMESPACE": NAMESPACE,
            "DR_GITOPS_CACHE_DIR": str(self.tmp / f"cache-{index}"),
            "DR_GITOPS_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }

    def commit(self, round_: int) -> str:
        if round_:
            evolve(self.work, self.shape, round_=round_, share=0.5)
        sha = self.work.commit(f"round {round_}")
        self.work.git("push", "-q", "origin", "HEAD:main")
        return sha

    def serve(self, index: int, lock: str = "datarobot") -> ServeProcess:
        return ServeProcess(
            self.env(index),
            "--repo",
            self.bare.as_uri(),
            "--interval",
            "3600",
            "--jitter",
            "0",
            "--listen",
            "127.0.0.1:0",
            "--lock",
            lock,
            "--lock-ttl",
            "60",
        )

    def controller(self) -> Controller:
        return Controller(
            self.work.path,
            self.emulator.api_url,
            self.emulator.token,
            NAMESPACE,
            self.tmp / "cache-check",
        )

    def check(self) -> None:
        expect = self.ledger.expectations(NAMESPACE)
        verdict, leftovers = check_converged(self.controller(), self.emulator, expect)
        assert leftovers == []
        verdict.assert_clean()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    emulator, recorder = recorded_emulator(tmp_path, TOKENS)
    emulator.start()
    # Slow writes down so that an apply lasts long enough to be overlapped.
    emulator.set_faults(
        {"latencyMs": 120, "latencyJitterMs": 60, "seed": 1, "methods": ["POST", "PATCH"]}
    )
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    work = GitRepo(tmp_path / "work")
    work.git("remote", "add", "origin", str(bare))
    shape = Shape(models=8, jobs=3, example=False, seed=5)
    generate(work, shape)
    try:
        yield World(emulator, recorder, work, bare, tmp_path, shape)
    finally:
        emulator.stop()


def _push_hook(port: int, sha: str) -> int:
    body = json.dumps({"ref": "refs/heads/main", "after": sha}).encode()
    signature = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"X-GitHub-Event": "push", "X-Hub-Signature-256": signature}
    return request(port, "POST", "/webhooks/github", body, headers).status


def _first_holder(a: ServeProcess, b: ServeProcess, timeout: float = 180) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for index, process in enumerate((a, b)):
            if process.events("namespace_lock_acquired"):
                return index
        time.sleep(0.02)
    pytest.fail(f"no instance took the lock:\n{a.output()[-2000:]}\n{b.output()[-2000:]}")


def test_without_a_lock_the_detector_sees_two_controllers_applying_at_once(
    world: World, figures: Figures
) -> None:
    world.commit(0)
    world.recorder.rendezvous(2)  # both have begun applying before either goes on
    both = [world.serve(0, lock="none"), world.serve(1, lock="none")]
    try:
        for process in both:
            process.event("run_finished", timeout=300)
    finally:
        for process in both:
            process.stop()
    spans = apply_spans(world.recorder.writes)
    found = overlaps(world.recorder.writes)
    figures(f"no lock: {len(found)} overlapping writes; spans {_describe(spans)}")
    assert len(spans) == 2
    assert found


def test_two_services_started_at_once_never_both_apply(world: World, figures: Figures) -> None:
    first = world.commit(0)
    processes = [world.serve(0), world.serve(1)]
    try:
        holder_index = _first_holder(*processes)
        holder, waiter = processes[holder_index], processes[1 - holder_index]
        holder.event("run_finished", timeout=300)
        waiter.event("namespace_lock_waiting", timeout=180)
        world.ledger.applied(first, world.controller().desired(), world.work.path)
        second = world.commit(1)
        assert _push_hook(holder.port, second) == 200
        assert _push_hook(waiter.port, second) in (200, 202, 503)
        holder.event("run_finished", 2, timeout=300)
        world.ledger.applied(second, world.controller().desired(), world.work.path)
        third = world.commit(2)  # the waiter applies this one once it holds the lock
        assert holder.stop() == 0
        waiter.event("namespace_lock_acquired", timeout=180)
        waiter.event("run_finished", timeout=300)
        world.ledger.applied(third, world.controller().desired(), world.work.path)
    finally:
        for process in processes:
            process.stop()
    spans = apply_spans(world.recorder.writes)
    found = overlaps(world.recorder.writes)
    figures(
        f"DataRobot lock, two services: {len(world.recorder.writes)} writes "
        f"({sum(w.lock for w in world.recorder.writes)} to the lock); spans {_describe(spans)}; "
        f"{len(found)} overlapping writes"
    )
    assert found == []
    assert {TOKENS[holder_index], TOKENS[1 - holder_index]} == set(spans)
    assert spans[TOKENS[holder_index]].end <= spans[TOKENS[1 - holder_index]].start
    world.check()


def _describe(spans: dict[str, object]) -> str:
    return ", ".join(
        f"{token[:12]}: {span.writes} writes over {span.end - span.start:.2f}s"  # type: ignore[attr-defined]
        for token, span in spans.items()
    )


def _two_applies(world: World, offset: float) -> list[str]:
    """Two ``apply --lock datarobot`` processes, the second started ``offset`` seconds after
    the first; returns their outputs after checking both succeeded."""
    commands = []
    for index in (0, 1):
        commands.append(
            subprocess.Popen(
                world.controller().apply_command(lock="datarobot"),
                env={**world.env(index), "DR_GITOPS_CACHE_DIR": str(world.tmp / f"c{index}")},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
        time.sleep(offset)
    outputs = [p.communicate(timeout=900)[0] for p in commands]
    assert [p.returncode for p in commands] == [0, 0], outputs
    return outputs


def test_two_applies_started_at_once_never_both_apply(world: World, figures: Figures) -> None:
    world.ledger.applied(world.commit(0), world.controller().desired(), world.work.path)
    _two_applies(world, 0.0)
    writes = world.recorder.writes
    spans = apply_spans(writes)
    figures(f"DataRobot lock, two applies: spans {_describe(spans)}")
    assert overlaps(writes) == []
    assert {w.token for w in writes if w.lock} == set(TOKENS)  # both did contend for the lock
    world.check()


@pytest.mark.slow
def test_ten_rounds_of_two_applies_never_overlap(world: World, figures: Figures) -> None:
    rng = random.Random(9)
    winners = []
    for round_ in range(10):
        world.ledger.applied(world.commit(round_), world.controller().desired(), world.work.path)
        first = len(world.recorder.writes)
        _two_applies(world, rng.uniform(0.0, 0.4))
        writes = world.recorder.writes[first:]
        assert overlaps(writes) == [], f"round {round_}"
        winners += [token for token, span in apply_spans(writes).items() if span.writes]
    figures(
        f"DataRobot lock, 10 rounds of two applies: {len(world.recorder.writes)} writes, "
        f"0 overlaps; rounds won per controller {dict(Counter(winners))}"
    )
    world.check()
