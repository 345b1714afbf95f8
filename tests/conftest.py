"""Shared fixtures. Storage and SQLAlchemy are imported inside fixtures only, so unit tests
that check core/ never imports SQLAlchemy are not fooled by a conftest that did."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from storage.uow import SqlUnitOfWork

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

# Property tests judge the code, not the machine: no per-example deadline, and no health check
# that fails because a loaded machine generated examples slowly.
hypothesis_settings.register_profile(
    "playbook", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("playbook")


@pytest.fixture(autouse=True)
def _slack_commands_unprefixed() -> Iterator[None]:
    """A test that built a Slack app with SLACK_COMMAND_PREFIX set the process's prefix
    (bot.slack.names); put it back, so no other test meets `/pb-rollback` by chance. Looked
    up, not imported: unit tests of core must not load Slack."""
    names = sys.modules.get("bot.slack.names")
    before = names.prefix() if names is not None else ""
    yield
    names = sys.modules.get("bot.slack.names")
    if names is not None:
        names.use(before)


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """The server URL, checked once; without a server PG tests skip, except on CI."""
    from sqlalchemy import create_engine, text

    url = os.environ.get("PLAYBOOK_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    engine = create_engine(url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        message = f"PostgreSQL at {url} is unreachable: {exc}".splitlines()[0]
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI needs PostgreSQL for the storage tests; {message}")
        pytest.skip(message)
    finally:
        engine.dispose()
    return url


@contextmanager
def fresh_schema(server_url: str) -> Iterator[str]:
    """A URL whose connections see only a fresh schema of their own (via search_path), so
    tests, and processes they start, never collide; the schema is dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    schema = f"pbtest_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(server_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh schema of the test's own (fresh_schema)."""
    with fresh_schema(postgres_server_url) as url:
        yield url


@pytest.fixture(scope="module")
def module_postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh schema shared by one module's tests (for data that is slow to build)."""
    with fresh_schema(postgres_server_url) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'playbook.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def engine(engine_url: str) -> Iterator[Engine]:
    from storage.database import make_engine

    made = make_engine(engine_url)
    yield made
    made.dispose()


@pytest.fixture
def uow_factory(engine: Engine) -> Callable[[], SqlUnitOfWork]:
    """A migrated database of the parametrized kind, as the play engine would get it."""
    from storage.database import migrate
    from storage.uow import uow_factory as make_factory

    migrate(engine)
    return make_factory(engine)


def pytest_collection_modifyitems(config: Any, items: list[pytest.Item]) -> None:
    """Tests that ask for `postgres_url` directly are PostgreSQL tests too (`-m "not postgres"`
    deselects them)."""
    for item in items:
        if "postgres_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)
