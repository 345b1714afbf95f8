"""What the Slack surface remembers (the ChatRecords port): handled deliveries and where each
message lives. Values go out as plain strings, never rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from storage.errors import translated
from storage.orm_slack import SlackDeliveryRow, SlackMessageRow
from storage.repositories.base import SqlRepository


class SqlChatRecords(SqlRepository):
    @translated("recording a Slack delivery")
    def first_delivery(self, key: str, kind: str, at: datetime) -> bool:
        try:
            with self._savepoint():
                self._write(insert(SlackDeliveryRow).values(key=key, kind=kind, received_at=at))
        except IntegrityError:
            return False
        return True

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
