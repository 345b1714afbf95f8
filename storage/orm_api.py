"""Tables of the HTTP API: access tokens, idempotency keys and canary traffic slices.

Kept apart from storage/orm.py (which imports this module last, so Base.metadata and the
migrations see these tables too) because they belong to the API's edge, not to the registry's
core records. Their plain-object forms are core's (core.access, core.canary): storage hands
out no rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKeyConstraint, Index, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.access import ApiToken, StoredResponse
from core.canary import CanaryState
from storage.orm import Base


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str]
    token_hash: Mapped[str]
    scopes: Mapped[list[Any]]
    created_at: Mapped[datetime]
    created_by: Mapped[str]
    revoked_at: Mapped[datetime | None]
    user: Mapped[str | None]
    expires_at: Mapped[datetime | None]
    models: Mapped[list[Any] | None]
    last_used_at: Mapped[datetime | None]

    __table_args__ = (UniqueConstraint("token_hash"),)

    @staticmethod
    def values(token: ApiToken, token_hash: str) -> dict[str, Any]:
        return {"id": token.id, "name": token.name, "token_hash": token_hash,
                "scopes": list(token.scopes), "created_at": token.created_at,
                "created_by": token.created_by, "revoked_at": token.revoked_at,
                "user": token.user, "expires_at": token.expires_at,
                "models": list(token.models) if token.models is not None else None,
                "last_used_at": token.last_used_at}

    def to_domain(self) -> ApiToken:
        return ApiToken(id=self.id, name=self.name, scopes=tuple(self.scopes),
                        created_at=self.created_at, created_by=self.created_by,
                        revoked_at=self.revoked_at, user=self.user,
                        expires_at=self.expires_at,
                        models=tuple(self.models) if self.models is not None else None,
                        last_used_at=self.last_used_at)


class IdempotencyRow(Base):
    """One answered (or in-flight) request per token and Idempotency-Key."""

    __tablename__ = "api_idempotency"

    scope: Mapped[str] = mapped_column(primary_key=True)  # the token id
    key: Mapped[str] = mapped_column(primary_key=True)
    fingerprint: Mapped[str]
    status: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    effect: Mapped[str | None] = mapped_column(Text)  # written with the request's first change

    __table_args__ = (Index("ix_api_idempotency_created_at", "created_at"),)

    def to_domain(self) -> StoredResponse:
        return StoredResponse(fingerprint=self.fingerprint, status=self.status, body=self.body,
                              created_at=self.created_at, effect=self.effect)


class CanaryRow(Base):
    """The traffic slice of a model's `canary` tag (the tag itself lives in `tags`)."""

    __tablename__ = "canaries"

    model: Mapped[str] = mapped_column(primary_key=True)
    version_id: Mapped[str]
    fraction: Mapped[float]
    started_at: Mapped[datetime]
    started_by: Mapped[str]
    ended_at: Mapped[datetime | None]

    __table_args__ = (ForeignKeyConstraint(["model", "version_id"],
                                           ["versions.model", "versions.id"]),)

    @staticmethod
    def values(state: CanaryState) -> dict[str, Any]:
        return {"model": state.model, "version_id": state.version_id,
                "fraction": state.fraction, "started_at": state.started_at,
                "started_by": state.started_by, "ended_at": state.ended_at}

    def to_domain(self) -> CanaryState:
        return CanaryState(model=self.model, version_id=self.version_id,
                           fraction=self.fraction, started_at=self.started_at,
                           started_by=self.started_by, ended_at=self.ended_at)
