"""Reading every item of a list route by following ``next`` links.

Lists answer ``{"count", "totalCount", "next", "previous", "data"}``; ``next`` is an
absolute URL (carrying ``offset``/``limit``) or null. The first request sends
``offset=0&limit=<page size>`` (the reference marks both required). When the first page
gives ``totalCount``, the other pages are asked for by offset, a few side by side (100
pages one after the other cost 100 round trips); without it, ``next`` is followed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from controller.logs import get_logger
from controller.remote.apierrors import UnexpectedResponseError
from controller.remote.routes import API_PREFIX
from controller.remote.transport import Transport, json_body

MAX_PAGES = 100_000
PARALLEL_PAGES = 4
"""Pages of one list read side by side once the first page gives ``totalCount``."""
READS = 3
"""Whole reads of a list that changed while it was read, before taking the last as it is."""

log = get_logger(__name__)


def paginate(
    http: Transport,
    route: str,
    *,
    path: Mapping[str, str] | None = None,
    query: Mapping[str, Any] | None = None,
    page_size: int | None = None,
) -> Iterator[Any]:
    """Every item (a JSON object) of a list route, page by page, in the server's order.

    Offset paging skips an item when another is deleted (or shows one twice when another is
    created) between two pages. A read whose pages disagree on ``totalCount``, or that does
    not hold ``totalCount`` items, is read again (up to :data:`READS` times, then it is an
    error: a plan must not be made from a list known to miss objects); items are yielded
    once per ``id``.
    """
    for attempt in range(1, READS + 1):
        items, consistent = _read_once(http, route, path, query, page_size)
        if consistent:
            break
        log.warning("list_changed_while_read", route=API_PREFIX + route, attempt=attempt)
    else:
        # Planning from a list known to miss objects could create a second job.
        raise UnexpectedResponseError(
            method="GET",
            route=API_PREFIX + route,
            detail=f"the list changed while it was read, {READS} times in a row; run again",
        )
    ids: set[str] = set()
    for item in items:
        key = item.get("id")
        if isinstance(key, str):
            if key in ids:
                continue
            ids.add(key)
        yield item


def _read_once(
    http: Transport,
    route: str,
    path: Mapping[str, str] | None,
    query: Mapping[str, Any] | None,
    page_size: int | None,
) -> tuple[list[dict[str, Any]], bool]:
    """One pass over the pages: the items, and whether the list held still meanwhile."""
    template = API_PREFIX + route
    url = http.url(route, path)
    params: Mapping[str, Any] | None = {
        "offset": 0,
        "limit": page_size or http.settings.page_size,
        **(query or {}),
    }
    seen: set[str] = set()
    items: list[dict[str, Any]] = []
    totals: set[int] = set()
    for number in range(MAX_PAGES):
        data, total, nxt = _page(http, route, url, params)
        items += [item for item in data if isinstance(item, dict)]
        if total is not None:
            totals.add(total)
        if number == 0 and nxt and data and total is not None and total <= MAX_PAGES * len(data):
            # The size of the list is known: read the other pages side by side.
            rest = _pages_at(http, route, path, query, range(len(data), total, len(data)))
            for more, more_total in rest:
                items += [item for item in more if isinstance(item, dict)]
                totals.update([more_total] if more_total is not None else [])
            nxt = None
        if not nxt or not data:
            consistent = len(totals) <= 1 and (not totals or len(items) == next(iter(totals)))
            return items, consistent
        seen.add(url if params is None else f"{url}?{sorted(params.items())}")
        url, params = http.own_url(str(nxt)), None
        if url in seen:
            raise UnexpectedResponseError(
                method="GET", route=template, detail="`next` points back to a page already read"
            )
    raise UnexpectedResponseError(method="GET", route=template, detail="too many pages")


def _page(
    http: Transport, route: str, url: str, params: Mapping[str, Any] | None
) -> tuple[list[Any], int | None, Any]:
    """One page: its ``data``, its ``totalCount`` (None when absent) and its ``next``."""
    page = json_body(http.request("GET", route, url=url, query=params), "GET", route)
    data = page.get("data") if isinstance(page, dict) else None
    if not isinstance(data, list):
        raise UnexpectedResponseError(
            method="GET", route=API_PREFIX + route, detail="the list answer has no `data` list"
        )
    total = page.get("totalCount")
    valid = isinstance(total, int) and not isinstance(total, bool)
    return data, total if valid else None, page.get("next")


def _pages_at(
    http: Transport,
    route: str,
    path: Mapping[str, str] | None,
    query: Mapping[str, Any] | None,
    offsets: range,
) -> list[tuple[list[Any], int | None]]:
    """The pages at ``offsets`` (of ``offsets.step`` items each), :data:`PARALLEL_PAGES` at a
    time, in order. Each is an ordinary GET, retried as any other; the caller checks that
    the pages agree on the total (a list that changed meanwhile is read again)."""
    url = http.url(route, path)

    def read(offset: int) -> tuple[list[Any], int | None]:
        params = {"offset": offset, "limit": offsets.step, **(query or {})}
        data, total, _ = _page(http, route, url, params)
        return data, total

    if len(offsets) <= 1:
        return [read(offset) for offset in offsets]
    with ThreadPoolExecutor(PARALLEL_PAGES, thread_name_prefix="pages") as pool:
        return list(pool.map(read, offsets))
