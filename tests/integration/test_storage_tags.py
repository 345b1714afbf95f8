"""Tags (compare-and-set) and the event log on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, timedelta

import pytest

from core.domain import Tag
from core.errors import NotFound, TagMovedMeanwhile
from storage.uow import SqlUnitOfWork

from .builders import IST, T0, moved, version

Factory = Callable[[], SqlUnitOfWork]
V = [version(i) for i in range(6)]


@pytest.fixture
def uow(uow_factory: Factory) -> SqlUnitOfWork:
    with uow_factory() as setup:
        for v in V:
            setup.versions.add(v)
        setup.commit()
    return uow_factory()


def test_compare_and_set_creates_then_moves_a_tag(uow: SqlUnitOfWork,
                                                  uow_factory: Factory) -> None:
    with uow:
        created = uow.tags.compare_and_set("chat", "production", 0, V[0].id, T0.astimezone(IST))
        moved_tag = uow.tags.compare_and_set("chat", "production", 1, V[1].id,
                                             T0 + timedelta(hours=1))
        uow.commit()
    assert created == Tag("chat", "production", V[0].id, 1, T0)
    assert moved_tag == Tag("chat", "production", V[1].id, 2, T0 + timedelta(hours=1))
    with uow_factory() as again:
        stored = again.tags.get("chat", "production")
        assert stored == moved_tag
        assert stored is not None and stored.moved_at.tzinfo == UTC
        assert again.tags.get("chat", "canary") is None


@pytest.mark.parametrize("expected", [0, 1, 3])
def test_a_stale_revision_is_tag_moved_meanwhile(uow: SqlUnitOfWork, uow_factory: Factory,
                                                 expected: int) -> None:
    with uow:
        uow.tags.compare_and_set("chat", "production", 0, V[0].id, T0)
        uow.tags.compare_and_set("chat", "production", 1, V[1].id, T0)
        uow.commit()
    with uow_factory() as racing:
        with pytest.raises(TagMovedMeanwhile) as caught:
            racing.tags.compare_and_set("chat", "production", expected, V[2].id, T0)
        assert caught.value.model == "chat" and caught.value.tag == "production"
        # The conflict leaves the transaction usable: the caller can re-read and decide.
        current = racing.tags.get("chat", "production")
        assert current is not None and current.revision == 2 and current.version_id == V[1].id


def test_a_tag_cannot_point_at_an_unregistered_version(uow: SqlUnitOfWork) -> None:
    with uow:
        with pytest.raises(NotFound):
            uow.tags.compare_and_set("chat", "production", 0, "9" * 64, T0)
        uow.tags.compare_and_set("chat", "production", 0, V[0].id, T0)
        with pytest.raises(NotFound):
            uow.tags.compare_and_set("chat", "production", 1, "9" * 64, T0)


def test_tags_list_by_model(uow: SqlUnitOfWork) -> None:
    with uow:
        uow.tags.compare_and_set("chat", "production", 0, V[0].id, T0)
        uow.tags.compare_and_set("chat", "canary", 0, V[1].id, T0)
        assert [t.name for t in uow.tags.list("chat")] == ["canary", "production"]
        assert [t.name for t in uow.tags.list()] == ["canary", "production"]
        assert uow.tags.list("other") == []


def test_events_round_trip_with_seq_and_utc(uow: SqlUnitOfWork, uow_factory: Factory) -> None:
    first = moved(None, V[0], 1, at=T0.astimezone(IST))
    with uow:
        stored = uow.events.append(first)
        second = uow.events.append(moved(V[0], V[1], 2))
        uow.commit()
    assert stored.seq is not None and second.seq is not None and second.seq > stored.seq
    with uow_factory() as again:
        history = again.events.history("chat", "production")
    assert history == [stored, second]
    assert history[0].at == T0 and history[0].at.tzinfo == UTC
    assert history[0].approvers == ("carol", "dave") and history[0].from_version is None


def test_one_event_per_tag_revision(uow: SqlUnitOfWork) -> None:
    with uow:
        uow.events.append(moved(None, V[0], 1))
        with pytest.raises(TagMovedMeanwhile):
            uow.events.append(moved(None, V[1], 1))
        uow.events.append(moved(None, V[1], 1, tag="canary"))  # other tags have their own chain
        with pytest.raises(NotFound):
            uow.events.append(moved(V[0], version(99), 2))
        assert [e.to_version for e in uow.events.history("chat")] == [V[0].id, V[1].id]


def test_history_filters(uow: SqlUnitOfWork) -> None:
    hour = timedelta(hours=1)
    with uow:
        events = [
            uow.events.append(moved(None, V[0], 1, at=T0)),
            uow.events.append(moved(V[0], V[1], 2, at=T0 + hour)),
            uow.events.append(moved(V[1], V[0], 3, at=T0 + 2 * hour, play="rollback")),
            uow.events.append(moved(None, V[2], 1, tag="canary", at=T0 + 3 * hour)),
            uow.events.append(moved(V[0], V[3], 4, at=T0 + 4 * hour)),
        ]
        h = uow.events.history
        assert h("chat") == events
        assert h("chat", "production") == [events[i] for i in (0, 1, 2, 4)]
        assert h("chat", "canary") == [events[3]]
        assert h("chat", since=T0 + hour, until=T0 + 3 * hour) == events[1:4]  # both inclusive
        assert h("chat", until=(T0 + hour).astimezone(IST)) == events[:2]
        assert h("chat", play="rollback") == [events[2]]
        assert h("chat", "production", newest_first=True) == [events[i] for i in (4, 2, 1, 0)]
        assert h("chat", newest_first=True, limit=2) == [events[4], events[3]]
        assert h("chat", before_seq=events[2].seq) == events[:2]
        assert h("chat", before_seq=events[4].seq, newest_first=True, limit=2) == \
            [events[3], events[2]]
        assert h("other") == []


def test_touching_and_ever_pointed(uow: SqlUnitOfWork) -> None:
    with uow:
        a = uow.events.append(moved(None, V[0], 1))
        b = uow.events.append(moved(V[0], V[1], 2))
        c = uow.events.append(moved(V[1], V[2], 3))
        assert uow.events.touching("chat", V[1].id) == [b, c]
        assert uow.events.touching("chat", V[0].id) == [a, b]
        assert uow.events.touching("chat", V[4].id) == []
        assert uow.events.ever_pointed("chat", "production", V[1].id)
        assert not uow.events.ever_pointed("chat", "canary", V[1].id)
        assert not uow.events.ever_pointed("chat", "production", V[4].id)
