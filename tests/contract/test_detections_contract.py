"""Incidents monitoring opened (detections): stored whole, the newest per alert found, saved
in place; the same promises from the fakes and from SQL on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from integration.builders import IST, T0

from core.domain import Detection
from core.errors import AlreadyExists, NotFound
from core.ports import UnitOfWork

Factory = Callable[[], UnitOfWork]


def detection(n: int, fingerprint: str = "fp-a", model: str = "chat") -> Detection:
    return Detection(
        id=f"det-{n}", model=model, fingerprint=fingerprint, source="alertmanager",
        name="AnswerQualityLow", summary="Ünïcode summary\nline two", url="http://prom/g?x=1",
        status="firing", state="detected", started_at=(T0 - timedelta(minutes=5)).astimezone(IST),
        received_at=T0 + timedelta(minutes=n), updated_at=T0 + timedelta(minutes=n),
        suspect_version="ab" * 32, fired=3, flaps=1)


def test_a_detection_round_trips_and_the_newest_of_an_alert_is_found(uow: Factory) -> None:
    with uow() as u:
        for d in (detection(1), detection(2), detection(3, "fp-b"), detection(4, model="ranker")):
            u.detections.add(d)
        u.commit()
    with uow() as u:
        stored = u.detections.get("det-1")
        assert stored == detection(1)  # every field kept (the same instant)
        latest = u.detections.latest("chat", "fp-a")
        assert latest is not None and latest.id == "det-2"
        assert u.detections.latest("ranker", "fp-b") is None
        assert [d.id for d in u.detections.list("chat")] == ["det-3", "det-2", "det-1"]
        assert [d.id for d in u.detections.list(limit=2)] == ["det-4", "det-3"]


def test_the_alert_and_the_decision_are_saved_apart_and_a_decision_is_made_once(
        uow: Factory) -> None:
    with uow() as u:
        u.detections.add(detection(1))
        u.commit()
    decided_at = T0 + timedelta(hours=1)
    with uow() as u:
        u.detections.lock("chat", "fp-a")
        assert u.detections.decide("det-1", expected="detected", state="rolled_back",
                                   by="UONCALL", at=decided_at, incident_id="inc-9")
        assert not u.detections.decide("det-1", expected="detected", state="dismissed",
                                       by="UBEN", at=decided_at)  # decided already
        u.detections.set_verdict("det-1", "regression confirmed: accuracy 0.9 -> 0.7")
        u.commit()
    # A repeat notification read before the decision saves only what the alert says.
    stale = replace(detection(1), status="resolved", resolved_at=T0 + timedelta(hours=2),
                    fired=9, summary="new words", updated_at=T0 + timedelta(hours=2))
    with uow() as u:
        u.detections.save_alert(stale)
        u.commit()
    with uow() as u:
        assert u.detections.get("det-1") == replace(
            stale, state="rolled_back", decided_by="UONCALL", decided_at=decided_at,
            incident_id="inc-9", verdict="regression confirmed: accuracy 0.9 -> 0.7")
    with uow() as u, pytest.raises(AlreadyExists):
        u.detections.add(detection(1))
    with uow() as u, pytest.raises(NotFound):
        u.detections.save_alert(detection(7))
