"""Play 1: register a behaviour-affecting change under its content-derived id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fakes import FakeEvaluator, Fakes, make_ctx, vid
from given import BASE, failed_step, registered, steps

from core.commands import Register
from core.domain import RunStatus, StepStatus
from core.engine import PlayContext
from core.errors import (
    Ambiguous,
    ConfigError,
    EvaluatorError,
    InvalidInput,
    NotFound,
)
from core.plays.register import register

NO_EVALUATOR = """
[models.chat]
metric = "accuracy"
"""


@pytest.fixture
def world() -> tuple[PlayContext, Fakes]:
    return make_ctx(BASE)


def cmd(**over: Any) -> Register:
    data: dict[str, Any] = {"model": "chat", "components": {"prompt": "You are helpful."},
                            "owner": "alice", "reason": "first prompt", "root": True,
                            "scores": {"accuracy": 0.8}, "actor": "alice"}
    data.update(over)
    return Register.parse(**{k: v for k, v in data.items() if v is not None})


def assert_nothing_stored(fakes: Fakes, before: dict[str, Any] | None = None) -> None:
    if before is None:
        assert fakes.versions == []
        assert fakes.tags == {}
        assert fakes.events == []
    else:
        assert fakes.snapshot() == before
    assert fakes.artifacts.blobs == {}


def test_a_new_version_is_stored_with_its_record(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    result = register(cmd(), ctx)

    v = result.version
    assert result.created
    assert v.id == vid("You are helpful.")
    assert fakes.versions == [v]
    assert (v.owner, v.parent_id, v.reason, v.kind) == ("alice", None, "first prompt", "release")
    assert v.scores == {"accuracy": 0.8}
    assert v.eval_source == "supplied"
    assert v.created_at == fakes.clock.now()
    assert fakes.evaluator.calls == []
    assert fakes.tags == {} and fakes.events == []  # registering moves no tag
    run = fakes.last_run()
    assert run.id == result.run_id and run.status == RunStatus.SUCCEEDED
    assert steps(run) == [("identify", StepStatus.OK), ("check lineage", StepStatus.OK),
                          ("evaluate", StepStatus.OK), ("store artifacts", StepStatus.OK),
                          ("record version", StepStatus.OK)]
    assert run.result == {"version": v.short, "created": True}


def test_same_content_gives_the_same_version_and_changes_nothing(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    first = register(cmd(), ctx).version
    before = fakes.snapshot()

    again = register(cmd(owner="mallory", reason="sneaky", scores={"accuracy": 0.1}), ctx)

    assert not again.created
    assert again.version == first  # the stored record wins; the new owner/scores are ignored
    assert fakes.snapshot() == before
    run = fakes.last_run()
    assert run.status == RunStatus.SUCCEEDED
    assert steps(run) == [("identify", StepStatus.OK), ("check lineage", StepStatus.SKIPPED)]
    assert run.steps[0].output["already_registered"] is True


def test_config_key_order_and_number_format_do_not_change_the_id(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    a = register(cmd(components={"config": {"temperature": 1, "tools": {"b": 2.0, "a": [1e0]}}}),
                 ctx)
    b = register(cmd(components={"config": {"tools": {"a": [1.0], "b": 2}, "temperature": 1.0}}),
                 ctx)
    assert b.version.id == a.version.id and not b.created
    assert len(fakes.versions) == 1


def test_any_change_of_a_component_is_a_new_version(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    base = register(cmd(components={"prompt": "p", "weights": {"ref": "ft:1"}}), ctx).version
    ids = {base.id}
    for components in ({"prompt": "p ", "weights": {"ref": "ft:1"}},
                       {"prompt": "p", "weights": {"ref": "ft:2"}},
                       {"prompt": "p", "weights": {"ref": "ft:1", "sha256": "a" * 64}},
                       {"prompt": "p", "weights": {"ref": "ft:1"}, "config": {}},
                       {"prompt": "p", "weights": {"ref": "ft:1"}, "index": {"ref": "idx:1"}}):
        r = register(cmd(components=components, parent=base.short, root=None), ctx)
        assert r.created
        ids.add(r.version.id)
    assert len(ids) == 6 == len(fakes.versions)


def test_parent_is_resolved_from_a_prefix(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    parent = registered(ctx, "chat", "v1", 0.5)
    by_short = register(cmd(components={"prompt": "v2"}, root=None, parent=parent.short), ctx)
    by_bare = register(cmd(components={"prompt": "v3"}, root=None,
                           parent=parent.id[:8].upper()), ctx)
    assert by_short.version.parent_id == parent.id
    assert by_bare.version.parent_id == parent.id
    assert fakes.last_run().steps[1].output == {"parent": parent.short}


@pytest.mark.parametrize("field", ["owner", "reason", "actor", "model"])
@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing_owner_reason_or_actor_names_the_field(field: str, value: str | None) -> None:
    with pytest.raises(InvalidInput) as err:
        cmd(**{field: value})  # None leaves the field out
    assert err.value.field == field


def test_parse_names_every_bad_field_and_unknown_ones() -> None:
    with pytest.raises(InvalidInput) as err:
        Register.parse(model="chat", components={"prompt": "p"}, actor="a", colour="red")
    text = str(err.value)
    assert "owner" in text and "reason" in text and "colour" in text


def test_missing_parent_is_refused_before_anything_is_stored(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    with pytest.raises(InvalidInput) as err:
        register(cmd(root=None), ctx)
    assert err.value.field == "parent"
    assert "--root" in (err.value.hint or "")
    assert err.value.step == "check lineage"
    assert_nothing_stored(fakes)
    assert fakes.evaluator.calls == []
    run = fakes.last_run()
    assert run.status == RunStatus.FAILED and failed_step(run) == "check lineage"
    assert run.error is not None and run.error.startswith("step 'check lineage': parent")


def test_root_and_parent_together_are_refused(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    parent = registered(ctx, "chat", "v1", 0.5)
    before = fakes.snapshot()
    with pytest.raises(InvalidInput) as err:
        register(cmd(components={"prompt": "v2"}, parent=parent.short, root=True), ctx)
    assert err.value.field == "parent"
    assert fakes.snapshot() == before
    assert failed_step(fakes.last_run()) == "check lineage"


def test_unknown_parent_is_not_found(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    with pytest.raises(NotFound) as err:
        register(cmd(root=None, parent="chat@" + "ab" * 6), ctx)
    assert "versions chat" in (err.value.hint or "")
    assert_nothing_stored(fakes)
    assert failed_step(fakes.last_run()) == "check lineage"


def test_parent_of_another_model_is_refused(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    other = registered(ctx, "ranker", "r1", 0.3)
    before = fakes.snapshot()
    with pytest.raises(InvalidInput) as err:
        register(cmd(root=None, parent=other.short), ctx)
    assert err.value.field == "version"
    assert "ranker" in str(err.value)
    assert fakes.snapshot() == before


def test_malformed_parent_reference_says_how_to_write_it(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, _ = world
    with pytest.raises(InvalidInput) as err:
        register(cmd(root=None, parent="chat@xyz"), ctx)
    assert "chat@1a2b3c4d" in (err.value.hint or "")


def test_an_ambiguous_parent_prefix_asks_for_more(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    fakes.add_version("chat", "x", {"accuracy": 1}, vid="abcdef01" + "0" * 56)
    fakes.add_version("chat", "y", {"accuracy": 1}, vid="abcdef01" + "1" * 56)
    before = fakes.snapshot()
    with pytest.raises(Ambiguous):
        register(cmd(root=None, parent="chat@abcdef01"), ctx)
    assert fakes.snapshot() == before


def test_supplied_scores_must_include_the_primary_metric(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    with pytest.raises(InvalidInput) as err:
        register(cmd(scores={"bleu": 0.4}), ctx)
    assert err.value.field == "scores"
    assert "accuracy" in str(err.value)
    assert_nothing_stored(fakes)
    assert failed_step(fakes.last_run()) == "evaluate"
    assert fakes.evaluator.calls == []  # supplied scores are never second-guessed by the suite


@pytest.mark.parametrize("scores", [{}, {"accuracy": float("nan")}, {"accuracy": float("inf")},
                                    {"accuracy": True}])
def test_empty_non_finite_or_boolean_scores_are_invalid(scores: dict[str, float]) -> None:
    with pytest.raises(InvalidInput) as err:
        cmd(scores=scores)
    assert err.value.field.startswith("scores")


def test_no_evaluator_and_no_scores_is_an_evaluator_error() -> None:
    ctx, fakes = make_ctx(NO_EVALUATOR)
    with pytest.raises(EvaluatorError) as err:
        register(cmd(scores=None), ctx)
    assert "evaluator" in (err.value.hint or "") and "--score accuracy" in (err.value.hint or "")
    assert_nothing_stored(fakes)
    assert failed_step(fakes.last_run()) == "evaluate"


def test_without_scores_the_eval_suite_runs_on_the_draft(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    fakes.evaluator.set(vid("You are helpful."), accuracy=0.91, latency=120)
    v = register(cmd(scores=None), ctx).version
    assert v.scores == {"accuracy": 0.91, "latency": 120}
    assert v.eval_source == "evaluator: fake-eval"
    assert fakes.evaluator.called_ids == [v.id]
    assert fakes.evaluator.calls[0].owner == "alice"
    assert fakes.last_run().steps[2].output["passed"] is True


def test_an_eval_answer_without_the_primary_metric_stores_nothing(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    fakes.evaluator.default = {"bleu": 0.3}
    with pytest.raises(EvaluatorError) as err:
        register(cmd(scores=None), ctx)
    assert "accuracy" in str(err.value) and "bleu" in str(err.value)
    assert_nothing_stored(fakes)


def test_a_failing_eval_suite_stores_nothing(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    fakes.evaluator.fail = "suite timed out"
    with pytest.raises(EvaluatorError):
        register(cmd(scores=None), ctx)
    assert_nothing_stored(fakes)
    run = fakes.last_run()
    assert run.status == RunStatus.FAILED and failed_step(run) == "evaluate"
    assert "suite timed out" in (run.error or "")


def test_a_version_below_min_score_is_still_registered_and_marked_failing() -> None:
    ctx, fakes = make_ctx(BASE.replace('owner = "alice"', 'owner = "alice"\nmin_score = 0.9'))
    v = register(cmd(scores={"accuracy": 0.5}), ctx).version
    assert fakes.versions == [v]
    assert fakes.last_run().steps[2].output["passed"] is False


def test_artifacts_are_stored_by_content(world: tuple[PlayContext, Fakes],
                                         tmp_path: Path) -> None:
    ctx, fakes = world
    weights = tmp_path / "adapter.bin"
    weights.write_bytes(b"\x00weights" * 10)
    v = register(cmd(artifacts=[str(weights)]), ctx).version
    (art,) = v.artifacts
    assert (art.name, art.size) == ("adapter.bin", 80)
    assert fakes.artifacts.blobs[art.sha256] == weights.read_bytes()
    assert fakes.artifacts.path_of("chat", v.id, "adapter.bin") is not None
    assert v.artifact_bytes == 80


def test_an_unreadable_artifact_stores_nothing(world: tuple[PlayContext, Fakes],
                                               tmp_path: Path) -> None:
    ctx, fakes = world
    good = tmp_path / "a.bin"
    good.write_bytes(b"a")
    with pytest.raises(InvalidInput) as err:
        register(cmd(artifacts=[str(good), str(tmp_path / "missing.bin")]), ctx)
    assert err.value.field == "artifacts"
    assert_nothing_stored(fakes)  # not even the readable one
    assert failed_step(fakes.last_run()) == "store artifacts"


def test_a_racing_registration_of_the_same_content_returns_that_version(
        world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    theirs = []
    fakes.store.before_next("versions.add", lambda: theirs.append(
        fakes.add_version("chat", "You are helpful.", {"accuracy": 0.7})))

    result = register(cmd(), ctx)

    assert not result.created
    assert result.version == theirs[0] and result.version.scores == {"accuracy": 0.7}
    assert fakes.versions == theirs
    assert fakes.last_run().steps[-1].output["raced"] is True


def test_empty_components_are_invalid(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    with pytest.raises(InvalidInput) as err:
        register(cmd(components={}), ctx)
    assert err.value.field == "components"
    assert failed_step(fakes.last_run()) == "identify"
    assert_nothing_stored(fakes)


def test_an_undeclared_model_says_how_to_declare_it(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    with pytest.raises(ConfigError) as err:
        register(cmd(model="vision"), ctx)
    assert "[models.vision]" in (err.value.hint or "")
    assert_nothing_stored(fakes)
    assert fakes.last_run().status == RunStatus.FAILED


def test_the_evaluator_only_runs_for_new_content(world: tuple[PlayContext, Fakes]) -> None:
    ctx, fakes = world
    fakes.evaluator.default = {"accuracy": 0.6}
    register(cmd(scores=None), ctx)
    register(cmd(scores=None), ctx)
    assert len(fakes.evaluator.calls) == 1


def test_evaluator_per_model_override() -> None:
    ctx, fakes = make_ctx(BASE)
    other = FakeEvaluator(default={"accuracy": 0.42}, name="other")
    fakes.evaluators.per_model["chat"] = other
    v = register(cmd(scores=None), ctx).version
    assert v.eval_source == "evaluator: other" and fakes.evaluator.calls == []
