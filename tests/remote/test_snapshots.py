"""The live snapshot: every model and job in one paginated pass each; sharing on demand."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from controller.model.live import LiveGrant, LiveSnapshot
from controller.model.plans import GrantChange
from controller.remote import (
    DataRobotClient,
    RequestCounter,
    apierrors,
    pages,
    read_sharing,
    read_snapshot,
    with_sharing,
)
from controller.settings import ApiSettings
from emulator.server import EmulatorServer
from tests.fixtures.remote import (
    ENVIRONMENT_ID,
    fast_settings,
    model_fields,
    set_faults,
    write_files,
)


@pytest.fixture
def populated(dr_client: DataRobotClient, tmp_path: Any) -> dict[str, list[str]]:
    files = write_files(tmp_path, {"custom.py": "x = 1\n"})
    models = []
    for index in range(12):
        model = dr_client.create_model(model_fields(f"m{index:02d}"))
        if index % 2 == 0:
            dr_client.create_version(
                model.id, files=files, settings={"baseEnvironmentId": ENVIRONMENT_ID}
            )
        models.append(model.id)
    jobs = [dr_client.create_job({"name": f"j{i}", "jobType": "default"}).id for i in range(5)]
    return {"models": models, "jobs": jobs}


def test_a_snapshot_reads_each_list_once_per_page_and_nothing_per_model(
    dr_client: DataRobotClient, request_counter: RequestCounter, populated: dict[str, list[str]]
) -> None:
    request_counter.reset()
    snapshot = read_snapshot(dr_client, page_size=5)
    assert sorted(m.id for m in snapshot.models) == sorted(populated["models"])
    assert sorted(j.id for j in snapshot.jobs) == sorted(populated["jobs"])
    assert snapshot.controller_user == "gitops-bot@example.com"
    with_versions = [m for m in snapshot.models if m.latest_version is not None]
    assert len(with_versions) == 6
    assert all(m.latest_version.items for m in with_versions)  # type: ignore[union-attr]
    tally = request_counter.snapshot()
    assert tally.by_route() == {
        "GET /api/v2/account/info/": 1,
        "GET /api/v2/customJobs/": math.ceil(5 / 5),
        "GET /api/v2/customModels/": math.ceil(12 / 5),
    }
    assert snapshot.model_sharing == {}
    assert snapshot.job_sharing == {}


def test_a_snapshot_may_skip_jobs(
    dr_client: DataRobotClient, request_counter: RequestCounter, populated: dict[str, list[str]]
) -> None:
    request_counter.reset()
    snapshot = read_snapshot(dr_client, read_jobs=False)
    assert snapshot.jobs == ()
    assert len(snapshot.models) == 12
    assert request_counter.snapshot().count(route="/api/v2/customJobs/") == 0


def test_a_snapshot_read_through_random_read_faults_is_the_same_snapshot(
    emulator: EmulatorServer, dr_client: DataRobotClient, populated: dict[str, list[str]]
) -> None:
    clean = read_snapshot(dr_client, page_size=4)
    set_faults(
        emulator,
        rate=0.3,
        statuses=[429, 502, 503, 504],
        retryAfter=0,
        dropConnection=0.1,
        seed=11,
        methods=["GET"],
    )
    with DataRobotClient(fast_settings(emulator, max_retries=8)) as client:
        assert read_snapshot(client, page_size=4) == clean


def test_sharing_is_read_only_for_the_objects_asked_for(
    dr_client: DataRobotClient, request_counter: RequestCounter, populated: dict[str, list[str]]
) -> None:
    first_model, first_job = populated["models"][0], populated["jobs"][0]
    dr_client.update_model_access(
        first_model, [GrantChange("user", "alice@example.com", None, "USER")]
    )
    request_counter.reset()
    model_sharing, job_sharing = read_sharing(
        dr_client, [first_model, populated["models"][1]], [first_job]
    )
    assert set(model_sharing) == {first_model, populated["models"][1]}
    assert {g.name for g in model_sharing[first_model]} == {
        "gitops-bot@example.com",
        "alice@example.com",
    }
    assert set(job_sharing) == {first_job}
    assert request_counter.total == 3
    snapshot = with_sharing(LiveSnapshot(), model_sharing, job_sharing)
    assert isinstance(snapshot.model_sharing[first_model][0], LiveGrant)


def test_nothing_to_share_reads_nothing(
    dr_client: DataRobotClient, request_counter: RequestCounter
) -> None:
    assert read_sharing(dr_client, [], []) == ({}, {})
    assert request_counter.total == 0


class TrackingSession(requests.Session):
    """Counts requests in flight at once."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self.in_flight = 0
        self.most = 0
        self.urls: list[str] = []

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        with self._lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
            self.urls.append(str(args[1] if len(args) > 1 else kwargs.get("url")))
        try:
            return super().request(*args, **kwargs)
        finally:
            with self._lock:
                self.in_flight -= 1


