"""Bearer tokens with scopes. The secret is shown once and stored only as its sha256.

Checked tokens are cached for a few seconds, so the serving hot path (tag resolution) does not
pay a database read per request; a revocation therefore takes effect within that cache time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.shared.tokens import SCOPE_HELP, SCOPES, create_token, hash_token
from core.ports import UnitOfWorkFactory
from core.timetext import stamp

from .errors import Forbidden, Unauthenticated

__all__ = ["SCOPES", "SCOPE_HELP", "Principal", "TokenCache", "bearer", "check",
           "create_token", "hash_token", "live"]

@dataclass(frozen=True)
class Principal:
    """Who is calling: `actor` (the token's --user, else its name) is recorded on every play
    it runs; `models` None means every model."""

    token_id: str
    name: str
    scopes: frozenset[str]
    actor: str = ""
    models: frozenset[str] | None = None
    expires_at: datetime | None = None

    def allows(self, *wanted: str) -> bool:
        return "admin" in self.scopes or any(s in self.scopes for s in wanted)

    def cover(self, *models: str) -> None:
        """Refuse (403) unless the token may touch every one of `models`."""
        if self.models is None:
            return
        outside = sorted(set(models) - self.models)
        if outside:
            raise Forbidden(f"token {self.name!r} does not cover model(s) "
                            f"{', '.join(outside)}",
                            hint=f"it covers: {', '.join(sorted(self.models))}; create a token "
                                 f"with --model {outside[0]}")


class TokenCache:
    """token hash -> principal (or None for unknown), each for `ttl` seconds."""

    def __init__(self, uow: UnitOfWorkFactory, ttl: float,
                 ticks: Callable[[], float] = time.monotonic,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._uow = uow
        self._now = now
        self._ttl = ttl
        self._ticks = ticks
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[float, Principal | None]] = {}

    def cached(self, token_hash: str) -> tuple[bool, Principal | None]:
        with self._lock:
            hit = self._seen.get(token_hash)
        if hit is not None and hit[0] > self._ticks():
            return True, hit[1]
        return False, None

    def load(self, token_hash: str) -> Principal | None:
        """Read the token from the database (blocking; call it off the event loop), and
        remember its use to the minute (at most one write per token and minute)."""
        now = self._now()
        with self._uow(read_only=True) as u:  # never queues behind a writer on SQLite
            token = u.tokens.by_hash(token_hash)
        principal = None
        if token is not None and token.revoked_at is None:  # an expired one: live() says
            principal = Principal(
                token.id, token.name, frozenset(token.scopes), token.actor,
                frozenset(token.models) if token.models is not None else None,
                token.expires_at)
            minute = now.replace(second=0, microsecond=0)
            if not token.expired(now) and (token.last_used_at is None
                                           or token.last_used_at < minute):
                with self._uow() as u:
                    u.tokens.touch(token.id, minute)
                    u.commit()
        with self._lock:
            if len(self._seen) > 10_000:  # bounded: unknown tokens must not grow it forever
                self._seen.clear()
            self._seen[token_hash] = (self._ticks() + self._ttl, principal)
        return principal


def bearer(authorization: str | None) -> str:
    """The secret of an `Authorization: Bearer T` header, or 401."""
    if not authorization:
        raise Unauthenticated("no token given",
                              hint="send `Authorization: Bearer <token>`; create one with "
                                   "`playbook token create --scope ... --name ...`")
    kind, _, secret = authorization.partition(" ")
    if kind.lower() != "bearer" or not secret.strip():
        raise Unauthenticated("the Authorization header is not `Bearer <token>`",
                              hint="send `Authorization: Bearer <token>`")
    return secret.strip()


def live(principal: Principal | None, now: datetime) -> Principal:
    """The principal, or 401 when its token is unknown, revoked or expired."""
    if principal is None:
        raise Unauthenticated("the token is unknown or revoked",
                              hint="check `playbook token list`, or create a new token")
    if principal.expires_at is not None and now >= principal.expires_at:
        raise Unauthenticated(f"token {principal.name!r} expired at "
                              f"{stamp(principal.expires_at)}",
                              hint="create a new one: `playbook token create --expires 90d ...`"
                                   ", then revoke this one")
    return principal


def check(principal: Principal | None, scopes: tuple[str, ...], now: datetime,
          model: str | None = None) -> Principal:
    principal = live(principal, now)
    if not principal.allows(*scopes):
        raise Forbidden(f"token {principal.name!r} lacks the scope "
                        f"{' or '.join(repr(s) for s in scopes)}",
                        hint=f"it has: {', '.join(sorted(principal.scopes))}; create a token "
                             f"with --scope {scopes[0]}")
    if model is not None:
        principal.cover(model)
    return principal
