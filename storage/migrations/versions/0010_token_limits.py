"""API tokens get an identity of their own, an expiry, a list of models and their last use.

Written by hand to match storage/orm_api.py as of this revision. Tokens made before have
none of these: they keep working as before (their name is their identity, they never expire,
they cover every model).

Revision ID: 0010_token_limits
Revises: 0009_schema_releases
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_token_limits"
down_revision: str | Sequence[str] | None = "0009_schema_releases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("user", sa.String(), nullable=True))
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("models", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        for name in ("last_used_at", "models", "expires_at", "user"):
            batch.drop_column(name)
