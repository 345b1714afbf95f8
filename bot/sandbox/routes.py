"""The page's side of the sandbox: the page itself, the workspace state, live updates, and the
three things a person does in Slack (run a command, click a button, open the Home tab).

Bodies are JSON; anything wrong with one is a 400 `{"ok": false, "error": "..."}` that says
what to send instead (see bot/sandbox/CONTRACT.md).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, ValidationError

from bot.sandbox.guard import TOKEN_HEADER, token_ok
from bot.sandbox.records import SlackError
from bot.sandbox.relay import BadRequest, Delivered, Relay
from bot.sandbox.workspace import Workspace

STATIC = Path(__file__).resolve().parent / "static"
MEDIA = {".html": "text/html", ".js": "text/javascript", ".css": "text/css",
         ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon"}
T = TypeVar("T", bound=BaseModel)
POLL_S = 0.1
HEARTBEAT_S = 15.0


class CommandIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: str
    channel: str
    text: str


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: str
    channel: str | None = None
    message_ts: str | None = None
    action_id: str
    block_id: str = ""
    value: str = ""


class HomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: str


def refused(error: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"ok": False, "error": error}, status_code=status)


async def parse(request: Request, model: type[T], page_token: str) -> T:
    """Only JSON from the sandbox's own page: a form or text/plain POST, which any web page
    can make a browser send without asking, any request from another origin, and any without
    the page's token are refused (the sandbox acts as anyone on a real registry)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json":
        raise BadRequest(f"send Content-Type: application/json (got {kind or 'none'})")
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.headers.get("host"):
        raise BadRequest(f"requests from {origin} are refused; use the sandbox's own page")
    if not token_ok(request.headers.get(TOKEN_HEADER), page_token):
        raise BadRequest("the page's token is missing or stale (X-Sandbox-Token, from "
                         "/sandbox/state); reload the page")
    try:
        data = json.loads(await request.body() or b"null")
    except ValueError as exc:
        raise BadRequest("the body is not JSON; send a JSON object") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        said = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
                         for e in exc.errors())
        fields = ", ".join(model.model_fields)
        raise BadRequest(f"{said} (send a JSON object with {fields})") from exc


async def deliver(send: Any) -> JSONResponse:
    """Run one relay call; a bad request is a 400, an unreachable app a 502."""
    try:
        done: Delivered = await send
    except BadRequest as exc:
        return refused(str(exc))
    except httpx.HTTPError as exc:  # the app did not answer its own events endpoint
        return refused(f"the app did not answer /slack/events: {exc!r}", 502)
    return JSONResponse({"ok": True, "status": done.status,
                         "text": (done.ack or {}).get("text")})


def build_router(ws: Workspace, relay: Relay, closing: threading.Event,
                 page_token: str) -> APIRouter:
    """`closing` is set when the server begins to stop: event streams end then, so an open
    page does not hold the shutdown up."""
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    async def page() -> Response:
        index = STATIC / "index.html"
        if not index.exists():
            return PlainTextResponse("the sandbox page is missing (bot/sandbox/static/"
                                     "index.html); reinstall playbook", status_code=503)
        return FileResponse(index, media_type="text/html")

    @router.get("/sandbox/static/{name}")
    async def static(name: str) -> Response:
        found = STATIC / name
        if "/" in name or name.startswith(".") or not found.is_file():
            return PlainTextResponse(f"no file {name!r}", status_code=404)
        return FileResponse(found, media_type=MEDIA.get(found.suffix, "text/plain"),
                            headers={"Cache-Control": "no-cache"})

    @router.get("/sandbox/state")
    async def state(user: str = "") -> JSONResponse:
        """The workspace as `user` sees it; without one, as the default user (the requester,
        first in `users`) sees it, so a first visit knows whom to act as."""
        user = user or next(iter(ws.users), "")
        try:
            return JSONResponse({**ws.snapshot(user), "page_token": page_token})
        except SlackError:
            return refused(f"no user {user!r} in the sandbox (users: {', '.join(ws.users)})")

    @router.get("/sandbox/events")
    async def events(request: Request) -> StreamingResponse:
        async def stream() -> AsyncIterator[str]:
            seen, beat = -1, time.monotonic()
            while not closing.is_set() and not await request.is_disconnected():
                if ws.version != seen:
                    seen = ws.version
                    yield f"data: {json.dumps({'version': seen})}\n\n"
                elif time.monotonic() - beat > HEARTBEAT_S:
                    beat = time.monotonic()
                    yield ": heartbeat\n\n"
                await asyncio.sleep(POLL_S)

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache",
                                          "X-Accel-Buffering": "no"})

    @router.post("/sandbox/command")
    async def command(request: Request) -> JSONResponse:
        try:
            body = await parse(request, CommandIn, page_token)
        except BadRequest as exc:
            return refused(str(exc))
        return await deliver(relay.command(body.user, body.channel, body.text))

    @router.post("/sandbox/action")
    async def action(request: Request) -> JSONResponse:
        try:
            body = await parse(request, ActionIn, page_token)
        except BadRequest as exc:
            return refused(str(exc))
        return await deliver(relay.action(body.user, body.channel, body.message_ts,
                                          body.action_id, body.block_id, body.value))

    @router.post("/sandbox/home")
    async def home(request: Request) -> JSONResponse:
        try:
            body = await parse(request, HomeIn, page_token)
        except BadRequest as exc:
            return refused(str(exc))
        return await deliver(relay.home(body.user))

    return router
