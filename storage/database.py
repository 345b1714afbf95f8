"""Engines and schema upgrades: the only place that knows SQLite and PostgreSQL differ.

SQLite is tuned so two processes can write to one file without "database is locked": WAL lets
readers run beside a writer, and every transaction that may write starts with BEGIN IMMEDIATE
so a writer takes the lock up front (waiting up to busy_timeout) instead of failing when a
read turns into a write half-way. A read-only unit of work (connections carrying the
READ_ONLY execution option) starts with a deferred BEGIN instead: it reads a snapshot and
never waits for a writer. pysqlite's own transaction handling is switched off for that, as
the SQLAlchemy SQLite docs describe.
"""

from __future__ import annotations

import functools
import time
import zlib
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from core.errors import SchemaNotCurrent, StorageError
from storage.columns import dumps
from storage.errors import storage_error, translated

BUSY_TIMEOUT_MS = 30_000
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# pg_advisory_xact_lock key shared by every Playbook process migrating the same database.
MIGRATION_LOCK = zlib.crc32(b"playbook:migrate")
# Execution option of the engine a read-only unit of work binds to (storage/uow.py).
READ_ONLY = "playbook_read_only"


def default_url(home: Path | str) -> str:
    """The embedded database: one SQLite file in Playbook's home directory."""
    return f"sqlite:///{Path(home).expanduser().resolve() / 'playbook.db'}"


def _normalized(url: str | URL) -> URL:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        # DATABASE_URL is usually written for libpq; psycopg 3 is the driver we ship.
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | URL, *, pool_size: int | None = None,
                max_overflow: int | None = None, **kwargs: Any) -> Engine:
    """An engine for `url` (sqlite:///path or postgresql://...), ready for concurrent writers.
    `pool_size` and `max_overflow` bound PostgreSQL connections per process (SQLAlchemy's
    defaults, 5 and 10, when None); on SQLite they bound the connections readers share (one
    writer at a time holds the file's lock whatever the pool)."""
    parsed = _normalized(url)
    if pool_size is not None:
        kwargs["pool_size"] = pool_size
    if max_overflow is not None:
        kwargs["max_overflow"] = max_overflow
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "postgresql":
        return create_engine(parsed, json_serializer=dumps, pool_pre_ping=True, **kwargs)
    raise StorageError(f"unsupported database {parsed.get_backend_name()!r}",
                       hint="use sqlite:///PATH or postgresql://USER@HOST/DB")


def _sqlite_engine(url: URL, **kwargs: Any) -> Engine:
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    if not url.database or url.database == ":memory:" or "mode=memory" in str(url):
        # One connection per thread (SQLAlchemy's pool for an in-memory database): no sizes.
        kwargs.pop("pool_size", None)
        kwargs.pop("max_overflow", None)
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
    def on_begin(conn: Connection) -> None:
        reads = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if reads else "BEGIN IMMEDIATE")

    return engine


ANALYSIS_LIMIT = 1000  # rows SQLite's ANALYZE reads per index: approximate, and fast at any size


@translated("refreshing the query planner's statistics")
def refresh_statistics(engine: Engine, *, tables: Sequence[str] = ()) -> None:
    """Give the query planner fresh statistics, so it picks the right index for the history
    reads at any size. SQLite never gathers any on its own (without them it may scan a whole
    table where an index answers); its ANALYZE is bounded by `analysis_limit`, a few
    milliseconds on any size of database. PostgreSQL's autovacuum keeps its own fresh, so
    there nothing runs unless `tables` are named (a bulk load that cannot wait for it)."""
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql(f"PRAGMA analysis_limit = {ANALYSIS_LIMIT}")
            conn.exec_driver_sql("ANALYZE")
            return
        for table in tables:
            conn.exec_driver_sql(f'ANALYZE "{table}"')


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


def release() -> str:
    """This Playbook's release (the installed distribution's version)."""
    try:
        return metadata.version("playbook-bot")
    except metadata.PackageNotFoundError:  # pragma: no cover - run from a bare source tree
        return "unknown"


@translated("reading which release migrated the schema")
def release_of(engine: Engine, revision: str) -> str | None:
    """The Playbook release that migrated the schema to `revision` (None: not recorded)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("schema_releases"):
            return None
        return conn.execute(text("SELECT release FROM schema_releases WHERE revision = :r"),
                            {"r": revision}).scalar_one_or_none()


def schema_mismatch(engine: Engine) -> SchemaNotCurrent | None:
    """Why this Playbook cannot run on the database's schema as it is, or None when it can."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return None
    upgrade = ("`playbook db upgrade` migrates it (the migration job of deploy/README.md); "
               "or pass --migrate, or set PLAYBOOK_MIGRATE=1, to migrate on the way in")
    if current is None:
        return SchemaNotCurrent(f"the database has no Playbook schema yet; this Playbook "
                                f"needs {head}", hint=upgrade, current=None, needed=head)
    if _known(current):
        return SchemaNotCurrent(f"the database schema is at {current}, older than this "
                                f"Playbook's {head}", hint=upgrade, current=current,
                                needed=head)
    newer = release_of(engine, current)
    by = f"Playbook {newer}" if newer else "a newer Playbook"
    return SchemaNotCurrent(
        f"the database schema is at {current}, migrated by {by}; this Playbook "
        f"({release()}) knows up to {head}", current=current, needed=head,
        hint=f"run Playbook {newer} or newer against this database" if newer
        else "upgrade Playbook to the release that brought this schema")


def _record_release(conn: Connection) -> None:
    """Remember which release first brought the schema to this head."""
    head = head_revision()
    if conn.execute(text("SELECT 1 FROM schema_releases WHERE revision = :r"),
                    {"r": head}).first() is None:
        conn.execute(text("INSERT INTO schema_releases (revision, release, migrated_at) "
                          "VALUES (:r, :v, :t)"),
                     {"r": head, "v": release(), "t": datetime.now(UTC)})


def _known(revision: str) -> bool:
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False


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
                    _record_release(conn)
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
        newer = schema_mismatch(engine)
        if newer is not None:
            raise newer from exc
        raise StorageError(
            f"cannot migrate the database: {exc}",
            hint="the database may have been migrated by a newer Playbook; upgrade Playbook",
        ) from exc
    except SQLAlchemyError as exc:
        raise storage_error("migrating the schema", exc) from exc
