"""Benchmark: how many slow clients it takes to fail a liveness probe of ``serve`` (issue 15).

Starts the real ``serve()`` (a trivial run function, no DataRobot) in its own process, then,
for a growing number N, opens N connections to the service's listener that send half a
request and then nothing (slowloris-style half-open connections), and probes ``/healthz``
as Kubernetes does by default: up to three attempts (``failureThreshold: 3``), each with a
1 s timeout (``timeoutSeconds: 1``). It prints, per N, whether the probe survived and how
long the answer took, then the smallest N that failed it.

The probe goes to ``--probe-listen`` when the code has it (``--probe-port-mode separate``,
the default when available) or to the main listener (``same``). Run it on older code to get
the "before" figure (it detects which settings the code knows):

    .venv/bin/python bench/bench_probe_flood.py [--steps 25,50,...] [--probe-port-mode same]
    PYTHONPATH=/path/to/old/checkout .venv/bin/python bench/bench_probe_flood.py

Loopback only. Each step closes its connections and waits for the server to drop them.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

SERVER = r"""
import json, sys, threading, dataclasses
from controller.service import serve
from controller.service.runs import RunOutcome, ActionCounts
from controller.settings import ServiceSettings
known = {f.name for f in dataclasses.fields(ServiceSettings)}
values = {k: v for k, v in json.loads(sys.argv[1]).items() if k in known}
settings = ServiceSettings(**values)
def run(request):
    return RunOutcome(result="success", revision="0" * 40, counts=ActionCounts())
sys.exit(serve(settings, run, lock=None))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def probe(port: int, *, attempts: int = 3, timeout: float = 1.0) -> float | None:
    """Seconds until ``/healthz`` answered 200 (across attempts), or None if all failed."""
    began = time.monotonic()
    for _ in range(attempts):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
                sock.settimeout(timeout)
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n")
                answer = sock.recv(64)
            if answer.startswith(b"HTTP/1.1 200"):
                return time.monotonic() - began
        except OSError:
            pass
    return None


def flood(port: int, count: int) -> list[socket.socket]:
    """``count`` connections that each send half a request line and then nothing."""
    held = []
    for _ in range(count):
        sock = socket.socket()
        sock.setblocking(False)
        try:
            sock.connect_ex(("127.0.0.1", port))
            held.append(sock)
        except OSError:
            sock.close()
            break
    time.sleep(0.2)
    for sock in held:
        with contextlib.suppress(
            OSError
        ):  # not accepted yet: it waits in the backlog, which is the point
            sock.send(b"POST /webhooks/github HTTP/1.1\r\nHost: x\r\n")
    time.sleep(0.3)
    return held


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", default="25,50,75,99,100,120,200,400,800")
    parser.add_argument("--probe-port-mode", choices=["auto", "same", "separate"], default="auto")
    args = parser.parse_args()

    import controller
    from controller.settings import ServiceSettings

    known = {f.name for f in dataclasses.fields(ServiceSettings)}
    separate = "probe_port" in known and args.probe_port_mode != "same"
    main_port, probe_port = free_port(), free_port()
    settings: dict[str, object] = {
        "listen_host": "127.0.0.1",
        "listen_port": main_port,
        "interval_seconds": 3600.0,
        "jitter_seconds": 0.0,
    }
    if separate:
        settings.update(probe_host="127.0.0.1", probe_port=probe_port)
    target = probe_port if separate else main_port
    print(f"code under test: {Path(controller.__file__).parent}")
    limits = {k: ServiceSettings.__dataclass_fields__[k].default for k in known if "http" in k}
    print(f"server settings: {limits}; probes on the {'probe' if separate else 'main'} listener")
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, json.dumps(settings)],
        stderr=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    try:
        deadline = time.monotonic() + 20
        while probe(target, attempts=1) is None:
            if time.monotonic() > deadline:
                print("the service did not start")
                return 1
            time.sleep(0.1)
        first_failure = None
        print(f"{'slow clients':>12}  {'probe':>8}  answered in")
        for count in (int(n) for n in args.steps.split(",")):
            held = flood(main_port, count)
            took = probe(target)
            for sock in held:
                sock.close()
            shown = "failed" if took is None else "ok"
            print(f"{count:>12}  {shown:>8}  {'-' if took is None else f'{took * 1000:.0f} ms'}")
            if took is None and first_failure is None:
                first_failure = count
            # Let the server drop the closed connections (and, when it stopped accepting,
            # take the closed ones out of its backlog) before the next step.
            settle = time.monotonic() + 30
            while probe(target, attempts=1) is None and time.monotonic() < settle:
                time.sleep(0.5)
        verdict = f"{first_failure}" if first_failure else f"none up to {args.steps.split(',')[-1]}"
        print(f"smallest flood that failed the probe: {verdict}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
