"""Attribution inserts (batches of 1,000) and lookups by request id over a big table.

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

import random
from datetime import UTC, datetime
from typing import Any

from bench.harness import MODEL, Database, Json, latency, log, measure, percentile
from bench.seed import request_id, seed_attributions
from core.domain import Attribution
from core.engine import PlayContext
from core.plays.attribute import attribute

BATCH = 1000
TARGET_ROWS_PER_S = 50_000
TARGET_LOOKUP_P99_MS = 5.0


def run(db: Database, *, total: int, batches: int, lookups: int,
        version_ids: list[str]) -> tuple[Json, Json]:
    """(seed figures, operation figures)."""
    log(f"{db.backend}: seeding {total:,} attributions")
    seeded = seed_attributions(db, total, version_ids, sample=lookups + 50)
    log(f"{db.backend}: seeded in {seeded.seconds:.1f} s ({seeded.method})")
    ctx = db.context()
    rng = random.Random(2)
    ops: Json = {}
    log(f"{db.backend}: attribute play, {batches} batches of {BATCH}")
    ops["attribution_insert_play"] = bench_insert_play(ctx, rng, batches, version_ids)
    log(f"{db.backend}: attributions.add_many, {batches} batches of {BATCH}")
    ops["attribution_insert_repository"] = bench_insert_repository(ctx, rng, batches,
                                                                   version_ids)
    stored = total + 2 * batches * BATCH
    log(f"{db.backend}: lookup x{lookups} at {stored:,} rows")
    ops["attribution_lookup"] = bench_lookup(ctx, seeded.sample, lookups, stored)
    return seeded.to_json(), ops


def _throughput(samples_ms: list[float], call: str) -> Json:
    seconds = sum(samples_ms) / 1000
    rate = len(samples_ms) * BATCH / seconds
    return {
        "n_batches": len(samples_ms), "batch_size": BATCH,
        "rows_per_s": round(rate),
        "p50_batch_ms": round(percentile(samples_ms, 50), 3),
        "p99_batch_ms": round(percentile(samples_ms, 99), 3),
        "target": f">= {TARGET_ROWS_PER_S:,} rows/s",
        "meets_target": rate >= TARGET_ROWS_PER_S,
        "call": call,
    }


def bench_insert_play(ctx: PlayContext, rng: random.Random, batches: int,
                      version_ids: list[str]) -> Json:
    warmup = 3
    now = datetime.now(UTC).isoformat()
    payloads: list[list[dict[str, Any]]] = [[
        {"request_id": request_id(rng), "model": MODEL,
         "version": version_ids[(b + j) % len(version_ids)], "served_at": now,
         "latency_ms": 12.5, "error": False} for j in range(BATCH)]
        for b in range(warmup + batches)]

    def op(i: int) -> None:
        result = attribute(payloads[i], ctx)
        if result.stored != BATCH:
            raise AssertionError(f"batch {i}: stored {result.stored} of {BATCH}")

    samples = measure(op, batches, warmup=warmup)
    return _throughput(samples, "core.plays.attribute.attribute(records, ctx), one unit of "
                                "work per batch, full 64-hex version ids")


def bench_insert_repository(ctx: PlayContext, rng: random.Random, batches: int,
                            version_ids: list[str]) -> Json:
    warmup = 3
    now = datetime.now(UTC)
    records = [[Attribution(request_id=request_id(rng), model=MODEL,
                            version_id=version_ids[(b + j) % len(version_ids)], served_at=now,
                            latency_ms=12.5, error=False) for j in range(BATCH)]
               for b in range(warmup + batches)]

    def op(i: int) -> None:
        with ctx.uow() as uow:
            added = uow.attributions.add_many(records[i])
            uow.commit()
        if added != BATCH:
            raise AssertionError(f"batch {i}: added {added} of {BATCH}")

    samples = measure(op, batches, warmup=warmup)
    return _throughput(samples, "uow.attributions.add_many(records) + commit, one unit of "
                                "work per batch")


def bench_lookup(ctx: PlayContext, sample: list[str], n: int, stored: int) -> Json:
    warmup = min(50, max(0, len(sample) - n))

    def op(i: int) -> None:
        with ctx.uow() as uow:
            found = uow.attributions.get(sample[i % len(sample)])
        if found is None:
            raise AssertionError(f"request {sample[i % len(sample)]} should be stored")

    samples = measure(op, n, warmup=warmup)
    return latency(samples, TARGET_LOOKUP_P99_MS, rows_stored=stored,
                   call="uow.attributions.get(request_id) in a fresh unit of work")
