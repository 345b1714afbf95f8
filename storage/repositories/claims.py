"""Claims on scheduled jobs (the JobClaims port): of several `playbook serve` replicas, only the
one that claims (job, scheduled time) runs it.

A claim is taken by INSERT in a savepoint (the primary key decides between racers). A claim
still not done after the timeout belongs to a replica that died or failed midway: another
replica takes it over with a compare-and-set UPDATE on the claim time, so a run is neither
doubled nor lost. When to give up is core.scheduled's rule, not this repository's.
"""

from __future__ import annotations

import builtins
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from core.scheduled import JobClaim, slot
from storage.errors import translated
from storage.orm_scheduler import JobClaimRow
from storage.repositories.base import SqlRepository


def _claim(row: JobClaimRow) -> JobClaim:
    return JobClaim(row.job, row.scheduled_at, row.claimed_by, row.claimed_at, row.attempts,
                    row.done_at, row.outcome)


class SqlJobClaims(SqlRepository):
    @translated("claiming a scheduled job")
    def claim(self, job: str, scheduled_at: datetime, owner: str, now: datetime,
              timeout: timedelta) -> bool:
        at = slot(scheduled_at)
        try:
            with self._savepoint():
                self._write(insert(JobClaimRow).values(
                    job=job, scheduled_at=at, claimed_by=owner, claimed_at=now, attempts=1))
            return True
        except IntegrityError:
            pass
        row = self._by_key(JobClaimRow, (job, at))
        if row is None or row.done_at is not None or row.claimed_at > now - timeout:
            return False
        taken = self._write(
            update(JobClaimRow)
            .where(JobClaimRow.job == job, JobClaimRow.scheduled_at == at,
                   JobClaimRow.done_at.is_(None), JobClaimRow.claimed_at == row.claimed_at)
            .values(claimed_by=owner, claimed_at=now, attempts=row.attempts + 1))
        return bool(taken.rowcount)

    @translated("finishing a scheduled job")
    def finish(self, job: str, scheduled_at: datetime, owner: str, now: datetime,
               outcome: str) -> bool:
        done = self._write(
            update(JobClaimRow)
            .where(JobClaimRow.job == job, JobClaimRow.scheduled_at == slot(scheduled_at),
                   JobClaimRow.claimed_by == owner)
            .values(done_at=now, outcome=outcome))
        return bool(done.rowcount)

    @translated("recording a failed scheduled job")
    def failed(self, job: str, scheduled_at: datetime, owner: str, now: datetime,
               outcome: str, *, close: bool) -> bool:
        # Only while this owner still holds it: a replica that took the claim over since
        # keeps its own state.
        done = self._write(
            update(JobClaimRow)
            .where(JobClaimRow.job == job, JobClaimRow.scheduled_at == slot(scheduled_at),
                   JobClaimRow.claimed_by == owner, JobClaimRow.done_at.is_(None))
            .values(outcome=outcome, done_at=now if close else None))
        return bool(done.rowcount)

    @translated("closing a scheduled job")
    def close(self, job: str, scheduled_at: datetime, now: datetime, outcome: str) -> None:
        self._write(
            update(JobClaimRow)
            .where(JobClaimRow.job == job, JobClaimRow.scheduled_at == slot(scheduled_at),
                   JobClaimRow.done_at.is_(None))
            .values(done_at=now, outcome=outcome))

    @translated("reading job claims")
    def get(self, job: str, scheduled_at: datetime) -> JobClaim | None:
        row = self._by_key(JobClaimRow, (job, slot(scheduled_at)))
        return _claim(row) if row else None

    @translated("reading job claims")
    def stale(self, now: datetime, timeout: timedelta,
              limit: int = 100) -> builtins.list[JobClaim]:
        rows = self._rows(
            select(JobClaimRow)
            .where(JobClaimRow.done_at.is_(None), JobClaimRow.claimed_at <= now - timeout)
            .order_by(JobClaimRow.scheduled_at, JobClaimRow.job).limit(limit))
        return [_claim(r) for r in rows]

    @translated("reading job claims")
    def last_done(self, job: str) -> JobClaim | None:
        row = self._first(
            select(JobClaimRow).where(JobClaimRow.job == job, JobClaimRow.done_at.is_not(None))
            .order_by(JobClaimRow.scheduled_at.desc()))
        return _claim(row) if row else None
