"""Play 4: an experiment branches from a registered parent under its own tag, short-lived."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fakes import Fakes, make_ctx
from given import BASE, failed_step, registered, steps

from core.commands import Register, StartExperiment
from core.domain import RunStatus, Version
from core.engine import PlayContext
from core.errors import EvaluatorError, InvalidInput, NotFound
from core.plays.experiment import start_experiment
from core.plays.register import register


@pytest.fixture
def world() -> tuple[PlayContext, Fakes]:
    return make_ctx(BASE)


@pytest.fixture
def parent(world: tuple[PlayContext, Fakes]) -> Version:
    return registered(world[0], "chat", "base prompt", 0.7)


def cmd(base: Version | None, **over: Any) -> StartExperiment:
    data: dict[str, Any] = {"model": "chat", "name": "shorter-answers",
                            "components": {"prompt": "Be brief."}, "owner": "erin",
                            "reason": "shorter answers", "actor": "erin",
                            "scores": {"accuracy": 0.72}}
    if base is not None:
        data["parent"] = base.short
    data.update(over)
    return StartExperiment.parse(**{k: v for k, v in data.items() if v is not None})


def test_registers_a_branch_and_points_its_tag(world: tuple[PlayContext, Fakes],
                                               parent: Version) -> None:
    ctx, fakes = world
    result = start_experiment(cmd(parent), ctx)

    v = result.version
    assert result.created and result.tag == "experiment/shorter-answers"
    assert (v.kind, v.experiment, v.parent_id) == ("experiment", "shorter-answers", parent.id)
    assert v.expires_at == v.created_at + timedelta(days=14)
    assert fakes.version("chat", v.id) == v
    assert fakes.tags == {("chat", "experiment/shorter-answers"): (v.id, 1)}
    (event,) = fakes.events
    assert (event.tag, event.from_version, event.to_version, event.play, event.actor) == (
        "experiment/shorter-answers", None, v.id, "experiment", "erin")
    assert fakes.tag("chat") is None  # production untouched
    run = fakes.last_run()
    assert run.play == "experiment" and run.status == RunStatus.SUCCEEDED
    assert [name for name, _ in steps(run)] == [
        "identify", "check lineage", "evaluate", "store artifacts", "record version",
        "move experiment tag"]


def test_retention_can_be_shortened_per_experiment_or_per_model(parent: Version,
                                                               world: tuple[PlayContext, Fakes],
                                                               ) -> None:
    ctx, _ = world
    v = start_experiment(cmd(parent, retention_days=3), ctx).version
    assert v.expires_at == v.created_at + timedelta(days=3)

    ctx2, _ = make_ctx(BASE.replace('owner = "alice"',
                                    'owner = "alice"\nexperiment_retention_days = 5'))
    p2 = registered(ctx2, "chat", "base prompt", 0.7)
    v2 = start_experiment(cmd(p2), ctx2).version
    assert v2.expires_at == v2.created_at + timedelta(days=5)


@pytest.mark.parametrize("over", [{}, {"root": True}])
def test_a_parent_is_required(world: tuple[PlayContext, Fakes], over: dict[str, Any]) -> None:
    ctx, fakes = world
    before = fakes.snapshot()
    with pytest.raises(InvalidInput) as err:
        start_experiment(cmd(None, **over), ctx)
    assert err.value.field == "parent" and "--parent" in (err.value.hint or "")
    assert fakes.snapshot() == before


def test_root_with_a_parent_is_refused_too(world: tuple[PlayContext, Fakes],
                                           parent: Version) -> None:
    ctx, fakes = world
    before = fakes.snapshot()
    with pytest.raises(InvalidInput):
        start_experiment(cmd(parent, root=True), ctx)
    assert fakes.snapshot() == before


def test_an_unknown_parent_stores_nothing(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    with pytest.raises(NotFound):
        start_experiment(cmd(None, parent="chat@" + "f" * 12), ctx)
    assert fakes.versions == [] and fakes.tags == {}
    assert failed_step(fakes.last_run()) == "check lineage"


@pytest.mark.parametrize("name", ["", "Has Caps", "a/b", "x" * 41, "-lead"])
def test_the_experiment_name_must_fit_in_a_tag(name: str) -> None:
    with pytest.raises(InvalidInput) as err:
        StartExperiment.parse(model="chat", name=name, components={"prompt": "p"},
                              owner="e", reason="r", actor="e", parent="chat@12345678")
    assert err.value.field == "name"


def test_retention_days_must_be_positive() -> None:
    with pytest.raises(InvalidInput) as err:
        StartExperiment.parse(model="chat", name="n", components={"prompt": "p"}, owner="e",
                              reason="r", actor="e", parent="chat@12345678", retention_days=0)
    assert err.value.field == "retention_days"


def test_the_same_eval_suite_runs(world: tuple[PlayContext, Fakes], parent: Version) -> None:
    ctx, fakes = world
    fakes.evaluator.default = {"accuracy": 0.66}
    v = start_experiment(cmd(parent, scores=None), ctx).version
    assert v.scores == {"accuracy": 0.66} and fakes.evaluator.calls[0].kind == "experiment"

    fakes.evaluator.fail = "down"
    before = fakes.snapshot()
    with pytest.raises(EvaluatorError):
        start_experiment(cmd(parent, name="other", components={"prompt": "x"}, scores=None), ctx)
    assert fakes.snapshot() == before  # no version, no tag


def test_rerunning_the_same_experiment_moves_nothing(world: tuple[PlayContext, Fakes],
                                                     parent: Version) -> None:
    ctx, fakes = world
    first = start_experiment(cmd(parent), ctx)
    before = fakes.snapshot()
    again = start_experiment(cmd(parent), ctx)
    assert not again.created and again.event is None and again.version == first.version
    assert fakes.snapshot() == before
    assert fakes.last_run().steps[-1].output == {"tag": first.tag, "moved": False}


def test_a_new_iteration_moves_the_experiment_tag(world: tuple[PlayContext, Fakes],
                                                  parent: Version) -> None:
    ctx, fakes = world
    first = start_experiment(cmd(parent), ctx).version
    second = start_experiment(cmd(first, components={"prompt": "Be briefer."}), ctx)
    assert fakes.tags[("chat", "experiment/shorter-answers")] == (second.version.id, 2)
    assert second.event is not None and second.event.from_version == first.id


def test_components_not_given_are_the_parents(world: tuple[PlayContext, Fakes]) -> None:
    """Play 4's rule, the same from Slack and the CLI: change one thing at a time."""
    ctx, _ = world
    base = register(Register.parse(
        model="chat", components={"weights": {"ref": "ft:base"}, "prompt": "Be kind.",
                                  "config": {"temperature": 0.7, "tools": {"search": True}}},
        owner="erin", reason="base", root=True, scores={"accuracy": 0.7}, actor="erin"),
        ctx).version
    prompt_only = start_experiment(cmd(base, components={"prompt": "Be brief."}), ctx)
    c = prompt_only.version.components
    assert (c.weights, c.prompt, c.config) == (base.components.weights, "Be brief.",
                                               base.components.config)
    one_key = start_experiment(cmd(base, name="colder", components={},
                                   config_set={"temperature": 0.2, "tools.code": True}),
                               ctx).version.components
    assert one_key.prompt == "Be kind." and one_key.weights == base.components.weights
    assert one_key.config == {"temperature": 0.2, "tools": {"search": True, "code": True}}
    assert base.components.config == {"temperature": 0.7, "tools": {"search": True}}
    with pytest.raises(InvalidInput, match="changes nothing"):
        start_experiment(cmd(base, name="same", components={},
                             config_set={"temperature": 0.7}), ctx)
