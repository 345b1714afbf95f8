"""The typed reads every surface renders (core/queries.py), on the fakes."""

from __future__ import annotations

import pytest
from fakes import Fakes, make_ctx
from given import BASE, chain, promoted, registered

from core import queries
from core.commands import Rollback
from core.engine import PlayContext
from core.errors import ConfigError, NotFound
from core.plays import canary
from core.plays.rollback import rollback


@pytest.fixture
def world() -> tuple[PlayContext, Fakes]:
    return make_ctx(BASE)


def test_versions_come_newest_first_with_their_tags(world: tuple[PlayContext, Fakes]) -> None:
    ctx, _ = world
    v1, v2 = chain(ctx, "chat", 0.6, 0.7)
    v3 = registered(ctx, "chat", "chat prompt v3", 0.8, parent=v2)

    found = queries.versions(ctx, "chat")

    assert [(f.version, f.tags) for f in found] == [(v3, ()), (v2, ("production",)), (v1, ())]
    assert [f.version for f in queries.versions(ctx, "chat", limit=1)] == [v3]
    assert queries.version(ctx, v2.short).tags == ("production",)
    assert queries.version(ctx, v1.id[:8], "chat").version == v1
    assert queries.by_ids(ctx, "chat", [v1.id, None, "f" * 64]) == [v1, None, None]


def test_an_unknown_model_or_version_is_one_clear_error(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, _ = world
    for read in (lambda: queries.versions(ctx, "nope"), lambda: queries.tags(ctx, "nope"),
                 lambda: queries.history(ctx, "nope"), lambda: queries.route(ctx, "nope"),
                 lambda: queries.incidents(ctx, "nope"), lambda: queries.approvals(ctx, "nope")):
        with pytest.raises(ConfigError, match="nope"):
            read()
    with pytest.raises(NotFound, match="chat has no tag 'production'"):
        queries.pointed(ctx, "chat", "production")
    for missing in (lambda: queries.approval(ctx, "apr-x"), lambda: queries.incident(ctx, "i"),
                    lambda: queries.run(ctx, "run-x")):
        with pytest.raises(NotFound):
            missing()


def test_history_is_newest_first_and_the_route_shows_a_running_canary(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    v1, v2 = chain(ctx, "chat", 0.6, 0.7)
    assert [e.to_version for e in queries.history(ctx, "chat")] == [v2.id, v1.id]
    route = queries.route(ctx, "chat")
    assert route.production is not None and route.production.version == v2
    assert (route.canary, route.fraction, route.started_at) == (None, None, None)

    v3 = registered(ctx, "chat", "chat prompt v3", 0.8, parent=v2)
    canary.start(ctx, model="chat", version=v3.short, fraction=0.1, actor="alice")
    route = queries.route(ctx, "chat")
    assert route.canary is not None and route.canary.version == v3
    assert (route.fraction, route.started_at) == (0.1, fakes.clock.now())
    assert queries.pointed(ctx, "chat", "canary").version == v3

    canary.stop(ctx, model="chat", actor="alice")
    assert queries.route(ctx, "chat").canary is None


def test_approvals_incidents_runs_and_the_overview(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    a = registered(ctx, "triage", "triage v1", 0.6)
    request = promoted(ctx, a).request
    assert request is not None
    assert [r.id for r in queries.approvals(ctx)] == [request.id]
    assert queries.approval(ctx, request.id) == request
    view = queries.approval_view(ctx, request.id)
    assert (view.candidate, view.production) == (a, None)

    c1, _ = chain(ctx, "chat", 0.6, 0.7)
    fakes.evaluator.set(c1.id, accuracy=0.6)
    result = rollback(Rollback.parse(model="chat", actor="oncall", symptom="bad"), ctx)
    assert [i.id for i in queries.incidents(ctx, "chat")] == [result.incident.id]
    assert queries.incident(ctx, result.incident.id).restored_version == c1.id
    assert queries.run(ctx, result.run_id).play == "rollback"
    assert queries.runs(ctx, play="rollback")[0].id == result.run_id

    chat = {o.model: o for o in queries.overviews(ctx)}["chat"]
    assert chat.production is not None and chat.production.version_id == c1.id
    assert [i.id for i in chat.incidents] == [result.incident.id]
    assert chat.last_rehearsal is None and chat.stakes == "low"
    triage = {o.model: o for o in queries.overviews(ctx)}["triage"]
    assert [r.id for r in triage.pending] == [request.id] and triage.production is None
