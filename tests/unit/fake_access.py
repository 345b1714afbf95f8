"""The fake API-access repositories (storage/repositories/api.py has the SQL ones): tokens,
idempotency keys and the /metrics figures, in the fake registry's state."""

from __future__ import annotations

import builtins
from dataclasses import replace
from datetime import datetime

from fake_state import FakeRepo, State

from core import ports
from core.access import ApiToken, StoredResponse
from core.domain import TIME_TO_ROLLBACK_BUCKETS, RollbackSeconds
from core.errors import AlreadyExists, NotFound


class FakeTokenRepository(FakeRepo, ports.TokenRepository):
    def add(self, token: ApiToken, token_hash: str) -> None:
        def op(s: State) -> None:
            if token.id in s.tokens or any(h == token_hash for _, h in s.tokens.values()):
                raise AlreadyExists(f"token {token.id} already exists")
            s.tokens[token.id] = (token, token_hash)

        self._write("tokens.add", op)

    def by_hash(self, token_hash: str) -> ApiToken | None:
        return next((t for t, h in self._s.tokens.values() if h == token_hash), None)

    def list(self, *, include_revoked: bool = False) -> builtins.list[ApiToken]:
        found = [t for t, _ in self._s.tokens.values()
                 if include_revoked or t.revoked_at is None]
        return sorted(found, key=lambda t: (t.created_at, t.id))

    def revoke(self, id_or_name: str, at: datetime) -> builtins.list[ApiToken]:
        live = [t for t, _ in self._s.tokens.values()
                if id_or_name in (t.id, t.name) and t.revoked_at is None]
        if not live:
            raise NotFound(f"no live token with id or name {id_or_name!r}",
                           hint="list them with `playbook token list`")
        chosen = [t for t in live if t.id == id_or_name] or live
        revoked = [replace(t, revoked_at=at) for t in chosen]

        def op(s: State) -> None:
            for t in revoked:
                s.tokens[t.id] = (t, s.tokens[t.id][1])

        self._write("tokens.revoke", op)
        return revoked

    def touch(self, token_id: str, at: datetime) -> None:
        def op(s: State) -> None:
            token, token_hash = s.tokens[token_id]
            if token.last_used_at is None or token.last_used_at < at:
                s.tokens[token_id] = (replace(token, last_used_at=at), token_hash)

        if token_id in self._s.tokens:
            self._write("tokens.touch", op)


class FakeIdempotencyRepository(FakeRepo, ports.IdempotencyRepository):
    def claim(self, scope: str, key: str, fingerprint: str,
              at: datetime) -> StoredResponse | None:
        held = self._s.idempotency.get((scope, key))
        if held is not None:
            return held
        fresh = StoredResponse(fingerprint=fingerprint, status=None, body=None, created_at=at)

        def op(s: State) -> None:
            if (scope, key) in s.idempotency:
                raise AlreadyExists(f"idempotency key {key!r} was claimed meanwhile")
            s.idempotency[(scope, key)] = fresh

        self._write("idempotency.claim", op)
        return None

    def take_over(self, scope: str, key: str, seen: datetime, at: datetime) -> bool:
        held = self._s.idempotency.get((scope, key))
        if held is None or held.status is not None or held.created_at != seen:
            return False

        def op(s: State) -> None:
            now = s.idempotency.get((scope, key))
            if now is not None and now.status is None and now.created_at == seen:
                s.idempotency[(scope, key)] = replace(now, created_at=at)

        self._write("idempotency.take_over", op)
        return True

    def get(self, scope: str, key: str) -> StoredResponse | None:
        found: StoredResponse | None = self._s.idempotency.get((scope, key))
        return found

    def mark_effect(self, scope: str, key: str, effect: str) -> None:
        def op(s: State) -> None:
            now = s.idempotency.get((scope, key))
            if now is not None and now.effect is None:
                s.idempotency[(scope, key)] = replace(now, effect=effect)

        self._write("idempotency.mark_effect", op)

    def complete(self, scope: str, key: str, status: int, body: str) -> None:
        def op(s: State) -> None:
            now = s.idempotency.get((scope, key))
            if now is not None:
                s.idempotency[(scope, key)] = replace(now, status=status, body=body)

        self._write("idempotency.complete", op)

    def release(self, scope: str, key: str) -> None:
        def op(s: State) -> None:
            s.idempotency.pop((scope, key), None)

        self._write("idempotency.release", op)

    def purge(self, before: datetime) -> int:
        old = [k for k, v in self._s.idempotency.items() if v.created_at < before]

        def op(s: State) -> None:
            for k in old:
                s.idempotency.pop(k, None)

        self._write("idempotency.purge", op)
        return len(old)


class FakeStats(FakeRepo, ports.StatsQueries):
    def tag_moves(self) -> builtins.list[tuple[str, str, str, int]]:
        counts: dict[tuple[str, str, str], int] = {}
        for e in self._s.events.values():
            counts[(e.model, e.tag, e.play)] = counts.get((e.model, e.tag, e.play), 0) + 1
        return [(m, t, p, n) for (m, t, p), n in sorted(counts.items())]

    def rollback_seconds(self) -> dict[str, RollbackSeconds]:
        per: dict[str, tuple[list[int], float]] = {}
        for i in self._s.incidents.values():
            if not i.rehearsal:
                counts, total = per.setdefault(
                    i.model, ([0] * (len(TIME_TO_ROLLBACK_BUCKETS) + 1), 0.0))
                counts[RollbackSeconds.bucket_of(i.time_to_rollback_s)] += 1
                per[i.model] = (counts, total + i.time_to_rollback_s)
        return {m: RollbackSeconds(tuple(c), t) for m, (c, t) in sorted(per.items())}

    def ping(self) -> None:
        return None

    def route_watermark(self) -> str:
        canaries = [(c.started_at, c.ended_at) for c in self._s.canaries.values()]
        return repr((max(self._s.events, default=0), sorted(canaries, key=repr)))
