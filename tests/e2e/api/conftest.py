"""The `api` fixture: a served registry on SQLite and on PostgreSQL, with a token per caller."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_harness import Api, serve


@pytest.fixture
def api(tmp_path: Path, engine_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    monkeypatch.setenv("PLAYBOOK_API_MAX_BODY_BYTES", str(256 * 1024))
    monkeypatch.setenv("PLAYBOOK_API_TOKEN_CACHE_S", "0.2")
    monkeypatch.setenv("PLAYBOOK_API_RESOLVE_CACHE_S", "0.3")
    served = serve(tmp_path, engine_url)
    try:
        yield served
    finally:
        served.close()
