"""`sandbox_server`: a fresh `playbook serve --sandbox --seed` per test (see sandbox_process),
shared by the HTTP tests here and the browser tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox_process import SandboxServer, start_sandbox


@pytest.fixture
def sandbox_server(tmp_path: Path) -> Iterator[SandboxServer]:
    server = start_sandbox(tmp_path)
    try:
        yield server
    finally:
        server.stop()
