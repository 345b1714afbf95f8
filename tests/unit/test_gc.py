"""Play 6: free heavy artifacts nobody can need; keep every record forever."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fakes import T0, Fakes, make_ctx
from given import steps

from core.commands import CollectGarbage
from core.domain import StepStatus, Version
from core.engine import PlayContext
from core.errors import ConfigError
from core.plays.gc import GcReport, collect_garbage

CONFIG = """
[defaults]
metric = "accuracy"
retention_days = 30

[models.chat]
[models.other]
"""
NOW = T0 + timedelta(days=100)
OLD = NOW - timedelta(days=60)


def old(fakes: Fakes, name: str, size: int = 100, model: str = "chat", **kw: Any) -> Version:
    kw.setdefault("created_at", OLD)
    return fakes.add_version(model, name, {"accuracy": 0.5},
                             artifacts={f"{name}.bin": name.encode() * size}, **kw)


@pytest.fixture
def scene() -> tuple[PlayContext, Fakes, dict[str, Version]]:
    ctx, fakes = make_ctx(CONFIG)
    v = {
        "unused": old(fakes, "unused"),
        "fresh": old(fakes, "fresh", created_at=NOW - timedelta(days=10)),
        "at_boundary": old(fakes, "at_boundary", created_at=NOW - timedelta(days=30)),
        "canary": old(fakes, "canary"),
        "was_production": old(fakes, "was_production"),
        "production": old(fakes, "production"),
        "expired_exp": old(fakes, "expired_exp", created_at=NOW - timedelta(days=2),
                           kind="experiment", expires_at=NOW - timedelta(days=1)),
        "live_exp": old(fakes, "live_exp", kind="experiment", expires_at=NOW + timedelta(days=1)),
        "no_artifacts": fakes.add_version("chat", "no_artifacts", {"accuracy": 0.5},
                                          created_at=OLD),
        "other_model": old(fakes, "other_model", model="other"),
        "undeclared": old(fakes, "undeclared", model="legacy"),
    }
    fakes.move("chat", "canary", v["canary"].id, at=OLD)
    fakes.move("chat", "production", v["was_production"].id, at=OLD)
    fakes.move("chat", "production", v["production"].id, at=OLD)
    fakes.clock.set(NOW)
    return ctx, fakes, v


def gc(ctx: PlayContext, **kw: Any) -> GcReport:
    return collect_garbage(CollectGarbage.parse(actor="registry-owner", **kw), ctx)


COLLECTED = ["unused", "at_boundary", "expired_exp", "other_model"]


def test_collects_only_what_nobody_can_need(scene: tuple[PlayContext, Fakes,
                                                         dict[str, Version]]) -> None:
    ctx, fakes, v = scene
    events, tags = fakes.events, fakes.tags

    report = gc(ctx)

    assert sorted(x.id for x in report.collected) == sorted(v[n].id for n in COLLECTED)
    assert report.kept == {"within retention": 2, "a tag points at it": 2,
                           "served production": 1, "model no longer declared": 1}
    assert report.bytes_freed == sum(v[n].artifact_bytes for n in COLLECTED) > 0
    assert not report.dry_run
    for name, version in v.items():
        stored = fakes.version(version.model, version.id)
        # Metadata, scores and lineage stay; only the heavy bytes go.
        assert stored.scores == version.scores and stored.artifacts == version.artifacts
        if name in COLLECTED:
            assert stored.artifacts_collected_at == NOW
            assert fakes.artifacts.path_of(version.model, version.id, f"{name}.bin") is None
        else:
            assert stored.artifacts_collected_at is None
            if version.artifacts:
                assert fakes.artifacts.path_of(version.model, version.id,
                                               f"{name}.bin") is not None
    assert fakes.events == events and fakes.tags == tags
    run = fakes.last_run()
    assert steps(run) == [("find collectable", StepStatus.OK), ("delete artifacts", StepStatus.OK)]
    assert run.result["bytes_freed"] == report.bytes_freed


def test_a_second_cycle_finds_nothing(scene: tuple[PlayContext, Fakes,
                                                   dict[str, Version]]) -> None:
    ctx, fakes, _ = scene
    gc(ctx)
    before = fakes.snapshot()
    report = gc(ctx)
    assert report.collected == [] and report.bytes_freed == 0
    assert fakes.snapshot() == before


def test_a_dry_run_deletes_nothing(scene: tuple[PlayContext, Fakes,
                                                dict[str, Version]]) -> None:
    ctx, fakes, v = scene
    before, blobs = fakes.snapshot(), dict(fakes.artifacts.blobs)

    report = gc(ctx, dry_run=True)

    assert report.dry_run
    assert sorted(x.id for x in report.collected) == sorted(v[n].id for n in COLLECTED)
    assert report.bytes_freed == sum(v[n].artifact_bytes for n in COLLECTED)
    assert fakes.snapshot() == before and fakes.artifacts.blobs == blobs
    assert steps(fakes.last_run())[-1] == ("delete artifacts", StepStatus.SKIPPED)


def test_one_model_at_a_time(scene: tuple[PlayContext, Fakes, dict[str, Version]]) -> None:
    ctx, fakes, v = scene
    report = gc(ctx, model="other")
    assert [x.id for x in report.collected] == [v["other_model"].id]
    assert fakes.version("chat", v["unused"].id).artifacts_collected_at is None
    with pytest.raises(ConfigError):
        gc(ctx, model="legacy")


def test_a_blob_shared_with_a_kept_version_is_neither_deleted_nor_counted() -> None:
    ctx, fakes = make_ctx(CONFIG)
    shared = b"base weights" * 10
    gone = fakes.add_version("chat", "gone", {"accuracy": 1}, created_at=OLD,
                             artifacts={"base.bin": shared, "delta.bin": b"delta"})
    fakes.add_version("chat", "kept", {"accuracy": 1}, created_at=NOW,
                      artifacts={"base.bin": shared})
    fakes.clock.set(NOW)

    report = gc(ctx)

    assert [x.id for x in report.collected] == [gone.id]
    assert report.bytes_freed == len(b"delta")
    assert fakes.artifacts.blobs == {gone.artifacts[0].sha256: shared}


def test_an_experiment_tag_does_not_outlive_the_experiments_retention(
        scene: tuple[PlayContext, Fakes, dict[str, Version]]) -> None:
    ctx, fakes, v = scene
    fakes.move("chat", "experiment/warm", v["expired_exp"].id, at=OLD)
    fakes.move("chat", "experiment/cold", v["live_exp"].id, at=OLD)
    collected = {x.id for x in gc(ctx).collected}
    assert v["expired_exp"].id in collected
    assert v["live_exp"].id not in collected


def test_a_collected_version_cannot_be_promoted(
        scene: tuple[PlayContext, Fakes, dict[str, Version]]) -> None:
    from core.commands import Promote
    from core.errors import Refused
    from core.plays import promote

    ctx, fakes, v = scene
    gc(ctx)
    before = fakes.snapshot()
    with pytest.raises(Refused, match="garbage collection"):
        promote(Promote.parse(model="chat", version=v["unused"].short, actor="alice"), ctx)
    after = fakes.snapshot()
    assert after["tags"] == before["tags"] and after["events"] == before["events"]
