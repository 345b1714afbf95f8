"""Route streams: serving code holds one long GET and hears of every move of its model's
route as a server-sent event, the way feature-flag SDKs stream flag changes.

`GET /v1/models/{model}/route/stream` answers `text/event-stream`: first the route as it is
(event `route`, its `id` the same ETag `/route` answers), then the route again each time it
changes, and a comment line every `stream_keepalive_s` so proxies keep the connection open.

One hub per server process watches for changes for every stream: a move made through this
process wakes it at once (the app's events-written signal); one made by another replica, the
CLI or Slack is seen by a cheap watermark read every `stream_poll_s` (PLAYBOOK_STREAM_POLL_S),
only while someone is listening. A slow client never holds the hub up: each stream keeps only
the newest route it has not sent yet.

A stream never ends by itself, and a server stopping waits for its requests to end: so on
SIGTERM (or SIGINT) the hub ends every stream first, and the process stops at once instead of
holding a rolling deploy for its whole grace period. Clients reconnect, to another replica.
The hub chains itself in front of the handler the server installed (uvicorn, its --workers
processes, gunicorn's worker), at start-up, in the main thread only.
"""

# No `from __future__ import annotations`: FastAPI reads the dependencies in the route
# signatures at runtime, and they close over `api`, which string annotations cannot see.

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from core import queries
from core.errors import StorageError

from .access import Principal
from .context import ApiContext
from .tags import route_answer

log = logging.getLogger("playbook.api")
Answer = tuple[str, bytes]
DRAIN = ("", b"")  # put in a stream's queue: the server is stopping, end the stream


def frame(answer: Answer) -> bytes:
    etag, body = answer
    return b"event: route\nid: " + etag.encode() + b"\ndata: " + body + b"\n\n"


class RouteHub:
    def __init__(self, api: ApiContext) -> None:
        self._api = api
        self._subscribers: dict[str, set[asyncio.Queue[Answer]]] = {}
        self._sent: dict[str, str] = {}
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self.draining = False

    async def watch_signals(self) -> None:
        """At start-up: end every stream when the server is told to stop."""
        if threading.current_thread() is not threading.main_thread():
            return  # a server in a thread (tests, the sandbox) is stopped by its owner
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous = signal.getsignal(sig)
            if not callable(previous):
                continue  # no server handler to chain to: leave the default alone

            def stopping(signum: int, frame: object, previous: object = previous) -> None:
                loop.call_soon_threadsafe(self.drain)
                previous(signum, frame)  # type: ignore[operator]

            signal.signal(sig, stopping)

    def drain(self) -> None:
        """End every open stream (each sends what it has, then finishes)."""
        self.draining = True
        for listeners in self._subscribers.values():
            for queue in list(listeners):
                _newest(queue, DRAIN)

    def subscribe(self, model: str) -> asyncio.Queue[Answer]:
        if self._task is None:  # the first stream starts the watch, on the serving loop
            loop = asyncio.get_running_loop()
            wake = self._wake = asyncio.Event()

            def nudge() -> None:  # called from whichever thread committed the events
                loop.call_soon_threadsafe(wake.set)

            self._api.app.events_written.connect(nudge)
            self._task = loop.create_task(self._watch())
        queue: asyncio.Queue[Answer] = asyncio.Queue(maxsize=1)
        self._subscribers.setdefault(model, set()).add(queue)
        return queue

    def unsubscribe(self, model: str, queue: asyncio.Queue[Answer]) -> None:
        listeners = self._subscribers.get(model, set())
        listeners.discard(queue)
        if not listeners:
            self._subscribers.pop(model, None)
            self._sent.pop(model, None)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _watch(self) -> None:
        assert self._wake is not None
        ctx = self._api.app.ctx
        mark: str | None = None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._api.settings.stream_poll_s)
            self._wake.clear()
            if not self._subscribers:
                continue
            try:
                now = await run_in_threadpool(queries.route_watermark, ctx)
                if now == mark:
                    continue
                for model in list(self._subscribers):
                    answer = await run_in_threadpool(route_answer, ctx, model)
                    if self._sent.get(model) != answer[0]:
                        self._sent[model] = answer[0]
                        for queue in list(self._subscribers.get(model, ())):
                            _newest(queue, answer)
                mark = now
            except StorageError as exc:  # the database away: streams stay open, try again
                log.warning("route streams cannot read the registry: %s", exc)
            except Exception:
                log.exception("route streams: reading a route failed")


def _newest(queue: asyncio.Queue[Answer], answer: Answer) -> None:
    with contextlib.suppress(asyncio.QueueEmpty):
        if queue.get_nowait() is DRAIN:  # a route not sent yet is replaced by the newer one,
            answer = DRAIN  # but nothing replaces the end of the stream
    queue.put_nowait(answer)


def router(api: ApiContext) -> APIRouter:
    r = api.router("tags")
    ctx = api.app.ctx
    hub = RouteHub(api)
    r.on_startup.append(hub.watch_signals)
    r.on_shutdown.append(hub.stop)

    @r.get("/models/{model}/route/stream", response_class=StreamingResponse,
           responses={200: {"content": {"text/event-stream": {}},
                            "description": "event `route`: the route's JSON, as /route "
                                           "answers it; `id`: its ETag"}})
    async def route_stream(model: str,
                           _: Annotated[Principal, Depends(api.require("resolve"))]
                           ) -> StreamingResponse:
        """The route now, then again at each change, as server-sent events."""
        ctx.config.model(model)  # an undeclared model: 404 before any stream opens
        queue = hub.subscribe(model)  # before reading: no move can fall in between
        if hub.draining:  # opened as the server stops: the route, then the end
            _newest(queue, DRAIN)
        try:
            first = await run_in_threadpool(route_answer, ctx, model)
        except BaseException:
            hub.unsubscribe(model, queue)
            raise

        async def events() -> AsyncIterator[bytes]:
            last = first[0]
            try:
                yield frame(first)
                while True:
                    try:
                        answer = await asyncio.wait_for(queue.get(),
                                                        api.settings.stream_keepalive_s)
                    except TimeoutError:
                        yield b": keepalive\n\n"
                        continue
                    if answer is DRAIN:
                        return  # the server is stopping: the client reconnects elsewhere
                    if answer[0] != last:
                        last = answer[0]
                        yield frame(answer)
            finally:
                hub.unsubscribe(model, queue)

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache",
                                          "X-Accel-Buffering": "no"})

    return r
