"""The HTTP API's tables: access tokens, idempotency keys and canary traffic slices.

A branch of its own beside the Slack app's revision (both revise 0001); `migrate()` upgrades to
"heads". Written by hand to match storage/orm_api.py as of this revision.

Revision ID: 0002_api
Revises: 0001
Create Date: 2024-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_api"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _text(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.String(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        _text("id"), _text("name"), _text("token_hash"),
        sa.Column("scopes", sa.JSON(), nullable=False),
        _time("created_at"), _text("created_by"), _time("revoked_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )

    op.create_table(
        "api_idempotency",
        _text("scope"), _text("key"), _text("fingerprint"),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        _time("created_at"),
        sa.PrimaryKeyConstraint("scope", "key", name="pk_api_idempotency"),
    )
    op.create_index("ix_api_idempotency_created_at", "api_idempotency", ["created_at"])

    op.create_table(
        "canaries",
        _text("model"), _text("version_id"),
        sa.Column("fraction", sa.Float(), nullable=False),
        _time("started_at"), _text("started_by"), _time("ended_at", nullable=True),
        sa.PrimaryKeyConstraint("model", name="pk_canaries"),
        sa.ForeignKeyConstraint(["model", "version_id"], ["versions.model", "versions.id"],
                                name="fk_canaries_model_version_id"),
    )


def downgrade() -> None:
    for table in ("canaries", "api_idempotency", "api_tokens"):
        op.drop_table(table)
