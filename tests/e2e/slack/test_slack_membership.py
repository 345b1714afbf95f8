"""Where the bot is not a member, as Slack has it: a public channel takes its posts
(chat:write.public) but not its uploads; a private channel or a DM takes neither. /audit there
still answers in the channel, and says exactly how to get the bundle."""

from __future__ import annotations

import json

from slack_harness import Harness

from core.plays.attribute import attribute


def audited(slack: Harness) -> str:
    good = slack.register("chat", "x" * 40)
    slack.promote_now("chat", good)
    attribute([{"request_id": "req-7", "model": "chat", "version": good.short}],
              slack.playbook.ctx)
    return good.short


def test_audit_in_a_public_channel_without_the_bot_says_how_to_get_the_file(
        slack: Harness) -> None:
    version = audited(slack)
    slack.fake.bot_left = {"CGEN"}
    sent = slack.command("/audit", "req-7", channel="CGEN", channel_name="general")
    slack.idle()
    [summary, note] = slack.fake.called("chat.postMessage", channel="CGEN")
    assert version in summary.params["text"] and summary.refused is None
    [upload] = slack.fake.called("files.completeUploadExternal")
    assert upload.refused == "not_in_channel"
    assert note.params["thread_ts"] and note.refused is None  # in the summary's thread
    assert "`/invite @Playbook`" in note.params["text"]
    assert "playbook audit req-7 --json" in note.params["text"]
    assert slack.fake.responses(sent.trigger) == []  # nothing failed on the asker


def test_audit_in_a_private_channel_without_the_bot_answers_through_the_command(
        slack: Harness) -> None:
    version = audited(slack)
    slack.fake.bot_left = {"GSECRET"}
    sent = slack.command("/audit", "req-7", channel="GSECRET", channel_name="privategroup")
    slack.idle()
    [refused] = slack.fake.called("chat.postMessage", channel="GSECRET")
    assert refused.refused == "channel_not_found"
    summary, invite = slack.fake.responses(sent.trigger)
    assert summary["response_type"] == "in_channel" and version in json.dumps(summary)
    assert invite["response_type"] == "ephemeral" and "`/invite @Playbook`" in invite["text"]
    assert not slack.fake.called("files.completeUploadExternal")


def test_a_rollback_in_a_private_channel_without_the_bot_still_shows_its_record_there(
        slack: Harness) -> None:
    good, bad = slack.regressed("adhoc")  # a model with no incident channel of its own
    slack.fake.bot_left = {"GOPS"}
    sent = slack.command("/rollback", "adhoc because empty answers", channel="GOPS",
                         channel_name="privategroup")
    slack.idle()
    assert slack.production("adhoc") == good.id
    record, confirmed, answer = slack.fake.responses(sent.trigger)
    assert record["response_type"] == "in_channel" and "Rolled back adhoc" in record["text"]
    assert bad.short in json.dumps(record["blocks"])
    assert confirmed["response_type"] == "in_channel" and "passed" in confirmed["text"]
    assert answer["response_type"] == "ephemeral" and "`/invite @Playbook`" in answer["text"]


def test_a_rollback_where_the_bot_can_post_leaves_the_record_to_the_notifier(
        slack: Harness) -> None:
    slack.regressed()
    sent = slack.command("/rollback", "chat", channel="CINC", channel_name="incidents")
    slack.idle()
    [answer] = slack.fake.responses(sent.trigger)
    assert answer["response_type"] == "ephemeral" and "/invite" not in answer["text"]
    record = slack.fake.called("chat.postMessage", channel="CINC")[0]
    assert "Rolled back chat" in record.params["text"]
