"""What the Slack surface remembers (the ChatRecords port): handled deliveries and where each
message lives. Values go out as plain strings, never rows."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from core.ports import Received
from storage.errors import translated
from storage.orm_slack import SlackDeliveryRow, SlackMessageRow
from storage.repositories.base import SqlRepository


class SqlChatRecords(SqlRepository):
    @translated("recording a Slack delivery")
    def receive(self, key: str, kind: str, payload: str, owner: str, now: datetime,
                lease_until: datetime) -> Received:
        try:
            with self._savepoint():
                self._write(insert(SlackDeliveryRow).values(
                    key=key, kind=kind, received_at=now, payload=payload, owner=owner,
                    lease_until=lease_until))
            return Received("new")
        except IntegrityError:
            pass
        row = self._by_key(SlackDeliveryRow, key)
        if row is None:  # pragma: no cover - pruned between the insert and the read
            return Received("handled")
        if row.handled_at is not None:
            return Received("handled")
        if row.lease_until is not None and row.lease_until > now:
            return Received("in_flight")
        d = SlackDeliveryRow
        taken = self._write(update(d).where(
            d.key == key, d.handled_at.is_(None),
            d.lease_until.is_(None) if row.lease_until is None
            else d.lease_until == row.lease_until).values(owner=owner, lease_until=lease_until))
        return Received("taken_over", row.effect) if taken.rowcount else Received("in_flight")

    @translated("renewing Slack delivery leases")
    def renew(self, keys: Collection[str], owner: str, lease_until: datetime) -> int:
        if not keys:
            return 0
        d = SlackDeliveryRow
        done = self._write(update(d).where(d.key.in_(list(keys)), d.owner == owner,
                                           d.handled_at.is_(None))
                           .values(lease_until=lease_until))
        return int(done.rowcount or 0)

    @translated("recording a handled Slack delivery")
    def handled(self, key: str, owner: str, at: datetime) -> bool:
        d = SlackDeliveryRow
        done = self._write(update(d).where(d.key == key, d.owner == owner,
                                           d.handled_at.is_(None))
                           .values(handled_at=at, payload=None))
        return bool(done.rowcount)

    @translated("listing unhandled Slack deliveries")
    def unhandled(self, now: datetime, limit: int = 20) -> list[tuple[str, str]]:
        d = SlackDeliveryRow
        rows = self._session.execute(
            select(d.key, d.payload).where(d.handled_at.is_(None), d.payload.is_not(None),
                                           d.lease_until < now)
            .order_by(d.received_at, d.key).limit(limit)).all()
        return [(r.key, r.payload) for r in rows]

    @translated("remembering what a Slack request changed")
    def mark_effect(self, key: str, effect: str) -> None:
        d = SlackDeliveryRow
        self._write(update(d).where(d.key == key, d.effect.is_(None)).values(effect=effect))

    @translated("pruning Slack deliveries")
    def prune_deliveries(self, before: datetime) -> int:
        """Forget deliveries older than Slack retries them (it gives up within minutes)."""
        result = self._write(delete(SlackDeliveryRow)
                             .where(SlackDeliveryRow.received_at < before))
        return int(result.rowcount or 0)

    @translated("remembering a Slack message")
    def remember(self, kind: str, key: str, channel: str, ts: str, at: datetime) -> None:
        values = {"channel": channel, "ts": ts, "posted_at": at}
        done = self._write(update(SlackMessageRow)
                           .where(SlackMessageRow.kind == kind, SlackMessageRow.key == key)
                           .values(values))
        if not done.rowcount:
            self._write(insert(SlackMessageRow).values(kind=kind, key=key, **values))

    @translated("reading a Slack message")
    def message(self, kind: str, key: str) -> tuple[str, str] | None:
        row = self._session.execute(select(SlackMessageRow.channel, SlackMessageRow.ts)
                                    .where(SlackMessageRow.kind == kind,
                                           SlackMessageRow.key == key)).first()
        return (row.channel, row.ts) if row else None
