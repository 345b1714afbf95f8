"""Tables of the Slack app: deliveries already handled, and where its messages live.

Kept apart from storage/orm.py so the registry's schema stays Slack-free; they share `Base`
so one metadata (and one migration check) covers both.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlalchemy.orm import Mapped, mapped_column

from storage.orm import Base


class SlackDeliveryRow(Base):
    """One handled Slack request (a command's or click's trigger_id, an event's event_id).

    Slack retries a request it thinks was lost; a second insert of the same key fails, so the
    retry is acknowledged and does nothing.
    """

    __tablename__ = "slack_deliveries"

    key: Mapped[str] = mapped_column(primary_key=True)
    kind: Mapped[str]
    received_at: Mapped[datetime]

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
