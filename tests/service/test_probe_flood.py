"""A flood of half-open connections must not fail the liveness probe (issue 15): with
waitress's defaults, 98 slow clients made ``/healthz`` time out, and Kubernetes restarts a
pod whose probe times out. ``bench/bench_probe_flood.py`` has the figures."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator

import pytest

from controller.cli.configuration import flag_named, parse_listen
from controller.errors import ConfigError, SettingError
from controller.settings import ServiceSettings
from tests.fixtures.service import FakeRun, ServiceStarter, request

FLOOD = 260  # more than the main listener's connection limit (200)


@pytest.fixture
def half_open() -> Iterator[list[socket.socket]]:
    held: list[socket.socket] = []
    yield held
    for sock in held:
        sock.close()


def flood(port: int, count: int, held: list[socket.socket]) -> None:
    """``count`` loopback connections that send half a request and then nothing."""
    for _ in range(count):
        sock = socket.socket()
        sock.setblocking(False)
        sock.connect_ex(("127.0.0.1", port))
        held.append(sock)
    time.sleep(0.3)
    for sock in held:
        with contextlib.suppress(
            OSError
        ):  # still in the backlog: waitress stopped accepting, as intended
            sock.send(b"POST /webhooks/github HTTP/1.1\r\nHost: x\r\n")
    time.sleep(0.3)


def probe(port: int, path: str = "/healthz") -> int:
    """The status of one probe with Kubernetes' default 1 s timeout (0: no answer)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
            sock.settimeout(1.0)
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: p\r\nConnection: close\r\n\r\n".encode())
            return int(sock.recv(64).split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def test_probes_on_their_own_listener_answer_through_a_flood_of_the_main_one(
    start_service: ServiceStarter, half_open: list[socket.socket]
) -> None:
    running = start_service(FakeRun(), probe_port=0)
    running.wait_until_idle(1)
    probes = running.service.probe_port
    assert probes is not None
    assert probes != running.port
    flood(running.port, FLOOD, half_open)
    for _ in range(3):  # three probes in a row, as failureThreshold counts them
        assert probe(probes) == 200
        assert probe(probes, "/readyz") == 200
        time.sleep(0.2)
    # The probe listener serves the probes and /metrics only: no webhooks, no /status.
    assert request(probes, "GET", "/metrics").status == 200
    assert request(probes, "POST", "/webhooks/github", b"{}").status == 404
    assert request(probes, "GET", "/status").status == 404


def test_the_main_listener_serves_more_slow_clients_than_waitress_would(
    start_service: ServiceStarter, half_open: list[socket.socket]
) -> None:
    running = start_service(FakeRun())
    running.wait_until_idle(1)
    flood(running.port, 150, half_open)  # waitress's default limit failed the probe at 98
    assert probe(running.port) == 200


def test_idle_connections_are_dropped_after_the_channel_timeout(
    start_service: ServiceStarter, half_open: list[socket.socket]
) -> None:
    running = start_service(FakeRun(), http_connection_limit=20, http_channel_timeout_seconds=2)
    running.wait_until_idle(1)
    flood(running.port, 40, half_open)
    assert probe(running.port) == 0  # starved: the limit is real
    deadline = time.monotonic() + 10
    while probe(running.port) != 200:
        assert time.monotonic() < deadline, "idle connections were never dropped"
        time.sleep(0.5)


def test_the_limits_and_the_probe_listener_are_checked() -> None:
    with pytest.raises(SettingError) as limit:
        ServiceSettings(http_connection_limit=0)
    assert flag_named(limit.value).args[0].startswith("--connection-limit must be greater")
    with pytest.raises(SettingError) as timeout:
        ServiceSettings(http_channel_timeout_seconds=0)
    assert flag_named(timeout.value).args[0].startswith("--channel-timeout must be greater")
    with pytest.raises(ConfigError, match="--probe-listen must be HOST:PORT"):
        parse_listen("8081", flag="--probe-listen")
