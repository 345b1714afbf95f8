"""API tokens: their scopes, how a secret is made and stored (only its sha256), shared by
the HTTP API (which checks them) and `playbook tokens` (which makes them)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime

from core.access import ApiToken
from core.errors import InvalidInput
from core.ports import UnitOfWorkFactory

SCOPES = ("register", "resolve", "attribute", "audit", "admin")
SCOPE_HELP = {
    "register": "CI: register versions, run the gate, promote, approve or reject, roll back",
    "resolve": "serving: resolve tags and the route, read versions, run the gate",
    "attribute": "serving: report attribution batches",
    "audit": "auditors: audit bundles, production at a time, canary comparisons",
    "admin": "everything above",
}
PREFIX = "pbt_"


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(uow: UnitOfWorkFactory, *, name: str, scopes: list[str], created_by: str,
                 now: datetime, make_id: Callable[[str], str]) -> tuple[ApiToken, str]:
    """Store a new token; answers its record and the secret (which is not kept)."""
    if not name.strip():
        raise InvalidInput("name", "is required", hint="name the caller, e.g. --name ci-deploy")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise InvalidInput("scope", f"unknown scope(s) {', '.join(unknown)}" if unknown
                           else "give at least one", hint=f"scopes: {', '.join(SCOPES)}")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(id=make_id("tok"), name=name.strip(), scopes=tuple(sorted(set(scopes))),
                     created_at=now, created_by=created_by)
    with uow() as u:
        u.tokens.add(token, hash_token(secret))
        u.commit()
    return token, secret
