"""Fast seeding: a long registry history and a big attribution table, without play runs.

Running 10,000 register and promote plays would take minutes and measure nothing useful, so
the history is written with bulk inserts of the rows storage itself would write: every row
comes from `storage.orm.*Row.values(<domain object>)` (versions, tag events, attributions),
so column mapping and the UTC datetime type are storage's own. Versions and tag events go in
one transaction per table as one executemany; the production tag row is written last at the
revision the event chain reached. Attributions go in with one executemany per 50,000 rows on
SQLite and with COPY on PostgreSQL. Each load ends with `storage.database.refresh_statistics`,
which a Playbook server runs at start and every hour (on PostgreSQL autovacuum would do the
same on its own after a load this size).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, insert

from bench.harness import METRIC, MIN_SCORE, MODEL, Database
from core.domain import PRODUCTION, Attribution, TagMoved, Version
from core.identity import Components, version_id
from storage.database import refresh_statistics
from storage.orm import AttributionRow, TagEventRow, TagRow, VersionRow

VERSIONS: Table = VersionRow.__table__  # type: ignore[assignment]
TAG_EVENTS: Table = TagEventRow.__table__  # type: ignore[assignment]
TAGS: Table = TagRow.__table__  # type: ignore[assignment]
ATTRIBUTIONS: Table = AttributionRow.__table__  # type: ignore[assignment]

ROLLBACK_EVERY = 10  # every 10th production event of the seeded history is a rollback
FAILING_EVERY = 50  # every 50th promoted version scores below min_score (raised later)
SQLITE_CHUNK = 50_000


@dataclass
class SeededRegistry:
    versions: int
    production_events: int
    rollback_events: int
    production: str  # id production points at after seeding
    spare: list[str]  # registered, never promoted, scores above everything else seeded
    seconds: float
    all_ids: list[str] = field(repr=False, default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"versions": self.versions, "production_events": self.production_events,
                "rollback_events": self.rollback_events, "seconds": round(self.seconds, 2)}


def seed_registry(db: Database, n_versions: int, *, spare: int) -> SeededRegistry:
    """`n_versions` versions in one lineage chain; all but the last `spare` were production
    once, in a history where every 10th production event is a rollback (so the
    last-known-good search has a real rolled-back-from set to skip) and every 50th promoted
    version fails today's min_score (so the search also has to check scores)."""
    if n_versions < spare + 2:
        raise ValueError(f"need at least {spare + 2} versions to seed, got {n_versions}")
    started = time.perf_counter()
    now = datetime.now(UTC)
    base = now - timedelta(days=400)
    # Versions in the first half of the 400 days, their production history in the second,
    # ending an hour ago: whatever the count, every time is in the past (at ten minutes a
    # version, as before, 57,600 versions reached today and more went into the future).
    half = (now - timedelta(hours=1) - base) / 2
    version_step = half / n_versions
    promotable = n_versions - spare
    ids: list[str] = []
    passing: dict[str, bool] = {}
    rows: list[dict[str, Any]] = []
    for k in range(n_versions):
        components = Components(prompt=f"seeded prompt {k}", config={"temperature": 0.2})
        vid = version_id(components)
        if k < promotable:
            fails = k % FAILING_EVERY == FAILING_EVERY - 1 and k != promotable - 1
            score = 0.4 if fails else 0.6 + 0.2 * k / n_versions
        else:
            score = 0.9 + (k - promotable) * 1e-5
        passing[vid] = score >= MIN_SCORE
        rows.append(VersionRow.values(Version(
            model=MODEL, id=vid, components=components, owner="seed",
            parent_id=ids[-1] if ids else None, reason=f"seeded change {k}",
            scores={METRIC: score}, eval_source="supplied",
            created_at=base + version_step * k), depth=k, root_id=ids[0] if ids else vid))
        ids.append(vid)

    events = _history(ids[:promotable], passing)
    step = half / max(1, len(events))
    first_at = base + half
    event_rows = [TagEventRow.values(TagMoved(
        model=MODEL, tag=PRODUCTION, from_version=src, to_version=dst, revision=i + 1,
        actor="seed", approvers=(), play=play, reason="seeded history",
        at=first_at + step * i)) for i, (play, src, dst) in enumerate(events)]
    production = events[-1][2]

    with db.engine.begin() as conn:
        conn.execute(insert(VERSIONS), rows)
    with db.engine.begin() as conn:
        conn.execute(insert(TAG_EVENTS), event_rows)
        conn.execute(insert(TAGS), [{"model": MODEL, "name": PRODUCTION,
                                     "version_id": production, "revision": len(events),
                                     "moved_at": first_at + step * (len(events) - 1)}])
    # as a server starting on this database would (autovacuum, on PostgreSQL)
    refresh_statistics(db.engine, tables=("versions", "tag_events", "tags"))
    return SeededRegistry(
        versions=n_versions, production_events=len(events),
        rollback_events=sum(1 for e in events if e[0] == "rollback"), production=production,
        spare=ids[promotable:], seconds=time.perf_counter() - started, all_ids=ids)


