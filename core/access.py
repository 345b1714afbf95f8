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
    name: str  # the actor of every play run with this token
    scopes: tuple[str, ...]
    created_at: datetime
    created_by: str
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class StoredResponse:
    """What an Idempotency-Key answered; `status` is None while its request is in flight."""

    fingerprint: str
    status: int | None
    body: str | None
    created_at: datetime
    effect: str | None = None  # what its request committed first (while status is None)
