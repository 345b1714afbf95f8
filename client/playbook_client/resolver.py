"""`Resolver`: what a model's tags point at, kept in memory and kept current.

Reads (`route`, `version()`) never touch the network. A background thread holds a stream of
the route's changes (`GET /v1/models/{model}/route/stream`, server-sent events) and, when
streaming is not possible, polls `/route` with If-None-Match. When Playbook cannot be reached
the last known route stays in force (fail static), `stale` says so and one warning is logged
per outage. With `cache_file` the route survives a restart: a process started during an
outage still knows production.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from playbook_client._http import client

log = logging.getLogger("playbook_client")
FIRST_RETRY_S = 0.5
MAX_RETRY_S = 30.0


@dataclass(frozen=True)
class Pointed:
    """One tag's version: its full id, short form, the tag's revision, its components."""

    version: str
    short: str
    revision: int
    components: dict[str, Any] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, data: dict[str, Any] | None) -> Pointed | None:
        if not data:
            return None
        return cls(version=data["version"], short=data.get("short", ""),
                   revision=int(data.get("revision", 0)),
                   components=dict(data.get("components") or {}),
                   scores=dict(data.get("scores") or {}))


@dataclass(frozen=True)
class Route:
    """Production, the canary and its share of traffic, as Playbook last said."""

    model: str
    production: Pointed | None
    canary: Pointed | None
    canary_fraction: float | None
    etag: str

    @classmethod
    def of(cls, data: dict[str, Any], etag: str) -> Route:
        return cls(model=data["model"], production=Pointed.of(data.get("production")),
                   canary=Pointed.of(data.get("canary")),
                   canary_fraction=data.get("canary_fraction"), etag=etag)

    def to_json(self) -> dict[str, Any]:
        def pointed(p: Pointed | None) -> dict[str, Any] | None:
            return None if p is None else {"version": p.version, "short": p.short,
                                           "revision": p.revision, "components": p.components,
                                           "scores": p.scores}

        return {"model": self.model, "production": pointed(self.production),
                "canary": pointed(self.canary), "canary_fraction": self.canary_fraction}

    def version_for(self, key: str | None = None) -> str | None:
        """The version that should answer the request `key`: the canary for its share of
        keys (the same key always lands on the same side), else production."""
        if key is not None and self.canary is not None and self.canary_fraction:
            digest = hashlib.sha256(f"{self.model}:{key}".encode()).digest()
            if int.from_bytes(digest[:8], "big") / 2**64 < self.canary_fraction:
                return self.canary.version
        return self.production.version if self.production else None


class Resolver:
    def __init__(self, server: str, token: str, model: str, *,
                 on_change: Callable[[Route], None] | None = None,
                 cache_file: str | os.PathLike[str] | None = None, stream: bool = True,
                 poll_s: float = 5.0, timeout_s: float = 10.0, start: bool = True,
                 max_retry_s: float = MAX_RETRY_S, report_switches: bool = True) -> None:
        if max_retry_s < FIRST_RETRY_S:
            raise ValueError(f"max_retry_s must be at least {FIRST_RETRY_S} s")
        self.model = model
        self._max_retry_s = max_retry_s
        self._on_change = on_change
        self._cache = Path(cache_file) if cache_file else None
        self._streaming = stream
        self._report = report_switches
        self._poll_s = poll_s
        self._http = client(server, token, timeout_s)
        self._path = f"/v1/models/{quote(model, safe='')}/route"
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._route: Route | None = None
        self.stale = True  # until Playbook has answered this process
        self.updates = 0
        self.errors = 0
        self._warned = False
        self._warm_start()
        self._thread = threading.Thread(target=self._run, name=f"playbook-resolver-{model}",
                                        daemon=True)
        if start:
            self._thread.start()

    # -- reads: memory only ------------------------------------------------------------

    @property
    def route(self) -> Route | None:
        return self._route

    def version(self, key: str | None = None) -> str | None:
        """The version for request `key` (None: nothing known yet, not even from the cache)."""
        route = self._route
        return route.version_for(key) if route is not None else None

    def wait_ready(self, timeout_s: float) -> bool:
        """Wait until a route is known (from Playbook or the cache file); True if it is."""
        return self._ready.wait(timeout_s)

    def stats(self) -> dict[str, Any]:
        route = self._route
        return {"model": self.model, "stale": self.stale, "updates": self.updates,
                "errors": self.errors, "etag": route.etag if route else None}

    def close(self) -> None:
        self._stop.set()
        self._http.close()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def __enter__(self) -> Resolver:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- the background thread ---------------------------------------------------------

    def _run(self) -> None:
        delay = FIRST_RETRY_S
        while not self._stop.is_set():
            try:
                if self._streaming:
                    self._stream()  # returns when the stream ends
                else:
                    self._poll()
                delay = FIRST_RETRY_S
                wait = self._poll_s if not self._streaming else 0.0
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                if self._stop.is_set():
                    return
                self._failed(exc)
                wait, delay = delay, min(delay * 2, self._max_retry_s)
            if self._stop.wait(wait):
                return

    def _stream(self) -> None:
        headers = {"Accept": "text/event-stream"}
        timeout = httpx.Timeout(10.0, read=45.0)  # the server says something every 15 s
        with self._http.stream("GET", self._path + "/stream", headers=headers,
                               timeout=timeout) as answer:
            if answer.status_code == 404 and "json" in answer.headers.get("content-type", ""):
                answer.read()
                if answer.json().get("error", {}).get("message", "").startswith("no route"):
                    log.info("Playbook at %s streams no routes; polling instead",
                             self._http.base_url)
                    self._streaming = False
                    return
            answer.raise_for_status()
            event: dict[str, str] = {}
            for line in answer.iter_lines():
                if self._stop.is_set():
                    return
                if line.startswith(":"):
                    self._contact()
                elif line:
                    key, _, value = line.partition(":")
                    event[key] = value.removeprefix(" ")
                elif event.get("event") == "route" and "data" in event:
                    self._apply(Route.of(json.loads(event["data"]), event.get("id", "")))
                    event = {}
                else:
                    event = {}

    def _poll(self) -> None:
        route = self._route
        headers = {"If-None-Match": route.etag} if route and route.etag else {}
        answer = self._http.get(self._path, headers=headers)
        if answer.status_code == 304:
            self._contact()
            return
        answer.raise_for_status()
        self._apply(Route.of(answer.json(), answer.headers.get("etag", "")))

    def _contact(self) -> None:
        if self.stale and self._route is not None:
            if self._warned:
                log.warning("Playbook answers again; following %s's route", self.model)
            self._warned = False
        self.stale = self._route is None

    def _failed(self, exc: Exception) -> None:
        self.errors += 1
        self.stale = True
        if not self._warned:
            self._warned = True
            known = self._route.etag if self._route else "nothing"
            log.warning("Playbook is unreachable (%s); keeping %s's last known route (%s) "
                        "and trying again", exc, self.model, known)

    def _apply(self, route: Route) -> None:
        with self._lock:
            before = self._route
            changed = before is None or route.etag != before.etag \
                or route.to_json() != before.to_json()
            self._route = route
        self._contact()
        self._ready.set()
        if not changed:
            return
        self.updates += 1
        self._save(route)
        if self._on_change is not None:
            try:
                self._on_change(route)
            except Exception:
                log.exception("on_change raised; the new route is in force all the same")
        now_serving = route.production.version if route.production else None
        if self._report and before is not None and now_serving is not None \
                and (before.production is None or before.production.version != now_serving):
            self._switched(now_serving)  # after on_change: this process serves it now

    def _switched(self, version: str) -> None:
        """Tell Playbook this process serves `version` now: a rollback's incident records
        when serving switched. Best effort: a failure only logs (an older Playbook has no
        such route: then it is not asked again)."""
        try:
            answer = self._http.post(self._path.removesuffix("/route") + "/serving",
                                     json={"version": version})
            if answer.status_code == 404 and "json" in answer.headers.get("content-type", "") \
                    and "no route" in answer.text:
                self._report = False
            elif answer.status_code >= 400:
                log.info("Playbook did not take the switch report (%s): %s",
                         answer.status_code, answer.text[:200])
        except httpx.HTTPError as exc:
            log.info("could not report the switch to %s: %s", version[:12], exc)

    # -- the cache file ----------------------------------------------------------------

    def _warm_start(self) -> None:
        if self._cache is None or not self._cache.exists():
            return
        try:
            saved = json.loads(self._cache.read_text(encoding="utf-8"))
            if saved.get("route", {}).get("model") != self.model:
                return
            self._route = Route.of(saved["route"], saved.get("etag", ""))
            self._ready.set()
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring the route cache %s: %s", self._cache, exc)

    def _save(self, route: Route) -> None:
        if self._cache is None:
            return
        try:
            self._cache.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self._cache.parent, prefix=".route-")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump({"etag": route.etag, "route": route.to_json(),
                           "saved_at": time.time()}, out)
            os.replace(tmp, self._cache)
        except OSError as exc:
            log.warning("cannot write the route cache %s: %s", self._cache, exc)
