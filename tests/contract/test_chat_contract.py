"""The ChatRecords port's promises (what the Slack surface remembers), held by the fake and by
SQL on SQLite and PostgreSQL: deliveries recorded once, messages found where they were last
posted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from core.ports import UnitOfWork

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
Factory = Callable[[], UnitOfWork]


def first(uow: Factory, key: str, kind: str, at: datetime) -> bool:
    with uow() as u:
        seen_first = u.chat.first_delivery(key, kind, at)
        u.commit()
    return seen_first


def test_deliveries_are_first_come_until_pruned(uow: Factory) -> None:
    assert first(uow, "command:t1", "command", T0) is True
    assert first(uow, "command:t1", "command", T0) is False  # a retry
    assert first(uow, "event:E1", "event", T0 + timedelta(days=2)) is True
    with uow() as u:
        u.chat.first_delivery("command:t2", "command", T0)  # not committed: not recorded
    with uow() as u:
        assert u.chat.prune_deliveries(T0 + timedelta(days=1)) == 1
        u.commit()
    assert first(uow, "command:t1", "command", T0) is True  # forgotten after the window
    assert first(uow, "command:t2", "command", T0) is True
    assert first(uow, "event:E1", "event", T0) is False


def test_a_refused_delivery_leaves_the_transaction_usable(uow: Factory) -> None:
    assert first(uow, "command:t1", "command", T0) is True
    with uow() as u:
        assert u.chat.first_delivery("command:t1", "command", T0) is False
        u.chat.remember("approval", "apr-1", "C1", "1.000001", T0)
        u.commit()
    with uow() as u:
        assert u.chat.message("approval", "apr-1") == ("C1", "1.000001")


def test_messages_are_remembered_by_kind_and_key(uow: Factory) -> None:
    with uow() as u:
        assert u.chat.message("approval", "apr-1") is None
        u.chat.remember("approval", "apr-1", "C1", "1.000001", T0)
        u.commit()
    with uow() as u:
        u.chat.remember("approval", "apr-1", "C1", "1.000002", T0)  # re-posted: latest wins
        u.chat.remember("incident", "apr-1", "C2", "2.000001", T0)
        u.commit()
    with uow() as u:
        u.chat.remember("incident", "apr-1", "C9", "9.000001", T0)  # rolled back
    with uow() as u:
        assert u.chat.message("approval", "apr-1") == ("C1", "1.000002")
        assert u.chat.message("incident", "apr-1") == ("C2", "2.000001")
        assert u.chat.message("incident", "apr-2") is None
