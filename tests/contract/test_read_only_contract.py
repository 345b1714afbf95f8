"""A read-only unit of work reads what is committed and refuses to change anything: the same
from the fakes and from SQL on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from integration.builders import T0, moved, version

from core.domain import Attribution
from core.errors import StorageError
from core.events import PromotionRequested
from core.ports import UnitOfWorkFactory


def test_it_reads_what_is_committed(uow: UnitOfWorkFactory) -> None:
    v = version(1)
    with uow() as u:
        u.versions.add(v)
        u.tags.compare_and_set("chat", "production", 0, v.id, T0)
        u.events.append(moved(None, v, 1))
        u.commit()
    with uow(read_only=True) as u:
        assert u.versions.get("chat", v.id) == v
        assert u.tags.get("chat", "production").version_id == v.id  # type: ignore[union-attr]
        assert [e.to_version for e in u.events.history("chat")] == [v.id]


def test_every_kind_of_write_is_refused_and_nothing_changes(uow: UnitOfWorkFactory) -> None:
    v = version(1)
    writes = {
        "version": lambda u: u.versions.add(v),
        "tag": lambda u: u.tags.compare_and_set("chat", "production", 0, v.id, T0),
        "event": lambda u: u.events.append(moved(None, v, 1)),
        "attribution": lambda u: u.attributions.add_many([Attribution(
            request_id="req-1", model="chat", version_id=v.id, served_at=T0)]),
        "outbox": lambda u: u.outbox.add(PromotionRequested(
            model="chat", request_id="apr-1", version_id=v.id, requester="UANA", required=1,
            channel="CGEN", at=T0)),
    }
    for what, write in writes.items():
        with uow(read_only=True) as u, pytest.raises(StorageError, match="read-only"):
            write(u)
        assert what  # each refused at the write itself, before anything reached the store
    with uow() as u:
        assert u.versions.get("chat", v.id) is None
        assert u.tags.list() == [] and u.events.history("chat") == []
        assert u.attributions.get("req-1") is None and u.outbox.last_seq() == 0


def test_commit_is_refused_even_with_nothing_written(uow: UnitOfWorkFactory) -> None:
    with uow(read_only=True) as u, pytest.raises(StorageError, match="cannot commit") as err:
        u.commit()
    assert err.value.hint and "read_only=False" in err.value.hint
