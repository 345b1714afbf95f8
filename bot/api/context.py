"""What every route of the API shares, built once per App by `build_router`."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from bot.bootstrap import App
from bot.settings import Environment, environment
from core.ports import UnitOfWorkFactory

from .access import Principal, TokenCache, bearer, check, hash_token
from .metrics import Metrics
from .schemas import ErrorOut

MiB = 1024 * 1024
log = logging.getLogger("playbook.api")
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": why} for status, why in (
        (401, "no token, or an unknown or revoked one"),
        (403, "the token lacks the scope, or the play refused who is asking"),
        (404, "the model is not declared, or the thing asked for does not exist"),
        (409, "refused by a rule, ambiguous, or changed meanwhile"),
        (413, "the body is over the limit"),
        (422, "a field is missing or malformed; `error.field` names it"),
        (503, "the database is unreachable"),
    )}
# Documents the bearer scheme in /docs; the check itself is ours, to answer 401 in our format.
BEARER = HTTPBearer(auto_error=False, description="a token from `playbook token create`")


class AnswerCache:
    """Serialized answers of the resolution routes, each for `ttl` seconds.

    The serving hot path then costs no database read (on SQLite every read would queue
    behind attribution writes for the database lock). A tag moved through this process
    clears it at once; one moved by another replica, the CLI or Slack reaches this one within
    `ttl` (1 s by default), well inside the few seconds serving polls at anyway.
    """

    def __init__(self, ttl: float, ticks: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._ticks = ticks
        self._lock = threading.Lock()
        self._answers: dict[tuple[str, ...], tuple[float, str, bytes]] = {}
        self.generation = 0  # bumped by clear(): an answer read before it is not kept

    def get(self, key: tuple[str, ...]) -> tuple[str, bytes] | None:
        with self._lock:
            hit = self._answers.get(key)
        if hit is None or hit[0] < self._ticks():
            return None
        return hit[1], hit[2]

    def put(self, key: tuple[str, ...], etag: str, body: bytes, generation: int) -> None:
        """Keep an answer read at `generation`, unless something moved since."""
        if self.ttl <= 0:
            return
        with self._lock:
            if generation != self.generation:
                return
            if len(self._answers) > 10_000:
                self._answers.clear()
            self._answers[key] = (self._ticks() + self.ttl, etag, body)

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            self._answers.clear()


@dataclass(frozen=True)
class ApiSettings:
    max_body_bytes: int = 10 * MiB
    token_cache_s: float = 5.0  # a revoked token still works for at most this long
    resolve_cache_s: float = 1.0  # a tag moved elsewhere reaches this server within this
    idempotency_ttl_s: float = 24 * 3600.0  # how long a key's answer is replayed
    # An unfinished claim not renewed for this long is taken over: the server holding it
    # renews it every third of this while its request runs, so only a dead one lets it lapse.
    idempotency_stale_s: float = 30.0
    ticks: Callable[[], float] = time.monotonic  # what the caches measure their lifetimes by
    # Route streams: how often the server looks for a move made by another process (a move
    # through this one is streamed at once), and how often an idle stream says it is alive.
    stream_poll_s: float = 0.5
    stream_keepalive_s: float = 15.0
    alerts_hmac_secret: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Environment | Mapping[str, str]) -> ApiSettings:
        e = env if isinstance(env, Environment) else environment(env)
        return cls(max_body_bytes=e.api_max_body_bytes, token_cache_s=e.api_token_cache_s,
                   resolve_cache_s=e.api_resolve_cache_s, stream_poll_s=e.stream_poll_s,
                   alerts_hmac_secret=e.alerts_hmac_secret)


@dataclass
class ApiContext:
    app: App
    settings: ApiSettings
    uow: UnitOfWorkFactory  # the play engine's: one unit of work, one session factory
    tokens: TokenCache
    answers: AnswerCache
    metrics: Metrics = field(default_factory=Metrics)
    route_class: type[APIRoute] = APIRoute  # replaced by routing.route_class(api)

    @classmethod
    def build(cls, app: App, settings: ApiSettings) -> ApiContext:
        uow = app.ctx.uow
        return cls(app=app, settings=settings, uow=uow,
                   tokens=TokenCache(uow, settings.token_cache_s, settings.ticks,
                                     app.ctx.clock.now),
                   answers=AnswerCache(settings.resolve_cache_s, settings.ticks))

    async def principal(self, authorization: str | None) -> Principal | None:
        token_hash = hash_token(bearer(authorization))
        hit, principal = self.tokens.cached(token_hash)
        if not hit:
            principal = await run_in_threadpool(self.tokens.load, token_hash)
        return principal

    def router(self, area: str, prefix: str = "/v1") -> APIRouter:
        """A router of one area; routes carry their full path, so metrics label them so."""
        return APIRouter(prefix=prefix, route_class=self.route_class, tags=[area],
                         responses=ERRORS if prefix else None)

    def require(self, *scopes: str) -> Callable[..., Awaitable[Principal]]:
        """A dependency: the caller's principal, if its token is live, has one of `scopes`
        and covers the model the path names. Routes whose model is known only later (an
        approval, an audit, a batch of attributions) call `principal.cover` themselves."""

        async def dependency(
                request: Request,
                _: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]) -> Principal:
            now = self.app.ctx.clock.now()
            model = request.path_params.get("model") or request.query_params.get("model")
            cached = request.scope.get("playbook.principal")
            if isinstance(cached, Principal):  # already checked for the idempotency key
                return check(cached, scopes, now, model)
            principal = await self.principal(request.headers.get("authorization"))
            return check(principal, scopes, now, model)

        return dependency
