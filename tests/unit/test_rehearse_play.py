"""Play 3 rehearsed: the `rehearsal` tag is staged at production and rolled back, timed, while
`production` never moves (when a model is due a rehearsal: test_rehearsal_status.py)."""

from __future__ import annotations

import pytest
from fakes import Fakes, make_ctx
from given import chain, failed_step, registered, steps
from rehearsal_given import (
    STRICT,
    drill,
    history,
    passing,
    production_events,
    slow_rollback,
    status,
)

from core.commands import Rehearse, Rollback
from core.domain import PRODUCTION, REHEARSAL, RunStatus, StepStatus
from core.engine import PlayContext
from core.errors import InvalidState, Refused
from core.plays.rehearse import rehearse
from core.plays.rollback import RollbackResult, last_known_good, rollback


@pytest.fixture
def world() -> tuple[PlayContext, Fakes]:
    return make_ctx(STRICT, evaluator=passing())


# --- refusals ------------------------------------------------------------------------------


def test_no_production_version_is_an_invalid_state_and_changes_nothing(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    registered(ctx, "chat", "v1", 0.6)
    before = fakes.snapshot()
    runs = len(fakes.runs)

    with pytest.raises(InvalidState) as err:
        drill(ctx)

    assert "no production version" in err.value.message
    assert "promote" in (err.value.hint or "")
    assert fakes.snapshot() == before  # no tag, no event, no incident
    assert fakes.tag("chat", REHEARSAL) is None
    run = fakes.last_run()
    assert len(fakes.runs) == runs + 1 and run.play == "rehearse"
    assert run.status == RunStatus.FAILED
    assert failed_step(run) == "stage rehearsal tag"
    assert fakes.evaluator.calls == []


def test_no_known_good_earlier_version_is_refused_and_changes_nothing(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    chain(ctx, "chat", 0.6)  # the first production version: nothing to go back to
    before = fakes.snapshot()

    with pytest.raises(Refused) as err:
        drill(ctx)

    assert "would fail now" in err.value.message
    assert "--to" in (err.value.hint or "")
    assert fakes.snapshot() == before
    assert fakes.tag("chat", REHEARSAL) is None
    assert failed_step(fakes.last_run()) == "stage rehearsal tag"
    assert [r.play for r in fakes.runs].count("rollback") == 0  # the rollback never ran


def test_only_tainted_or_failing_earlier_versions_is_refused_too(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    v1, _v2 = chain(ctx, "chat", 0.6, 0.7)
    rollback(Rollback.parse(model="chat", actor="oncall"), ctx)  # v2 -> v1: v2 is tainted
    failing = fakes.add_version("chat", "failing", {"accuracy": 0.4}, parent=v1.id)
    fakes.move("chat", "production", failing.id)
    fakes.move("chat", "production", v1.id)  # before v1 now: a tainted v2 and a failing one
    with fakes.uow() as uow:
        assert last_known_good(uow, ctx.config.model("chat"), PRODUCTION, v1) is None
    before = fakes.snapshot()

    with pytest.raises(Refused):
        drill(ctx)

    assert fakes.snapshot() == before


# --- a rehearsal ---------------------------------------------------------------------------


def test_a_rehearsal_rolls_back_the_rehearsal_tag_and_never_production(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    v1, v2, v3 = history(ctx)
    fakes.evaluator.set(v1.id, accuracy=0.61)
    with fakes.uow() as uow:
        would = last_known_good(uow, ctx.config.model("chat"), PRODUCTION, v3)
    assert would == v1
    prod_tag = fakes.tags[("chat", PRODUCTION)]
    prod_events = production_events(fakes)
    events_before = len(fakes.events)
    real = list(fakes.incidents)
    approvals = fakes.approvals
    fakes.clock.advance(hours=1)

    result = drill(ctx, deploy_fingerprint="fp-1")

    # production: not moved, no new event
    assert fakes.tags[("chat", PRODUCTION)] == prod_tag == (v3.id, prod_tag[1])
    assert production_events(fakes) == prod_events
    # the rehearsal tag: staged at production, then rolled back to what production would get
    assert (result.production, result.target) == (v3, v1)
    assert fakes.tags[("chat", REHEARSAL)] == (v1.id, 2)
    stage, back = fakes.events[events_before:]
    assert (stage.tag, stage.play, stage.from_version, stage.to_version, stage.revision) == (
        REHEARSAL, "rehearse", None, v3.id, 1)
    assert (stage.actor, stage.reason) == ("oncall", "staged at production for a rehearsal")
    assert (back.tag, back.play, back.from_version, back.to_version, back.revision) == (
        REHEARSAL, "rollback", v3.id, v1.id, 2)
    assert back.reason == "rollback rehearsal"
    # the incident: a rehearsal, with the deploy fingerprint it exercised
    new = [i for i in fakes.incidents if i not in real]
    assert len(new) == 1 and real == [i for i in fakes.incidents if not i.rehearsal]
    (incident,) = new
    assert result.incident == incident
    assert (incident.rehearsal, incident.tag, incident.deploy_fingerprint) == (
        True, REHEARSAL, "fp-1")
    assert (incident.bad_version, incident.restored_version) == (v3.id, v1.id)
    assert (incident.opened_by, incident.symptom) == ("oncall", "rollback rehearsal")
    assert incident.time_to_rollback_s == (
        incident.rolled_back_at - incident.opened_at).total_seconds() == 0
    assert incident.confirmation == "passed" and incident.confirm_scores == {"accuracy": 0.61}
    assert incident.rolled_back_at == back.at
    assert (result.budget_s, result.over_budget) == (300, False)
    # the run
    run = fakes.last_run()
    assert (run.id, run.play, run.actor, run.status) == (result.run_id, "rehearse", "oncall",
                                                          RunStatus.SUCCEEDED)
    assert steps(run) == [("stage rehearsal tag", StepStatus.OK),
                          ("roll back the rehearsal tag", StepStatus.OK),
                          ("record the rehearsal", StepStatus.OK)]
    assert run.steps[0].output == {"production": v3.short, "target": v1.short, "revision": 1}
    assert run.steps[2].output == {"over_budget": False}
    assert run.result == {"incident": incident.id, "production": v3.short,
                          "target": v1.short, "time_to_rollback_s": 0.0, "budget_s": 300.0,
                          "confirmation": "passed"}
    assert [r.play for r in fakes.runs][-2:] == ["rollback", "rehearse"]  # the same play
    # nothing else
    assert fakes.approvals == approvals
    assert v2.id not in (incident.bad_version, incident.restored_version)


def test_a_second_rehearsal_right_after_stages_again(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    v1, _v2, v3 = history(ctx)
    first = drill(ctx, deploy_fingerprint="fp-1")
    prod_tag = fakes.tags[("chat", PRODUCTION)]
    prod_events = production_events(fakes)
    n_events = len(fakes.events)
    fakes.clock.advance(minutes=5)

    second = drill(ctx, actor="erin", deploy_fingerprint="fp-2")

    assert (second.production, second.target) == (v3, v1)
    assert second.incident.id != first.incident.id
    assert fakes.tags[("chat", REHEARSAL)] == (v1.id, 4)
    stage, back = fakes.events[n_events:]
    assert (stage.play, stage.from_version, stage.to_version, stage.actor) == (
        "rehearse", v1.id, v3.id, "erin")
    assert (back.play, back.from_version, back.to_version) == ("rollback", v3.id, v1.id)
    assert fakes.tags[("chat", PRODUCTION)] == prod_tag
    assert production_events(fakes) == prod_events
    drills = sorted((i for i in fakes.incidents if i.rehearsal), key=lambda i: i.opened_at)
    assert [(i.id, i.deploy_fingerprint) for i in drills] == [
        (first.incident.id, "fp-1"), (second.incident.id, "fp-2")]
    # a rehearsal's rollback does not taint versions for a real rollback of production
    with fakes.uow() as uow:
        assert last_known_good(uow, ctx.config.model("chat"), PRODUCTION, v3) == v1


def test_a_rehearsal_already_staged_at_production_is_not_moved_again(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    v1, _v2, v3 = history(ctx)
    fakes.move("chat", REHEARSAL, v3.id, play="rehearse")  # left staged by an earlier attempt
    n_events = len(fakes.events)

    result = drill(ctx)

    (back,) = fakes.events[n_events:]
    assert (back.play, back.from_version, back.to_version, back.revision) == (
        "rollback", v3.id, v1.id, 2)
    assert result.target == v1 and fakes.tags[("chat", REHEARSAL)] == (v1.id, 2)


def test_a_slow_rollback_is_over_budget(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    history(ctx)
    prod_tag = fakes.tags[("chat", PRODUCTION)]

    result = rehearse(Rehearse.parse(model="chat", actor="oncall"), ctx,
                      slow_rollback(ctx, fakes))

    i = result.incident
    assert i.time_to_rollback_s == (i.rolled_back_at - i.opened_at).total_seconds()
    assert i.time_to_rollback_s > 300
    assert result.over_budget is True and result.budget_s == 300
    assert fakes.last_run().steps[2].output == {"over_budget": True}
    assert fakes.last_run().result["time_to_rollback_s"] == i.time_to_rollback_s
    assert fakes.tags[("chat", PRODUCTION)] == prod_tag
    assert status(ctx, fakes).over_budget is True


def test_the_same_slow_rollback_within_a_larger_budget_is_not_over() -> None:
    ctx, fakes = make_ctx(STRICT.replace("min_score = 0.5",
                                         "min_score = 0.5\nmax_time_to_rollback_s = 3600"),
                          evaluator=passing())
    history(ctx)

    result = rehearse(Rehearse.parse(model="chat", actor="oncall"), ctx,
                      slow_rollback(ctx, fakes))

    assert result.incident.time_to_rollback_s > 300
    assert (result.budget_s, result.over_budget) == (3600, False)
    assert status(ctx, fakes).over_budget is False


def test_roll_back_is_given_the_order_for_the_rehearsal_tag(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    v1, _v2, v3 = history(ctx)
    orders: list[Rollback] = []

    def spy(order: Rollback) -> RollbackResult:
        orders.append(order)
        return rollback(order, ctx)

    rehearse(Rehearse.parse(model="chat", actor="oncall", reason="quarterly drill"), ctx, spy)

    (order,) = orders
    assert (order.tag, order.to, order.expected_revision, order.symptom, order.actor) == (
        REHEARSAL, v1.id, 1, "quarterly drill", "oncall")
    assert fakes.tag("chat") == v3.id
