"""What the Slack surface remembers, each in a short transaction of its own (the ChatRecords
port on the one unit of work): requests already handled, and where each message lives.

Called before or after a play, never inside one: on SQLite a thread must never hold two
transactions at once.
"""

from __future__ import annotations

from datetime import datetime

from core.ports import UnitOfWorkFactory


class SlackMemory:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    def claim(self, key: str, kind: str, at: datetime) -> bool:
        """True the first time `key` is seen; False for a retry or replay of it."""
        with self._uow() as uow:
            first = uow.chat.first_delivery(key, kind, at)
            uow.commit()
        return first

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
        with self._uow() as uow:
            return uow.chat.message(kind, key)
