"""The one HTTP client both halves share: the bearer token, a user agent, short timeouts."""

from __future__ import annotations

import httpx

from playbook_client._version import __version__


def client(server: str, token: str, timeout_s: float) -> httpx.Client:
    return httpx.Client(
        base_url=server.rstrip("/"),
        headers={"Authorization": f"Bearer {token}",
                 "User-Agent": f"playbook-client/{__version__}"},
        timeout=httpx.Timeout(timeout_s))
