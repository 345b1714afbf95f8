"""Play 3: emergency rollback to the last known-good version, confirmed by the eval suite."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fakes import FakeClock, Fakes, make_ctx
from given import BASE, chain, failed_step, promoted, registered, steps

from core.commands import Rollback
from core.domain import RunStatus, StepStatus
from core.engine import PlayContext
from core.errors import InvalidInput, InvalidState, NotFound, Refused, TagMovedMeanwhile
from core.plays.rollback import rollback

STRICT = BASE.replace('owner = "alice"', 'owner = "alice"\nmin_score = 0.5')


@pytest.fixture
def world() -> tuple[PlayContext, Fakes]:
    return make_ctx(STRICT)


def roll(ctx: PlayContext, model: str = "chat", **kw: Any) -> Any:
    return rollback(Rollback.parse(model=model, actor=kw.pop("actor", "oncall"), **kw), ctx)


def test_rolls_back_to_the_previous_good_version(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    v1, v2, v3 = chain(ctx, "chat", 0.6, 0.7, 0.8)
    fakes.evaluator.set(v2.id, accuracy=0.71)
    fakes.clock.advance(hours=1)

    result = roll(ctx, symptom="answers in French")

    assert (result.bad, result.restored) == (v3, v2)
    assert fakes.tags[("chat", "production")] == (v2.id, 4)
    event = fakes.events[-1]
    assert result.event == event
    assert (event.from_version, event.to_version, event.play, event.actor, event.reason) == (
        v3.id, v2.id, "rollback", "oncall", "answers in French")
    assert event.approvers == ()  # no ceremony on call
    (incident,) = fakes.incidents
    assert incident == result.incident
    assert (incident.bad_version, incident.restored_version, incident.tag) == (
        v3.id, v2.id, "production")
    assert (incident.opened_by, incident.symptom, incident.rehearsal) == (
        "oncall", "answers in French", False)
    assert incident.confirmation == "passed" and incident.confirm_scores == {"accuracy": 0.71}
    assert fakes.evaluator.called_ids == [v2.id]
    run = fakes.last_run()
    assert run.status == RunStatus.SUCCEEDED
    assert steps(run) == [("find current", StepStatus.OK), ("find target", StepStatus.OK),
                          ("move tag and open incident", StepStatus.OK),
                          ("confirm with eval suite", StepStatus.OK)]
    assert run.result["incident"] == incident.id and run.result["to"] == v2.short
    assert v1.id not in (incident.bad_version, incident.restored_version)


def test_time_to_rollback_is_measured_from_the_command() -> None:
    ctx, fakes = make_ctx(STRICT, clock=FakeClock())
    _, _v2 = chain(ctx, "chat", 0.6, 0.7)
    fakes.clock.tick = timedelta(seconds=2)  # every reading of the clock takes two seconds

    incident = roll(ctx).incident

    assert incident.time_to_rollback_s > 0
    assert incident.time_to_rollback_s == (
        incident.rolled_back_at - incident.opened_at).total_seconds()
    assert fakes.events[-1].at == incident.rolled_back_at
    assert incident.confirmed_at is not None and incident.confirmed_at > incident.rolled_back_at
    assert fakes.last_run().steps[2].output["time_to_rollback_s"] == incident.time_to_rollback_s


def test_skips_versions_that_failed_their_eval(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    (v1,) = chain(ctx, "chat", 0.6)
    failing = fakes.add_version("chat", "failing", {"accuracy": 0.4}, parent=v1.id)
    unscored = fakes.add_version("chat", "unscored", {"bleu": 0.9}, parent=v1.id)
    bad = registered(ctx, "chat", "bad", 0.9, parent=v1)
    for v in (failing, unscored, bad):
        fakes.move("chat", "production", v.id)

    result = roll(ctx)

    assert result.restored == v1
    assert fakes.last_run().steps[1].output == {"target": v1.short, "passed": True}


def test_skips_versions_that_were_rolled_back_from(world: tuple[PlayContext, Fakes]) -> None:
    ctx, _fakes = world
    v1, v2 = chain(ctx, "chat", 0.6, 0.7)
    roll(ctx)  # v2 -> v1: v2 is now known bad
    promoted(ctx, v2, override="fixed upstream")  # someone puts it back anyway
    v3 = registered(ctx, "chat", "v3", 0.8, parent=v2)
    promoted(ctx, v3)

    assert roll(ctx).restored == v1


def test_no_earlier_good_version_is_refused_with_nothing_changed(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    v1, _ = chain(ctx, "chat", 0.6, 0.7)
    roll(ctx)  # production is v1 again, and v2 was rolled back from
    before = fakes.snapshot()
    calls = list(fakes.evaluator.calls)

    with pytest.raises(Refused) as err:
        roll(ctx)

    assert "--to" in (err.value.hint or "")
    assert fakes.snapshot() == before  # no tag moved, no event, no incident
    assert fakes.evaluator.calls == calls
    assert failed_step(fakes.last_run()) == "find target"
    assert fakes.tag("chat") == v1.id


def test_the_first_production_version_has_nothing_to_go_back_to(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    chain(ctx, "chat", 0.6)
    before = fakes.snapshot()
    with pytest.raises(Refused):
        roll(ctx)
    assert fakes.snapshot() == before


def test_no_production_at_all_is_an_invalid_state(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    registered(ctx, "chat", "v1", 0.6)
    before = fakes.snapshot()
    with pytest.raises(InvalidState):
        roll(ctx)
    assert fakes.snapshot() == before
    assert failed_step(fakes.last_run()) == "find current"


def test_an_explicit_target_is_used_even_if_it_never_served(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    v1, _v2 = chain(ctx, "chat", 0.6, 0.7)
    hotfix = registered(ctx, "chat", "hotfix", 0.3, parent=v1)

    result = roll(ctx, to=hotfix.short)

    assert result.restored == hotfix and fakes.tag("chat") == hotfix.id
    assert fakes.last_run().steps[1].output == {"explicit": True, "target": hotfix.short,
                                                "passed": False}


def test_an_explicit_target_that_is_current_is_refused(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    _, v2 = chain(ctx, "chat", 0.6, 0.7)
    before = fakes.snapshot()
    with pytest.raises(InvalidState):
        roll(ctx, to=v2.short)
    with pytest.raises(NotFound):
        roll(ctx, to="chat@" + "0" * 12)
    with pytest.raises(InvalidInput):
        roll(ctx, to="ranker@" + v2.id[:12])
    assert fakes.snapshot() == before


def test_a_failed_confirmation_is_recorded_and_keeps_the_rollback(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    v1, _v2 = chain(ctx, "chat", 0.6, 0.7)
    fakes.evaluator.set(v1.id, accuracy=0.2)

    result = roll(ctx)

    assert fakes.tag("chat") == v1.id
    stored = fakes.incidents[0]
    assert stored.confirmation == "failed" and stored.confirm_scores == {"accuracy": 0.2}
    run = fakes.last_run()
    assert run.status == RunStatus.SUCCEEDED
    assert steps(run)[-1] == ("confirm with eval suite", StepStatus.FAILED)
    assert result.incident.confirmation == "failed"


def test_an_evaluator_error_does_not_undo_the_rollback(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    v1, _v2 = chain(ctx, "chat", 0.6, 0.7)
    fakes.evaluator.fail = "eval cluster down"

    roll(ctx)

    assert fakes.tags[("chat", "production")] == (v1.id, 3)
    stored = fakes.incidents[0]
    assert stored.confirmation == "error: eval cluster down"
    assert stored.confirmed_at is not None and stored.confirm_scores == {}
    run = fakes.last_run()
    assert run.status == RunStatus.SUCCEEDED
    assert run.steps[-1].error == "error: eval cluster down"


def test_a_model_without_evaluator_still_rolls_back() -> None:
    ctx, fakes = make_ctx('[models.chat]\nmetric = "accuracy"\n')
    v1, _ = chain(ctx, "chat", 0.6, 0.7)
    roll(ctx)
    assert fakes.tag("chat") == v1.id
    assert (fakes.incidents[0].confirmation or "").startswith("error: model 'chat' has no eval")


def test_a_racing_rollback_loses_and_changes_nothing(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    _v1, v2, _v3 = chain(ctx, "chat", 0.6, 0.7, 0.8)
    fakes.store.before_next("tags.compare_and_set", lambda: roll(ctx, actor="other-oncall"))

    with pytest.raises(TagMovedMeanwhile):
        roll(ctx)

    assert fakes.tag("chat") == v2.id
    assert len(fakes.incidents) == 1 and fakes.incidents[0].opened_by == "other-oncall"
    assert [e.play for e in fakes.events].count("rollback") == 1
    assert failed_step(fakes.last_run()) == "move tag and open incident"


def test_a_rehearsal_never_touches_production(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    v1, _v2, v3 = chain(ctx, "chat", 0.6, 0.7, 0.8)
    for v in (v1, v3):
        fakes.move("chat", "rehearsal", v.id, play="rehearse")
    production = fakes.tags[("chat", "production")]
    production_events = [e for e in fakes.events if e.tag == "production"]

    result = roll(ctx, tag="rehearsal", symptom="drill")

    assert result.restored == v1  # from the rehearsal tag's own history, not production's
    assert fakes.tags[("chat", "production")] == production
    assert [e for e in fakes.events if e.tag == "production"] == production_events
    assert fakes.tags[("chat", "rehearsal")] == (v1.id, 3)
    assert fakes.incidents[0].rehearsal is True and fakes.incidents[0].tag == "rehearsal"


def test_only_production_and_rehearsal_can_be_rolled_back() -> None:
    with pytest.raises(InvalidInput) as err:
        Rollback.parse(model="chat", actor="oncall", tag="canary")
    assert err.value.field == "tag"


def test_the_search_pages_through_a_long_history(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    good = fakes.add_version("chat", "good", {"accuracy": 0.9})
    failing = fakes.add_version("chat", "failing", {"accuracy": 0.1})
    bad = fakes.add_version("chat", "bad", {"accuracy": 0.9})
    fakes.move("chat", "production", good.id)
    for _ in range(130):  # more than one page of events that lead nowhere
        fakes.move("chat", "production", failing.id)
        fakes.move("chat", "production", bad.id)

    assert roll(ctx).restored == good
