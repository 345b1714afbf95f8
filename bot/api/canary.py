"""The canary of a model: its slice, and how it compares with production so far."""

# No `from __future__ import annotations`: FastAPI reads the dependencies in the route
# signatures at runtime, and they close over `api`, which string annotations cannot see.

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from core.plays import canary_watch
from core.plays.canary import stop

from .access import Principal
from .context import ApiContext
from .schemas import CanaryOut


def router(api: ApiContext) -> APIRouter:
    r = api.router("canary")
    ctx = api.app.ctx

    @r.get("/models/{model}/canary", response_model=CanaryOut)
    def canary(model: str,
               _: Annotated[Principal, Depends(api.require("register", "audit", "resolve"))]
               ) -> dict[str, Any]:
        """The canary slice and, once both arms have the minimum sample, its comparison with
        production: error rate (two-proportion z-test), latency p50/p95, feedback mean."""
        return canary_watch.view(ctx, model).to_json()

    @r.delete("/models/{model}/canary", response_model=CanaryOut)
    def end_canary(model: str,
                   who: Annotated[Principal, Depends(api.require("register"))]
                   ) -> dict[str, Any]:
        """End the slice: the route answer stops carrying the canary (the tag stays)."""
        stop(ctx, model=model, actor=who.actor)
        return canary_watch.view(ctx, model).to_json()

    return r
