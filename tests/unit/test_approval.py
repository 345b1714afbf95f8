"""Play 2's second approver: who may approve, when, and against which production."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fakes import FakeApproverDirectory, Fakes, make_ctx
from given import BASE, approved, failed_step, promoted, registered, steps

from core.commands import Approve, Reject, Rollback
from core.domain import ApprovalRequest, ApprovalStatus, RunStatus, StepStatus, Version
from core.engine import PlayContext
from core.errors import Conflict, InvalidState, NotFound, Refused, TagMovedMeanwhile
from core.plays.approval import expire_overdue, reject
from core.plays.rollback import rollback

GROUP = """
[models.ops]
metric = "accuracy"
stakes = "high"
approver_group = "S0123ML"
"""


@pytest.fixture
def world() -> tuple[PlayContext, Fakes]:
    return make_ctx(BASE)


def requested(ctx: PlayContext, fakes: Fakes, model: str = "triage", score: float = 0.6,
              requester: str = "erin") -> tuple[Version, Version, ApprovalRequest]:
    """Production at a 0.5 version, and a pending request for a better one."""
    prod = fakes.add_version(model, f"{model} prod", {"accuracy": 0.5})
    fakes.move(model, "production", prod.id, actor="erin")
    candidate = registered(ctx, model, f"{model} candidate {score}", score, parent=prod,
                           actor=requester)
    request = promoted(ctx, candidate, requester, "better").request
    assert request is not None
    return prod, candidate, request


def refused(ctx: PlayContext, fakes: Fakes, request_id: str, approver: str,
            error: type[Exception] = Refused, step: str = "check approver") -> str:
    before = fakes.snapshot()
    with pytest.raises(error) as err:
        approved(ctx, request_id, approver)
    assert fakes.snapshot() == before  # no approval recorded, no tag moved, no event
    run = fakes.last_run()
    assert run.play == "approve" and run.status == RunStatus.FAILED
    assert failed_step(run) == step
    return str(err.value)


def test_an_approver_approval_moves_production(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    prod, candidate, request = requested(ctx, fakes)
    fakes.clock.advance(hours=1)

    decision = approved(ctx, request.id, "bob")

    assert fakes.tags[("triage", "production")] == (candidate.id, 2)
    event = fakes.events[-1]
    assert decision.event == event
    assert (event.from_version, event.to_version) == (prod.id, candidate.id)
    assert (event.actor, event.approvers, event.play, event.reason) == (
        "erin", ("bob",), "promote", "better")
    assert event.at == fakes.clock.now()
    stored = fakes.approval(request.id)
    assert stored.status == ApprovalStatus.APPROVED
    assert (stored.decided_by, stored.decided_at) == ("bob", fakes.clock.now())
    assert stored.approvers == ("bob",)
    run = fakes.last_run()
    assert steps(run) == [("load request", StepStatus.OK), ("check approver", StepStatus.OK),
                          ("re-check gate", StepStatus.OK), ("record approval", StepStatus.OK)]
    assert run.result == {"request": request.id, "status": "approved",
                          "promoted": candidate.short}


def test_the_requester_cannot_approve_their_own_promotion(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    _, _, request = requested(ctx, fakes, requester="bob")  # bob is an approver too
    text = refused(ctx, fakes, request.id, "bob")
    assert "cannot approve" in text
    assert fakes.approval(request.id).status == ApprovalStatus.PENDING


def test_someone_who_is_not_an_approver_is_refused(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    _, _, request = requested(ctx, fakes)
    text = refused(ctx, fakes, request.id, "mallory")
    assert "mallory is not an approver of triage" in text and "bob, carol" in text


def test_regulated_needs_two_distinct_approvers(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    prod, candidate, request = requested(ctx, fakes, "credit")

    first = approved(ctx, request.id, "bob")
    assert first.event is None
    assert fakes.tag("credit") == prod.id
    stored = fakes.approval(request.id)
    assert stored.status == ApprovalStatus.PENDING and stored.approvers == ("bob",)
    assert fakes.last_run().result["promoted"] is None

    text = refused(ctx, fakes, request.id, "bob")
    assert "already approved" in text and "1 more" in text

    second = approved(ctx, request.id, "carol")
    assert second.event is not None and second.event.approvers == ("bob", "carol")
    assert fakes.tag("credit") == candidate.id
    assert fakes.approval(request.id).status == ApprovalStatus.APPROVED
    assert fakes.approval(request.id).decided_by == "carol"


def test_the_gate_is_rechecked_against_the_production_of_the_moment(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    _, _candidate, request = requested(ctx, fakes, score=0.6)
    better = registered(ctx, "triage", "much better", 0.9, actor="erin")
    rollback(Rollback.parse(model="triage", actor="oncall", to=better.short), ctx)

    text = refused(ctx, fakes, request.id, "bob", step="re-check gate")
    assert "below production" in text
    assert fakes.tag("triage") == better.id
    assert fakes.approval(request.id).status == ApprovalStatus.PENDING
    assert fakes.approval(request.id).approvals == []


def test_production_moved_between_gate_and_move(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    prod, _, request = requested(ctx, fakes)
    other = fakes.add_version("triage", "other", {"accuracy": 0.55})
    fakes.store.before_next("tags.compare_and_set",
                            lambda: fakes.move("triage", "production", other.id))

    with pytest.raises(TagMovedMeanwhile):
        approved(ctx, request.id, "bob")

    assert fakes.tags[("triage", "production")] == (other.id, 2)
    assert [e.to_version for e in fakes.events] == [prod.id, other.id]
    stored = fakes.approval(request.id)
    assert stored.status == ApprovalStatus.PENDING and stored.approvals == []
    assert failed_step(fakes.last_run()) == "record approval"


def test_candidate_already_production_cannot_be_approved(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    _, candidate, request = requested(ctx, fakes)
    fakes.move("triage", "production", candidate.id)
    refused(ctx, fakes, request.id, "bob", InvalidState, "re-check gate")


def test_an_expired_request_is_refused_and_marked_expired(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    prod, _, request = requested(ctx, fakes)
    fakes.clock.set(request.expires_at)  # expiry is inclusive
    events = fakes.events

    with pytest.raises(InvalidState) as err:
        approved(ctx, request.id, "bob")

    assert "expired" in str(err.value)
    stored = fakes.approval(request.id)
    assert stored.status == ApprovalStatus.EXPIRED
    assert stored.decided_at == request.expires_at and stored.approvals == []
    assert fakes.tag("triage") == prod.id and fakes.events == events
    assert failed_step(fakes.last_run()) == "load request"


def test_just_before_expiry_is_still_in_time(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    _, candidate, request = requested(ctx, fakes)
    fakes.clock.set(request.expires_at - timedelta(seconds=1))
    approved(ctx, request.id, "bob")
    assert fakes.tag("triage") == candidate.id


@pytest.mark.parametrize("status", ["rejected", "superseded", "approved"])
def test_decided_requests_cannot_be_approved(world: tuple[PlayContext, Fakes],
                                             status: str) -> None:
    ctx, fakes = world
    prod, _candidate, request = requested(ctx, fakes)
    if status == "rejected":
        reject(Reject.parse(request_id=request.id, actor="carol", reason="not now"), ctx)
    elif status == "superseded":
        promoted(ctx, registered(ctx, "triage", "newer", 0.7, parent=prod), "erin")
    else:
        approved(ctx, request.id, "carol")
    assert fakes.approval(request.id).status == status

    text = refused(ctx, fakes, request.id, "bob", InvalidState, "load request")
    assert status in text and "can no longer be decided" in text
    if status == "rejected":
        assert "by carol (not now)" in text


def test_an_unknown_request_is_not_found(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    refused(ctx, fakes, "apr-nope", "bob", NotFound, "load request")


@pytest.mark.parametrize("who", ["erin", "carol"])
def test_the_requester_or_an_approver_may_reject(world: tuple[PlayContext, Fakes],
                                                 who: str) -> None:
    ctx, fakes = world
    prod, _, request = requested(ctx, fakes)
    fakes.clock.advance(minutes=3)
    events = fakes.events

    decision = reject(Reject.parse(request_id=request.id, actor=who, reason="too risky"), ctx)

    stored = fakes.approval(request.id)
    assert decision.event is None and decision.request.status == ApprovalStatus.REJECTED
    assert (stored.status, stored.decided_by, stored.decision_note) == (
        ApprovalStatus.REJECTED, who, "too risky")
    assert stored.decided_at == fakes.clock.now()
    assert fakes.tag("triage") == prod.id and fakes.events == events


def test_anyone_else_may_not_reject(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    _, _, request = requested(ctx, fakes)
    before = fakes.snapshot()
    with pytest.raises(Refused) as err:
        reject(Reject.parse(request_id=request.id, actor="mallory"), ctx)
    assert "only the requester or an approver" in str(err.value)
    assert fakes.snapshot() == before
    assert failed_step(fakes.last_run()) == "check rejecter"


def test_a_decided_request_cannot_be_rejected(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    _, _, request = requested(ctx, fakes)
    approved(ctx, request.id, "bob")
    before = fakes.snapshot()
    with pytest.raises(InvalidState):
        reject(Reject.parse(request_id=request.id, actor="erin"), ctx)
    assert fakes.snapshot() == before


def test_two_approvers_at_once_cannot_both_be_lost_or_double_counted(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    prod, candidate, request = requested(ctx, fakes, "credit")
    # carol's approval lands while bob's is being recorded: bob read a stale request.
    fakes.store.before_next("approvals.save", lambda: approved(ctx, request.id, "carol"))

    with pytest.raises(Conflict):
        approved(ctx, request.id, "bob")

    assert fakes.approval(request.id).approvers == ("carol",)
    assert fakes.tag("credit") == prod.id
    approved(ctx, request.id, "bob")  # retry with a fresh read
    assert fakes.tag("credit") == candidate.id
    assert fakes.events[-1].approvers == ("carol", "bob")


def test_group_approvals_need_the_directory() -> None:
    ctx, fakes = make_ctx(GROUP)
    _, candidate, request = requested(ctx, fakes, "ops")
    text = refused(ctx, fakes, request.id, "bob")
    assert "S0123ML" in text and "approve from Slack" in text

    directory = FakeApproverDirectory({"ops": {"bob"}})
    ctx.approvers = directory
    refused(ctx, fakes, request.id, "mallory")
    approved(ctx, request.id, "bob")
    assert fakes.tag("ops") == candidate.id
    assert directory.asked == [("ops", "mallory"), ("ops", "bob")]


def test_the_sweep_expires_only_overdue_pending_requests(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    _, _, old = requested(ctx, fakes, "triage")
    fakes.clock.advance(hours=20)
    _, _, fresh = requested(ctx, fakes, "credit")
    fakes.clock.advance(hours=5)

    expired = expire_overdue(ctx)

    assert [r.id for r in expired] == [old.id]
    assert fakes.approval(old.id).status == ApprovalStatus.EXPIRED
    assert fakes.approval(fresh.id).status == ApprovalStatus.PENDING
    assert expire_overdue(ctx) == []


def test_approve_command_needs_both_fields() -> None:
    with pytest.raises(Exception) as err:
        Approve.parse(request_id="apr-1")
    assert getattr(err.value, "field", None) == "approver"
