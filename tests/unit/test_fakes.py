"""The fakes keep the promises of the ports, or the play tests would prove nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fakes import (
    T0,
    FakeArtifactStore,
    FakeClock,
    FakeEvaluator,
    FakeStore,
    FakeUnitOfWorkFactory,
    make_ctx,
)

from core.domain import ApprovalRequest, Attribution, TagMoved, Version
from core.errors import AlreadyExists, Conflict, EvaluatorError, TagMovedMeanwhile
from core.identity import Components


def version(vid: str = "a" * 64) -> Version:
    return Version(model="chat", id=vid, components=Components(prompt=vid), owner="o",
                   parent_id=None, reason="r", scores={}, eval_source="", created_at=T0)


def request() -> ApprovalRequest:
    return ApprovalRequest(id="apr-1", model="chat", version_id="a" * 64, tag="production",
                           requester="erin", reason="", required=1, created_at=T0,
                           expires_at=T0 + timedelta(hours=1), production_at_request=None)


@pytest.fixture
def uow() -> FakeUnitOfWorkFactory:
    return FakeUnitOfWorkFactory(FakeStore())


def test_only_commit_makes_work_visible(uow: FakeUnitOfWorkFactory) -> None:
    with uow() as u:
        u.versions.add(version())
        assert u.versions.get("chat", "a" * 64) is not None  # reads see own writes
        with uow() as other:
            assert other.versions.get("chat", "a" * 64) is None
    assert uow.store.state.versions == {} and u.committed == 0
    with uow() as u:
        u.versions.add(version())
        u.commit()
        u.tags.compare_and_set("chat", "production", 0, "a" * 64, T0)  # after commit: new work
    assert list(uow.store.state.versions) == [("chat", "a" * 64)]
    assert uow.store.state.tags == {}
    assert (u.committed, uow.commits) == (1, 1)


def test_repositories_need_an_open_transaction(uow: FakeUnitOfWorkFactory) -> None:
    u = uow()
    with pytest.raises(RuntimeError):
        u.versions.get("chat", "x")
    with u:
        pass
    with pytest.raises(RuntimeError):
        u.tags.list()


def test_duplicates_are_refused_now_or_at_commit(uow: FakeUnitOfWorkFactory) -> None:
    with uow() as a, uow() as b:
        a.versions.add(version())
        b.versions.add(version())
        a.commit()
        with pytest.raises(AlreadyExists):
            b.commit()
        with pytest.raises(AlreadyExists):
            a.versions.add(version())


def test_compare_and_set(uow: FakeUnitOfWorkFactory) -> None:
    with uow() as u:
        tag = u.tags.compare_and_set("chat", "production", 0, "v1", T0)
        assert (tag.revision, tag.version_id) == (1, "v1")
        with pytest.raises(TagMovedMeanwhile) as err:
            u.tags.compare_and_set("chat", "production", 0, "v2", T0)
        assert (err.value.model, err.value.tag) == ("chat", "production")
        u.commit()
    with uow() as a, uow() as b:
        a.tags.compare_and_set("chat", "production", 1, "v2", T0)
        b.tags.compare_and_set("chat", "production", 1, "v3", T0)
        a.commit()
        with pytest.raises(TagMovedMeanwhile):
            b.commit()
    assert uow.store.state.tags[("chat", "production")].version_id == "v2"


def test_events_get_a_sequence_and_one_per_revision(uow: FakeUnitOfWorkFactory) -> None:
    def event(rev: int) -> TagMoved:
        return TagMoved("chat", "production", None, "v", rev, "a", (), "promote", "", T0)

    with uow() as u:
        first, second = u.events.append(event(1)), u.events.append(event(2))
        assert (first.seq, second.seq) == (1, 2)
        with pytest.raises(Conflict):
            u.events.append(event(1))
        u.commit()
        assert [e.revision for e in u.events.history("chat", newest_first=True)] == [2, 1]
        assert u.events.history("chat", before_seq=2) == [first]
        assert u.events.ever_pointed("chat", "production", "v")


def test_approvals_use_optimistic_concurrency(uow: FakeUnitOfWorkFactory) -> None:
    with uow() as u:
        u.approvals.add(request())
        u.commit()
    with uow() as a, uow() as b:
        mine, theirs = a.approvals.get("apr-1"), b.approvals.get("apr-1")
        assert mine is not None and theirs is not None
        mine.reason = "mine"
        a.approvals.save(mine)
        assert mine.revision == 1
        a.commit()
        theirs.reason = "theirs"
        b.approvals.save(theirs)  # its snapshot is stale, so commit must fail
        with pytest.raises(Conflict):
            b.commit()
    with uow() as u:
        stored = u.approvals.get("apr-1")
        assert stored is not None and (stored.reason, stored.revision) == ("mine", 1)
        stored.reason = "changed in memory only"
        assert u.approvals.get("apr-1").reason == "mine"  # type: ignore[union-attr]
        stale = u.approvals.get("apr-1")
        assert stale is not None
        u.approvals.save(stored)
        with pytest.raises(Conflict):
            u.approvals.save(stale)


def test_attributions_skip_known_request_ids(uow: FakeUnitOfWorkFactory) -> None:
    rec = Attribution("r1", "chat", "v", T0)
    with uow() as u:
        assert u.attributions.add_many([rec, rec]) == 1
        assert u.attributions.add_many([rec]) == 0
        u.commit()


def test_the_clock_is_aware_and_moves_when_told() -> None:
    clock = FakeClock()
    assert clock.now() == clock.now() == T0
    assert clock.advance(minutes=5) == T0 + timedelta(minutes=5)
    clock.tick = timedelta(seconds=1)
    assert clock.now() < clock.now()
    with pytest.raises(ValueError):
        FakeClock(datetime(2026, 1, 1))


def test_the_evaluator_records_and_fails_on_demand() -> None:
    ev = FakeEvaluator({"a" * 64: {"accuracy": 0.5}}, default={"accuracy": 0.1})
    assert ev.evaluate(version()) == {"accuracy": 0.5}
    assert ev.evaluate(version("b" * 64)) == {"accuracy": 0.1}
    assert ev.called_ids == ["a" * 64, "b" * 64]
    ev.fail = "boom"
    with pytest.raises(EvaluatorError, match="boom"):
        ev.evaluate(version())
    assert FakeEvaluator(lambda v: {"n": len(v.id)}).evaluate(version()) == {"n": 64}
    with pytest.raises(EvaluatorError):
        FakeEvaluator().evaluate(version())


def test_the_artifact_store_keeps_shared_blobs() -> None:
    store = FakeArtifactStore()
    a = store.put_bytes("chat", "v1", "w.bin", b"shared")
    store.put_bytes("chat", "v2", "w.bin", b"shared")
    store.put_bytes("chat", "v1", "x.bin", b"own")
    assert store.delete("chat", "v1") == 3
    assert store.path_of("chat", "v2", "w.bin") == store.root / a.sha256
    assert store.path_of("chat", "v1", "w.bin") is None
    assert store.delete("chat", "v2") == 6 and store.blobs == {}
    assert store.delete("chat", "v2") == 0


def test_make_ctx_accepts_toml_or_a_dict() -> None:
    ctx, fakes = make_ctx({"models": {"chat": {"metric": "m"}}})
    assert ctx.config.model("chat").metric == "m"
    assert ctx.make_id("run") == "run-1" and ctx.make_id("inc") == "inc-2"
    assert ctx.uow is fakes.uow and ctx.clock is fakes.clock
