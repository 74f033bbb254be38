"""Throughput of the emulator for the calls the controller makes most.

Seeds N models (default 1,000), each with a latest version of 8 files and runtime
parameters, then times over real HTTP (keep-alive, one client thread):

* ``GET /api/v2/customModels/?limit=100&offset=...``: pages of 100 models embedding their
  latest versions (target: median under 20 ms);
* version creates: ``PATCH .../versions/`` (multipart) replacing one file.

The emulator runs in its own process (``python -m emulator``), as a separate service
would; ``--in-process`` serves it from a thread of the benchmark instead (as the test
fixtures do; client and server then share one interpreter, so figures are higher).

Usage: ``python bench/bench_emulator.py [--models 1000] [--pages 300] [--versions 300] [--in-process]``
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests

from emulator.server import EmulatorServer

ENV = "64d2ba178dd3f0b1fa2162f0"
TOKEN = "bench-token"


@dataclass(frozen=True)
class Target:
    """Where the emulator under test answers."""

    api_url: str
    token: str


@contextlib.contextmanager
def serve(in_process: bool) -> Iterator[Target]:
    if in_process:
        with EmulatorServer(token=TOKEN, threads=8) as server:
            yield Target(server.api_url, TOKEN)
        return
    command = [sys.executable, "-m", "emulator", "--port", "0", "--token", TOKEN, "--threads", "8"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # "dr-emulator serving http://HOST:PORT/api/v2 (...)"
        yield Target(first.split()[2], TOKEN)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


METADATA = b"runtimeParameterDefinitions:\n  - {fieldName: THRESHOLD, type: numeric, defaultValue: 0.5}\n  - {fieldName: MODE, type: string}\n"
FILES = {
    "custom.py": b"def score(data, model, **kw):\n    return data\n" * 20,
    "model-metadata.yaml": METADATA,
    "requirements.txt": b"numpy>=1.26,<2\npandas==2.2.2\nscikit-learn>=1.4\n",
    "src/features.py": b"X = 1\n" * 200,
    "src/util.py": b"Y = 2\n" * 200,
    "src/__init__.py": b"",
    "README.md": b"# model\n" * 50,
    "artifacts/model.pkl": bytes(range(256)) * 40,
}


def _multipart(
    files: dict[str, bytes], **form: str
) -> list[tuple[str, tuple[str | None, bytes | str]]]:
    parts: list[tuple[str, tuple[str | None, bytes | str]]] = []
    for path, content in files.items():
        parts += [("file", (path.rsplit("/", 1)[-1], content)), ("filePath", (None, path))]
    parts += [(key, (None, value)) for key, value in form.items()]
    return parts


def _seed_one(session: requests.Session, api: str, index: int) -> str:
    model = session.post(
        f"{api}/customModels/",
        json={
            "name": f"model-{index:04d}",
            "customModelType": "inference",
            "targetType": "Regression",
            "targetName": "y",
            "userProvidedId": f"bench/model-{index}",
        },
    ).json()
    answer = session.post(
        f"{api}/customModels/{model['id']}/versions/",
        files=_multipart(FILES, isMajorUpdate="true", baseEnvironmentId=ENV),
    )
    answer.raise_for_status()
    return str(model["id"])


def seed(server: Target, count: int) -> list[str]:
    sessions = [requests.Session() for _ in range(4)]
    for session in sessions:
        session.headers["Authorization"] = f"Bearer {server.token}"
    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(lambda i: _seed_one(sessions[i % 4], server.api_url, i), range(count)))


def _report(name: str, timings: list[float], extra: str = "") -> None:
    timings_ms = sorted(t * 1000 for t in timings)
    p95 = timings_ms[int(len(timings_ms) * 0.95) - 1]
    total = sum(timings)
    print(
        f"{name:<42} n={len(timings):<5} median={statistics.median(timings_ms):7.2f} ms  "
        f"p95={p95:7.2f} ms  throughput={len(timings) / total:8.1f} req/s{extra}"
    )


def bench_pages(server: Target, pages: int, models: int) -> None:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {server.token}"
    timings, sizes = [], []
    offsets = [(i * 100) % max(models - 99, 1) for i in range(pages)]
    for offset in offsets:
        started = time.perf_counter()
        answer = session.get(
            f"{server.api_url}/customModels/", params={"offset": offset, "limit": 100}
        )
        body = answer.json()
        timings.append(time.perf_counter() - started)
        assert len(body["data"]) == 100, "pages hold 100 models"
        assert body["data"][0]["latestVersion"]["items"], "pages embed latest versions"
        sizes.append(len(answer.content))
    _report(
        "GET /customModels/ (100 per page)",
        timings,
        f"  ({statistics.mean(sizes) / 1024:.0f} KiB/page)",
    )


def bench_version_creates(server: Target, model_ids: list[str], versions: int) -> None:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {server.token}"
    timings = []
    for index in range(versions):
        model_id = model_ids[index % len(model_ids)]
        parts = _multipart(
            {"custom.py": f"# change {index}\n".encode() + FILES["custom.py"]},
            isMajorUpdate="false",
        )
        started = time.perf_counter()
        answer = session.patch(f"{server.api_url}/customModels/{model_id}/versions/", files=parts)
        timings.append(time.perf_counter() - started)
        assert answer.status_code == 201, answer.text
    _report("PATCH .../versions/ (replace 1 of 8 files)", timings)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--versions", type=int, default=300)
    parser.add_argument(
        "--in-process", action="store_true", help="serve from a thread of this process"
    )
    args = parser.parse_args()
    print(f"emulator {'in this process' if args.in_process else 'in its own process'}, 8 threads")
    with serve(args.in_process) as server:
        started = time.perf_counter()
        model_ids = seed(server, args.models)
        print(
            f"seeded {args.models} models with one 8-file version each in {time.perf_counter() - started:.1f} s"
        )
        bench_pages(server, args.pages, args.models)
        bench_version_creates(server, model_ids, args.versions)
        bench_pages(server, args.pages, args.models)  # again, after the versions changed


if __name__ == "__main__":
    main()
