"""A year of attributions on PostgreSQL, in weekly partitions (storage/partitions.py).

    python -m bench.partitions [--weeks 52] [--per-week 100000] [--lookups 300]

Seeds `weeks` weekly partitions of `per-week` rows each (generate_series, server side), then
prints JSON:
- `lookup_by_request_id`: `uow.attributions.get` for requests served in the newest week, a
  middle week and the oldest week (partitions are searched newest first and the search stops
  at the first holding the request, so an old request costs one more index probe per newer
  week);
- `ingest`: `uow.attributions.add_new` + commit, batches of 1,000 into the current week
  (the retry-window probe included), rows/s;
- `senders`: 1 and 4 processes sending batches of 1,000 through the attribute play (what
  `POST /v1/attributions` runs), each with its own connection, as in `bench.growth`;
- `retention`: dropping the oldest week (`partitions.retire`), against deleting the same
  rows from one big table (what retention costs without partitions: measured on a copy of
  one week, as its own table).
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import text

from bench.growth import run_clients
from bench.harness import MODEL, Database, Json, database, latency, log, measure
from bench.seed import seed_registry
from core.domain import Attribution
from core.plays.attribute import attribute
from storage import partitions

BATCH = 1000


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--weeks", type=int, default=52)
    p.add_argument("--per-week", type=int, default=100_000)
    p.add_argument("--lookups", type=int, default=300)
    p.add_argument("--batches", type=int, default=30)
    p.add_argument("--seconds", type=float, default=5.0, help="each senders run")
    args = p.parse_args(argv)
    with database("postgres") as db:
        out = run(db, args.weeks, args.per_week, args.lookups, args.batches, args.seconds)
    print(json.dumps(out, indent=2))
    return 0


def run(db: Database, weeks: int, per_week: int, lookups: int, batches: int,
        seconds: float) -> Json:
    engine = db.engine
    with engine.begin() as conn:
        first = partitions.partitions(conn)[-1].end  # after the migration's weeks ahead
    partitions.ensure(engine, first + (weeks - 1) * partitions.WEEK)
    log(f"seeding {weeks} weeks x {per_week:,} rows")
    started = time.perf_counter()
    step_ms = partitions.WEEK / timedelta(milliseconds=1) / per_week
    with engine.begin() as conn:
        for w in range(weeks):
            conn.execute(text(
                "INSERT INTO attributions SELECT 'w' || :w || '-' || g, :model, 'v', "
                ":start + g * make_interval(secs => :step / 1000.0), 20, false, NULL "
                "FROM generate_series(0, :n - 1) g"),
                {"w": w, "model": MODEL, "start": first + w * partitions.WEEK, "step": step_ms,
                 "n": per_week})
    # A year loaded at once: vacuum it and write it out now, or autovacuum and the checkpoint
    # it triggers would run during the figures (1 s batches with 4 senders).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE) attributions"))
        conn.execute(text("CHECKPOINT"))
    seeded_s = time.perf_counter() - started
    with engine.begin() as conn:
        layout = partitions.partitions(conn)
    ctx = db.context()

    def lookup(week: int) -> Json:
        def one(i: int) -> None:
            with ctx.uow(read_only=True) as u:
                assert u.attributions.get(f"w{week}-{(i * 7919) % per_week}") is not None
        return latency(measure(f"lookup week {week}", one, lookups), None,
                       newer_weeks=weeks - 1 - week)

    log("lookups")
    out: Json = {
        "backend": db.server_version(), "weeks": weeks, "rows_per_week": per_week,
        "rows": weeks * per_week, "partitions": len(layout), "seed_s": round(seeded_s, 1),
        "lookup_by_request_id": {"newest_week": lookup(weeks - 1),
                                 "middle_week": lookup(weeks // 2), "oldest_week": lookup(0)},
    }
    log("ingest")
    now = first + (weeks - 1) * partitions.WEEK + timedelta(days=3)

    def ingest(i: int) -> None:
        records = [Attribution(f"new-{i}-{j}", MODEL, "v", now + timedelta(milliseconds=j),
                               20.0, False, None) for j in range(BATCH)]
        with ctx.uow() as u:
            assert len(u.attributions.add_new(records)) == BATCH
            u.commit()
    samples = measure("ingest", ingest, batches, warmup=3)

    def retried(i: int) -> None:  # a batch sent again (a timeout): every record a duplicate
        records = [{"request_id": f"new-{i}-{j}", "model": MODEL, "version": version,
                    "served_at": (now + timedelta(milliseconds=j)).isoformat()}
                   for j in range(BATCH)]
        assert attribute(records, ctx).duplicates == BATCH
    version = seed_registry(db, 2, spare=0).all_ids[-1]
    with engine.begin() as conn:  # the ingest batches as if that version had served them
        conn.execute(text("UPDATE attributions SET version_id = :v WHERE request_id LIKE "
                          "'new-%'"), {"v": version})
    retry = latency(measure("retried batch", retried, min(batches, 20), warmup=2), None)
    out["ingest"] = {"batches": batches, "batch_size": BATCH,
                     "rows_per_s": round(batches * BATCH / (sum(samples) / 1000)),
                     **{k: v for k, v in latency(samples, None).items()
                        if k in ("p50_ms", "p99_ms")},
                     "retried_batch_p50_ms": retry["p50_ms"],
                     "retried_batch_p99_ms": retry["p99_ms"]}
    log("senders: 1 and 4 processes, the attribute play, batches of 1,000")
    out["senders"] = {}
    for clients in (1, 4):
        figures = run_clients(db.url, clients, seconds, "attribute", version)
        out["senders"][str(clients)] = {"rows_per_s": round(figures["per_s"] * BATCH),
                                        "p50_batch_ms": figures["p50_ms"],
                                        "p99_batch_ms": figures["p99_ms"]}
    log("retention")
    out["retention"] = retention(db, first, per_week)
    return out


def retention(db: Database, first: Any, per_week: int) -> Json:
    engine = db.engine
    with engine.begin() as conn:  # the same week's rows, as one plain table would hold them
        conn.execute(text("CREATE TABLE plain AS SELECT * FROM attributions "
                          "WHERE served_at < :end"), {"end": first + partitions.WEEK})
        conn.execute(text("ALTER TABLE plain ADD PRIMARY KEY (request_id)"))
        conn.execute(text("CREATE INDEX ON plain (model, served_at)"))
    started = time.perf_counter()
    retired = partitions.retire(engine, first + partitions.WEEK)
    dropped_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    with engine.begin() as conn:
        deleted = conn.execute(text("DELETE FROM plain WHERE model = :m AND served_at < :end"),
                               {"m": MODEL, "end": first + partitions.WEEK}).rowcount
    deleted_ms = (time.perf_counter() - started) * 1000
    return {"drop_oldest_week_ms": round(dropped_ms, 1), "partitions_dropped":
            list(retired.partitions), "rows_dropped_estimate": retired.rows,
            "delete_same_week_from_one_table_ms": round(deleted_ms, 1),
            "rows_deleted": deleted, "rows_per_week": per_week}


if __name__ == "__main__":
    raise SystemExit(main())
