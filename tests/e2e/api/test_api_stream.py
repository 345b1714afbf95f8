"""Route streams as serving code holds them: one long GET of server-sent events that brings
the route now, then every move, whether made through this server or by another process."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_harness import Api, error, serve

from bot.cli.main import main


@pytest.fixture
def api(tmp_path: Path, engine_url: str) -> Iterator[Api]:
    served = serve(tmp_path, engine_url, stream_poll_s=0.05, stream_keepalive_s=0.2)
    try:
        yield served
    finally:
        served.close()


class Stream:
    """Reads `event: route` frames off one open stream, in a thread."""

    def __init__(self, api: Api, model: str = "chat") -> None:
        self.routes: list[dict[str, Any]] = []
        self.ids: list[str] = []
        self.keepalives = 0
        self.status = 0
        self._changed = threading.Condition()
        self._client = httpx.Client(base_url=api.url, timeout=httpx.Timeout(30, read=60),
                                    headers={"Authorization": f"Bearer {api.tokens['serving']}"})
        self._thread = threading.Thread(target=self._read, args=(model,), daemon=True)
        self._thread.start()

    def _read(self, model: str) -> None:
        with contextlib.suppress(httpx.HTTPError):  # close() cut the stream
            self._frames(model)

    def _frames(self, model: str) -> None:
        with self._client.stream("GET", f"/v1/models/{model}/route/stream") as answer:
            self.status = answer.status_code
            self.media = answer.headers.get("content-type", "")
            event: dict[str, str] = {}
            for line in answer.iter_lines():
                if line.startswith(":"):
                    with self._changed:
                        self.keepalives += 1
                        self._changed.notify_all()
                elif line:
                    key, _, value = line.partition(": ")
                    event[key] = value
                elif event:
                    with self._changed:
                        self.ids.append(event["id"])
                        self.routes.append(json.loads(event["data"]))
                        self._changed.notify_all()
                    event = {}

    def wait(self, what: str, done: Any) -> Any:
        with self._changed:
            assert self._changed.wait_for(done, timeout=60), f"waited in vain for {what}"
            return done()

    def close(self) -> None:
        self._client.close()
        self._thread.join(timeout=60)


def production(route: dict[str, Any]) -> str | None:
    return route["production"]["version"] if route["production"] else None


def test_a_stream_brings_the_route_then_every_move_from_anywhere(
        api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    v1 = api.register("chat", "x" * 40)
    v2 = api.register("chat", "x" * 60, v1["short"])
    api.call("ci").post("/v1/models/chat/promote", json={"version": v1["id"]})
    stream = Stream(api)
    try:
        stream.wait("the route as it is", lambda: len(stream.routes) == 1)
        assert stream.media.startswith("text/event-stream")
        assert production(stream.routes[0]) == v1["id"]
        etag = api.call("serving").get("/v1/models/chat/route").headers["etag"]
        assert stream.ids[0] == etag  # the same ETag /route answers

        api.call("ci").post("/v1/models/chat/promote", json={"version": v2["id"]})
        stream.wait("the move through this server", lambda: len(stream.routes) == 2)
        assert production(stream.routes[1]) == v2["id"]

        settings = api.app.settings  # another process: the CLI on the same database
        assert main(["--config", str(settings.config_path), "--home", str(settings.home),
                     "--database", settings.database_url, "--as", "oncall", "rollback",
                     "chat"]) == 0
        capsys.readouterr()
        stream.wait("the CLI's rollback", lambda: len(stream.routes) == 3)
        assert production(stream.routes[2]) == v1["id"]
        stream.wait("a keepalive while nothing moves", lambda: stream.keepalives >= 1)
        assert len(stream.routes) == 3  # nothing sent twice
    finally:
        stream.close()


def test_a_stream_needs_the_resolve_scope_and_a_declared_model(api: Api) -> None:
    error(api.call("auditor").get("/v1/models/chat/route/stream"), 403, "FORBIDDEN")
    error(api.call().get("/v1/models/chat/route/stream"), 401, "UNAUTHENTICATED")
    error(api.call("serving").get("/v1/models/nope/route/stream"), 404)
