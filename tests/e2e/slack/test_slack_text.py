"""Text in both directions, as a real workspace handles it: what someone typed reaches the plays
exactly as typed (Slack escapes it and wraps references), and free text from anyone (a symptom,
a reason, a note, a request id) goes into channel messages inert: no broadcast, no mention, no
disguised link."""

from __future__ import annotations

import json
from typing import Any

from slack_harness import Harness

from bot.slack.blocks.approval import REJECT
from core.commands import Promote
from core.plays import promote
from core.plays.attribute import attribute

EVIL = "<!channel> see <https://evil.example|Runbook> & ask <@U0BOSS> <!subteam^S1|@all>"
LIVE = ("<!channel>", "<https://evil", "<@U0BOSS>", "<!subteam^")


def shown(call: Any) -> str:
    """Everything a message shows or notifies with: its blocks and its `text`."""
    return json.dumps({"text": call.params.get("text"), "blocks": call.params.get("blocks")})


def inert(call: Any) -> None:
    said = shown(call)
    assert not [x for x in LIVE if x in said], said
    assert "&lt;!channel&gt;" in said and "&amp;" in said  # shown as written, nothing lost


def test_a_refusal_echoing_what_was_typed_is_inert(slack: Harness) -> None:
    sent = slack.command("/audit", EVIL, channel="CGEN", channel_name="general")
    [refusal] = slack.fake.wait_for(lambda: slack.fake.responses(sent.trigger))
    said = json.dumps(refusal)
    # Only the person who typed it sees a refusal: a plain mention there notifies nobody,
    # but no broadcast, group ping or disguised link survives.
    assert "unexpected" in said and not [x for x in LIVE if x in said and x != "<@U0BOSS>"]
    assert "`/audit &lt;request-id&gt;`" in said  # the usage line reads as written


def test_typed_text_reaches_the_play_as_typed(slack: Harness) -> None:
    parent = slack.register("chat", "x" * 40)
    slack.promote_now("chat", parent)
    prompt = "Answer in <json> & keep it <short>."
    slack.command("/experiment", f'chat typed from {parent.short} prompt "{prompt}" because '
                                 "a & b")  # the harness sends it escaped, as Slack does
    slack.idle()
    with slack.playbook.ctx.uow() as uow:
        tag = uow.tags.get("chat", "experiment/typed")
        assert tag is not None
        version = uow.versions.get("chat", tag.version_id)
    assert version is not None
    assert (version.components.prompt, version.reason) == (prompt, "a & b")


def test_slack_references_become_what_the_person_meant(slack: Harness) -> None:
    good, _bad = slack.regressed()
    slack.command("/rollback", "", sent_as=(
        "chat because <@U0ANA|ana> saw &lt;empty&gt; answers, see "
        "<https://status.example.com/x?a=1&amp;b=2|status.example.com/x> in <#C0X|ops> "
        "<!here>"))
    slack.idle()
    assert slack.production("chat") == good.id
    with slack.playbook.ctx.uow() as uow:
        [incident] = uow.incidents.list("chat", limit=1)
    assert incident.symptom == ("@ana saw <empty> answers, see status.example.com/x in #ops "
                                "@here")


def test_a_symptom_from_the_http_api_is_inert_in_the_incident_record(slack: Harness) -> None:
    slack.regressed()
    answer = slack.http.post("/v1/models/chat/rollback", json={"symptom": EVIL},
                             headers=slack.bearer("pager"))
    assert answer.status_code == 200, answer.text
    slack.idle()
    record, _confirm = slack.fake.called("chat.postMessage", channel="CINC")
    inert(record)


def test_reasons_notes_and_request_ids_are_inert_wherever_they_are_shown(
        slack: Harness) -> None:
    old = slack.register("risky", "p" * 40)
    slack.promote_approved("risky", old, "UBEN")
    candidate = slack.register("risky", "p" * 55, old)
    slack.idle()
    promote(Promote.parse(model="risky", version=candidate.short, actor="UANA", reason=EVIL),
            slack.playbook.ctx)  # a reason given over the CLI or the API
    slack.idle()
    card = slack.fake.called("chat.postMessage")[-1]
    inert(card)

    request_id = next(b for b in card.params["blocks"] if b["type"] == "actions"
                      )["elements"][0]["value"]
    answer = slack.http.post(f"/v1/approvals/{request_id}/reject", json={"reason": EVIL},
                             headers=slack.bearer("UANA"))
    assert answer.status_code == 200, answer.text
    slack.idle()
    inert(slack.fake.called("chat.update")[-1])  # the card, decided, with the reject note
    assert REJECT  # the card's buttons are gone with the decision

    request = "<!channel>&<@U0BOSS>"  # a request id as a serving client sent it
    attribute([{"request_id": request, "model": "risky", "version": old.short}],
              slack.playbook.ctx)
    slack.command("/audit", request, channel="CGEN", channel_name="general")
    summary = slack.fake.wait_for(
        lambda: slack.fake.called("chat.postMessage", channel="CGEN"))[0]
    inert(summary)
