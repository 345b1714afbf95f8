"""The sandbox acts as anyone on a real registry, so it answers only this machine's own pages.

A web page elsewhere cannot reach it by DNS rebinding (a name of the attacker's that resolves
to 127.0.0.1 sends `Host: evil.example:PORT`): every request must name the sandbox by a
loopback host and its own port. State-changing routes also want the page's token
(`X-Sandbox-Token`, handed out with `/sandbox/state`, which another origin cannot read).
"""

from __future__ import annotations

import hmac

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
TOKEN_HEADER = "x-sandbox-token"


def allowed_hosts(port: int) -> frozenset[str]:
    return frozenset(f"{name}:{port}" for name in LOOPBACK_NAMES)


class LoopbackHostOnly:
    """ASGI middleware: a request whose Host is not a loopback name with our port gets 403."""

    def __init__(self, app: ASGIApp, port: int) -> None:
        self.app = app
        self.port = port
        self.hosts = allowed_hosts(port)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
            if host.lower() not in self.hosts:
                answer = PlainTextResponse(
                    f"the sandbox answers only at http://127.0.0.1:{self.port}/ (or localhost); "
                    f"a request for host {host[:80]!r} is refused", status_code=403)
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)


def token_ok(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())
