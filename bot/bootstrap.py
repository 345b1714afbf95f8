"""The composition root: the one place that builds engines, stores and the play context.

Nothing is built at import time; every entry point (CLI, server, tests) calls these factories.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from bot import evaluators
from bot.settings import Settings
from core.config import PlaybookConfig, load_config
from core.engine import PlayContext
from core.ports import Clock, EvaluatorFactory
from storage.artifacts import FileArtifactStore
from storage.database import make_engine, migrate
from storage.uow import uow_factory


@dataclass
class App:
    settings: Settings
    config: PlaybookConfig
    engine: Engine
    ctx: PlayContext

    def close(self) -> None:
        self.engine.dispose()


def build(settings: Settings, *, clock: Clock | None = None,
          evaluator_for: EvaluatorFactory | None = None) -> App:
    """Load the config, open (and migrate) the database, wire the play context."""
    config = load_config(settings.config_path)
    if settings.database_url.startswith("sqlite"):
        settings.home.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    try:
        migrate(engine)
    except BaseException:
        engine.dispose()
        raise
    base_dir = settings.config_path.resolve().parent
    ctx = PlayContext(
        config=config,
        uow=uow_factory(engine),
        evaluator_for=evaluator_for or evaluators.factory(base_dir),
        artifacts=FileArtifactStore(settings.artifacts_dir),
    )
    if clock is not None:
        ctx.clock = clock
    return App(settings=settings, config=config, engine=engine, ctx=ctx)
