"""Run a scheduled post once across every replica: claim (job, time) first, post, record it.

A post that fails keeps its claim open with the error, so another replica (or this one) retries
it once the claim times out; `SqlJobClaims` gives up after a few attempts and keeps why.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from core.ports import Clock
from storage.repositories.claims import SqlJobClaims

log = logging.getLogger("playbook.scheduler")
FINISH_ATTEMPTS = 3


def replica_name() -> str:
    """Who holds a claim: host, process and a random part (containers share pids)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Once:
    def __init__(self, claims: SqlJobClaims, clock: Clock, timeout: timedelta,
                 owner: str | None = None) -> None:
        self.claims = claims
        self.clock = clock
        self.timeout = timeout
        self.owner = owner or replica_name()

    def run(self, job: str, at: datetime, post: Callable[[], str]) -> str | None:
        """`post()` answers what it did; None when another replica has (or is doing) it, or
        when it failed (logged, and retried later through the open claim)."""
        if not self.claims.claim(job, at, self.owner, self.clock.now(), self.timeout):
            log.info("%s at %s: claimed by another replica, not posted by %s", job,
                     at.isoformat(), self.owner)
            return None
        try:
            outcome = post()
        except Exception as exc:
            gave_up = self.claims.failed(job, at, self.owner, self.clock.now(), str(exc))
            log.exception("%s at %s failed%s", job, at.isoformat(),
                          "; giving up" if gave_up else "; another attempt follows after "
                          f"{self.timeout}")
            return None
        for attempt in range(FINISH_ATTEMPTS):  # posted: record it, or it is posted again
            try:
                if not self.claims.finish(job, at, self.owner, self.clock.now(), outcome):
                    log.warning("%s at %s ran past the %s claim timeout and was taken over; "
                                "it may have been posted twice (raise claim_timeout_minutes)",
                                job, at.isoformat(), self.timeout)
                break
            except Exception:
                if attempt == FINISH_ATTEMPTS - 1:
                    log.exception("%s at %s was posted but could not be recorded; it will "
                                  "be posted again after %s", job, at.isoformat(), self.timeout)
                else:
                    time.sleep(0.5 * (attempt + 1))
        log.info("%s at %s: posted by %s: %s", job, at.isoformat(), self.owner, outcome)
        return outcome
