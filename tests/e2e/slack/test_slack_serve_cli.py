"""`playbook serve` as a user starts it: a real process, signed requests over TCP, and start-up
errors that name the missing secret."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest
from serve_process import serve, stop, wait_answering
from slack_fake_api import FakeSlack
from slack_harness import SECRET, TOKEN, sign, write_workspace
from testkit.ports import free_port
from testkit.waiting import LIMIT_S


def _serve(tmp_path: Path, env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    return serve(write_workspace(tmp_path), tmp_path / "home", "ops", env, *extra)


def test_playbook_serve_answers_signed_slack_requests(tmp_path: Path, fake: FakeSlack) -> None:
    port = free_port()
    proc = _serve(tmp_path, {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
                             "SLACK_API_URL": fake.api_url}, "--port", str(port))
    try:
        url = f"http://127.0.0.1:{port}/slack/events"
        wait_answering(proc, f"http://127.0.0.1:{port}/healthz")
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
        err = stop(proc)
    assert proc.returncode == 0, err


@pytest.mark.parametrize(("flags", "missing"), [
    ((), "SLACK_SIGNING_SECRET is not set"),
    (("--socket-mode",), "SLACK_APP_TOKEN is not set"),
])
def test_serve_names_a_missing_secret(tmp_path: Path, flags: tuple[str, ...],
                                      missing: str) -> None:
    env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": "", "SLACK_APP_TOKEN": ""}
    proc = _serve(tmp_path, env, "--port", str(free_port()), *flags)
    _, err = proc.communicate(timeout=LIMIT_S)
    assert proc.returncode == 1
    assert err.startswith("playbook: ") and missing in err


def test_socket_mode_asks_slack_for_a_websocket_with_the_app_token(tmp_path: Path,
                                                                   fake: FakeSlack) -> None:
    """As far as a test can go without Slack: the stand-in serves no WebSocket, so it refuses
    apps.connections.open, and serve stops with an error naming the token."""
    proc = _serve(tmp_path, {"SLACK_BOT_TOKEN": TOKEN, "SLACK_APP_TOKEN": "xapp-test",
                             "SLACK_SIGNING_SECRET": "", "SLACK_API_URL": fake.api_url},
                  "--port", str(free_port()), "--socket-mode")
    _, err = proc.communicate(timeout=LIMIT_S)
    assert proc.returncode == 1 and "Slack refused SLACK_APP_TOKEN: invalid_auth" in err
    (opened,) = fake.called("apps.connections.open")
    assert opened.token == "xapp-test"


def test_http_only_serves_the_api_without_any_slack_secret(tmp_path: Path) -> None:
    port = free_port()
    env = {"SLACK_BOT_TOKEN": "", "SLACK_SIGNING_SECRET": "", "SLACK_APP_TOKEN": ""}
    proc = _serve(tmp_path, env, "--port", str(port), "--http-only")
    try:
        health = wait_answering(proc, f"http://127.0.0.1:{port}/healthz")
        assert health.status_code == 200
        assert httpx.post(f"http://127.0.0.1:{port}/slack/events").status_code == 404
    finally:
        err = stop(proc)
    assert proc.returncode == 0, err


def test_a_bad_log_level_stops_serve_naming_it(tmp_path: Path) -> None:
    env = {"SLACK_BOT_TOKEN": "", "SLACK_SIGNING_SECRET": "", "SLACK_APP_TOKEN": "",
           "PLAYBOOK_LOG_LEVEL": "loud"}
    proc = _serve(tmp_path, env, "--port", str(free_port()), "--http-only")
    _, err = proc.communicate(timeout=LIMIT_S)
    assert proc.returncode == 1
    assert err.startswith("playbook: ") and "PLAYBOOK_LOG_LEVEL" in err and "INFO" in err


def test_socket_mode_waits_for_slack_when_it_is_down_at_start(tmp_path: Path,
                                                              fake: FakeSlack) -> None:
    """Slack down at start-up (auth.test answers 503 until the test lets it answer): the
    socket-mode server serves the API and /readyz names Slack degraded; once Slack answers it
    asks for its WebSocket."""
    fake.outage("auth.test", times=10_000)
    port = free_port()
    proc = _serve(tmp_path, {"SLACK_BOT_TOKEN": TOKEN, "SLACK_APP_TOKEN": "xapp-test",
                             "SLACK_SIGNING_SECRET": "", "SLACK_API_URL": fake.api_url},
                  "--port", str(port), "--socket-mode")
    try:
        ready = wait_answering(proc, f"http://127.0.0.1:{port}/readyz")
        assert ready.status_code == 200
        assert ready.json()["dependencies"]["slack"].startswith("degraded: Slack answered 503")
        assert fake.called("apps.connections.open") == []
        fake.recover("auth.test")
        (opened,) = fake.wait_for(lambda: fake.called("apps.connections.open"))
        assert opened.token == "xapp-test"
        assert proc.poll() is None  # the stand-in refuses the WebSocket: still serving
    finally:
        err = stop(proc)
    assert "connecting to Slack once it answered failed" in err
