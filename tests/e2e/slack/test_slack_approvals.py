"""/promote and the approval card: every rule of the second approver, through real clicks."""

from __future__ import annotations

import json
import threading
from typing import Any

from slack_harness import Harness

from bot.slack.blocks.approval import APPROVE, REJECT
from core.domain import Version


def _blocks(call: Any) -> str:
    return json.dumps(call.params.get("blocks"))


def _has_buttons(call: Any) -> bool:
    return any(b["type"] == "actions" for b in call.params["blocks"])


def _request(slack: Harness, model: str, version: Version, user: str = "UANA",
             because: str = "better recall") -> tuple[str, Any]:
    """Ask for a promotion from Slack; answers (request id, the card's post)."""
    reply = slack.reply(slack.command("/promote", f"{model} {version.short} because {because}",
                                      user=user, channel="CGEN", channel_name="general"))
    assert reply["response_type"] == "ephemeral" and "Approval requested" in reply["text"]
    slack.idle()  # the card is the notifier's, from the play's PromotionRequested event
    card = slack.fake.called("chat.postMessage")[-1]
    request_id = next(b for b in card.params["blocks"] if b["type"] == "actions"
                      )["elements"][0]["value"]
    return request_id, card


def _click(slack: Harness, action: str, request_id: str, user: str) -> dict[str, Any] | None:
    """Click a card button; answers the ephemeral refusal, if any (None when accepted)."""
    sent = slack.click(action, request_id, user=user)
    assert sent.response.status_code == 200
    slack.idle()
    replies = slack.fake.responses(sent.trigger)
    return replies[0] if replies else None


def _card_now(slack: Harness, card: Any) -> Any:
    """The card as it shows now: its last update, or the post when never updated."""
    updates = slack.fake.called("chat.update", ts=_ts(slack, card))
    return updates[-1] if updates else card


def _ts(slack: Harness, card: Any) -> str:
    (request_id,) = [b["elements"][0]["value"] for b in card.params["blocks"]
                     if b["type"] == "actions"]
    where = slack.rt.cards.where(request_id)
    assert where is not None
    return where[1]


def _with_production(slack: Harness, model: str) -> tuple[Version, Version]:
    old = slack.register(model, "p" * 40)
    if model == "risky":
        slack.promote_approved(model, old, "UBEN")
    candidate = slack.register(model, "p" * 55, old)
    slack.idle()  # the approved request's card is posted and decided by now
    return old, candidate


def test_low_stakes_promotes_at_once_and_announces_it(slack: Harness) -> None:
    v1 = slack.register("chat", "x" * 40)
    sent = slack.command("/promote", f"chat {v1.short} because first", channel="CGEN",
                         channel_name="general")
    assert "Promoted" in slack.reply(sent)["text"]
    assert slack.production("chat") == v1.id
    slack.idle()
    (post,) = slack.fake.called("chat.postMessage", channel="CREL")
    assert f"Promoted {v1.short} to production" in post.params["text"]


def test_the_card_shows_candidate_production_delta_changes_requester_reason_expiry(
        slack: Harness) -> None:
    old, candidate = _with_production(slack, "risky")
    request_id, card = _request(slack, "risky", candidate)
    assert card.params["channel"] == "#releases"  # as configured; Slack answers its id
    assert slack.rt.cards.where(request_id) == ("CREL", _ts(slack, card))
    text = _blocks(card)
    for expected in (candidate.short, old.short, "score 0.55", "score 0.4", "+0.15",
                     "prompt", "<@UANA>", "better recall", "Expires", "<!date^", request_id):
        assert expected in text, expected
    actions = next(b for b in card.params["blocks"] if b["type"] == "actions")["elements"]
    approve_button, reject_button = actions
    assert approve_button["style"] == "primary" and approve_button["action_id"] == APPROVE
    assert reject_button["style"] == "danger" and reject_button["confirm"]["confirm"]


def test_approval_rules_then_the_card_is_decided_in_place(slack: Harness) -> None:
    old, candidate = _with_production(slack, "risky")
    request_id, card = _request(slack, "risky", candidate)
    updates = len(slack.fake.called("chat.update"))

    refusals = {
        "UANA": "<@UANA> requested this promotion and cannot approve",  # self-approval
        "UEVE": "is not an approver of risky",  # in the channel, not an approver
        "UFAY": "is not a member of <#CREL>",  # an approver, not in the channel
    }
    for user, why in refusals.items():
        refused = _click(slack, APPROVE, request_id, user)
        assert refused is not None and refused["response_type"] == "ephemeral"
        assert why in refused["text"], refused["text"]
        assert slack.production("risky") == old.id
        assert _has_buttons(_card_now(slack, card))
    assert len(slack.fake.called("chat.update")) == updates  # a refusal changes nothing

    assert _click(slack, APPROVE, request_id, "UBEN") is None
    assert slack.production("risky") == candidate.id
    decided = _card_now(slack, card)
    assert not _has_buttons(decided)
    assert "Approved by <@UBEN>" in _blocks(decided) and candidate.short in _blocks(decided)
    assert decided.params["channel"] == "CREL"

    events = slack.events("risky")
    again = _click(slack, APPROVE, request_id, "UBEN")  # the double click
    assert again is not None and "can no longer be decided" in again["text"]
    late = _click(slack, APPROVE, request_id, "UCHO")
    assert late is not None and "approved by <@UBEN>" in late["text"]  # named as Slack does
    assert slack.events("risky") == events


