"""Play runs remember the request that started them (X-Request-ID, or Slack's id), so a log
line, a run and a request can be tied together.

Written by hand to match storage/orm.py as of this revision.

Revision ID: 0007_run_request_id
Revises: 0006_slack_inbox
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_run_request_id"
down_revision: str | Sequence[str] | None = "0006_slack_inbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("play_runs") as batch:
        batch.add_column(sa.Column("request_id", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("play_runs") as batch:
        batch.drop_column("request_id")