@pytest.fixture
def tracked(emulator: EmulatorServer) -> Iterator[tuple[DataRobotClient, TrackingSession]]:
    settings: ApiSettings = fast_settings(emulator)
    session = TrackingSession()  # the client gives it the token
    with DataRobotClient(settings, session=session) as client:
        yield client, session


@pytest.mark.parametrize("concurrency", [1, 3])
def test_sharing_reads_run_side_by_side_up_to_the_bound(
    emulator: EmulatorServer,
    tracked: tuple[DataRobotClient, TrackingSession],
    populated: dict[str, list[str]],
    concurrency: int,
) -> None:
    client, session = tracked
    set_faults(emulator, latencyMs=40)
    model_sharing, job_sharing = read_sharing(
        client, populated["models"], populated["jobs"], concurrency=concurrency
    )
    assert len(model_sharing) == 12
    assert len(job_sharing) == 5
    assert session.most == concurrency


def test_a_failed_sharing_read_is_raised(
    dr_client: DataRobotClient, populated: dict[str, list[str]]
) -> None:
    with pytest.raises(apierrors.NotFoundError):
        read_sharing(dr_client, [*populated["models"], "0" * 24], [], concurrency=4)


def test_once_the_first_page_gives_the_total_the_other_pages_are_read_side_by_side(
    emulator: EmulatorServer,
    tracked: tuple[DataRobotClient, TrackingSession],
    populated: dict[str, list[str]],
) -> None:
    client, session = tracked
    clean = read_snapshot(client, read_jobs=False, page_size=2)
    set_faults(emulator, latencyMs=40)
    session.most, session.urls = 0, []
    assert read_snapshot(client, read_jobs=False, page_size=2) == clean
    assert sorted(m.id for m in clean.models) == sorted(populated["models"])
    assert len([u for u in session.urls if u.endswith("/customModels/")]) == 12 // 2
    # the first page (beside the account read), then the other five, four at a time
    assert pages.PARALLEL_PAGES <= session.most <= pages.PARALLEL_PAGES + 1


def test_a_page_memo_decodes_only_pages_whose_bytes_changed(
    dr_client: DataRobotClient, request_counter: RequestCounter, populated: dict[str, list[str]]
) -> None:
    memo = pages.PageMemo()
    client = DataRobotClient(dr_client.settings, page_memo=memo)
    first = client.list_models(page_size=5)
    assert (memo.hits, memo.misses) == (0, 3)
    memo.next_tick()
    request_counter.reset()
    again = client.list_models(page_size=5)
    assert again == first
    assert all(a is b for a, b in zip(again, first, strict=True))  # the same objects
    assert (memo.hits, memo.misses) == (3, 3)

    changed = first[7]
    dr_client.update_model(changed.id, {"description": "by hand"})
    memo.next_tick()
    third = client.list_models(page_size=5)
    assert memo.misses == 4  # only the page holding the changed model is decoded
    (now,) = [m for m in third if m.id == changed.id]
    assert now.fields["description"] == "by hand"
    before = {m.id: m for m in first}
    assert sum(m is before[m.id] for m in third) == 12 - 5  # one page of 5 decoded anew

    memo.next_tick()
    memo.next_tick()  # a tick that read nothing: the pages before it are forgotten
    client.list_models(page_size=5)
    assert memo.misses == 7
    client.close()
