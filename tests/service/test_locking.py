"""The namespace lock over a file lease store, on a fake clock unless stated."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from controller.errors import LockError
from controller.service import FileLeaseStore, Holder, LeaseRecord, LockLost, NamespaceLock
from controller.service.heartbeats import holding
from tests.service.fakeclock import Clock

NAMESPACE = "team-a/models"


def make_lock(
    directory: Path, clock: Clock, name: str, ttl: float = 10.0, namespace: str = NAMESPACE
) -> NamespaceLock:
    return NamespaceLock(
        FileLeaseStore(directory, namespace),
        namespace=namespace,
        ttl_seconds=ttl,
        holder=Holder("host", 1, name),
        monotonic=clock,
        wall=clock,
    )


def test_the_first_instance_takes_the_lock_and_a_second_does_not(tmp_path: Path) -> None:
    clock = Clock()
    first, second = make_lock(tmp_path, clock, "a"), make_lock(tmp_path, clock, "b")
    assert first.try_acquire()
    assert not second.try_acquire()
    assert first.held
    assert not second.held


def test_without_waiting_the_error_names_the_holder_and_since_when(tmp_path: Path) -> None:
    clock = Clock()
    make_lock(tmp_path, clock, "a").acquire(wait=False)
    with pytest.raises(LockError) as caught:
        make_lock(tmp_path, clock, "b").acquire(wait=False)
    message = str(caught.value)
    assert "host pid 1 (instance a)" in message
    assert "since 1970-01-01T00:16:40.000Z" in message
    assert "--no-wait" in message


def test_a_released_lock_can_be_taken_at_once(tmp_path: Path) -> None:
    clock = Clock()
    first, second = make_lock(tmp_path, clock, "a"), make_lock(tmp_path, clock, "b")
    first.acquire(wait=False)
    first.release()
    assert second.try_acquire()


def test_a_lock_kept_alive_by_heartbeats_is_never_taken_over(tmp_path: Path) -> None:
    clock = Clock()
    holder, contender = make_lock(tmp_path, clock, "a"), make_lock(tmp_path, clock, "b")
    holder.acquire(wait=False)
    for _ in range(20):
        clock.now += 4  # under the TTL of 10 between heartbeats, 80 s in all
        holder.refresh()
        assert not contender.try_acquire()


def test_a_lock_without_heartbeat_for_the_ttl_is_taken_over(tmp_path: Path) -> None:
    clock = Clock()
    crashed, contender = make_lock(tmp_path, clock, "a"), make_lock(tmp_path, clock, "b")
    crashed.acquire(wait=False)
    assert not contender.try_acquire()  # first sighting starts the contender's clock
    clock.now += 9.9
    assert not contender.try_acquire()
    clock.now += 0.2
    assert contender.try_acquire()
    with pytest.raises(LockLost, match="taken over"):
        crashed.refresh()


def test_staleness_is_judged_on_the_contenders_clock_not_the_records(tmp_path: Path) -> None:
    clock = Clock()
    holder = make_lock(tmp_path, clock, "a")
    holder.acquire(wait=False)
    clock.now += 10_000  # the record's renewed_at is now ancient by wall clock
    contender = make_lock(tmp_path, clock, "b")
    assert not contender.try_acquire()  # ... but the contender has not watched it for a TTL


def test_two_contenders_taking_over_one_stale_lease_never_both_win(tmp_path: Path) -> None:
    clock = Clock()
    make_lock(tmp_path, clock, "crashed").acquire(wait=False)
    contenders = [make_lock(tmp_path, clock, f"c{i}") for i in range(8)]
    for lock in contenders:
        lock.try_acquire()
    clock.now += 11
    barrier = threading.Barrier(len(contenders))
    won: list[str] = []

    def contend(lock: NamespaceLock) -> None:
        barrier.wait()
        if lock.try_acquire():
            won.append(lock.holder.instance_id)

    threads = [threading.Thread(target=contend, args=(lock,)) for lock in contenders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1


def test_a_release_after_a_take_over_leaves_the_new_holder_alone(tmp_path: Path) -> None:
    clock = Clock()
    old, new = make_lock(tmp_path, clock, "old"), make_lock(tmp_path, clock, "new")
    old.acquire(wait=False)
    new.try_acquire()
    clock.now += 11
    assert new.try_acquire()
    old.release()
    found = FileLeaseStore(tmp_path, NAMESPACE).read()
    assert found is not None
    assert found[0] is not None
    assert found[0].holder.instance_id == "new"


def test_an_unreadable_lease_goes_stale_and_is_taken_over(tmp_path: Path) -> None:
    clock = Clock()
    store = FileLeaseStore(tmp_path, NAMESPACE)
    store.path.write_text("garbage")
    lock = make_lock(tmp_path, clock, "a")
    assert not lock.try_acquire()
    assert lock.describe_holder() == "an unreadable lease"
    clock.now += 11
    assert lock.try_acquire()


def test_namespaces_do_not_share_a_lock(tmp_path: Path) -> None:
    clock = Clock()
    assert make_lock(tmp_path, clock, "a", namespace="team-a/x").try_acquire()
    assert make_lock(tmp_path, clock, "b", namespace="team-b/x").try_acquire()


def test_waiting_gives_up_after_the_timeout_or_when_cancelled(tmp_path: Path) -> None:
    make_lock(tmp_path, Clock(), "a").acquire(wait=False)
    waiting = NamespaceLock(
        FileLeaseStore(tmp_path, NAMESPACE), namespace=NAMESPACE, ttl_seconds=60, poll_seconds=0.01
    )
    with pytest.raises(LockError, match=r"(?i)timed out"):
        waiting.acquire(timeout=0.05)
    cancel = threading.Event()
    cancel.set()
    assert waiting.acquire(cancel=cancel) is False


def test_a_waiting_instance_takes_the_lock_once_the_holder_releases_it(tmp_path: Path) -> None:
    store = FileLeaseStore(tmp_path, NAMESPACE)
    holder = NamespaceLock(store, namespace=NAMESPACE, ttl_seconds=60)
    holder.acquire(wait=False)
    waiting = NamespaceLock(store, namespace=NAMESPACE, ttl_seconds=60, poll_seconds=0.01)
    threading.Timer(0.1, holder.release).start()
    assert waiting.acquire(timeout=5)


def test_records_round_trip_through_json() -> None:
    record = LeaseRecord(NAMESPACE, Holder("h", 2, "i"), 1.5, 2.5, 60.0, "lease")
    assert LeaseRecord.from_json(record.to_json()) == record
    with pytest.raises(ValueError, match="not a lease record"):
        LeaseRecord.from_json('{"namespace": 1}')


def test_the_store_refuses_refresh_and_delete_with_a_stale_token(tmp_path: Path) -> None:
    store = FileLeaseStore(tmp_path, NAMESPACE)
    record = LeaseRecord(NAMESPACE, Holder("h", 2, "i"), 1.0, 1.0, 60.0, "first")
    token = store.create_if_absent(record)
    assert token == "first"
    assert store.create_if_absent(record) is None
    assert not store.refresh(record.renewed(2.0), "other")
    assert not store.delete("other")
    assert store.refresh(record.renewed(2.0), token)
    assert store.read() == (record.renewed(2.0), token)
    assert store.delete(token)
    assert store.read() is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["team-a%2Fmodels.guard"]


def test_a_timeout_shorter_than_the_poll_interval_is_kept(tmp_path: Path) -> None:
    make_lock(tmp_path, Clock(), "a").acquire(wait=False)
    waiting = NamespaceLock(
        FileLeaseStore(tmp_path, NAMESPACE), namespace=NAMESPACE, ttl_seconds=60, poll_seconds=30
    )
    began = time.monotonic()
    with pytest.raises(LockError, match=r"(?i)timed out"):
        waiting.acquire(timeout=0.1)
    assert time.monotonic() - began < 5


def test_a_waiting_instance_looks_at_least_every_few_seconds_whatever_the_ttl() -> None:
    lock = NamespaceLock(FileLeaseStore(Path("/nonexistent"), NAMESPACE), namespace=NAMESPACE)
    assert lock.ttl_seconds == 60
    assert lock.poll_seconds == 5


def test_a_lease_of_this_very_instance_is_its_own(tmp_path: Path) -> None:
    # As after a create whose answer was lost: the lease is there, with our holder.
    clock = Clock()
    lock = make_lock(tmp_path, clock, "a")
    store = FileLeaseStore(tmp_path, NAMESPACE)
    store.create_if_absent(LeaseRecord(NAMESPACE, lock.holder, 900.0, 900.0, 10.0, "lost"))
    assert lock.try_acquire()
    lock.refresh()
    found = store.read()
    assert found is not None
    assert found[1] == "lost"
    assert make_lock(tmp_path, clock, "b").try_acquire() is False


class UnreachableOnRefresh(FileLeaseStore):
    def refresh(self, record: LeaseRecord, token: str) -> bool:
        raise OSError("the lock store is unreachable")


def test_a_one_shot_holder_that_cannot_heartbeat_stops_before_the_lease_could_go_stale(
    tmp_path: Path,
) -> None:
    lock = NamespaceLock(
        UnreachableOnRefresh(tmp_path, NAMESPACE), namespace=NAMESPACE, ttl_seconds=0.3
    )
    with holding(lock, wait=False) as lost:
        assert lost.wait(2)  # the caller starts no new write
    assert FileLeaseStore(tmp_path, NAMESPACE).read() is None  # still released on exit
