"""/rollback: the incident-channel rule, the incident record, the confirmation in its thread,
and a Slack failure that must not hide the tag move."""

from __future__ import annotations

import json
from typing import Any

from slack_harness import Harness

from core.domain import Version
from core.events import MirrorReported


def _history(slack: Harness, model: str = "chat") -> tuple[Version, Version]:
    v1 = slack.register(model, "x" * 40)
    slack.promote_now(model, v1)
    v2 = slack.register(model, "x" * 60, v1, score=0.9)
    slack.promote_now(model, v2)
    return v1, v2


def _text(call: Any) -> str:
    return json.dumps(call.params.get("blocks")) + str(call.params.get("text"))


def test_rollback_moves_the_tag_posts_the_record_then_confirms_in_its_thread(
        slack: Harness) -> None:
    v1, v2 = _history(slack)
    sent = slack.command("/rollback", "chat because answers are empty")
    assert sent.response.status_code == 200
    slack.idle()
    assert slack.production("chat") == v1.id
    record, confirm = slack.fake.called("chat.postMessage", channel="CINC")
    text = _text(record)
    assert v2.short in text and v1.short in text and "<@UANA>" in text
    assert "answers are empty" in text and "Time to rollback" in text
    assert "thread_ts" not in record.params or not record.params["thread_ts"]
    assert "Confirmation eval passed" in _text(confirm) and "score=0.4" in _text(confirm)
    assert record.params["channel"] == "CINC"
    with slack.playbook.ctx.uow() as uow:
        incident = uow.incidents.list("chat", limit=1)[0]
    assert incident.confirmation == "passed"
    where = slack.rt.store.message("incident", incident.id)
    assert where is not None and confirm.params["thread_ts"] == where[1]


def test_rollback_to_an_explicit_version(slack: Harness) -> None:
    v1, v2 = _history(slack)
    v3 = slack.register("chat", "x" * 70, v2, score=0.95)
    slack.promote_now("chat", v3)
    slack.command("/rollback", f"chat to {v1.short} because prompt regression")
    slack.idle()
    assert slack.production("chat") == v1.id


def test_rollback_outside_the_incident_channel_is_refused_naming_it(slack: Harness) -> None:
    _, v2 = _history(slack)
    posts = len(slack.fake.called("chat.postMessage"))
    reply = slack.reply(slack.command("/rollback", "chat", channel="CGEN",
                                      channel_name="general"))
    assert reply["response_type"] == "ephemeral"
    assert "only in <#CINC>" in reply["text"] and "How to fix" in json.dumps(reply["blocks"])
    slack.idle()
    assert slack.production("chat") == v2.id
    assert len(slack.fake.called("chat.postMessage")) == posts


def test_an_incident_channel_given_by_name_matches_the_channel_name(slack: Harness) -> None:
    r1 = slack.register("risky", "y" * 40)
    slack.promote_approved("risky", r1, "UBEN")
    r2 = slack.register("risky", "y" * 60, r1)
    slack.promote_approved("risky", r2, "UBEN")
    refused = slack.reply(slack.command("/rollback", "risky", channel="CGEN",
                                        channel_name="general"))
    assert "only in #incidents" in refused["text"]
    slack.command("/rollback", "risky", channel="CINC", channel_name="incidents")
    slack.idle()
    assert slack.production("risky") == r1.id


