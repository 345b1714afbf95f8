"""`serve --http-only` runs the scheduler too: approvals expire and GC collects without Slack,
and what is due to be posted is written as events for a server that has Slack."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from api_harness import CONFIG, PromptLengthEvaluator, Server
from testkit.clock import TestClock

from bot import bootstrap
from bot.scheduler.service import Scheduler
from bot.server import create_asgi
from bot.settings import Settings
from core.commands import Promote, Register
from core.domain import ApprovalStatus
from core.plays import promote, register


@pytest.fixture
def http_only(tmp_path: Path, engine_url: str) -> Iterator[tuple[bootstrap.App, Scheduler]]:
    config = tmp_path / "playbook.toml"
    config.write_text(CONFIG)
    app = bootstrap.build(Settings(migrate=True, config_path=config, home=tmp_path / "home",
                                   database_url=engine_url, actor="test"),
                          clock=TestClock(), evaluator_for=PromptLengthEvaluator)
    asgi = create_asgi(app, with_slack=False)  # what `playbook serve --http-only` serves
    server = Server(asgi).start()  # its start-up starts the scheduler
    try:
        yield app, asgi.state.scheduler
    finally:
        server.stop()
        app.close()


def test_approvals_expire_and_gc_collects_without_slack(
        http_only: tuple[bootstrap.App, Scheduler], tmp_path: Path) -> None:
    app, scheduler = http_only
    clock = app.ctx.clock
    assert isinstance(clock, TestClock)
    assert set(scheduler.specs) == {"gc", "sweep", "rehearsal-check"}  # no digest here

    blob = tmp_path / "weights.bin"
    blob.write_bytes(b"w" * 4096)
    heavy = register(Register.parse(model="chat", components={"prompt": "h" * 40},
                                    owner="ana", reason="heavy", root=True, actor="ana",
                                    artifacts=[str(blob)]), app.ctx).version
    risky = register(Register.parse(model="risky", components={"prompt": "r" * 40},
                                    owner="ana", reason="r", root=True, actor="ana"),
                     app.ctx).version
    request = promote(Promote.parse(model="risky", version=risky.short, actor="ana"),
                      app.ctx).request
    assert request is not None

    clock.advance(days=91)  # past the request's 24 h and the 90-day retention
    swept = scheduler.fire("sweep", clock.now())
    assert swept is not None and "1 approvals expired" in swept
    collected = scheduler.fire("gc", clock.now() - timedelta(minutes=1))
    assert collected is not None and "1 versions, 4096 bytes freed" in collected
    with app.ctx.uow() as uow:
        assert uow.approvals.get(request.id).status == ApprovalStatus.EXPIRED  # type: ignore[union-attr]
        assert uow.versions.get("chat", heavy.id).artifacts_collected_at is not None  # type: ignore[union-attr]
        names = [type(e).__name__ for _, e in uow.outbox.events(limit=1000)]
    assert "RequestExpired" in names and "ArtifactsCollected" in names
    assert "GcCycleCompleted" in names  # its report waits for (or is skipped by) a server
