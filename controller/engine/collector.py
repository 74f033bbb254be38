"""Python's cyclic garbage collector, paused while a plan is made.

A plan of 10,000 models builds millions of small objects that live until it is made (the
decoded list pages, the desired state, matching, the plan and its basis). Every few
thousand allocations the collector walks the youngest of them, and now and then all of
them, and finds nothing: these values hold no reference cycles. At 10,000 models that was
a third of the CPU of decoding, matching and planning. While paused, reference counting
still frees every value as soon as it is dropped; only cycles wait, until the pause ends
and the collector runs as it always does.

Pauses nest and overlap across threads (``serve`` may plan while it answers a webhook):
the collector runs again when the last pause ends, and only if it ran when the first
began.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class _Pauses:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open = 0
        self._was_enabled = False

    def begin(self) -> None:
        with self._lock:
            if self._open == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._open += 1

    def end(self) -> None:
        with self._lock:
            self._open -= 1
            if self._open == 0 and self._was_enabled:
                gc.enable()


_PAUSES = _Pauses()


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside (in any thread), as explained above."""
    _PAUSES.begin()
    try:
        yield
    finally:
        _PAUSES.end()


def with_collector_paused(call: Callable[P, R]) -> Callable[P, R]:
    """``call`` made under :func:`collector_paused`."""

    @wraps(call)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        with collector_paused():
            return call(*args, **kwargs)

    return paused
