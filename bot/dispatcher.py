"""The outbox dispatcher's thread, which every `playbook serve` runs (every mode, every
replica): it delivers events at once when this process wrote them (the unit of work nudges
it after a commit) and polls for those other processes wrote (the CLI, other replicas) and
for retries that came due. core.outbox has the rules; this module only keeps the loop.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid

from core.outbox import Dispatcher

log = logging.getLogger("playbook.outbox")

POLL_S = 1.0  # how soon events written by other processes are delivered


def owner_id() -> str:
    """Who holds a lease: readable in `playbook outbox`, unique per process."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class OutboxRunner:
    def __init__(self, dispatcher: Dispatcher, *, poll_s: float = POLL_S) -> None:
        self.dispatcher = dispatcher
        self._poll_s = poll_s
        self._wake = threading.Event()
        self._state = threading.Condition()
        self._nudges = 0  # commits that wrote events, as heard so far
        self._quiet_at = -1  # the nudge count when a pass last found nothing to deliver
        self._busy = False  # a pass is running (it may be delivering what it polled)
        self._stopping = False
        self._thread: threading.Thread | None = None

    def nudge(self) -> None:
        """Something was just written to the outbox: deliver without waiting for the poll."""
        with self._state:
            self._nudges += 1
        self._wake.set()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="outbox-dispatcher",
                                            daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Let the delivery in hand finish (its outcome is recorded), then stop."""
        with self._state:
            self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wait_idle(self, timeout: float) -> bool:
        """True once a pass that began after the latest nudge found nothing due, and no
        pass is running."""
        with self._state:
            return self._state.wait_for(
                lambda: self._quiet_at == self._nudges and not self._busy, timeout)

    def _loop(self) -> None:
        while True:
            with self._state:
                if self._stopping:
                    return
                seen = self._nudges
                self._busy = True
            self._wake.clear()
            try:
                report = self.dispatcher.deliver()
                more = report.handled > 0
            except Exception:  # the database may be away for a moment; try again later
                log.exception("outbox: a delivery pass failed")
                more = False
            with self._state:
                self._busy = False
                if not more:
                    self._quiet_at = seen
                self._state.notify_all()
            if more:
                continue  # delivered something: what waited behind it may be due now
            self._wake.wait(self._poll_s)
