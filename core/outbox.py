"""Delivering the outbox: each event to each handler subscribed to it, at least once.

Events are written by plays (core.events); which handlers an event goes to is decided when it
is written (core.handlers.SUBSCRIPTIONS), one delivery per handler, so a failing handler never
holds up nor repeats another. A `Dispatcher` claims due deliveries for the handlers it has
with a lease (a replica that dies mid-delivery loses its lease and another takes the delivery
over), runs them, and records the outcome: done, or pending again after a backoff, or dead
after its last try, where it stays visible until someone retries it.

Delivery is at least once: a replica killed after the handler acted but before the outcome
was recorded leaves a delivery that runs again, so handlers are idempotent. Per handler and
subject (core.events.subject_of: one approval request, one incident, one scheduled slot),
deliveries run in the order their events were written: a later event waits while an earlier
one is pending (an incident's confirmation never overtakes its record), and one failing post
holds up nothing about anything else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from core.effects import REQUEST_ID
from core.events import Event
from core.ports import Clock, UnitOfWorkFactory

log = logging.getLogger("playbook.outbox")

DeliveryState = Literal["pending", "done", "dead", "skipped"]
Handler = Callable[[Event], None]

# The wait before each retry; after the last one the delivery is dead (about 1 h 45 min
# after the first try), which is long enough to ride out a Slack incident.
BACKOFF: tuple[timedelta, ...] = (timedelta(seconds=5), timedelta(seconds=30),
                                  timedelta(minutes=2), timedelta(minutes=10),
                                  timedelta(minutes=30), timedelta(hours=1))
LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class Delivery:
    """One event on its way to one handler."""

    event_seq: int
    handler: str
    model: str
    name: str  # the event's type, e.g. "TagMoved"
    event: Event
    created_at: datetime
    state: DeliveryState
    attempts: int  # tries started so far, the current one included
    next_attempt_at: datetime
    last_error: str | None = None
    done_at: datetime | None = None
    lease_owner: str | None = None
    lease_until: datetime | None = None
    request_id: str | None = None  # the request whose play wrote the event


@dataclass
class Report:
    done: int = 0
    retrying: int = 0
    dead: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.done + self.retrying + self.dead


def retry_at(now: datetime, attempts: int,
             backoff: tuple[timedelta, ...] = BACKOFF) -> datetime | None:
    """When a delivery that failed its `attempts`-th try runs again; None: it is dead."""
    if attempts > len(backoff):
        return None
    return now + backoff[attempts - 1]


class Dispatcher:
    """Claims due deliveries for its handlers and runs them, one short transaction each.
    Deliveries for handlers it does not have stay pending for a process that has them."""

    def __init__(self, uow: UnitOfWorkFactory, handlers: Mapping[str, Handler], clock: Clock,
                 owner: str, *, lease: timedelta = LEASE,
                 backoff: tuple[timedelta, ...] = BACKOFF) -> None:
        self._uow = uow
        self._handlers = dict(handlers)
        self._clock = clock
        self.owner = owner
        self._lease = lease
        self._backoff = backoff

    @property
    def handlers(self) -> tuple[str, ...]:
        return tuple(self._handlers)

    def deliver(self, limit: int = 50) -> Report:
        """One pass: claim up to `limit` due deliveries, run them in event order."""
        report = Report()
        if not self._handlers:
            return report
        now = self._clock.now()
        with self._uow() as uow:
            claimed = uow.outbox.claim(tuple(self._handlers), self.owner, now,
                                       now + self._lease, limit)
            uow.commit()
        for delivery in claimed:
            if self._still_mine(delivery):
                self._run(delivery, report)
        return report

    def _still_mine(self, delivery: Delivery) -> bool:
        """Renew the lease before running: a delivery that waited in this batch past its
        lease may have been taken over, and then it is the other replica's to run."""
        with self._uow() as uow:
            mine = uow.outbox.renew(delivery.event_seq, delivery.handler, self.owner,
                                    self._clock.now() + self._lease)
            uow.commit()
        return mine

    def _run(self, delivery: Delivery, report: Report) -> None:
        try:
            marked = REQUEST_ID.set(delivery.request_id)  # its log lines name the request
            try:
                self._handlers[delivery.handler](delivery.event)
            finally:
                REQUEST_ID.reset(marked)
        except Exception as exc:  # a handler's failure is recorded, never lost nor raised
            error = f"{type(exc).__name__}: {exc}"
            when = retry_at(self._clock.now(), delivery.attempts, self._backoff)
            log.warning("outbox: %s of event %d (%s) failed on try %d: %s; %s",
                        delivery.handler, delivery.event_seq, delivery.name,
                        delivery.attempts, error,
                        f"retrying at {when.isoformat()}" if when else "giving up (dead)")
            with self._uow() as uow:
                uow.outbox.failed(delivery.event_seq, delivery.handler, self.owner, error,
                                  when, self._clock.now())
                uow.commit()
            report.errors.append(error)
            if when is None:
                report.dead += 1
            else:
                report.retrying += 1
            return
        with self._uow() as uow:
            uow.outbox.done(delivery.event_seq, delivery.handler, self.owner,
                            self._clock.now())
            uow.commit()
        report.done += 1
