"""The Slack inbox: a request is recorded, with what is needed to resume it, before it is
acknowledged, and marked handled only when its work is done; a replica that died leaves it
to another. Rows from before are handled.

Written by hand to match storage/orm_slack.py as of this revision.

Revision ID: 0006_slack_inbox
Revises: 0005_effects
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_slack_inbox"
down_revision: str | Sequence[str] | None = "0005_effects"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("slack_deliveries") as batch:
        batch.add_column(sa.Column("payload", sa.Text(), nullable=True))
        batch.add_column(sa.Column("owner", sa.String(), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("effect", sa.Text(), nullable=True))
    op.execute("UPDATE slack_deliveries SET handled_at = received_at")


def downgrade() -> None:
    with op.batch_alter_table("slack_deliveries") as batch:
        for column in ("effect", "handled_at", "lease_until", "owner", "payload"):
            batch.drop_column(column)
