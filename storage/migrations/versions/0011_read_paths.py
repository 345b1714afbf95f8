"""Reads that stay flat as history grows: each version knows its depth and root, tag events
are indexed by time, and /metrics reads running totals (registry_counters).

Written by hand to match storage/orm.py and storage/orm_counters.py as of this revision.
`depth` and `root_id` of the versions already stored are worked out here from their parent
ids (a parent that is not registered starts a chain, as the lineage walk always treated it),
and the totals from the history already stored (as storage/repositories/counters.py keeps
them from now on).

Revision ID: 0011_read_paths
Revises: 0010_token_limits
Create Date: 2026-12-06
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_read_paths"
down_revision: str | Sequence[str] | None = "0010_token_limits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5_000
# core.domain.TIME_TO_ROLLBACK_BUCKETS as of this revision.
BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)


def upgrade() -> None:
    # NOT NULL with a default, so SQLite adds them in place: making a column NOT NULL later
    # would rebuild the table, which its foreign keys forbid once tags and events point at it.
    op.add_column("versions", sa.Column("depth", sa.Integer(), nullable=False,
                                        server_default="0"))
    op.add_column("versions", sa.Column("root_id", sa.String(), nullable=False,
                                        server_default=sa.text("''")))
    _fill_depths()
    op.create_index("ix_tag_events_model_tag_at", "tag_events", ["model", "tag", "at", "seq"])
    op.create_index("ix_tag_events_model_at", "tag_events", ["model", "at"])
    counters = op.create_table(
        "registry_counters",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("labels", sa.String(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", "labels"))
    _fill_counters(counters)


def _fill_counters(counters: sa.Table) -> None:
    conn = op.get_bind()
    totals: dict[tuple[str, tuple[str, ...]], float] = {}

    def add(name: str, labels: tuple[str, ...], by: float) -> None:
        totals[(name, labels)] = totals.get((name, labels), 0.0) + by

    events = sa.table("tag_events", sa.column("model"), sa.column("tag"), sa.column("play"))
    for model, tag, play, n in conn.execute(
            sa.select(events.c.model, events.c.tag, events.c.play, sa.func.count())
            .group_by(events.c.model, events.c.tag, events.c.play)):
        add("tag_moves", (model, tag, play), n)
    incidents = sa.table("incidents", sa.column("model"), sa.column("time_to_rollback_s"),
                         sa.column("rehearsal"))
    for model, seconds in conn.execute(
            sa.select(incidents.c.model, incidents.c.time_to_rollback_s)
            .where(incidents.c.rehearsal.is_(False))):
        bucket = next((i for i, bound in enumerate(BUCKETS) if seconds <= bound), len(BUCKETS))
        add("rollback_seconds_bucket", (model, str(bucket)), 1)
        add("rollback_seconds_sum", (model,), float(seconds))
    deliveries = sa.table("outbox_deliveries", sa.column("handler"), sa.column("state"))
    for handler, state, n in conn.execute(
            sa.select(deliveries.c.handler, deliveries.c.state, sa.func.count())
            .where(deliveries.c.state.in_(["done", "skipped"]))
            .group_by(deliveries.c.handler, deliveries.c.state)):
        add("outbox_deliveries", (handler, state), n)
    if totals:
        op.bulk_insert(counters, [
            {"name": name, "labels": json.dumps(list(labels), separators=(",", ":")),
             "value": value} for (name, labels), value in sorted(totals.items())])


def _fill_depths() -> None:
    conn = op.get_bind()
    versions = sa.table("versions", sa.column("model"), sa.column("id"),
                        sa.column("parent_id"), sa.column("depth"), sa.column("root_id"))
    parent_of = {(m, i): p for m, i, p in conn.execute(
        sa.select(versions.c.model, versions.c.id, versions.c.parent_id))}
    placed: dict[tuple[str, str], tuple[int, str]] = {}
    for key in parent_of:
        path: list[tuple[str, str]] = []
        on_path: set[tuple[str, str]] = set()
        at: tuple[str, str] | None = key
        while at is not None and at not in placed and at not in on_path:
            path.append(at)
            on_path.add(at)
            parent = parent_of[at]
            at = (at[0], parent) if parent is not None and (at[0], parent) in parent_of else None
        depth, root = (placed[at][0] + 1, placed[at][1]) if at in placed else (0, path[-1][1])
        for node in reversed(path):  # from the top of this path down to `key`
            placed[node] = (depth, root)
            depth += 1
    rows = [{"m": m, "i": i, "d": d, "r": r} for (m, i), (d, r) in placed.items()]
    update = (sa.update(versions)
              .where(versions.c.model == sa.bindparam("m"), versions.c.id == sa.bindparam("i"))
              .values(depth=sa.bindparam("d"), root_id=sa.bindparam("r")))
    for start in range(0, len(rows), BATCH):
        conn.execute(update, rows[start:start + BATCH])


def downgrade() -> None:
    op.drop_table("registry_counters")
    op.drop_index("ix_tag_events_model_at", "tag_events")
    op.drop_index("ix_tag_events_model_tag_at", "tag_events")
    op.drop_column("versions", "root_id")
    op.drop_column("versions", "depth")