def test_simultaneous_double_clicks_have_one_effect(slack: Harness) -> None:
    _, candidate = _with_production(slack, "risky")
    request_id, _ = _request(slack, "risky", candidate)
    events = slack.events("risky")
    updates = len(slack.fake.called("chat.update"))
    clicks = [threading.Thread(target=slack.click, args=(APPROVE, request_id),
                               kwargs={"user": "UBEN"}) for _ in range(2)]
    for t in clicks:
        t.start()
    for t in clicks:
        t.join()
    slack.idle()
    assert slack.production("risky") == candidate.id
    assert slack.events("risky") == events + 1
    assert len(slack.fake.called("chat.update")) == updates + 1  # decided; the other refused


def test_a_replayed_click_is_dropped(slack: Harness) -> None:
    _, candidate = _with_production(slack, "risky")
    request_id, _ = _request(slack, "risky", candidate)
    updates = len(slack.fake.called("chat.update"))
    slack.click(APPROVE, request_id, user="UBEN", trigger="click-once")
    replay = slack.click(APPROVE, request_id, user="UBEN", trigger="click-once",
                         headers={"X-Slack-Retry-Num": "1"})
    assert replay.response.status_code == 200
    slack.idle()
    assert slack.production("risky") == candidate.id
    assert slack.fake.responses("click-once") == []  # no refusal either: dropped unseen
    assert len(slack.fake.called("chat.update")) == updates + 1


def test_reject_closes_the_request_and_production_stays(slack: Harness) -> None:
    old, candidate = _with_production(slack, "risky")
    request_id, card = _request(slack, "risky", candidate)
    assert _click(slack, REJECT, request_id, "UEVE") is not None  # not an approver
    assert _click(slack, REJECT, request_id, "UCHO") is None
    decided = _card_now(slack, card)
    assert not _has_buttons(decided) and "Rejected by <@UCHO>" in _blocks(decided)
    assert slack.production("risky") == old.id
    refused = _click(slack, APPROVE, request_id, "UBEN")
    assert refused is not None and "is rejected" in refused["text"]


def test_regulated_needs_two_distinct_approvers_and_shows_the_first(slack: Harness) -> None:
    candidate = slack.register("strict", "s" * 50)
    request_id, card = _request(slack, "strict", candidate)
    not_member = _click(slack, APPROVE, request_id, "UFAY")  # in the group, not the channel
    assert not_member is not None and "not a member" in not_member["text"]
    not_in_group = _click(slack, APPROVE, request_id, "UDAN")
    assert not_in_group is not None and "approver group SAPPROVERS" in not_in_group["text"]

    assert _click(slack, APPROVE, request_id, "UBEN") is None
    waiting = _card_now(slack, card)
    assert _has_buttons(waiting)
    assert "Approved by <@UBEN>" in _blocks(waiting) and "1 more" in _blocks(waiting)
    assert slack.production("strict") is None
    ids = [[b.get("block_id") for b in c.params["blocks"] if b["type"] == "actions"]
           for c in (card, waiting)]
    assert ids[0] != ids[1]  # the updated card's buttons are new blocks to Slack's clients

    twice = _click(slack, APPROVE, request_id, "UBEN")
    assert twice is not None and "already approved" in twice["text"]
    assert _click(slack, APPROVE, request_id, "UCHO") is None
    assert slack.production("strict") == candidate.id
    decided = _card_now(slack, card)
    assert not _has_buttons(decided) and "<@UBEN> and <@UCHO>" in _blocks(decided)


def test_an_expired_request_refuses_and_its_card_says_so(slack: Harness) -> None:
    candidate = slack.register("strict", "s" * 50)
    request_id, card = _request(slack, "strict", candidate)
    slack.clock.advance(hours=2)  # approval_ttl_hours = 1
    refused = _click(slack, APPROVE, request_id, "UBEN")
    assert refused is not None and "is expired" in refused["text"]
    expired = _card_now(slack, card)
    assert not _has_buttons(expired) and "Expired" in _blocks(expired)
    assert slack.production("strict") is None


def test_a_new_request_supersedes_the_old_card(slack: Harness) -> None:
    old, candidate = _with_production(slack, "risky")
    first_id, first_card = _request(slack, "risky", candidate)
    newer = slack.register("risky", "p" * 70, candidate)
    second_id, _ = _request(slack, "risky", newer)
    superseded = slack.fake.wait_for(lambda: slack.fake.called("chat.update",
                                                               ts=_ts(slack, first_card)))[-1]
    assert not _has_buttons(superseded) and "Superseded" in _blocks(superseded)
    assert second_id in _blocks(superseded)
    refused = _click(slack, APPROVE, first_id, "UBEN")
    assert refused is not None and "superseded" in refused["text"]
    assert slack.production("risky") == old.id
