"""Tokens, idempotency keys and canary slices of the HTTP API.

Idempotency keys are claimed with an INSERT before the request runs, so of two retries racing
with one key exactly one runs; the other finds the claim and waits or replays the answer.
"""

from __future__ import annotations

import builtins
from dataclasses import replace
from datetime import datetime

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from core.access import ApiToken, StoredResponse
from core.canary import ArmSample, CanaryState
from core.domain import RollbackSeconds
from core.errors import AlreadyExists, NotFound
from core.identity import short
from storage.errors import translated
from storage.orm import AttributionRow, TagEventRow
from storage.orm_api import ApiTokenRow, CanaryRow, IdempotencyRow
from storage.repositories import counters
from storage.repositories.base import SqlRepository


class SqlTokenRepository(SqlRepository):
    @translated("adding a token")
    def add(self, token: ApiToken, token_hash: str) -> None:
        try:
            with self._savepoint():
                self._write(insert(ApiTokenRow).values(ApiTokenRow.values(token, token_hash)))
        except IntegrityError as exc:
            raise AlreadyExists(f"token {token.id} already exists") from exc

    @translated("checking a token")
    def by_hash(self, token_hash: str) -> ApiToken | None:
        row = self._first(select(ApiTokenRow).where(ApiTokenRow.token_hash == token_hash))
        return row.to_domain() if row else None

    @translated("listing tokens")
    def list(self, *, include_revoked: bool = False) -> list[ApiToken]:
        stmt = select(ApiTokenRow).order_by(ApiTokenRow.created_at, ApiTokenRow.id)
        if not include_revoked:
            stmt = stmt.where(ApiTokenRow.revoked_at.is_(None))
        return [row.to_domain() for row in self._rows(stmt)]

    @translated("revoking tokens")
    def revoke(self, id_or_name: str, at: datetime) -> builtins.list[ApiToken]:
        """Revoke the token with this id, or every live token with this name."""
        matches = self._rows(select(ApiTokenRow).where(
            or_(ApiTokenRow.id == id_or_name, ApiTokenRow.name == id_or_name),
            ApiTokenRow.revoked_at.is_(None)))
        if not matches:
            raise NotFound(f"no live token with id or name {id_or_name!r}",
                           hint="list them with `playbook token list`")
        by_id = [r for r in matches if r.id == id_or_name]
        chosen = by_id or matches
        self._write(update(ApiTokenRow).where(ApiTokenRow.id.in_([r.id for r in chosen]))
                    .values(revoked_at=at))
        return [replace(r.to_domain(), revoked_at=at) for r in chosen]

    @translated("remembering a token's use")
    def touch(self, token_id: str, at: datetime) -> None:
        self._write(update(ApiTokenRow).where(
            ApiTokenRow.id == token_id,
            or_(ApiTokenRow.last_used_at.is_(None), ApiTokenRow.last_used_at < at))
            .values(last_used_at=at))


class SqlIdempotencyRepository(SqlRepository):
    @translated("claiming an idempotency key")
    def claim(self, scope: str, key: str, fingerprint: str,
              at: datetime) -> StoredResponse | None:
        """Claim the key for a new request (None), or answer what already holds it."""
        try:
            with self._savepoint():
                self._write(insert(IdempotencyRow).values(
                    scope=scope, key=key, fingerprint=fingerprint, status=None, body=None,
                    created_at=at))
            return None
        except IntegrityError:
            row = self._by_key(IdempotencyRow, (scope, key))
            if row is None:  # pragma: no cover - purged between the insert and the read
                raise
            return row.to_domain()

    @translated("taking over an idempotency key")
    def take_over(self, scope: str, key: str, seen: datetime, at: datetime) -> bool:
        """Re-claim a claim whose request never finished (its process died)."""
        result = self._write(update(IdempotencyRow).where(
            IdempotencyRow.scope == scope, IdempotencyRow.key == key,
            IdempotencyRow.status.is_(None), IdempotencyRow.created_at == seen)
            .values(created_at=at))
        return result.rowcount == 1

    @translated("reading an idempotency key")
    def get(self, scope: str, key: str) -> StoredResponse | None:
        row = self._by_key(IdempotencyRow, (scope, key))
        return row.to_domain() if row else None

    @translated("remembering what a request changed")
    def mark_effect(self, scope: str, key: str, effect: str) -> None:
        self._write(update(IdempotencyRow)
                    .where(IdempotencyRow.scope == scope, IdempotencyRow.key == key,
                           IdempotencyRow.effect.is_(None))
                    .values(effect=effect))

    @translated("storing an idempotent response")
    def complete(self, scope: str, key: str, status: int, body: str) -> None:
        self._write(update(IdempotencyRow)
                    .where(IdempotencyRow.scope == scope, IdempotencyRow.key == key)
                    .values(status=status, body=body))

    @translated("releasing an idempotency key")
    def release(self, scope: str, key: str) -> None:
        self._write(delete(IdempotencyRow).where(IdempotencyRow.scope == scope,
                                                 IdempotencyRow.key == key))

    @translated("purging idempotency keys")
    def purge(self, before: datetime) -> int:
        result = self._write(delete(IdempotencyRow).where(IdempotencyRow.created_at < before))
        return int(result.rowcount or 0)


