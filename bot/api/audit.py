"""Play 5 over HTTP: which version served a request, and what production was at a time."""

# No `from __future__ import annotations`: FastAPI reads the dependencies in the route
# signatures at runtime, and they close over `api`, which string annotations cannot see.

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime

from bot.shared.render import lineage_limit
from core import queries, serialize
from core.commands import Audit, ProductionAt
from core.domain import LINEAGE_SHOWN
from core.plays import audit, production_at

from .access import Principal
from .context import ApiContext
from .schemas import AuditOut, ProductionAtOut


def router(api: ApiContext) -> APIRouter:
    r = api.router("audit")
    ctx = api.app.ctx

    @r.get("/audit/{request_id:path}", response_model=AuditOut)
    def audit_bundle(
            request_id: str, who: Annotated[Principal, Depends(api.require("audit"))],
            lineage: Annotated[str, Query(
                description=f"how many of the version's ancestors to list, nearest first: a "
                            f"count, or `all` for the whole chain (default {LINEAGE_SHOWN})"
            )] = str(LINEAGE_SHOWN)) -> dict[str, Any]:
        """The audit bundle: the attribution, the version in full, its nearest ancestors
        with the depth and root of its whole lineage (`?lineage=all` lists every ancestor),
        eval, every tag event and approval touching it, and its incidents."""
        limit = lineage_limit(lineage)
        served = queries.served_by(ctx, request_id)
        if served is not None:
            who.cover(served)
        found = audit(Audit.parse(request_id=request_id, actor=who.actor, lineage=limit), ctx)
        return found.to_json()

    @r.get("/models/{model}/at", response_model=ProductionAtOut)
    def production_then(
            model: str,
            time: Annotated[AwareDatetime, Query(
                description="ISO 8601 with a zone, e.g. 2026-11-26T09:00:00Z "
                            "(URL-encode a `+` offset as %2B)")],
            who: Annotated[Principal, Depends(api.require("audit"))]) -> dict[str, Any]:
        """What `production` pointed at at `time` (replayed from the tag event log)."""
        at: datetime = time
        then = production_at(ProductionAt.parse(model=model, at=at, actor=who.actor), ctx)
        return {"model": then.model, "at": then.at.isoformat(),
                "version": serialize.version(then.version) if then.version else None,
                "event": serialize.event(then.event) if then.event else None}

    return r
