"""A version production was rolled back from goes out again only with a reason, and its
approval card and /promote's answer say it was rolled back (issue 14)."""

from __future__ import annotations

import json

from slack_harness import Harness

from core.commands import Approve, Rollback
from core.plays import approve, rollback


def test_promoting_a_rolled_back_version_needs_a_reason_the_card_shows(
        slack: Harness) -> None:
    old, candidate, request = slack.requested("risky")
    approve(Approve.parse(request_id=request.id, approver="UBEN"), slack.playbook.ctx)
    slack.idle()
    assert slack.production("risky") == candidate.id
    rolled = rollback(Rollback.parse(model="risky", actor="UONCALL", symptom="timeouts"),
                      slack.playbook.ctx)
    slack.idle()
    assert slack.production("risky") == old.id

    refused = slack.reply(slack.command("/promote", f"risky {candidate.short}",
                                        channel="CREL", channel_name="releases"))
    text = str(refused["text"])
    assert f"incident {rolled.incident.id}" in text and "needs a reason" in text
    assert "<@UONCALL>" in text  # the on-call who rolled it back, as a mention
    assert slack.production("risky") == old.id

    sent = slack.command("/promote", f"risky {candidate.short} override the timeout fix is "
                                     "deployed because retry", channel="CREL",
                         channel_name="releases")
    answer = str(slack.reply(sent)["text"])
    assert "It was rolled back from before" in answer and rolled.incident.id in answer
    slack.idle()
    cards = [c for c in slack.fake.called("chat.postMessage")
             if "Promotion request" in str(c.params.get("text"))
             and candidate.short in str(c.params.get("text"))]
    blocks = json.dumps(cards[-1].params["blocks"])
    assert ":rewind: *Rolled back from in production before:*" in blocks
    assert f"incident `{rolled.incident.id}`" in blocks and "timeouts" in blocks
    assert (f"promoted again after rollback ({rolled.incident.id}): the timeout fix is "
            "deployed") in blocks  # the Reason field
    assert slack.production("risky") == old.id  # still waiting for its approvers