class SqlCanaryRepository(SqlRepository):
    @translated("reading a canary")
    def get(self, model: str) -> CanaryState | None:
        row = self._by_key(CanaryRow, model)
        return row.to_domain() if row else None

    @translated("starting a canary")
    def put(self, state: CanaryState) -> None:
        """Replace the model's canary slice (one canary per model, like its tag)."""
        values = CanaryRow.values(state)
        result = self._write(update(CanaryRow).where(CanaryRow.model == state.model)
                             .values(values))
        if result.rowcount == 0:
            try:
                with self._savepoint():
                    self._write(insert(CanaryRow).values(values))
            except IntegrityError as exc:
                if not self._version_exists(state.model, state.version_id):
                    raise NotFound(f"no version {short(state.model, state.version_id)} is "
                                   "registered") from exc
                raise AlreadyExists(f"{state.model} got a canary meanwhile",
                                    hint="read it again and retry") from exc

    @translated("ending a canary")
    def end(self, model: str, at: datetime) -> CanaryState:
        result = self._write(update(CanaryRow)
                             .where(CanaryRow.model == model, CanaryRow.ended_at.is_(None))
                             .values(ended_at=at))
        if result.rowcount == 0:
            raise NotFound(f"{model} has no running canary")
        state = self.get(model)
        assert state is not None
        return state

    @translated("reading canary outcomes")
    def outcomes(self, model: str, version_id: str, since: datetime,
                 cap: int = 50_000) -> ArmSample:
        """Exact counts over the window; latency and feedback from its newest `cap` records."""
        a = AttributionRow
        window = (a.model == model, a.version_id == version_id, a.served_at >= since)
        n, errors, known = self._session.execute(select(
            func.count(), func.count().filter(a.error.is_(True)),
            func.count(a.error)).where(*window)).one()
        recent = self._session.execute(
            select(a.latency_ms, a.feedback).where(*window)
            .order_by(a.served_at.desc()).limit(cap)).all()
        return ArmSample(version_id=version_id, n=int(n), errors=int(errors),
                         error_known=int(known),
                         latencies=tuple(float(x) for x, _ in recent if x is not None),
                         feedback=tuple(float(f) for _, f in recent if f is not None))


class SqlStatsRepository(SqlRepository):
    """Registry-wide figures for /metrics, from the totals kept as history is written."""

    @translated("counting tag moves")
    def tag_moves(self) -> list[tuple[str, str, str, int]]:
        found = counters.totals(self._session, counters.TAG_MOVES)
        return sorted((m, t, p, int(n)) for (m, t, p), n in found.items())

    @translated("reading times to rollback")
    def rollback_seconds(self) -> dict[str, RollbackSeconds]:
        return counters.rollback_seconds(self._session)

    @translated("checking the database")
    def ping(self) -> None:
        self._session.execute(select(1)).one()

    @translated("reading the route watermark")
    def route_watermark(self) -> str:
        moved = self._session.execute(select(func.max(TagEventRow.seq))).scalar()
        canaries = self._session.execute(select(
            func.count(), func.max(CanaryRow.started_at), func.max(CanaryRow.ended_at))).one()
        return repr((moved or 0, *canaries))