def test_a_failed_post_never_hides_the_tag_move_and_is_retried(slack: Harness) -> None:
    v1, v2 = _history(slack)
    slack.fake.fail("chat.postMessage", "not_in_channel")
    sent = slack.command("/rollback", "chat")
    slack.idle()
    assert slack.production("chat") == v1.id  # the tag moved regardless
    reply = slack.reply(sent)
    assert reply["response_type"] == "ephemeral"
    assert f"Rolled back {v2.short} -> {v1.short}" in reply["text"]
    assert not [c for c in slack.fake.called("chat.postMessage", channel="CINC")
                if c.refused is None]
    with slack.playbook.ctx.uow() as uow:  # the record waits in the outbox, its error kept
        (waiting,) = [d for d in uow.outbox.list() if d.name == "IncidentOpened"]
    assert waiting.last_error and "not_in_channel" in waiting.last_error
    assert "/invite" in waiting.last_error

    slack.clock.advance(seconds=5)  # the first retry is due
    slack.deliver_due()
    record, confirm = [c for c in slack.fake.called("chat.postMessage", channel="CINC")
                       if c.refused is None]
    assert v2.short in _text(record) and confirm.params["thread_ts"]
    with slack.playbook.ctx.uow() as uow:
        assert uow.outbox.list() == []


def test_a_rate_limited_post_is_retried_after_retry_after(slack: Harness) -> None:
    v1, _ = _history(slack)
    slack.fake.ratelimit("chat.postMessage", retry_after=1)
    slack.command("/rollback", "chat")
    slack.idle()
    assert slack.production("chat") == v1.id
    # The stand-in refuses, as Slack does, any post before Retry-After has passed: a retry
    # that did not wait would have been refused again and the record lost.
    first, again, confirm = slack.fake.called("chat.postMessage", channel="CINC")
    assert first.refused == "ratelimited" and again.refused is None
    assert first.params["blocks"] == again.params["blocks"]
    assert confirm.params.get("thread_ts") and confirm.refused is None


def test_the_record_is_posted_before_the_slow_confirmation_eval(slack: Harness) -> None:
    v1, _ = _history(slack, "slow")
    sent = slack.command("/rollback", "slow", channel="CGEN", channel_name="general")
    assert sent.response.status_code == 200  # acked while the confirming eval is held
    record = slack.fake.wait_for(lambda: slack.fake.called("chat.postMessage"))[0]
    assert record.params["channel"] == "CGEN"  # `slow` names no channel: where it was typed
    assert slack.production("slow") == v1.id
    assert "thread_ts" not in record.params or not record.params["thread_ts"]
    with slack.playbook.ctx.uow() as uow:
        (incident,) = uow.incidents.list("slow", limit=5, rehearsal=False)
    assert incident.confirmed_at is None  # the eval is still running
    slack.open_gate()
    slack.idle()
    record_again, confirm = slack.fake.called("chat.postMessage")
    assert record_again is record
    assert confirm.params["thread_ts"] and "Confirmation eval passed" in str(confirm.params)


def test_whether_serving_registry_followed_is_told_in_the_incident_thread(
        slack: Harness) -> None:
    """The mirror handler's reports (bot/mirror.py writes them; tests/e2e/test_mirror_mlflow.py
    checks that against MLflow) reach the incident's thread: lagging, then followed, each
    once however often it is said."""
    v1, _ = _history(slack)
    slack.command("/rollback", "chat because answers are empty")
    slack.idle()
    with slack.playbook.ctx.uow() as uow:
        incident = uow.incidents.list("chat", limit=1)[0]
        for followed, detail in ((False, "MLflow did not answer"), (False, "again"),
                                 (True, "version 1"), (True, "version 1")):
            uow.outbox.add(MirrorReported(
                model="chat", incident_id=incident.id, tag="production", version_id=v1.id,
                registry="MLflow support-bot", followed=followed, detail=detail,
                at=slack.clock.now()))
        uow.commit()
    slack.idle()
    record = slack.rt.store.message("incident", incident.id)
    assert record is not None
    told = [c for c in slack.fake.called("chat.postMessage", channel="CINC")
            if "Serving's registry" in _text(c)]
    assert [c.params["thread_ts"] for c in told] == [record[1], record[1]]
    assert "has *not* followed yet" in _text(told[0]) and "MLflow did not answer" in _text(told[0])
    assert "followed: MLflow support-bot's alias `production` now points at" in _text(told[1])
