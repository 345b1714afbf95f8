"""Attributions over time: weekly partitions on PostgreSQL, and retention on both databases.

On PostgreSQL `attributions` is partitioned by `served_at` (native range partitioning, one
partition per ISO week from Monday 00:00 UTC; migration 0012 made the table that existed
before the first partition, bounded below by nothing). Partitions are created ahead of time
(`ensure`, from the scheduler at start and hourly, and from the ingest path itself if a record
ever arrives past the last one), contiguous from the oldest, so every record has a home.
Retention (`retire`) drops whole partitions once all they hold is past it: a year of traffic
goes as cheaply as a day's. On SQLite, retention deletes in batches.

A new partition is created empty and then attached, which takes only a SHARE UPDATE EXCLUSIVE
lock on the table (ingest and reads carry on); dropping one takes an ACCESS EXCLUSIVE lock for
a moment, bounded by `lock_timeout` so ingest never waits behind it for long (a drop that
times out is retried on the next run). An advisory lock keeps replicas from racing.
"""

from __future__ import annotations

import logging
import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, bindparam, text
from sqlalchemy.exc import OperationalError

from core.errors import InvalidInput
from storage.columns import UTCDateTime
from storage.errors import translated

log = logging.getLogger("playbook.storage")
TABLE = "attributions"
WEEK = timedelta(days=7)
AHEAD = timedelta(weeks=4)  # partitions exist at least this far past now
ON_DEMAND = 106  # weeks ingest may create for one batch: two years either way
LOCK_TIMEOUT = "2s"
DELETE_BATCH = 10_000  # SQLite: rows per delete statement, so the write lock is held briefly
LOCK_KEY = zlib.crc32(b"playbook:attribution-partitions")
DELETE_OLDEST = text(
    f"DELETE FROM {TABLE} WHERE rowid IN (SELECT rowid FROM {TABLE} "
    "WHERE model = :m AND served_at < :t LIMIT :n)").bindparams(
    bindparam("t", type_=UTCDateTime()))
_BOUND = re.compile(r"FROM \((?:MINVALUE|'([^']+)')\) TO \('([^']+)'\)")


@dataclass(frozen=True)
class Partition:
    name: str
    start: datetime | None  # None: everything before `end` (the table from before 0012)
    end: datetime
    rows: int  # the planner's estimate (pg_class.reltuples), -1 when never analysed


@dataclass(frozen=True)
class Retired:
    partitions: tuple[str, ...] = ()  # PostgreSQL: dropped whole
    rows: int = 0  # rows gone (PostgreSQL: estimated from statistics)


def week_start(t: datetime) -> datetime:
    day = t.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def partition_name(start: datetime) -> str:
    return f"{TABLE}_{start:%Y%m%d}"


def is_partitioned(conn: Connection) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    kind = conn.execute(text("SELECT c.relkind FROM pg_class c WHERE c.oid = "
                             "to_regclass(:t)"), {"t": TABLE}).scalar()
    return kind == "p"


def partitions(conn: Connection) -> list[Partition]:
    """The partitions of `attributions`, oldest first (none on SQLite)."""
    if not is_partitioned(conn):
        return []
    conn.execute(text("SET LOCAL TimeZone = 'UTC'"))  # bounds print in UTC, parsed below
    rows = conn.execute(text(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), c.reltuples "
        "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass(:t)"), {"t": TABLE}).all()
    found = []
    for name, bound, tuples in rows:
        m = _BOUND.search(bound)
        if m is None:  # not one of ours (a DEFAULT partition, say): leave it alone
            log.warning("attribution partition %s has a bound Playbook does not manage: %s",
                        name, bound)
            continue
        start = datetime.fromisoformat(m[1]) if m[1] else None
        found.append(Partition(name, start, datetime.fromisoformat(m[2]), int(tuples)))
    return sorted(found, key=lambda p: p.end)


def _locked(conn: Connection) -> None:
    """Replicas take turns (the advisory lock, waited for as long as it takes: the other
    one's work is short); the table's own locks are then bounded by `lock_timeout`."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
    conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))


@translated("creating attribution partitions")
def ensure(engine: Engine, until: datetime, since: datetime | None = None, *,
           at_most: int | None = None) -> list[str]:
    """Weekly partitions so that a record served at any time from `since` (default: the
    oldest partition's start) up to `until` has one, contiguous with those that exist.
    Returns the ones created; more than `at_most` needed is refused (a clock years off)."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.begin() as conn:
        if not is_partitioned(conn):
            return []
        _locked(conn)
        known = partitions(conn)
        weeks: list[datetime] = []
        start = known[-1].end if known else week_start(until)
        while start <= until:
            weeks.append(start)
            start += WEEK
        oldest = known[0].start if known else None
        if since is not None and oldest is not None and since < oldest:
            start = oldest - WEEK
            while start + WEEK > since:
                weeks.append(start)
                start -= WEEK
        if at_most is not None and len(weeks) > at_most:
            raise InvalidInput(
                "served_at",
                f"records served from {since or oldest} to {until} would need {len(weeks)} "
                f"new weekly attribution partitions; at most {at_most} are made on demand",
                hint="a serving host's clock is far off: fix it, or leave served_at out to "
                     "use the time the record arrives. Nothing of this batch was stored")
        for start in weeks:
            conn.execute(text(f'CREATE TABLE "{partition_name(start)}" (LIKE {TABLE} '
                              "INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"))
            conn.execute(text(f'ALTER TABLE {TABLE} ATTACH PARTITION "{partition_name(start)}" '
                              f"FOR VALUES FROM ('{start.isoformat()}') "
                              f"TO ('{(start + WEEK).isoformat()}')"))
    created = [partition_name(w) for w in sorted(weeks)]
    if created:
        log.info("created attribution partitions %s", ", ".join(created))
    return created


@translated("dropping attributions past retention")
def retire(engine: Engine, before: datetime) -> Retired:
    """Remove attributions served before `before`. PostgreSQL drops the partitions that hold
    nothing newer (a partition still holding a newer record waits for a later run); SQLite
    deletes the rows, a batch at a time."""
    if engine.dialect.name == "sqlite":
        return Retired(rows=_delete_rows(engine, before))
    dropped: list[str] = []
    rows = 0
    with engine.begin() as conn:
        if not is_partitioned(conn):
            return Retired()
        _locked(conn)
        for p in partitions(conn):
            if p.end > before:
                break
            try:
                with conn.begin_nested():
                    conn.execute(text(f'DROP TABLE "{p.name}"'))
            except OperationalError as exc:  # lock_timeout: busy now, the next run retries
                log.warning("could not drop attribution partition %s now (%s); the next "
                            "run retries", p.name, exc.orig)
                break
            dropped.append(p.name)
            rows += max(p.rows, 0)
    if dropped:
        log.info("dropped attribution partitions %s (about %d rows)", ", ".join(dropped), rows)
    return Retired(tuple(dropped), rows)


def _delete_rows(engine: Engine, before: datetime) -> int:
    """Per model, along the (model, served_at) index, in short transactions."""
    with engine.connect() as conn:
        models = list(conn.execute(text("SELECT DISTINCT model FROM versions")).scalars())
    total = 0
    for model in models:
        while True:
            with engine.begin() as conn:
                n = conn.execute(DELETE_OLDEST, {"m": model, "t": before,
                                                 "n": DELETE_BATCH}).rowcount
            total += n
            if n < DELETE_BATCH:
                break
    return total
