"""The scheduler's table: one claim per (job, scheduled time), so that of several replicas of
`playbook serve` exactly one posts each scheduled message.

Imported last by storage/orm.py so Base.metadata and the migrations see it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.orm import Base


class JobClaimRow(Base):
    __tablename__ = "job_claims"

    job: Mapped[str] = mapped_column(primary_key=True)
    scheduled_at: Mapped[datetime] = mapped_column(primary_key=True)
    claimed_by: Mapped[str]
    claimed_at: Mapped[datetime]
    attempts: Mapped[int]
    done_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(Text)  # what was posted, or why it failed

    __table_args__ = (Index("ix_job_claims_done_at_claimed_at", "done_at", "claimed_at"),)
