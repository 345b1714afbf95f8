"""A version no tag pointed at serves requests: the incident channel gets one card per version
and day once the model's threshold (100 a day by default) is crossed, and the digest counts
them (issue 14)."""

from __future__ import annotations

import json

from slack_harness import Harness

from core.plays.attribute import attribute


def test_a_version_serving_without_a_tag_is_reported_in_the_incident_channel(
        slack: Harness) -> None:
    _good, production = slack.chain()
    rogue = slack.register("chat", "y" * 70, production)  # registered, never promoted
    served = slack.clock.now().isoformat()

    def serve(n: int, start: int) -> None:
        attribute([{"request_id": f"rogue-{start + i}", "model": "chat", "version": rogue.id,
                    "served_at": served} for i in range(n)], slack.playbook.ctx)
        slack.idle()

    def cards() -> list[str]:
        return [json.dumps(c.params["blocks"]) for c in slack.fake.called(
            "chat.postMessage", channel="CINC") if "outside the registry" in
            str(c.params.get("text", "")) + json.dumps(c.params.get("blocks", []))]

    serve(99, 0)
    assert cards() == []  # under the threshold
    serve(2, 99)
    (card,) = cards()
    assert f"`{rogue.short}` served *101* requests" in card and "no tag of chat" in card
    serve(50, 200)
    assert len(cards()) == 1  # once per version and day
    assert slack.production("chat") == production.id  # nothing moved
