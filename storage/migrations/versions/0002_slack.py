"""The Slack app's tables: handled deliveries (retries do nothing twice) and posted messages
(approval cards and incident records, updated in place or replied to in their thread).

A branch of its own beside the HTTP API's revision; `migrate()` upgrades to "heads".
Written by hand to match storage/orm_slack.py as of this revision.

Revision ID: 0002_slack
Revises: 0001
Create Date: 2024-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_slack"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slack_deliveries",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_slack_deliveries"),
    )
    op.create_index("ix_slack_deliveries_received_at", "slack_deliveries", ["received_at"])
    op.create_table(
        "slack_messages",
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("ts", sa.String(), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key", name="pk_slack_messages"),
    )


def downgrade() -> None:
    op.drop_table("slack_messages")
    op.drop_table("slack_deliveries")
