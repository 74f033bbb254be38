"""A fake clock for the namespace lock's tests."""

from __future__ import annotations


class Clock:
    """A clock (monotonic and wall) that moves only when a test sets ``now``, or when the
    waiting instance pauses on it as its cancellation (``wait``)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def wait(self, timeout: float | None = None) -> bool:  # the Cancellation protocol
        self.now += timeout or 0.0
        return False
