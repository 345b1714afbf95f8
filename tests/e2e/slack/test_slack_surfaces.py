"""One play, one outcome: the same play started from Slack, over HTTP and from the CLI writes
the same events, moves the same tag and brings the same Slack posts and card updates."""

from __future__ import annotations

import json
from typing import Any

import pytest
from slack_harness import Harness

from bot.cli.main import main
from bot.slack.blocks.approval import APPROVE

SURFACES = ["slack", "http", "cli"]


def _cli(slack: Harness, capsys: pytest.CaptureFixture[str], user: str, *argv: str) -> None:
    settings = slack.playbook.settings
    code = main(["--config", str(settings.config_path), "--database", settings.database_url,
                 "--home", str(settings.home), "--as", user, *argv])
    out, err = capsys.readouterr()
    assert code == 0, out + err


def _events_after(slack: Harness, seq: int) -> list[str]:
    with slack.playbook.ctx.uow() as uow:
        return [type(e).__name__ for _, e in uow.outbox.events(after_seq=seq, limit=1000)]


def _last_seq(slack: Harness) -> int:
    with slack.playbook.ctx.uow() as uow:
        written = uow.outbox.events(limit=100_000)
    return written[-1][0] if written else 0


def _shape(call: Any) -> tuple[str, bool, bool]:
    """What a post is, whoever caused it: its channel, threaded or not, with buttons or not."""
    blocks = call.params.get("blocks") or []
    return (call.params["channel"], bool(call.params.get("thread_ts")),
            any(b["type"] == "actions" for b in blocks))


@pytest.mark.parametrize("surface", SURFACES)
def test_rollback(slack: Harness, surface: str, capsys: pytest.CaptureFixture[str]) -> None:
    v1 = slack.register("chat", "x" * 40)
    slack.promote_now("chat", v1)
    v2 = slack.register("chat", "x" * 60, v1, score=0.9)
    slack.promote_now("chat", v2)
    seq, posts = _last_seq(slack), len(slack.fake.called("chat.postMessage"))

    if surface == "slack":
        slack.command("/rollback", "chat because answers are empty")
    elif surface == "http":
        answer = slack.http.post("/v1/models/chat/rollback", headers=slack.bearer("UANA"),
                                 json={"symptom": "answers are empty"})
        assert answer.status_code == 200, answer.text
    else:
        _cli(slack, capsys, "UANA", "rollback", "chat", "--symptom", "answers are empty")
    # A CLI process's events reach the server on its next poll: wait for the last post.
    slack.fake.wait_for(lambda: len(slack.fake.called("chat.postMessage")) >= posts + 2)
    slack.idle()

    assert slack.production("chat") == v1.id
    assert _events_after(slack, seq) == ["TagMoved", "IncidentOpened", "IncidentConfirmed"]
    record, confirm = slack.fake.called("chat.postMessage")[posts:]
    assert [_shape(record), _shape(confirm)] == [("CINC", False, False), ("CINC", True, False)]
    assert f"{v2.short}` → `{v1.short}" in json.dumps(record.params["blocks"],
                                                      ensure_ascii=False)
    assert "answers are empty" in json.dumps(record.params["blocks"])
    assert "Confirmation eval passed" in confirm.params["text"]


@pytest.mark.parametrize("surface", SURFACES)
def test_high_stakes_promotion_and_its_approval(slack: Harness, surface: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    old = slack.register("risky", "p" * 40)
    slack.promote_approved("risky", old, "UBEN")
    candidate = slack.register("risky", "p" * 55, old)
    seq, posts = _last_seq(slack), len(slack.fake.called("chat.postMessage"))
    updates = len(slack.fake.called("chat.update"))

    if surface == "slack":
        slack.reply(slack.command("/promote", f"risky {candidate.short} because better",
                                  channel="CREL", channel_name="releases"))
    elif surface == "http":
        answer = slack.http.post("/v1/models/risky/promote", headers=slack.bearer("UANA"),
                                 json={"version": candidate.short, "reason": "better"})
        assert answer.status_code == 202, answer.text
    else:
        _cli(slack, capsys, "UANA", "promote", "risky", candidate.short, "--reason", "better")
    slack.fake.wait_for(lambda: len(slack.fake.called("chat.postMessage")) > posts)
    slack.idle()
    (card,) = slack.fake.called("chat.postMessage")[posts:]
    assert _shape(card) == ("#releases", False, True)
    assert _events_after(slack, seq) == ["PromotionRequested"]
    with slack.playbook.ctx.uow() as uow:
        (request,) = uow.approvals.pending("risky")

    seq = _last_seq(slack)
    if surface == "slack":
        slack.click(APPROVE, request.id, user="UBEN")
    elif surface == "http":
        done = slack.http.post(f"/v1/approvals/{request.id}/approve",
                               headers=slack.bearer("UBEN"))
        assert done.status_code == 200, done.text
    else:
        _cli(slack, capsys, "UBEN", "approve", request.id)
    slack.fake.wait_for(lambda: len(slack.fake.called("chat.update")) > updates)
    slack.idle()
    assert slack.production("risky") == candidate.id
    assert _events_after(slack, seq) == ["TagMoved", "ApprovalGiven", "RequestDecided"]
    (decided,) = slack.fake.called("chat.update")[updates:]
    assert not any(b["type"] == "actions" for b in decided.params["blocks"])
    assert "Approved by <@UBEN>" in json.dumps(decided.params["blocks"])
    assert len(slack.fake.called("chat.postMessage")) == posts + 1  # no other post
