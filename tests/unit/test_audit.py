"""Play 5: request id -> the version that served it -> its whole record."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fakes import T0, Fakes, make_ctx
from given import BASE, approved, failed_step, promoted, registered, steps

from core.commands import Audit, ProductionAt, Rollback
from core.domain import Attribution, StepStatus
from core.engine import PlayContext
from core.errors import ConfigError, InvalidInput, NotFound
from core.plays.attribute import attribute
from core.plays.audit import audit, production_at
from core.plays.rollback import rollback
from core.replay import replay


@pytest.fixture
def world() -> tuple[PlayContext, Fakes]:
    return make_ctx(BASE)


def test_the_bundle_names_the_version_and_its_whole_story(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    t1 = registered(ctx, "triage", "t1", 0.5, actor="erin")
    t2 = registered(ctx, "triage", "t2", 0.6, parent=t1, actor="erin")
    t3 = registered(ctx, "triage", "t3", 0.7, parent=t2, actor="erin")
    unrelated = registered(ctx, "triage", "unrelated", 0.55, actor="erin")
    for v in (t1, t2, t3):
        request = promoted(ctx, v, "erin").request
        assert request is not None
        approved(ctx, request.id, "bob")
        fakes.clock.advance(hours=1)
    served_at = fakes.clock.now()
    attribute([{"request_id": "req-42", "model": "triage", "version": t3.short,
                "served_at": served_at.isoformat(), "latency_ms": 812.5}], ctx)
    rollback(Rollback.parse(model="triage", actor="oncall", symptom="misroutes"), ctx)

    result = audit(Audit.parse(request_id="req-42", actor="auditor"), ctx)
    bundle = result.to_json()

    assert bundle["request_id"] == "req-42"
    assert bundle["attribution"] == {"request_id": "req-42", "model": "triage", "version": t3.id,
                                     "served_at": served_at.isoformat(), "latency_ms": 812.5,
                                     "error": None, "feedback": None}
    assert bundle["version"]["id"] == t3.id and bundle["version"]["parent"] == t2.id
    assert bundle["version"]["components"] == {"weights": None, "prompt": "t3", "config": None,
                                               "index": None}
    assert [link["id"] for link in bundle["lineage"]] == [t3.id, t2.id, t1.id]
    assert bundle["lineage"][0]["reason"] == "try t3"
    assert bundle["eval"] == {"scores": {"accuracy": 0.7}, "source": "supplied"}
    assert [(e["from"], e["to"], e["play"]) for e in bundle["tag_events"]] == [
        (t2.id, t3.id, "promote"), (t3.id, t2.id, "rollback")]
    assert bundle["tag_events"][0]["approvers"] == ["bob"]
    assert [(a["version"], a["status"], a["requester"]) for a in bundle["approvals"]] == [
        (t3.id, "approved", "erin")]
    assert [a["approver"] for a in bundle["approvals"][0]["approvals"]] == ["bob"]
    assert [(i["bad_version"], i["restored_version"], i["symptom"])
            for i in bundle["incidents"]] == [(t3.id, t2.id, "misroutes")]
    assert unrelated.id not in str(bundle)
    run = fakes.last_run()
    assert run.play == "audit"
    assert steps(run) == [("find attribution", StepStatus.OK), ("assemble bundle", StepStatus.OK)]
    assert run.steps[1].output == {"lineage": 3, "events": 2}


def test_an_unattributed_request_is_not_found_and_says_why(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    registered(ctx, "chat", "v1", 0.5)
    before = fakes.snapshot()
    with pytest.raises(NotFound) as err:
        audit(Audit.parse(request_id="req-unknown", actor="auditor"), ctx)
    assert "cannot be named" in str(err.value) and "attribut" in (err.value.hint or "")
    assert fakes.snapshot() == before
    assert failed_step(fakes.last_run()) == "find attribution"


def test_an_attribution_to_an_unregistered_version_is_not_found(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    with fakes.uow() as uow:
        uow.attributions.add_many([Attribution("req-1", "chat", "e" * 64, T0)])
        uow.commit()
    with pytest.raises(NotFound) as err:
        audit(Audit.parse(request_id="req-1", actor="auditor"), ctx)
    assert "eeeeeeeeeeee" in str(err.value)
    assert failed_step(fakes.last_run()) == "assemble bundle"


def test_lineage_stops_at_a_missing_parent_or_a_cycle(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    a = fakes.add_version("chat", "a", {"accuracy": 1}, parent="1" * 64)  # parent gone
    b = fakes.add_version("chat", "b", {"accuracy": 1}, parent=a.id)
    x = fakes.add_version("chat", "x", {"accuracy": 1}, vid="a" * 64, parent="b" * 64)
    y = fakes.add_version("chat", "y", {"accuracy": 1}, vid="b" * 64, parent="a" * 64)
    with fakes.uow() as uow:
        uow.attributions.add_many([Attribution("r-b", "chat", b.id, T0),
                                   Attribution("r-y", "chat", y.id, T0)])
        uow.commit()
    lineage_b = audit(Audit.parse(request_id="r-b", actor="a"), ctx).record["lineage"]
    lineage_y = audit(Audit.parse(request_id="r-y", actor="a"), ctx).record["lineage"]
    assert [v["id"] for v in lineage_b] == [b.id, a.id]
    assert [v["id"] for v in lineage_y] == [y.id, x.id]


def test_the_answer_lists_the_nearest_ancestors_and_says_how_far_the_chain_goes(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    chain = [fakes.add_version("chat", "v0", {"accuracy": 1})]
    for n in range(1, 8):
        chain.append(fakes.add_version("chat", f"v{n}", {"accuracy": 1}, parent=chain[-1].id))
    with fakes.uow() as uow:
        uow.attributions.add_many([Attribution("deep", "chat", chain[-1].id, T0),
                                   Attribution("short", "chat", chain[3].id, T0)])
        uow.commit()
    deep = audit(Audit.parse(request_id="deep", actor="a", lineage=5), ctx).record
    assert [v["id"] for v in deep["lineage"]] == [v.id for v in chain[:-6:-1]]
    assert deep["lineage_truncated"] is True  # never a silent cut: it says how far it goes
    assert deep["lineage_depth"] == 7
    assert deep["lineage_root"] == {"version": chain[0].short, "id": chain[0].id}
    whole = audit(Audit.parse(request_id="deep", actor="a", lineage=None), ctx).record
    assert [v["id"] for v in whole["lineage"]] == [v.id for v in chain[::-1]]
    assert whole["lineage_truncated"] is False and whole["lineage_depth"] == 7
    short = audit(Audit.parse(request_id="short", actor="a"), ctx).record  # default: 20
    assert len(short["lineage"]) == 4 and short["lineage_truncated"] is False
    assert short["lineage_depth"] == 3 and short["lineage_root"]["id"] == chain[0].id


def test_a_lineage_count_below_one_is_refused(world: tuple[PlayContext, Fakes]) -> None:
    with pytest.raises(InvalidInput) as err:
        Audit.parse(request_id="deep", actor="a", lineage=0)
    assert err.value.field == "lineage"


@pytest.fixture
def history(world: tuple[PlayContext, Fakes]) -> dict[str, object]:
    ctx, fakes = world
    v1 = registered(ctx, "chat", "v1", 0.5)
    v2 = registered(ctx, "chat", "v2", 0.6, parent=v1)
    fakes.clock.set(T0 + timedelta(hours=1))
    promoted(ctx, v1)
    fakes.clock.set(T0 + timedelta(hours=2))
    promoted(ctx, v2)
    fakes.clock.set(T0 + timedelta(hours=3))
    rollback(Rollback.parse(model="chat", actor="oncall"), ctx)
    return {"v1": v1, "v2": v2}


@pytest.mark.parametrize(("offset", "expected"), [
    (timedelta(minutes=59), None), (timedelta(hours=1), "v1"), (timedelta(hours=1, minutes=59),
                                                                "v1"),
    (timedelta(hours=2), "v2"), (timedelta(hours=2, minutes=30), "v2"), (timedelta(hours=3),
                                                                         "v1"),
    (timedelta(days=30), "v1")])
def test_production_at_replays_the_log(world: tuple[PlayContext, Fakes],
                                       history: dict[str, object], offset: timedelta,
                                       expected: str | None) -> None:
    ctx, fakes = world
    at = T0 + offset
    before = fakes.snapshot()

    then = production_at(ProductionAt.parse(model="chat", at=at, actor="auditor"), ctx)

    want = history[expected] if expected else None
    assert then.version == want
    replayed = replay(e for e in fakes.events if e.at <= at).get(("chat", "production"))
    assert (replayed[0] if replayed else None) == (then.version.id if then.version else None)
    assert fakes.snapshot() == before
    assert fakes.last_run().result["version"] == (then.version.short if then.version else None)


def test_production_at_accepts_any_time_zone(world: tuple[PlayContext, Fakes],
                                             history: dict[str, object]) -> None:
    ctx, _ = world
    at = datetime.fromisoformat("2026-03-02T11:30:00+01:00")  # 10:30 UTC: v1 was production
    assert production_at(ProductionAt.parse(model="chat", at=at, actor="a"),
                         ctx).version == history["v1"]


def test_production_at_needs_an_aware_time_and_a_declared_model(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, _ = world
    with pytest.raises(InvalidInput) as err:
        ProductionAt.parse(model="chat", at=datetime(2026, 3, 2, 9), actor="a")
    assert err.value.field == "at" and "time zone" in str(err.value)
    with pytest.raises(ConfigError):
        production_at(ProductionAt.parse(model="vision", at=T0, actor="a"), ctx)
