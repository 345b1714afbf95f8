"""One of the processes in test_storage_race: starts cold (migrates), then races the other
process to move one tag, round after round. Lives outside the test module so a spawned process
imports only this."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Barrier
from typing import Any

from core.domain import TagMoved
from core.errors import TagMovedMeanwhile
from storage.database import make_engine, migrate
from storage.uow import uow_factory

from .builders import version

MODEL, TAG = "race", "production"
WAIT = 120.0  # a loaded machine is slow, not wrong
T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # the rounds' explicit instants, not the wall's


def race(url: str, me: int, rounds: int, barrier: Barrier, results: Any) -> None:
    engine = make_engine(url)
    try:
        migrate(engine)  # both processes migrate the fresh database at the same moment
        factory = uow_factory(engine)
        mine = [version(1000 * me + r, model=MODEL) for r in range(rounds)]
        with factory() as uow:
            for v in mine:
                uow.versions.add(v)
            uow.commit()
        wins: list[bool] = []
        for r in range(rounds):
            barrier.wait(WAIT)  # both read the same revision...
            with factory() as uow:
                current = uow.tags.get(MODEL, TAG)
            barrier.wait(WAIT)  # ...then both try to move the tag from it at once
            try:
                with factory() as uow:
                    now = T0 + timedelta(seconds=r)
                    tag = uow.tags.compare_and_set(MODEL, TAG,
                                                   current.revision if current else 0,
                                                   mine[r].id, now)
                    uow.events.append(TagMoved(
                        model=MODEL, tag=TAG,
                        from_version=current.version_id if current else None,
                        to_version=mine[r].id, revision=tag.revision, actor=f"proc-{me}",
                        approvers=(), play="rollback", reason=f"round {r}", at=now))
                    uow.commit()
                wins.append(True)
            except TagMovedMeanwhile:
                wins.append(False)
        barrier.wait(WAIT)
        results.put((me, wins))
    except BaseException as exc:
        barrier.abort()
        results.put((me, repr(exc)))
        raise
    finally:
        engine.dispose()
