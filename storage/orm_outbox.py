"""The outbox: domain events written in the transaction of their change, and one delivery per
handler subscribed to each (core.outbox explains the guarantee).

Imported last by storage/orm.py so Base.metadata and the migrations see it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.orm import Base


class OutboxEventRow(Base):
    __tablename__ = "outbox_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str]
    model: Mapped[str]
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    request_id: Mapped[str | None]  # the request whose play wrote it (for the logs)


class OutboxDeliveryRow(Base):
    __tablename__ = "outbox_deliveries"

    event_seq: Mapped[int] = mapped_column(ForeignKey("outbox_events.seq"), primary_key=True)
    handler: Mapped[str] = mapped_column(primary_key=True)
    model: Mapped[str]
    subject: Mapped[str]  # core.events.subject_of: deliveries of one subject run in order
    state: Mapped[str]  # pending | done | dead | skipped
    attempts: Mapped[int]
    next_attempt_at: Mapped[datetime]
    lease_owner: Mapped[str | None]
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_outbox_deliveries_state_handler_next_attempt_at", "state", "handler",
              "next_attempt_at"),
        Index("ix_outbox_deliveries_handler_subject_event_seq", "handler", "subject",
              "event_seq"),
    )
