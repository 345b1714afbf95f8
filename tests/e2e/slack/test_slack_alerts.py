"""Monitoring starts the play (issue 14, part 1): Alertmanager's webhook posted to
`POST /v1/alerts` opens an incident in the model's incident channel, with the suspect, the
investigation's verdict and the on-call's buttons; the same alert again and its resolution
update that card in place; a flapping alert never posts another; a signed click on Roll back
moves production to the last known-good; bad payloads change nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from typing import Any

from playbook_client import Playbook
from playbook_client.resolver import Resolver
from slack_harness import Harness
from testkit.alert_payloads import alertmanager, grafana
from testkit.waiting import until

from bot.slack.blocks.detection import DISMISS, INVESTIGATE, ROLLBACK
from bot.slack.notifier import DETECTION, INCIDENT


def cards(slack: Harness) -> list[Any]:
    return [c for c in slack.fake.called("chat.postMessage", channel="CINC")
            if "Incident detected" in str(c.params.get("text", ""))]


def now_shows(slack: Harness, card: Any) -> str:
    """The card as it shows now: its last update, else the post."""
    (det_id,) = {e["value"] for b in card.params["blocks"] if b["type"] == "actions"
                 for e in b["elements"]}
    where = slack.rt.store.message(DETECTION, det_id)
    assert where is not None
    updates = slack.fake.called("chat.update", channel=where[0], ts=where[1])
    return json.dumps((updates[-1] if updates else card).params["blocks"])


def buttons(shown: str) -> dict[str, str]:
    found = {}
    for block in json.loads(shown):
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            found[element["action_id"]] = element["text"]["text"]
    return found


def post(slack: Harness, payload: Any, **headers: str) -> Any:
    return slack.http.post("/v1/alerts", content=json.dumps(payload).encode(),
                           headers={"Content-Type": "application/json", **headers})


def test_an_alert_opens_an_incident_and_the_on_call_rolls_back_from_its_card(
        slack: Harness) -> None:
    good, bad = slack.regressed()
    token = slack.bearer("alertmanager")
    slack.clock.advance(minutes=10)  # the bad version has served a while when it fires
    fired = alertmanager(starts=slack.clock.now().isoformat())
    answer = post(slack, fired, **token)
    assert answer.status_code == 202, answer.text
    (det_id,) = answer.json()["opened"]
    slack.idle()

    (card,) = cards(slack)
    shown = now_shows(slack, card)
    assert "AnswerQualityLow" in shown and "thumbs-down rate above 20%" in shown
    assert f"`{bad.short}` in production" in shown
    assert "Changed in the suspect against" in shown and "prompt" in shown
    assert "Investigation (run" in shown, shown  # the verdict, on the card
    assert buttons(shown) == {ROLLBACK: f"Roll back to {good.short}",
                              INVESTIGATE: "Investigate further", DISMISS: "Dismiss"}

    for _ in range(3):  # Alertmanager repeats itself: the card is updated, never posted anew
        assert post(slack, fired, **token).json()["updated"] == [det_id]
    slack.idle()
    assert len(cards(slack)) == 1 and '*Notifications*\\n4' in now_shows(slack, card)

    clicked = slack.click(ROLLBACK, det_id, user="UONCALL", channel="CINC",
                          channel_name="incidents")
    assert clicked.response.status_code == 200
    slack.idle()
    assert slack.production("chat") == good.id
    shown = now_shows(slack, card)
    assert "Rolled back by <@UONCALL>" in shown and buttons(shown) == {}
    records = [c for c in slack.fake.called("chat.postMessage", channel="CINC")
               if "alert AnswerQualityLow" in json.dumps(c.params)]
    assert records, "the rollback's incident record, with the alert as its symptom"

    again = slack.click(ROLLBACK, det_id, user="UBEN", channel="CINC",
                        channel_name="incidents")
    assert "already rolled back by" in json.dumps(slack.reply(again))
    slack.idle()
    assert slack.production("chat") == good.id  # not one version further back

    assert post(slack, alertmanager("resolved"), **token).json()["resolved"] == [det_id]
    slack.idle()
    assert "resolved" in now_shows(slack, card)


def test_a_flapping_alert_keeps_one_card_and_dismiss_closes_it(slack: Harness) -> None:
    slack.chain()
    token = slack.bearer("grafana")
    (det_id,) = post(slack, grafana(), **token).json()["opened"]
    for _ in range(4):
        slack.clock.advance(minutes=3)
        post(slack, grafana("resolved"), **token)
        slack.clock.advance(minutes=3)
        assert post(slack, grafana(), **token).json()["updated"] == [det_id]
    slack.idle()
    (card,) = cards(slack)
    assert "flapped 4x" in now_shows(slack, card)

    slack.click(DISMISS, det_id, user="UBEN", channel="CINC", channel_name="incidents")
    slack.idle()
    shown = now_shows(slack, card)
    assert "Dismissed by <@UBEN>" in shown and buttons(shown) == {}


def test_bad_alerts_are_refused_and_change_nothing(slack: Harness) -> None:
    slack.chain()
    token = slack.bearer("alertmanager")
    before = slack.events("chat")
    cases = [
        (alertmanager(model="nope"), 422, "alerts[0].labels.model"),
        ({**alertmanager(), "version": "3"}, 422, "version"),
        ({"model": "chat"}, 422, "name"),
    ]
    for payload, status, field in cases:
        answer = post(slack, payload, **token)
        assert answer.status_code == status and field in answer.text, answer.text
    garbage = slack.http.post("/v1/alerts", content=b"{not json",
                              headers={"Content-Type": "application/json", **token})
    assert garbage.status_code == 422 and "not JSON" in garbage.text
    assert post(slack, alertmanager()).status_code == 401  # no token, no signature
    slack.idle()
    assert cards(slack) == [] and slack.events("chat") == before
    with slack.playbook.ctx.uow(read_only=True) as u:
        assert u.detections.list() == []


def test_a_signed_alert_needs_no_token(slack: Harness) -> None:
    slack.chain()
    secret = slack.playbook.settings.env.alerts_hmac_secret
    assert secret, "the harness's server has PLAYBOOK_ALERTS_HMAC_SECRET"
    body = json.dumps({"model": "chat", "name": "EvalDrift", "summary": "nightly eval -8%"})
    digest = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
    wrong = slack.http.post("/v1/alerts", content=body.encode(), headers={
        "Content-Type": "application/json", "X-Playbook-Signature": "sha256=" + "0" * 64})
    assert wrong.status_code == 401 and "does not match" in wrong.text
    right = slack.http.post("/v1/alerts", content=body.encode(), headers={
        "Content-Type": "application/json", "X-Playbook-Signature": f"sha256={digest}",
        "Idempotency-Key": "am-1"})  # Alertmanager may send one; there is no token to key it
    assert right.status_code == 202 and len(right.json()["opened"]) == 1
    odd = slack.http.post("/v1/alerts", content=body.encode(), headers={
        "Content-Type": "application/json", "X-Playbook-Signature": b"sha256=\xe9"})
    assert odd.status_code == 401  # not a 500
    slack.idle()
    assert len(cards(slack)) == 1


def test_from_the_alert_to_serving_switched_the_record_shows_five_stages(
        slack: Harness) -> None:
    """The issue's walk: an alert fires while a serving process (the client library,
    polling production's route; a route stream would hold the test server's stop for its
    whole grace period) answers with the bad version; the on-call
    clicks Roll back; serving switches; the record shows every stage and the slowest."""
    good, bad = slack.regressed()
    secret = slack.bearer("chat-svc")["Authorization"].split()[1]
    stop = threading.Event()

    def serve() -> None:  # a steady trickle of requests, each attributed at the test's clock
        with Playbook(slack.url, secret, model="chat",
                      resolver={"stream": False, "poll_s": 0.05},
                      attributor={"flush_s": 0.01, "batch_size": 20}) as pb:
            n = 0
            while not stop.is_set():
                version = pb.version()
                if version is not None:
                    pb.attributor.record(f"req-{n}", "chat", version,
                                         served_at=slack.clock.now())
                    n += 1
                stop.wait(0.002)  # paces the load; nothing waits on it

    server = threading.Thread(target=serve, name="serving")
    server.start()
    try:
        def served_by(version: str) -> bool:
            with slack.playbook.ctx.uow(read_only=True) as u:
                return u.attributions.count("chat", slack.clock.now() - timedelta(hours=1),
                                            slack.clock.now() + timedelta(hours=1)) > 0 \
                    and any(a.version_id == version for a in [u.attributions.get("req-0")]
                            if a is not None)
        until(lambda: served_by(bad.id), "serving to answer with the bad version")
        fired_at = slack.clock.now()
        (det_id,) = post(slack, alertmanager(starts=fired_at.isoformat()),
                         **slack.bearer("alertmanager")).json()["opened"]
        slack.idle()
        slack.clock.advance(seconds=90)  # the on-call reads the card
        slack.click(ROLLBACK, det_id, user="UONCALL", channel="CINC", channel_name="incidents")
        slack.idle()
        assert slack.production("chat") == good.id

        def switched() -> Any:
            with slack.playbook.ctx.uow(read_only=True) as u:
                (incident,) = u.incidents.list("chat", limit=1)
            return incident if incident.serving_switched_at is not None else None
        incident = until(switched, "serving to switch to the restored version")
    finally:
        stop.set()
        server.join(10)
    slack.idle()

    # (the test clock ticks a millisecond per reading, so "at once" is a few ms)
    assert incident.detected == fired_at
    assert fired_at + timedelta(seconds=90) <= incident.opened_at <= incident.rolled_back_at
    assert incident.rolled_back_at <= incident.serving_switched_at <= slack.clock.now()
    assert incident.confirmed_at is not None
    assert incident.time_to_serving_s is not None and 90 <= incident.time_to_serving_s < 91
    where = slack.rt.store.message(INCIDENT, incident.id)
    assert where is not None
    record = json.dumps(slack.fake.called("chat.update", channel=where[0],
                                          ts=where[1])[-1].params["blocks"])
    for stage in ("detected", "decided", "tag moved", "serving switched", "confirmed"):
        assert f"{stage}: " in record and f"{stage}: -" not in record, (stage, record)
    assert "slowest: detected -> decided (90." in record
    assert "s, detected to serving switched (:white_check_mark: within" in record


def test_a_serving_process_that_does_not_attribute_reports_its_switch(
        slack: Harness) -> None:
    """The client library tells Playbook when its route moves: serving switched is recorded
    without a single attribution."""
    good, _bad = slack.regressed()
    secret = slack.bearer("chat-svc")["Authorization"].split()[1]
    with Resolver(slack.url, secret, "chat", stream=False, poll_s=0.05) as resolver:
        assert resolver.wait_ready(30)
        slack.command("/rollback", "chat", user="UONCALL")
        slack.idle()
        until(lambda: resolver.version() == good.id, "the resolver to follow the rollback")

        def switched() -> Any:
            with slack.playbook.ctx.uow(read_only=True) as u:
                (incident,) = u.incidents.list("chat", limit=1)
            return incident if incident.serving_switched_at is not None else None
        incident = until(switched, "the switch report")
    with slack.playbook.ctx.uow(read_only=True) as u:
        assert u.attributions.count("chat", incident.opened_at - timedelta(days=1),
                                    slack.clock.now() + timedelta(days=1)) == 0
    assert incident.rolled_back_at <= incident.serving_switched_at <= slack.clock.now()
