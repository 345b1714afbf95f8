"""The real ASGI app (bot.server.create_asgi) served by uvicorn on a free 127.0.0.1 port, a
registry of the parametrized database kind, and one token per kind of caller."""

from __future__ import annotations

import dataclasses
import socket
import textwrap
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from testkit.clock import TestClock, Ticks
from testkit.ports import bind_free
from testkit.waiting import until

from bot import bootstrap
from bot.api import ApiSettings
from bot.api.access import create_token
from bot.server import create_asgi
from bot.settings import Settings
from core.config import ModelPolicy
from core.domain import Version
from core.engine import new_id
from core.errors import EvaluatorError

CONFIG = textwrap.dedent("""
    [defaults]
    metric = "score"
    min_score = 0.1
    canary = { min_sample = 50 }  # the tests seed 60 records per arm

    [models.chat]
    stakes = "low"
    owner = "ana"
    evaluator = { command = "scored-by-the-test" }
    rehearsal_follower = true  # test_api_rehearsal_follower.py

    [models.risky]
    stakes = "high"
    owner = "ana"
    approvers = ["ben", "cho"]

    [models.broken]
    evaluator = { command = "fails" }
""")
# Callers and their scopes; the name is the actor of the plays each one runs.
CALLERS = {
    "ci": ["register"],
    "serving": ["resolve", "attribute"],
    "auditor": ["audit"],
    "ben": ["register"],
    "root": ["admin"],
}


class PromptLengthEvaluator:
    """The eval suite stand-in: longer prompts score higher; the `broken` model's fails."""

    def __init__(self, policy: ModelPolicy) -> None:
        self.policy = policy

    def evaluate(self, version: Version) -> dict[str, float]:
        if self.policy.name == "broken":
            raise EvaluatorError("the eval service answered 500", hint="try again later")
        return {"score": round(min(1.0, len(version.components.prompt or "") / 100), 4)}

    def describe(self) -> str:
        return "prompt-length"


class Server:
    """uvicorn in a background thread, on a socket bound before it starts."""

    def __init__(self, asgi: FastAPI) -> None:
        self.sock = bind_free()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(asgi, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       daemon=True)

    def start(self) -> Server:
        self.thread.start()
        until(lambda: self.server.started or not self.thread.is_alive(), "uvicorn to start")
        if not self.server.started:
            raise RuntimeError("uvicorn stopped before it started")
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


@dataclass
class Api:
    """One served registry: `call(name)` is an httpx client holding that caller's token."""

    app: bootstrap.App
    server: Server
    clock: TestClock
    ticks: Ticks  # what the token and answer caches measure their lifetimes by
    tokens: dict[str, str]
    root: Path
    clients: dict[str, httpx.Client] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.server.url

    def call(self, name: str | None = None) -> httpx.Client:
        """A client of caller `name` (None: no Authorization header at all)."""
        key = name or ""
        if key not in self.clients:
            headers = {"Authorization": f"Bearer {self.tokens[name]}"} if name else {}
            self.clients[key] = httpx.Client(base_url=self.url, headers=headers, timeout=30)
        return self.clients[key]

    def register(self, model: str, prompt: str, parent: str | None = None,
                 **extra: Any) -> dict[str, Any]:
        body = {"components": {"prompt": prompt}, "owner": "ana", "reason": f"try {prompt[:8]}",
                **({"parent": parent} if parent else {"root": True}), **extra}
        answer = self.call("ci").post(f"/v1/models/{model}/versions", json=body)
        assert answer.status_code in (200, 201), answer.text
        data: dict[str, Any] = answer.json()
        return data

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        self.server.stop()
        self.app.close()


def serve(root: Path, database_url: str,
          add_tokens: Callable[[bootstrap.App], dict[str, str]] | None = None,
          **api_settings: Any) -> Api:
    """`api_settings` override ApiSettings fields (e.g. idempotency_stale_s)."""
    config = root / "playbook.toml"
    config.write_text(CONFIG)
    clock, ticks = TestClock(), Ticks()
    app = bootstrap.build(Settings(migrate=True, config_path=config, home=root / "home",
                                   database_url=database_url, actor="test"),
                          clock=clock, evaluator_for=PromptLengthEvaluator)
    tokens = (add_tokens or make_tokens)(app)
    settings = dataclasses.replace(ApiSettings.from_env(app.settings.env), ticks=ticks,
                                   **api_settings)
    server = Server(create_asgi(app, with_slack=False, api_settings=settings,
                                scheduler=False)).start()
    return Api(app, server, clock, ticks, tokens, root)


def make_tokens(app: bootstrap.App) -> dict[str, str]:
    uow = app.ctx.uow
    return {name: create_token(uow, name=name, scopes=scopes, created_by="test",
                               now=app.ctx.clock.now(), make_id=new_id)[1]
            for name, scopes in CALLERS.items()}


def error(answer: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """Assert an error answer's status and shape; returns its `error` object."""
    assert answer.status_code == status, f"{answer.status_code} {answer.text}"
    detail: dict[str, Any] = answer.json()["error"]
    assert set(detail) >= {"code", "message", "hint"}, detail
    if code is not None:
        assert detail["code"] == code, detail
    return detail


class FlakyProxy:
    """A TCP proxy in front of the server that loses answers on purpose.

    `drop` answers are swallowed after the server has produced them (the client sees the
    connection close, as when a load balancer times out); `fail` requests get a 503 without
    reaching the server. Every request's head is kept in `seen`.
    """

    def __init__(self, upstream: str, *, drop: int = 0, fail: int = 0) -> None:
        host, port = upstream.removeprefix("http://").split(":")
        self.upstream = (host, int(port))
        self.drop, self.fail = drop, fail
        self.seen: list[str] = []
        self.sock = bind_free()
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @staticmethod
    def _read_message(conn: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
        return head + b"\r\n\r\n" + body

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            request = self._read_message(conn)
            if not request:
                return
            self.seen.append(request.partition(b"\r\n\r\n")[0].decode())
            if self.fail > 0:
                self.fail -= 1
                conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n"
                             b"connection: close\r\n\r\n")
                return
            with socket.create_connection(self.upstream) as up:
                up.sendall(request)
                answer = self._read_message(up)
            if self.drop > 0:
                self.drop -= 1
                return  # the server answered; the client never hears it
            status, _, rest = answer.partition(b"\r\n")
            conn.sendall(status + b"\r\nconnection: close\r\n" + rest)

    def close(self) -> None:
        self._stop.set()
        self.sock.close()
