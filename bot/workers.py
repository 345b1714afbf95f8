"""The gunicorn worker class for Playbook: `gunicorn -k bot.workers.UvicornWorker
'bot.server:from_env()'` (needs the `gunicorn` extra: pip install 'playbook-bot[gunicorn]').

It is uvicorn-worker's, with two changes:
- gunicorn creates its listening sockets without naming the protocol, accepted connections
  inherit that, and asyncio then leaves Nagle's algorithm on: every keep-alive request after
  the first waits ~40 ms for the client's delayed ACK (Kludex/uvicorn#3149). The worker hands
  uvicorn the same listeners re-opened as TCP, so TCP_NODELAY is set on every connection.
- uvicorn's own log lines go to Playbook's log handlers (JSON lines), not gunicorn's.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

from uvicorn_worker import UvicornWorker as _UvicornWorker


def as_tcp(listener: socket.socket) -> socket.socket:
    """The same listening socket, known as TCP (a Unix socket is answered as it is)."""
    if listener.family not in (socket.AF_INET, socket.AF_INET6) \
            or listener.proto == socket.IPPROTO_TCP:
        return listener
    return socket.socket(listener.family, listener.type, socket.IPPROTO_TCP,
                         fileno=os.dup(listener.fileno()))


class UvicornWorker(_UvicornWorker):  # type: ignore[misc]
    CONFIG_KWARGS = {"loop": "auto", "http": "auto", "log_config": None}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("uvicorn.error", "uvicorn.access"):
            logger = logging.getLogger(name)
            logger.handlers = []
            logger.propagate = True  # to the root's handlers, which bot.server set up

    async def _serve(self) -> None:
        listeners: list[Any] = self.sockets  # type: ignore[has-type]
        self.sockets = [as_tcp(getattr(s, "sock", s)) for s in listeners]
        await super()._serve()
