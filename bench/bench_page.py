"""Benchmark: does a busy status page slow reconciling? (issue 19)

Starts the emulator and ``dr-gitops serve`` as processes of their own (the real engine, a
generated repository of ``--models`` models and ``--jobs`` jobs), then times ``--rounds``
reconcile runs without page views and as many while clients fetch ``GET /`` at
``--rate`` views per second (keep-alive connections, paced). Before each run one model's
description is changed by hand, so each run reads DataRobot, plans, writes one PATCH and
reads the objects again; runs are asked for with ``POST /control/reconcile``. It prints
the page views served per second and their latency, and the reconcile times (from
``/status``) with and without the load. No assertion on time: the figures are printed.

    .venv/bin/python bench/bench_page.py [--models 100] [--jobs 10] [--rounds 8] [--rate 200]

Loopback only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

# The repository generator is test code (tests/reliability); make it importable from here.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures.gitrepos import GitRepo  # noqa: E402
from tests.reliability.repos import Shape, generate  # noqa: E402

TOKEN = "bench-emulator-token"
CONTROL = "bench-control-token-0123456789abcdef"
NAMESPACE = "bench/page"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def call(port: int, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        conn.request(method, path, None if body is None else json.dumps(body), headers)
        answer = conn.getresponse()
        data = answer.read()
        if answer.status >= 400:
            raise RuntimeError(f"{method} {path}: {answer.status} {data[:300]!r}")
        return json.loads(data) if data else None
    finally:
        conn.close()


def wait_until(condition: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = condition()
        except (OSError, RuntimeError):
            found = None
        if found:
            return found
        time.sleep(0.1)
    raise SystemExit(f"timed out waiting for {what}")


class PageLoad:
    """``threads`` clients fetching ``GET /`` at ``rate`` views per second in all."""

    def __init__(self, port: int, rate: float, threads: int = 8) -> None:
        self.port = port
        self.interval = threads / rate
        self.latencies: list[float] = []
        self.errors = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._client, args=(i * self.interval / threads,), daemon=True)
            for i in range(threads)
        ]

    def __enter__(self) -> PageLoad:
        self.began = time.monotonic()
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(10)
        self.seconds = time.monotonic() - self.began

    def _client(self, offset: float) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        due = time.monotonic() + offset
        while not self._stop.is_set():
            wait = due - time.monotonic()
            if wait > 0:
                self._stop.wait(wait)
            due += self.interval
            sent = time.monotonic()
            try:
                conn.request("GET", "/")
                answer = conn.getresponse()
                answer.read()
                ok = answer.status == 200
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                ok = False
            with self._lock:
                if ok:
                    self.latencies.append(time.monotonic() - sent)
                else:
                    self.errors += 1
        conn.close()


def reconcile_rounds(
    port: int, emulator_port: int, models: list[dict[str, Any]], rounds: int
) -> list[float]:
    """Durations (s) of ``rounds`` runs, each after one model was changed by hand."""
    durations = []
    for index in range(rounds):
        model = models[index % len(models)]
        call(
            emulator_port,
            "PATCH",
            f"/api/v2/customModels/{model['id']}/",
            {"description": f"changed by hand {time.time()}"},
            TOKEN,
        )
        before = {r["runId"] for r in call(port, "GET", "/status")["runs"]}
        call(port, "POST", "/control/reconcile", token=CONTROL)

        def finished(before: set[str] = before) -> dict[str, Any] | None:
            runs = [r for r in call(port, "GET", "/status")["runs"] if r["runId"] not in before]
            return runs[0] if runs else None

        run = wait_until(finished, 300, "a reconcile run")
        if run["result"] != "success" or run["driftCorrections"] != 1:
            raise SystemExit(f"unexpected run: {run}")
        durations.append(float(run["durationSeconds"]))
    return durations


def describe(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return (
        f"median {statistics.median(ordered):.3f} s, p95 {p95:.3f} s, "
        f"max {ordered[-1]:.3f} s (n={len(ordered)})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--rate", type=float, default=200.0, help="page views per second")
    args = parser.parse_args()
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            emulator_port = free_port()
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "emulator", "--port", str(emulator_port), "--token", TOKEN],
                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))  # fmt: skip
            repo = GitRepo(Path(tmp) / "repo")
            generate(repo, Shape(models=args.models, jobs=args.jobs, example=False, seed=19))
            repo.commit("generated")
            control = Path(tmp) / "control-token"
            control.write_text(CONTROL)
            port = free_port()
            env = {
                **os.environ,
                "DATAROBOT_ENDPOINT": f"http://127.0.0.1:{emulator_port}/api/v2",
                "DATAROBOT_API_TOKEN": TOKEN,
                "DR_GITOPS_NAMESPACE": NAMESPACE,
                "DR_GITOPS_CACHE_DIR": str(Path(tmp) / "cache"),
            }
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "controller.cli", "serve", "--repo", str(repo.path),
                 "--listen", f"127.0.0.1:{port}", "--interval", "3600", "--jitter", "0",
                 "--lock", "none", "--control-token-file", str(control), "--log-level", "warning"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))  # fmt: skip
            began = time.monotonic()
            first = wait_until(
                lambda: call(port, "GET", "/status")["runs"], 900, "the start-up apply"
            )[0]
            print(
                f"start-up apply of {args.models} models and {args.jobs} jobs: "
                f"{first['result']} in {time.monotonic() - began:.1f} s"
            )
            listed = call(emulator_port, "GET", "/api/v2/customModels/?limit=1000", token=TOKEN)
            models = [
                m
                for m in listed["data"]
                if str(m.get("userProvidedId", "")).startswith(NAMESPACE + "/gm-")
            ]
            quiet = reconcile_rounds(port, emulator_port, models, args.rounds)
            with PageLoad(port, args.rate) as load:
                loaded = reconcile_rounds(port, emulator_port, models, args.rounds)
            size = len(http_get(port, "/"))
        finally:
            for process in reversed(processes):
                process.terminate()
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
    views = len(load.latencies)
    print(f"status page: {size} bytes, {views} views in {load.seconds:.1f} s = "
          f"{views / load.seconds:.0f} views/s served (asked: {args.rate:.0f}/s), "
          f"{load.errors} errors; latency {describe(load.latencies)}")  # fmt: skip
    print(f"reconcile without page views: {describe(quiet)}")
    print(f"reconcile with {args.rate:.0f} page views/s: {describe(loaded)}")
    print(
        f"median slowdown: {statistics.median(loaded) / statistics.median(quiet):.2f}x "
        "(each run: list models and jobs, plan, one PATCH, list again)"
    )
    return 0


def http_get(port: int, path: str) -> bytes:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        return conn.getresponse().read()
    finally:
        conn.close()


if __name__ == "__main__":
    raise SystemExit(main())
