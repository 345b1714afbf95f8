"""The canary rule is a step of the promote and approve plays: a clearly worse running canary
of the candidate is refused whoever asks, and accepted with an override reason that its event
records. Thresholds come from the model's `canary = { ... }` in playbook.toml."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from fakes import FakeEvaluator, Fakes, load, make_ctx
from given import BASE, approved, chain, promoted, registered

from core import events
from core.commands import Approve, Promote
from core.domain import Attribution, RunStatus, Version
from core.engine import PlayContext
from core.errors import Refused
from core.plays import approve, promote
from core.plays.canary import start, stop
from core.plays.gate import deploy_gate

CONFIG = BASE.replace("[models.chat]", "[models.chat]\ncanary = { min_sample = 40 }").replace(
    "[models.triage]", "[models.triage]\ncanary = { min_sample = 40 }")
N = 50


@pytest.fixture
def world() -> tuple[PlayContext, Fakes]:
    return make_ctx(CONFIG, evaluator=FakeEvaluator(default={"accuracy": 0.9}))


def serve(ctx: PlayContext, fakes: Fakes, version: Version, prefix: str, errors: int) -> None:
    at = fakes.clock.now() + timedelta(seconds=1)
    with ctx.uow() as uow:
        uow.attributions.add_many([Attribution(f"{prefix}{i}", version.model, version.id, at,
                                               latency_ms=100.0, error=i < errors)
                                   for i in range(N)])
        uow.commit()


def worse_canary(ctx: PlayContext, fakes: Fakes, model: str = "chat") -> tuple[Version,
                                                                                Version]:
    if model == "chat":
        (prod,) = chain(ctx, "chat", 0.8)
    else:
        prod = registered(ctx, model, "t1", 0.8)
        request = promoted(ctx, prod, "erin").request
        assert request is not None
        approved(ctx, request.id, "bob")
    candidate = registered(ctx, model, "c2", 0.85, parent=prod)
    start(ctx, model=model, version=candidate.short, fraction=0.1, actor="erin")
    serve(ctx, fakes, prod, "p", errors=0)
    serve(ctx, fakes, candidate, "c", errors=12)
    return prod, candidate


def test_a_clearly_worse_canary_is_refused_and_changes_nothing_but_says_so(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    _, candidate = worse_canary(ctx, fakes)
    before = fakes.snapshot()["tags"]
    with pytest.raises(Refused, match="clearly worse than production") as err:
        promote(Promote.parse(model="chat", version=candidate.short, actor="alice"), ctx)
    assert "override" in (err.value.hint or "")
    assert fakes.snapshot()["tags"] == before
    run = fakes.last_run()
    assert run.status == RunStatus.FAILED and run.steps[-1].name == \
        "compare canary with production"
    judged = fakes.domain_events("chat")[-1]
    assert isinstance(judged, events.CanaryJudgedWorse) and judged.version_id == candidate.id
    assert any("error rate" in r for r in judged.reasons)


def test_an_override_reason_moves_production_and_its_event_records_it(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    _, candidate = worse_canary(ctx, fakes)
    result = promote(Promote.parse(model="chat", version=candidate.short, actor="alice",
                                   override_reason="the old one is retired today"), ctx)
    assert result.event is not None and result.canary_override is not None
    names = fakes.event_names("chat")
    assert names[-3:] == ["TagMoved", "Promoted", "CanaryOverridden"]
    overridden = fakes.domain_events("chat")[-1]
    assert overridden.reason == "the old one is retired today" and overridden.actor == "alice"


def test_a_blank_override_is_no_override(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    _, candidate = worse_canary(ctx, fakes)
    with pytest.raises(Refused):
        promote(Promote.parse(model="chat", version=candidate.short, actor="alice",
                              override_reason="   "), ctx)


def test_the_approver_meets_the_same_rule(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    worse_canary(ctx, fakes, "triage")
    with ctx.uow() as uow:  # the canary's start asked for the production move at once
        (request,) = uow.approvals.pending("triage")
    with pytest.raises(Refused, match="clearly worse"):
        approve(Approve.parse(request_id=request.id, approver="bob"), ctx)
    decision = approve(Approve.parse(request_id=request.id, approver="bob",
                                     override_reason="known flaky upstream"), ctx)
    assert decision.event is not None and decision.canary_override is not None
    assert fakes.event_names("triage")[-1] == "CanaryOverridden"


def test_a_canary_no_worse_than_production_passes_without_a_word(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    (prod,) = chain(ctx, "chat", 0.8)
    candidate = registered(ctx, "chat", "c2", 0.85, parent=prod)
    start(ctx, model="chat", version=candidate.short, fraction=0.1, actor="erin")
    serve(ctx, fakes, prod, "p", errors=1)
    serve(ctx, fakes, candidate, "c", errors=1)
    result = promote(Promote.parse(model="chat", version=candidate.short, actor="alice"), ctx)
    assert result.event is not None and result.canary_override is None
    assert "CanaryOverridden" not in fakes.event_names("chat")


def test_the_models_thresholds_decide(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    _, candidate = worse_canary(ctx, fakes)
    strict = replace(ctx, config=load(CONFIG.replace("canary = { min_sample = 40 }",
                                                     "canary = { min_sample = 100 }", 1)))
    result = promote(Promote.parse(model="chat", version=candidate.short, actor="alice"),
                     strict)  # 50 records per arm are not enough for a verdict there
    assert result.event is not None


def test_an_ended_canary_still_counts_so_ending_it_clears_nothing(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    prod, candidate = worse_canary(ctx, fakes)
    fakes.clock.advance(minutes=5)
    stop(ctx, model="chat", actor="erin")
    fakes.clock.advance(hours=2)
    serve(ctx, fakes, prod, "later", errors=0)  # production keeps serving after the end
    before = fakes.snapshot()["tags"]

    with pytest.raises(Refused, match="clearly worse than production"):
        promote(Promote.parse(model="chat", version=candidate.short, actor="alice"), ctx)
    assert fakes.snapshot()["tags"] == before
    assert deploy_gate(ctx, "chat", candidate.short)["allowed"] is False

    result = promote(Promote.parse(model="chat", version=candidate.short, actor="alice",
                                   override_reason="fixed the tokenizer bug it had"), ctx)
    assert result.event is not None and result.canary_override is not None
    assert result.canary_override.reason == "fixed the tokenizer bug it had"


def test_an_ended_canary_of_another_version_judges_nothing_about_this_one(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    prod, _ = worse_canary(ctx, fakes)
    stop(ctx, model="chat", actor="erin")
    other = registered(ctx, "chat", "c3", 0.86, parent=prod)
    result = promote(Promote.parse(model="chat", version=other.short, actor="alice"), ctx)
    assert result.event is not None and result.canary_override is None
    assert "compare canary with production" not in [s.name for s in fakes.last_run().steps]
