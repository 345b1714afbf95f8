"""An incident's stages stored and found: detected and serving switched round-trip, and the
incidents still waiting for serving to switch are found per model, newest day only; the same
promises from the fakes and from SQL on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from integration.builders import T0, incident, version

from core.ports import UnitOfWork

Factory = Callable[[], UnitOfWork]


def test_stages_round_trip_and_waiting_incidents_are_found(uow: Factory) -> None:
    good, bad, other = version(1), version(2), version(3, model="ranker")
    first = replace(incident(bad, good, "inc-1"), detected_at=T0 - timedelta(minutes=4))
    second = replace(incident(bad, good, "inc-2"), opened_at=T0 + timedelta(hours=1))
    switched = replace(incident(bad, good, "inc-3"), opened_at=T0 + timedelta(hours=2),
                       serving_switched_at=T0 + timedelta(hours=2, seconds=9))
    elsewhere = replace(incident(other, other, "inc-4"), model="ranker")
    with uow() as u:
        for v in (good, bad, other):
            u.versions.add(v)
        for i in (first, second, switched, elsewhere):
            u.incidents.add(i)
        u.commit()
    with uow() as u:
        assert u.incidents.get("inc-1") == first and u.incidents.get("inc-3") == switched
        assert [i.id for i in u.incidents.awaiting_switch("chat", T0)] == ["inc-1", "inc-2"]
        assert [i.id for i in u.incidents.awaiting_switch("chat", T0 + timedelta(minutes=1))] \
            == ["inc-2"]
    with uow() as u:
        u.incidents.save(replace(first, serving_switched_at=T0 + timedelta(minutes=1)))
        u.commit()
    with uow() as u:
        assert [i.id for i in u.incidents.awaiting_switch("chat", T0)] == ["inc-2"]


def test_serving_switched_keeps_the_earliest_and_a_stale_save_never_erases_it(
        uow: Factory) -> None:
    good, bad = version(1), version(2)
    opened = incident(bad, good)
    with uow() as u:
        u.versions.add(good)
        u.versions.add(bad)
        u.incidents.add(opened)
        u.commit()
    at = T0 + timedelta(minutes=1)
    with uow() as u:
        assert u.incidents.mark_serving_switched("inc-1", at)
        assert not u.incidents.mark_serving_switched("inc-1", at + timedelta(seconds=5))
        assert u.incidents.mark_serving_switched("inc-1", at - timedelta(seconds=5))
        u.commit()
    with uow() as u:  # the confirming eval's copy, read before serving switched
        u.incidents.save(replace(opened, confirmation="failed"))
        u.commit()
    with uow() as u:
        found = u.incidents.get("inc-1")
    assert found is not None and found.confirmation == "failed"
    assert found.serving_switched_at == at - timedelta(seconds=5)
