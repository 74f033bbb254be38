"""What one model's sharing read costs: ``read_sharing`` alone against the emulator.

Starts the emulator in its own process (as ``bench_engine.py`` does), creates N models,
then reads every model's ``accessControl/`` with :func:`controller.remote.read_sharing`,
``--in-flight`` at a time, at each ``--latency-ms``, and prints the wall time, the CPU
seconds of this process and of the emulator's, the CPU per request and the requests the
emulator served. The emulator's added latency is a sleep in one of its worker threads, so
``--emulator-threads`` below the reads in flight queues them in the emulator (a real
server's distance holds none of its workers).

    .venv/bin/python bench/bench_sharing.py [--models 1000] [--in-flight 16]
        [--latency-ms 0,20] [--emulator-threads 32] [--repeat 3] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from controller import logs
from controller.remote import DataRobotClient, read_sharing
from controller.settings import ApiSettings

TOKEN = "bench-token"


def emulator_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def served(admin: str, session: requests.Session) -> int:
    """The sharing reads the emulator has served so far."""
    stats: dict[str, Any] = session.get(f"{admin}/__emulator__/stats", timeout=60).json()
    return sum(
        int(entry["count"])
        for route, entry in stats["routes"].items()
        if route.startswith("GET ") and route.endswith("/accessControl/")
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument(
        "--in-flight",
        type=int,
        default=16,
        help="reads side by side (the engine's: 2 x --concurrency, at least 16, at most 32)",
    )
    parser.add_argument("--latency-ms", default="0,20", help="comma-separated")
    parser.add_argument("--emulator-threads", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--profile", action="store_true", help="cProfile a last run, one read at a time"
    )
    args = parser.parse_args()
    logs.configure(level="WARNING")

    command = [
        sys.executable, "-m", "emulator", "--port", "0", "--token", TOKEN,
        "--threads", str(args.emulator_threads),
    ]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        api_url = proc.stdout.readline().split()[2]
        admin = api_url.removesuffix("/api/v2")
        session = requests.Session()
        client = DataRobotClient(ApiSettings(endpoint=api_url, token=TOKEN))

        def create(n: int) -> str:
            body = {
                "name": f"Model {n:04d}",
                "userProvidedId": f"bench/model-{n:04d}",
                "targetType": "Regression",
                "targetName": "y",
                "language": "python",
            }
            return client.create_model(body).id

        with ThreadPoolExecutor(max_workers=8) as pool:
            ids = list(pool.map(create, range(args.models)))
        client.close()
        print(
            f"{args.models} models, {args.in_flight} reads in flight, emulator threads "
            f"{args.emulator_threads}, {os.cpu_count()} cores, load average "
            f"{os.getloadavg()[0]:.1f}"
        )
        for latency in (int(x) for x in args.latency_ms.split(",")):
            session.put(
                f"{admin}/__emulator__/faults", json={"latencyMs": latency}, timeout=60
            ).raise_for_status()
            walls, cpus, emus, counts = [], [], [], []
            for run in range(args.repeat):
                client = DataRobotClient(ApiSettings(endpoint=api_url, token=TOKEN))
                profiler = cProfile.Profile() if args.profile and run == args.repeat - 1 else None
                before, emu_before = served(admin, session), emulator_cpu_s(proc.pid)
                cpu, wall = time.process_time(), time.perf_counter()
                if profiler:
                    # cProfile sees one thread: the profiled run reads one at a time, here.
                    profiler.enable()
                    found = {i: client.get_model_access(i) for i in ids}
                    profiler.disable()
                else:
                    found, _ = read_sharing(client, ids, (), concurrency=args.in_flight)
                walls.append(time.perf_counter() - wall)
                cpus.append(time.process_time() - cpu)
                emus.append(emulator_cpu_s(proc.pid) - emu_before)
                counts.append(served(admin, session) - before)
                assert len(found) == len(ids)
                client.close()
                if profiler:
                    profile_file = os.environ.get("BENCH_PROFILE_FILE")
                    if profile_file:
                        profiler.dump_stats(profile_file)
                    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
            per = statistics.median(cpus) / max(1, statistics.median(counts)) * 1000
            print(
                f"latency {latency:>3} ms: wall {statistics.median(walls):.2f} s "
                f"[{', '.join(f'{w:.2f}' for w in walls)}], CPU controller "
                f"{statistics.median(cpus):.2f} s ({per:.2f} ms per request), emulator "
                f"{statistics.median(emus):.2f} s, requests {counts}; load average "
                f"{os.getloadavg()[0]:.1f}"
            )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
