"""Bearer tokens with scopes. The secret is shown once and stored only as its sha256.

Checked tokens are cached for a few seconds, so the serving hot path (tag resolution) does not
pay a database read per request; a revocation therefore takes effect within that cache time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.shared.tokens import SCOPE_HELP, SCOPES, create_token, hash_token
from core.ports import UnitOfWorkFactory

from .errors import Forbidden, Unauthenticated

__all__ = ["SCOPES", "SCOPE_HELP", "Principal", "TokenCache", "bearer", "check",
           "create_token", "hash_token"]

@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's name is the actor of every play it runs."""

    token_id: str
    name: str
    scopes: frozenset[str]

    def allows(self, *wanted: str) -> bool:
        return "admin" in self.scopes or any(s in self.scopes for s in wanted)


class TokenCache:
    """token hash -> principal (or None for unknown), each for `ttl` seconds."""

    def __init__(self, uow: UnitOfWorkFactory, ttl: float,
                 ticks: Callable[[], float] = time.monotonic) -> None:
        self._uow = uow
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
        """Read the token from the database (blocking; call it off the event loop)."""
        with self._uow() as u:
            token = u.tokens.by_hash(token_hash)
        principal = None
        if token is not None and token.revoked_at is None:
            principal = Principal(token.id, token.name, frozenset(token.scopes))
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


def check(principal: Principal | None, scopes: tuple[str, ...]) -> Principal:
    if principal is None:
        raise Unauthenticated("the token is unknown or revoked",
                              hint="check `playbook token list`, or create a new token")
    if not principal.allows(*scopes):
        raise Forbidden(f"token {principal.name!r} lacks the scope "
                        f"{' or '.join(repr(s) for s in scopes)}",
                        hint=f"it has: {', '.join(sorted(principal.scopes))}; create a token "
                             f"with --scope {scopes[0]}")
    return principal
