"""The fake outbox (as storage/repositories/outbox.py is the SQL one): events and their
deliveries in the fake registry's state, committed with the rest of the transaction."""

from __future__ import annotations

import builtins
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime

from fake_state import FakeRepo, State

from core import events, ports
from core.effects import REQUEST_ID
from core.errors import Conflict
from core.events import subject_of
from core.handlers import subscribers
from core.outbox import Delivery, DeliveryState

ERROR_CHARS = 2000  # as the SQL outbox keeps


class FakeOutbox(FakeRepo, ports.Outbox):
    def add(self, event: events.Event) -> None:
        name = events.name_of(event)
        events.from_json(name, events.to_json(event))  # what SQL stores must come back
        seq = next(self._uow.store.seq)
        fresh = {(seq, h): Delivery(event_seq=seq, handler=h, model=event.model, name=name,
                                    event=event, created_at=event.at, state="pending",
                                    attempts=0, next_attempt_at=event.at,
                                    request_id=REQUEST_ID.get())
                 for h in subscribers(name)}

        def op(s: State) -> None:
            s.outbox[seq] = event
            s.deliveries.update(fresh)

        self._write("outbox.add", op)

    def claim(self, handlers: Collection[str], owner: str, now: datetime,
              lease_until: datetime, limit: int) -> builtins.list[Delivery]:
        pending = sorted((d for d in self._s.deliveries.values() if d.state == "pending"),
                         key=lambda d: d.event_seq)
        claimed = []
        for d in pending:
            if len(claimed) == limit:
                break
            blocked = any(e.handler == d.handler and subject_of(e.event) == subject_of(d.event)
                          and e.event_seq < d.event_seq for e in pending)
            due = d.attempts == 0 or d.next_attempt_at <= now
            if d.handler in handlers and due and not blocked \
                    and (d.lease_until is None or d.lease_until < now):
                claimed.append(replace(d, attempts=d.attempts + 1, lease_owner=owner,
                                       lease_until=lease_until))
        read = {(d.event_seq, d.handler): self._s.deliveries[(d.event_seq, d.handler)]
                for d in claimed}

        def op(s: State) -> None:
            for d in claimed:  # as SQL's row locks do: a claim made meanwhile wins
                key = (d.event_seq, d.handler)
                if s.deliveries.get(key) != read[key]:
                    raise Conflict(f"delivery {d.event_seq}/{d.handler} was claimed meanwhile")
                s.deliveries[key] = d

        self._write("outbox.claim", op)
        return claimed

    def done(self, event_seq: int, handler: str, owner: str, at: datetime) -> None:
        self._finish(event_seq, handler, owner, state="done", done_at=at, last_error=None)

    def failed(self, event_seq: int, handler: str, owner: str, error: str,
               retry_at: datetime | None, at: datetime) -> None:
        if retry_at is None:
            self._finish(event_seq, handler, owner, state="dead", done_at=at,
                         last_error=error[:ERROR_CHARS])
        else:
            self._finish(event_seq, handler, owner, state="pending", next_attempt_at=retry_at,
                         last_error=error[:ERROR_CHARS])

    def _finish(self, event_seq: int, handler: str, owner: str, **values: object) -> None:
        key = (event_seq, handler)

        def op(s: State) -> None:
            d = s.deliveries.get(key)
            if d is None or d.lease_owner != owner or d.state != "pending":
                return  # taken over by another dispatcher: theirs to record
            s.deliveries[key] = replace(d, lease_owner=None, lease_until=None,
                                        **values)  # type: ignore[arg-type]

        self._write("outbox.finish", op)

    def renew(self, event_seq: int, handler: str, owner: str, lease_until: datetime) -> bool:
        key = (event_seq, handler)
        d = self._s.deliveries.get(key)
        if d is None or d.lease_owner != owner or d.state != "pending":
            return False
        renewed = replace(d, lease_until=lease_until)

        def op(s: State) -> None:
            now = s.deliveries.get(key)
            if now is None or now.lease_owner != owner or now.state != "pending":
                raise Conflict(f"delivery {event_seq}/{handler} is no longer {owner}'s")
            s.deliveries[key] = renewed

        self._write("outbox.renew", op)
        return True

    def skip(self, handlers: Collection[str], at: datetime, *, after_seq: int = 0,
             subjects: Collection[str] | None = None) -> int:
        keys = [k for k, d in self._s.deliveries.items()
                if d.state == "pending" and d.handler in handlers and d.event_seq > after_seq
                and (subjects is None or subject_of(d.event) in subjects)]

        def op(s: State) -> None:
            for k in keys:
                s.deliveries[k] = replace(s.deliveries[k], state="skipped", done_at=at,
                                          lease_owner=None, lease_until=None,
                                          last_error="skipped: this deployment does not "
                                                     "run this handler")

        self._write("outbox.skip", op)
        return len(keys)

    def retry(self, event_seq: int | None, at: datetime) -> int:
        keys = [k for k, d in self._s.deliveries.items() if d.state == "dead"
                and (event_seq is None or d.event_seq == event_seq)]

        def op(s: State) -> None:
            for k in keys:
                s.deliveries[k] = replace(s.deliveries[k], state="pending", next_attempt_at=at,
                                          done_at=None, attempts=0)

        self._write("outbox.retry", op)
        return len(keys)

    def list(self, *, states: Collection[DeliveryState] = ("pending", "dead"),
             limit: int = 100) -> builtins.list[Delivery]:
        found = sorted((d for d in self._s.deliveries.values() if d.state in states),
                       key=lambda d: (d.event_seq, d.handler))
        return found[:limit]

    def last_seq(self) -> int:
        return max(self._s.outbox, default=0)

    def events(self, *, model: str | None = None, name: str | None = None,
               after_seq: int = 0, limit: int = 100) -> builtins.list[tuple[int, events.Event]]:
        found = [(seq, e) for seq, e in sorted(self._s.outbox.items())
                 if seq > after_seq and (model is None or e.model == model)
                 and (name is None or events.name_of(e) == name)]
        return found[:limit]

    def counts(self) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        for d in self._s.deliveries.values():
            out[(d.handler, d.state)] = out.get((d.handler, d.state), 0) + 1
        return out
