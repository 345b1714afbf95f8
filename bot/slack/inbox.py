"""Acknowledged means durable: every Slack request is recorded in the database (the inbox)
before Bolt acknowledges it, held under a lease while its work runs, and marked handled only
when that work is done (its listener and the background work it handed on).

A replica that dies leaves its requests unhandled; once their lease runs out, any replica
takes them over, whether Slack retries the request or not (a resumer re-dispatches what it
finds). Resuming is safe: the first change a request commits is written with its inbox entry
in the same transaction (`core.effects`), so a request whose change already happened is not
run again; its requester is told what was done instead.
"""

from __future__ import annotations

import contextvars
import json
import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
from slack_bolt import App, BoltResponse
from slack_bolt.request import BoltRequest

from core.effects import REQUEST_ID, REQUEST_KEY, SLACK
from core.ports import Clock, Received, UnitOfWorkFactory

log = logging.getLogger("playbook.slack")
DELIVERY: contextvars.ContextVar[str | None] = contextvars.ContextVar("slack_delivery",
                                                                      default=None)


def delivery_key(body: dict[str, Any]) -> tuple[str, str] | None:
    """(key, kind) naming this delivery, or None for requests that carry no id."""
    if body.get("type") == "event_callback" and body.get("event_id"):
        return f"event:{body['event_id']}", "event"
    trigger = body.get("trigger_id")
    if not trigger:
        return None
    if body.get("command"):
        return f"command:{trigger}", "command"
    return f"{body.get('type', 'interaction')}:{trigger}", "action"


