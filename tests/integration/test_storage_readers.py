"""On SQLite, readers never queue behind a writer: a read-only unit of work starts a deferred
transaction and reads its WAL snapshot while another connection holds the write lock; a
unit of work that may write starts with BEGIN IMMEDIATE and waits for the lock."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import StorageError
from storage import database
from storage.database import make_engine, migrate
from storage.uow import SqlUnitOfWorkFactory, uow_factory

from .builders import T0, version


@pytest.fixture
def db(tmp_path: Path,
       monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, SqlUnitOfWorkFactory]]:
    # A writer gives up on the lock after 100 ms instead of 30 s, so the waiting side of the
    # test fails fast; the reading side must not wait at all.
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 100)
    path = tmp_path / "playbook.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    yield path, uow_factory(engine)
    engine.dispose()


def test_a_reader_reads_its_snapshot_while_another_process_holds_the_write_lock(
        db: tuple[Path, SqlUnitOfWorkFactory]) -> None:
    path, uow = db
    v = version(1)
    with uow() as u:
        u.versions.add(v)
        u.tags.compare_and_set("chat", "production", 0, v.id, T0)
        u.commit()
    writer = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE tags SET revision = 99 WHERE model = 'chat'")  # not committed

        with uow(read_only=True) as u:  # answers at once, from the committed state
            assert u.versions.get("chat", v.id) == v
            assert u.tags.get("chat", "production").revision == 1  # type: ignore[union-attr]

        with pytest.raises(StorageError, match="locked"), uow() as u:
            u.versions.get("chat", v.id)  # a writing unit queues for the lock (and times out)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    with uow() as u:  # the lock released, writers go on
        u.versions.add(version(2))
        u.commit()


def test_the_read_only_option_does_not_leak_into_writing_units(
        db: tuple[Path, SqlUnitOfWorkFactory]) -> None:
    """Both kinds share one connection pool: a connection a reader used begins with BEGIN
    IMMEDIATE again when a writer takes it."""
    path, uow = db
    with uow(read_only=True) as u:
        u.versions.list("chat")
    writer = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        with pytest.raises(StorageError, match="locked"), uow() as u:
            u.versions.list("chat")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
