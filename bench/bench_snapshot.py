"""How much a live snapshot costs: requests and time for 1,000 models and 200 jobs.

Seeds an in-process emulator over HTTP (4 threads: each model gets a version with 3 files,
so list pages carry realistic embedded ``latestVersion`` objects), then times
``read_snapshot`` at several page sizes next to the naive way, one GET per model, and
prints the emulator's own request counts.

    .venv/bin/python bench/bench_snapshot.py [--models 1000] [--jobs 200] [--latency-ms 20]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from controller import logs
from controller.remote import DataRobotClient, FileUpload, RequestCounter, read_snapshot
from controller.settings import ApiSettings
from emulator.server import EmulatorServer

ENVIRONMENT_ID = "64d2ba178dd3f0b1fa2162f0"


def seed(client: DataRobotClient, models: int, jobs: int, files: list[FileUpload]) -> list[str]:
    def one_model(index: int) -> str:
        model = client.create_model(
            {
                "name": f"Model {index:04d}",
                "userProvidedId": f"bench/model-{index:04d}",
                "targetType": "Regression",
                "targetName": "y",
                "language": "python",
                "description": f"benchmark model {index}",
            }
        )
        client.create_version(
            model.id,
            files=files,
            settings={"baseEnvironmentId": ENVIRONMENT_ID, "maximumMemory": 536870912},
        )
        return model.id

    def one_job(index: int) -> str:
        return client.create_job(
            {"name": f"Job {index:03d}", "jobType": "default", "environmentId": ENVIRONMENT_ID},
            files=files[:1],
        ).id

    with ThreadPoolExecutor(max_workers=4) as pool:
        ids = list(pool.map(one_model, range(models)))
        list(pool.map(one_job, range(jobs)))
    return ids


def stats(server: EmulatorServer) -> dict[str, Any]:
    result: dict[str, Any] = requests.get(f"{server.url}/__emulator__/stats", timeout=30).json()
    return result


def routes_between(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    """Requests the emulator served between two stats readings (a reset would drop the seed)."""
    out = {}
    for route, entry in after["routes"].items():
        delta = entry["count"] - before["routes"].get(route, {"count": 0})["count"]
        if delta:
            out[route] = delta
    return out


def timed(fn: Any, repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--latency-ms",
        type=int,
        default=0,
        help="added to every API request while timing (a real server is ~20-100 ms away)",
    )
    args = parser.parse_args(argv)
    logs.configure(level="warning")

    server = EmulatorServer(host="127.0.0.1", port=0, token="emulator-token", threads=8)
    server.start()
    try:
        settings = ApiSettings(endpoint=server.api_url, token=server.token)
        with tempfile.TemporaryDirectory() as tmp, DataRobotClient(settings) as client:
            root = Path(tmp)
            files = []
            for rel, text in {
                "custom.py": "def score(data, model, **kw):\n    return data\n",
                "requirements.txt": "pandas>=2\n",
                "lib/util.py": "X = 1\n",
            }.items():
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                (root / rel).write_text(text)
                files.append(FileUpload(root / rel, rel))
            started = time.perf_counter()
            model_ids = seed(client, args.models, args.jobs, files)
            seeded = time.perf_counter() - started
            print(
                f"seeded {args.models} models (1 version, 3 files each) and {args.jobs} jobs "
                f"over HTTP in {seeded:.1f} s"
            )
            if args.latency_ms:
                requests.put(
                    f"{server.url}/__emulator__/faults",
                    json={"latencyMs": args.latency_ms},
                    timeout=30,
                ).raise_for_status()
                print(f"every API request now takes {args.latency_ms} ms longer")
            report(server, client, model_ids, args)
    finally:
        server.stop()
    return 0


def report(
    server: EmulatorServer, client: DataRobotClient, model_ids: list[str], args: Any
) -> None:
    print()
    print(f"{'way':<34} {'requests':>8} {'expected':>8} {'median s':>9}")
    snapshot_times: dict[int, float] = {}
    detail: dict[str, int] = {}
    for page in (100, 500, 1000):
        counter = RequestCounter()
        with DataRobotClient(client.settings, on_request=counter) as counted:
            before = stats(server)
            seconds, snapshot = timed(
                lambda c=counted, p=page: read_snapshot(c, page_size=p), args.repeat
            )
            after = stats(server)
        if (len(snapshot.models), len(snapshot.jobs)) != (args.models, args.jobs):
            raise SystemExit(f"incomplete snapshot: {len(snapshot.models)} models")
        served = sum(routes_between(before, after).values()) // args.repeat
        expected = math.ceil(args.models / page) + math.ceil(args.jobs / page) + 1
        snapshot_times[page] = seconds
        print(f"{f'read_snapshot(page_size={page})':<34} {served:>8} {expected:>8} {seconds:>9.3f}")
        if page == 100:
            detail = routes_between(before, after)
    naive_counter = RequestCounter()
    with DataRobotClient(client.settings, on_request=naive_counter) as naive:
        before = stats(server)
        started = time.perf_counter()
        for model_id in model_ids:
            naive.get_model(model_id)
        naive_seconds = time.perf_counter() - started
        after = stats(server)
    naive_requests = sum(routes_between(before, after).values())
    naive_label = "sequential get_model() per model"
    print(f"{naive_label:<34} {naive_requests:>8} {len(model_ids):>8} {naive_seconds:>9.3f}")
    print()
    print("emulator stats for the page_size=100 snapshots (all repeats):")
    for route, count in sorted(detail.items()):
        print(f"  {route:<40} {count}")
    for page, seconds in snapshot_times.items():
        print(f"naive / snapshot(page_size={page}): {naive_seconds / seconds:.1f}x")


if __name__ == "__main__":
    sys.exit(main())
