"""The unit of work's transaction boundary, and errors translated at the storage edge."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from core.errors import StorageError
from storage.database import make_engine, migrate
from storage.uow import SqlUnitOfWork, uow_factory

from .builders import T0, moved, version

Factory = Callable[[], SqlUnitOfWork]


def _nothing_stored(factory: Factory) -> bool:
    with factory() as uow:
        return (uow.versions.list("chat") == [] and uow.tags.list() == []
                and uow.events.history("chat") == [])


def test_an_exception_rolls_back_everything_in_the_unit(uow_factory: Factory) -> None:
    v = version(1)
    with pytest.raises(RuntimeError), uow_factory() as uow:
        uow.versions.add(v)
        uow.tags.compare_and_set("chat", "production", 0, v.id, T0)
        uow.events.append(moved(None, v, 1))
        raise RuntimeError("the step failed after writing")
    assert _nothing_stored(uow_factory)


def test_leaving_without_commit_rolls_back(uow_factory: Factory) -> None:
    with uow_factory() as uow:
        uow.versions.add(version(1))
    assert _nothing_stored(uow_factory)


def test_rollback_then_commit_keeps_only_the_later_work(uow_factory: Factory) -> None:
    first, second = version(1), version(2)
    with uow_factory() as uow:
        uow.versions.add(first)
        uow.rollback()
        uow.versions.add(second)
        uow.commit()
    with uow_factory() as uow:
        assert uow.versions.list("chat") == [second]


def test_commit_makes_work_visible_to_the_next_unit(uow_factory: Factory) -> None:
    v = version(1)
    with uow_factory() as uow:
        uow.versions.add(v)
        uow.tags.compare_and_set("chat", "production", 0, v.id, T0)
        uow.events.append(moved(None, v, 1))
        uow.commit()
    with uow_factory() as uow:
        assert uow.versions.get("chat", v.id) == v
        assert [e.revision for e in uow.events.history("chat")] == [1]


def test_naive_datetimes_are_refused_not_guessed(uow_factory: Factory) -> None:
    with uow_factory() as uow:
        with pytest.raises(StorageError, match="timezone-aware"):
            uow.versions.add(version(1, created_at=datetime(2024, 1, 1)))
        uow.versions.add(version(2))  # still usable
        uow.commit()


def test_a_unit_of_work_is_only_usable_inside_with(uow_factory: Factory) -> None:
    uow = uow_factory()
    with pytest.raises(StorageError, match="outside"):
        uow.commit()
    with uow:
        pass
    with pytest.raises(StorageError, match="twice"), uow:
        pass


@pytest.mark.postgres
def test_times_come_back_utc_whatever_the_session_time_zone(postgres_url: str) -> None:
    url = make_url(postgres_url)
    url = url.update_query_dict({"options": f"{url.query['options']} -ctimezone=Asia/Kolkata"})
    engine = make_engine(url)
    try:
        migrate(engine)
        factory = uow_factory(engine)
        v = version(1, expires_at=T0 + timedelta(days=3))
        with factory() as uow:
            uow.versions.add(v)
            uow.commit()
        with factory() as uow:
            loaded = uow.versions.get("chat", v.id)
            assert loaded is not None and loaded.created_at.tzinfo == UTC
            assert loaded == v
            assert uow.versions.list("chat") == [v]
    finally:
        engine.dispose()


def test_an_unreachable_database_is_a_storage_error() -> None:
    engine = make_engine("postgresql://nobody@127.0.0.1:1/nothing?connect_timeout=2")
    try:
        with pytest.raises(StorageError, match="migrating") as caught:
            migrate(engine)
        assert caught.value.hint and "DATABASE_URL" in caught.value.hint
        with pytest.raises(StorageError, match="reading a version"), \
                uow_factory(engine)() as uow:
            uow.versions.get("chat", "0" * 64)
    finally:
        engine.dispose()


def test_a_missing_schema_is_a_storage_error_with_a_hint(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/empty.db")
    try:
        with pytest.raises(StorageError, match="no such table") as caught, \
                uow_factory(engine)() as uow:
            uow.tags.list()
        assert caught.value.hint and "migrates" in caught.value.hint
    finally:
        engine.dispose()
