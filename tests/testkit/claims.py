"""Job claims as the scheduler uses them: each call in a committed transaction of its own."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from core.ports import UnitOfWork
from core.scheduled import JobClaim, Once


class At:
    def __init__(self, t: datetime) -> None:
        self.t = t

    def now(self) -> datetime:
        return self.t


class Claims:
    def __init__(self, uow: Callable[[], UnitOfWork]) -> None:
        self.uow = uow

    def claim(self, job: str, at: datetime, owner: str, now: datetime,
              timeout: timedelta) -> bool:
        with self.uow() as u:
            won = u.claims.claim(job, at, owner, now, timeout)
            u.commit()
        return won

    def finish(self, job: str, at: datetime, owner: str, now: datetime, outcome: str) -> bool:
        with self.uow() as u:
            done = u.claims.finish(job, at, owner, now, outcome)
            u.commit()
        return done

    def failed(self, job: str, at: datetime, owner: str, now: datetime, error: str) -> bool:
        """Through the rule: Once decides when to give up."""
        return Once(self.uow, At(now), timedelta(0), owner).failed(job, at, error)

    def get(self, job: str, at: datetime) -> JobClaim | None:
        with self.uow() as u:
            return u.claims.get(job, at)

    def stale(self, now: datetime, timeout: timedelta, limit: int = 100) -> list[JobClaim]:
        with self.uow() as u:
            return u.claims.stale(now, timeout, limit)

    def last_done(self, job: str) -> JobClaim | None:
        with self.uow() as u:
            return u.claims.last_done(job)



