"""The scheduler: job claims (each scheduled post goes out once across replicas), and the
deploy path fingerprint a rehearsal exercised. Joins the HTTP API and Slack branches.

Written by hand to match storage/orm_scheduler.py and storage/orm.py as of this revision.

Revision ID: 0003_scheduler
Revises: 0002_api, 0002_slack
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_scheduler"
down_revision: str | Sequence[str] | None = ("0002_api", "0002_slack")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_claims",
        sa.Column("job", sa.String(), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("job", "scheduled_at", name="pk_job_claims"),
    )
    op.create_index("ix_job_claims_done_at_claimed_at", "job_claims", ["done_at", "claimed_at"])
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("deploy_fingerprint", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("deploy_fingerprint")
    op.drop_index("ix_job_claims_done_at_claimed_at", table_name="job_claims")
    op.drop_table("job_claims")
