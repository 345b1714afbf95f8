"""Which Playbook release migrated the schema to each revision (storage/orm_schema.py): an
older Playbook facing a newer schema names the release it needs.

Written by hand to match storage/orm_schema.py as of this revision.

Revision ID: 0009_schema_releases
Revises: 0008_outbox_request_id
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_schema_releases"
down_revision: str | Sequence[str] | None = "0008_outbox_request_id"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "schema_releases",
        sa.Column("revision", sa.String(), primary_key=True),
        sa.Column("release", sa.String(), nullable=False),
        sa.Column("migrated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("schema_releases")
