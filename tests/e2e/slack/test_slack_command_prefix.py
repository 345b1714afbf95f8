"""SLACK_COMMAND_PREFIX: a workspace where `/rollback` is another app's names Playbook's
commands `/pb-rollback`, ...; the app answers those, and everything it says names them so."""

from __future__ import annotations

import json
import re

import pytest
from slack_harness import Harness

from bot.scheduler.service import Scheduler
from core.domain import Version

prefixed = pytest.mark.parametrize("command_prefix", ["pb-"])
BARE = re.compile(r"/(rollback|promote|experiment|audit|investigate|rehearse|registry)\b")
NAMES = ("rollback", "promote", "experiment", "audit", "investigate", "rehearse", "registry")


def _history(slack: Harness) -> tuple[Version, Version]:
    v1 = slack.register("chat", "x" * 40)
    slack.promote_now("chat", v1)
    v2 = slack.register("chat", "x" * 60, v1, score=0.9)
    slack.promote_now("chat", v2)
    return v1, v2


def _said(slack: Harness) -> str:
    """Everything the bot said: replies, posts, updates and the App Home."""
    return "\n".join(json.dumps(c.params) for c in slack.fake.calls
                     if c.method in ("response", "chat.postMessage", "chat.update",
                                     "chat.postEphemeral", "views.publish"))


@prefixed
def test_the_prefixed_command_rolls_back_and_the_bare_one_finds_no_listener(
        slack: Harness) -> None:
    v1, v2 = _history(slack)
    events, calls = slack.events("chat"), len(slack.fake.calls)

    bare = slack.command("/rollback", "chat because answers are empty")
    assert bare.response.status_code == 404  # Bolt: no listener for it
    slack.idle()
    assert slack.production("chat") == v2.id and slack.events("chat") == events
    assert slack.fake.responses(bare.trigger) == [] and len(slack.fake.calls) == calls

    sent = slack.command("/pb-rollback", "chat because answers are empty")
    assert sent.response.status_code == 200
    slack.idle()
    assert slack.production("chat") == v1.id
    assert "Rolled back" in slack.reply(sent)["text"]
    record = slack.fake.called("chat.postMessage", channel="CINC")[0]
    assert "answers are empty" in json.dumps(record.params)


@prefixed
def test_refusals_help_reports_and_home_name_the_prefixed_commands(slack: Harness) -> None:
    slack.regressed()
    wrong_channel = slack.reply(slack.command("/pb-rollback", "chat", channel="CGEN",
                                              channel_name="general"))
    assert "`/pb-rollback chat`" in json.dumps(wrong_channel)
    for name in NAMES:  # no text: each refuses with its usage line
        reply = slack.reply(slack.command(f"/pb-{name}", "", channel="CGEN",
                                          channel_name="general"))
        assert reply["response_type"] == "ephemeral"
        assert f"/pb-{name}" in json.dumps(reply), (name, reply)
    bad_limit = slack.reply(slack.command("/pb-registry", "versions chat limit lots"))
    assert bad_limit["text"].startswith("/pb-registry versions: limit `lots`")
    assert "e.g. `/pb-registry versions chat limit 5`" in json.dumps(bad_limit)

    helped = json.dumps(slack.reply(slack.command("/pb-registry", "help")))
    for name in NAMES:
        assert f"`/pb-{name} " in helped, name
    assert "/pb-registry history <model>" in helped and "/pb-registry digest" in helped

    report = slack.reply(slack.command("/pb-investigate", "chat"), 2)
    assert "Roll back with the button, or `/pb-rollback chat`" in json.dumps(report)

    slack.event({"type": "app_home_opened", "user": "UANA", "channel": "D1", "tab": "home"})
    home = slack.fake.wait_for(lambda: slack.fake.called("views.publish"))
    assert "`/pb-registry help`" in json.dumps(home[-1].params)

    slack.reply(slack.command("/pb-registry", "digest", channel="CREL",
                              channel_name="releases"))
    Scheduler(slack.playbook).fire("rehearsal-check", slack.clock.now())
    slack.idle()
    (reminder,) = slack.fake.called("chat.postMessage", channel="CINC")
    assert "Or type `/pb-rehearse chat`" in json.dumps(reminder.params)
    said = _said(slack)
    assert BARE.findall(said) == [], BARE.findall(said)


def test_without_a_prefix_the_commands_keep_their_names(slack: Harness) -> None:
    _history(slack)
    helped = json.dumps(slack.reply(slack.command("/registry", "help")))
    assert "`/rollback <model>" in helped and "/pb-" not in helped
    assert slack.command("/pb-rollback", "chat").response.status_code == 404
