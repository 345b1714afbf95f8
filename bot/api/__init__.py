"""The HTTP API for CI pipelines and serving code: /v1 routes, /healthz and /metrics.

One module per area (versions, tags, attributions, audit, plays, canary, health); each builds
its routes around one ApiContext, so nothing is created at import time.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from bot.bootstrap import App
from core.errors import NotFound

from . import alerts, attributions, audit, canary, health, plays, stream, tags, versions
from .context import ApiContext, ApiSettings
from .routing import route_class


def build_router(app: App, settings: ApiSettings | None = None) -> APIRouter:
    """All /v1 routes and /healthz, /metrics, bound to one composed App. What a play over
    HTTP means for Slack (cards, records) travels as its events, like from any surface."""
    api = ApiContext.build(app, settings or ApiSettings.from_env(app.settings.env))
    api.route_class = route_class(api)
    root = APIRouter(route_class=api.route_class)
    for area in (versions, stream, tags, attributions, alerts, audit, plays, canary, health):
        root.include_router(area.router(api))

    fallback = api.router("fallback")

    @fallback.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                        include_in_schema=False)
    def unknown(path: str, request: Request) -> None:
        raise NotFound(f"no route {request.method} /v1/{path}",
                       hint="/docs lists every route of the API")

    root.include_router(fallback)
    return root


__all__ = ["ApiSettings", "build_router"]
