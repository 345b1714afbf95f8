"""API tokens: their scopes, how a secret is made and stored (only its sha256), shared by
the HTTP API (which checks them) and `playbook tokens` (which makes them)."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Collection
from datetime import UTC, datetime, timedelta

from bot.shared.scopes import DEFAULT_LIFETIME, SCOPE_HELP, SCOPES
from core.access import ApiToken
from core.errors import InvalidInput
from core.ports import UnitOfWorkFactory

__all__ = ["DEFAULT_LIFETIME", "SCOPES", "SCOPE_HELP", "create_token", "expiry", "hash_token"]

PREFIX = "pbt_"


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


LIFETIME = re.compile(r"^(\d{1,6})\s*([hd])$", re.ASCII)


def expiry(text: str, now: datetime) -> datetime | None:
    """`--expires`: a lifetime (`90d`, `12h`), a time (ISO 8601, UTC unless a zone is given)
    or `never`; answers when the token stops working (None: never)."""
    value = text.strip().lower()
    if value == "never":
        return None
    m = LIFETIME.match(value)
    if m:
        amount = int(m.group(1))
        lifetime = timedelta(days=amount) if m.group(2) == "d" else timedelta(hours=amount)
        if not lifetime or lifetime > timedelta(days=3660):
            raise InvalidInput("expires", f"{text!r}: give between 1h and 3660d",
                               hint="e.g. --expires 90d, --expires 2027-03-01, or "
                                    "--expires never")
        return now + lifetime
    try:
        at = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidInput("expires", f"{text!r} is neither a lifetime nor a time",
                           hint="e.g. --expires 90d, --expires 12h, --expires 2027-03-01, or "
                                "--expires never") from exc
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    if at <= now:
        raise InvalidInput("expires", f"{text!r} is already past",
                           hint="give a time in the future, or a lifetime like 90d")
    return at


def create_token(uow: UnitOfWorkFactory, *, name: str, scopes: list[str], created_by: str,
                 now: datetime, make_id: Callable[[str], str], user: str | None = None,
                 expires_at: datetime | None = None, models: list[str] | None = None,
                 known_models: Collection[str] | None = None) -> tuple[ApiToken, str]:
    """Store a new token; answers its record and the secret (which is not kept). `models`
    limits it to those (each must be one of `known_models` when given); `user` is who its
    plays are recorded under (default: its name)."""
    if not name.strip():
        raise InvalidInput("name", "is required", hint="name the caller, e.g. --name ci-deploy")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise InvalidInput("scope", f"unknown scope(s) {', '.join(unknown)}" if unknown
                           else "give at least one", hint=f"scopes: {', '.join(SCOPES)}")
    if user is not None and not user.strip():
        raise InvalidInput("user", "is empty", hint="give the Slack user id approvals made "
                                                    "with this token count as, e.g. U0ANA")
    if models is not None:
        strange = sorted(set(models) - set(known_models)) if known_models is not None else []
        if strange or not models:
            raise InvalidInput("model", f"not declared in playbook.toml: {', '.join(strange)}"
                               if strange else "give at least one",
                               hint=f"models: {', '.join(sorted(known_models or []))}")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(id=make_id("tok"), name=name.strip(), scopes=tuple(sorted(set(scopes))),
                     created_at=now, created_by=created_by,
                     user=user.strip() if user else None, expires_at=expires_at,
                     models=tuple(sorted(set(models))) if models is not None else None)
    with uow() as u:
        u.tokens.add(token, hash_token(secret))
        u.commit()
    return token, secret
