"""Idempotency keys remember the effect their request committed, in the same transaction as
the effect: a retry after a lost COMMIT answers with what happened instead of acting again.

Written by hand to match storage/orm_api.py as of this revision.

Revision ID: 0005_effects
Revises: 0004_outbox
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_effects"
down_revision: str | Sequence[str] | None = "0004_outbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_idempotency") as batch:
        batch.add_column(sa.Column("effect", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_idempotency") as batch:
        batch.drop_column("effect")
