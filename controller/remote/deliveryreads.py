"""Reading the registry and deployments for one plan, as list pages.

:func:`read_delivery` reads every registered model, every registered version (model
package) and every deployment, one list each, side by side: ``ceil(n/page)`` requests per
list, not one per object. Only what manifests declare is read per object: the settings and
sharing of the deployments that declare them, the prediction environments when one is
named, and the versions recorded from a commit a deployment pins.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from controller.logs import get_logger
from controller.model.delivery import LiveDelivery
from controller.remote.client import DataRobotClient

log = get_logger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class DeliveryNeeds:
    """What beyond the lists a plan needs: the ``userProvidedId`` (or, for a deployment
    adopted by ID, the ID) of deployments whose settings or sharing are declared, whether environments are named, and ``(pin as
    written, full commit SHA, custom model ID)`` of commit pins."""

    settings_of: frozenset[str] = frozenset()
    sharing_of: frozenset[str] = frozenset()
    environments: bool = False
    commits: frozenset[tuple[str, str, str]] = field(default_factory=frozenset)


def read_delivery(
    client: DataRobotClient,
    needs: DeliveryNeeds,
    *,
    page_size: int | None = None,
    concurrency: int = 8,
) -> LiveDelivery:
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="delivery") as pool:
        registered = pool.submit(client.list_registered_models, page_size=page_size)
        packages = pool.submit(client.list_packages, page_size=page_size)
        deployments = pool.submit(client.list_deployments, page_size=page_size)
        environments = (
            pool.submit(client.list_prediction_environments) if needs.environments else None
        )
        by_upid = {d.user_provided_id: d.id for d in deployments.result() if d.user_provided_id}
        by_upid.update({d.id: d.id for d in deployments.result()})  # adopted: by ID
        settings = _each(
            client.get_deployment_settings,
            [by_upid[u] for u in sorted(needs.settings_of) if u in by_upid],
            concurrency,
        )
        sharing = _each(
            client.get_deployment_roles,
            [by_upid[u] for u in sorted(needs.sharing_of) if u in by_upid],
            concurrency,
        )
        commits: dict[str, dict[str, tuple[str, str]]] = {}
        for pin, sha, model_id in sorted(needs.commits):
            versions = client.list_versions(model_id, main_branch_commit_sha=sha)
            newest = max(versions, key=lambda v: (v.major, v.minor), default=None)
            if newest is not None:
                commits.setdefault(pin, {})[model_id] = (newest.id, newest.label)
        delivery = LiveDelivery(
            registered_models=tuple(registered.result()),
            packages=tuple(packages.result()),
            deployments=tuple(deployments.result()),
            environments=tuple(environments.result()) if environments is not None else (),
            settings=settings,
            sharing=sharing,
            versions_by_commit=commits,
        )
    log.info(
        "delivery_read",
        registered_models=len(delivery.registered_models),
        packages=len(delivery.packages),
        deployments=len(delivery.deployments),
        seconds=round(time.monotonic() - started, 3),
    )
    return delivery


def _each(read: Callable[[str], T], ids: Iterable[str], concurrency: int) -> dict[str, T]:
    """``read`` of each ID, ``concurrency`` at a time."""
    wanted = list(ids)
    if not wanted:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="delivery") as pool:
        futures: dict[str, Future[T]] = {i: pool.submit(read, i) for i in wanted}
        return {i: f.result() for i, f in futures.items()}
