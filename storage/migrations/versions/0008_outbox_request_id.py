"""Outbox events remember the request whose play wrote them, so a delivery's log lines name
the request that caused it.

Written by hand to match storage/orm_outbox.py as of this revision.

Revision ID: 0008_outbox_request_id
Revises: 0007_run_request_id
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_outbox_request_id"
down_revision: str | Sequence[str] | None = "0007_run_request_id"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_events") as batch:
        batch.add_column(sa.Column("request_id", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_events") as batch:
        batch.drop_column("request_id")
