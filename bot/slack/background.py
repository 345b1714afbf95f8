"""Threads that run after the ack: Bolt's listeners, and slow work (eval runs) in a pool of
its own.

Bolt runs listeners on its listener executor; if slow plays ran there, 20 rollbacks would
occupy every thread and the 21st request could not even be acknowledged within Slack's 3 s.
So listeners ack, parse and hand slow work to `BackgroundWork`: work beyond `workers` waits in
line, acks never do. Failures are rendered by the same `report` as every listener error.
Both pools count what they run, so a shutdown (and a test) can wait until all is done.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from bot.slack.errors import Reply, report
from bot.slack.inbox import Inbox, with_delivery

P = ParamSpec("P")
T = TypeVar("T")


class CountingExecutor(ThreadPoolExecutor):
    """A thread pool that knows when nothing is queued or running."""

    def __init__(self, workers: int, name: str, inbox: Inbox | None = None) -> None:
        super().__init__(max_workers=workers, thread_name_prefix=name)
        self._pending = 0
        self._idle = threading.Condition()
        self._inbox = inbox  # a request is handled once what it submitted here has run

    def submit(self, fn: Callable[P, T], /, *args: P.args,
               **kwargs: P.kwargs) -> Future[T]:
        with self._idle:
            self._pending += 1

        def counted() -> T:
            try:
                return fn(*args, **kwargs)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

        return super().submit(with_delivery(counted, self._inbox))

    def wait_idle(self, timeout: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)


class BackgroundWork:
    def __init__(self, workers: int, inbox: Inbox | None = None) -> None:
        self._pool = CountingExecutor(workers, "slack-work", inbox)

    def submit(self, work: Callable[[], object], respond: Reply | None) -> Future[Any]:
        return self._pool.submit(self._run, work, respond)

    @staticmethod
    def _run(work: Callable[[], object], respond: Reply | None) -> None:
        try:
            work()
        except Exception as exc:
            report(exc, respond)

    def wait_idle(self, timeout: float) -> bool:
        return self._pool.wait_idle(timeout)

    def close(self) -> None:
        """Finish what was accepted: a rollback's confirmation is still reported."""
        self._pool.shutdown(wait=True)
