"""The route class every API route uses: body limit, idempotency keys, errors, metrics.

bot.server owns the FastAPI app and only includes our router, so what would otherwise be
middleware and exception handlers is done around each route's handler; it also keeps them
off the Slack endpoint, which answers in Slack's own format.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security.base import SecurityBase
from starlette.concurrency import run_in_threadpool

from core.access import StoredResponse
from core.effects import REQUEST_ID, REQUEST_KEY
from core.errors import InvalidInput, StorageError

from .access import live
from .context import ApiContext
from .errors import (
    AlreadyApplied,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    PayloadTooLarge,
    render,
)

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
WITH_BODY = {"POST", "PUT", "PATCH"}
PURGE_EVERY = 100  # claims between two purges of expired idempotency keys


async def read_body(request: Request, limit: int) -> None:
    """Read the body once, refusing it as soon as it is over the limit (413)."""
    declared = request.headers.get("content-length")
    if declared and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body has {declared} bytes; the limit is {limit}",
                              hint="send smaller batches (PLAYBOOK_API_MAX_BODY_BYTES sets it)")
    chunks = bytearray()
    async for chunk in request.stream():
        chunks += chunk
        if len(chunks) > limit:
            raise PayloadTooLarge(f"the body is over the limit of {limit} bytes",
                                  hint="send smaller batches")
    request._body = bytes(chunks)  # Starlette's cache: the handler reads it from here


REQUEST_ID_SHAPE = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")


def request_id(given: str | None) -> str:
    """The caller's X-Request-ID when it is a sane token, else a new one."""
    return given if given and REQUEST_ID_SHAPE.match(given) else uuid.uuid4().hex


def applied(effect: str) -> AlreadyApplied:
    return AlreadyApplied(
        f"this request was carried out already ({effect}), but its answer was lost; it is "
        "not carried out again",
        hint="see `playbook history MODEL` and `playbook runs`; send a new Idempotency-Key "
             "only for a new request")


def refuse_nul(request: Request) -> None:
    """A NUL character in the path or the query is the caller's error (PostgreSQL text cannot
    hold one; SQLite would store it): 422 naming the parameter."""
    given = [*request.path_params.items(), *request.query_params.multi_items()]
    for name, value in given:
        if "\x00" in str(value) or "\x00" in name:
            raise InvalidInput(name.replace("\x00", "\\x00"),
                               "contains a NUL character (\\x00)", hint="remove it")


