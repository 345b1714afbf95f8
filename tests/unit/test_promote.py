"""Play 2: promotion is a gated tag move; high stakes ask approvers first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fakes import Fakes, make_ctx
from given import BASE, approved, chain, failed_step, promoted, registered, steps

from core import queries
from core.commands import Approve, Promote, Rollback
from core.domain import ApprovalStatus, RunStatus, StepStatus, Version
from core.engine import PlayContext
from core.errors import (
    ConfigError,
    InvalidInput,
    InvalidState,
    NotFound,
    Refused,
    TagMovedMeanwhile,
)
from core.plays.approval import approve
from core.plays.promote import promote
from core.plays.rollback import rollback

MIN_SCORE = BASE.replace('owner = "alice"', 'owner = "alice"\nmin_score = 0.7') + """
[models.ranker-strict]
metric = "loss"
higher_is_better = false
min_score = 0.3
"""


@pytest.fixture
def world() -> tuple[PlayContext, Fakes]:
    return make_ctx(BASE)


def refused_and_unchanged(ctx: PlayContext, fakes: Fakes, model: str, ref: str,
                          error: type[Exception] = Refused, step: str = "gate") -> str:
    before = fakes.snapshot()
    with pytest.raises(error) as err:
        promote(Promote.parse(model=model, version=ref, actor="alice"), ctx)
    assert fakes.snapshot() == before  # no tag moved, no event, no request
    run = fakes.last_run()
    assert run.play == "promote" and run.status == RunStatus.FAILED
    assert failed_step(run) == step
    return str(err.value)


def test_low_stakes_moves_production_at_once(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    v1 = registered(ctx, "chat", "v1", 0.8)
    result = promoted(ctx, v1, "alice", "first release")

    assert result.request is None and fakes.approvals == []
    assert fakes.tags == {("chat", "production"): (v1.id, 1)}
    (event,) = fakes.events
    assert result.event == event
    assert (event.from_version, event.to_version, event.revision) == (None, v1.id, 1)
    assert (event.actor, event.approvers, event.play, event.reason) == (
        "alice", (), "promote", "first release")
    assert event.at == fakes.clock.now() and event.seq is not None
    assert result.gate == {"candidate": v1.short, "metric": "accuracy", "candidate_score": 0.8}
    run = fakes.last_run()
    assert steps(run) == [("resolve candidate", StepStatus.OK), ("gate", StepStatus.OK),
                          ("move production tag", StepStatus.OK)]
    assert run.result == {"promoted": v1.short, "revision": 1}


def test_a_candidate_that_meets_production_is_promoted(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    v1, v2 = chain(ctx, "chat", 0.8, 0.8)
    assert fakes.tag("chat") == v2.id
    last = fakes.events[-1]
    assert (last.from_version, last.to_version, last.revision) == (v1.id, v2.id, 2)
    assert fakes.last_run().steps[1].output["delta"] == 0


def test_a_candidate_below_production_is_refused(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    (v1,) = chain(ctx, "chat", 0.8)
    v2 = registered(ctx, "chat", "v2", 0.79, parent=v1)
    text = refused_and_unchanged(ctx, fakes, "chat", v2.short)
    assert "below production" in text and "0.79" in text and "0.8" in text
    assert fakes.tag("chat") == v1.id


def test_lower_is_better_flips_the_gate(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    (r1,) = chain(ctx, "ranker", 0.30)
    worse = registered(ctx, "ranker", "worse", 0.31, parent=r1)
    better = registered(ctx, "ranker", "better", 0.25, parent=r1)
    text = refused_and_unchanged(ctx, fakes, "ranker", worse.short)
    assert "above production" in text
    promoted(ctx, better)
    assert fakes.tag("ranker") == better.id


def test_min_score_is_a_floor_even_without_production() -> None:
    ctx, fakes = make_ctx(MIN_SCORE)
    low = registered(ctx, "chat", "low", 0.69)
    text = refused_and_unchanged(ctx, fakes, "chat", low.short)
    assert "below min_score 0.7" in text
    ok = registered(ctx, "chat", "ok", 0.7)
    promoted(ctx, ok)
    assert fakes.tag("chat") == ok.id


def test_min_score_is_a_ceiling_when_lower_is_better() -> None:
    ctx, fakes = make_ctx(MIN_SCORE)
    high = registered(ctx, "ranker-strict", "high", 0.31)
    text = refused_and_unchanged(ctx, fakes, "ranker-strict", high.short)
    assert "above min_score 0.3" in text
    promoted(ctx, registered(ctx, "ranker-strict", "ok", 0.3))


def test_a_candidate_without_the_metric_is_refused(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    v = fakes.add_version("chat", "unscored", {"bleu": 0.9})
    text = refused_and_unchanged(ctx, fakes, "chat", v.short)
    assert "no 'accuracy' score" in text


def test_production_without_the_metric_does_not_block(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    old = fakes.add_version("chat", "old", {"bleu": 0.9})
    fakes.move("chat", "production", old.id)
    new = registered(ctx, "chat", "new", 0.1, parent=old)
    result = promoted(ctx, new)
    assert result.gate["production_score"] is None and "delta" not in result.gate
    assert fakes.tag("chat") == new.id


def test_promoting_production_again_is_an_invalid_state(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    (v1,) = chain(ctx, "chat", 0.8)
    refused_and_unchanged(ctx, fakes, "chat", v1.short, InvalidState)


def test_an_unregistered_version_cannot_be_promoted(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    refused_and_unchanged(ctx, fakes, "chat", "chat@0123456789ab", NotFound, "resolve candidate")
    refused_and_unchanged(ctx, fakes, "chat", "nonsense", InvalidInput, "resolve candidate")


def test_an_undeclared_model_is_a_config_error(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    before = fakes.snapshot()
    with pytest.raises(ConfigError):
        promote(Promote.parse(model="vision", version="vision@0123456789", actor="a"), ctx)
    assert fakes.snapshot() == before


def test_production_moved_meanwhile_fails_the_move(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    v1, v2 = chain(ctx, "chat", 0.5, 0.6)
    v3 = registered(ctx, "chat", "v3", 0.7, parent=v2)
    # Someone rolls production back to v1 between our gate and our move.
    fakes.store.before_next("tags.compare_and_set",
                            lambda: fakes.move("chat", "production", v1.id, play="rollback"))
    with pytest.raises(TagMovedMeanwhile):
        promoted(ctx, v3)
    assert fakes.tags[("chat", "production")] == (v1.id, 3)
    assert [e.to_version for e in fakes.events] == [v1.id, v2.id, v1.id]  # ours is not there
    assert failed_step(fakes.last_run()) == "move production tag"


def test_high_stakes_opens_a_request_and_moves_nothing(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    t1 = fakes.add_version("triage", "t1", {"accuracy": 0.5})
    fakes.move("triage", "production", t1.id)
    t2 = registered(ctx, "triage", "t2", 0.6, parent=t1, actor="erin")
    events_before = fakes.events

    result = promoted(ctx, t2, "erin", "better triage")

    request = result.request
    assert result.event is None and request is not None
    assert fakes.tag("triage") == t1.id and fakes.events == events_before
    assert fakes.approval(request.id) == request
    assert (request.model, request.version_id, request.tag, request.requester) == (
        "triage", t2.id, "production", "erin")
    assert request.required == 1 and request.status == ApprovalStatus.PENDING
    assert request.production_at_request == t1.id
    assert request.created_at == fakes.clock.now()
    assert request.expires_at - request.created_at == timedelta(hours=24)
    assert result.gate["delta"] == pytest.approx(0.1)
    assert fakes.last_run().result == {"request": request.id, "status": "pending",
                                       "required": 1}
    assert steps(fakes.last_run())[-1] == ("request approval", StepStatus.OK)


def test_regulated_needs_two_approvals_and_ttl_comes_from_config() -> None:
    ctx, _fakes = make_ctx(BASE.replace('approvers = ["bob", "carol", "dave"]',
                                       'approvers = ["bob", "carol", "dave"]\n'
                                       'approval_ttl_hours = 2'))
    c1 = registered(ctx, "credit", "c1", 0.5)
    request = promoted(ctx, c1).request
    assert request is not None
    assert request.required == 2 and request.production_at_request is None
    assert request.expires_at - request.created_at == timedelta(hours=2)


def test_a_new_request_supersedes_the_pending_one_of_the_same_model(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    t1 = registered(ctx, "triage", "t1", 0.5)
    t2 = registered(ctx, "triage", "t2", 0.6, parent=t1)
    c1 = registered(ctx, "credit", "c1", 0.5)
    first = promoted(ctx, t1).request
    other_model = promoted(ctx, c1).request
    assert first is not None and other_model is not None
    fakes.clock.advance(minutes=5)

    second = promoted(ctx, t2).request

    assert second is not None
    old = fakes.approval(first.id)
    assert old.status == ApprovalStatus.SUPERSEDED
    assert old.decision_note == f"superseded by {second.id}"
    assert old.decided_at == fakes.clock.now()
    assert fakes.approval(other_model.id).status == ApprovalStatus.PENDING
    assert fakes.last_run().steps[-1].output["superseded"] == [first.id]


def test_high_stakes_gate_runs_before_any_request(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    t1 = fakes.add_version("triage", "t1", {"accuracy": 0.5})
    fakes.move("triage", "production", t1.id)
    worse = registered(ctx, "triage", "worse", 0.4, parent=t1)
    refused_and_unchanged(ctx, fakes, "triage", worse.short)
    assert fakes.approvals == []


def test_an_experiment_version_can_be_promoted(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    base = registered(ctx, "chat", "base", 0.5)
    exp = fakes.add_version("chat", "exp", {"accuracy": 0.6}, parent=base.id, kind="experiment",
                            experiment="shorter")
    promoted(ctx, exp)
    assert fakes.tag("chat") == exp.id


def rolled_back(ctx: PlayContext, model: str = "chat") -> tuple[Version, Version]:
    """v1 then v2 went to production; v2 misbehaved and the on-call rolled it back."""
    v1, v2 = chain(ctx, model, 0.6, 0.7) if model == "chat" else high_chain(ctx, model)
    rollback(Rollback.parse(model=model, actor="UONCALL", symptom="answers in Klingon"), ctx)
    return v1, v2


def high_chain(ctx: PlayContext, model: str) -> tuple[Version, Version]:
    v1 = registered(ctx, model, "t1", 0.6)
    approved(ctx, promoted(ctx, v1).request.id, "bob")  # type: ignore[union-attr]
    v2 = registered(ctx, model, "t2", 0.7, parent=v1)
    approved(ctx, promoted(ctx, v2).request.id, "bob")  # type: ignore[union-attr]
    return v1, v2


def test_a_version_rolled_back_from_goes_out_again_only_with_a_reason(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    _, v2 = rolled_back(ctx)
    (incident,) = fakes.incidents
    message = refused_and_unchanged(ctx, fakes, "chat", v2.short,
                                    step="check past rollbacks")
    assert f"rolled back from in production: incident {incident.id}" in message
    assert "answers in Klingon" in message and "needs a reason" in message
    with pytest.raises(Refused) as err:
        promoted(ctx, v2, override="  ")
    assert err.value.people == ("UONCALL",) and "--override" in (err.value.hint or "")

    result = promoted(ctx, v2, reason="retry", override="the upstream fix is live")
    assert result.event is not None and result.rolled_back == (incident,)
    assert result.event.reason == (f"retry · promoted again after rollback ({incident.id}): "
                                   "the upstream fix is live")
    assert fakes.tags[("chat", "production")][0] == v2.id
    assert fakes.last_run().steps[2].output["override_reason"] == "the upstream fix is live"


def test_a_high_stakes_request_for_it_carries_the_reason_and_its_rollbacks(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, _fakes = world
    _, v2 = rolled_back(ctx, "triage")
    result = promoted(ctx, v2, reason="", override="hotfix verified")
    assert result.request is not None and len(result.rolled_back) == 1
    assert result.request.reason == (f"promoted again after rollback "
                                     f"({result.rolled_back[0].id}): hotfix verified")
    view = queries.approval_view(ctx, result.request.id)
    assert view.rolled_back == result.rolled_back
    event = approved(ctx, result.request.id, "carol").event
    assert event is not None and event.reason == result.request.reason


def test_an_approval_after_a_rollback_of_the_candidate_needs_a_reason(
        world: tuple[PlayContext, Fakes]) -> None:
    """The request was made, then the on-call put the candidate in production by hand
    (rollback --to) and rolled production back from it: approving the request is promoting a
    version known bad since, which needs the approver's reason."""
    ctx, fakes = world
    v1, v2 = high_chain(ctx, "triage")
    v3 = registered(ctx, "triage", "t3", 0.8, parent=v2)
    request = promoted(ctx, v3).request
    assert request is not None
    rollback(Rollback.parse(model="triage", actor="UONCALL", to=v3.short), ctx)
    rolled = rollback(Rollback.parse(model="triage", actor="UONCALL", symptom="slow"), ctx)
    assert fakes.tags[("triage", "production")][0] == v1.id  # v2 was rolled back from too
    before = fakes.snapshot()
    with pytest.raises(Refused) as err:
        approved(ctx, request.id, "bob")
    assert f"after this request was made: incident {rolled.incident.id}" in str(err.value)
    assert fakes.snapshot() == before
    decision = approve(Approve.parse(request_id=request.id, approver="bob",
                                     override_reason="the slowness was the cache"), ctx)
    assert decision.event is not None and decision.event.to_version == v3.id
    assert decision.event.reason.endswith(
        f"approved again after rollback ({rolled.incident.id}): the slowness was the cache")
