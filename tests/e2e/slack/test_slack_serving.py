"""The serving path: signatures, start-up errors, retries, and the plain request/response."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from slack_harness import TOKEN, Harness, Server, sign, workspace_fake, write_workspace
from testkit.waiting import until

from bot import bootstrap
from bot.server import create_asgi
from bot.settings import Settings
from bot.shared.tokens import create_token
from bot.slack import mount
from bot.slack.settings import SlackSettings, load_slack_settings
from core.errors import ConfigError


def _registry_help_body(trigger: str, response_url: str) -> str:
    return urlencode({"command": "/registry", "text": "help", "user_id": "UANA",
                      "channel_id": "CGEN", "channel_name": "general", "team_id": "T1",
                      "trigger_id": trigger, "response_url": response_url})


@pytest.mark.parametrize("headers", [
    pytest.param(lambda body: sign(body, secret="not-the-secret"), id="wrong secret"),
    pytest.param(lambda body: sign(body, timestamp=int(time.time()) - 600), id="stale"),
    pytest.param(lambda body: {}, id="unsigned"),
])
def test_a_bad_or_stale_signature_gets_401_and_changes_nothing(slack: Harness,
                                                                headers: object) -> None:
    v1 = slack.register("chat", "x" * 40)
    slack.promote_now("chat", v1)
    v2 = slack.register("chat", "x" * 50, v1)
    slack.promote_now("chat", v2)
    before = (slack.production("chat"), slack.events("chat"), len(slack.fake.calls))
    body = urlencode({"command": "/rollback", "text": "chat", "user_id": "UANA",
                      "channel_id": "CINC", "channel_name": "incidents", "team_id": "T1",
                      "trigger_id": "t-bad", "response_url": slack.fake.response_url("t-bad")})
    answer = slack.post(body, "application/x-www-form-urlencoded",
                        headers(body))  # type: ignore[operator]
    assert answer.status_code == 401
    slack.idle()
    assert (slack.production("chat"), slack.events("chat"), len(slack.fake.calls)) == before


def _rollback_body(slack: Harness, trigger: str) -> str:
    return urlencode({"command": "/rollback", "text": "chat", "user_id": "UANA",
                      "channel_id": "CINC", "channel_name": "incidents", "team_id": "T1",
                      "trigger_id": trigger, "response_url": slack.fake.response_url(trigger)})


@pytest.mark.parametrize(("timestamp", "signature"), [
    pytest.param(b"abc", b"v0=00", id="timestamp not a number"),
    pytest.param(b"1.5", b"v0=00", id="fractional timestamp"),
    pytest.param("\u0663\u0664".encode(), b"v0=00", id="non-ASCII digits"),
    pytest.param(b"NOW", "v0=\u00e9".encode() * 10, id="non-ASCII signature"),
    pytest.param(b"NOW", b"v1=" + b"0" * 64, id="another scheme"),
    pytest.param(b"9" * 40, b"v0=00", id="absurd timestamp"),
])
def test_a_malformed_signature_header_is_401_and_nothing_is_called(
        slack: Harness, timestamp: bytes, signature: bytes) -> None:
    """Nothing unverified has an effect: no play, and no reply to its response_url (which an
    attacker would point at an internal host)."""
    v1 = slack.register("chat", "x" * 40)
    slack.promote_now("chat", v1)
    v2 = slack.register("chat", "x" * 50, v1)
    slack.promote_now("chat", v2)
    before = (slack.production("chat"), slack.events("chat"), len(slack.fake.calls))
    now = str(int(time.time())).encode()
    answer = slack.http.post("/slack/events", content=_rollback_body(slack, "t-evil").encode(),
                             headers={"Content-Type": "application/x-www-form-urlencoded",
                                      "X-Slack-Request-Timestamp": timestamp.replace(b"NOW", now),
                                      "X-Slack-Signature": signature})
    assert answer.status_code == 401
    slack.idle()
    assert (slack.production("chat"), slack.events("chat"), len(slack.fake.calls)) == before
    assert slack.fake.responses("t-evil") == []


def test_a_body_over_the_limit_is_refused_before_it_is_read_or_verified(
        slack: Harness) -> None:
    body = _rollback_body(slack, "t-big") + "&pad=" + "x" * (1024 * 1024)
    answer = slack.post(body, "application/x-www-form-urlencoded", sign(body))
    assert answer.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while it streams in
        yield body.encode()

    answer = slack.http.post("/slack/events", content=chunks(), headers={
        "Content-Type": "application/x-www-form-urlencoded", **sign(body)})
    assert answer.status_code == 413
    slack.idle()
    assert slack.fake.responses("t-big") == [] and slack.production("chat") is None


def test_registry_help_answers_ephemerally_with_every_command(slack: Harness) -> None:
    sent = slack.command("/registry", "help", channel="CGEN", channel_name="general")
    assert sent.response.status_code == 200
    reply = slack.reply(sent)
    assert reply["response_type"] == "ephemeral"
    text = json.dumps(reply["blocks"])
    for command in ("/rollback", "/promote", "/experiment", "/audit", "/investigate",
                    "/rehearse", "/registry versions", "/registry gc"):
        assert command in text


def test_malformed_input_gets_a_usage_line_and_changes_nothing(slack: Harness) -> None:
    v1 = slack.register("chat", "x" * 40)
    slack.promote_now("chat", v1)
    before = slack.events("chat")
    posts = len(slack.fake.called("chat.postMessage"))
    for command, text, expected in [
        ("/rollback", "", "missing &lt;model&gt;"),  # escaped: Slack shows "<model>"
        ("/rollback", "chat sideways", "unexpected `sideways`"),
        ("/promote", "chat", "missing &lt;version&gt;"),
        ("/registry", "frobnicate", "unknown action"),
        ("/investigate", "chat since yesterday-ish", "is not a time"),
        ("/rollback", "nope", "not declared"),
    ]:
        reply = slack.reply(slack.command(command, text))
        assert reply["response_type"] == "ephemeral"
        assert expected in reply["text"], reply["text"]
        if expected not in ("not declared", "is not a time"):
            assert "usage:" in reply["text"] and "e.g." in reply["text"]
    slack.idle()
    assert slack.events("chat") == before
    assert len(slack.fake.called("chat.postMessage")) == posts


def test_url_verification_and_a_retried_event_is_handled_once(slack: Harness) -> None:
    body = json.dumps({"token": "legacy", "challenge": "abc123", "type": "url_verification"})
    answer = slack.post(body, "application/json", sign(body))
    assert answer.status_code == 200 and answer.json() == {"challenge": "abc123"}

    event = {"type": "app_home_opened", "user": "UANA", "channel": "D1", "tab": "home"}
    assert slack.event(event, "Ev-home").status_code == 200
    assert slack.event(event, "Ev-home", headers={"X-Slack-Retry-Num": "1",
                                                  "X-Slack-Retry-Reason": "http_timeout"}
                       ).status_code == 200
    slack.fake.wait_for(lambda: slack.fake.called("views.publish"))
    slack.idle()
    assert len(slack.fake.called("views.publish")) == 1


def test_a_retried_command_has_exactly_one_effect(slack: Harness) -> None:
    v1 = slack.register("chat", "x" * 40)
    slack.promote_now("chat", v1)
    v2 = slack.register("chat", "x" * 50, v1)
    slack.promote_now("chat", v2)
    first = slack.command("/rollback", "chat", trigger="t-once")
    retry = slack.command("/rollback", "chat", trigger="t-once",
                          headers={"X-Slack-Retry-Num": "1"})
    assert first.response.status_code == retry.response.status_code == 200
    slack.idle()
    assert slack.production("chat") == v1.id, (slack.fake.responses("t-once"), slack.fake.summary())
    assert slack.events("chat") == 3  # two promotions, one rollback
    assert len(slack.fake.called("chat.postMessage", channel="CINC")) == 2  # record + thread


def test_missing_secrets_are_named_at_start_up() -> None:
    with pytest.raises(ConfigError) as caught:
        load_slack_settings({"SLACK_BOT_TOKEN": "xoxb-1"})
    assert "SLACK_SIGNING_SECRET is not set" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        load_slack_settings({}, socket_mode=True)
    assert "SLACK_BOT_TOKEN and SLACK_APP_TOKEN are not set" in str(caught.value)
    settings = load_slack_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s",
                                    "SLACK_API_URL": "http://127.0.0.1:9/api"})
    assert settings.api_url == "http://127.0.0.1:9/api/" and "xoxb" not in repr(settings)


def test_slack_down_at_start_up_degrades_slack_but_the_api_serves(tmp_path: Path) -> None:
    """auth.test answers 503 from start-up until the test lets it answer: the server starts
    anyway, /readyz is 200 naming Slack degraded, the metric says 0, the API registers; once
    Slack answers, both say so without a restart."""
    fake = workspace_fake()
    fake.outage("auth.test", times=10_000)
    playbook = bootstrap.build(Settings(migrate=True, config_path=write_workspace(tmp_path),
                                        home=tmp_path,
                                        database_url=f"sqlite:///{tmp_path / 'p.db'}",
                                        actor="test"))
    _, secret = create_token(playbook.ctx.uow, name="serving", scopes=["register"],
                             created_by="test", now=playbook.ctx.clock.now(),
                             make_id=playbook.ctx.make_id)
    asgi = create_asgi(playbook, with_slack=False)
    mount(asgi, playbook, SlackSettings(TOKEN, "secret", api_url=fake.api_url))
    server = Server(asgi).start()
    try:
        ready = httpx.get(f"{server.url}/readyz")
        assert ready.status_code == 200
        slack = ready.json()["dependencies"]["slack"]
        assert slack.startswith("degraded: Slack answered 503 service_unavailable"), slack
        assert "playbook_slack_up 0" in httpx.get(f"{server.url}/metrics").text
        made = httpx.post(f"{server.url}/v1/models/chat/versions", json={
            "components": {"prompt": "hello"}, "owner": "UANA", "reason": "r", "root": True},
            headers={"Authorization": f"Bearer {secret}"})
        assert made.status_code == 201, made.text

        def slack_up() -> bool:
            return bool(httpx.get(f"{server.url}/readyz").json()["dependencies"]["slack"]
                        == "ok")

        assert not slack_up()
        fake.recover("auth.test")
        until(slack_up, "the Slack link to try auth.test again until Slack answers")
        assert [c.refused for c in fake.called("auth.test")][-1] is None  # the answer
        assert "playbook_slack_up 1" in httpx.get(f"{server.url}/metrics").text
    finally:
        server.stop()
        playbook.close()
        fake.stop()


def test_a_token_slack_refuses_stops_start_up(tmp_path: Path) -> None:
    fake = workspace_fake()
    fake.fail("auth.test", "invalid_auth")
    playbook = bootstrap.build(Settings(migrate=True, config_path=write_workspace(tmp_path),
                                        home=tmp_path,
                                        database_url=f"sqlite:///{tmp_path / 'p.db'}",
                                        actor="test"))
    try:
        asgi = create_asgi(playbook, with_slack=False)
        with pytest.raises(ConfigError, match="Slack refused SLACK_BOT_TOKEN"):
            mount(asgi, playbook, SlackSettings(TOKEN, "secret", api_url=fake.api_url))
    finally:
        playbook.close()
        fake.stop()
