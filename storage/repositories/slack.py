"""The Slack app's own records: handled deliveries and posted messages.

Each method is one short transaction of its own, outside any play's unit of work: on SQLite a
thread must never hold two transactions at once, and these are called before or after a play,
never inside one. Values go out as plain strings, never rows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from storage.errors import translated
from storage.orm_slack import SlackDeliveryRow, SlackMessageRow


class SqlSlackStore:
    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, autoflush=False, expire_on_commit=False)

    @translated("recording a Slack delivery")
    def claim(self, key: str, kind: str, at: datetime) -> bool:
        """True the first time `key` is seen; False for a retry or replay of it."""
        with self._sessions() as session:
            try:
                session.execute(insert(SlackDeliveryRow).values(key=key, kind=kind,
                                                                received_at=at))
                session.commit()
            except IntegrityError:
                session.rollback()
                return False
        return True

    @translated("pruning Slack deliveries")
    def prune(self, before: datetime) -> int:
        """Forget deliveries older than Slack retries them (it gives up within minutes)."""
        with self._sessions() as session:
            result = session.connection().execute(delete(SlackDeliveryRow)
                                     .where(SlackDeliveryRow.received_at < before))
            session.commit()
            return int(result.rowcount or 0)

    @translated("remembering a Slack message")
    def remember(self, kind: str, key: str, channel: str, ts: str, at: datetime) -> None:
        with self._sessions() as session:
            values = {"channel": channel, "ts": ts, "posted_at": at}
            done = session.connection().execute(update(SlackMessageRow)
                                   .where(SlackMessageRow.kind == kind,
                                          SlackMessageRow.key == key).values(values))
            if not done.rowcount:
                session.execute(insert(SlackMessageRow).values(kind=kind, key=key, **values))
            session.commit()

    @translated("reading a Slack message")
    def message(self, kind: str, key: str) -> tuple[str, str] | None:
        """(channel, ts) of the message posted about `key`, if any."""
        with self._sessions() as session:
            row = session.execute(select(SlackMessageRow.channel, SlackMessageRow.ts)
                                  .where(SlackMessageRow.kind == kind,
                                         SlackMessageRow.key == key)).first()
            return (row.channel, row.ts) if row else None


def slack_store(engine: Engine) -> SqlSlackStore:
    """The factory the Slack app's composition calls (nothing is built at import)."""
    return SqlSlackStore(engine)


__all__ = ["SqlSlackStore", "slack_store"]
