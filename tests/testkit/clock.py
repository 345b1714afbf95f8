"""The clock the e2e harnesses hand the app: an explicit instant, never the wall clock.

It starts at `start` and moves only when told (`advance`, `set`) plus one millisecond per
reading, so that successive events keep their order without the test depending on how fast
the machine is or what day it is. Readings come from the server's threads and the test's at
once, hence the lock.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

# A Tuesday, 12:00 UTC: every slot a scheduler test fires "today" (03:00, 09:00, 10:00) has
# passed, as it has when the scheduler really fires it.
T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TICK = timedelta(milliseconds=1)


class TestClock:
    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, start: datetime = T0, tick: timedelta = TICK) -> None:
        if start.tzinfo is None:
            raise ValueError(f"TestClock needs a timezone-aware start, got {start!r}")
        self._now = start.astimezone(UTC)
        self._tick = tick
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            current = self._now
            self._now += self._tick
            return current

    def advance(self, delta: timedelta | None = None, **parts: float) -> datetime:
        with self._lock:
            self._now += delta if delta is not None else timedelta(**parts)
            return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError(f"TestClock.set needs a timezone-aware time, got {when!r}")
        with self._lock:
            self._now = when.astimezone(UTC)


class Ticks:
    """A stand-in for time.monotonic that moves only when told (cache lifetimes)."""

    def __init__(self) -> None:
        self._seconds = 1000.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._seconds

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._seconds += seconds
