"""Attribution inserts (batches of 1,000) and lookups by request id over a big table.

Every batch names the production version for 9 records in 10 and a canary for the rest, as
serving would send it.

Inserts are measured twice, into a table already holding the seeded rows:
- `attribution_insert_play`: `core.plays.attribute.attribute` with JSON-like dicts, the way
  `playbook attribute FILE` and serving feed it (pydantic validation, model and version
  checks, then the repository), one unit of work per batch;
- `attribution_insert_repository`: `uow.attributions.add_many` with ready domain records,
  one unit of work per batch: the storage cost alone.
Lookups are `uow.attributions.get(request_id)` in a fresh unit of work (what play 5 asks
first), for ids picked at random from the seeded rows.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bench.harness import MODEL, Database, Json, latency, log, measure, percentile
from bench.seed import RequestIds, seed_attributions, served_by
from core.domain import Attribution
from core.engine import PlayContext
from core.plays.attribute import attribute

BATCH = 1000
INSERT_WARMUP = 3  # untimed batches before each insert series
TARGET_ROWS_PER_S = 50_000
TARGET_LOOKUP_P99_MS = 5.0


def run(db: Database, *, total: int, batches: int, lookups: int, version_ids: list[str],
        request_ids: str = "random") -> tuple[Json, Json]:
    """(seed figures, operation figures). `version_ids`: production first, then a canary."""
    log(f"{db.backend}: seeding {total:,} attributions ({request_ids} request ids)")
    ids = RequestIds(request_ids)
    seeded = seed_attributions(db, total, version_ids, sample=lookups + 50, ids=ids)
    log(f"{db.backend}: seeded in {seeded.seconds:.1f} s ({seeded.method})")
    ctx = db.context()
    ops: Json = {}
    log(f"{db.backend}: attribute play, {batches} batches of {BATCH}")
    ops["attribution_insert_play"] = bench_insert_play(ctx, ids, batches, version_ids)
    log(f"{db.backend}: attributions.add_many, {batches} batches of {BATCH}")
    ops["attribution_insert_repository"] = bench_insert_repository(ctx, ids, batches,
                                                                   version_ids)
    stored = total + 2 * (INSERT_WARMUP + batches) * BATCH
    log(f"{db.backend}: lookup x{lookups} at {stored:,} rows")
    ops["attribution_lookup"] = bench_lookup(ctx, seeded.sample, lookups, stored,
                                              request_ids)
    return seeded.to_json(), ops


def _throughput(samples_ms: list[float], call: str, kind: str) -> Json:
    seconds = sum(samples_ms) / 1000
    rate = len(samples_ms) * BATCH / seconds
    return {
        "n_batches": len(samples_ms), "batch_size": BATCH,
        "rows_per_s": round(rate),
        "p50_batch_ms": round(percentile(samples_ms, 50), 3),
        "p99_batch_ms": round(percentile(samples_ms, 99), 3),
        "target": f">= {TARGET_ROWS_PER_S:,} rows/s",
        "meets_target": rate >= TARGET_ROWS_PER_S,
        "request_ids": kind,
        "call": call,
    }


def bench_insert_play(ctx: PlayContext, ids: RequestIds, batches: int,
                      version_ids: list[str]) -> Json:
    now = datetime.now(UTC).isoformat()
    payloads: list[list[dict[str, Any]]] = [[
        {"request_id": ids(), "model": MODEL,
         "version": served_by(version_ids, b * BATCH + j), "served_at": now,
         "latency_ms": 12.5, "error": False} for j in range(BATCH)]
        for b in range(INSERT_WARMUP + batches)]

    def op(i: int) -> None:
        result = attribute(payloads[i], ctx)
        if result.stored != BATCH:
            raise AssertionError(f"batch {i}: stored {result.stored} of {BATCH}")

    samples = measure("attribution_insert_play", op, batches, warmup=INSERT_WARMUP)
    return _throughput(samples, "core.plays.attribute.attribute(records, ctx), one unit of "
                                "work per batch, full 64-hex version ids", ids.kind)


def bench_insert_repository(ctx: PlayContext, ids: RequestIds, batches: int,
                            version_ids: list[str]) -> Json:
    now = datetime.now(UTC)
    records = [[Attribution(request_id=ids(), model=MODEL,
                            version_id=served_by(version_ids, b * BATCH + j), served_at=now,
                            latency_ms=12.5, error=False) for j in range(BATCH)]
               for b in range(INSERT_WARMUP + batches)]

    def op(i: int) -> None:
        with ctx.uow() as uow:
            added = uow.attributions.add_many(records[i])
            uow.commit()
        if added != BATCH:
            raise AssertionError(f"batch {i}: added {added} of {BATCH}")

    samples = measure("attribution_insert_repository", op, batches, warmup=INSERT_WARMUP)
    return _throughput(samples, "uow.attributions.add_many(records) + commit, one unit of "
                                "work per batch", ids.kind)


def bench_lookup(ctx: PlayContext, sample: list[str], n: int, stored: int,
                 kind: str) -> Json:
    warmup = min(50, max(0, len(sample) - n))

    def op(i: int) -> None:
        with ctx.uow() as uow:
            found = uow.attributions.get(sample[i % len(sample)])
        if found is None:
            raise AssertionError(f"request {sample[i % len(sample)]} should be stored")

    samples = measure("attribution_lookup", op, n, warmup=warmup)
    return latency(samples, TARGET_LOOKUP_P99_MS, rows_stored=stored, request_ids=kind,
                   call="uow.attributions.get(request_id) in a fresh unit of work")
