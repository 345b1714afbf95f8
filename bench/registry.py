"""Register, promote, resolve and rollback against a seeded history, through the real plays.

Order matters and is part of the design: the registered versions are the ones promoted next
(their scores rise, so every promotion passes the gate), and each rollback sample first
promotes a fresh seeded candidate (untimed) and then times play 3 rolling back from it, so
every rollback walks a production history of 10,000+ events with ~1,000 rollbacks in it.
"""

from __future__ import annotations

from typing import Any

from bench.harness import METRIC, MODEL, Database, Json, latency, log, measure
from bench.seed import SeededRegistry, seed_registry
from core.commands import ComponentsIn, Promote, Register, Rollback
from core.domain import PRODUCTION
from core.engine import PlayContext
from core.identity import Components, short, version_id
from core.plays.common import current
from core.plays.promote import promote
from core.plays.register import register
from core.plays.rollback import rollback

WARMUP = 10
TARGET_ROLLBACK_P99_MS = 20.0
TARGET_RESOLVE_P99_MS = 2.0


def run(db: Database, *, versions: int, iterations: int) -> tuple[Json, Json]:
    """(seed figures, operation figures)."""
    log(f"{db.backend}: seeding {versions:,} versions and their production history")
    seeded = seed_registry(db, versions, spare=WARMUP + iterations)
    log(f"{db.backend}: seeded {seeded.production_events:,} production events in "
        f"{seeded.seconds:.1f} s")
    ctx = db.context()
    ops: Json = {}

    log(f"{db.backend}: register x{iterations}")
    registered, ops["register"] = bench_register(ctx, seeded, iterations)
    log(f"{db.backend}: promote x{iterations}")
    ops["promote"] = bench_promote(ctx, registered, iterations)
    log(f"{db.backend}: resolve production x{5 * iterations}")
    ops["resolve"] = bench_resolve(ctx, 5 * iterations)
    log(f"{db.backend}: rollback x{iterations}")
    ops["rollback"] = bench_rollback(ctx, seeded, iterations)
    return seeded.to_json(), ops


def bench_register(ctx: PlayContext, seeded: SeededRegistry,
                   iterations: int) -> tuple[list[str], Json]:
    """Play 1 with scores supplied by CI (no evaluator), each naming its parent by short id."""
    commands: list[Register] = []
    parent = seeded.production
    ids: list[str] = []
    for i in range(WARMUP + iterations):
        components = ComponentsIn(prompt=f"benchmark prompt {i}",
                                  config={"temperature": 0.2, "max_tokens": 512})
        commands.append(Register(
            model=MODEL, components=components, owner="bench", reason=f"benchmark change {i}",
            parent=short(MODEL, parent), scores={METRIC: 0.85 + i * 1e-5}, actor="bench"))
        parent = version_id(Components(prompt=components.prompt, config=components.config))
        ids.append(parent)

    def op(i: int) -> None:
        result = register(commands[i], ctx)
        if not result.created or result.version.id != ids[i]:
            raise AssertionError(f"register {i} did not create {ids[i]}")

    samples = measure("register", op, iterations, warmup=WARMUP)
    return ids, latency(samples, None, scores="supplied", note="no target in the issue")


def bench_promote(ctx: PlayContext, candidates: list[str], iterations: int) -> Json:
    """Play 2 on a low-stakes model: gate against production, then move the tag at once."""

    def op(i: int) -> None:
        result = promote(Promote(model=MODEL, version=short(MODEL, candidates[i]),
                                 actor="bench", reason="benchmark"), ctx)
        if result.event is None:
            raise AssertionError("a low-stakes promotion must move production at once")

    samples = measure("promote", op, iterations, warmup=WARMUP)
    return latency(samples, None, stakes="low", note="no target in the issue")


def bench_resolve(ctx: PlayContext, n: int) -> Json:
    """What serving asks: `current(uow, model)` in a fresh unit of work."""

    def op(_: int) -> None:
        with ctx.uow() as uow:
            version, _revision = current(uow, MODEL)
        if version is None:
            raise AssertionError("production must be set")

    return latency(measure("resolve", op, n, warmup=WARMUP * 5), TARGET_RESOLVE_P99_MS,
                   call="core.plays.common.current(uow, model) in a fresh unit of work")


def bench_rollback(ctx: PlayContext, seeded: SeededRegistry, iterations: int) -> Json:
    """Play 3 with the last-known-good search and confirmation by an in-process evaluator."""
    restored_expected: dict[int, str] = {}

    def setup(i: int) -> None:  # a fresh bad release goes out (untimed)
        with ctx.uow() as uow:
            before, _ = current(uow, MODEL)
        assert before is not None
        restored_expected[i] = before.id
        promote(Promote(model=MODEL, version=short(MODEL, seeded.spare[i]), actor="bench",
                        reason="a release that will go bad"), ctx)

    def op(i: int) -> None:
        result = rollback(Rollback(model=MODEL, actor="bench", symptom="benchmark"), ctx)
        if result.restored.id != restored_expected[i] or \
                result.incident.confirmation != "passed":
            raise AssertionError(f"rollback {i} went to {result.restored.short} "
                                 f"({result.incident.confirmation})")

    samples = measure("rollback", op, iterations, warmup=WARMUP, setup=setup)
    with ctx.uow() as uow:
        events = uow.events.history(MODEL, PRODUCTION)
    rollbacks = sum(1 for e in events if e.play == "rollback")
    extra: dict[str, Any] = {
        "production_events_after": len(events), "rollback_events_after": rollbacks,
        "evaluator": "in-process constant (eval cost excluded)",
    }
    return latency(samples, TARGET_ROLLBACK_P99_MS, **extra)
