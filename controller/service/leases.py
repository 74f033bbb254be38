"""Lease records and where they are kept: the storage half of the namespace lock.

A :class:`LeaseStore` keeps at most one :class:`LeaseRecord` per namespace and names each
*acquisition* with an opaque token. The token changes only when the lease is deleted and
created again, never on refresh. ``refresh`` and ``delete`` act only when the token is
still current (compare-and-swap by ID), which is what makes a take-over of a stale lease
safe: two contenders may both see the same stale token, but only one ``delete(token)``
succeeds, and only one ``create_if_absent`` after it.

Two stores fit this shape:

- :class:`FileLeaseStore` (here): a file per namespace in a directory, for one host (or a
  filesystem every instance shares with working ``flock``), and for tests.
- :class:`~controller.service.datarobot_leases.DataRobotLeaseStore`: a custom model whose
  unique ``userProvidedId`` is ``<namespace>/.dr-gitops-lock`` (create is atomic: a
  duplicate is a 422), whose ``description`` holds ``record.to_json()``, whose model ID is
  the token; refresh is a PATCH of the description by ID (404: gone), delete is by ID
  (404: False).

A store raises :class:`LeaseStoreUnavailable` when it cannot tell (storage unreachable,
a server error): the lease's state is unknown, neither free nor held.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import socket
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

from controller.errors import LockError


class LeaseStoreUnavailable(LockError):
    """The lease store could not be asked; whether the lease is held is unknown."""


@dataclass(frozen=True)
class Holder:
    """Who holds a lease: host, process and a random ID for this process's lifetime."""

    host: str
    pid: int
    instance_id: str

    @classmethod
    def current(cls) -> Holder:
        return cls(host=socket.gethostname(), pid=os.getpid(), instance_id=uuid.uuid4().hex[:12])

    def __str__(self) -> str:
        return f"{self.host} pid {self.pid} (instance {self.instance_id})"


@dataclass(frozen=True)
class LeaseRecord:
    """One lease as stored. Times are Unix seconds on the holder's clock (for people; the
    lock decides staleness on its own clock, see ``controller.service.locks``)."""

    namespace: str
    holder: Holder
    acquired_at: float
    renewed_at: float
    ttl_seconds: float
    lease_id: str

    def renewed(self, at: float) -> LeaseRecord:
        return LeaseRecord(
            self.namespace, self.holder, self.acquired_at, at, self.ttl_seconds, self.lease_id
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> LeaseRecord:
        """Parse a stored record; ``ValueError`` when it is not one."""
        try:
            raw = json.loads(text)
            return cls(
                namespace=str(raw["namespace"]),
                holder=Holder(
                    host=str(raw["holder"]["host"]),
                    pid=int(raw["holder"]["pid"]),
                    instance_id=str(raw["holder"]["instance_id"]),
                ),
                acquired_at=float(raw["acquired_at"]),
                renewed_at=float(raw["renewed_at"]),
                ttl_seconds=float(raw["ttl_seconds"]),
                lease_id=str(raw["lease_id"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"not a lease record: {exc}") from exc


class LeaseStore(Protocol):
    """Where a namespace's lease lives. All methods may raise ``OSError`` or an API error
    when the storage cannot be reached; the lock treats that as "unknown", never as "free".
    """

    def create_if_absent(self, record: LeaseRecord) -> str | None:
        """Store ``record`` if no lease exists, atomically; its token, or ``None`` if one
        exists."""
        ...

    def read(self) -> tuple[LeaseRecord | None, str] | None:
        """The current lease and its token, or ``None`` if there is none. The record is
        ``None`` when the stored lease cannot be parsed (it still has a token, so it can
        go stale and be taken over)."""
        ...

    def refresh(self, record: LeaseRecord, token: str) -> bool:
        """Replace the record of the lease named by ``token``; False if ``token`` is no
        longer current (the lease was deleted or taken over)."""
        ...

    def delete(self, token: str) -> bool:
        """Delete the lease named by ``token``; False if ``token`` is no longer current."""
        ...


class FileLeaseStore:
    """A lease as a file ``<directory>/<namespace>.lease`` (the namespace URL-quoted).

    The file appears whole (written aside, then hard-linked into place, which fails if the
    name exists) and is replaced whole on refresh. Compare-and-swap steps hold an exclusive
    ``flock`` on a sibling ``.guard`` file, so read-compare-act is atomic between processes
    of one host. The token is the record's ``lease_id``, or a hash of the content when the
    file cannot be parsed.
    """

    def __init__(self, directory: Path, namespace: str) -> None:
        self.directory = directory
        name = quote(namespace, safe="") or "_"
        self.path = directory / f"{name}.lease"
        self._guard = directory / f"{name}.guard"

    def create_if_absent(self, record: LeaseRecord) -> str | None:
        self.directory.mkdir(parents=True, exist_ok=True)
        with self._guarded():
            staged = self._stage(record)
            try:
                os.link(staged, self.path)
            except FileExistsError:
                return None
            finally:
                staged.unlink()
        return record.lease_id

    def read(self) -> tuple[LeaseRecord | None, str] | None:
        with self._guarded():
            return self._read()

    def refresh(self, record: LeaseRecord, token: str) -> bool:
        with self._guarded():
            current = self._read()
            if current is None or current[1] != token:
                return False
            os.replace(self._stage(record), self.path)
            return True

    def delete(self, token: str) -> bool:
        with self._guarded():
            current = self._read()
            if current is None or current[1] != token:
                return False
            self.path.unlink()
            return True

    def _read(self) -> tuple[LeaseRecord | None, str] | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            record = LeaseRecord.from_json(raw)
        except ValueError:
            return None, "unreadable:" + hashlib.sha256(raw).hexdigest()[:16]
        return record, record.lease_id

    def _stage(self, record: LeaseRecord) -> Path:
        fd, name = tempfile.mkstemp(dir=self.directory, prefix=".lease-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(record.to_json())
            out.flush()
            os.fsync(out.fileno())
        return Path(name)

    @contextlib.contextmanager
    def _guarded(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._guard, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the flock
