"""Liveness for load balancers and Prometheus metrics; neither needs a token."""

# No `from __future__ import annotations`: FastAPI reads the dependencies in the route
# signatures at runtime, and they close over `api`, which string annotations cannot see.

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from core.errors import StorageError

from .context import ApiContext
from .schemas import ErrorOut, HealthOut

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


def router(api: ApiContext) -> APIRouter:
    r = api.router("operations", prefix="")

    @r.get("/healthz", response_model=HealthOut,
           responses={503: {"model": ErrorOut, "description": "the database is unreachable"}})
    def healthz() -> dict[str, str]:
        """200 when the database answers; 503 (STORAGE_FAILED) when it does not."""
        with api.uow() as uow:
            uow.stats.ping()
        return {"status": "ok", "database": api.app.engine.dialect.name}

    def registry_figures() -> tuple[list[tuple[str, str, str, int]], list[tuple[str, float]],
                                    dict[tuple[str, str], int]]:
        with api.uow() as uow:
            return uow.stats.tag_moves(), uow.stats.rollback_times(), uow.outbox.counts()

    @r.get("/metrics", response_class=PlainTextResponse)
    async def metrics() -> PlainTextResponse:
        """Prometheus text format: requests, latencies, attribution ingest, tag moves,
        time-to-rollback, outbox deliveries by handler and state (alert on `dead`, and on
        `pending` that keeps growing); `playbook_database_up` is 0 when the registry cannot
        be read."""
        try:
            moves, rollbacks, deliveries = await run_in_threadpool(registry_figures)
            up = 1
        except StorageError:
            moves, rollbacks, deliveries, up = [], [], {}, 0
        text = api.metrics.render(moves, rollbacks, deliveries)
        text += ("# HELP playbook_database_up Whether the registry database answered.\n"
                 f"# TYPE playbook_database_up gauge\nplaybook_database_up {up}\n")
        return PlainTextResponse(text, media_type=PROMETHEUS_TEXT)

    return r
