"""Run each slot of a scheduled job once across every replica: claim (job, time) first, run,
record what it did. The rules live here; `JobClaims` (core/ports.py) only stores claims.

A run that fails keeps its claim open with the error, so another replica (or this one)
retries it once the claim times out; after MAX_ATTEMPTS failed runs the claim is closed and
keeps why. Each step is a short transaction of its own, outside the job's own work: the job
(writing an event, running GC) commits on its own, and what it did is recorded after.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.events import DigestDue
from core.ports import Clock, UnitOfWorkFactory

log = logging.getLogger("playbook.scheduler")
MAX_ATTEMPTS = 3  # a run that failed this often is given up on, with its error kept
FINISH_ATTEMPTS = 3  # tries at recording a run that happened (else it runs again)


@dataclass(frozen=True)
class JobClaim:
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


def failure(attempts: int, error: str) -> tuple[str, bool]:
    """What a claim keeps after its `attempts`-th run failed, and whether to give up."""
    if attempts >= MAX_ATTEMPTS:
        return f"gave up after {attempts} attempts: {error}", True
    return f"attempt {attempts} failed: {error}", False


class Once:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, timeout: timedelta,
                 owner: str) -> None:
        self.uow = uow
        self.clock = clock
        self.timeout = timeout
        self.owner = owner

    def claim(self, job: str, at: datetime) -> bool:
        with self.uow() as uow:
            won = uow.claims.claim(job, at, self.owner, self.clock.now(), self.timeout)
            uow.commit()
        return won

    def failed(self, job: str, at: datetime, error: str) -> bool:
        """Record a failed run while this owner holds the claim; True when given up on."""
        with self.uow() as uow:
            held = uow.claims.get(job, at)
            if held is None or held.claimed_by != self.owner or held.done_at is not None:
                return False
            outcome, give_up = failure(held.attempts, error)
            recorded = uow.claims.failed(job, at, self.owner, self.clock.now(), outcome,
                                         close=give_up)
            uow.commit()
        return give_up and recorded

    def finish(self, job: str, at: datetime, outcome: str) -> bool:
        with self.uow() as uow:
            done = uow.claims.finish(job, at, self.owner, self.clock.now(), outcome)
            uow.commit()
        return done

    def close(self, job: str, at: datetime, outcome: str) -> None:
        with self.uow() as uow:
            uow.claims.close(job, at, self.clock.now(), outcome)
            uow.commit()

    def get(self, job: str, at: datetime) -> JobClaim | None:
        with self.uow(read_only=True) as uow:
            return uow.claims.get(job, at)

    def stale(self) -> list[JobClaim]:
        with self.uow(read_only=True) as uow:
            return uow.claims.stale(self.clock.now(), self.timeout)

    def run(self, job: str, at: datetime, work: Callable[[], str]) -> str | None:
        """`work()` answers what it did; None when another replica has (or is doing) it, or
        when it failed (logged, and retried later through the open claim)."""
        if not self.claim(job, at):
            log.info("%s at %s: claimed by another replica, not run by %s", job,
                     at.isoformat(), self.owner)
            return None
        try:
            outcome = work()
        except Exception as exc:
            gave_up = self.failed(job, at, str(exc))
            log.exception("%s at %s failed%s", job, at.isoformat(),
                          "; giving up" if gave_up else "; another attempt follows after "
                          f"{self.timeout}")
            return None
        for attempt in range(FINISH_ATTEMPTS):  # it ran: record it, or it runs again
            try:
                if not self.finish(job, at, outcome):
                    log.warning("%s at %s ran past the %s claim timeout and was taken over; "
                                "it may have run twice (raise claim_timeout_minutes)",
                                job, at.isoformat(), self.timeout)
                break
            except Exception:
                if attempt == FINISH_ATTEMPTS - 1:
                    log.exception("%s at %s ran but could not be recorded; it will run "
                                  "again after %s", job, at.isoformat(), self.timeout)
                else:
                    time.sleep(0.5 * (attempt + 1))  # a database blip: back off, try again
        log.info("%s at %s: run by %s: %s", job, at.isoformat(), self.owner, outcome)
        return outcome


def digest_due(uow: UnitOfWorkFactory, clock: Clock, channel: str, at: datetime) -> None:
    """A digest is due in `channel` for the slot `at` (the schedule's, or `digest --now`'s):
    written as an event, which the notifier of a server with Slack posts."""
    with uow() as u:
        u.outbox.add(DigestDue(model="", channel=channel, slot=at, at=clock.now()))
        u.commit()