class Inbox:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, owner: str,
                 lease: timedelta) -> None:
        self._uow = uow
        self._clock = clock
        self.owner = owner
        self.lease = lease
        self._lock = threading.Lock()
        self._tasks: dict[str, int] = {}  # in flight here: key -> tasks still running
        self._dispatching: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the record ------------------------------------------------------------------------

    def receive(self, key: str, kind: str, body: dict[str, Any]) -> Received:
        now = self._clock.now()
        with self._uow() as uow:
            got = uow.chat.receive(key, kind, json.dumps(body), self.owner, now,
                                   now + self.lease)
            uow.commit()
        return got

    def _handled(self, key: str) -> None:
        try:
            with self._uow() as uow:
                if not uow.chat.handled(key, self.owner, self._clock.now()):
                    log.warning("Slack request %s was taken over by another replica while "
                                "it ran here (its work ran past the lease)", key)
                uow.commit()
        except Exception:  # the lease runs out and another replica sees it: it is not lost
            log.exception("could not mark Slack request %s handled", key)

    # -- what runs for a request -----------------------------------------------------------

    def begin(self, key: str) -> None:
        with self._lock:
            self._dispatching.add(key)
            self._tasks.setdefault(key, 0)

    def dispatched(self, key: str) -> None:
        """Bolt is done with the request (acked); its work may still run."""
        with self._lock:
            self._dispatching.discard(key)
            done = self._tasks.get(key) == 0
            if done:
                del self._tasks[key]
        if done:
            self._handled(key)

    def task_started(self, key: str) -> None:
        with self._lock:
            self._tasks[key] = self._tasks.get(key, 0) + 1

    def task_done(self, key: str) -> None:
        with self._lock:
            self._tasks[key] -= 1
            done = self._tasks[key] == 0 and key not in self._dispatching
            if done:
                del self._tasks[key]
        if done:
            self._handled(key)

    def in_flight(self) -> list[str]:
        with self._lock:
            return list(self._tasks)

    # -- the middleware --------------------------------------------------------------------

    def middleware(self, body: dict[str, Any], request: BoltRequest,
                   next: Callable[[], BoltResponse]) -> BoltResponse | None:
        found = delivery_key(body)
        if found is None:
            return next()
        key, kind = found
        got = self.receive(key, kind, body)
        if got.state in ("handled", "in_flight"):
            retry = request.headers.get("x-slack-retry-num", ["-"])[0]
            log.info("dropped a repeated Slack delivery %s (%s; retry %s)", key, got.state,
                     retry)
            return BoltResponse(status=200, body="")
        if got.state == "taken_over" and got.effect is not None:
            self._tell_done(key, body, got.effect)
            return BoltResponse(status=200, body="")
        if got.state == "taken_over":
            log.warning("Slack request %s: its replica stopped before it was handled; "
                        "handling it here", key)
        # Bolt runs the listener after the middleware chain, in this same context (see
        # dispatch): what the listener submits carries the request along, and `dispatch`
        # says when Bolt is done with it.
        self.begin(key)
        DELIVERY.set(key)
        REQUEST_KEY.set((SLACK, key))
        REQUEST_ID.set(key)
        return next()

    def dispatch(self, run: Callable[[], BoltResponse]) -> BoltResponse:
        """Run one Bolt dispatch in a context of its own; once Bolt is done with it (acked),
        the request is handled as soon as the work it handed on has run."""

        def within() -> BoltResponse:
            DELIVERY.set(None)
            REQUEST_KEY.set(None)
            REQUEST_ID.set(None)
            try:
                return run()
            finally:
                key = DELIVERY.get()
                if key is not None:
                    self.dispatched(key)

        return contextvars.copy_context().run(within)

    def _tell_done(self, key: str, body: dict[str, Any], effect: str) -> None:
        """A taken-over request whose change had committed: say so, never run it again."""
        url = body.get("response_url") or next(
            (r.get("response_url") for r in body.get("response_urls") or []), None)
        said = (f"Your {body.get('command') or 'request'} was carried out before the "
                f"server handling it stopped: {effect}. It is not run again.")
        if url:
            try:
                httpx.post(url, json={"response_type": "ephemeral", "text": said},
                           timeout=10).raise_for_status()
            except httpx.HTTPError:
                log.exception("could not tell the requester of %s", key)
        log.warning("Slack request %s: %s", key, said)
        self.begin(key)
        self.dispatched(key)

    # -- leases and resuming ---------------------------------------------------------------

    def start(self, bolt: App, every_s: float | None = None) -> None:
        period = every_s if every_s is not None else self.lease.total_seconds() / 3
        self._thread = threading.Thread(target=self._loop, args=(bolt, period),
                                        name="slack-inbox", daemon=True)
        self._thread.start()

    def _loop(self, bolt: App, period: float) -> None:
        while not self._stop.wait(period):
            try:
                self.renew()
                self.resume(bolt)
            except Exception:  # the database may be away for a moment
                log.exception("slack inbox: a pass failed")

    def renew(self) -> None:
        keys = self.in_flight()
        if keys:
            with self._uow() as uow:
                uow.chat.renew(keys, self.owner, self._clock.now() + self.lease)
                uow.commit()

    def resume(self, bolt: App) -> int:
        """Re-dispatch requests whose replica stopped before handling them."""
        with self._uow(read_only=True) as uow:
            waiting = uow.chat.unhandled(self._clock.now())
        for key, payload in waiting:
            # Socket-mode requests carry no HTTP signature: this one was verified when it
            # first arrived, and comes from our own database.
            bolt.dispatch(BoltRequest(body=json.loads(payload), mode="socket_mode"))
            log.info("resumed Slack request %s", key)
        return len(waiting)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)


def with_delivery(fn: Callable[[], Any], inbox: Inbox | None) -> Callable[[], Any]:
    """`fn` to run in another thread as part of the current request: the request's context
    goes with it, and the request is handled only once it has run."""
    key = DELIVERY.get()
    context = contextvars.copy_context()
    if inbox is None or key is None:
        return lambda: context.run(fn)
    inbox.task_started(key)

    def run() -> Any:
        try:
            return context.run(fn)
        finally:
            inbox.task_done(key)

    return run
