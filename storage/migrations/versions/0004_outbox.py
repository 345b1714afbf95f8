"""The outbox: domain events and their deliveries to handlers.

Written by hand to match storage/orm_outbox.py as of this revision.

Revision ID: 0004_outbox
Revises: 0003_scheduler
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_outbox"
down_revision: str | Sequence[str] | None = "0003_scheduler"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox_events",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("model", sa.String(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_outbox_events"),
    )
    op.create_table(
        "outbox_deliveries",
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("handler", sa.String(), nullable=False),
        sa.Column("model", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["event_seq"], ["outbox_events.seq"],
                                name="fk_outbox_deliveries_event_seq_outbox_events"),
        sa.PrimaryKeyConstraint("event_seq", "handler", name="pk_outbox_deliveries"),
    )
    op.create_index("ix_outbox_deliveries_state_handler_next_attempt_at", "outbox_deliveries",
                    ["state", "handler", "next_attempt_at"])
    op.create_index("ix_outbox_deliveries_handler_subject_event_seq", "outbox_deliveries",
                    ["handler", "subject", "event_seq"])


def downgrade() -> None:
    op.drop_table("outbox_deliveries")
    op.drop_table("outbox_events")
