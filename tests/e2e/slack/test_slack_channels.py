"""The incident-channel rule by channel id, as a real workspace needs it: a slash command from
a private channel arrives with `channel_name` "privategroup", a renamed channel keeps its id,
and the stand-in lists channels in small pages, so only a caller that follows the cursor finds
them all. (In the harness's config, `risky` names its incident channel "#incidents".)"""

from __future__ import annotations

from slack_harness import Harness


def rollback_from(slack: Harness, channel: str, channel_name: str) -> str:
    sent = slack.command("/rollback", "risky", channel=channel, channel_name=channel_name)
    slack.idle()
    return " ".join(str(r.get("text")) for r in slack.fake.responses(sent.trigger))


def shipped(slack: Harness) -> tuple[str, str]:
    good = slack.register("risky", "p" * 40)
    slack.promote_approved("risky", good, "UBEN")
    bad = slack.register("risky", "p" * 55, good)
    slack.promote_approved("risky", bad, "UBEN")
    return good.id, bad.id


def test_a_private_incident_channel_is_matched_by_its_id(slack: Harness) -> None:
    good, bad = shipped(slack)
    slack.fake.channels = {"general": "CGEN", "releases": "CREL", "random": "CRND",
                           "incidents": "GPRIV"}  # a private channel, listed on page 2
    said = rollback_from(slack, "GPRIV", "privategroup")  # what Slack sends for it
    assert "run only in" not in said
    assert slack.production("risky") == good
    lists = slack.fake.called("conversations.list")
    assert len(lists) >= 2 and all(c.refused is None for c in lists)  # followed the cursor
    assert bad != good


def test_a_renamed_channel_is_judged_as_it_is_now(slack: Harness) -> None:
    good, bad = shipped(slack)
    refused = rollback_from(slack, "CGEN", "general")
    assert "rollbacks of risky run only in #incidents" in refused
    assert slack.production("risky") == bad
    listed = len(slack.fake.called("conversations.list"))
    assert "run only in" in rollback_from(slack, "CGEN", "general")
    assert len(slack.fake.called("conversations.list")) == listed  # another channel: cached
    # #incidents is archived and renamed; a new channel takes the name: the cached id is
    # stale, so the name is listed again, and only the new channel is the incident channel.
    slack.fake.channels = {"incidents-2025": "CINC", "incidents": "CNEW", "general": "CGEN"}
    slack.fake.members["CNEW"] = ["UANA", "UONCALL"]
    assert "run only in #incidents" in rollback_from(slack, "CINC", "incidents-2025")
    assert slack.production("risky") == bad
    assert "run only in" not in rollback_from(slack, "CNEW", "incidents")
    assert slack.production("risky") == good


def test_a_channel_name_slack_does_not_know_is_said_plainly(slack: Harness) -> None:
    shipped(slack)
    slack.fake.channels = {"general": "CGEN"}
    said = rollback_from(slack, "CGEN", "general")
    assert "finding channel #incidents failed" in said and "channel_not_found" in said
    assert "private channels: invite it" in said
