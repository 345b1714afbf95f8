"""Runs recorded from their start and incidents left unconfirmed, as the sweep finds them:
the same promises from the fakes and from SQL on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from integration.builders import T0, incident, play_run, version

from core.domain import RunStatus
from core.errors import NotFound
from core.ports import UnitOfWork

Factory = Callable[[], UnitOfWork]


def test_a_run_added_at_its_start_is_saved_at_its_end_and_listed_while_running(
        uow: Factory) -> None:
    started = replace(play_run("run-1"), status=RunStatus.RUNNING, steps=[], ended_at=None,
                      error=None, result={})
    older = replace(started, id="run-0", started_at=T0 - timedelta(minutes=5))
    with uow() as u:
        u.runs.add(started)
        u.runs.add(older)
        u.runs.add(replace(play_run("run-2"), started_at=T0 - timedelta(hours=1)))  # ended
        u.commit()
    with uow() as u:
        assert [r.id for r in u.runs.running(T0 + timedelta(seconds=1))] == ["run-0", "run-1"]
        assert [r.id for r in u.runs.running(T0)] == ["run-0"]
    finished = play_run("run-1")
    with uow() as u:
        u.runs.save(finished)
        u.commit()
    with uow() as u:
        assert u.runs.get("run-1") == finished
        assert [r.id for r in u.runs.running(T0 + timedelta(days=1))] == ["run-0"]
    with uow() as u, pytest.raises(NotFound):
        u.runs.save(play_run("run-never"))


def test_unconfirmed_incidents_are_listed_oldest_first_until_confirmed(uow: Factory) -> None:
    bad, good = version(1), version(2)
    with uow() as u:
        u.versions.add(bad)
        u.versions.add(good)
        u.incidents.add(replace(incident(bad, good, "inc-2"), confirmation=None,
                                confirmed_at=None, confirm_scores={}))
        u.incidents.add(replace(incident(bad, good, "inc-1"), confirmation=None,
                                confirmed_at=None, confirm_scores={},
                                opened_at=T0 - timedelta(minutes=1)))
        u.incidents.add(incident(bad, good, "inc-3"))  # confirmed
        u.commit()
    with uow() as u:
        assert [i.id for i in u.incidents.unconfirmed(T0 + timedelta(minutes=1))] == [
            "inc-1", "inc-2"]
        assert [i.id for i in u.incidents.unconfirmed(T0)] == ["inc-1"]
        confirmed = u.incidents.get("inc-1")
        assert confirmed is not None
        u.incidents.save(replace(confirmed, confirmation="passed",
                                 confirmed_at=T0 + timedelta(minutes=2)))
        u.commit()
    with uow() as u:
        assert [i.id for i in u.incidents.unconfirmed(T0 + timedelta(hours=1))] == ["inc-2"]
