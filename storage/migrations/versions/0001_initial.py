"""The registry's tables: versions, tags and their event log, approvals, incidents,
attributions and play runs.

Written by hand to match storage/orm.py as of this revision; tests/integration compares the two.
Types are spelled out here rather than imported from storage, so later edits to orm.py can never
change what this revision did.

Revision ID: 0001
Revises:
Create Date: 2024-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _text(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.String(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "versions",
        _text("model"), _text("id"),
        sa.Column("components", sa.JSON(), nullable=False),
        _text("owner"), _text("parent_id", nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("eval_source", sa.Text(), nullable=False),
        _time("created_at"), _text("kind"), _text("experiment", nullable=True),
        _time("expires_at", nullable=True),
        sa.Column("artifacts", sa.JSON(), nullable=False),
        sa.Column("artifact_count", sa.Integer(), nullable=False),
        _time("artifacts_collected_at", nullable=True),
        sa.PrimaryKeyConstraint("model", "id", name="pk_versions"),
    )
    op.create_index("ix_versions_model_created_at", "versions", ["model", "created_at"])

    op.create_table(
        "tags",
        _text("model"), _text("name"), _text("version_id"),
        sa.Column("revision", sa.Integer(), nullable=False),
        _time("moved_at"),
        sa.PrimaryKeyConstraint("model", "name", name="pk_tags"),
        sa.ForeignKeyConstraint(["model", "version_id"], ["versions.model", "versions.id"],
                                name="fk_tags_model_version_id"),
    )

    op.create_table(
        "tag_events",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        _text("model"), _text("tag"), _text("from_version", nullable=True), _text("to_version"),
        sa.Column("revision", sa.Integer(), nullable=False),
        _text("actor"),
        sa.Column("approvers", sa.JSON(), nullable=False),
        _text("play"),
        sa.Column("reason", sa.Text(), nullable=False),
        _time("at"),
        sa.PrimaryKeyConstraint("seq", name="pk_tag_events"),
        sa.UniqueConstraint("model", "tag", "revision", name="uq_tag_events_model_tag_revision"),
        sa.ForeignKeyConstraint(["model", "to_version"], ["versions.model", "versions.id"],
                                name="fk_tag_events_model_to_version"),
        sa.ForeignKeyConstraint(["model", "from_version"], ["versions.model", "versions.id"],
                                name="fk_tag_events_model_from_version"),
    )
    op.create_index("ix_tag_events_model_tag_seq", "tag_events", ["model", "tag", "seq"])
    op.create_index("ix_tag_events_model_to_version", "tag_events", ["model", "to_version"])
    op.create_index("ix_tag_events_model_from_version", "tag_events", ["model", "from_version"])

    op.create_table(
        "approval_requests",
        _text("id"), _text("model"), _text("version_id"), _text("tag"), _text("requester"),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("required", sa.Integer(), nullable=False),
        _time("created_at"), _time("expires_at"),
        _text("production_at_request", nullable=True), _text("status"),
        sa.Column("approvals", sa.JSON(), nullable=False),
        _text("decided_by", nullable=True), _time("decided_at", nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_approval_requests"),
        sa.ForeignKeyConstraint(["model", "version_id"], ["versions.model", "versions.id"],
                                name="fk_approval_requests_model_version_id"),
    )
    op.create_index("ix_approval_requests_status_model", "approval_requests",
                    ["status", "model"])
    op.create_index("ix_approval_requests_model_version_id", "approval_requests",
                    ["model", "version_id"])

    op.create_table(
        "incidents",
        _text("id"), _text("model"), _text("tag"), _text("bad_version"),
        _text("restored_version"),
        sa.Column("symptom", sa.Text(), nullable=False),
        _text("opened_by"), _time("opened_at"), _time("rolled_back_at"),
        sa.Column("time_to_rollback_s", sa.Float(), nullable=False),
        _time("confirmed_at", nullable=True),
        sa.Column("confirmation", sa.Text(), nullable=True),
        sa.Column("confirm_scores", sa.JSON(), nullable=False),
        sa.Column("rehearsal", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
        sa.ForeignKeyConstraint(["model", "bad_version"], ["versions.model", "versions.id"],
                                name="fk_incidents_model_bad_version"),
        sa.ForeignKeyConstraint(["model", "restored_version"], ["versions.model", "versions.id"],
                                name="fk_incidents_model_restored_version"),
    )
    op.create_index("ix_incidents_model_opened_at", "incidents", ["model", "opened_at"])
    op.create_index("ix_incidents_model_bad_version", "incidents", ["model", "bad_version"])
    op.create_index("ix_incidents_model_restored_version", "incidents",
                    ["model", "restored_version"])

    op.create_table(
        "attributions",
        _text("request_id"), _text("model"), _text("version_id"), _time("served_at"),
        sa.Column("latency_ms", sa.Float(), nullable=True),
        sa.Column("error", sa.Boolean(), nullable=True),
        sa.Column("feedback", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("request_id", name="pk_attributions"),
    )
    op.create_index("ix_attributions_model_served_at", "attributions", ["model", "served_at"])

    op.create_table(
        "play_runs",
        _text("id"), _text("play"), _text("actor"),
        sa.Column("inputs", sa.JSON(), nullable=False),
        _text("status"),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        _time("started_at"), _time("ended_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_play_runs"),
    )
    op.create_index("ix_play_runs_play_started_at", "play_runs", ["play", "started_at"])
    op.create_index("ix_play_runs_started_at", "play_runs", ["started_at"])


def downgrade() -> None:
    for table in ("play_runs", "attributions", "incidents", "approval_requests", "tag_events",
                  "tags", "versions"):
        op.drop_table(table)
