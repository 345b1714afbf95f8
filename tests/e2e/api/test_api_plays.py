"""Plays 2 and 3 over HTTP: the same rules as the CLI, with the token's name as the actor."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from api_harness import Api, PromptLengthEvaluator, Server, error

from bot import bootstrap
from bot.api.schemas import ApprovalOut, DecisionOut, PromoteOut, RollbackOut
from bot.cli.main import main
from bot.server import create_asgi
from bot.settings import Settings
from core.outbox import Delivery
from storage.database import make_engine
from storage.uow import uow_factory


def test_low_stakes_promote_and_rollback(api: Api) -> None:
    v1 = api.register("chat", "x" * 40)
    v2 = api.register("chat", "x" * 60, v1["short"])
    ci = api.call("ci")
    moved = ci.post("/v1/models/chat/promote", json={"version": v1["short"]})
    assert moved.status_code == 200
    out = PromoteOut.model_validate(moved.json())
    assert out.event is not None and out.event.actor == "ci" and out.request is None
    stale = error(ci.post("/v1/models/chat/promote", json={"version": v2["short"],
                                                           "expected_revision": 0}), 409,
                  "TAG_MOVED_MEANWHILE")
    assert stale["hint"]
    error(ci.post("/v1/models/chat/promote", json={"version": v1["short"]}), 409,
          "INVALID_STATE")
    ci.post("/v1/models/chat/promote", json={"version": v2["short"], "expected_revision": 1})
    worse = api.register("chat", "x" * 30, v2["short"])
    refused = error(ci.post("/v1/models/chat/promote", json={"version": worse["short"]}), 409,
                    "REFUSED")
    assert "below production" in refused["message"] and refused["step"] == "gate"
    error(ci.post("/v1/models/chat/promote", json={"version": "chat@0000000000"}), 404)
    error(ci.post("/v1/models/chat/promote", json={"reason": "no version"}), 422)

    rolled = ci.post("/v1/models/chat/rollback", json={"symptom": "timeouts"})
    assert rolled.status_code == 200, rolled.text
    incident = RollbackOut.model_validate(rolled.json())
    assert incident.bad_version == v2["id"] and incident.restored_version == v1["id"]
    assert incident.opened_by == "ci" and incident.confirmation == "passed"
    assert incident.event.play == "rollback"
    nothing = error(ci.post("/v1/models/chat/rollback", json={}), 409, "REFUSED")
    assert "known-good" in nothing["message"]
    # an emergency rollback needs no body: left out, it is the same as {}
    bare = error(ci.post("/v1/models/chat/rollback"), 409, "REFUSED")
    assert "known-good" in bare["message"]
    error(ci.post("/v1/models/chat/rollback", json={"tag": "staging"}), 422, "INVALID_INPUT")
    error(api.call("serving").post("/v1/models/chat/rollback", json={}), 403, "FORBIDDEN")


def test_a_rollback_says_when_the_trouble_was_detected(api: Api) -> None:
    v1 = api.register("chat", "x" * 40)
    v2 = api.register("chat", "x" * 60, v1["short"])
    ci = api.call("ci")
    for v in (v1, v2):
        assert ci.post("/v1/models/chat/promote", json={"version": v["id"]}).status_code == 200
    later = (api.clock.now() + timedelta(minutes=5)).isoformat()
    error(ci.post("/v1/models/chat/rollback", json={"detected_at": later}), 422,
          "INVALID_INPUT")
    assert api.call("serving").get("/v1/models/chat/tags/production").json()["version"] == v2["id"]
    detected = api.clock.now() - timedelta(minutes=4)
    rolled = ci.post("/v1/models/chat/rollback", json={"detected_at": detected.isoformat()})
    assert rolled.status_code == 200, rolled.text
    out = RollbackOut.model_validate(rolled.json())
    assert out.detected_at == detected.isoformat() and 240 <= out.time_to_rollback_s < 241
    assert [s["stage"] for s in out.stages][:3] == ["detected", "decided", "tag moved"]


def test_high_stakes_need_a_second_approver(api: Api) -> None:
    r1 = api.register("risky", "z" * 30)
    ci = api.call("ci")
    asked = ci.post("/v1/models/risky/promote", json={"version": r1["short"], "reason": "go"})
    assert asked.status_code == 202
    request = PromoteOut.model_validate(asked.json()).request
    assert request is not None and request.status == "pending" and request.requester == "ci"
    approve = f"/v1/approvals/{request.id}/approve"

    own = error(ci.post(approve), 403, "REFUSED")
    assert "cannot approve" in own["message"]
    error(api.call("root").post(approve), 403, "REFUSED")  # admin is not an approver
    shown = api.call("auditor").get(f"/v1/approvals/{request.id}")
    assert ApprovalOut.model_validate(shown.json()).status == "pending"
    error(api.call("auditor").get("/v1/approvals/apr-nope"), 404)

    done = api.call("ben").post(approve, json={})
    assert done.status_code == 200, done.text
    decision = DecisionOut.model_validate(done.json())
    assert decision.status == "approved" and decision.event is not None
    assert decision.event.approvers == ["ben"] and decision.event.actor == "ci"
    error(api.call("ben").post(approve), 409, "INVALID_STATE")

    r2 = api.register("risky", "z" * 40, r1["short"])
    second = ci.post("/v1/models/risky/promote", json={"version": r2["short"]}).json()
    rejected = api.call("ben").post(f"/v1/approvals/{second['request']['id']}/reject",
                                    json={"reason": "not this week"})
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["decision_note"] == "not this week"
    error(api.call("ben").post("/v1/approvals/apr-nope/approve"), 404)
    production = api.call("serving").get("/v1/models/risky/tags/production").json()
    assert production["version"] == r1["id"]


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    (tmp_path / "playbook.toml").write_text("[models.chat]\n")
    app = bootstrap.build(Settings(migrate=True, config_path=tmp_path / "playbook.toml",
                                   home=tmp_path / "home",
                                   database_url=f"sqlite:///{tmp_path / 'p.db'}", actor="t"),
                          evaluator_for=PromptLengthEvaluator)
    unreachable = make_engine("postgresql://nobody@127.0.0.1:9/none", connect_args={
        "connect_timeout": 2})
    down_app = replace(app, engine=unreachable, ctx=replace(app.ctx, uow=uow_factory(unreachable)))
    server = Server(create_asgi(down_app, with_slack=False, scheduler=False)).start()
    try:
        for probe in ("/healthz", "/readyz"):
            down = httpx.get(server.url + probe)
            error(down, 503, "STORAGE_FAILED")
            assert "reachable" in down.json()["error"]["hint"]
        assert httpx.get(server.url + "/livez").json() == {"status": "ok"}  # alive all along
        assert "playbook_database_up 0" in httpx.get(server.url + "/metrics").text
    finally:
        server.stop()
        unreachable.dispose()
        app.close()


def test_an_http_promotion_writes_its_event_and_it_waits_for_a_server_with_slack(
        api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    """The card is a consequence of the play's event; a server that runs no Slack leaves it
    pending (another replica may have Slack) until an operator skips it."""
    r1 = api.register("risky", "z" * 30)
    asked = api.call("ci").post("/v1/models/risky/promote", json={"version": r1["id"]})
    assert asked.status_code == 202
    request_id = asked.json()["request"]["id"]

    def card_delivery() -> list[Delivery]:
        with api.app.ctx.uow() as uow:
            return [d for d in uow.outbox.list(states=("pending", "skipped"))
                    if d.name == "PromotionRequested"]

    (waiting,) = card_delivery()
    assert waiting.state == "pending" and waiting.attempts == 0
    assert waiting.event.request_id == request_id  # type: ignore[union-attr]

    settings = api.app.settings
    base = ["--config", str(settings.config_path), "--database", settings.database_url,
            "--home", str(settings.home)]
    assert main([*base, "outbox", "skip", "nope"]) == 1
    assert "not a handler" in capsys.readouterr().err
    assert main([*base, "outbox", "skip", "notify"]) == 0
    assert "1 pending deliveries to notify closed as skipped" in capsys.readouterr().out
    (skipped,) = card_delivery()
    assert skipped.state == "skipped" and "does not run this handler" in str(skipped.last_error)
