"""Where each phase's peak memory goes: bench_engine's first apply and no-op plan, with
the Python heap traced and a snapshot taken near its peak, grouped by source file.

Peak RSS (``VmHWM``) is what issue 20 sets a target for, but it does not say what it is
made of. This runs the same phases as ``bench_engine.py`` (same repository, emulator in
its own process) with :mod:`tracemalloc` on, and for each phase prints the traced peak,
the files that allocated what was alive at the snapshot nearest to it (an object is
counted where it was allocated: strings a decoded snapshot keeps count under
``json/decoder.py``), and what glibc held afterwards (``VmRSS`` before and after
``malloc_trim(0)``). Tracing costs memory of its own (VmHWM here is far above an untraced
run's) and slows Python ~2x: compare the traced figures with each other only.

    .venv/bin/python bench/bench_memory.py [--models 10000] [--files 5] [--top 15]
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import os
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path
from types import TracebackType

sys.path.insert(0, str(Path(__file__).parent))
import bench_engine as be

from controller import logs

ROOT = str(Path(__file__).parents[1]) + "/"


def status_mb(name: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


class PeakSnapshot:
    """A tracemalloc snapshot taken whenever the traced size grows past the last one's by
    ``step`` (so the last is within ``step`` of the peak), from a sampling thread."""

    def __init__(self, label: str, top: int, step: float = 1.08) -> None:
        self.label, self.top, self.step = label, top, step
        self.best = 0
        self.snapshot: tracemalloc.Snapshot | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakSnapshot:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM
        tracemalloc.reset_peak()
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.3):
            current = tracemalloc.get_traced_memory()[0]
            if current > self.best * self.step:
                self.best = current
                self.snapshot = tracemalloc.take_snapshot()

    def __exit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()
        now, peak = tracemalloc.get_traced_memory()
        print(
            f"\n== {self.label}: traced peak {peak / 2**20:.0f} MB (snapshot at "
            f"{self.best / 2**20:.0f} MB, {now / 2**20:.0f} MB alive after); VmHWM "
            f"{status_mb('VmHWM'):.0f} MB with tracing"
        )
        if self.snapshot is not None:
            kept = self.snapshot.filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
            for stat in kept.statistics("filename")[: self.top]:
                name = stat.traceback[0].filename.replace(ROOT, "")
                print(f"  {stat.size / 2**20:7.1f} MB {stat.count:9,d} blocks  {name}")
        gc.collect()
        rss = status_mb("VmRSS")
        trimmed = _malloc_trim()
        print(
            f"  after the phase: VmRSS {rss:.0f} MB"
            + (f", {status_mb('VmRSS'):.0f} MB after malloc_trim(0)" if trimmed else "")
        )


def _malloc_trim() -> bool:
    """Give glibc's free memory back (what it keeps between phases); False without glibc."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=10000)
    parser.add_argument("--files", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--top", type=int, default=15, help="files shown per phase")
    args = parser.parse_args()
    logs.configure(level="warning")
    tracemalloc.start(1)
    print(
        f"{args.models} models x {args.files} files; load average {os.getloadavg()[0]:.1f}; "
        f"VmRSS after imports {status_mb('VmRSS'):.0f} MB"
    )
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp, be.serve(False) as emu:
        repo, cache = Path(tmp) / "repo", Path(tmp) / "cache"
        repo.mkdir()
        be.make_repo(repo, args.models, args.files)
        gc.collect()
        bench = be.Bench(repo, cache, emu, be.PeakMemory(False))
        try:
            with PeakSnapshot(
                "first apply (plan, rendering as the CLI writes it, apply)", args.top
            ):
                bench.run(apply=True, concurrency=args.concurrency, render=True)
            with PeakSnapshot("no-op plan", args.top):
                bench.run(apply=False)
        finally:
            bench.client.close()
    print(f"\n{time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
