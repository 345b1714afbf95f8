"""PostgreSQL: attributions partitioned by week of `served_at`, so retention drops whole
partitions. SQLite: nothing changes.

Written by hand to match storage/partitions.py as of this revision. The table as it was
becomes the first partition (everything served before the week after the newest record)
without copying a row: it is renamed and attached. Attaching reads it once to check the bound
and builds its (request_id, served_at) index, minutes on tens of millions of rows; writers of
attributions wait for that (stop ingest, or accept that serving's batches retry). The primary
key becomes (request_id, served_at): PostgreSQL has no index across partitions, so a request id
is unique within its partition (storage/repositories/records.py keeps retries idempotent).

Revision ID: 0012_attribution_partitions
Revises: 0011_read_paths
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0012_attribution_partitions"
down_revision: str | Sequence[str] | None = "0011_read_paths"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WEEK = timedelta(days=7)
AHEAD = timedelta(weeks=4)
COLUMNS = ("request_id varchar NOT NULL, model varchar NOT NULL, version_id varchar NOT NULL, "
           "served_at timestamptz NOT NULL, latency_ms double precision, error boolean, "
           "feedback double precision")


def _week_start(t: datetime) -> datetime:
    day = t.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    now = datetime.now(UTC)
    newest = conn.execute(sa.text("SELECT max(served_at) FROM attributions")).scalar()
    boundary = _week_start(max(now, newest or now)) + WEEK
    first = f"attributions_before_{boundary:%Y%m%d}"
    for sql in (
            "ALTER TABLE attributions DROP CONSTRAINT pk_attributions",
            f'ALTER INDEX ix_attributions_model_served_at RENAME TO "{first}_model_served_at"',
            f'ALTER TABLE attributions RENAME TO "{first}"',
            f"CREATE TABLE attributions ({COLUMNS}, CONSTRAINT pk_attributions "
            "PRIMARY KEY (request_id, served_at)) PARTITION BY RANGE (served_at)",
            "CREATE INDEX ix_attributions_model_served_at ON attributions (model, served_at)",
            f'ALTER TABLE attributions ATTACH PARTITION "{first}" '
            f"FOR VALUES FROM (MINVALUE) TO ('{boundary.isoformat()}')"):
        conn.execute(sa.text(sql))
    start = boundary
    while start < boundary + AHEAD:  # four weeks past the first partition
        name = f"attributions_{start:%Y%m%d}"
        conn.execute(sa.text(f'CREATE TABLE "{name}" PARTITION OF attributions '
                             f"FOR VALUES FROM ('{start.isoformat()}') "
                             f"TO ('{(start + WEEK).isoformat()}')"))
        start += WEEK


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    # One table again: copied, newest record of a request id first (it is the one audits
    # showed), as the single-table primary key allows one.
    for sql in (
            "ALTER TABLE attributions RENAME TO attributions_partitioned",
            "ALTER INDEX pk_attributions RENAME TO pk_attributions_partitioned",
            "ALTER INDEX ix_attributions_model_served_at "
            "RENAME TO ix_attributions_partitioned_model_served_at",
            f"CREATE TABLE attributions ({COLUMNS}, "
            "CONSTRAINT pk_attributions PRIMARY KEY (request_id))",
            "INSERT INTO attributions SELECT * FROM attributions_partitioned "
            "ORDER BY served_at DESC ON CONFLICT (request_id) DO NOTHING",
            "DROP TABLE attributions_partitioned",
            "CREATE INDEX ix_attributions_model_served_at ON attributions (model, served_at)"):
        conn.execute(sa.text(sql))
