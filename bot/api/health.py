"""Probes for load balancers and orchestrators, and Prometheus metrics; none needs a token.

`/livez` says the process answers (a database blip must not restart every pod); `/readyz`
says it can serve: the database answers and its schema is the one this Playbook expects.
`/healthz` is kept as an alias of readiness.
"""

# No `from __future__ import annotations`: FastAPI reads the dependencies in the route
# signatures at runtime, and they close over `api`, which string annotations cannot see.

from functools import partial
from typing import Any

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from core.domain import RollbackSeconds
from core.errors import StorageError
from core.ports import UnitOfWorkFactory

from .context import ApiContext
from .schemas import ErrorOut, HealthOut, LiveOut

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


Figures = tuple[list[tuple[str, str, str, int]], dict[str, RollbackSeconds],
                dict[tuple[str, str], int]]


def registry_figures(uow: UnitOfWorkFactory) -> Figures:
    """What a scrape reads from the registry: tag moves, times to rollback, deliveries; a
    few rows of running totals and the outbox's backlog, whatever the size of the history,
    in a read-only transaction (never waiting for a writer)."""
    with uow(read_only=True) as u:
        return u.stats.tag_moves(), u.stats.rollback_seconds(), u.outbox.counts()


def router(api: ApiContext) -> APIRouter:
    r = api.router("operations", prefix="")

    @r.get("/livez", response_model=LiveOut)
    async def livez() -> dict[str, str]:
        """200 while the process answers; touches nothing else."""
        return {"status": "ok"}

    def ready() -> dict[str, Any]:
        with api.uow(read_only=True) as uow:
            uow.stats.ping()
        api.app.check_schema()
        return {"status": "ok", "database": api.app.engine.dialect.name,
                "schema": api.app.schema()[0] or "", "dependencies": dict(api.app.dependencies)}

    unready: dict[int | str, dict[str, Any]] = {503: {
        "model": ErrorOut, "description": "the database is unreachable (STORAGE_FAILED) or "
                                          "its schema is not this Playbook's "
                                          "(SCHEMA_NOT_CURRENT)"}}
    r.add_api_route("/readyz", ready, methods=["GET"], response_model=HealthOut,
                    responses=unready, summary="Readiness",
                    description="200 when the database answers and its schema is current.")
    r.add_api_route("/healthz", ready, methods=["GET"], response_model=HealthOut,
                    responses=unready, summary="Readiness (alias of /readyz)")

    @r.get("/metrics", response_class=PlainTextResponse)
    async def metrics() -> PlainTextResponse:
        """Prometheus text format: requests, latencies, attribution ingest, tag moves,
        time-to-rollback, outbox deliveries by handler and state (alert on `dead`, and on
        `pending` that keeps growing); `playbook_database_up` is 0 when the registry cannot
        be read."""
        try:
            figures = partial(registry_figures, api.uow)
            moves, rollbacks, deliveries = await run_in_threadpool(figures)
            up = 1
        except StorageError:
            moves, rollbacks, deliveries, up = [], {}, {}, 0
        text = api.metrics.render(moves, rollbacks, deliveries)
        text += ("# HELP playbook_database_up Whether the registry database answered.\n"
                 f"# TYPE playbook_database_up gauge\nplaybook_database_up {up}\n")
        if "slack" in api.app.dependencies:
            slack_up = int(api.app.dependencies["slack"] == "ok")
            text += ("# HELP playbook_slack_up Whether the Slack Web API answered auth.test "
                     "(0: degraded, the HTTP API still serves).\n"
                     f"# TYPE playbook_slack_up gauge\nplaybook_slack_up {slack_up}\n")
        return PlainTextResponse(text, media_type=PROMETHEUS_TEXT)

    return r
