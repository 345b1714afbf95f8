"""Alembic environment: runs on the connection `storage.database.migrate` hands over.

From the alembic command line (a developer writing a new revision) it builds its own engine
from `sqlalchemy.url` or DATABASE_URL instead.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy.engine import Connection

from storage.orm import Base

config = context.config
target_metadata = Base.metadata


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
    )
    with context.begin_transaction():
        context.run_migrations()


def url_from_config() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("set DATABASE_URL or sqlalchemy.url to run migrations")
    return url


if context.is_offline_mode():
    context.configure(url=url_from_config(), target_metadata=target_metadata,
                      literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()
elif (given := config.attributes.get("connection")) is not None:
    run_on(given)
else:
    from storage.database import make_engine

    engine = make_engine(url_from_config())
    try:
        with engine.begin() as conn:
            run_on(conn)
    finally:
        engine.dispose()
