"""Tags are a fold over their events: replaying the log gives the tag table back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fakes import T0, FakeStore, FakeUnitOfWork, FakeUnitOfWorkFactory
from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain import TagMoved
from core.errors import InvalidState, TagMovedMeanwhile
from core.replay import replay


def ev(tag: str, frm: str | None, to: str, rev: int, model: str = "chat") -> TagMoved:
    return TagMoved(model=model, tag=tag, from_version=frm, to_version=to, revision=rev,
                    actor="a", approvers=(), play="promote", reason="", at=T0, seq=rev)


def test_replay_of_well_formed_chains() -> None:
    assert replay([]) == {}
    assert replay([ev("production", None, "v1", 1), ev("canary", None, "v2", 1),
                   ev("production", "v1", "v2", 2), ev("production", "v2", "v1", 3),
                   ev("production", None, "x", 1, model="ranker")]) == {
        ("chat", "production"): ("v1", 3), ("chat", "canary"): ("v2", 1),
        ("ranker", "production"): ("x", 1)}


@pytest.mark.parametrize("events", [
    [ev("production", "v0", "v1", 1)],  # the first move claims a predecessor
    [ev("production", None, "v1", 2)],  # starts at the wrong revision
    [ev("production", None, "v1", 1), ev("production", "v2", "v3", 2)],  # wrong from
    [ev("production", None, "v1", 1), ev("production", "v1", "v2", 3)],  # a revision missing
    [ev("production", None, "v1", 1), ev("production", None, "v2", 1)],  # a second first move
])
def test_a_broken_chain_is_an_invalid_state(events: list[TagMoved]) -> None:
    with pytest.raises(InvalidState) as err:
        replay(events)
    assert "chat:production" in str(err.value)


# --- property: random compare-and-set moves through the fake repositories -------------------

MODELS, TAGS, VERSIONS = ("chat", "ranker"), ("production", "canary", "rehearsal"), "abcd"
Move = tuple[str, str, str, int]
moves = st.tuples(st.sampled_from(MODELS), st.sampled_from(TAGS), st.sampled_from(VERSIONS),
                  st.sampled_from([0, 0, 0, -1, 1, -3]))  # revision skew: 0 is up to date
# (race?, move, other move): a race runs two up-to-date moves in overlapping transactions.
scripts = st.lists(st.tuples(st.booleans(), moves, moves), max_size=40)


def stage(uow: FakeUnitOfWork, move: Move, n: int) -> None:
    """Read the tag, compare-and-set it with the (possibly skewed) revision, log the event."""
    model, tag, version, skew = move
    current = uow.tags.get(model, tag)
    revision = (current.revision if current else 0) + skew
    at = T0 + timedelta(minutes=n)
    moved = uow.tags.compare_and_set(model, tag, revision, version * 64, at)
    uow.events.append(TagMoved(model=model, tag=tag,
                               from_version=current.version_id if current else None,
                               to_version=moved.version_id, revision=moved.revision, actor="p",
                               approvers=(), play="promote", reason="", at=at))


@settings(max_examples=200, deadline=None)
@given(scripts)
def test_replaying_the_log_gives_the_tag_table(script: list[tuple[bool, Move, Move]]) -> None:
    store = FakeStore()
    uows = FakeUnitOfWorkFactory(store)
    accepted = 0
    for n, (race, move, other) in enumerate(script):
        events_before = dict(store.state.events)
        if not race:
            try:
                with uows() as uow:
                    stage(uow, move, n)
                    uow.commit()
                accepted += 1
                assert move[3] == 0
            except TagMovedMeanwhile:
                assert move[3] != 0
                assert store.state.events == events_before  # a stale move appends nothing
        else:
            first, second = (*move[:3], 0), (*other[:3], 0)
            with uows() as a, uows() as b:
                stage(a, first, n)
                stage(b, second, n)  # read before `a` commits: stale if on the same tag
                a.commit()
                accepted += 1
                if first[:2] == second[:2]:
                    with pytest.raises(TagMovedMeanwhile):
                        b.commit()
                    assert len(store.state.events) == len(events_before) + 1
                else:
                    b.commit()
                    accepted += 1

        table = {k: (t.version_id, t.revision) for k, t in store.state.tags.items()}
        log = [e for _, e in sorted(store.state.events.items())]
        assert replay(log) == table
        assert len(log) == accepted
