"""Who may call the HTTP API, and what it already answered: the records behind API tokens
and idempotency keys. Plain dataclasses; storage keeps only a token's sha256, never the
secret."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ApiToken:
    """A bearer token's record."""

    id: str
    name: str  # what the token is for (ci-deploy, serving-eu)
    scopes: tuple[str, ...]
    created_at: datetime
    created_by: str
    revoked_at: datetime | None = None
    user: str | None = None  # who plays run with it are recorded under (None: its name)
    expires_at: datetime | None = None  # None: never (tokens made before expiry existed)
    models: tuple[str, ...] | None = None  # the models it may touch (None: every model)
    last_used_at: datetime | None = None  # to the minute: when a server last accepted it

    @property
    def actor(self) -> str:
        """The identity every play run with this token is recorded under (approvals too)."""
        return self.user or self.name

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at


@dataclass(frozen=True)
class StoredResponse:
    """What an Idempotency-Key answered; `status` is None while its request is in flight."""

    fingerprint: str
    status: int | None
    body: str | None
    created_at: datetime
    effect: str | None = None  # what its request committed first (while status is None)
