"""The fake records the surfaces keep (storage/repositories/claims.py and slack.py have the SQL
ones): the scheduler's job claims and what the Slack surface remembers."""

from __future__ import annotations

import builtins
from collections.abc import Collection
from dataclasses import dataclass, replace
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


@dataclass(frozen=True)
class Delivery:
    kind: str
    received_at: datetime
    payload: str | None
    owner: str
    lease_until: datetime
    handled_at: datetime | None = None
    effect: str | None = None


class FakeChatRecords(FakeRepo, ports.ChatRecords):
    def _put(self, name: str, key: str, seen: Delivery | None, new: Delivery) -> None:
        def op(s: State) -> None:
            if s.chat_deliveries.get(key) != seen:
                raise AlreadyExists(f"delivery {key!r} changed meanwhile")
            s.chat_deliveries[key] = new

        self._write(name, op)

    def receive(self, key: str, kind: str, payload: str, owner: str, now: datetime,
                lease_until: datetime) -> ports.Received:
        seen: Delivery | None = self._s.chat_deliveries.get(key)
        if seen is None:
            self._put("chat.receive", key, None, Delivery(kind, now, payload, owner,
                                                          lease_until))
            return ports.Received("new")
        if seen.handled_at is not None:
            return ports.Received("handled")
        if seen.lease_until > now:
            return ports.Received("in_flight")
        self._put("chat.receive", key, seen, replace(seen, owner=owner,
                                                     lease_until=lease_until))
        return ports.Received("taken_over", seen.effect)

    def renew(self, keys: Collection[str], owner: str, lease_until: datetime) -> int:
        mine = [k for k in keys if (d := self._s.chat_deliveries.get(k)) is not None
                and d.owner == owner and d.handled_at is None]
        for k in mine:
            seen = self._s.chat_deliveries[k]
            self._put("chat.renew", k, seen, replace(seen, lease_until=lease_until))
        return len(mine)

    def handled(self, key: str, owner: str, at: datetime) -> bool:
        seen: Delivery | None = self._s.chat_deliveries.get(key)
        if seen is None or seen.owner != owner or seen.handled_at is not None:
            return False
        self._put("chat.handled", key, seen, replace(seen, handled_at=at, payload=None))
        return True

    def unhandled(self, now: datetime, limit: int = 20) -> builtins.list[tuple[str, str]]:
        found = sorted((d.received_at, k, d.payload) for k, d in self._s.chat_deliveries.items()
                       if d.handled_at is None and d.payload is not None and d.lease_until < now)
        return [(k, p) for _, k, p in found[:limit] if p is not None]

    def mark_effect(self, key: str, effect: str) -> None:
        def op(s: State) -> None:
            now = s.chat_deliveries.get(key)
            if now is not None and now.effect is None:
                s.chat_deliveries[key] = replace(now, effect=effect)

        self._write("chat.mark_effect", op)

    def prune_deliveries(self, before: datetime) -> int:
        old = [k for k, d in self._s.chat_deliveries.items() if d.received_at < before]

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
