"""`playbook serve` as a user starts it: a real process, signed requests over TCP, and start-up
errors that name the missing secret."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from slack_fake_api import FakeSlack
from slack_harness import SECRET, TOKEN, sign, workspace_fake, write_workspace

import bot

ROOT = str(Path(bot.__file__).resolve().parent.parent)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(tmp_path: Path, env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    config = write_workspace(tmp_path)
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", "--config", str(config), "--home",
         str(tmp_path / "home"), "--as", "ops", "serve", *extra],
        env={**os.environ, "PYTHONPATH": ROOT, **env}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, cwd=tmp_path)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    started = workspace_fake()
    yield started
    started.stop()


def test_playbook_serve_answers_signed_slack_requests(tmp_path: Path, fake: FakeSlack) -> None:
    port = _free_port()
    proc = _serve(tmp_path, {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
                             "SLACK_API_URL": fake.api_url}, "--port", str(port))
    try:
        url = f"http://127.0.0.1:{port}/slack/events"
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.post(url, content=b"")
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "playbook serve did not start"
                time.sleep(0.1)
        body = ("command=%2Fregistry&text=help&user_id=UANA&channel_id=CGEN&team_id=T1"
                f"&trigger_id=t-serve&response_url={fake.response_url('t-serve')}")
        assert httpx.post(url, content=body.encode(), headers={
            "Content-Type": "application/x-www-form-urlencoded", **sign(body)}
        ).status_code == 200
        reply = fake.wait_for(lambda: fake.responses("t-serve"))[0]
        assert "/rollback" in str(reply["blocks"])
        assert httpx.post(url, content=body.encode(), headers={
            "Content-Type": "application/x-www-form-urlencoded",
            **sign(body, secret="wrong")}).status_code == 401
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err


@pytest.mark.parametrize(("flags", "missing"), [
    ((), "SLACK_SIGNING_SECRET is not set"),
    (("--socket-mode",), "SLACK_APP_TOKEN is not set"),
])
def test_serve_names_a_missing_secret(tmp_path: Path, flags: tuple[str, ...],
                                      missing: str) -> None:
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": "", "SLACK_APP_TOKEN": ""}
    proc = _serve(tmp_path, env, "--port", str(_free_port()), *flags)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert err.startswith("playbook: ") and missing in err


def test_socket_mode_asks_slack_for_a_websocket_with_the_app_token(tmp_path: Path,
                                                                   fake: FakeSlack) -> None:
    """As far as a test can go without Slack: the stand-in serves no WebSocket, so it refuses
    apps.connections.open, and serve stops with an error naming the token."""
    proc = _serve(tmp_path, {"SLACK_BOT_TOKEN": TOKEN, "SLACK_APP_TOKEN": "xapp-test",
                             "SLACK_SIGNING_SECRET": "", "SLACK_API_URL": fake.api_url},
                  "--port", str(_free_port()), "--socket-mode")
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 1 and "Slack refused SLACK_APP_TOKEN: invalid_auth" in err
    (opened,) = fake.called("apps.connections.open")
    assert opened.token == "xapp-test"


def test_http_only_serves_the_api_without_any_slack_secret(tmp_path: Path) -> None:
    port = _free_port()
    env = {"SLACK_BOT_TOKEN": "", "SLACK_SIGNING_SECRET": "", "SLACK_APP_TOKEN": ""}
    proc = _serve(tmp_path, env, "--port", str(port), "--http-only")
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz")
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "playbook serve did not start"
                time.sleep(0.1)
        assert health.status_code == 200
        assert httpx.post(f"http://127.0.0.1:{port}/slack/events").status_code == 404
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
