"""A high-stakes promotion asked for over the HTTP API gets its approval card in Slack too."""

from __future__ import annotations

import json

from slack_harness import Harness

from bot.slack.blocks.approval import APPROVE


def test_an_http_promotion_posts_the_card_and_the_button_decides_it(slack: Harness) -> None:
    old = slack.register("risky", "p" * 40)
    slack.promote_approved("risky", old, "UBEN")
    candidate = slack.register("risky", "p" * 55, old)
    auth = slack.bearer("ci-deploy")
    posts = len(slack.fake.called("chat.postMessage"))

    answer = slack.http.post("/v1/models/risky/promote", json={"version": candidate.short},
                             headers=auth)
    assert answer.status_code == 202, answer.text
    request_id = answer.json()["request"]["id"]
    assert slack.production("risky") == old.id  # nothing moves before an approver says so
    slack.idle()

    cards = slack.fake.called("chat.postMessage")[posts:]
    assert len(cards) == 1 and cards[0].params["channel"] == "#releases"
    assert request_id in str(cards[0].params["blocks"])

    sent = slack.click(APPROVE, request_id, user="UCHO")
    assert sent.response.status_code == 200
    slack.fake.wait_for(lambda: slack.production("risky") == candidate.id)
    slack.idle()
    assert slack.production("risky") == candidate.id


def test_a_request_decided_over_http_updates_its_card(slack: Harness) -> None:
    old = slack.register("risky", "p" * 40)
    slack.promote_approved("risky", old, "UBEN")
    candidate = slack.register("risky", "p" * 55, old)
    auth = {}
    for name in ("ci-deploy", "UCHO"):
        auth[name] = slack.bearer(name)
    asked = slack.http.post("/v1/models/risky/promote", json={"version": candidate.short},
                            headers=auth["ci-deploy"])
    request_id = asked.json()["request"]["id"]
    slack.idle()
    updates = len(slack.fake.called("chat.update"))

    done = slack.http.post(f"/v1/approvals/{request_id}/approve", headers=auth["UCHO"])
    assert done.status_code == 200 and done.json()["status"] == "approved", done.text
    slack.idle()
    card = slack.fake.called("chat.update")[updates:]
    assert len(card) == 1 and "Approved by" in json.dumps(card[0].params["blocks"])
    assert not any(b["type"] == "actions" for b in card[0].params["blocks"])


def test_a_clearly_worse_canary_shows_on_the_card_and_refuses_the_button(
        slack: Harness) -> None:
    old = slack.register("risky", "p" * 40)
    slack.promote_approved("risky", old, "UBEN")
    candidate = slack.register("risky", "p" * 55, old)
    auth = slack.bearer("ci-deploy")
    answer = slack.http.post("/v1/models/risky/promote", headers=auth,
                             json={"version": candidate.short, "canary_fraction": 0.05})
    assert answer.status_code == 202, answer.text
    with slack.playbook.ctx.uow() as uow:
        (request,) = uow.approvals.pending("risky")
    for version, prefix, errors in ((old, "p", 0), (candidate, "c", 12)):
        records = [{"request_id": f"{prefix}{i}", "model": "risky", "version": version.id,
                    "error": i < errors, "latency_ms": 100.0} for i in range(60)]
        assert slack.http.post("/v1/attributions", json=records, headers=auth).status_code \
            == 200

    sent = slack.click(APPROVE, request.id, user="UCHO")
    assert sent.response.status_code == 200
    slack.fake.wait_for(lambda: bool(slack.fake.responses(sent.trigger)))
    slack.idle()
    (refusal,) = slack.fake.responses(sent.trigger)
    assert "worse" in json.dumps(refusal)
    assert slack.production("risky") == old.id
    card = slack.fake.called("chat.update")[-1]
    assert "clearly worse than production" in json.dumps(card.params["blocks"])
