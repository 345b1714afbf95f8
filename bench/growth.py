"""How reads grow with history, and how readers fare beside each other (issue 18).

    python -m bench.growth [--backend sqlite|postgres|both] [--sizes 1000,10000,100000]
                           [--iterations 100] [--seconds 3]

For each backend and each size, a fresh registry is seeded with that many versions in one
lineage chain and their production history (about 1.1 events per version, every tenth a
rollback: bench/seed.py), then each operation is timed through the code the surfaces call:

- `resolve`: `current(uow, model)` in a fresh read-only unit of work (uncached: what the HTTP
  API's tag route reads when its cache misses);
- `promote`, `rollback`: plays 2 and 3, as in bench.registry;
- `audit_depth_10`, `audit_depth_10000`: play 5's default answer for a request served by a
  version 10 (10,000) ancestors deep; `audit_full_chain_10000` with `lineage=None`;
- `production_at`: what production was 10% into the history (play 5's replay);
- `history_since`: the events since the tenth newest (a fixed-size answer at every size);
- `touching`, `rolled_back_from`: the history reads of the audit bundle and of play 3;
- `metrics`: what `/metrics` reads from the registry per scrape.

`growth` then gives each read's p50 at the largest size over its p50 at the smallest (the
issue's target: within 2x from 1k to 100k). At the largest size the concurrency figures
follow: 1 and 4 auditors (depth 10,000), 1 and 16 resolvers (uncached, one connection each),
1 and 4 attribution senders (batches of 1,000), each client a process with a connection of
its own, each run for `--seconds` of wall time (resolvers at a steady pace: see
`concurrency`).

Prints one JSON document on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from bench.harness import (
    MODEL,
    Database,
    Json,
    bench_config,
    constant_evaluators,
    database,
    latency,
    log,
    measure,
    percentile,
)
from bench.seed import RequestIds, SeededRegistry, seed_registry
from bot.api.health import registry_figures
from core.commands import Audit, ProductionAt, Promote, Rollback
from core.domain import PRODUCTION, Attribution
from core.engine import PlayContext
from core.identity import short
from core.plays.attribute import attribute
from core.plays.audit import audit, production_at
from core.plays.common import current
from core.plays.promote import promote
from core.plays.rollback import rollback
from storage.artifacts import FileArtifactStore
from storage.database import make_engine
from storage.uow import uow_factory

WARMUP = 5
BATCH = 1000  # records per attribution batch
DEEP = 10_000
SHALLOW = 10
TARGETS_P99_MS = {"audit_depth_10": 20.0, "audit_depth_10000": 20.0,
                  "audit_full_chain_10000": 250.0, "metrics": 10.0}
READS = ("resolve", "audit_depth_10", "audit_depth_10000", "production_at", "history_since",
         "touching", "rolled_back_from", "metrics")
CONCURRENCY_TARGETS = {"auditors_4": ("p99_ms", 20.0), "resolvers_16": ("p99_ms", 10.0)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.growth", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--sizes", default="1000,10000,100000",
                        help="versions seeded, comma-separated (default 1000,10000,100000)")
    parser.add_argument("--iterations", type=int, default=100,
                        help="timed runs of each operation per size (default 100)")
    parser.add_argument("--seconds", type=float, default=3.0,
                        help="wall time of each concurrency run (default 3)")
    args = parser.parse_args(argv)
    try:
        sizes = sorted({int(s) for s in args.sizes.split(",")})
    except ValueError:
        parser.error(f"--sizes: comma-separated counts, not {args.sizes!r}")
    if sizes[0] < 100 or args.iterations < 10 or args.seconds <= 0:
        parser.error("need every size >= 100, --iterations >= 10 and --seconds > 0")
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    document: Json = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "params": {"sizes": sizes, "iterations": args.iterations, "seconds": args.seconds},
        "backends": {},
    }
    failed = False
    for backend in backends:
        try:
            document["backends"][backend] = run_backend(backend, sizes, args.iterations,
                                                        args.seconds)
        except Exception as exc:  # report it, go on with the next backend
            failed = True
            log(f"{backend}: failed\n{traceback.format_exc()}")
            document["backends"][backend] = {"error": f"{type(exc).__name__}: {exc}"}
    document["summary"] = summary(document["backends"])
    json.dump(document, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 1 if failed else 0


def run_backend(backend: str, sizes: list[int], iterations: int, seconds: float) -> Json:
    result: Json = {"sizes": {}}
    for n, size in enumerate(sizes):
        with database(backend) as db:
            result["server"] = db.server_version()
            seeded, ops = run_size(db, size, iterations)
            result["sizes"][str(size)] = {"seed": seeded.to_json(), "operations": ops}
            if n == len(sizes) - 1:
                result["concurrency"] = {"size": size, **concurrency(db, seeded, seconds)}
    first, last = result["sizes"][str(sizes[0])], result["sizes"][str(sizes[-1])]
    result["growth"] = {
        "from": first["seed"]["production_events"], "to": last["seed"]["production_events"],
        "p50_ratio": {op: round(last["operations"][op]["p50_ms"]
                                / first["operations"][op]["p50_ms"], 2)
                      for op in READS if op in first["operations"] and op in last["operations"]},
        "target": "every history read within 2x",
    }
    return result


def run_size(db: Database, size: int, iterations: int) -> tuple[SeededRegistry, Json]:
    log(f"{db.backend} {size:,}: seeding")
    seeded = seed_registry(db, size, spare=2 * (WARMUP + iterations))
    ctx = db.context()
    chain = seeded.all_ids  # chain[k] is k ancestors deep
    requests = {SHALLOW: "req-shallow", DEEP: "req-deep"}
    with ctx.uow() as uow:
        uow.attributions.add_many([Attribution(rid, MODEL, chain[depth], datetime.now(UTC))
                                   for depth, rid in requests.items() if depth < len(chain)])
        uow.commit()
        events = uow.events.history(MODEL, PRODUCTION)
    ops: Json = {}

    def timed(name: str, op: Callable[[int], object], n: int = iterations,
              setup: Callable[[int], object] | None = None) -> None:
        log(f"{db.backend} {size:,}: {name} x{n}")
        ops[name] = latency(measure(name, op, n, warmup=WARMUP, setup=setup),
                            TARGETS_P99_MS.get(name))

    def resolve(_: int) -> None:
        with ctx.uow(read_only=True) as uow:
            if current(uow, MODEL)[0] is None:
                raise AssertionError("production must be set")

    timed("resolve", resolve, 5 * iterations)
    old = events[len(events) // 10].at
    timed("production_at", lambda _: production_at(
        ProductionAt(model=MODEL, at=old, actor="bench"), ctx))
    since = events[-10].at

    def history_since(_: int) -> None:
        with ctx.uow(read_only=True) as uow:
            if len(uow.events.history(MODEL, PRODUCTION, since=since)) < 10:
                raise AssertionError("the ten newest events must be found")

    timed("history_since", history_since)
    middle = chain[len(chain) // 2]

    def touching(_: int) -> None:
        with ctx.uow(read_only=True) as uow:
            uow.events.touching(MODEL, middle)

    timed("touching", touching)
    promoted = len(chain) - len(seeded.spare)
    suspects = chain[promoted - 40:promoted]  # the newest production versions

    def rolled_back(_: int) -> None:
        with ctx.uow(read_only=True) as uow:
            uow.events.rolled_back_from(MODEL, PRODUCTION, suspects)

    timed("rolled_back_from", rolled_back)
    timed("metrics", lambda _: registry_figures(ctx.uow))
    def auditor(request_id: str) -> Callable[[int], object]:
        return lambda _: audit(Audit(request_id=request_id, actor="bench"), ctx)

    for depth, rid in requests.items():
        if depth < len(chain):
            timed(f"audit_depth_{depth}", auditor(rid))
    if len(chain) > DEEP:
        timed("audit_full_chain_10000", lambda _: audit(
            Audit(request_id=requests[DEEP], actor="bench", lineage=None), ctx),
              max(10, iterations // 5))
    spare = iter(seeded.spare)

    def promote_one(_: int) -> None:
        promote(Promote(model=MODEL, version=short(MODEL, next(spare)), actor="bench",
                        reason="benchmark"), ctx)

    timed("promote", promote_one)

    def bad_release(_: int) -> None:
        promote_one(0)

    timed("rollback", lambda _: rollback(Rollback(model=MODEL, actor="bench",
                                                  symptom="benchmark"), ctx),
          setup=bad_release)
    return seeded, ops


# --- concurrency ------------------------------------------------------------------------------

RESOLVE_EVERY_MS = 20.0  # each resolver's pace: 16 of them offer 800 resolutions a second


def concurrency(db: Database, seeded: SeededRegistry, seconds: float) -> Json:
    """Each client is a process of its own with its own connection, as server workers and
    other services are (threads of one process would measure the GIL instead). Auditors and
    attribution senders go as fast as they can; resolvers each ask every RESOLVE_EVERY_MS,
    a steady load (16 of them as fast as they can would only measure the 2 cores)."""
    request = "req-deep" if len(seeded.all_ids) > DEEP else "req-shallow"
    runs = [("auditors", 1, "audit", request), ("auditors", 4, "audit", request),
            ("resolvers", 1, "resolve", ""), ("resolvers", 16, "resolve", ""),
            ("attribution_senders", 1, "attribute", seeded.all_ids[-1]),
            ("attribution_senders", 4, "attribute", seeded.all_ids[-1])]
    out: Json = {}
    for name, clients, kind, arg in runs:
        log(f"{db.backend}: {clients} {name}")
        figures = run_clients(db.url, clients, seconds, kind, arg)
        if kind == "attribute":
            figures["rows_per_s"] = round(figures["per_s"] * BATCH)
        if kind == "resolve":
            figures["offered_per_s"] = round(clients * 1000 / RESOLVE_EVERY_MS)
        out[f"{name}_{clients}"] = figures
    for name, (field, bound) in CONCURRENCY_TARGETS.items():
        out[name]["target"] = f"{field.removesuffix('_ms')} < {bound:g} ms"
        out[name]["meets_target"] = out[name][field] < bound
    return out


def run_clients(url: str, clients: int, seconds: float, kind: str, arg: str) -> Json:
    """`clients` processes doing `kind` from the same instant for `seconds`."""
    start_at = time.time() + 2.0 + 0.25 * clients  # once every process has started
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=clients, mp_context=spawn) as pool:
        # Request ids differ from every other run's: a run repeating an earlier run's ids
        # would measure retried batches (the duplicate path), not new records.
        futures = [pool.submit(client, url, kind, arg, 1000 * clients + n, start_at, seconds)
                   for n in range(clients)]
        samples = [s for f in futures for s in f.result()]
    return {"clients": clients, "calls": len(samples),
            "per_s": round(len(samples) / seconds, 1),
            "p50_ms": round(percentile(samples, 50), 3),
            "p99_ms": round(percentile(samples, 99), 3), "max_ms": round(max(samples), 3)}


def client(url: str, kind: str, arg: str, n: int, start_at: float,
           seconds: float) -> list[float]:
    """One client process: its own engine (one connection), one untimed call, then timed
    calls from `start_at` until `seconds` later."""
    engine = make_engine(url, pool_size=1, max_overflow=0)
    workdir = Path(tempfile.mkdtemp(prefix="playbook-bench-client-"))
    try:
        ctx = PlayContext(config=bench_config(), uow=uow_factory(engine),
                          evaluator_for=constant_evaluators,
                          artifacts=FileArtifactStore(workdir))
        ids = RequestIds("random", seed=1000 + n)

        def call() -> None:
            if kind == "audit":
                audit(Audit(request_id=arg, actor="bench"), ctx)
            elif kind == "resolve":
                with ctx.uow(read_only=True) as uow:
                    current(uow, MODEL)
            else:
                attribute([{"request_id": ids(), "model": MODEL, "version": arg}
                           for _ in range(BATCH)], ctx)

        call()
        time.sleep(max(0.0, start_at - time.time()))
        samples: list[float] = []
        ends = time.perf_counter() + seconds
        pace = RESOLVE_EVERY_MS / 1000 if kind == "resolve" else 0.0
        due = time.perf_counter()
        while time.perf_counter() < ends:
            if pace:
                time.sleep(max(0.0, due - time.perf_counter()))
                due += pace
            began = time.perf_counter_ns()
            call()
            samples.append((time.perf_counter_ns() - began) / 1e6)
        return samples
    finally:
        engine.dispose()
        shutil.rmtree(workdir, ignore_errors=True)


def summary(backends: Json) -> Json:
    misses = []
    for name, result in backends.items():
        for size, figures in result.get("sizes", {}).items():
            misses += [f"{name}.{size}.{op}" for op, f in figures["operations"].items()
                       if f.get("meets_target") is False]
        misses += [f"{name}.growth.{op}" for op, ratio in
                   result.get("growth", {}).get("p50_ratio", {}).items() if ratio > 2]
        misses += [f"{name}.concurrency.{op}" for op, f in
                   result.get("concurrency", {}).items()
                   if isinstance(f, dict) and f.get("meets_target") is False]
    errors = [name for name, result in backends.items() if "error" in result]
    return {"all_targets_met": not misses and not errors, "misses": misses, "errors": errors}


if __name__ == "__main__":
    sys.exit(main())
