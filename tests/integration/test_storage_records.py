"""Approvals, incidents, attributions and play runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, timedelta

import pytest

from core.domain import Approval, ApprovalStatus, Attribution
from core.errors import AlreadyExists, Conflict, NotFound
from storage.uow import SqlUnitOfWork

from .builders import IST, T0, approval_request, incident, play_run, version

Factory = Callable[[], SqlUnitOfWork]
GOOD, BAD = version(1), version(2)


@pytest.fixture
def uow(uow_factory: Factory) -> Factory:
    with uow_factory() as setup:
        setup.versions.add(GOOD)
        setup.versions.add(BAD)
        setup.commit()
    return uow_factory


def test_an_approval_request_round_trips(uow: Factory) -> None:
    request = approval_request(GOOD)
    with uow() as u:
        u.approvals.add(request)
        u.commit()
    with uow() as u:
        loaded = u.approvals.get(request.id)
        assert u.approvals.get("nope") is None
    assert loaded == request
    assert loaded is not None and loaded.approvals[0].at.tzinfo == UTC
    assert loaded.revision == 0 and loaded.status is ApprovalStatus.PENDING


def test_approval_save_is_optimistic(uow: Factory) -> None:
    """Two deciders read the same request (two Slack clicks); the second save must lose.
    Separate units of work, one after another: SQLite runs one write transaction at a time."""
    with uow() as u:
        u.approvals.add(approval_request(GOOD))
        u.commit()
    with uow() as first:
        mine = first.approvals.get("apr-1")
    with uow() as second:
        theirs = second.approvals.get("apr-1")
    assert mine is not None and theirs is not None
    mine.approvals.append(Approval("erin", T0 + timedelta(minutes=5)))
    mine.status, mine.decided_by = ApprovalStatus.APPROVED, "erin"
    mine.decided_at, mine.decision_note = T0 + timedelta(minutes=5), "looks good"
    with uow() as first:
        first.approvals.save(mine)
        first.commit()
    assert mine.revision == 1
    theirs.status = ApprovalStatus.REJECTED
    with uow() as second, pytest.raises(Conflict, match="apr-1 changed meanwhile"):
        second.approvals.save(theirs)
    assert theirs.revision == 0
    with uow() as u:
        assert u.approvals.get("apr-1") == mine
        again = u.approvals.get("apr-1")
        assert again is not None
        again.decision_note = "a fresh read saves fine"
        u.approvals.save(again)
        u.approvals.save(again)  # and the bumped revision carries the next save
        assert again.revision == 3
        with pytest.raises(NotFound):
            u.approvals.save(replace(again, id="missing"))


def test_approval_add_conflicts_and_unknown_versions(uow: Factory) -> None:
    with uow() as u:
        u.approvals.add(approval_request(GOOD))
        with pytest.raises(AlreadyExists):
            u.approvals.add(approval_request(BAD))
        with pytest.raises(NotFound):
            u.approvals.add(approval_request(version(9), request_id="apr-9"))


def test_pending_and_for_version(uow: Factory) -> None:
    early = approval_request(GOOD, "apr-1")
    late = replace(approval_request(BAD, "apr-2"), created_at=T0 + timedelta(hours=1))
    done = replace(approval_request(GOOD, "apr-3"), status=ApprovalStatus.EXPIRED)
    with uow() as u:
        for r in (late, early, done):
            u.approvals.add(r)
        assert [r.id for r in u.approvals.pending()] == ["apr-1", "apr-2"]
        assert [r.id for r in u.approvals.pending("chat")] == ["apr-1", "apr-2"]
        assert u.approvals.pending("other") == []
        assert [r.id for r in u.approvals.for_version("chat", GOOD.id)] == ["apr-1", "apr-3"]


def test_incidents_round_trip_save_and_list(uow: Factory) -> None:
    first = incident(BAD, GOOD)
    bare = replace(incident(GOOD, BAD, "inc-2"), opened_at=(T0 + timedelta(days=1)).astimezone(IST),
                   confirmed_at=None, confirmation=None, confirm_scores={}, rehearsal=False)
    with uow() as u:
        u.incidents.add(first)
        u.incidents.add(bare)
        with pytest.raises(AlreadyExists):
            u.incidents.add(first)
        u.commit()
    with uow() as u:
        assert u.incidents.get("inc-1") == first
        assert u.incidents.get("inc-2") == bare
        assert u.incidents.get("nope") is None
        assert [i.id for i in u.incidents.list()] == ["inc-2", "inc-1"]
        assert [i.id for i in u.incidents.list("chat", limit=1)] == ["inc-2"]
        assert [i.id for i in u.incidents.for_version("chat", BAD.id)] == ["inc-1", "inc-2"]
        bare.confirmation = "failed"
        bare.confirm_scores = {"accuracy": 0.1}
        u.incidents.save(bare)
        with pytest.raises(NotFound):
            u.incidents.save(replace(bare, id="inc-404"))
        u.commit()
    with uow() as u:
        assert u.incidents.get("inc-2") == bare


def test_attributions_are_idempotent_within_and_across_batches(uow: Factory) -> None:
    def record(i: int, **kw: object) -> Attribution:
        return replace(Attribution(f"req-{i}", "chat", GOOD.id, T0.astimezone(IST), 12.5,
                                   False, 1.0), **kw)  # type: ignore[arg-type]

    with uow() as u:
        assert u.attributions.add_many([]) == 0
        assert u.attributions.add_many([record(i) for i in range(5)] + [record(0)]) == 5
        u.commit()
    with uow() as u:
        batch = [record(3, version_id=BAD.id), record(5), record(6), record(5)]
        assert u.attributions.add_many(batch) == 2
        big = [record(i) for i in range(2500)]  # spans several statements
        assert u.attributions.add_many(big) == 2500 - 7
        u.commit()
    with uow() as u:
        kept = u.attributions.get("req-3")
        assert kept == record(3)  # the first record of a request id wins
        assert kept is not None and kept.served_at.tzinfo == UTC
        bare = Attribution("req-bare", "chat", "unregistered-version", T0)
        assert u.attributions.add_many([bare]) == 1
        assert u.attributions.get("req-bare") == bare
        assert u.attributions.get("nope") is None


def test_play_runs_round_trip_and_list(uow: Factory) -> None:
    runs = [play_run(f"run-{i}", "promote" if i % 2 else "rollback",
                     T0 + timedelta(minutes=i)) for i in range(4)]
    with uow() as u:
        for run in runs:
            u.runs.add(run)
        with pytest.raises(AlreadyExists):
            u.runs.add(runs[0])
        u.commit()
    with uow() as u:
        loaded = u.runs.get("run-1")
        assert loaded == runs[1]
        assert loaded is not None and loaded.steps[1].started_at.tzinfo == UTC
        assert u.runs.get("nope") is None
        assert [r.id for r in u.runs.list()] == ["run-3", "run-2", "run-1", "run-0"]
        assert [r.id for r in u.runs.list(play="promote", limit=1)] == ["run-3"]


def test_served_by_names_the_version_of_each_recorded_request(uow: Factory) -> None:
    with uow() as u:
        u.attributions.add_many([Attribution(f"s-{i}", "chat", GOOD.id, T0)
                                 for i in range(1500)])
        u.commit()
    with uow() as u:
        asked = {f"s-{i}" for i in range(0, 3000, 7)}
        found = u.attributions.served_by(asked)
    assert set(found) == {r for r in asked if int(r[2:]) < 1500}
    assert set(found.values()) == {("chat", GOOD.id)}
