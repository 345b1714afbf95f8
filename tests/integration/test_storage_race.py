"""Two OS processes racing to move one tag: exactly one wins each round, and the tag's
history stays one unbroken chain. Both also migrate the fresh database at the same moment."""

from __future__ import annotations

import itertools
import multiprocessing

from testkit.waiting import LIMIT_S

from storage.database import make_engine
from storage.uow import uow_factory

from .race_worker import MODEL, TAG, race

ROUNDS = 50


def test_two_processes_racing_on_one_tag_keep_one_chain(engine_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    procs = [ctx.Process(target=race, args=(engine_url, me, ROUNDS, barrier, results))
             for me in (0, 1)]
    for p in procs:
        p.start()
    try:
        outcome = dict(results.get(timeout=2 * LIMIT_S) for _ in procs)
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
    assert all(isinstance(w, list) for w in outcome.values()), outcome
    for r, pair in enumerate(zip(outcome[0], outcome[1], strict=True)):
        assert sum(pair) == 1, f"round {r}: wins {pair}"

    engine = make_engine(engine_url)
    try:
        with uow_factory(engine)() as uow:
            history = uow.events.history(MODEL, TAG)
            tag = uow.tags.get(MODEL, TAG)
    finally:
        engine.dispose()
    assert [e.revision for e in history] == list(range(1, ROUNDS + 1))
    assert history[0].from_version is None
    for before, after in itertools.pairwise(history):
        assert after.from_version == before.to_version
    assert tag is not None and tag.revision == ROUNDS
    assert tag.version_id == history[-1].to_version
