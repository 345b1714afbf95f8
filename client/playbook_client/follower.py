"""`TagFollower`: one tag of one model, polled, for a serving client that follows a tag other
than the route's (production and canary): a rehearsal follower follows `rehearsal`, so a
rollback rehearsal proves that serving follows a moved tag, not only that the database moved.

    follower = TagFollower(server, token, "chat", "rehearsal", on_change=load_version)

It polls `GET /v1/models/{model}/tags/{tag}` with If-None-Match every `poll_s`; `version()`
answers from memory. When the tag moves, it runs `on_change(version)` and then tells Playbook
it serves the new version (`POST /v1/models/{model}/serving` with the tag), which records when
a rehearsal's serving switched. Playbook away: the last known version stays (fail static).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from urllib.parse import quote

import httpx

from playbook_client._http import client

log = logging.getLogger("playbook_client")


class TagFollower:
    def __init__(self, server: str, token: str, model: str, tag: str, *,
                 on_change: Callable[[str], None] | None = None, poll_s: float = 1.0,
                 timeout_s: float = 10.0, start: bool = True) -> None:
        self.model, self.tag = model, tag
        self._http = client(server, token, timeout_s)
        self._model_path = f"/v1/models/{quote(model, safe='')}"
        self._on_change = on_change
        self._poll_s = poll_s
        self._etag = ""
        self._version: str | None = None
        self._revision: int | None = None
        self._stop = threading.Event()
        self._ready = threading.Event()
        self.switches = 0
        self.errors = 0
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"playbook-follower-{model}-{tag}")
        if start:
            self._thread.start()

    def version(self) -> str | None:
        return self._version

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self._ready.wait(timeout)

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=self._poll_s + 5)
        self._http.close()

    def __enter__(self) -> TagFollower:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                self.errors += 1
                log.info("following %s/%s: %s", self.model, self.tag, exc)
            self._stop.wait(self._poll_s)

    def poll(self) -> None:
        headers = {"If-None-Match": self._etag} if self._etag else {}
        answer = self._http.get(f"{self._model_path}/tags/{quote(self.tag, safe='')}",
                                headers=headers)
        if answer.status_code == 304:
            return
        if answer.status_code == 404:  # the tag points nowhere yet: a version later is a move
            self._ready.set()
            return
        answer.raise_for_status()
        self._etag = answer.headers.get("etag", "")
        data = answer.json()
        version, revision = str(data["version"]), int(data.get("revision", 0))
        before, self._version = self._version, version
        moved = revision != self._revision
        self._revision = revision
        first = not self._ready.is_set()  # what it found when it started: not a move
        self._ready.set()
        if first or not moved:
            return
        # The tag moved, even if back to the version it had (a rehearsal moves `rehearsal`
        # to production and back within milliseconds): the switch is reported all the same.
        self.switches += 1
        if self._on_change is not None and before != version:
            try:
                self._on_change(version)
            except Exception:
                log.exception("on_change raised; following %s all the same", version[:12])
        try:
            self._http.post(f"{self._model_path}/serving",
                            json={"version": version, "tag": self.tag})
        except httpx.HTTPError as exc:
            log.info("could not report the switch to %s: %s", version[:12], exc)
