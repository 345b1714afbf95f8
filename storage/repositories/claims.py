"""Claims on scheduled posts: of several `playbook serve` replicas, only the one that claims
(job, scheduled time) posts it.

A claim is taken by INSERT (the primary key decides between racers). A claim still not done
after the timeout belongs to a replica that died or failed midway: another replica takes it
over with a compare-and-set UPDATE on the claim time, so a post is neither doubled nor lost.
Each method is one short transaction of its own, outside any play's unit of work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from storage.errors import translated
from storage.orm_scheduler import JobClaimRow

MAX_ATTEMPTS = 3  # a post that failed this often is given up on, with its error kept


@dataclass(frozen=True)
class Claim:
    job: str
    scheduled_at: datetime
    claimed_by: str
    claimed_at: datetime
    attempts: int
    done_at: datetime | None
    outcome: str | None


def slot(at: datetime) -> datetime:
    """The key form of a scheduled time: UTC, whole seconds (schedules have no finer grain)."""
    return at.astimezone(UTC).replace(microsecond=0)


def _claim(row: JobClaimRow) -> Claim:
    return Claim(row.job, row.scheduled_at, row.claimed_by, row.claimed_at, row.attempts,
                 row.done_at, row.outcome)


class SqlJobClaims:
    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, autoflush=False, expire_on_commit=False)

    @translated("claiming a scheduled job")
    def claim(self, job: str, scheduled_at: datetime, owner: str, now: datetime,
              timeout: timedelta) -> bool:
        """True when this owner may run (job, scheduled_at): first to claim it, or taking
        over a claim left unfinished for longer than `timeout`."""
        at = slot(scheduled_at)
        with self._sessions() as session:
            try:
                session.execute(insert(JobClaimRow).values(
                    job=job, scheduled_at=at, claimed_by=owner, claimed_at=now, attempts=1))
                session.commit()
                return True
            except IntegrityError:
                session.rollback()
        with self._sessions() as session:
            row = session.get(JobClaimRow, (job, at))
            if row is None or row.done_at is not None or row.claimed_at > now - timeout:
                return False
            taken = session.connection().execute(
                update(JobClaimRow)
                .where(JobClaimRow.job == job, JobClaimRow.scheduled_at == at,
                       JobClaimRow.done_at.is_(None), JobClaimRow.claimed_at == row.claimed_at)
                .values(claimed_by=owner, claimed_at=now, attempts=row.attempts + 1))
            session.commit()
            return bool(taken.rowcount)

    @translated("finishing a scheduled job")
    def finish(self, job: str, scheduled_at: datetime, owner: str, now: datetime,
               outcome: str) -> bool:
        """False when another replica had taken the claim over meanwhile (the post ran past
        the claim timeout, so it may go out twice)."""
        with self._sessions() as session:
            done = session.connection().execute(
                update(JobClaimRow)
                .where(JobClaimRow.job == job, JobClaimRow.scheduled_at == slot(scheduled_at),
                       JobClaimRow.claimed_by == owner)
                .values(done_at=now, outcome=outcome))
            session.commit()
            return bool(done.rowcount)

    @translated("recording a failed scheduled job")
    def failed(self, job: str, scheduled_at: datetime, owner: str, now: datetime,
               error: str) -> bool:
        """Keep the error; the claim stays open for a retry after the timeout, unless it
        failed MAX_ATTEMPTS times (then it is closed). True when it was given up on."""
        at = slot(scheduled_at)
        with self._sessions() as session:
            row = session.get(JobClaimRow, (job, at))
            if row is None or row.claimed_by != owner or row.done_at is not None:
                return False
            give_up = row.attempts >= MAX_ATTEMPTS
            outcome = f"gave up after {row.attempts} attempts: {error}" if give_up \
                else f"attempt {row.attempts} failed: {error}"
            # Only while this owner still holds it: a replica that took the claim over since
            # keeps its own state.
            session.connection().execute(
                update(JobClaimRow)
                .where(JobClaimRow.job == job, JobClaimRow.scheduled_at == at,
                       JobClaimRow.claimed_by == owner,
                       JobClaimRow.claimed_at == row.claimed_at)
                .values(outcome=outcome, done_at=now if give_up else None))
            session.commit()
            return give_up

    @translated("closing a scheduled job")
    def close(self, job: str, scheduled_at: datetime, now: datetime, outcome: str) -> None:
        """Close an unfinished claim that nobody can finish (its job no longer exists)."""
        with self._sessions() as session:
            session.connection().execute(
                update(JobClaimRow)
                .where(JobClaimRow.job == job, JobClaimRow.scheduled_at == slot(scheduled_at),
                       JobClaimRow.done_at.is_(None))
                .values(done_at=now, outcome=outcome))
            session.commit()

    @translated("reading job claims")
    def get(self, job: str, scheduled_at: datetime) -> Claim | None:
        with self._sessions() as session:
            row = session.get(JobClaimRow, (job, slot(scheduled_at)))
            return _claim(row) if row else None

    @translated("reading job claims")
    def stale(self, now: datetime, timeout: timedelta, limit: int = 100) -> list[Claim]:
        """Unfinished claims older than the timeout: their replica died or failed midway."""
        with self._sessions() as session:
            rows = session.scalars(
                select(JobClaimRow)
                .where(JobClaimRow.done_at.is_(None), JobClaimRow.claimed_at <= now - timeout)
                .order_by(JobClaimRow.scheduled_at).limit(limit))
            return [_claim(r) for r in rows]

    @translated("reading job claims")
    def last_done(self, job: str) -> Claim | None:
        with self._sessions() as session:
            row = session.scalars(
                select(JobClaimRow).where(JobClaimRow.job == job,
                                          JobClaimRow.done_at.is_not(None))
                .order_by(JobClaimRow.scheduled_at.desc()).limit(1)).first()
            return _claim(row) if row else None
