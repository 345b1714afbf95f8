"""An incident's stages: when the trouble was detected, and when serving switched to the
restored version (the first request it served after the move). Both nullable: incidents
recorded before knew neither.

Revision ID: 0014_incident_stages
Revises: 0013_detections
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_incident_stages"
down_revision: str | Sequence[str] | None = "0013_detections"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("incidents", sa.Column("detected_at", sa.DateTime(timezone=True),
                                         nullable=True))
    op.add_column("incidents", sa.Column("serving_switched_at", sa.DateTime(timezone=True),
                                         nullable=True))


def downgrade() -> None:
    op.drop_column("incidents", "serving_switched_at")
    op.drop_column("incidents", "detected_at")
