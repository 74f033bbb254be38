"""Faults injected by the emulator over real HTTP: what is retried, what is not, what it costs.

The central promise: a write is never resent when the server may have acted. A 503 *after*
a create raises ``OutcomeUnknownError`` and a re-read finds exactly one object.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import pytest

from controller.model.plans import GrantChange
from controller.remote import DataRobotClient, RequestCounter, apierrors
from controller.settings import ApiSettings
from emulator.server import EmulatorServer
from tests.fixtures.remote import (
    ENVIRONMENT_ID,
    emulator_stats,
    fast_settings,
    model_fields,
    set_faults,
    write_files,
)

MODELS = "/api/v2/customModels/"


def _rule(method: str, route: str, **fault: object) -> dict[str, object]:
    return {"method": method, "route": route, "times": 1, **fault}


def test_get_answered_429_waits_retry_after_then_succeeds(
    emulator: EmulatorServer, dr_client: DataRobotClient, request_counter: RequestCounter
) -> None:
    set_faults(emulator, script=[_rule("GET", MODELS, status=429, retryAfter=1)])
    started = time.monotonic()
    assert dr_client.list_models() == []
    assert time.monotonic() - started >= 1.0  # Retry-After: 1 was honoured
    assert request_counter.snapshot().by_outcome() == {"200": 1, "429": 1}


def test_get_answered_503_with_retry_after_waits_as_asked(
    emulator: EmulatorServer, dr_client: DataRobotClient, request_counter: RequestCounter
) -> None:
    # Load balancers send Retry-After with 503 too; without it the first resend is quick.
    set_faults(emulator, script=[_rule("GET", MODELS, status=503, retryAfter=1)])
    started = time.monotonic()
    assert dr_client.list_models() == []
    assert time.monotonic() - started >= 1.0
    assert request_counter.snapshot().by_outcome() == {"200": 1, "503": 1}


def test_post_answered_429_is_resent_and_creates_once(
    emulator: EmulatorServer, dr_client: DataRobotClient
) -> None:
    set_faults(emulator, script=[_rule("POST", MODELS, status=429, retryAfter=1)])
    created = dr_client.create_model(model_fields("rate-limited"))
    assert [m.id for m in dr_client.list_models()] == [created.id]
    assert emulator_stats(emulator)["routes"][f"POST {MODELS}"]["statuses"] == {"429": 1, "201": 1}


def test_503_after_a_create_is_outcome_unknown_and_a_reread_finds_exactly_one(
    emulator: EmulatorServer, dr_client: DataRobotClient
) -> None:
    set_faults(emulator, script=[_rule("POST", MODELS, status=503, when="after")])
    with pytest.raises(apierrors.OutcomeUnknownError) as caught:
        dr_client.create_model(model_fields("born-twice"))
    assert caught.value.status == 503
    assert caught.value.attempts == 1
    models = dr_client.list_models()
    assert [m.user_provided_id for m in models] == ["tests/born-twice"]
    assert emulator_stats(emulator)["routes"][f"POST {MODELS}"]["count"] == 1


def test_503_before_a_create_is_outcome_unknown_and_a_reread_finds_none(
    emulator: EmulatorServer, dr_client: DataRobotClient
) -> None:
    set_faults(emulator, script=[_rule("POST", MODELS, status=503, when="before")])
    with pytest.raises(apierrors.OutcomeUnknownError):
        dr_client.create_model(model_fields("never-made"))
    assert dr_client.list_models() == []


@pytest.mark.parametrize("mode", ["close", "reset"])
def test_a_dropped_connection_after_a_create_is_outcome_unknown(
    emulator: EmulatorServer, dr_client: DataRobotClient, mode: str
) -> None:
    set_faults(emulator, script=[_rule("POST", MODELS, dropConnection=mode, when="after")])
    with pytest.raises(apierrors.OutcomeUnknownError) as caught:
        dr_client.create_model(model_fields("dropped"))
    assert caught.value.status is None
    assert len(dr_client.list_models()) == 1


def test_a_version_create_answered_503_after_the_write_makes_one_version(
    emulator: EmulatorServer, dr_client: DataRobotClient
) -> None:
    model = dr_client.create_model(model_fields("versioned"))
    route = f"{MODELS}{{customModelId}}/versions/"
    set_faults(emulator, script=[_rule("PATCH", route, status=503, when="after")])
    with pytest.raises(apierrors.OutcomeUnknownError):
        dr_client.create_version_with_settings(
            model.id, settings={"baseEnvironmentId": "64d2ba178dd3f0b1fa2162f0", "replicas": 2}
        )
    assert len(dr_client.list_versions(model.id)) == 1


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("status", [502, 503, 504])
def test_gets_are_retried_on_gateway_errors(
    emulator: EmulatorServer, dr_client: DataRobotClient, when: str, status: int
) -> None:
    set_faults(emulator, script=[_rule("GET", MODELS, status=status, when=when, times=2)])
    assert dr_client.list_models() == []
    assert emulator_stats(emulator)["routes"][f"GET {MODELS}"]["count"] == 3


@pytest.mark.parametrize("mode", ["close", "reset"])
def test_gets_are_retried_on_dropped_connections(
    emulator: EmulatorServer, dr_client: DataRobotClient, request_counter: RequestCounter, mode: str
) -> None:
    set_faults(emulator, script=[_rule("GET", MODELS, dropConnection=mode, times=2)])
    assert dr_client.list_models() == []
    assert request_counter.snapshot().by_outcome() == {"200": 1, "connection_dropped": 2}


def test_a_get_failing_every_time_gives_up_after_the_retry_count(
    emulator: EmulatorServer, dr_client: DataRobotClient
) -> None:
    set_faults(emulator, script=[_rule("GET", MODELS, status=503, times=50)])
    with pytest.raises(apierrors.ServerError) as caught:
        dr_client.list_models()
    assert caught.value.attempts == dr_client.settings.max_retries + 1


def test_a_deletion_whose_answer_was_lost_is_done_once_retried(
    emulator: EmulatorServer, dr_client: DataRobotClient
) -> None:
    model = dr_client.create_model(model_fields("deleted"))
    route = f"{MODELS}{{customModelId}}/"
    set_faults(emulator, script=[_rule("DELETE", route, status=503, when="after")])
    dr_client.delete_model(model.id)  # the resend answers 404: the first attempt did it
    assert dr_client.list_models() == []


def test_a_model_update_answered_503_after_the_write_is_resent_safely(
    emulator: EmulatorServer, dr_client: DataRobotClient
) -> None:
    model = dr_client.create_model(model_fields("patched"))
    route = f"{MODELS}{{customModelId}}/"
    set_faults(emulator, script=[_rule("PATCH", route, status=503, when="after")])
    updated = dr_client.update_model(model.id, {"description": "new words"})
    assert updated.fields["description"] == "new words"


def test_latency_beyond_the_read_timeout_retries_reads_and_fails_writes(
    emulator: EmulatorServer,
) -> None:
    settings = fast_settings(emulator, read_timeout=0.3)
    with DataRobotClient(settings) as client:
        set_faults(emulator, script=[_rule("GET", MODELS, latencyMs=800)])
        assert client.list_models() == []
        set_faults(emulator, script=[_rule("POST", MODELS, latencyMs=800)])
        with pytest.raises(apierrors.OutcomeUnknownError, match="read timeout"):
            client.create_model(model_fields("slow"))
    with DataRobotClient(fast_settings(emulator)) as client:
        deadline = time.monotonic() + 5
        while not client.list_models() and time.monotonic() < deadline:
            time.sleep(0.05)  # the slow create is still running inside the emulator
        assert len(client.list_models()) == 1  # made once, though the client never heard


def test_random_latency_only_slows_things_down(
    emulator: EmulatorServer, dr_client: DataRobotClient, request_counter: RequestCounter
) -> None:
    set_faults(emulator, latencyMs=100, rate=0.0)
    started = time.monotonic()
    dr_client.create_model(model_fields("patient"))
    assert len(dr_client.list_models()) == 1
    assert time.monotonic() - started >= 0.2
    assert request_counter.total == 2


def test_a_server_that_is_not_there_is_a_connection_error_naming_the_endpoint() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = ApiSettings(
        endpoint=f"http://127.0.0.1:{port}/api/v2",
        token="emulator-token",
        max_retries=1,
        backoff_factor=0.01,
        backoff_jitter=0.0,
    )
    counter = RequestCounter()
    with DataRobotClient(settings, on_request=counter) as client:
        with pytest.raises(apierrors.ApiConnectionError, match="DATAROBOT_ENDPOINT") as caught:
            client.list_models()
        with pytest.raises(apierrors.ApiConnectionError):
            client.create_model(model_fields("nowhere"))
    # Refused: nothing listens there, so nothing is resent (resending only delays the error).
    assert caught.value.attempts == 1
    assert counter.snapshot().by_outcome() == {"connect_error": 2}


def test_random_faults_at_a_high_rate_never_duplicate_a_create(
    emulator: EmulatorServer, dr_client: DataRobotClient
) -> None:
    # 429 is left out: the emulator can answer it "after" acting, which real rate
    # limiters do not (they reject first), and the client resends POSTs on 429.
    set_faults(
        emulator,
        rate=0.5,
        statuses=[500, 502, 503, 504],
        retryAfter=0,
        when="both",
        dropConnection=0.1,
        seed=7,
        methods=["POST"],
    )
    for index in range(8):
        key = f"tests/m{index}"
        for _ in range(20):  # what the engine does: re-read before trying again
            try:
                dr_client.create_model(model_fields(f"m{index}"))
                break
            except apierrors.OutcomeUnknownError:
                if any(m.user_provided_id == key for m in dr_client.list_models()):
                    break
    ids = [m.user_provided_id for m in dr_client.list_models()]
    assert sorted(ids) == sorted(f"tests/m{i}" for i in range(8))


# --- every other call the engine makes, under a 503 after the write (or before a read) ----

JOB_ROUTE = "/api/v2/customJobs/{customJobId}/"
VERSION_ROUTE = "/api/v2/customModels/{customModelId}/versions/{customModelVersionId}/"
ACCESS_ROUTE = "/api/v2/customModels/{customModelId}/accessControl/"
ROLES_ROUTE = "/api/v2/customJobs/{customJobId}/sharedRoles/"
ITEM_ROUTE = "/api/v2/customJobs/{customJobId}/items/{itemId}/"


def _job(client: DataRobotClient, tmp_path: Path) -> Any:
    files = write_files(tmp_path, {"run.sh": "#!/bin/sh\necho hi\n"})
    return client.create_job({"name": "faulty", "jobType": "default"}, files=files)


def test_a_job_update_answered_503_after_the_write_is_unknown_and_landed_once(
    emulator: EmulatorServer, dr_client: DataRobotClient, tmp_path: Path
) -> None:
    job = _job(dr_client, tmp_path)
    set_faults(emulator, script=[_rule("PATCH", JOB_ROUTE, status=503, when="after")])
    with pytest.raises(apierrors.OutcomeUnknownError):
        dr_client.update_job(job.id, {"description": "after the fault"})
    assert dr_client.get_job(job.id).fields["description"] == "after the fault"
    assert emulator_stats(emulator)["routes"][f"PATCH {JOB_ROUTE}"]["statuses"] == {"503": 1}


def test_a_job_deletion_whose_answer_was_lost_is_done_once_retried(
    emulator: EmulatorServer, dr_client: DataRobotClient, tmp_path: Path
) -> None:
    job = _job(dr_client, tmp_path)
    set_faults(emulator, script=[_rule("DELETE", JOB_ROUTE, status=503, when="after")])
    dr_client.delete_job(job.id)  # the resend answers 404: the first attempt did it
    assert dr_client.list_jobs() == []


def test_a_job_item_read_is_retried_through_a_503(
    emulator: EmulatorServer, dr_client: DataRobotClient, tmp_path: Path
) -> None:
    job = _job(dr_client, tmp_path)
    (item,) = job.items
    set_faults(emulator, script=[_rule("GET", ITEM_ROUTE, status=503)])
    assert dr_client.get_job_item(job.id, item.id).content == "#!/bin/sh\necho hi\n"


def test_version_metadata_answered_503_after_the_write_is_resent_safely(
    emulator: EmulatorServer, dr_client: DataRobotClient, tmp_path: Path
) -> None:
    model = dr_client.create_model(model_fields("metadata"))
    files = write_files(tmp_path, {"custom.py": "x = 1\n"})
    version = dr_client.create_version(
        model.id, files=files, settings={"baseEnvironmentId": ENVIRONMENT_ID}
    )
    set_faults(emulator, script=[_rule("PATCH", VERSION_ROUTE, status=503, when="after")])
    updated = dr_client.update_version_metadata(model.id, version.id, description="refreshed")
    assert updated.description == "refreshed"
    assert [v.id for v in dr_client.list_versions(model.id)] == [version.id]  # no new version


@pytest.mark.parametrize("kind", ["model", "job"])
def test_sharing_answered_503_after_the_write_is_unknown_and_landed_once(
    emulator: EmulatorServer, dr_client: DataRobotClient, tmp_path: Path, kind: str
) -> None:
    grant = GrantChange("user", "alice@example.com", None, "USER")
    if kind == "model":
        target = dr_client.create_model(model_fields("shared")).id
        route, update, read = (
            ACCESS_ROUTE,
            dr_client.update_model_access,
            dr_client.get_model_access,
        )
    else:
        target = _job(dr_client, tmp_path).id
        route, update, read = ROLES_ROUTE, dr_client.update_job_roles, dr_client.get_job_roles
    set_faults(emulator, script=[_rule("PATCH", route, status=503, when="after")])
    with pytest.raises(apierrors.OutcomeUnknownError):
        update(target, [grant])
    roles = {g.name: g.role for g in read(target)}
    assert roles["alice@example.com"] == "USER"  # the engine re-reads, then resends if needed
    update(target, [grant])  # setting the same role again is harmless
    assert {g.name: g.role for g in read(target)} == roles
