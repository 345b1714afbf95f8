"""/investigate with its Roll back button, /rehearse, and the App Home."""

from __future__ import annotations

import json

from slack_harness import Harness

from bot.slack.blocks.home import REHEARSE
from bot.slack.blocks.investigation import ROLLBACK
from core.domain import REHEARSAL


def test_investigate_reports_and_its_button_rolls_back_in_the_incident_channel(
        slack: Harness) -> None:
    good, bad = slack.regressed()
    sent = slack.command("/investigate", "chat since now", channel="CGEN",
                         channel_name="general")
    assert "Investigating chat" in str(slack.reply(sent)["text"])
    slack.idle()
    report = slack.reply(sent, 2)
    assert report["response_type"] == "in_channel", report
    assert report["response_type"] == "in_channel"
    text = json.dumps(report["blocks"])
    assert "regression confirmed" in text and bad.short in text and good.short in text
    assert "`/rollback chat`" in text and "playbook rollback" not in text  # Slack's own way
    assert "promote by <@UANA>" in text and "<!date^" in text  # people and times, as Slack
    button = next(b for b in report["blocks"] if b["type"] == "actions")["elements"][0]
    assert button["action_id"] == ROLLBACK and button["confirm"]

    refused = slack.reply(slack.click(ROLLBACK, button["value"], user="UANA", channel="CGEN",
                                      channel_name="general"))
    assert "only in <#CINC>" in str(refused["text"])
    assert slack.production("chat") == bad.id

    slack.click(ROLLBACK, button["value"], user="UONCALL", channel="CINC",
                channel_name="incidents")
    slack.idle()
    assert slack.production("chat") == good.id
    record = slack.fake.called("chat.postMessage", channel="CINC")[0]
    assert "<@UONCALL>" in json.dumps(record.params["blocks"])

    stale = slack.reply(slack.click(ROLLBACK, button["value"], user="UONCALL", channel="CINC",
                                    channel_name="incidents"))
    assert "moved meanwhile" in str(stale["text"])


def test_after_a_rollback_investigate_names_what_serves_and_offers_no_rollback(
        slack: Harness) -> None:
    """The issue's walk: /rollback, then /investigate; following the report used to move
    production off the restored version to an older, worse one."""
    good, bad = slack.regressed()
    slack.command("/rollback", "chat", channel="CINC", channel_name="incidents",
                  user="UONCALL")
    slack.idle()
    assert slack.production("chat") == good.id
    sent = slack.command("/investigate", "chat", channel="CINC", channel_name="incidents",
                         user="UONCALL")
    slack.idle()
    report = slack.reply(sent, 2)
    text = json.dumps(report["blocks"])
    assert "regression confirmed" in text and "nothing to roll back" in text
    assert f"Production already moved away from {bad.short}: rollback to {good.short}" in text
    assert "Serving now" in text and "offers no rollback" in text
    assert not [b for b in report["blocks"] if b["type"] == "actions"]  # no Roll back button
    assert slack.production("chat") == good.id


def test_rehearse_rolls_back_the_rehearsal_tag_and_leaves_production(slack: Harness) -> None:
    refused = slack.reply(slack.command("/rehearse", "chat"))
    assert "no production version" in str(refused["text"])

    good, bad = slack.regressed()
    with slack.playbook.ctx.uow() as uow:
        production_events = len(uow.events.history("chat", "production"))
    sent = slack.command("/rehearse", "chat", channel="CGEN", channel_name="general")
    slack.idle()
    posts = slack.fake.called("chat.postMessage", channel="CGEN")
    assert len(posts) == 3, slack.fake.responses(sent.trigger)
    record, confirm, verdict = posts
    assert "Rehearsal: rolled back chat" in json.dumps(record.params["blocks"])
    said = json.dumps(record.params["blocks"])  # production is not called bad: it serves on
    assert "Bad version" not in said and f"`{bad.short}`, still serving" in said
    assert "budget" in json.dumps(record.params["blocks"]) and confirm.params["thread_ts"]
    assert verdict.params["thread_ts"] == confirm.params["thread_ts"]  # in the record's thread
    assert "within the 300 s budget" in verdict.params["text"]
    assert "Production was not touched" in json.dumps(verdict.params["blocks"])
    assert slack.production("chat") == bad.id
    with slack.playbook.ctx.uow() as uow:
        tag = uow.tags.get("chat", REHEARSAL)
        incident = uow.incidents.list("chat", limit=1)[0]
        rehearsal_moves = uow.events.history("chat", REHEARSAL)
        assert len(uow.events.history("chat", "production")) == production_events
    assert tag is not None and tag.version_id == good.id and incident.rehearsal
    assert [(e.play, e.to_version) for e in rehearsal_moves] == [("rehearse", bad.id),
                                                                 ("rollback", good.id)]


def test_app_home_shows_every_model_and_runs_a_rehearsal(slack: Harness) -> None:
    good, bad = slack.regressed()
    candidate = slack.register("strict", "s" * 50)
    request = slack.reply(slack.command("/promote", f"strict {candidate.short}",
                                        channel="CGEN", channel_name="general"))
    assert "Approval requested" in str(request["text"])
    slack.command("/rollback", "chat")
    slack.idle()
    slack.promote_now("chat", bad, override="fixed")  # shipped again: something to rehearse

    slack.event({"type": "app_home_opened", "user": "UANA", "channel": "D1", "tab": "home"})
    (published,) = slack.fake.wait_for(lambda: slack.fake.called("views.publish"))
    assert published.params["user_id"] == "UANA"
    view = published.params["view"]
    text = json.dumps(view)
    assert view["type"] == "home"
    for expected in ("*chat*", "*risky*", "*strict*", "*slow*", good.short, "inc-",
                     "0/2", "Last rehearsal", "never"):
        assert expected in text, expected

    slack.click(REHEARSE, "chat", user="UANA", channel="D1", channel_name="directmessage")
    slack.idle()
    with slack.playbook.ctx.uow() as uow:
        assert uow.incidents.list("chat", limit=1)[0].rehearsal
    assert slack.fake.called("chat.postMessage", channel="CINC")[-2:]
    # The Home where it was clicked says it started and where the record goes, then that it
    # is done; its "Last rehearsal" no longer says "never" for chat.
    started, done = [json.dumps(p.params["view"]) for p in slack.fake.called("views.publish")
                     if p.params["user_id"] == "UANA"][1:3]
    assert "Rehearsal of chat started" in started and "<#CINC>" in started
    assert "Rehearsal of chat done: time to rollback" in done and "within the" in done
    chat = next(b for b in json.loads(done)["blocks"]
                if b["type"] == "section" and "fields" in b and any(
                    "Last rehearsal" in f["text"] for f in b["fields"]) and
                "chat" in json.dumps(b) and good.short in json.dumps(b))
    assert "never" not in json.dumps(chat)

    slack.click(REHEARSE, "strict", user="UANA", channel="D1", channel_name="directmessage")
    slack.idle()
    (dm,) = slack.fake.called("chat.postMessage", channel="UANA")
    assert "no production version" in str(dm.params["text"])