def _history(ids: list[str], passing: dict[str, bool]) -> list[tuple[str, str | None, str]]:
    """(play, from, to) for every production move: each version promoted once in order;
    every ROLLBACK_EVERY-th event rolls back to the newest earlier version still standing
    that passes, as play 3 would."""
    events: list[tuple[str, str | None, str]] = []
    standing: list[str] = []  # production versions never rolled back from, oldest first
    current: str | None = None
    nxt = 0
    while nxt < len(ids):
        if len(events) % ROLLBACK_EVERY == ROLLBACK_EVERY - 1 and len(standing) >= 2:
            bad = standing.pop()
            while len(standing) > 1 and not passing[standing[-1]]:
                standing.pop()
            events.append(("rollback", bad, standing[-1]))
            current = standing[-1]
            continue
        events.append(("promote", current, ids[nxt]))
        standing.append(ids[nxt])
        current = ids[nxt]
        nxt += 1
    return events


@dataclass
class SeededAttributions:
    rows: int
    seconds: float
    method: str
    sample: list[str]  # request ids known to be stored, for lookups

    def to_json(self) -> dict[str, Any]:
        return {"attributions": self.rows, "seconds": round(self.seconds, 2),
                "rows_per_s": round(self.rows / self.seconds) if self.seconds else None,
                "method": self.method}


class RequestIds:
    """Serving's request ids. `random`: 128 random bits (UUIDv4-like), so inserts land all
    over the primary-key index, the worst case. `ordered`: a counter prefix (ULID/UUIDv7-like),
    so new ids sort after everything stored and inserts append to the index."""

    def __init__(self, kind: str, seed: int = 1) -> None:
        if kind not in ("random", "ordered"):
            raise ValueError(f"request ids are random or ordered, not {kind!r}")
        self.kind = kind
        self._rng = random.Random(seed)
        self._counter = 0

    def __call__(self) -> str:
        bits = self._rng.getrandbits(128)
        if self.kind == "random":
            return f"req-{bits:032x}"
        self._counter += 1
        return f"req-{self._counter:012x}-{bits & (2**80 - 1):020x}"


def seed_attributions(db: Database, total: int, version_ids: list[str], *,
                      sample: int, ids: RequestIds) -> SeededAttributions:
    """`total` attribution rows, 90% served by `version_ids[0]` and the rest by the others
    (production and a canary), with `sample` of their request ids kept for lookups."""
    started = time.perf_counter()
    rng = random.Random(7)
    keep = set(rng.sample(range(total), min(sample, total)))
    kept: list[str] = []
    served = datetime.now(UTC) - timedelta(days=30)

    def batch(start: int, stop: int) -> list[dict[str, Any]]:
        out = []
        for i in range(start, stop):
            rid = ids()
            if i in keep:
                kept.append(rid)
            out.append(AttributionRow.values(Attribution(
                request_id=rid, model=MODEL, version_id=served_by(version_ids, i),
                served_at=served + timedelta(milliseconds=2 * i),
                latency_ms=float(20 + i % 300), error=i % 97 == 0)))
        return out

    if db.backend == "postgresql":
        method = "COPY attributions FROM STDIN (psycopg), one transaction, then ANALYZE"
        columns = [c.name for c in ATTRIBUTIONS.columns]
        with db.engine.begin() as conn:
            raw: Any = conn.connection.driver_connection
            with raw.cursor() as cur, cur.copy(
                    f"COPY attributions ({', '.join(columns)}) FROM STDIN") as copy:
                for start in range(0, total, SQLITE_CHUNK):
                    for row in batch(start, min(total, start + SQLITE_CHUNK)):
                        copy.write_row([row[c] for c in columns])
        refresh_statistics(db.engine, tables=("attributions",))
    else:
        method = (f"executemany of INSERT, {SQLITE_CHUNK:,} rows per call, one transaction")
        with db.engine.begin() as conn:
            for start in range(0, total, SQLITE_CHUNK):
                conn.execute(insert(ATTRIBUTIONS), batch(start, min(total, start + SQLITE_CHUNK)))
    rng.shuffle(kept)
    return SeededAttributions(rows=total, seconds=time.perf_counter() - started,
                              method=method, sample=kept)


def served_by(version_ids: list[str], i: int) -> str:
    """Production answers 9 requests in 10, the other versions (a canary) the rest."""
    if i % 10 or len(version_ids) == 1:
        return version_ids[0]
    return version_ids[1 + (i // 10) % (len(version_ids) - 1)]
