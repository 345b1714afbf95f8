"""Engines and schema upgrades: the only place that knows SQLite and PostgreSQL differ.

SQLite is tuned so two processes can write to one file without "database is locked": WAL lets
readers run beside a writer, and every transaction starts with BEGIN IMMEDIATE so a writer
takes the lock up front (waiting up to busy_timeout) instead of failing when a read turns
into a write half-way. pysqlite's own transaction handling is switched off for that, as the
SQLAlchemy SQLite docs describe.
"""

from __future__ import annotations

import functools
import time
import zlib
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from core.errors import StorageError
from storage.columns import dumps
from storage.errors import storage_error, translated

BUSY_TIMEOUT_MS = 30_000
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# pg_advisory_xact_lock key shared by every Playbook process migrating the same database.
MIGRATION_LOCK = zlib.crc32(b"playbook:migrate")


def default_url(home: Path | str) -> str:
    """The embedded database: one SQLite file in Playbook's home directory."""
    return f"sqlite:///{Path(home).expanduser().resolve() / 'playbook.db'}"


def _normalized(url: str | URL) -> URL:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        # DATABASE_URL is usually written for libpq; psycopg 3 is the driver we ship.
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """An engine for `url` (sqlite:///path or postgresql://...), ready for concurrent writers."""
    parsed = _normalized(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "postgresql":
        return create_engine(parsed, json_serializer=dumps, pool_pre_ping=True, **kwargs)
    raise StorageError(f"unsupported database {parsed.get_backend_name()!r}",
                       hint="use sqlite:///PATH or postgresql://USER@HOST/DB")


def _sqlite_engine(url: URL, **kwargs: Any) -> Engine:
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, json_serializer=dumps,
                           connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}, **kwargs)

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")  # durable enough under WAL
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def alembic_config(engine: Engine | None = None) -> Config:
    """Alembic pointed at the packaged migrations, with no alembic.ini needed at runtime."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    if engine is not None:
        url = engine.url.render_as_string(hide_password=False)
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


FIRST_OPEN_RETRIES = 20


@functools.cache
def head_revision() -> str:
    """The newest schema revision this Playbook knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the packaged migrations have no head"
    return head


@translated("reading the schema revision")
def current_revision(engine: Engine) -> str | None:
    """The revision the database's schema is at (None: never migrated)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision; a no-op when it is already there.

    Several replicas may start at once: on PostgreSQL they queue on an advisory lock held for
    the migration's transaction, on SQLite on BEGIN IMMEDIATE; the later ones then find the
    schema current and do nothing.
    """
    cfg = alembic_config()
    try:
        for attempt in range(FIRST_OPEN_RETRIES + 1):
            try:
                with engine.begin() as conn:
                    if conn.dialect.name == "postgresql":
                        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                     {"key": MIGRATION_LOCK})
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, "head")  # one linear history (0003 merged the branches)
                return
            except OperationalError as exc:
                # Two processes opening a brand-new SQLite file at once: switching it to WAL
                # can answer "locked" at once, without waiting on busy_timeout. Try again.
                locked = engine.dialect.name == "sqlite" and "locked" in str(exc.orig)
                if not locked or attempt == FIRST_OPEN_RETRIES:
                    raise
                engine.dispose()
                time.sleep(0.05 * (attempt + 1))
    except CommandError as exc:
        raise StorageError(
            f"cannot migrate the database: {exc}",
            hint="the database may have been migrated by a newer Playbook; upgrade Playbook",
        ) from exc
    except SQLAlchemyError as exc:
        raise storage_error("migrating the schema", exc) from exc
