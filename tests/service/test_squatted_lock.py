"""Another DataRobot user squatting the namespace lock (issue 15), on the emulator with a
second user's token (``alice-token``, seeded for alice@example.com)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from controller.errors import LockError
from controller.model.identity import lock_upid
from controller.remote import DataRobotClient
from controller.service import Holder, LeaseRecord, NamespaceLock
from controller.service.datarobot_leases import DataRobotLeaseStore
from controller.settings import ApiSettings
from emulator.server import EmulatorServer
from tests.fixtures.emulator import EmulatorApi
from tests.fixtures.workspace import Workspace

NAMESPACE = "team-a/models"
ALICE_TOKEN = "alice-token"  # the emulator's seeded second user


def _record(ttl: float) -> str:
    holder = Holder(host="squatter", pid=1, instance_id="forever")
    return LeaseRecord(NAMESPACE, holder, 1000.0, 1000.0, ttl, "squat").to_json()


@pytest.fixture
def client(emulator: EmulatorServer) -> Iterator[DataRobotClient]:
    with DataRobotClient(ApiSettings(endpoint=emulator.api_url, token=emulator.token)) as made:
        yield made


def _squat(emulator: EmulatorServer, *, ttl: float = 60.0) -> dict[str, object]:
    """Alice makes the namespace's lock model, privately (the controller cannot see it)."""
    return EmulatorApi(emulator, ALICE_TOKEN).create_model(
        name=f"dr-gitops lock: {NAMESPACE}",
        targetType="Unstructured",
        targetName=None,
        userProvidedId=lock_upid(NAMESPACE),
        description=_record(ttl),
    )


def test_a_lock_made_privately_by_another_user_is_reported_not_waited_for(
    emulator: EmulatorServer, client: DataRobotClient
) -> None:
    _squat(emulator)
    lock = NamespaceLock(DataRobotLeaseStore(client, NAMESPACE), namespace=NAMESPACE)
    started = time.monotonic()
    with pytest.raises(LockError) as caught:
        lock.acquire(wait=True, timeout=30)
    assert time.monotonic() - started < 10  # told at once, not after the timeout
    message = str(caught.value)
    assert "cannot see it" in message
    assert lock_upid(NAMESPACE) in message
    assert "administrator" in message
    assert not lock.held


def test_a_lock_made_by_another_user_and_shared_is_refused_naming_its_creator(
    emulator: EmulatorServer, client: DataRobotClient
) -> None:
    squat = _squat(emulator)
    shared = EmulatorApi(emulator, ALICE_TOKEN).patch(
        f"customModels/{squat['id']}/accessControl/",
        json={"data": [{"username": "gitops-bot@example.com", "role": "OWNER"}]},
    )
    assert shared.status_code == 204, shared.text
    lock = NamespaceLock(DataRobotLeaseStore(client, NAMESPACE), namespace=NAMESPACE)
    with pytest.raises(LockError) as caught:
        lock.acquire(wait=True, timeout=30)
    message = str(caught.value)
    assert "created by 'alice@example.com'" in message
    assert "--trusted-creator alice@example.com" in message
    # ... unless the settings trust that user: then it is an ordinary lock, waited for.
    trusted = DataRobotLeaseStore(client, NAMESPACE, trusted_creators=("Alice@example.com",))
    assert trusted.read() is not None
    assert not NamespaceLock(trusted, namespace=NAMESPACE).try_acquire()


def test_a_record_claiming_an_endless_ttl_goes_stale_after_the_local_one(
    emulator_api: EmulatorApi, client: DataRobotClient
) -> None:
    # Made by the controller's own user (or a trusted one), but with a TTL of 1e18 s.
    emulator_api.create_model(
        name=f"dr-gitops lock: {NAMESPACE}",
        targetType="Unstructured",
        targetName=None,
        userProvidedId=lock_upid(NAMESPACE),
        description=_record(1e18),
    )
    clock = [0.0]
    lock = NamespaceLock(
        DataRobotLeaseStore(client, NAMESPACE), namespace=NAMESPACE, ttl_seconds=10,
        monotonic=lambda: clock[0],
    )  # fmt: skip
    assert not lock.try_acquire()  # first sighting
    clock[0] += 11  # unchanged for longer than our TTL
    assert lock.try_acquire()
    lock.release()


def test_apply_with_a_squatted_lock_exits_1_saying_what_to_do_and_writes_nothing(
    workspace: Workspace,
) -> None:
    EmulatorApi(workspace.emulator, ALICE_TOKEN).create_model(
        name="dr-gitops lock: test/workspace",
        targetType="Unstructured",
        targetName=None,
        userProvidedId=lock_upid("test/workspace"),
    )
    workspace.add_model("churn")
    workspace.commit()
    writes = workspace.writes()
    result = workspace.cli("apply", "--repo", str(workspace.repo.path), "--lock-timeout", "60")
    assert result.code == 1
    assert "cannot see it" in result.err
    assert "Traceback" not in result.err
    assert workspace.writes() == writes
