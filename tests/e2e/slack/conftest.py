"""The `slack` fixture: a fresh registry, the Web API stand-in and the served ASGI app, its
commands named with `command_prefix` ("" unless a test parametrizes it: SLACK_COMMAND_PREFIX)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_fake_api import FakeSlack
from slack_harness import (
    SECRET,
    TOKEN,
    Harness,
    Server,
    workspace_fake,
    write_workspace,
)
from testkit.clock import TestClock

from bot import bootstrap
from bot.server import create_asgi
from bot.settings import Settings


@pytest.fixture
def command_prefix() -> str:
    """SLACK_COMMAND_PREFIX for the `slack` fixture's app; a test that wants one says
    @pytest.mark.parametrize("command_prefix", ["pb-"])."""
    return ""


@pytest.fixture
def slack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command_prefix: str
          ) -> Iterator[Harness]:
    fake = workspace_fake(start=False)
    if command_prefix:
        monkeypatch.setenv("SLACK_COMMAND_PREFIX", command_prefix)
    else:  # none from the shell running the tests either
        monkeypatch.delenv("SLACK_COMMAND_PREFIX", raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    monkeypatch.setenv("SLACK_API_URL", fake.api_url)
    monkeypatch.setenv("SLACK_WORKERS", "8")
    monkeypatch.setenv("PLAYBOOK_ALERTS_HMAC_SECRET", "alerts-secret")
    fake.start()  # threads only once the environment is set
    config = write_workspace(tmp_path)
    clock = TestClock()
    home = tmp_path / "home"
    playbook = bootstrap.build(Settings(migrate=True, config_path=config, home=home,
                                        database_url=f"sqlite:///{home / 'playbook.db'}",
                                        actor="test"), clock=clock)
    asgi = create_asgi(playbook, scheduler=False)
    server = Server(asgi).start()
    harness = Harness(playbook, fake, server.url, clock, asgi.state.slack, asgi.state.outbox)
    try:
        yield harness
    finally:
        harness.http.close()
        server.stop()
        asgi.state.slack.close()
        playbook.close()
        fake.stop()


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    """The Web API stand-in alone, serving (for CLI and replica tests)."""
    started = workspace_fake()
    yield started
    started.stop()


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test workspace for CLI tests: config and home from the environment, no Slack."""
    config = write_workspace(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLAYBOOK_CONFIG", str(config))
    monkeypatch.setenv("PLAYBOOK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PLAYBOOK_USER", "UANA")
    for name in ("SLACK_BOT_TOKEN", "SLACK_API_URL", "SLACK_SIGNING_SECRET", "DATABASE_URL",
                 "SLACK_COMMAND_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    return config
