"""Time to rollback, stage by stage (issue 14, part 2): detected (an alert's start, the
on-call's word, or the command), decided, tag moved, serving switched (the first request the
restored version served after the move), confirmed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fakes import Fakes, make_ctx
from given import BASE, promoted, registered

from core.commands import Rollback
from core.domain import Version
from core.engine import PlayContext
from core.errors import ConfigError, InvalidInput
from core.events import IncidentStageReached
from core.plays import switched
from core.plays.attribute import attribute
from core.plays.rollback import rollback


@pytest.fixture
def world() -> tuple[PlayContext, Fakes, Version, Version]:
    ctx, fakes = make_ctx(BASE)
    good = registered(ctx, "chat", "good", 0.8)
    promoted(ctx, good)
    bad = registered(ctx, "chat", "bad", 0.9, parent=good)
    promoted(ctx, bad)
    return ctx, fakes, good, bad


def served(ctx: PlayContext, version: Version, n: int, at_offset_s: float, tag: str) -> None:
    at = ctx.clock.now() + timedelta(seconds=at_offset_s)
    attribute([{"request_id": f"{tag}-{i}", "model": "chat", "version": version.id,
                "served_at": at.isoformat()} for i in range(n)], ctx)


def test_detected_counts_and_the_first_request_after_the_move_switches_serving(
        world: tuple[PlayContext, Fakes, Version, Version]) -> None:
    ctx, fakes, good, bad = world
    detected = fakes.clock.now() - timedelta(minutes=4)
    done = rollback(Rollback.parse(model="chat", actor="UONCALL", detected_at=detected), ctx)
    incident = done.incident
    assert incident.detected == detected and incident.time_to_rollback_s == 240.0
    assert incident.serving_switched_at is None and incident.time_to_serving_s is None

    served(ctx, good, 3, -30, "before")  # the restored version, served before the move
    served(ctx, bad, 3, 5, "stale")  # a replica still on the bad version
    with ctx.uow(read_only=True) as u:
        assert u.incidents.get(incident.id).serving_switched_at is None  # type: ignore[union-attr]

    fakes.clock.advance(seconds=20)
    served(ctx, good, 2, -8, "after")  # served 12 s after the move, reported 8 s later
    served(ctx, good, 2, 0, "later")
    with ctx.uow(read_only=True) as u:
        now = u.incidents.get(incident.id)
    assert now is not None
    assert now.serving_switched_at == incident.rolled_back_at + timedelta(seconds=12)
    assert now.time_to_serving_s == 240.0 + 12.0
    assert [name for name, at in now.stages() if at is not None] == [
        "detected", "decided", "tag moved", "serving switched", "confirmed"]
    assert now.slowest_stage() == ("detected -> decided", 240.0)
    stages = [e for e in fakes.domain_events() if isinstance(e, IncidentStageReached)]
    assert [(e.incident_id, e.stage) for e in stages] == [(incident.id, "serving switched")]


def test_a_detected_time_after_the_order_is_refused_and_nothing_moves(
        world: tuple[PlayContext, Fakes, Version, Version]) -> None:
    ctx, fakes, _good, _bad = world
    before = fakes.snapshot()
    with pytest.raises(InvalidInput) as err:
        rollback(Rollback.parse(model="chat", actor="UONCALL",
                                detected_at=fakes.clock.now() + timedelta(seconds=1)), ctx)
    assert err.value.field == "detected_at"
    assert fakes.snapshot() == before


def test_incidents_older_than_a_day_are_not_watched(
        world: tuple[PlayContext, Fakes, Version, Version]) -> None:
    ctx, fakes, good, _bad = world
    incident = rollback(Rollback.parse(model="chat", actor="UONCALL"), ctx).incident
    fakes.clock.advance(days=1, seconds=1)
    served(ctx, good, 1, 0, "late")
    with ctx.uow(read_only=True) as u:
        assert u.incidents.get(incident.id).serving_switched_at is None  # type: ignore[union-attr]


def test_a_switch_report_marks_only_incidents_that_restored_that_version(
        world: tuple[PlayContext, Fakes, Version, Version]) -> None:
    ctx, fakes, good, bad = world
    incident = rollback(Rollback.parse(model="chat", actor="UONCALL"), ctx).incident
    fakes.clock.advance(seconds=3)
    assert switched.reported("chat", bad.id, ctx) == []  # not what was restored
    assert switched.reported("chat", good.id, ctx) == [incident.id]
    assert switched.reported("chat", good.id, ctx) == []  # once
    with ctx.uow(read_only=True) as u:
        now = u.incidents.get(incident.id)
    assert now is not None and now.serving_switched_at == fakes.clock.now()
    with pytest.raises(ConfigError):
        switched.reported("vision", good.id, ctx)


class SwitchDuringEval:
    """Serving reports its switch while the confirming eval still runs."""

    def __init__(self) -> None:
        self.ctx: PlayContext | None = None
        self.version = ""
        self.marked: list[str] = []

    def evaluate(self, version: Version) -> dict[str, float]:
        if self.ctx is not None and self.version:
            self.marked += switched.reported("chat", self.version, self.ctx)
        return {"accuracy": 0.9}

    def describe(self) -> str:
        return "reports a switch meanwhile"


def test_the_confirming_eval_does_not_erase_a_switch_reported_while_it_ran() -> None:
    evaluator = SwitchDuringEval()
    ctx, _ = make_ctx(BASE, evaluator=evaluator)  # type: ignore[arg-type]
    good = registered(ctx, "chat", "good", 0.8)
    promoted(ctx, good)
    promoted(ctx, registered(ctx, "chat", "bad", 0.9, parent=good))
    evaluator.ctx, evaluator.version = ctx, good.id
    incident = rollback(Rollback.parse(model="chat", actor="UONCALL"), ctx).incident
    assert evaluator.marked == [incident.id]
    with ctx.uow(read_only=True) as u:
        stored = u.incidents.get(incident.id)
    assert stored is not None and stored.confirmation == "passed"
    assert stored.serving_switched_at is not None
