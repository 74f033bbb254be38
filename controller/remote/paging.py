"""Reading every item of a list route by following ``next`` links.

Lists answer ``{"count", "totalCount", "next", "previous", "data"}``; ``next`` is an
absolute URL (carrying ``offset``/``limit``) or null. The first request sends
``offset=0&limit=<page size>`` (the reference marks both required).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from controller.remote.errors import UnexpectedResponseError
from controller.remote.routes import API_PREFIX
from controller.remote.transport import Transport, json_body

MAX_PAGES = 100_000


def paginate(
    http: Transport,
    route: str,
    *,
    path: Mapping[str, str] | None = None,
    query: Mapping[str, Any] | None = None,
    page_size: int | None = None,
) -> Iterator[Any]:
    """Every item (a JSON object) of a list route, page by page, in the server's order."""
    template = API_PREFIX + route
    url = http.url(route, path)
    params: Mapping[str, Any] | None = {
        "offset": 0,
        "limit": page_size or http.settings.page_size,
        **(query or {}),
    }
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        page = json_body(http.request("GET", route, url=url, query=params), "GET", route)
        data = page.get("data") if isinstance(page, dict) else None
        if not isinstance(data, list):
            raise UnexpectedResponseError(
                method="GET", route=template, detail="the list answer has no `data` list"
            )
        yield from (item for item in data if isinstance(item, dict))
        nxt = page.get("next")
        if not nxt or not data:
            return
        seen.add(url if params is None else f"{url}?{sorted(params.items())}")
        url, params = http.own_url(str(nxt)), None
        if url in seen:
            raise UnexpectedResponseError(
                method="GET", route=template, detail="`next` points back to a page already read"
            )
    raise UnexpectedResponseError(method="GET", route=template, detail="too many pages")
