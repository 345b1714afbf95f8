"""The composition root: the one place that builds engines, stores and the play context.

Nothing is built at import time; every entry point (CLI, server, tests) calls these factories.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import Engine

from bot import evaluators
from bot.settings import Settings
from core.config import PlaybookConfig, load_config
from core.engine import PlayContext
from core.handlers import subscribers_for
from core.ports import Clock, EvaluatorFactory
from storage.artifacts import FileArtifactStore
from storage.database import (
    current_revision,
    head_revision,
    make_engine,
    migrate,
    schema_mismatch,
)
from storage.uow import uow_factory


class Signal:
    """Callbacks to run when something happened (events written: wake the dispatcher)."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[[], None]] = []

    def connect(self, callback: Callable[[], None]) -> None:
        self._callbacks.append(callback)

    def disconnect(self, callback: Callable[[], None]) -> None:
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def fire(self) -> None:
        for callback in list(self._callbacks):
            callback()


@dataclass
class App:
    settings: Settings
    config: PlaybookConfig
    engine: Engine
    ctx: PlayContext
    events_written: Signal = field(default_factory=Signal)
    # What this process depends on besides the database, and how it is: "ok" or
    # "degraded: why" (the Slack app reports "slack"); /readyz and /metrics show it.
    dependencies: dict[str, str] = field(default_factory=dict)

    def schema(self) -> tuple[str | None, str]:
        """(the revision the database's schema is at, the one this Playbook needs)."""
        return current_revision(self.engine), head_revision()

    def migrate(self) -> None:
        """Bring the schema to this Playbook's; a newer one is refused, naming it."""
        migrate(self.engine)

    def check_schema(self) -> None:
        """Refuse (SchemaNotCurrent) unless the schema is the one this Playbook runs on."""
        problem = schema_mismatch(self.engine)
        if problem is not None:
            raise problem

    def close(self) -> None:
        self.engine.dispose()


Schema = Literal["migrate", "check", "leave"]


def build(settings: Settings, *, clock: Clock | None = None,
          evaluator_for: EvaluatorFactory | None = None, schema: Schema | None = None) -> App:
    """Load the config, open the database, wire the play context.

    The schema is migrated when `settings.migrate` says so, else checked: a schema this
    Playbook cannot run on is refused before any play, naming what is needed. `schema`
    overrides that: "leave" opens without looking (`db` commands, `serve`, which look
    themselves)."""
    config = load_config(settings.config_path)
    if settings.database_url.startswith("sqlite"):
        settings.home.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url, pool_size=settings.env.db_pool_size,
                         max_overflow=settings.env.db_max_overflow)
    schema = schema or ("migrate" if settings.migrate else "check")
    try:
        if schema == "migrate":
            migrate(engine)
        elif schema == "check" and (problem := schema_mismatch(engine)) is not None:
            raise problem
    except BaseException:
        engine.dispose()
        raise
    base_dir = settings.config_path.resolve().parent
    events_written = Signal()
    ctx = PlayContext(
        config=config,
        uow=uow_factory(engine, events_written.fire, subscribers_for(config)),
        evaluator_for=evaluator_for or evaluators.factory(base_dir),
        artifacts=FileArtifactStore(settings.artifacts_dir),
    )
    if clock is not None:
        ctx.clock = clock
    return App(settings=settings, config=config, engine=engine, ctx=ctx,
               events_written=events_written)
