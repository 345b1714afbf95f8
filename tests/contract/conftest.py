"""The `uow` fixture of every contract test: the same promises, held by the fakes and by SQL
on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_store import FakeStore, FakeUnitOfWorkFactory

from core.ports import UnitOfWorkFactory
from storage.database import make_engine, migrate
from storage.uow import uow_factory

Factory = UnitOfWorkFactory


@pytest.fixture(params=["fake", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def uow(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Factory]:
    if request.param == "fake":
        yield FakeUnitOfWorkFactory(FakeStore())
        return
    url = f"sqlite:///{tmp_path / 'p.db'}" if request.param == "sqlite" \
        else request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    migrate(engine)
    yield uow_factory(engine)
    engine.dispose()
