"""The long-running service (``dr-gitops serve``): scheduler, HTTP endpoints, locking.

The only module of ours that imports apscheduler. The engine plugs in as a ``RunFn``
(see :mod:`controller.service.runs` for the contract); the CLI calls :func:`serve`.
"""

from controller.service.daemon import Service, serve
from controller.service.leases import FileLeaseStore, Holder, LeaseRecord, LeaseStore
from controller.service.locks import LockLost, NamespaceLock, file_lock
from controller.service.runs import (
    ActionCounts,
    ApiRequestObserver,
    ResourceCount,
    Result,
    RunFn,
    RunOutcome,
    RunRequest,
    Trigger,
)

__all__ = [
    "ActionCounts",
    "ApiRequestObserver",
    "FileLeaseStore",
    "Holder",
    "LeaseRecord",
    "LeaseStore",
    "LockLost",
    "NamespaceLock",
    "ResourceCount",
    "Result",
    "RunFn",
    "RunOutcome",
    "RunRequest",
    "Service",
    "Trigger",
    "file_lock",
    "serve",
]
