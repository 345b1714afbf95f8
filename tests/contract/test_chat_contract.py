"""The ChatRecords port's promises (what the Slack surface remembers), held by the fake and by
SQL on SQLite and PostgreSQL: the inbox of requests (recorded once, leased, taken over when
the lease runs out, handled once) and where each message was last posted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from core.ports import Received, UnitOfWork

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
Factory = Callable[[], UnitOfWork]


LEASE = timedelta(seconds=90)


def receive(uow: Factory, key: str, owner: str, at: datetime, payload: str = "{}") -> Received:
    with uow() as u:
        got = u.chat.receive(key, "command", payload, owner, at, at + LEASE)
        u.commit()
    return got


def handled(uow: Factory, key: str, owner: str, at: datetime) -> bool:
    with uow() as u:
        done = u.chat.handled(key, owner, at)
        u.commit()
    return done


def test_a_request_is_new_once_then_in_flight_then_handled(uow: Factory) -> None:
    assert receive(uow, "command:t1", "a", T0) == Received("new")
    assert receive(uow, "command:t1", "b", T0 + timedelta(seconds=5)) == Received("in_flight")
    assert handled(uow, "command:t1", "b", T0) is False  # not b's
    assert handled(uow, "command:t1", "a", T0 + timedelta(seconds=6)) is True
    for later in (timedelta(seconds=10), LEASE * 3):
        assert receive(uow, "command:t1", "b", T0 + later) == Received("handled")
    with uow() as u:
        assert u.chat.unhandled(T0 + LEASE * 10) == []
        u.chat.receive("command:t2", "command", "{}", "a", T0, T0 + LEASE)  # rolled back
    assert receive(uow, "command:t2", "b", T0) == Received("new")


def test_a_request_whose_lease_ran_out_is_taken_over_once_with_its_effect(
        uow: Factory) -> None:
    assert receive(uow, "command:t1", "dead", T0, payload='{"command": "/rollback"}').state \
        == "new"
    with uow() as u:
        assert u.chat.unhandled(T0 + LEASE) == []  # the lease still runs
        assert u.chat.unhandled(T0 + LEASE + timedelta(seconds=1)) == [
            ("command:t1", '{"command": "/rollback"}')]
        u.chat.mark_effect("command:t1", "rollback moved chat production")
        u.chat.mark_effect("command:t1", "a later change")  # the first one stays
        u.commit()
    later = T0 + LEASE + timedelta(seconds=1)
    assert receive(uow, "command:t1", "b", later) == Received(
        "taken_over", "rollback moved chat production")
    assert receive(uow, "command:t1", "c", later) == Received("in_flight")  # b holds it now
    assert handled(uow, "command:t1", "dead", later) is False
    with uow() as u:  # b renews while its work runs; the dead owner renews nothing
        assert u.chat.renew(["command:t1"], "dead", later + LEASE * 5) == 0
        assert u.chat.renew(["command:t1"], "b", later + LEASE * 2) == 1
        u.commit()
    assert receive(uow, "command:t1", "c", later + LEASE + timedelta(seconds=1)) == \
        Received("in_flight")
    assert handled(uow, "command:t1", "b", later + LEASE) is True
    with uow() as u:
        assert u.chat.unhandled(later + LEASE * 10) == []


def test_old_requests_are_pruned(uow: Factory) -> None:
    receive(uow, "command:t1", "a", T0)
    receive(uow, "event:E1", "a", T0 + timedelta(days=2))
    with uow() as u:
        assert u.chat.prune_deliveries(T0 + timedelta(days=1)) == 1
        u.commit()
    assert receive(uow, "command:t1", "a", T0).state == "new"  # forgotten after the window
    assert receive(uow, "event:E1", "b", T0 + timedelta(days=2)).state == "in_flight"


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
