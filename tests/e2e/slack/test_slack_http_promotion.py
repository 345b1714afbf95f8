"""A high-stakes promotion asked for over the HTTP API gets its approval card in Slack too."""

from __future__ import annotations

from slack_harness import Harness

from bot.api.access import create_token
from bot.slack.blocks.approval import APPROVE
from storage.api_uow import api_uow_factory


def test_an_http_promotion_posts_the_card_and_the_button_decides_it(slack: Harness) -> None:
    old = slack.register("risky", "p" * 40)
    slack.promote_approved("risky", old, "UBEN")
    candidate = slack.register("risky", "p" * 55, old)
    _, secret = create_token(api_uow_factory(slack.playbook.engine), name="ci-deploy",
                             scopes=["admin"], created_by="test", now=slack.clock.now(),
                             make_id=slack.playbook.ctx.make_id)
    posts = len(slack.fake.called("chat.postMessage"))

    answer = slack.http.post("/v1/models/risky/promote", json={"version": candidate.short},
                             headers={"Authorization": f"Bearer {secret}"})
    assert answer.status_code == 202, answer.text
    request_id = answer.json()["request"]["id"]
    assert slack.production("risky") == old.id  # nothing moves before an approver says so

    cards = slack.fake.called("chat.postMessage")[posts:]
    assert len(cards) == 1 and cards[0].params["channel"] == "#releases"
    assert request_id in str(cards[0].params["blocks"])

    sent = slack.click(APPROVE, request_id, user="UCHO")
    assert sent.response.status_code == 200
    slack.fake.wait_for(lambda: slack.production("risky") == candidate.id)
    slack.idle()
    assert slack.production("risky") == candidate.id
