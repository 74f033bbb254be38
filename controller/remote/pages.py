"""Reading every item of a list route by following ``next`` links.

Lists answer ``{"count", "totalCount", "next", "previous", "data"}``; ``next`` is an
absolute URL (carrying ``offset``/``limit``) or null. The first request sends
``offset=0&limit=<page size>`` (the reference marks both required). When the first page
gives ``totalCount``, the other pages are asked for by offset, a few side by side (100
pages one after the other cost 100 round trips); without it, ``next`` is followed.

:func:`read_list` decodes the items as it reads; given a :class:`PageMemo` (``serve`` keeps
one from one tick to the next), a page whose bytes are those of a page read last tick is
not decoded again: its decoded items are taken over (the request is still made, so a
change in DataRobot is seen at once).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

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
T = TypeVar("T")
Decode = Callable[[dict[str, Any]], Any]
Page = tuple[list[tuple[object, Any]], int | None, Any]
"""A page read: its items as ``(id, item)``, its ``totalCount`` (None when absent), its
``next``."""


class PageMemo:
    """Decoded list pages by route and the digest of their bytes, for one tick and the next.

    Each :meth:`next_tick` forgets the pages the tick before last read and not the last
    tick: what is kept is bounded by what one tick reads. Thread-safe (pages are read side
    by side). The decoded items are frozen values, shared by the ticks that read them.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[tuple[str, Decode, bytes], Page] = {}
        self._now: dict[tuple[str, Decode, bytes], Page] = {}
        self.hits = 0
        self.misses = 0

    def next_tick(self) -> None:
        """A new tick: the pages read so far become the last tick's."""
        with self._lock:
            self._last, self._now = self._now, {}

    def get(self, key: tuple[str, Decode, bytes]) -> Page | None:
        with self._lock:
            page = self._now.get(key) or self._last.pop(key, None)
            if page is None:
                self.misses += 1
                return None
            self._now[key] = page
            self.hits += 1
            return page

    def put(self, key: tuple[str, Decode, bytes], page: Page) -> None:
        with self._lock:
            self._now[key] = page


def read_list(
    http: Transport,
    route: str,
    decode: Callable[[dict[str, Any]], T],
    *,
    memo: PageMemo | None = None,
    query: Mapping[str, Any] | None = None,
    page_size: int | None = None,
) -> list[T]:
    """Every item of a list route (as :func:`paginate` reads them), each decoded by ``decode``;
    with ``memo``, an unchanged page's items are the ones decoded before."""
    return list(_items(http, route, None, query, page_size, decode, memo))


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
    return _items(http, route, path, query, page_size, None, None)


def _items(
    http: Transport,
    route: str,
    path: Mapping[str, str] | None,
    query: Mapping[str, Any] | None,
    page_size: int | None,
    decode: Decode | None,
    memo: PageMemo | None,
) -> Iterator[Any]:
    for attempt in range(1, READS + 1):
        items, consistent = _read_once(http, route, path, query, page_size, decode, memo)
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
    for key, item in items:
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
    decode: Decode | None,
    memo: PageMemo | None,
) -> tuple[list[tuple[object, Any]], bool]:
    """One pass over the pages: the items, and whether the list held still meanwhile."""
    template = API_PREFIX + route
    url = http.url(route, path)
    params: Mapping[str, Any] | None = {
        "offset": 0,
        "limit": page_size or http.settings.page_size,
        **(query or {}),
    }
    seen: set[str] = set()
    items: list[tuple[object, Any]] = []
    totals: set[int] = set()
    for number in range(MAX_PAGES):
        data, total, nxt = _page(http, route, url, params, decode, memo)
        items += data
        if total is not None:
            totals.add(total)
        if number == 0 and nxt and data and total is not None and total <= MAX_PAGES * len(data):
            # The size of the list is known: read the other pages side by side.
            offsets = range(len(data), total, len(data))
            rest = _pages_at(http, route, path, query, offsets, decode, memo)
            for more, more_total in rest:
                items += more
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
    http: Transport,
    route: str,
    url: str,
    params: Mapping[str, Any] | None,
    decode: Decode | None,
    memo: PageMemo | None,
) -> Page:
    """One page: its items (objects only, decoded), ``totalCount`` and ``next``."""
    response = http.request("GET", route, url=url, query=params)
    key = None
    if memo is not None and decode is not None:
        # Same bytes, same page: the request is made, the decoding is not (issue 20).
        key = (route, decode, hashlib.blake2b(response.content, digest_size=20).digest())
        known = memo.get(key)
        if known is not None:
            return known
    page = json_body(response, "GET", route)
    data = page.get("data") if isinstance(page, dict) else None
    if not isinstance(data, list):
        raise UnexpectedResponseError(
            method="GET", route=API_PREFIX + route, detail="the list answer has no `data` list"
        )
    total = page.get("totalCount")
    valid = isinstance(total, int) and not isinstance(total, bool)
    items = [
        (item.get("id"), item if decode is None else decode(item))
        for item in data
        if isinstance(item, dict)
    ]
    read: Page = (items, total if valid else None, page.get("next"))
    if key is not None and memo is not None:
        memo.put(key, read)
    return read


def _pages_at(
    http: Transport,
    route: str,
    path: Mapping[str, str] | None,
    query: Mapping[str, Any] | None,
    offsets: range,
    decode: Decode | None,
    memo: PageMemo | None,
) -> list[tuple[list[tuple[object, Any]], int | None]]:
    """The pages at ``offsets`` (of ``offsets.step`` items each), :data:`PARALLEL_PAGES` at a
    time, in order. Each is an ordinary GET, retried as any other; the caller checks that
    the pages agree on the total (a list that changed meanwhile is read again)."""
    url = http.url(route, path)

    def read(offset: int) -> tuple[list[tuple[object, Any]], int | None]:
        params = {"offset": offset, "limit": offsets.step, **(query or {})}
        data, total, _ = _page(http, route, url, params, decode, memo)
        return data, total

    if len(offsets) <= 1:
        return [read(offset) for offset in offsets]
    with ThreadPoolExecutor(PARALLEL_PAGES, thread_name_prefix="pages") as pool:
        return list(pool.map(read, offsets))
