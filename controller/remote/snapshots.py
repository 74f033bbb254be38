"""Reading the live state for one plan, in as few requests as the API allows.

:func:`read_snapshot` reads every model (each list page embeds the models' newest versions,
so no per-model request is made), every job and the token's user: ``ceil(models/page) +
ceil(jobs/page) + 1`` requests, the three lists read side by side. Sharing is read
separately by :func:`read_sharing`, only for the objects whose manifests declare sharing
(only the engine knows which), a few at a time; so are the gates (dependency build and
tests) of the newest versions of models whose manifests configure gates, by
:func:`read_gates`: two requests per such model.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor

from controller.logs import get_logger
from controller.model.gates import LiveGates
from controller.model.live import LiveGrant, LiveSnapshot
from controller.remote.client import DataRobotClient

log = get_logger(__name__)

Sharing = dict[str, tuple[LiveGrant, ...]]


def read_snapshot(
    client: DataRobotClient, *, read_jobs: bool = True, page_size: int | None = None
) -> LiveSnapshot:
    """All models (with newest versions), all jobs and the token's user; no sharing.

    ``read_jobs=False`` skips jobs (for repositories without job manifests, on servers where
    custom jobs are not enabled).
    """
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="snapshot") as pool:
        models = pool.submit(client.list_models, page_size=page_size)
        jobs = pool.submit(client.list_jobs, page_size=page_size) if read_jobs else None
        who = pool.submit(client.account_info)
        info = who.result()
        snapshot = LiveSnapshot(
            models=tuple(models.result()),
            jobs=tuple(jobs.result()) if jobs is not None else (),
            controller_user=info.username if info is not None else None,
            controller_user_id=info.id if info is not None else None,
        )
    log.info(
        "snapshot_read",
        models=len(snapshot.models),
        jobs=len(snapshot.jobs) if read_jobs else "not read here",
        user=snapshot.controller_user,
        seconds=round(time.monotonic() - started, 3),
    )
    return snapshot


def read_sharing(
    client: DataRobotClient,
    model_ids: Iterable[str],
    job_ids: Iterable[str],
    *,
    concurrency: int = 8,
) -> tuple[Sharing, Sharing]:
    """``(model_sharing, job_sharing)`` keyed by object ID, read ``concurrency`` at a time.

    The first failure is raised once the reads in flight have ended; the rest are cancelled.
    """
    model_list = sorted(set(model_ids))
    job_list = sorted(set(job_ids))
    calls: list[tuple[str, str, Callable[[str], tuple[LiveGrant, ...]]]] = [
        *(("model", i, client.get_model_access) for i in model_list),
        *(("job", i, client.get_job_roles) for i in job_list),
    ]
    results: dict[str, Sharing] = {"model": {}, "job": {}}
    if not calls:
        return results["model"], results["job"]
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="sharing") as pool:
        futures = [(kind, obj_id, pool.submit(read, obj_id)) for kind, obj_id, read in calls]
        try:
            for kind, obj_id, future in futures:
                results[kind][obj_id] = future.result()
        except BaseException:
            for _, _, future in futures:
                future.cancel()
            raise
    return results["model"], results["job"]


def with_sharing(
    snapshot: LiveSnapshot,
    model_sharing: Mapping[str, tuple[LiveGrant, ...]],
    job_sharing: Mapping[str, tuple[LiveGrant, ...]],
) -> LiveSnapshot:
    """The snapshot with sharing added (entries already there are replaced)."""
    return dataclasses.replace(
        snapshot,
        model_sharing={**snapshot.model_sharing, **model_sharing},
        job_sharing={**snapshot.job_sharing, **job_sharing},
    )


def read_gates(
    client: DataRobotClient, versions: Iterable[tuple[str, str]], *, concurrency: int = 8
) -> dict[str, LiveGates]:
    """The gates of each ``(model ID, newest version ID)``, keyed by model ID."""
    pairs = sorted(set(versions))
    if not pairs:
        return {}

    def read(pair: tuple[str, str]) -> LiveGates:
        model_id, version_id = pair
        return LiveGates(
            version_id=version_id,
            build_status=client.get_dependency_build(model_id, version_id),
            tests=tuple(t for t in client.list_model_tests(model_id) if t.version_id == version_id),
        )

    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="gates") as pool:
        found = list(pool.map(read, pairs))
    return {model_id: gates for (model_id, _), gates in zip(pairs, found, strict=True)}
