"""The SQL outbox (core.ports.Outbox): events and their deliveries, claimed with leases.

On PostgreSQL the claim skips rows another replica holds locked (FOR UPDATE SKIP LOCKED), so
replicas never queue behind each other; on SQLite every transaction already holds the one
write lock (BEGIN IMMEDIATE). Either way the lease, committed at once, is what keeps a claimed
delivery away from others until it ends or its holder dies.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select, tuple_, update
from sqlalchemy.orm import Session, aliased

from core import events
from core.effects import REQUEST_ID
from core.handlers import Subscribers, subscribers
from core.outbox import Delivery, DeliveryState
from storage.orm_outbox import OutboxDeliveryRow, OutboxEventRow
from storage.repositories import counters
from storage.repositories.base import SqlRepository

ERROR_CHARS = 2000


class SqlOutbox(SqlRepository):
    def __init__(self, session: Session, subscribed: Subscribers = subscribers) -> None:
        super().__init__(session)
        self._subscribed = subscribed
        self._added: builtins.list[events.Event] = []  # since the unit of work last asked

    def take_written(self) -> int:
        """How many events were added since last asked (the unit of work asks at commit)."""
        written, self._added = len(self._added), []
        return written

    def written(self) -> list[str]:
        """The events added since last taken, described (for an idempotency key's effect)."""
        return [events.describe(e) for e in self._added]

    def add(self, event: events.Event) -> None:
        self._writable()
        name = events.name_of(event)
        row = OutboxEventRow(name=name, model=event.model, payload=events.to_json(event),
                             created_at=event.at, request_id=REQUEST_ID.get())
        self._session.add(row)
        self._session.flush()
        for handler in self._subscribed(name, event.model):
            self._session.add(OutboxDeliveryRow(
                event_seq=row.seq, handler=handler, model=event.model,
                subject=events.subject_of(event), state="pending",
                attempts=0, next_attempt_at=event.at, lease_owner=None, lease_until=None,
                last_error=None, done_at=None))
        self._session.flush()
        self._added.append(event)

    def claim(self, handlers: Collection[str], owner: str, now: datetime,
              lease_until: datetime, limit: int) -> builtins.list[Delivery]:
        d = OutboxDeliveryRow
        earlier = aliased(OutboxDeliveryRow)
        blocked = select(earlier.event_seq).where(
            earlier.handler == d.handler, earlier.subject == d.subject,
            earlier.event_seq < d.event_seq, earlier.state == "pending").exists()
        due = (select(d.event_seq, d.handler)
               .where(d.state == "pending", d.handler.in_(list(handlers)),
                      (d.attempts == 0) | (d.next_attempt_at <= now),
                      (d.lease_until.is_(None)) | (d.lease_until < now), ~blocked)
               .order_by(d.event_seq).limit(limit)
               .with_for_update(skip_locked=True, of=d))
        keys = [(seq, handler) for seq, handler in self._session.execute(due)]
        if not keys:
            return []
        mine = tuple_(d.event_seq, d.handler).in_(keys)
        self._write(update(d).where(mine).values(lease_owner=owner, lease_until=lease_until,
                                                 attempts=d.attempts + 1))
        e = OutboxEventRow
        claimed = (select(d, e).join(e, e.seq == d.event_seq).where(mine)
                   .order_by(d.event_seq, d.handler)
                   .execution_options(populate_existing=True))
        return [_delivery(row, ev) for row, ev in self._session.execute(claimed)]

    def done(self, event_seq: int, handler: str, owner: str, at: datetime) -> None:
        if self._finish(event_seq, handler, owner, state="done", done_at=at, last_error=None):
            counters.bump(self._session, counters.DELIVERIES, (handler, "done"))

    def failed(self, event_seq: int, handler: str, owner: str, error: str,
               retry_at: datetime | None, at: datetime) -> None:
        if retry_at is None:
            self._finish(event_seq, handler, owner, state="dead", done_at=at,
                         last_error=error[:ERROR_CHARS])
        else:
            self._finish(event_seq, handler, owner, state="pending", next_attempt_at=retry_at,
                         last_error=error[:ERROR_CHARS])

    def _finish(self, event_seq: int, handler: str, owner: str, **values: object) -> bool:
        """Only while the lease is still ours: a delivery taken over by another replica (our
        lease ran out) is theirs to record. True when it was ours."""
        d = OutboxDeliveryRow
        result = self._write(update(d).where(d.event_seq == event_seq, d.handler == handler,
                                             d.lease_owner == owner, d.state == "pending")
                             .values(lease_owner=None, lease_until=None, **values))
        return bool(result.rowcount)

    def renew(self, event_seq: int, handler: str, owner: str, lease_until: datetime) -> bool:
        d = OutboxDeliveryRow
        result = self._write(update(d).where(d.event_seq == event_seq, d.handler == handler,
                                             d.lease_owner == owner, d.state == "pending")
                             .values(lease_until=lease_until))
        return bool(result.rowcount)

    def skip(self, handlers: Collection[str], at: datetime, *, after_seq: int = 0,
             subjects: Collection[str] | None = None) -> int:
        d = OutboxDeliveryRow
        where = [d.state == "pending", d.event_seq > after_seq, d.handler.in_(list(handlers))]
        if subjects is not None:
            where.append(d.subject.in_(list(subjects)))
        result = self._write(update(d).where(*where)
                             .values(state="skipped", done_at=at, lease_owner=None,
                                     lease_until=None,
                                     last_error="skipped: this deployment does not run "
                                                "this handler")
                             .returning(d.handler))
        skipped: dict[str, int] = {}
        for (handler,) in result:
            skipped[handler] = skipped.get(handler, 0) + 1
        for handler, n in sorted(skipped.items()):
            counters.bump(self._session, counters.DELIVERIES, (handler, "skipped"), n)
        return sum(skipped.values())

    def retry(self, event_seq: int | None, at: datetime) -> int:
        d = OutboxDeliveryRow
        where = [d.state == "dead"]
        if event_seq is not None:
            where.append(d.event_seq == event_seq)
        result = self._write(update(d).where(*where).values(
            state="pending", next_attempt_at=at, done_at=None, attempts=0))
        return int(result.rowcount or 0)

    def list(self, *, states: Collection[DeliveryState] = ("pending", "dead"),
             limit: int = 100) -> builtins.list[Delivery]:
        d, e = OutboxDeliveryRow, OutboxEventRow
        stmt = (select(d, e).join(e, e.seq == d.event_seq).where(d.state.in_(list(states)))
                .order_by(d.event_seq, d.handler).limit(limit))
        return [_delivery(row, ev) for row, ev in self._session.execute(stmt)]

    def counts(self) -> dict[tuple[str, str], int]:
        """Pending and dead ones are counted (along the state index: as many rows as the
        backlog), done and skipped ones are running totals (the history can be any size)."""
        d = OutboxDeliveryRow
        stmt = (select(d.handler, d.state, func.count())
                .where(d.state.in_(["pending", "dead"])).group_by(d.handler, d.state))
        found = {(h, s): int(n) for h, s, n in self._session.execute(stmt)}
        found.update({(h, s): int(n) for (h, s), n in
                      counters.totals(self._session, counters.DELIVERIES).items() if n})
        return found

    def last_seq(self) -> int:
        return int(self._session.execute(select(func.max(OutboxEventRow.seq))).scalar() or 0)

    def events(self, *, model: str | None = None, name: str | None = None,
               after_seq: int = 0, limit: int = 100) -> builtins.list[tuple[int, events.Event]]:
        e = OutboxEventRow
        stmt = select(e.seq, e.name, e.payload).where(e.seq > after_seq)
        if model is not None:
            stmt = stmt.where(e.model == model)
        if name is not None:
            stmt = stmt.where(e.name == name)
        rows = self._session.execute(stmt.order_by(e.seq).limit(limit))
        return [(seq, events.from_json(n, payload)) for seq, n, payload in rows]


def _delivery(row: OutboxDeliveryRow, ev: OutboxEventRow) -> Delivery:
    state: DeliveryState = row.state  # type: ignore[assignment]
    return Delivery(event_seq=row.event_seq, handler=row.handler, model=row.model,
                    name=ev.name, event=events.from_json(ev.name, ev.payload),
                    created_at=ev.created_at, state=state, attempts=row.attempts,
                    next_attempt_at=row.next_attempt_at, last_error=row.last_error,
                    done_at=row.done_at, lease_owner=row.lease_owner,
                    lease_until=row.lease_until, request_id=ev.request_id)
