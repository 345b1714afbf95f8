"""Incidents monitoring opened: `detections` (core.domain.Detection), one per alert
fingerprint at a time, until the on-call rolls back or dismisses it.

Written by hand to match storage/orm.py as of this revision.

Revision ID: 0013_detections
Revises: 0012_attribution_partitions
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_detections"
down_revision: str | Sequence[str] | None = "0012_attribution_partitions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _text(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.String(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "detections",
        _text("id"), _text("model"), _text("fingerprint"), _text("source"),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        _text("status"), _text("state"), _time("started_at"), _time("received_at"),
        _time("updated_at"), _text("suspect_version", nullable=True),
        sa.Column("fired", sa.Integer(), nullable=False),
        sa.Column("flaps", sa.Integer(), nullable=False),
        _time("resolved_at", nullable=True), _text("decided_by", nullable=True),
        _time("decided_at", nullable=True), _text("incident_id", nullable=True),
        sa.Column("verdict", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_detections"),
    )
    op.create_index("ix_detections_model_fingerprint_received_at", "detections",
                    ["model", "fingerprint", "received_at"])
    op.create_index("ix_detections_model_received_at", "detections", ["model", "received_at"])


def downgrade() -> None:
    op.drop_table("detections")
