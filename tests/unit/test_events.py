"""Every play says what happened as events, in the transaction of its change: a play that is
refused or fails writes none, and each event survives the trip through its stored form."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fakes import FakeEvaluator, Fakes, make_ctx
from given import BASE, approved, chain, promoted, registered

from core import events
from core.commands import CollectGarbage, Reject, Rollback
from core.domain import TagMoved
from core.engine import PlayContext
from core.errors import Refused
from core.plays import collect_garbage, reject, rollback


@pytest.fixture
def world() -> tuple[PlayContext, Fakes]:
    return make_ctx(BASE, evaluator=FakeEvaluator(default={"accuracy": 0.9}))


def test_register_then_a_low_stakes_promotion(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    v1 = registered(ctx, "chat", "v1", 0.8)
    result = promoted(ctx, v1, "alice", "first")
    assert fakes.event_names("chat") == ["VersionRegistered", "TagMoved", "Promoted"]
    registered_, moved, announced = fakes.domain_events("chat")
    assert registered_.version_id == v1.id and registered_.owner == "alice"
    assert isinstance(moved, TagMoved) and moved == result.event and moved.seq is not None
    assert announced == events.Promoted(model="chat", version_id=v1.id, from_version=None,
                                        revision=1, actor="alice", reason="first",
                                        channel=None, at=moved.at)


def test_a_high_stakes_request_supersedes_the_open_one(world: tuple[PlayContext,
                                                                    Fakes]) -> None:
    ctx, fakes = world
    t1 = registered(ctx, "triage", "t1", 0.8)
    t2 = registered(ctx, "triage", "t2", 0.85, parent=t1)
    first = promoted(ctx, t1, "erin").request
    second = promoted(ctx, t2, "erin").request
    assert first is not None and second is not None
    names = fakes.event_names("triage")
    assert names[-3:] == ["PromotionRequested", "RequestSuperseded", "PromotionRequested"]
    superseded = fakes.domain_events("triage")[-2]
    assert superseded == events.RequestSuperseded(model="triage", request_id=first.id,
                                                  by_request=second.id,
                                                  at=superseded.at)
    assert fakes.domain_events("triage")[-1].request_id == second.id


def test_approval_and_rejection(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    t1 = registered(ctx, "credit", "c1", 0.8)
    request = promoted(ctx, t1, "erin").request
    assert request is not None
    approved(ctx, request.id, "bob")
    assert fakes.event_names("credit")[-1] == "ApprovalGiven"
    approved(ctx, request.id, "carol")
    moved, given, decided = fakes.domain_events("credit")[-3:]
    assert isinstance(given, events.ApprovalGiven) and given.approvals == 2
    assert isinstance(moved, TagMoved) and moved.approvers == ("bob", "carol")
    assert decided == events.RequestDecided(model="credit", request_id=request.id,
                                            status="approved", decided_by="carol",
                                            at=decided.at)

    t2 = registered(ctx, "credit", "c2", 0.9, parent=t1)
    other = promoted(ctx, t2, "erin").request
    assert other is not None
    reject(Reject.parse(request_id=other.id, actor="bob", reason="not now"), ctx)
    last = fakes.domain_events("credit")[-1]
    assert isinstance(last, events.RequestDecided) and last.status == "rejected"


def test_an_overdue_request_found_at_a_click_is_expired_with_its_event(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    request = promoted(ctx, registered(ctx, "triage", "t1", 0.8), "erin").request
    assert request is not None
    fakes.clock.advance(timedelta(days=2))
    with pytest.raises(Exception, match="expired"):
        approved(ctx, request.id, "bob")
    assert fakes.domain_events("triage")[-1] == events.RequestExpired(
        model="triage", request_id=request.id, at=request.expires_at)


def test_rollback_opens_then_confirms_its_incident(world: tuple[PlayContext,
                                                                Fakes]) -> None:
    ctx, fakes = world
    v1, v2 = chain(ctx, "chat", 0.8, 0.85)
    result = rollback(Rollback.parse(model="chat", actor="oncall", symptom="empty",
                                     channel="CINC"), ctx)
    moved, opened, confirmed = fakes.domain_events("chat")[-3:]
    assert isinstance(moved, TagMoved) and moved.play == "rollback"
    assert opened == events.IncidentOpened(
        model="chat", incident_id=result.incident.id, tag="production", bad_version=v2.id,
        restored_version=v1.id, opened_by="oncall", rehearsal=False, channel="CINC",
        at=moved.at)
    assert isinstance(confirmed, events.IncidentConfirmed)
    assert confirmed.confirmation == "passed" and confirmed.incident_id == result.incident.id


def test_a_refused_play_writes_no_event(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    v1 = registered(ctx, "chat", "v1", 0.8)
    promoted(ctx, v1)
    worse = registered(ctx, "chat", "worse", 0.5, parent=v1)
    before = fakes.snapshot()
    with pytest.raises(Refused):
        promoted(ctx, worse)
    assert fakes.snapshot() == before


def test_gc_says_what_it_collected(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    fakes.add_version("chat", "heavy", {"accuracy": 0.1}, artifacts={"w.bin": b"w" * 10},
                      created_at=fakes.clock.now() - timedelta(days=400))
    report = collect_garbage(CollectGarbage.parse(actor="gc"), ctx)
    assert [v.id for v in report.collected] == [e.version_id for e in fakes.domain_events("chat")
                                                if isinstance(e, events.ArtifactsCollected)]
    assert report.collected


def test_every_event_type_survives_its_stored_form(world: tuple[PlayContext,
                                                                Fakes]) -> None:
    ctx, fakes = world
    chain(ctx, "chat", 0.8, 0.85)
    rollback(Rollback.parse(model="chat", actor="oncall"), ctx)
    for event in fakes.domain_events():
        name = events.name_of(event)
        assert events.from_json(name, events.to_json(event)) == event
    with pytest.raises(ValueError, match="newer Playbook"):
        events.from_json("SomethingNew", {})
