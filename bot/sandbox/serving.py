"""Starting the sandbox: environment first, then the Slack app the usual way, then serve.

The Web API stand-in gets a server of its own, on a loopback port in its own thread, and
SLACK_API_URL points there: the app calls the Web API while it starts (Bolt's auth.test while
the Slack app is built, the scheduler's catch-up posts in the startup hook, which runs on the
main server's event loop before it accepts anything), so the stand-in must answer
independently of the main server. The main server mounts the same stand-in too (the page reads
uploaded files through it).
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading
import time
from dataclasses import replace
from types import FrameType
from typing import Any

import uvicorn

from bot.bootstrap import App
from bot.sandbox import Sandbox, create_sandbox
from bot.sandbox.directory import REQUESTER
from bot.sandbox.persist import Keeper
from bot.sandbox.seed import Seeded, seed
from bot.sandbox.tips import live_tips, tips_for
from core import queries
from core.domain import PRODUCTION
from core.errors import ConfigError
from core.identity import short

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
SHUTDOWN_GRACE_S = 5  # a last resort: event streams end by themselves on Ctrl-C


def is_loopback(host: str) -> bool:
    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1" if host == "localhost" else host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def local_url(host: str, port: int) -> str:
    """How this machine reaches the server (the app calls its own Web API stand-in)."""
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    elif host == "localhost":
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def say(line: str = "") -> None:
    print(line, flush=True)


def refuse_if_exposed(host: str, port: int) -> None:
    """The sandbox acts as any user of its workspace on a real registry: this machine only."""
    if not is_loopback(host):
        raise ConfigError(
            f"the sandbox listens on this machine only, not on {host}: anyone who reached "
            f"port {port} could act as any user and run every play on its registry",
            hint=f"use --host 127.0.0.1 (from elsewhere: ssh -L {port}:127.0.0.1:{port} "
                 "THIS-HOST); to serve a real workspace, export SLACK_BOT_TOKEN and "
                 "SLACK_SIGNING_SECRET; for the HTTP API alone, --http-only")


class StandinServer:
    """The Web API stand-in's uvicorn, on its own loopback socket and event loop, in a thread
    for as long as the sandbox runs."""

    def __init__(self, asgi: Any, sock: socket.socket) -> None:
        self._server = uvicorn.Server(uvicorn.Config(asgi, log_level="warning", lifespan="off",
                                                     timeout_graceful_shutdown=1))
        self._thread = threading.Thread(target=self._server.run, name="sandbox-slack-api",
                                        kwargs={"sockets": [sock]}, daemon=True)

    def start(self) -> StandinServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the sandbox's Web API stand-in did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(5)


class _Server(uvicorn.Server):
    """uvicorn that tells the sandbox it is stopping before it waits for open connections."""

    def __init__(self, config: uvicorn.Config, closing: threading.Event) -> None:
        super().__init__(config)
        self._closing = closing

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._closing.set()
        super().handle_exit(sig, frame)


def tell_seeded(app: App, seeded: Seeded) -> None:
    """Say in the terminal what was seeded and what to try (the page says it too)."""
    for problem in seeded.problems:
        print(f"playbook: seeding refused: {problem}", file=sys.stderr, flush=True)
    tips = tips_for(app.ctx)
    for model in seeded.versions:
        tag = queries.tag(app.ctx, model, PRODUCTION)
        policy = app.config.model(model)
        lines = [f"`{line}` in {channel}" for channel, found in tips.items() for line in found
                 if line.split()[1:2] == [model]]
        say(f"  {model} ({policy.stakes} stakes): production "
            f"{short(model, tag.version_id) if tag else 'none'}"
            + (f"; try {', '.join(lines)}" if lines else ""))


def serve_sandbox(app: App, *, host: str, port: int, with_seed: bool, why: str) -> None:
    """Run the sandbox until interrupted; `why` is the line saying why it runs."""
    refuse_if_exposed(host, port)
    sock = bind(host, port)
    slack_sock = bind("127.0.0.1", 0)
    try:
        sandbox: Sandbox = create_sandbox(
            app.config, base_url=local_url(host, int(sock.getsockname()[1])),
            slack_url=local_url("127.0.0.1", int(slack_sock.getsockname()[1])))
        prefix = app.settings.env.slack_command_prefix
        app = replace(app, settings=app.settings.with_env(**sandbox.env()))
        say(why)
        if prefix:
            say(f"playbook: SLACK_COMMAND_PREFIX={prefix} is for a real workspace; the "
                "sandbox's commands keep their plain names (/rollback, /promote, ...).")
        if with_seed:
            tell_seeded(app, seed(app.ctx, sandbox.workspace))
        sandbox.workspace.tips_source = live_tips(lambda: app.ctx)
        standin = StandinServer(sandbox.standin(), slack_sock).start()
        try:
            _serve(app, sandbox, sock)
        finally:
            standin.stop()
    finally:
        slack_sock.close()
        sock.close()


def _serve(app: App, sandbox: Sandbox, sock: socket.socket) -> None:
    from bot.server import create_asgi

    keeper = Keeper(sandbox.workspace, app.settings.home)
    kept = keeper.load()
    asgi = create_asgi(app)
    sandbox.mount(asgi)
    say(f"registry: {app.engine.url.render_as_string(hide_password=True)} "
        "(plays run here for real)")
    say(f"workspace history: {keeper.path} ({'kept from the last run' if kept else 'new'})")
    say(f"open {sandbox.base_url}/ in a browser; you act as {REQUESTER.name} "
        f"({REQUESTER.id}) and can switch users there. Ctrl-C stops.")
    server = _Server(uvicorn.Config(asgi, log_level="warning",
                                    timeout_graceful_shutdown=SHUTDOWN_GRACE_S),
                     sandbox.closing)
    keeper.start()
    # uvicorn re-raises SIGTERM once it has stopped, so a `finally` alone would not run then
    asgi.router.on_shutdown.append(keeper.close)
    try:
        server.run(sockets=[sock])
    finally:
        keeper.close()
