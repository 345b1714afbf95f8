"""Free TCP ports from this pytest-xdist worker's own range.

A port found free by binding port 0 and closing can be handed to another worker's server
before ours binds it. Each worker instead takes ports from a range of its own, below Linux's
ephemeral range (32768-60999) so no client connection holds one by chance, and checks each
by binding it.
"""

from __future__ import annotations

import itertools
import os
import socket
import threading

FIRST, PER_WORKER = 20_000, 600


def _worker_index() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")  # "gw3" under xdist
    return int(worker[2:]) if worker[2:].isdigit() else 0


_lock = threading.Lock()
_base = FIRST + _worker_index() * PER_WORKER
_next = itertools.cycle(range(_base, _base + PER_WORKER))


def bind_free() -> socket.socket:
    """A listening-ready socket bound on 127.0.0.1 to a port of this worker's range."""
    with _lock:
        for _ in range(PER_WORKER):
            port = next(_next)
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                sock.close()
                continue
            return sock
    raise RuntimeError(f"no free port in {_base}-{_base + PER_WORKER - 1}")


def free_port() -> int:
    """A port of this worker's range that nothing listens on now, for a server process that
    binds it itself (no other worker is ever handed it)."""
    with bind_free() as sock:
        return int(sock.getsockname()[1])
