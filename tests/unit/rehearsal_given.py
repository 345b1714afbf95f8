"""Rehearsal scenes for the unit tests: configs, a production history with a tainted version,
one drill, the due status, and a rollback that is slow for real."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from fake_store import FakeUnitOfWork, FakeUnitOfWorkFactory
from fakes import FakeEvaluator, Fakes
from given import BASE, chain, promoted, registered

from core.commands import Rehearse, Rollback
from core.domain import PRODUCTION, TagMoved, Version
from core.engine import PlayContext
from core.plays.rehearse import RehearsalResult, RehearsalStatus, rehearsal_status, rehearse
from core.plays.rollback import RollbackResult, rollback

STRICT = BASE.replace('owner = "alice"', 'owner = "alice"\nmin_score = 0.5')
DAYS = BASE.replace('owner = "alice"',
                    'owner = "alice"\nmin_score = 0.5\nrehearsal_every_days = 7')


def passing() -> FakeEvaluator:
    """The eval suite confirms every rollback target (a rehearsal counts only then)."""
    return FakeEvaluator(default={"accuracy": 0.9})


def drill(ctx: PlayContext, model: str = "chat", **kw: Any) -> RehearsalResult:
    kw.setdefault("actor", "oncall")
    return rehearse(Rehearse.parse(model=model, **kw), ctx)


def production_events(fakes: Fakes, model: str = "chat") -> list[TagMoved]:
    return [e for e in fakes.events if e.model == model and e.tag == PRODUCTION]


def status(ctx: PlayContext, fakes: Fakes, fingerprint: str | None = None,
           model: str = "chat", now: datetime | None = None) -> RehearsalStatus:
    with fakes.uow() as uow:
        return rehearsal_status(uow, ctx.config.model(model), now or fakes.clock.now(),
                                fingerprint)


def history(ctx: PlayContext) -> tuple[Version, Version, Version]:
    """Production went v1 -> v2, v2 was rolled back (a real incident), then v3 shipped:
    a rollback now would go to v1, not to the tainted v2."""
    v1, v2 = chain(ctx, "chat", 0.6, 0.7)
    rollback(Rollback.parse(model="chat", actor="oncall", symptom="real trouble"), ctx)
    v3 = registered(ctx, "chat", "chat prompt v3", 0.8, parent=v2)
    promoted(ctx, v3)
    return v1, v2, v3


class SlowDatabase(FakeUnitOfWorkFactory):
    """Every transaction opened takes `delay` on the fake clock: a rollback that is slow
    for real, measured by the rollback play's own clock readings."""

    def __init__(self, fakes: Fakes, delay: timedelta) -> None:
        super().__init__(fakes.store)
        self.fakes = fakes
        self.delay = delay

    def __call__(self, *, read_only: bool = False) -> FakeUnitOfWork:
        self.fakes.clock.advance(self.delay)
        return super().__call__(read_only=read_only)


def slow_rollback(ctx: PlayContext, fakes: Fakes, delay: timedelta = timedelta(minutes=2)
                  ) -> Callable[[Rollback], RollbackResult]:
    slow = replace(ctx, uow=SlowDatabase(fakes, delay))
    return lambda order: rollback(order, slow)
