"""Tables of the Slack app: deliveries already handled, and where its messages live.

Kept apart from storage/orm.py so the registry's schema stays Slack-free; they share `Base`
so one metadata (and one migration check) covers both.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.orm import Base


class SlackDeliveryRow(Base):
    """One Slack request (a command's or click's trigger_id, an event's event_id), recorded
    before it is acknowledged: the inbox. A replica holds it under a lease while its work
    runs, and marks it handled when the work is done; one whose replica died is taken over.
    Slack's retry of a request already recorded is acknowledged and does nothing.
    """

    __tablename__ = "slack_deliveries"

    key: Mapped[str] = mapped_column(primary_key=True)
    kind: Mapped[str]
    received_at: Mapped[datetime]
    payload: Mapped[str | None] = mapped_column(Text)  # the request, to resume it
    owner: Mapped[str | None]
    lease_until: Mapped[datetime | None]
    handled_at: Mapped[datetime | None]
    effect: Mapped[str | None] = mapped_column(Text)  # its first committed change

    __table_args__ = (Index("ix_slack_deliveries_received_at", "received_at"),)


class SlackMessageRow(Base):
    """Where the bot posted the message about something (an approval card, an incident record),
    so it can be updated in place or replied to in its thread later."""

    __tablename__ = "slack_messages"

    kind: Mapped[str] = mapped_column(primary_key=True)  # approval | incident
    key: Mapped[str] = mapped_column(primary_key=True)  # the request or incident id
    channel: Mapped[str]
    ts: Mapped[str]
    posted_at: Mapped[datetime]
