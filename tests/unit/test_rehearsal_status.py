"""When a model is due its next rehearsal: never rehearsed, the cadence passed, the deploy
path changed, or the last drill's confirming eval did not pass."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fakes import FakeEvaluator, Fakes, make_ctx
from given import registered
from rehearsal_given import DAYS, STRICT, drill, history, passing, slow_rollback, status

from core.commands import Rehearse
from core.engine import PlayContext
from core.plays.rehearse import rehearse


@pytest.fixture
def world() -> tuple[PlayContext, Fakes]:
    return make_ctx(STRICT, evaluator=passing())


# --- when a rehearsal is due ---------------------------------------------------------------


def test_nothing_to_rehearse_without_production(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    registered(ctx, "chat", "v1", 0.6)

    s = status(ctx, fakes, "fp")

    assert (s.model, s.last, s.due, s.due_at, s.over_budget) == ("chat", None, False, None,
                                                                 False)
    assert "until a version reaches production" in s.why


def test_never_rehearsed_is_due(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    history(ctx)  # with a real incident: it is no rehearsal

    s = status(ctx, fakes)

    assert (s.last, s.due, s.why, s.due_at, s.over_budget) == (None, True, "never rehearsed",
                                                               None, False)


def test_a_fresh_rehearsal_is_not_due_until_the_cadence_has_passed() -> None:
    ctx, fakes = make_ctx(DAYS, evaluator=passing())
    history(ctx)
    result = drill(ctx, deploy_fingerprint="fp")
    last = result.incident
    due_at = last.opened_at + timedelta(days=7)

    fresh = status(ctx, fakes, "fp")
    assert (fresh.last, fresh.due, fresh.due_at, fresh.over_budget) == (last, False, due_at,
                                                                         False)
    assert fresh.why == f"next due {due_at:%Y-%m-%d}"

    almost = status(ctx, fakes, "fp", now=due_at - timedelta(seconds=1))
    assert (almost.due, almost.due_at) == (False, due_at)

    due = status(ctx, fakes, "fp", now=due_at)
    assert (due.last, due.due, due.due_at) == (last, True, due_at)
    assert due.why == "last rehearsed 7 days ago (every 7 days)"

    later = status(ctx, fakes, "fp", now=due_at + timedelta(days=3))
    assert later.due and later.why == "last rehearsed 10 days ago (every 7 days)"


def test_the_default_cadence_is_ninety_days(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    history(ctx)
    last = drill(ctx).incident

    assert status(ctx, fakes).due_at == last.opened_at + timedelta(days=90)
    assert not status(ctx, fakes, now=last.opened_at + timedelta(days=89)).due
    assert status(ctx, fakes, now=last.opened_at + timedelta(days=90)).due


@pytest.mark.parametrize(("rehearsed_with", "now_with"), [
    (None, "fp-x"), ("fp-x", "fp-y"), ("fp-x", None)])
def test_a_changed_deploy_path_makes_it_due_at_once(
        world: tuple[PlayContext, Fakes], rehearsed_with: str | None,
        now_with: str | None) -> None:
    ctx, fakes = world
    history(ctx)
    last = drill(ctx, deploy_fingerprint=rehearsed_with).incident
    now = fakes.clock.advance(minutes=1)

    s = status(ctx, fakes, now_with, now=now)

    assert (s.last, s.due, s.due_at) == (last, True, now)
    assert s.why == "its deploy path changed since the last rehearsal"
    assert not status(ctx, fakes, rehearsed_with, now=now).due  # unchanged: not due


def test_the_last_rehearsal_decides_over_budget_and_fingerprint(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    history(ctx)
    rehearse(Rehearse.parse(model="chat", actor="oncall", deploy_fingerprint="old"), ctx,
             slow_rollback(ctx, fakes))
    assert status(ctx, fakes, "old").over_budget is True
    fakes.clock.advance(hours=1)

    fast = drill(ctx, deploy_fingerprint="new").incident

    s = status(ctx, fakes, "new")
    assert (s.last, s.over_budget, s.due) == (fast, False, False)
    assert status(ctx, fakes, "old").due  # compared with the last rehearsal, not any


@pytest.mark.parametrize("evaluator", [FakeEvaluator(default={"accuracy": 0.1}),
                                       FakeEvaluator(fail="eval service down")])
def test_a_rehearsal_whose_confirmation_did_not_pass_leaves_the_model_due(
        evaluator: FakeEvaluator) -> None:
    ctx, fakes = make_ctx(DAYS, evaluator=evaluator)
    history(ctx)
    last = drill(ctx).incident
    assert last.confirmation != "passed"

    s = status(ctx, fakes)

    assert (s.last, s.due) == (last, True)
    assert s.why.startswith("the last rehearsal's confirming eval did not pass")
