"""What the Web API client retries, and where it waits: a 429's Retry-After and a 500/503's
backoff are waited out on threads whose request is already acknowledged, never before an ack.

"Promptly" is shown without a clock: the stand-in answers 429 to every Web API method for as
long as the test holds its window, so an ack that waited for a Web API call could only come
after that call had given up (used all its retries); the ack arrives with the window still
held and no call given up, then the test lifts the window and what was asked for lands.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from slack_fake_api import FakeSlack
from slack_harness import Harness

from bot.slack.app import RATE_LIMIT_RETRIES
from bot.slack.blocks.approval import APPROVE
from core.plays.attribute import attribute

RETRY_AFTER = 2  # seconds, as Slack says it; only the client's own waits take this long


def _given_up(fake: FakeSlack) -> list[str]:
    """Calls the stand-in refused with 429 more often than the client retries one call: calls
    that gave up. A retry repeats its call exactly, so equal calls are one call's attempts."""
    tries = Counter((c.method, json.dumps(c.params, sort_keys=True, default=str))
                    for c in list(fake.calls) if c.refused == "ratelimited")
    return [method for (method, _), n in tries.items() if n > RATE_LIMIT_RETRIES]


def _acked_within_the_window(slack: Harness, answer: Any) -> None:
    assert answer.status_code == 200 and answer.text == ""  # Bolt's ack, nothing else
    assert slack.fake.limiting, "the window is the test's to lift"
    assert _given_up(slack.fake) == [], "the ack waited until a Web API call gave up"


def test_a_command_is_acked_while_slack_rate_limits_every_method(slack: Harness) -> None:
    """/audit posts its summary from the listener itself, right after the ack."""
    _, v2 = slack.chain()
    attribute([{"request_id": "req-7", "model": "chat", "version": v2.short}],
              slack.playbook.ctx)
    slack.fake.limit(RETRY_AFTER)  # every Web API method, auth.test too
    sent = slack.command("/audit", "req-7", channel="CGEN", channel_name="general")
    _acked_within_the_window(slack, sent.response)

    # The listener's post met the window (it came after the ack), and waits it out.
    slack.fake.wait_for(lambda: slack.fake.called("chat.postMessage", channel="CGEN"))
    slack.fake.lift()
    slack.idle()
    posts = slack.fake.called("chat.postMessage", channel="CGEN")
    assert [c.refused for c in posts][-1] is None
    assert {c.refused for c in posts[:-1]} == {"ratelimited"}
    assert v2.short in posts[-1].params["text"]
    assert [c for c in slack.fake.called("files.completeUploadExternal") if c.refused is None]


def test_a_button_click_is_acked_while_slack_rate_limits_every_method(slack: Harness) -> None:
    """Approve asks Slack who may approve (conversations.members) after the ack."""
    _, candidate, request = slack.requested()
    slack.fake.limit(RETRY_AFTER)
    sent = slack.click(APPROVE, request.id, user="UBEN")
    _acked_within_the_window(slack, sent.response)

    slack.fake.wait_for(lambda: slack.fake.called("conversations.members"))
    slack.fake.lift()
    slack.idle()
    assert slack.production("risky") == candidate.id
    assert slack.fake.responses(sent.trigger) == []  # no refusal


def test_an_event_is_acked_while_slack_rate_limits_views_publish(slack: Harness) -> None:
    slack.fake.limit(RETRY_AFTER, "views.publish", "auth.test")
    answer = slack.event({"type": "app_home_opened", "user": "UANA", "tab": "home"})
    _acked_within_the_window(slack, answer)
    slack.fake.wait_for(lambda: slack.fake.called("views.publish"))
    slack.fake.lift()
    slack.idle()
    assert [c.refused for c in slack.fake.called("views.publish")][-1] is None


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_on_a_post_is_retried_and_the_post_lands_once(slack: Harness,
                                                                     status: int) -> None:
    """The incident record meets one 500/503 and is posted by the client's own retry: the
    outbox's clock (5 s to its first retry) never moves here, and nothing is left in it."""
    v1, _ = slack.chain()
    slack.fake.outage("chat.postMessage", times=1, status=status)
    slack.command("/rollback", "chat")
    slack.idle()
    assert slack.production("chat") == v1.id
    failed, record, confirm = slack.fake.called("chat.postMessage", channel="CINC")
    assert failed.refused in {"internal_error", "service_unavailable"}
    assert record.refused is None and record.params["blocks"] == failed.params["blocks"]
    assert confirm.refused is None and confirm.params["thread_ts"]
    landed = [c for c in slack.fake.called("chat.postMessage")
              if c.refused is None and c.params["blocks"] == record.params["blocks"]]
    assert len(landed) == 1
    with slack.playbook.ctx.uow() as uow:
        assert uow.outbox.list() == []
