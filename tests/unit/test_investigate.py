"""Play 7: what changed around the onset, and did it hurt?"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fakes import T0, Fakes, make_ctx
from given import BASE, failed_step, promoted, registered, steps

from core.commands import Investigate, Promote, Register, Rollback
from core.domain import RunStatus, StepStatus, Version
from core.engine import PlayContext
from core.errors import InvalidInput, InvalidState, NotFound
from core.plays.investigate import Investigation, investigate
from core.plays.promote import promote
from core.plays.register import register
from core.plays.rollback import rollback

TOLERANT = BASE.replace('owner = "alice"', 'owner = "alice"\nregression_tolerance = 0.02')
ONSET = T0 + timedelta(hours=3)


def scene(config: str = BASE) -> tuple[PlayContext, Fakes, Version, Version]:
    ctx, fakes = make_ctx(config)
    v1 = register(Register.parse(
        model="chat", components={"prompt": "Be helpful.\nCite sources.",
                                  "config": {"temperature": 0.2, "tools": {"search": True}},
                                  "weights": {"ref": "ft:base"}},
        owner="alice", reason="base", root=True, scores={"accuracy": 0.80}, actor="alice"),
        ctx).version
    v2 = register(Register.parse(
        model="chat", components={"prompt": "Be helpful.\nBe brief.",
                                  "config": {"temperature": 0.7, "tools": {"search": True},
                                             "max_tokens": 256},
                                  "weights": {"ref": "ft:base"}},
        owner="bob", reason="brevity", parent=v1.short, scores={"accuracy": 0.85},
        actor="bob"), ctx).version
    fakes.clock.set(T0 + timedelta(hours=1))
    promoted(ctx, v1)
    fakes.clock.set(T0 + timedelta(hours=2))
    promoted(ctx, v2, "bob")
    fakes.clock.set(T0 + timedelta(hours=5))
    return ctx, fakes, v1, v2


def run(ctx: PlayContext, **kw: Any) -> Investigation:
    kw.setdefault("onset", ONSET)
    return investigate(Investigate.parse(model=kw.pop("model", "chat"), actor="owner", **kw),
                       ctx)


def test_a_confirmed_regression_points_at_the_rollback() -> None:
    ctx, fakes, v1, v2 = scene()
    fakes.evaluator.set(v1.id, accuracy=0.80)
    fakes.evaluator.set(v2.id, accuracy=0.61)
    before = fakes.snapshot()

    result = run(ctx)

    assert (result.suspect, result.previous) == (v2, v1)
    assert result.regression is True
    assert "regression confirmed" in result.verdict and "0.8 -> 0.61" in result.verdict
    assert f"roll back to {v1.short}" in result.verdict
    assert "playbook" not in result.verdict  # each surface names its own way to roll back
    assert result.scores == {"suspect": {"accuracy": 0.61}, "previous": {"accuracy": 0.80},
                             "source": "re-run"}
    assert sorted(fakes.evaluator.called_ids) == sorted([v1.id, v2.id])
    assert [e["to"] for e in result.history] == [v1.id, v2.id]
    assert fakes.snapshot() == before  # investigating changes nothing
    out = fakes.last_run()
    assert out.status == RunStatus.SUCCEEDED
    assert steps(out) == [("production history", StepStatus.OK), ("find suspect", StepStatus.OK),
                          ("diff", StepStatus.OK), ("re-run eval", StepStatus.OK),
                          ("verdict", StepStatus.OK)]
    assert out.result["regression"] is True


def test_the_diff_covers_the_whole_composite() -> None:
    ctx, _, v1, v2 = scene()
    diff = run(ctx).diff
    assert diff["changed_components"] == ["prompt", "config"]
    assert diff["weights"] == {"changed": False, "from": "ft:base", "to": "ft:base"}
    assert "-Cite sources." in diff["prompt"]["diff"] and "+Be brief." in diff["prompt"]["diff"]
    assert diff["config"]["changed"] == {"temperature": [0.2, 0.7]}
    assert diff["config"]["added"] == {"max_tokens": 256}
    assert (diff["from"], diff["to"]) == (v1.short, v2.short)


def test_no_regression_says_to_widen_the_search() -> None:
    ctx, fakes, v1, v2 = scene()
    fakes.evaluator.set(v1.id, accuracy=0.80)
    fakes.evaluator.set(v2.id, accuracy=0.82)
    result = run(ctx)
    assert result.regression is False
    assert "no regression" in result.verdict and "widen" in result.verdict


def test_a_drop_within_tolerance_is_not_a_regression() -> None:
    ctx, fakes, v1, v2 = scene(TOLERANT)
    fakes.evaluator.set(v1.id, accuracy=0.80)
    fakes.evaluator.set(v2.id, accuracy=0.79)
    assert run(ctx).regression is False
    fakes.evaluator.set(v2.id, accuracy=0.77)
    assert run(ctx).regression is True


def test_lower_is_better_counts_a_rise_as_the_regression() -> None:
    ctx, fakes = make_ctx(BASE)
    r1 = registered(ctx, "ranker", "r1", 0.30)
    r2 = registered(ctx, "ranker", "r2", 0.25, parent=r1)
    promoted(ctx, r1)
    promoted(ctx, r2)
    fakes.evaluator.set(r1.id, loss=0.30)
    fakes.evaluator.set(r2.id, loss=0.35)
    assert run(ctx, model="ranker", onset=None).regression is True
    fakes.evaluator.set(r2.id, loss=0.20)
    assert run(ctx, model="ranker", onset=None).regression is False


def test_a_failing_evaluator_falls_back_to_stored_scores() -> None:
    ctx, fakes, _v1, _v2 = scene()
    fakes.evaluator.fail = "eval cluster down"

    result = run(ctx)

    assert result.scores["suspect"] == {"accuracy": 0.85}
    assert result.scores["previous"] == {"accuracy": 0.80}
    assert "re-run failed: eval cluster down" in result.scores["source"]
    assert result.regression is False  # stored numbers: 0.80 -> 0.85
    out = fakes.last_run()
    assert out.status == RunStatus.SUCCEEDED
    assert failed_step(out) == "re-run eval"
    assert steps(out)[-1] == ("verdict", StepStatus.OK)


def test_stored_scores_can_still_show_a_regression() -> None:
    ctx, fakes = make_ctx('[models.chat]\nmetric = "accuracy"\n')  # no evaluator at all
    v1 = registered(ctx, "chat", "v1", 0.9)
    v2 = fakes.add_version("chat", "v2", {"accuracy": 0.7}, parent=v1.id)
    promoted(ctx, v1)
    fakes.move("chat", "production", v2.id)  # e.g. promoted before min_score existed
    result = run(ctx, onset=None)
    assert result.regression is True and result.scores["source"].startswith("stored")


def test_an_explicit_suspect_must_have_served_production() -> None:
    ctx, fakes, v1, v2 = scene()
    assert run(ctx, suspect=v2.short).previous == v1
    never = registered(ctx, "chat", "never", 0.9, parent=v2)
    with pytest.raises(InvalidState) as err:
        run(ctx, suspect=never.short)
    assert "never served production" in str(err.value)
    assert failed_step(fakes.last_run()) == "find suspect"


def test_the_first_production_version_has_nothing_to_compare_with() -> None:
    ctx, _fakes, v1, _ = scene()
    with pytest.raises(InvalidState) as err:
        run(ctx, onset=T0 + timedelta(hours=1, minutes=30))
    assert "first production version" in str(err.value)
    with pytest.raises(InvalidState):
        run(ctx, suspect=v1.short)


def test_no_production_at_the_onset_is_not_found() -> None:
    ctx, fakes, _, _ = scene()
    with pytest.raises(NotFound):
        run(ctx, onset=T0)
    assert fakes.last_run().status == RunStatus.FAILED


def test_the_history_is_limited_to_the_window() -> None:
    ctx, _, _, v2 = scene()
    result = run(ctx, window_hours=1.5)
    assert [e["to"] for e in result.history] == [v2.id]


def test_the_onset_needs_a_time_zone_and_the_window_must_be_positive() -> None:
    with pytest.raises(InvalidInput) as err:
        Investigate.parse(model="chat", actor="a", onset="2026-03-02T09:00:00")
    assert err.value.field == "onset"
    with pytest.raises(InvalidInput) as err:
        Investigate.parse(model="chat", actor="a", window_hours=0)
    assert err.value.field == "window_hours"


def rolled_back_scene() -> tuple[PlayContext, Fakes, Version, Version]:
    """v2 went bad after its promotion; the on-call rolled production back to v1."""
    ctx, fakes, v1, v2 = scene()
    fakes.evaluator.set(v1.id, accuracy=0.80)
    fakes.evaluator.set(v2.id, accuracy=0.61)
    rollback(Rollback.parse(model="chat", actor="oncall", symptom="gibberish"), ctx)
    fakes.clock.set(T0 + timedelta(hours=6))
    return ctx, fakes, v1, v2


def test_right_after_a_rollback_the_suspect_is_the_version_rolled_back_from() -> None:
    ctx, fakes, v1, v2 = rolled_back_scene()
    before = fakes.snapshot()
    result = investigate(Investigate.parse(model="chat", actor="oncall"), ctx)  # no onset
    assert (result.suspect, result.previous, result.serving) == (v2, v1, v1)
    assert result.regression is True and result.suspect_serving is False
    assert result.moved_on is not None and result.moved_on.play == "rollback"
    assert "nothing to roll back" in result.verdict and "roll back to" not in result.verdict
    assert (f"Production already moved away from {v2.short}: rollback to {v1.short}"
            in result.verdict and f"{v1.short} serves now" in result.verdict)
    assert fakes.snapshot() == before
    assert fakes.last_run().result["suspect_serving"] is False


def test_an_onset_before_the_rollback_names_what_serves_now() -> None:
    ctx, _, v1, v2 = rolled_back_scene()
    result = run(ctx)  # onset at +3h: v2 was production then
    assert (result.suspect, result.previous, result.serving) == (v2, v1, v1)
    assert result.suspect_serving is False and "nothing to roll back" in result.verdict


def test_a_suspect_that_still_serves_is_offered_its_rollback() -> None:
    ctx, fakes, v1, v2 = scene()
    fakes.evaluator.set(v1.id, accuracy=0.80)
    fakes.evaluator.set(v2.id, accuracy=0.61)
    result = run(ctx)
    assert result.suspect_serving is True and result.serving == v2 and result.moved_on is None
    assert f"roll back to {v1.short}" in result.verdict


def test_an_onset_compares_with_the_version_before_the_promotion_then_in_force() -> None:
    """The suspect was rolled back, something else shipped, and the suspect went out again
    (with a reason): an onset before all that still compares it with what preceded it then."""
    ctx, fakes, v1, v2 = rolled_back_scene()
    fakes.clock.set(T0 + timedelta(hours=5, minutes=30))
    v3 = register(Register.parse(model="chat", components={"prompt": "v3"}, owner="bob",
                                 reason="v3", parent=v1.short, scores={"accuracy": 0.82},
                                 actor="bob"), ctx).version
    promoted(ctx, v3, "bob")
    fakes.clock.set(T0 + timedelta(hours=6))
    promote(Promote.parse(model="chat", version=v2.short, actor="bob",
                          override_reason="fixed"), ctx)
    fakes.clock.set(T0 + timedelta(hours=7))
    result = run(ctx)  # onset at +3h: v2, promoted over v1 at +2h
    assert (result.suspect, result.previous) == (v2, v1)
    assert fakes.last_run().steps[1].output["promoted_at"] == (T0 + timedelta(hours=2)).isoformat()


def test_long_after_a_rollback_the_suspect_is_what_serves() -> None:
    """Past the window the rollback is old news: the suspect is the restored version, compared
    with what it was promoted over (never with the version rolled back from)."""
    ctx, fakes, v1, _ = rolled_back_scene()
    fakes.clock.set(T0 + timedelta(days=10))
    with pytest.raises(InvalidState) as err:  # v1 was the first production version
        investigate(Investigate.parse(model="chat", actor="oncall"), ctx)
    assert f"{v1.short} was chat's first production version" in str(err.value)
