"""Engines, migrations and the schema matching storage/orm.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

from storage import partitions
from storage.database import alembic_config, default_url, make_engine, migrate
from storage.orm import Base

TABLES = {"versions", "tags", "tag_events", "approval_requests", "incidents", "attributions",
          "play_runs", "alembic_version",
          "slack_deliveries", "slack_messages",  # 0002_slack
          "api_tokens", "api_idempotency", "canaries",  # 0002_api
          "job_claims",  # 0003_scheduler
          "outbox_events", "outbox_deliveries",  # 0004_outbox
          "schema_releases",  # 0009_schema_releases
          "registry_counters",  # 0011_read_paths
          "detections"}  # 0013_detections


def test_postgres_urls_use_psycopg_3() -> None:
    for url in ("postgresql://u:p@db:5432/pb", "postgres://u:p@db/pb",
                "postgresql+psycopg://u@db/pb"):
        engine = make_engine(url)
        assert engine.url.drivername == "postgresql+psycopg"
        engine.dispose()


def test_default_url_is_a_sqlite_file_in_home(tmp_path: Path) -> None:
    url = default_url(tmp_path / "home")
    assert url == f"sqlite:///{tmp_path / 'home' / 'playbook.db'}"
    engine = make_engine(url)  # creates the folder, so a fresh home just works
    try:
        migrate(engine)
        assert (tmp_path / "home" / "playbook.db").exists()
    finally:
        engine.dispose()


def test_sqlite_is_set_up_for_concurrent_writers(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        engine.dispose()


def test_migrate_is_idempotent(engine: Engine) -> None:
    migrate(engine)
    migrate(engine)
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()  # one per branch
    with engine.connect() as conn:
        weeks = {p.name for p in partitions.partitions(conn)}  # PostgreSQL's attributions
        assert set(inspect(conn).get_table_names()) - weeks == TABLES
        assert sorted(conn.execute(text("SELECT version_num FROM alembic_version")).scalars()) \
            == sorted(heads)


def schema_diff(conn: Connection, **opts: Any) -> list[Any]:
    weeks = {p.name for p in partitions.partitions(conn)}

    def modelled(obj: Any, name: str | None, kind: str, *_: Any) -> bool:
        """PostgreSQL's weekly partitions of attributions are made at run time."""
        table = name if kind == "table" else getattr(getattr(obj, "table", None), "name", "")
        return table not in weeks

    context = MigrationContext.configure(conn, opts={**opts, "include_object": modelled})
    return list(compare_metadata(context, Base.metadata))


def test_the_migrated_schema_matches_the_models(engine: Engine) -> None:
    migrate(engine)
    with engine.connect() as conn:
        assert schema_diff(conn, compare_type=True, compare_server_default=True) == []


def test_the_schema_comparison_would_notice_drift(engine: Engine) -> None:
    """Guards the test above: an empty diff must not come from a blind comparison."""
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_tag_events_model_to_version"))
    with engine.connect() as conn:
        diff = schema_diff(conn)
    assert [d[0] for d in diff] == ["add_index"]


def test_an_in_memory_database_takes_the_pool_settings_every_server_passes() -> None:
    for url in ("sqlite://", "sqlite:///:memory:"):
        engine = make_engine(url, pool_size=5, max_overflow=10)  # bootstrap always passes them
        try:
            with engine.connect() as conn:
                assert conn.execute(text("SELECT 1")).scalar() == 1
        finally:
            engine.dispose()
