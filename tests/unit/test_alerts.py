"""Alerts open incidents (core/alerts.py, core/plays/alerts.py): each sender's payload read,
the same alert updating its incident, resolved, flapping, and every bad payload refused with
nothing stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fakes import T0, Fakes, make_ctx
from given import BASE, promoted, registered
from testkit.alert_payloads import alertmanager, grafana

from core.alerts import signals
from core.commands import Rollback
from core.engine import PlayContext
from core.errors import InvalidInput, InvalidState
from core.events import DetectionChanged, IncidentDetected
from core.plays import alerts
from core.plays.rollback import rollback


@pytest.fixture
def world() -> tuple[PlayContext, Fakes]:
    ctx, fakes = make_ctx(BASE)
    v1 = registered(ctx, "chat", "v1", 0.8)
    promoted(ctx, v1)
    promoted(ctx, registered(ctx, "chat", "v2", 0.9, parent=v1))
    return ctx, fakes


def events(fakes: Fakes) -> list[Any]:
    return [e for e in fakes.domain_events() if isinstance(e, IncidentDetected | DetectionChanged)]


def test_each_sender_s_payload_is_read() -> None:
    (am,) = signals(alertmanager())
    assert (am.source, am.model, am.name, am.status, am.fingerprint) == (
        "alertmanager", "chat", "AnswerQualityLow", "firing", "c6f1b0d5a2e3f4a1")
    assert am.started_at == datetime(2026, 3, 10, 11, 52, tzinfo=UTC)
    assert am.summary == "thumbs-down rate above 20% for 5m" and am.url is not None
    (gf,) = signals(grafana("resolved"))
    assert (gf.source, gf.name, gf.status, gf.fingerprint) == (
        "grafana", "LatencyHigh", "resolved", "57c6d9296de2ad39")
    (gen,) = signals({"model": "chat", "name": "EvalDrift"})
    assert (gen.source, gen.status, gen.started_at) == ("generic", "firing", None)
    assert gen.fingerprint == signals({"model": "chat", "name": "EvalDrift",
                                       "status": "resolved"})[0].fingerprint
    (other,) = signals(alertmanager(label="service", model="ranker"), model_label="service")
    assert other.model == "ranker"


def test_a_firing_alert_opens_one_incident_and_repeats_update_it(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    first = alerts.receive(alertmanager(), ctx)
    (det_id,) = first.opened
    with ctx.uow(read_only=True) as u:
        d = u.detections.get(det_id)
        production = u.tags.get("chat", "production")
    assert d is not None and production is not None
    assert (d.state, d.status, d.fired, d.suspect_version) == (
        "detected", "firing", 1, production.version_id)
    assert d.started_at == datetime(2026, 3, 10, 11, 52, tzinfo=UTC)  # the alert's startsAt

    fakes.clock.advance(minutes=5)
    again = alerts.receive(alertmanager(), ctx)
    assert (again.opened, again.updated) == ([], [det_id])
    fakes.clock.advance(minutes=5)
    done = alerts.receive(alertmanager("resolved"), ctx)
    assert done.resolved == [det_id]
    with ctx.uow(read_only=True) as u:
        d = u.detections.get(det_id)
    assert d is not None and (d.status, d.fired, d.resolved_at) == (
        "resolved", 2, fakes.clock.now())
    assert [type(e).__name__ for e in events(fakes)] == [
        "IncidentDetected", "DetectionChanged", "DetectionChanged"]
    assert alerts.receive(alertmanager("resolved"), ctx).ignored == 1  # nothing firing


def test_a_flapping_alert_reopens_its_incident_and_later_opens_a_new_one(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    (det_id,) = alerts.receive(grafana(), ctx).opened
    for _ in range(5):  # fires, resolves, fires ... within the flap window
        fakes.clock.advance(minutes=2)
        alerts.receive(grafana("resolved"), ctx)
        fakes.clock.advance(minutes=2)
        assert alerts.receive(grafana(), ctx).updated == [det_id]
    with ctx.uow(read_only=True) as u:
        d = u.detections.get(det_id)
        assert d is not None and (d.flaps, d.status) == (5, "firing")
        assert len(u.detections.list("chat")) == 1
    assert sum(isinstance(e, IncidentDetected) for e in events(fakes)) == 1  # one card

    alerts.receive(grafana("resolved"), ctx)
    fakes.clock.advance(minutes=61)  # past [alerts] flap_minutes (60)
    (new_id,) = alerts.receive(grafana(), ctx).opened
    assert new_id != det_id


@pytest.mark.parametrize(("payload", "field"), [
    (alertmanager(model="vision"), "alerts[0].labels.model"),  # not declared
    (alertmanager(label="service"), "alerts[0].labels.model"),  # no model label
    ({**alertmanager(), "version": "3"}, "version"),
    ({**alertmanager(), "alerts": []}, "alerts"),
    ({**alertmanager(), "alerts": [{"status": "burning"}]}, "alerts[0].status"),
    ({"model": "chat"}, "name"),
    ({"model": "chat", "name": "x", "colour": "red"}, "colour"),
    ({"model": "ghost", "name": "x"}, "model"),
    ([1, 2], "body"),
])
def test_a_bad_payload_is_refused_and_stores_nothing(
        world: tuple[PlayContext, Fakes], payload: Any, field: str) -> None:
    ctx, fakes = world
    before = fakes.snapshot()
    good = alertmanager(fingerprint="other")
    mixed = ({**payload, "alerts": [good["alerts"][0], *payload["alerts"]]}
             if isinstance(payload, dict) and payload.get("alerts") else payload)
    with pytest.raises(InvalidInput) as err:
        alerts.receive(mixed, ctx)
    assert err.value.field.replace("alerts[1]", "alerts[0]") == field
    assert fakes.snapshot() == before


def test_the_on_call_decides_once(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    (det_id,) = alerts.receive(alertmanager(), ctx).opened
    with ctx.uow(read_only=True) as u:
        suspect = u.tags.get("chat", "production")
    done = alerts.roll_back(det_id, "UONCALL", ctx)
    assert suspect is not None and done.bad.id == suspect.version_id
    assert done.incident.symptom.startswith("alert AnswerQualityLow: thumbs-down")
    with ctx.uow(read_only=True) as u:
        d = u.detections.get(det_id)
    assert d is not None and (d.state, d.decided_by, d.incident_id) == (
        "rolled_back", "UONCALL", done.incident.id)
    with pytest.raises(InvalidState, match="already rolled back by UONCALL"):
        alerts.roll_back(det_id, "UBEN", ctx)
    with pytest.raises(InvalidState):
        alerts.dismiss(det_id, "UBEN", ctx)

    fakes.clock.advance(hours=3)
    (other,) = alerts.receive(grafana(), ctx).opened
    dismissed = alerts.dismiss(other, "UBEN", ctx)
    assert (dismissed.state, dismissed.decided_at) == ("dismissed", fakes.clock.now())
    assert fakes.clock.now() - timedelta(hours=1) > T0


class ClickingAgain:
    """An eval suite during which someone clicks Roll back again (the first click's
    confirming eval takes minutes in real life)."""

    def __init__(self) -> None:
        self.ctx: PlayContext | None = None
        self.det_id = ""
        self.refused: list[str] = []

    def evaluate(self, version: Any) -> dict[str, float]:
        if self.ctx is not None and self.det_id:
            try:
                alerts.roll_back(self.det_id, "UBEN", self.ctx)
            except InvalidState as exc:
                self.refused.append(str(exc))
        return {"accuracy": 0.9}

    def describe(self) -> str:
        return "clicks again"


def test_a_second_click_while_the_first_rollback_runs_is_refused() -> None:
    clicker = ClickingAgain()
    ctx, _ = make_ctx(BASE, evaluator=clicker)  # type: ignore[arg-type]
    v1 = registered(ctx, "chat", "v1", 0.8)
    promoted(ctx, v1)
    promoted(ctx, registered(ctx, "chat", "v2", 0.9, parent=v1))
    (det_id,) = alerts.receive(alertmanager(), ctx).opened
    clicker.ctx, clicker.det_id = ctx, det_id
    done = alerts.roll_back(det_id, "UONCALL", ctx)
    assert done.restored.id == v1.id
    assert clicker.refused and "being rolled back by UONCALL" in clicker.refused[0]
    with ctx.uow(read_only=True) as u:
        assert u.tags.get("chat", "production").version_id == v1.id  # type: ignore[union-attr]
        d = u.detections.get(det_id)
    assert d is not None and (d.state, d.incident_id) == ("rolled_back", done.incident.id)


def test_a_stale_card_does_not_roll_back_what_production_moved_to(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    (det_id,) = alerts.receive(alertmanager(), ctx).opened
    by_hand = rollback(Rollback.parse(model="chat", actor="UONCALL"), ctx)  # /rollback
    before = fakes.snapshot()
    with pytest.raises(InvalidState, match="no longer the suspect"):
        alerts.roll_back(det_id, "UBEN", ctx)
    assert fakes.snapshot() == before
    with ctx.uow(read_only=True) as u:
        assert u.tags.get("chat", "production").version_id == by_hand.restored.id  # type: ignore[union-attr]
