"""Waiting for a server process to answer: the exact condition (it answers), failing at once
with its log if it exits first."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import httpx

from testkit.waiting import until


def wait_live(proc: subprocess.Popen[Any], url: str, log: Path | None = None,
              what: str = "the server") -> None:
    """Until GET {url}/livez answers 200."""

    def live() -> bool:
        assert proc.poll() is None, log.read_text()[-3000:] if log else f"{what} exited"
        try:
            return httpx.get(f"{url}/livez").status_code == 200
        except httpx.TransportError:
            return False

    until(live, f"{what} to answer /livez")
