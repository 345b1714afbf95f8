"""The HTTP API for CI pipelines and serving code (mounted under /v1 by bot.server)."""

from __future__ import annotations

from fastapi import APIRouter

from bot.bootstrap import App


def build_router(app: App) -> APIRouter:
    """All /v1 routes and /healthz, /metrics, bound to one composed App."""
    return APIRouter()