def parse_json(request: Request) -> None:
    """Parse a JSON body once, here, so that nesting too deep for the parser is a 422 rather
    than a crash; FastAPI then reads Starlette's cached value."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json" or not request._body:
        return
    try:
        request._json = json.loads(request._body)
    except RecursionError as exc:
        raise InvalidInput("body", "is nested too deeply",
                           hint="send a flat JSON object as the route's schema shows") from exc
    except ValueError:
        return  # FastAPI answers malformed JSON with the position of the fault


def wants_token(dependant: Dependant) -> bool:
    """Whether a route (or any of its dependencies) asks for the bearer token."""
    return isinstance(dependant.call, SecurityBase) or any(
        wants_token(d) for d in dependant.dependencies)


class Idempotency:
    """Replays the answer to a POST whose Idempotency-Key this token already used."""

    def __init__(self, api: ApiContext) -> None:
        self.api = api
        self._claims = itertools.count()

    def _claim(self, scope: str, key: str,
               fingerprint: str) -> tuple[StoredResponse | None, datetime]:
        now = self.api.app.ctx.clock.now()
        with self.api.uow() as u:
            if next(self._claims) % PURGE_EVERY == 0:
                u.idempotency.purge(now - timedelta(seconds=self.api.settings.idempotency_ttl_s))
            stored = u.idempotency.claim(scope, key, fingerprint, now)
            stale = now - timedelta(seconds=self.api.settings.idempotency_stale_s)
            if stored is not None and stored.status is None and stored.created_at < stale \
                    and stored.fingerprint == fingerprint \
                    and u.idempotency.take_over(scope, key, stored.created_at, now):
                stored = None
            u.commit()
        return stored, now

    def _renew(self, scope: str, key: str, seen: datetime) -> datetime | None:
        """Keep the claim ours while its request runs (None: it was taken over)."""
        now = self.api.app.ctx.clock.now()
        with self.api.uow() as u:
            held = u.idempotency.take_over(scope, key, seen, now)
            u.commit()
        return now if held else None

    async def _heartbeat(self, scope: str, key: str, seen: datetime) -> None:
        every = self.api.settings.idempotency_stale_s / 3
        current: datetime | None = seen
        while current is not None:
            await asyncio.sleep(every)  # a period, not a wait for something to happen
            try:
                current = await run_in_threadpool(self._renew, scope, key, current)
            except StorageError:
                continue  # the database is away for a moment: try again next beat

    def _finish(self, scope: str, key: str, response: Response) -> Response:
        """Store the answer for replays. A failure (5xx) after the request's change had
        committed is no failure: the answer says what was applied, and so will a retry."""
        with self.api.uow() as u:
            if response.status_code >= 500:
                stored = u.idempotency.get(scope, key)
                if stored is not None and stored.effect is not None:
                    response = render(applied(stored.effect))
                else:  # nothing committed: let a retry run it again
                    u.idempotency.release(scope, key)
                    u.commit()
                    return response
            body = bytes(getattr(response, "body", b"")).decode()
            u.idempotency.complete(scope, key, response.status_code, body)
            u.commit()
        return response

    async def run(self, request: Request, key: str,
                  call: Callable[[], Awaitable[Response]]) -> Response:
        if not 1 <= len(key) <= 200:
            raise InvalidInput("Idempotency-Key", "must be 1 to 200 characters")
        principal = live(await self.api.principal(request.headers.get("authorization")),
                         self.api.app.ctx.clock.now())
        request.scope["playbook.principal"] = principal
        body = await request.body()
        fingerprint = hashlib.sha256(
            f"{request.method} {request.url.path}?{request.url.query}\n".encode() + body
        ).hexdigest()
        stored, claimed_at = await run_in_threadpool(self._claim, principal.token_id, key,
                                                     fingerprint)
        if stored is not None:
            return self._replay(stored, fingerprint)
        marked = REQUEST_KEY.set((principal.token_id, key))  # its first change is remembered
        beat = asyncio.create_task(self._heartbeat(principal.token_id, key, claimed_at))
        try:
            response = await call()
        except Exception as exc:
            response = render(exc)
        finally:
            beat.cancel()
            REQUEST_KEY.reset(marked)
        try:
            return await run_in_threadpool(self._finish, principal.token_id, key, response)
        except StorageError:
            return response  # the database is away: the claim stays, a retry learns more

    def _replay(self, stored: StoredResponse, fingerprint: str) -> Response:
        if stored.fingerprint != fingerprint:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was used for a different request",
                hint="use a new key for every distinct request; reuse it only to retry")
        if stored.status is None and stored.effect is not None:
            raise applied(stored.effect)
        if stored.status is None:
            busy = IdempotencyInProgress(
                "a request with this Idempotency-Key is still running",
                hint="retry in a moment to get its answer")
            busy.retry_after_s = max(1, round(self.api.settings.idempotency_stale_s / 3))
            raise busy
        return Response(stored.body, status_code=stored.status, media_type="application/json",
                        headers={"Idempotent-Replayed": "true"})


def route_class(api: ApiContext) -> type[APIRoute]:
    """An APIRoute bound to this API's settings, metrics and idempotency store."""
    idempotency = Idempotency(api)

    class PlaybookRoute(APIRoute):
        def get_route_handler(self) -> Handler:
            original = super().get_route_handler()
            template = self.path
            moves_tags = not template.endswith("/attributions")  # serving posts those often
            # /v1/alerts may come signed instead of with a token: no token to keep a key under
            # (an alert's fingerprint makes a retry harmless anyway).
            signable = template.endswith("/alerts")
            # A route that wants a token checks it before its body is read or parsed: a caller
            # without one learns nothing about the body's shape, and costs no parsing.
            needs_token = wants_token(self.dependant)

            async def handler(request: Request) -> Response:
                started = time.perf_counter()
                rid = request_id(request.headers.get("x-request-id"))
                REQUEST_ID.set(rid)  # this request's task: its logs and play runs carry it
                try:
                    if needs_token:
                        principal = live(
                            await api.principal(request.headers.get("authorization")),
                            api.app.ctx.clock.now())  # 401 as the route would answer
                        request.scope["playbook.principal"] = principal
                    refuse_nul(request)
                    if request.method in WITH_BODY:
                        await read_body(request, api.settings.max_body_bytes)
                        parse_json(request)
                    key = request.headers.get("idempotency-key")
                    signed_only = signable and "authorization" not in request.headers
                    if key is not None and request.method == "POST" and not signed_only:
                        response = await idempotency.run(request, key,
                                                         lambda: original(request))
                    else:
                        response = await original(request)
                except Exception as exc:
                    response = render(exc)
                if moves_tags and request.method != "GET":
                    api.answers.clear()  # a tag may have moved (even if the play failed later)
                api.metrics.observe_request(request.method, template, response.status_code,
                                            time.perf_counter() - started)
                response.headers["X-Request-ID"] = rid
                return response

            return handler

    return PlaybookRoute

