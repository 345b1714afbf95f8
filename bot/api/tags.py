"""The serving hot path: what a tag points at, and the whole route (production + canary).

Answers carry an ETag; a client that sends it back in If-None-Match gets 304 and no body, so
serving code can poll every few seconds and a rollback reaches it within one poll.
"""

# No `from __future__ import annotations`: FastAPI reads the dependencies in the route
# signatures at runtime, and they close over `api`, which string annotations cannot see.

import hashlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from core import queries
from core.domain import Tag, Version
from core.engine import PlayContext
from core.plays import switched

from .access import Principal
from .context import ApiContext
from .schemas import ResolvedOut, RouteOut, ServingBody, ServingOut

NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "If-None-Match holds the current ETag: nothing changed"}}
CACHE = "no-cache"  # clients may keep the answer, but must revalidate it


def etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    return any(t.strip().removeprefix("W/") == etag for t in header.split(","))


def resolved(tag: Tag, version: Version) -> dict[str, Any]:
    return {"model": tag.model, "tag": tag.name, "version": version.id,
            "short": version.short, "revision": tag.revision,
            "moved_at": tag.moved_at.isoformat(), "components": version.components.to_json(),
            "scores": version.scores}


def _pointed(found: queries.Pointed | None) -> dict[str, Any] | None:
    return resolved(found.tag, found.version) if found else None


def _answer(body: dict[str, Any] | None) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def _conditional(request: Request, etag: str, body: bytes) -> Response:
    headers = {"ETag": etag, "Cache-Control": CACHE}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def route_answer(ctx: PlayContext, model: str) -> tuple[str, bytes]:
    """The route's ETag and JSON body, read now."""
    now = queries.route(ctx, model)
    key = [now.production.tag.revision if now.production else 0,
           now.canary.tag.revision if now.canary else 0, now.fraction or 0,
           now.started_at.isoformat() if now.started_at else ""]
    etag = '"' + hashlib.sha256(repr(key).encode()).hexdigest()[:20] + '"'
    body = _answer({"model": model, "production": _pointed(now.production),
                    "canary": _pointed(now.canary), "canary_fraction": now.fraction})
    return etag, body


def router(api: ApiContext) -> APIRouter:
    r = api.router("tags")
    ctx = api.app.ctx

    def load_tag(model: str, tag: str) -> tuple[str, bytes]:
        generation = api.answers.generation
        found = queries.pointed(ctx, model, tag)
        etag = f'"{found.tag.revision}-{found.version.id[:16]}"'
        body = _answer(_pointed(found))
        api.answers.put(("tag", model, tag), etag, body, generation)
        return etag, body

    def load_route(model: str) -> tuple[str, bytes]:
        generation = api.answers.generation
        etag, body = route_answer(ctx, model)
        api.answers.put(("route", model), etag, body, generation)
        return etag, body

    # Async, so an answer from the cache costs no hop to the thread pool.
    @r.get("/models/{model}/tags/{tag:path}", response_model=ResolvedOut,
           responses=NOT_MODIFIED)
    async def resolve_tag(model: str, tag: str, request: Request,
                          _: Annotated[Principal, Depends(api.require("resolve"))]
                          ) -> Response:
        """What `tag` (production, canary, experiment/NAME, ...) points at now."""
        hit = api.answers.get(("tag", model, tag))
        if hit is None:
            hit = await run_in_threadpool(load_tag, model, tag)
        return _conditional(request, hit[0], hit[1])

    @r.get("/models/{model}/route", response_model=RouteOut, responses=NOT_MODIFIED)
    async def route(model: str, request: Request,
                    _: Annotated[Principal, Depends(api.require("resolve"))]) -> Response:
        """Production, the canary and the canary's share of traffic, in one answer."""
        hit = api.answers.get(("route", model))
        if hit is None:
            hit = await run_in_threadpool(load_route, model)
        return _conditional(request, hit[0], hit[1])

    @r.post("/models/{model}/serving", response_model=ServingOut)
    async def serving(model: str, body: ServingBody,
                      _: Annotated[Principal, Depends(api.require("resolve", "attribute"))]
                      ) -> dict[str, Any]:
        """A serving process now serves `version` (the client library reports each change
        of its route): a rollback that restored it records serving switched, now."""
        marked = await run_in_threadpool(switched.reported, model, body.version, api.app.ctx,
                                         body.tag)
        return {"incidents": marked}

    return r
