"""One workspace per Playbook: signed requests from another team (or, with an org-wide install
on Enterprise Grid, another org) are refused with one log line and change nothing; the same
from this workspace works. Before auth.test has answered, nothing is accepted."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from slack_fake_api import FakeSlack
from slack_harness import SECRET, TOKEN, Harness, Server, sign, workspace_fake, write_workspace
from testkit.clock import TestClock
from testkit.waiting import until

from bot import bootstrap
from bot.server import create_asgi
from bot.settings import Settings
from bot.slack.blocks.approval import APPROVE
from bot.slack.link import Workspace
from bot.slack.workspace_rule import ELSEWHERE, NOT_YET, refusal

Serve = Callable[[Callable[[FakeSlack], None]], Harness]


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.LogCaptureFixture]:
    """The Slack app's log lines, each once, even after a CLI test in this process configured
    logging (its loggers then stop propagating to the root, where caplog listens)."""
    logger = logging.getLogger("playbook.slack")
    monkeypatch.setattr(logger, "propagate", False)
    logger.addHandler(caplog.handler)
    try:
        yield caplog
    finally:
        logger.removeHandler(caplog.handler)


@pytest.fixture
def serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Serve]:
    """The `slack` fixture's server, with the stand-in prepared before the app starts
    (what auth.test answers, or that it fails)."""
    with ExitStack() as stack:

        def start(prepare: Callable[[FakeSlack], None]) -> Harness:
            fake = workspace_fake(start=False)
            monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
            monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
            monkeypatch.setenv("SLACK_API_URL", fake.api_url)
            prepare(fake)
            fake.start()
            stack.callback(fake.stop)
            home, clock = tmp_path / "home", TestClock()
            playbook = bootstrap.build(Settings(
                migrate=True, config_path=write_workspace(tmp_path), home=home,
                database_url=f"sqlite:///{home / 'playbook.db'}", actor="test"), clock=clock)
            stack.callback(playbook.close)
            asgi = create_asgi(playbook, scheduler=False)
            stack.callback(asgi.state.slack.close)
            server = Server(asgi).start()
            stack.callback(server.stop)
            harness = Harness(playbook, fake, server.url, clock, asgi.state.slack,
                              asgi.state.outbox)
            stack.callback(harness.http.close)
            return harness

        yield start


# -- requests as Slack sends them from some team ---------------------------------------------

def _command(slack: Harness, command: str, text: str, trigger: str, *, team: str,
             enterprise: str | None = None, org_wide: bool = False) -> httpx.Response:
    fields = {
        "token": "legacy", "team_id": team, "team_domain": "other", "channel_id": "CINC",
        "channel_name": "incidents", "user_id": "UANA", "user_name": "uana",
        "command": command, "text": text, "api_app_id": "A1",
        "is_enterprise_install": "true" if org_wide else "false",
        "response_url": slack.fake.response_url(trigger), "trigger_id": trigger}
    if enterprise:
        fields |= {"enterprise_id": enterprise, "enterprise_name": "Org"}
    body = urlencode(fields)
    return slack.post(body, "application/x-www-form-urlencoded", sign(body))


def _click(slack: Harness, action_id: str, value: str, trigger: str, *, team: str,
           user: str) -> httpx.Response:
    payload = {
        "type": "block_actions", "api_app_id": "A1", "token": "legacy",
        "team": {"id": team, "domain": "other"}, "user": {"id": user, "team_id": team},
        "container": {"type": "message", "message_ts": "1700000000.000001",
                      "channel_id": "CREL", "is_ephemeral": False},
        "channel": {"id": "CREL", "name": "releases"}, "trigger_id": trigger,
        "message": {"type": "message", "ts": "1700000000.000001", "text": "", "blocks": []},
        "response_url": slack.fake.response_url(trigger), "is_enterprise_install": False,
        "actions": [{"type": "button", "action_id": action_id, "block_id": "b",
                     "value": value, "action_ts": f"{time.time():.6f}"}]}
    body = urlencode({"payload": json.dumps(payload)})
    return slack.post(body, "application/x-www-form-urlencoded", sign(body))


def _home_opened(slack: Harness, *, team: str) -> httpx.Response:
    body = json.dumps({
        "token": "legacy", "team_id": team, "api_app_id": "A1", "type": "event_callback",
        "event": {"type": "app_home_opened", "user": "UANA", "tab": "home"},
        "event_id": f"Ev-{team}", "event_time": int(time.time()),
        "authorizations": [{"team_id": team, "user_id": "UBOT", "is_bot": True}]})
    return slack.post(body, "application/json", sign(body))


def _refused_line(log: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in log.records if r.getMessage().startswith("refused Slack")]


# -- the tests ----------------------------------------------------------------------------------

def test_a_command_from_another_team_is_refused_and_changes_nothing(
        slack: Harness, log: pytest.LogCaptureFixture) -> None:
    v1, v2 = slack.chain()
    calls = len(slack.fake.calls)
    answer = _command(slack, "/rollback", "chat", "t-other", team="T2")
    slack.idle()
    assert answer.status_code == 200 and answer.text == ELSEWHERE  # shown to its user
    assert slack.production("chat") == v2.id and slack.events("chat") == 2
    assert slack.fake.calls[calls:] == []  # no post, no reply to its response_url
    assert _refused_line(log) == ["refused Slack /rollback from team T2: this Playbook "
                                  "serves team T1 only; nothing of it was run"]

    answer = _command(slack, "/rollback", "chat", "t-ours", team="T1")
    assert answer.status_code == 200 and answer.text == ""
    slack.idle()
    assert slack.production("chat") == v1.id
    assert slack.fake.responses("t-ours")
    assert len(_refused_line(log)) == 1


def test_a_click_from_another_team_is_refused_and_changes_nothing(
        slack: Harness, log: pytest.LogCaptureFixture) -> None:
    old, candidate, request = slack.requested()
    calls = len(slack.fake.calls)
    answer = _click(slack, APPROVE, request.id, "c-other", team="T2", user="UBEN")
    slack.idle()
    assert answer.status_code == 200 and answer.text == ""
    assert slack.production("risky") == old.id
    assert slack.fake.calls[calls:] == []  # not even asked who may approve
    assert _refused_line(log) == ["refused Slack block_actions from team T2: this Playbook "
                                  "serves team T1 only; nothing of it was run"]

    assert _click(slack, APPROVE, request.id, "c-ours", team="T1",
                  user="UBEN").status_code == 200
    slack.idle()
    assert slack.production("risky") == candidate.id


def test_an_event_from_another_team_is_refused_and_publishes_nothing(
        slack: Harness, log: pytest.LogCaptureFixture) -> None:
    assert _home_opened(slack, team="T2").status_code == 200  # else Slack retries it
    slack.idle()
    assert slack.fake.called("views.publish") == []
    assert _refused_line(log) == ["refused Slack event app_home_opened from team T2: this "
                                  "Playbook serves team T1 only; nothing of it was run"]
    assert _home_opened(slack, team="T1").status_code == 200
    slack.fake.wait_for(lambda: slack.fake.called("views.publish"))


def test_an_org_wide_install_serves_its_org_and_no_other(
        serve: Serve, log: pytest.LogCaptureFixture) -> None:
    """Enterprise Grid, installed org-wide: any workspace of org E1, nothing from org E2."""
    slack = serve(lambda fake: fake.identity.update(
        {"team_id": "E1", "enterprise_id": "E1", "is_enterprise_install": True}))
    _, v2 = slack.chain()
    answer = _command(slack, "/rollback", "chat", "t-e2", team="T7", enterprise="E2",
                      org_wide=True)
    slack.idle()
    assert answer.text == ELSEWHERE and slack.production("chat") == v2.id
    assert slack.fake.responses("t-e2") == []
    assert _refused_line(log) == ["refused Slack /rollback from team T7 of org E2: this "
                                  "Playbook serves org E1 (org-wide install) only; nothing "
                                  "of it was run"]

    answer = _command(slack, "/rollback", "chat", "t-e1", team="T8", enterprise="E1",
                      org_wide=True)
    slack.idle()
    assert answer.text == "" and slack.production("chat") != v2.id
    assert slack.fake.responses("t-e1")


def test_before_slack_answers_auth_test_every_request_is_refused_saying_so(
        serve: Serve, log: pytest.LogCaptureFixture) -> None:
    """Slack down at start-up: which workspace the token belongs to is not known, so no
    request is accepted (not even one from the right team) until auth.test answers."""
    slack = serve(lambda fake: fake.outage("auth.test", times=10_000))
    assert slack.rt.link is not None and not slack.rt.link.up
    _, v2 = slack.chain()
    answer = _command(slack, "/rollback", "chat", "t-early", team="T1")
    slack.idle()
    assert answer.status_code == 200 and answer.text == NOT_YET
    assert slack.production("chat") == v2.id and slack.fake.responses("t-early") == []
    assert _refused_line(log) == [
        "refused Slack /rollback from team T1: Slack has not answered auth.test since "
        "start-up, so the workspace this Playbook serves is not known yet; nothing of it "
        "was run"]

    slack.fake.recover("auth.test")
    link = slack.rt.link
    until(lambda: link.up, "the Slack link to reach auth.test")
    answer = _command(slack, "/rollback", "chat", "t-later", team="T1")
    slack.idle()
    assert answer.text == "" and slack.production("chat") != v2.id


@pytest.mark.parametrize(("ours", "team", "enterprise", "accepted"), [
    (Workspace("T1"), "T1", None, True),
    (Workspace("T1"), "T2", None, False),
    (Workspace("T1"), None, None, False),
    (Workspace("T1", "E1"), "T1", "E1", True),  # a workspace of a Grid org
    (Workspace("T1", "E1"), "T2", "E1", False),  # another workspace of the same org
    (Workspace("T1", "E1"), "T1", "E2", False),
    (Workspace("E1", "E1", org_wide=True), "T5", "E1", True),  # any workspace of the org
    (Workspace("E1", "E1", org_wide=True), None, "E1", True),  # org-wide payloads may omit it
    (Workspace("E1", "E1", org_wide=True), "T5", "E2", False),
    (Workspace("E1", "E1", org_wide=True), "T5", None, False),
    (None, "T1", None, False),  # not known yet
])
def test_the_rule(ours: Workspace | None, team: str | None, enterprise: str | None,
                  accepted: bool) -> None:
    assert (refusal(ours, team, enterprise) is None) is accepted


def test_slack_checking_the_url_needs_no_workspace(slack: Harness) -> None:
    body = json.dumps({"token": "legacy", "challenge": "c-42", "type": "url_verification"})
    answer = slack.post(body, "application/json", sign(body))
    assert answer.status_code == 200 and "c-42" in answer.text
