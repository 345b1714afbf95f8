"""playbook-client: what serving code imports to follow Playbook's tags and to say which
version answered each request. It depends on httpx only and never on Playbook's server.

The common case, three lines::

    from playbook_client import Playbook
    pb = Playbook("http://playbook:8080", token, model="chat", fallback=BAKED_IN_VERSION)
    with pb.serve(request_id) as version:  # the version to answer with, from memory
        answer = generate(version, prompt)  # timed and attributed when the block ends

`Resolver` and `Attributor` are the two halves, usable alone. `TagFollower` follows one
other tag (a rehearsal follower follows `rehearsal`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from playbook_client._version import __version__
from playbook_client.attributor import Attributor
from playbook_client.follower import TagFollower
from playbook_client.resolver import Pointed, Resolver, Route

__all__ = ["Attributor", "Playbook", "Pointed", "Resolver", "Route", "TagFollower",
           "__version__"]


class Playbook:
    """A `Resolver` for one model and an `Attributor`, behind one `serve()` block.

    `server` and `token` default to $PLAYBOOK_SERVER and $PLAYBOOK_TOKEN. `fallback` is the
    version to use when nothing is known yet (Playbook away at start and no `cache_file`);
    without one, `serve()` yields None then and nothing is attributed."""

    def __init__(self, server: str | None = None, token: str | None = None, *, model: str,
                 fallback: str | None = None, cache_file: str | None = None,
                 on_change: Callable[[Route], None] | None = None,
                 resolver: dict[str, Any] | None = None,
                 attributor: dict[str, Any] | None = None) -> None:
        server = server or os.environ.get("PLAYBOOK_SERVER", "")
        token = token or os.environ.get("PLAYBOOK_TOKEN", "")
        if not server or not token:
            raise ValueError("playbook_client needs the server URL and a token: pass them or "
                             "set PLAYBOOK_SERVER and PLAYBOOK_TOKEN (a token with the "
                             "resolve and attribute scopes: `playbook token create --scope "
                             "resolve --scope attribute --name my-service`)")
        self.model = model
        self.fallback = fallback
        self.resolver = Resolver(server, token, model, cache_file=cache_file,
                                 on_change=on_change, **(resolver or {}))
        self.attributor = Attributor(server, token, **(attributor or {}))

    def version(self, request_id: str | None = None) -> str | None:
        return self.resolver.version(request_id) or self.fallback

    @contextmanager
    def serve(self, request_id: str) -> Iterator[str | None]:
        """Yield the version that should answer `request_id`; when the block ends, record
        that it did, with its latency and whether it raised (the exception goes on)."""
        version = self.version(request_id)
        started = time.perf_counter()
        failed = False
        try:
            yield version
        except BaseException:
            failed = True
            raise
        finally:
            if version is not None:
                self.attributor.record(request_id, self.model, version, error=failed,
                                       latency_ms=(time.perf_counter() - started) * 1000)

    def stats(self) -> dict[str, Any]:
        return {"resolver": self.resolver.stats(), "attributions": self.attributor.stats()}

    def close(self) -> None:
        self.resolver.close()
        self.attributor.close()

    def __enter__(self) -> Playbook:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
