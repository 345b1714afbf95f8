"""The play engine: every run is recorded, with its steps, whether it succeeded or not."""

from __future__ import annotations

import re
from datetime import UTC, timedelta

import pytest
from fakes import T0, FakeClock, Fakes, make_ctx

from core.config import parse_config
from core.domain import RunStatus, StepStatus, Version
from core.engine import ConfigApprovers, PlayContext, SystemClock, new_id
from core.errors import InvalidInput, NotFound, PlaybookError, Refused
from core.identity import Components

CONFIG = '[models.chat]\nmetric = "accuracy"\nevaluator = { command = "x" }\n'


@pytest.fixture
def world() -> tuple[PlayContext, Fakes]:
    return make_ctx(CONFIG, clock=FakeClock(tick=timedelta(seconds=1)))


def test_a_successful_run_is_recorded_with_its_steps(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    with ctx.run("demo", "alice", {"model": "chat"}) as run:
        (started,) = fakes.runs  # recorded as it starts: a process that dies leaves a trace
        assert (started.status, started.steps, started.ended_at) == (RunStatus.RUNNING, [],
                                                                     None)
        with run.step("first") as out:
            out["found"] = 3
        run.skip("second", "nothing to do")
        run.record("third", T0, {"checked": True})
        run.run.result = {"ok": True}

    (stored,) = fakes.runs
    assert stored.id == run.id == "run-1"
    assert (stored.play, stored.actor, stored.inputs) == ("demo", "alice", {"model": "chat"})
    assert stored.status == RunStatus.SUCCEEDED and stored.error is None
    assert stored.result == {"ok": True}
    assert [(s.name, s.status) for s in stored.steps] == [
        ("first", StepStatus.OK), ("second", StepStatus.SKIPPED), ("third", StepStatus.OK)]
    assert stored.steps[0].output == {"found": 3}
    assert stored.steps[1].output == {"why": "nothing to do"}
    first = stored.steps[0]
    assert stored.started_at <= first.started_at < first.ended_at
    assert stored.ended_at is not None and stored.ended_at > first.ended_at
    assert fakes.uow.commits == 2  # the run's start and its end, transactions of their own


def test_a_read_only_play_records_only_its_end(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    with ctx.run("audit", "alice", {}, record_start=False):
        assert fakes.runs == []
    assert [r.status for r in fakes.runs] == [RunStatus.SUCCEEDED]
    assert fakes.uow.commits == 1


def test_a_failing_step_names_itself_and_fails_the_run(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    with pytest.raises(Refused) as err, ctx.run("demo", "alice", {}) as run:
        with run.step("check") as out:
            out["looked_at"] = "x"
            raise Refused("not allowed", hint="ask bob")
        with run.step("never"):
            pass  # pragma: no cover

    assert err.value.step == "check"
    assert err.value.one_line() == "step 'check': not allowed (ask bob)"
    (stored,) = fakes.runs
    assert stored.id == run.id
    assert stored.status == RunStatus.FAILED
    assert stored.error == "step 'check': not allowed (ask bob)"
    assert [(s.name, s.status) for s in stored.steps] == [("check", StepStatus.FAILED)]
    assert stored.steps[0].error == "not allowed (ask bob)"
    assert stored.steps[0].output == {"looked_at": "x"}  # what it saw before failing is kept
    assert stored.ended_at is not None


def test_an_unexpected_exception_is_recorded_by_its_repr(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    with pytest.raises(ZeroDivisionError), ctx.run("demo", "alice", {}) as run, \
            run.step("divide"):
        _ = 1 / 0
    stored = fakes.last_run()
    assert stored.status == RunStatus.FAILED
    assert stored.error == "ZeroDivisionError('division by zero')"
    assert stored.steps[0].error == stored.error


def test_a_failure_outside_any_step_still_records_the_run(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    with pytest.raises(NotFound), ctx.run("demo", "alice", {}) as run:
        with run.step("fine"):
            pass
        raise NotFound("gone")
    stored = fakes.last_run()
    assert stored.status == RunStatus.FAILED and stored.error == "gone"
    assert [s.status for s in stored.steps] == [StepStatus.OK]


def test_the_innermost_step_keeps_the_blame(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    with pytest.raises(InvalidInput) as err, ctx.run("demo", "a", {}) as run, \
            run.step("outer"), run.step("inner"):
        raise InvalidInput("x", "bad")
    assert err.value.step == "inner"
    assert [(s.name, s.status) for s in fakes.last_run().steps] == [
        ("inner", StepStatus.FAILED), ("outer", StepStatus.FAILED)]


def test_a_record_with_an_error_is_a_failed_step_in_a_good_run(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    with ctx.run("demo", "a", {}) as run:
        run.record("confirm", T0, {"scores": {}}, "evaluator down")
    stored = fakes.last_run()
    assert stored.status == RunStatus.SUCCEEDED
    assert (stored.steps[0].status, stored.steps[0].error) == (StepStatus.FAILED,
                                                                "evaluator down")


def test_a_failed_step_rolls_back_its_transaction_but_the_run_is_kept(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    version = Version(model="chat", id="a" * 64, components=Components(prompt="p"), owner="o",
                      parent_id=None, reason="r", scores={}, eval_source="", created_at=T0)
    with pytest.raises(PlaybookError), ctx.run("demo", "a", {}) as run, \
            run.step("write"), ctx.uow() as uow:
        uow.versions.add(version)  # the play writes, then fails before commit
        raise PlaybookError("boom")
    assert fakes.versions == []
    assert fakes.last_run().status == RunStatus.FAILED


def test_ids_and_clock() -> None:
    made = [new_id("run") for _ in range(2000)]
    assert all(re.fullmatch(r"run-[0-9a-f]{32}", i) for i in made)  # 48-bit time, 80 random
    assert len(set(made)) == len(made)
    now = SystemClock().now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert now.tzinfo == UTC


def test_config_approvers() -> None:
    config = parse_config({"models": {
        "listed": {"stakes": "high", "approvers": ["bob"]},
        "group": {"stakes": "high", "approver_group": "S1"},
        "both": {"stakes": "high", "approvers": ["bob"], "approver_group": "S1"}}})
    approvers = ConfigApprovers()
    assert approvers.may_approve(config.model("listed"), "bob") == (True, "")
    allowed, why = approvers.may_approve(config.model("listed"), "eve")
    assert not allowed and why == "eve is not an approver of listed (approvers: bob)"
    allowed, why = approvers.may_approve(config.model("group"), "bob")
    assert not allowed and "Slack group S1" in why
    assert approvers.may_approve(config.model("both"), "bob") == (True, "")


def test_the_context_asks_the_factory_for_an_evaluator(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    assert ctx.evaluator(ctx.config.model("chat")) is fakes.evaluator
    ctx2, _ = make_ctx('[models.chat]\nmetric = "accuracy"\n')
    assert ctx2.evaluator(ctx2.config.model("chat")) is None
