"""A rollback over the HTTP API (a pager script, a CI job) reaches the incident channel as
`/rollback` does: the record, then the confirmation in its thread."""

from __future__ import annotations

import json

from slack_harness import Harness


def test_an_http_rollback_posts_its_incident_record(slack: Harness) -> None:
    good, _bad = slack.regressed()
    answer = slack.http.post("/v1/models/chat/rollback", json={"symptom": "pager: 5xx"},
                             headers=slack.bearer("pager"))
    assert answer.status_code == 200, answer.text
    incident = answer.json()["id"]
    assert slack.production("chat") == good.id
    slack.idle()
    record, confirm = slack.fake.called("chat.postMessage", channel="CINC")
    assert incident in json.dumps(record.params["blocks"])
    assert "pager: 5xx" in json.dumps(record.params["blocks"])
    assert confirm.params["thread_ts"] and "passed" in json.dumps(confirm.params)


def test_slack_down_never_fails_or_undoes_an_http_rollback(slack: Harness) -> None:
    good, _bad = slack.regressed()
    slack.fake.fail("chat.postMessage", "service_unavailable", times=5)
    answer = slack.http.post("/v1/models/chat/rollback", headers=slack.bearer("pager"))
    assert answer.status_code == 200, answer.text
    slack.idle()
    assert slack.production("chat") == good.id
