"""``DataRobotLeaseStore``: the namespace lease as a custom model, against the emulator."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from controller.errors import LockError
from controller.model.identity import lock_upid
from controller.remote import DataRobotClient
from controller.service import Holder, LeaseRecord, NamespaceLock
from controller.service.datarobot_leases import DataRobotLeaseStore
from controller.service.leases import LeaseStoreUnavailable
from controller.settings import ApiSettings
from emulator.server import EmulatorServer
from tests.fixtures.emulator import EmulatorApi
from tests.fixtures.workspace import Workspace

NAMESPACE = "team-a/models"
MODELS = "/api/v2/customModels/"


def record(lease_id: str, *, at: float = 1000.0, pid: int = 1) -> LeaseRecord:
    holder = Holder(host="host-a", pid=pid, instance_id=f"i-{lease_id}")
    return LeaseRecord(NAMESPACE, holder, at, at, 60.0, lease_id)


@pytest.fixture
def client(emulator: EmulatorServer) -> Iterator[DataRobotClient]:
    with DataRobotClient(ApiSettings(endpoint=emulator.api_url, token=emulator.token)) as made:
        yield made


@pytest.fixture
def store(client: DataRobotClient) -> DataRobotLeaseStore:
    return DataRobotLeaseStore(client, NAMESPACE)


def test_the_lease_is_an_unstructured_model_holding_the_record(
    store: DataRobotLeaseStore, emulator_api: EmulatorApi
) -> None:
    token = store.create_if_absent(record("a"))
    assert token is not None
    model = emulator_api.get(f"customModels/{token}/").json()
    assert model["name"] == f"dr-gitops lock: {NAMESPACE}"
    assert model["userProvidedId"] == lock_upid(NAMESPACE) == f"{NAMESPACE}/.dr-gitops-lock"
    assert model["targetType"] == "Unstructured"
    assert model["latestVersion"] is None
    assert LeaseRecord.from_json(model["description"]) == record("a")
    assert store.read() == (record("a"), token)


def test_only_one_of_many_simultaneous_creates_wins(emulator: EmulatorServer) -> None:
    settings = ApiSettings(endpoint=emulator.api_url, token=emulator.token)
    contenders = 8
    start = threading.Barrier(contenders)

    def contend(index: int) -> str | None:
        with DataRobotClient(settings) as own:
            mine = DataRobotLeaseStore(own, NAMESPACE)
            start.wait()
            return mine.create_if_absent(record(f"c{index}"))

    with ThreadPoolExecutor(contenders) as pool:
        tokens = list(pool.map(contend, range(contenders)))
    winners = [(i, t) for i, t in enumerate(tokens) if t is not None]
    assert len(winners) == 1
    ((index, token),) = winners
    with DataRobotClient(settings) as own:
        assert DataRobotLeaseStore(own, NAMESPACE).read() == (record(f"c{index}"), token)
    locks = [m for m in emulator.state()["models"] if m["userProvidedId"] == lock_upid(NAMESPACE)]
    assert len(locks) == 1


def test_refresh_and_delete_act_only_on_the_lease_they_name(store: DataRobotLeaseStore) -> None:
    old = store.create_if_absent(record("old"))
    assert old is not None
    assert store.refresh(record("old").renewed(2000.0), old)
    assert store.read() == (record("old").renewed(2000.0), old)

    assert store.delete(old)  # taken over: deleted and created again
    new = store.create_if_absent(record("new"))
    assert new is not None
    assert new != old

    assert not store.refresh(record("old").renewed(3000.0), old)  # the old holder learns
    assert not store.delete(old)
    assert store.read() == (record("new"), new)
    assert store.delete(new)
    assert store.read() is None


def test_a_create_whose_answer_was_lost_is_resolved_by_reading_it_back(
    store: DataRobotLeaseStore, emulator: EmulatorServer
) -> None:
    emulator.set_faults(
        {"script": [{"method": "POST", "route": MODELS, "status": 503, "when": "after"}]}
    )
    token = store.create_if_absent(record("mine"))
    assert token is not None  # it did happen, and it is ours
    assert store.read() == (record("mine"), token)
    emulator.set_faults(
        {"script": [{"method": "POST", "route": MODELS, "status": 503, "when": "after"}]}
    )
    assert store.create_if_absent(record("late")) is None  # someone else's (ours above)


def test_a_create_that_did_not_happen_is_unavailable_not_free_nor_held(
    store: DataRobotLeaseStore, emulator: EmulatorServer
) -> None:
    emulator.set_faults(
        {"script": [{"method": "POST", "route": MODELS, "status": 503, "when": "before"}]}
    )
    with pytest.raises(LeaseStoreUnavailable, match="cannot create the namespace lock"):
        store.create_if_absent(record("mine"))
    assert store.read() is None


def test_a_waiting_lock_rides_out_an_unreachable_datarobot(emulator: EmulatorServer) -> None:
    impatient = ApiSettings(
        endpoint=emulator.api_url, token=emulator.token, max_retries=1, backoff_factor=0.01,
        backoff_jitter=0,
    )  # fmt: skip
    outage = {"method": "*", "route": MODELS, "status": 503, "times": 6, "retryAfter": 0}
    emulator.set_faults({"script": [outage]})
    client = DataRobotClient(impatient)
    store = DataRobotLeaseStore(client, NAMESPACE)
    lock = NamespaceLock(store, namespace=NAMESPACE, ttl_seconds=5, poll_seconds=0.01)
    with pytest.raises(LeaseStoreUnavailable):
        lock.acquire(wait=False)
    assert lock.acquire(wait=True, timeout=10)
    assert lock.held
    lock.release()
    assert store.read() is None
    client.close()


def test_a_renamed_lock_model_is_still_found_by_its_user_provided_id(
    store: DataRobotLeaseStore, emulator_api: EmulatorApi
) -> None:
    token = store.create_if_absent(record("a"))
    renamed = emulator_api.patch(f"customModels/{token}/", json={"name": "someone renamed it"})
    assert renamed.status_code in (200, 201)
    assert store.read() == (record("a"), token)
    assert store.create_if_absent(record("b")) is None


def test_a_token_without_permission_to_create_models_is_told_so(
    store: DataRobotLeaseStore, emulator: EmulatorServer
) -> None:
    emulator.set_faults({"script": [{"method": "POST", "route": MODELS, "status": 403}]})
    with pytest.raises(LockError, match="permission to create custom models"):
        store.create_if_absent(record("a"))


def test_two_locks_on_datarobot_exclude_each_other_and_a_stale_one_is_taken_over(
    client: DataRobotClient,
) -> None:
    clock = [0.0]
    first = NamespaceLock(
        DataRobotLeaseStore(client, NAMESPACE), namespace=NAMESPACE, ttl_seconds=10,
        monotonic=lambda: clock[0],
    )  # fmt: skip
    second = NamespaceLock(
        DataRobotLeaseStore(client, NAMESPACE), namespace=NAMESPACE, ttl_seconds=10,
        monotonic=lambda: clock[0],
    )  # fmt: skip
    assert first.try_acquire()
    assert not second.try_acquire()
    with pytest.raises(LockError, match=f"pid {first.holder.pid}"):
        second.acquire(wait=False)
    clock[0] += 11  # first stopped heart-beating for longer than the TTL
    assert second.try_acquire()
    with pytest.raises(LockError, match="taken over"):
        first.refresh()
    second.release()


def test_the_lock_model_is_neither_planned_nor_pruned(workspace: Workspace) -> None:
    lock = NamespaceLock(
        DataRobotLeaseStore(workspace.client, "test/workspace"), namespace="test/workspace"
    )
    assert lock.try_acquire()
    workspace.add_model("churn")
    workspace.commit("churn")
    workspace.converge(prune=True)
    assert workspace.plan(prune=True).plan.is_empty
    upids = {m.user_provided_id for m in workspace.client.list_models()}
    assert lock_upid("test/workspace") in upids
    lock.release()
