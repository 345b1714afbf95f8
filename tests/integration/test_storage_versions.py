"""SqlVersionRepository on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, timedelta

import pytest

from core.errors import AlreadyExists, NotFound
from storage.uow import SqlUnitOfWork

from .builders import IST, T0, version

Factory = Callable[[], SqlUnitOfWork]


def test_a_version_round_trips_every_field_with_utc_times(uow_factory: Factory) -> None:
    original = version(1, kind="experiment", experiment="shorter-prompt",
                       parent_id="f" * 64, created_at=T0.astimezone(IST),
                       expires_at=T0 + timedelta(days=14),
                       artifacts_collected_at=T0 + timedelta(days=30))
    with uow_factory() as uow:
        uow.versions.add(original)
        uow.commit()
    with uow_factory() as uow:
        loaded = uow.versions.get("chat", original.id)
    assert loaded == original
    assert loaded is not None
    for moment in (loaded.created_at, loaded.expires_at, loaded.artifacts_collected_at):
        assert moment is not None and moment.tzinfo == UTC
    assert loaded.components.config == {"temperature": 0.25, "max_tokens": 512,
                                         "tools": ["search", 1], "nested": {"a": None, "b": True}}


def test_a_version_without_optional_fields_round_trips(uow_factory: Factory) -> None:
    bare = version(2, artifacts=(), scores={})
    with uow_factory() as uow:
        uow.versions.add(bare)
        uow.commit()
    with uow_factory() as uow:
        assert uow.versions.get("chat", bare.id) == bare
        assert uow.versions.get("chat", "0" * 64) is None
        assert uow.versions.get("other-model", bare.id) is None


def test_adding_the_same_version_twice_is_already_exists_and_keeps_the_uow(
        uow_factory: Factory) -> None:
    v = version(1)
    with uow_factory() as uow:
        uow.versions.add(v)
        uow.commit()
    with uow_factory() as uow:
        with pytest.raises(AlreadyExists):
            uow.versions.add(replace(v, reason="changed"))
        other = version(2)
        uow.versions.add(other)  # the transaction is still usable after the conflict
        uow.commit()
    with uow_factory() as uow:
        assert uow.versions.get("chat", v.id) == v
        assert uow.versions.get("chat", other.id) == other


def test_ids_with_prefix_matches_only_that_model_and_prefix(uow_factory: Factory) -> None:
    ids = ["aaaa0000" + "0" * 56, "aaaa0001" + "0" * 56, "aaab0000" + "0" * 56,
           "bbbb0000" + "0" * 56]
    with uow_factory() as uow:
        for i, vid in enumerate(ids):
            uow.versions.add(replace(version(i), id=vid))
        uow.versions.add(replace(version(9, model="other"), id=ids[0]))
        uow.commit()
    with uow_factory() as uow:
        assert uow.versions.ids_with_prefix("chat", "aaaa") == ids[:2]
        assert uow.versions.ids_with_prefix("chat", "aaa") == ids[:3]
        assert uow.versions.ids_with_prefix("chat", "aaa", limit=2) == ids[:2]
        assert uow.versions.ids_with_prefix("chat", ids[3]) == [ids[3]]
        assert uow.versions.ids_with_prefix("chat", "c") == []
        assert uow.versions.ids_with_prefix("chat", "aa%") == []
        assert uow.versions.ids_with_prefix("chat", "") == []
        assert uow.versions.ids_with_prefix("other", "a") == [ids[0]]


def test_list_is_newest_first_and_filters_by_kind(uow_factory: Factory) -> None:
    releases = [version(i) for i in range(3)]
    experiment = version(5, kind="experiment", experiment="x")
    with uow_factory() as uow:
        for v in [*releases, experiment, version(7, model="other")]:
            uow.versions.add(v)
        uow.commit()
    with uow_factory() as uow:
        assert uow.versions.list("chat") == [experiment, *reversed(releases)]
        assert uow.versions.list("chat", kind="release", limit=2) == releases[:0:-1]
        assert uow.versions.list("chat", kind="experiment") == [experiment]
        assert uow.versions.list("nobody") == []


def test_collected_versions_leave_the_live_artifact_list(uow_factory: Factory) -> None:
    heavy, light, other = version(1), version(2, artifacts=()), version(3, model="other")
    with uow_factory() as uow:
        for v in (heavy, light, other):
            uow.versions.add(v)
        uow.commit()
    with uow_factory() as uow:
        assert uow.versions.with_live_artifacts() == [heavy, other]
        assert uow.versions.with_live_artifacts("chat") == [heavy]
        uow.versions.mark_artifacts_collected("chat", heavy.id, T0 + timedelta(days=1))
        with pytest.raises(NotFound):
            uow.versions.mark_artifacts_collected("chat", "0" * 64, T0)
        uow.commit()
    with uow_factory() as uow:
        assert uow.versions.with_live_artifacts() == [other]
        collected = uow.versions.get("chat", heavy.id)
    assert collected is not None
    assert collected.artifacts == heavy.artifacts  # metadata stays forever
    assert collected.artifacts_collected_at == T0 + timedelta(days=1)
