"""Where each Slack message lives, each read or write in a short transaction of its own (the
ChatRecords port on the one unit of work; bot.slack.inbox keeps the requests).

Called before or after a play, never inside one: on SQLite a thread must never hold two
transactions at once.
"""

from __future__ import annotations

from datetime import datetime

from core.ports import UnitOfWorkFactory


class SlackMemory:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    def prune(self, before: datetime) -> int:
        with self._uow() as uow:
            gone = uow.chat.prune_deliveries(before)
            uow.commit()
        return gone

    def remember(self, kind: str, key: str, channel: str, ts: str, at: datetime) -> None:
        with self._uow() as uow:
            uow.chat.remember(kind, key, channel, ts, at)
            uow.commit()

    def message(self, kind: str, key: str) -> tuple[str, str] | None:
        """(channel, ts) of the message posted about `key`, if any."""
        with self._uow(read_only=True) as uow:
            return uow.chat.message(kind, key)
