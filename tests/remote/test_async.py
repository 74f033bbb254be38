"""Async operations: custom model tests polled to their end, and the status poller's rules."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from controller.remote import DataRobotClient, RequestCounter, apierrors
from controller.remote.poller import wait_for_status
from controller.remote.transport import Transport
from controller.settings import ApiSettings
from emulator.server import EmulatorServer
from tests.fixtures.remote import ENVIRONMENT_ID, model_fields, set_faults, write_files
from tests.remote.fakes import FakeSession, response

BASE = "https://dr.example.com/api/v2"
STATUS_URL = f"{BASE}/status/abc-123/"
DATASET_ID = "6600000000000000000000d1"  # seeded in the emulator (emulator/data/seed.yaml)


def test_a_model_test_is_started_polled_and_read_when_done(
    dr_client: DataRobotClient, request_counter: RequestCounter, tmp_path: Path
) -> None:
    model = dr_client.create_model(model_fields("tested"))
    files = write_files(tmp_path, {"custom.py": "x = 1\n"})
    version = dr_client.create_version(
        model.id, files=files, settings={"baseEnvironmentId": ENVIRONMENT_ID}
    )
    result = dr_client.run_model_test(model.id, version.id, dataset_id=DATASET_ID, timeout=10)
    assert result.passed
    assert result.overall_status == "succeeded"
    assert set(result.testing_status) == {
        "errorCheck",
        "nullValueImputation",
        "longRunningService",
        "sideEffects",
    }
    tally = request_counter.snapshot()
    assert tally.count("GET", "/api/v2/status/{statusId}/", 303) == 1
    assert tally.count("GET", "/api/v2/customModelTests/{customModelTestId}/", 200) == 1


def test_a_failing_model_test_is_an_operation_failure_with_the_servers_message(
    dr_client: DataRobotClient,
) -> None:
    model = dr_client.create_model(model_fields("untestable"))
    version = dr_client.create_version(
        model.id, files=[], settings={"baseEnvironmentId": ENVIRONMENT_ID}
    )
    with pytest.raises(apierrors.OperationFailedError) as caught:
        dr_client.run_model_test(model.id, version.id, dataset_id=DATASET_ID, timeout=10)
    assert "ERROR" in str(caught.value)
    assert "Custom model testing failed" in str(caught.value)


def test_status_polls_survive_injected_faults(
    emulator: EmulatorServer, dr_client: DataRobotClient, tmp_path: Path
) -> None:
    model = dr_client.create_model(model_fields("flaky"))
    files = write_files(tmp_path, {"custom.py": "x = 1\n"})
    version = dr_client.create_version(
        model.id, files=files, settings={"baseEnvironmentId": ENVIRONMENT_ID}
    )
    set_faults(
        emulator,
        script=[
            {"method": "GET", "route": "/api/v2/status/{statusId}/", "status": 503, "times": 2},
            {"method": "GET", "route": "/api/v2/status/{statusId}/", "dropConnection": True},
        ],
    )
    assert dr_client.run_model_test(model.id, version.id, dataset_id=DATASET_ID, timeout=10).passed


def _poller(*steps: Any) -> tuple[Transport, list[float]]:
    sleeps: list[float] = []
    http = Transport(
        ApiSettings(endpoint=BASE, token="poll-token-1234"),
        session=FakeSession.of(*steps),  # type: ignore[arg-type]
        sleep=sleeps.append,
    )
    return http, sleeps


def test_the_poller_waits_while_running_and_returns_the_303_location() -> None:
    done = f"{BASE}/customModelTests/t1/"
    http, sleeps = _poller(
        response(200, {"status": "INITIALIZED"}),
        response(200, {"status": "RUNNING"}),
        response(303, {"status": "COMPLETED"}, headers={"Location": done}),
    )
    assert wait_for_status(http, STATUS_URL, timeout=30, sleep=sleeps.append) == done
    assert sleeps == [0.1, pytest.approx(0.15)]
    assert all(kwargs["allow_redirects"] is False for _, _, kwargs in http.session.sent)  # type: ignore[attr-defined]


@pytest.mark.parametrize("state", ["ERROR", "ABORTED"])
def test_the_poller_raises_when_the_operation_failed(state: str) -> None:
    http, sleeps = _poller(response(200, {"status": state, "message": "image build failed"}))
    with pytest.raises(apierrors.OperationFailedError, match="image build failed"):
        wait_for_status(http, STATUS_URL, timeout=30, sleep=sleeps.append)


def test_the_poller_gives_up_at_its_deadline() -> None:
    http, _ = _poller(*[response(200, {"status": "RUNNING"})] * 50)
    with pytest.raises(apierrors.OperationFailedError, match="still RUNNING"):
        wait_for_status(http, STATUS_URL, timeout=0.05, sleep=time.sleep)


def test_a_status_without_status_is_unexpected() -> None:
    http, sleeps = _poller(response(200, {"hello": "world"}))
    with pytest.raises(apierrors.UnexpectedResponseError):
        wait_for_status(http, STATUS_URL, timeout=30, sleep=sleeps.append)
