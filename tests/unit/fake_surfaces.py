"""The fake records the surfaces keep (storage/repositories/claims.py and slack.py have the SQL
ones): the scheduler's job claims and what the Slack surface remembers."""

from __future__ import annotations

import builtins
from dataclasses import replace
from datetime import datetime, timedelta

from fake_state import FakeRepo, State

from core import ports
from core.errors import AlreadyExists
from core.scheduled import JobClaim, slot

Key = tuple[str, datetime]


class FakeJobClaims(FakeRepo, ports.JobClaims):
    def _held(self, key: Key, owner: str | None = None) -> JobClaim | None:
        found: JobClaim | None = self._s.claims.get(key)
        if found is None or found.done_at is not None:
            return None
        return found if owner is None or found.claimed_by == owner else None

    def _put(self, name: str, key: Key, seen: JobClaim | None, new: JobClaim) -> None:
        """Write `new` if the claim is still as `seen` at commit (a racer's write wins)."""

        def op(s: State) -> None:
            if s.claims.get(key) != seen:
                raise AlreadyExists(f"job claim {key[0]} at {key[1]} changed meanwhile")
            s.claims[key] = new

        self._write(name, op)

    def claim(self, job: str, scheduled_at: datetime, owner: str, now: datetime,
              timeout: timedelta) -> bool:
        key = (job, slot(scheduled_at))
        seen: JobClaim | None = self._s.claims.get(key)
        if seen is None:
            self._put("claims.claim", key, None, JobClaim(job, key[1], owner, now, 1, None, None))
            return True
        if seen.done_at is not None or seen.claimed_at > now - timeout:
            return False
        self._put("claims.claim", key, seen,
                  replace(seen, claimed_by=owner, claimed_at=now, attempts=seen.attempts + 1))
        return True

    def finish(self, job: str, scheduled_at: datetime, owner: str, now: datetime,
               outcome: str) -> bool:
        key = (job, slot(scheduled_at))
        seen: JobClaim | None = self._s.claims.get(key)
        if seen is None or seen.claimed_by != owner:
            return False
        self._put("claims.finish", key, seen, replace(seen, done_at=now, outcome=outcome))
        return True

    def failed(self, job: str, scheduled_at: datetime, owner: str, now: datetime,
               outcome: str, *, close: bool) -> bool:
        key = (job, slot(scheduled_at))
        seen = self._held(key, owner)
        if seen is None:
            return False
        self._put("claims.failed", key, seen,
                  replace(seen, outcome=outcome, done_at=now if close else None))
        return True

    def close(self, job: str, scheduled_at: datetime, now: datetime, outcome: str) -> None:
        key = (job, slot(scheduled_at))
        seen = self._held(key)
        if seen is not None:
            self._put("claims.close", key, seen, replace(seen, done_at=now, outcome=outcome))

    def get(self, job: str, scheduled_at: datetime) -> JobClaim | None:
        found: JobClaim | None = self._s.claims.get((job, slot(scheduled_at)))
        return found

    def stale(self, now: datetime, timeout: timedelta,
              limit: int = 100) -> builtins.list[JobClaim]:
        found = [c for c in self._s.claims.values()
                 if c.done_at is None and c.claimed_at <= now - timeout]
        return sorted(found, key=lambda c: (c.scheduled_at, c.job))[:limit]

    def last_done(self, job: str) -> JobClaim | None:
        done = [c for c in self._s.claims.values() if c.job == job and c.done_at is not None]
        return max(done, key=lambda c: c.scheduled_at, default=None)


class FakeChatRecords(FakeRepo, ports.ChatRecords):
    def first_delivery(self, key: str, kind: str, at: datetime) -> bool:
        if key in self._s.chat_deliveries:
            return False

        def op(s: State) -> None:
            if key in s.chat_deliveries:
                raise AlreadyExists(f"delivery {key!r} was recorded meanwhile")
            s.chat_deliveries[key] = at

        self._write("chat.first_delivery", op)
        return True

    def prune_deliveries(self, before: datetime) -> int:
        old = [k for k, at in self._s.chat_deliveries.items() if at < before]

        def op(s: State) -> None:
            for k in old:
                s.chat_deliveries.pop(k, None)

        self._write("chat.prune_deliveries", op)
        return len(old)

    def remember(self, kind: str, key: str, channel: str, ts: str, at: datetime) -> None:
        def op(s: State) -> None:
            s.chat_messages[(kind, key)] = (channel, ts)

        self._write("chat.remember", op)

    def message(self, kind: str, key: str) -> tuple[str, str] | None:
        found: tuple[str, str] | None = self._s.chat_messages.get((kind, key))
        return found
