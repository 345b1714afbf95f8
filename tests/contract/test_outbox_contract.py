"""The outbox port's promises, held by the fake and by the SQL outbox on SQLite and PostgreSQL
alike: written with the transaction or not at all, one delivery per subscriber, leases that
keep a delivery with one dispatcher until they run out, per-model order, retries and dead."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from core import events
from core.domain import TagMoved
from core.effects import REQUEST_ID
from core.handlers import NOTIFY
from core.outbox import Dispatcher
from core.ports import UnitOfWork

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)
Factory = Callable[[], UnitOfWork]


class FixedClock:
    def now(self) -> datetime:
        return T0


def requested(model: str = "risky", n: int = 1, at: datetime = T0) -> events.Event:
    return events.PromotionRequested(model=model, request_id=f"apr-{n}", version_id="a" * 64,
                                     requester="UANA", required=1, channel="CGEN", at=at)


def add(uow: Factory, *written: events.Event) -> None:
    with uow() as u:
        for event in written:
            u.outbox.add(event)
        u.commit()


def claim(uow: Factory, owner: str = "a", now: datetime = T0, limit: int = 10) -> list[Any]:
    with uow() as u:
        got = u.outbox.claim([NOTIFY], owner, now, now + LEASE, limit)
        u.commit()
    return got


def test_an_event_is_written_with_its_transaction_or_not_at_all(uow: Factory) -> None:
    with uow() as u:
        u.outbox.add(requested())  # never committed
    with uow() as u:
        assert u.outbox.list(states=("pending", "done", "dead", "skipped")) == []
    add(uow, requested())
    with uow() as u:
        (d,) = u.outbox.list()
    assert (d.handler, d.model, d.name, d.state, d.attempts) == (
        NOTIFY, "risky", "PromotionRequested", "pending", 0)
    assert d.event == requested() and d.created_at == T0 and d.next_attempt_at == T0


def test_events_nobody_subscribes_to_are_kept_without_deliveries(uow: Factory) -> None:
    add(uow, events.VersionRegistered(model="chat", version_id="b" * 64, owner="o",
                                      kind="release", parent_id=None, at=T0),
        TagMoved(model="chat", tag="production", from_version=None, to_version="b" * 64,
                 revision=1, actor="o", approvers=("x",), play="promote", reason="", at=T0,
                 seq=7))
    with uow() as u:
        assert u.outbox.list(states=("pending", "done", "dead", "skipped")) == []
        assert u.outbox.counts() == {}
        written = u.outbox.events(model="chat")
        assert [type(e).__name__ for _, e in written] == ["VersionRegistered", "TagMoved"]
        assert written[0][0] < written[1][0]
        assert u.outbox.events(name="TagMoved") == written[1:]
        assert u.outbox.events(after_seq=written[0][0]) == written[1:]
        assert u.outbox.events(model="other") == []
        assert u.outbox.last_seq() == written[1][0]


def test_a_lease_keeps_a_delivery_with_one_dispatcher_until_it_runs_out(uow: Factory) -> None:
    add(uow, requested())
    (mine,) = claim(uow, "a")
    assert mine.attempts == 1 and mine.lease_owner == "a"
    assert claim(uow, "b", T0 + timedelta(seconds=30)) == []  # still a's
    (taken,) = claim(uow, "b", T0 + LEASE + timedelta(seconds=1))  # a died: b takes over
    assert taken.attempts == 2 and taken.lease_owner == "b"
    with uow() as u:  # a, back from the dead, cannot record what is now b's
        u.outbox.done(mine.event_seq, NOTIFY, "a", T0 + LEASE)
        u.commit()
    with uow() as u:
        assert [d.state for d in u.outbox.list()] == ["pending"]
        u.outbox.done(taken.event_seq, NOTIFY, "b", T0 + LEASE)
        u.commit()
    with uow() as u:
        assert u.outbox.list() == []
        assert u.outbox.counts() == {(NOTIFY, "done"): 1}


def superseded(n: int, by: int) -> events.Event:
    return events.RequestSuperseded(model="risky", request_id=f"apr-{n}",
                                    by_request=f"apr-{by}", at=T0)


def test_per_subject_order_a_later_event_waits_for_an_earlier_one(uow: Factory) -> None:
    """Events about one request run in order; other subjects (another request of the same
    model, another model) never wait for them."""
    add(uow, requested("risky", 1), superseded(1, by=2), requested("chat", 3),
        requested("risky", 4))
    first = {d.event.request_id: d for d in claim(uow, "a")}
    assert sorted(first) == ["apr-1", "apr-3", "apr-4"]  # apr-1's superseding waits
    with uow() as u:  # apr-1's post fails: what follows about apr-1 stays behind it
        u.outbox.failed(first["apr-1"].event_seq, NOTIFY, "a", "slack down",
                        T0 + timedelta(seconds=5), T0)
        for other in ("apr-3", "apr-4"):
            u.outbox.done(first[other].event_seq, NOTIFY, "a", T0)
        u.commit()
    assert claim(uow, "a", T0 + timedelta(seconds=1)) == []  # not due, and holding its next
    (again,) = claim(uow, "a", T0 + timedelta(seconds=5))
    assert again.event.request_id == "apr-1" and again.attempts == 2
    assert again.last_error == "slack down" and isinstance(again.event,
                                                           events.PromotionRequested)
    with uow() as u:
        u.outbox.done(again.event_seq, NOTIFY, "a", T0 + timedelta(seconds=5))
        u.commit()
    (after,) = claim(uow, "a", T0 + timedelta(seconds=6))
    assert isinstance(after.event, events.RequestSuperseded)


def test_a_lease_is_renewed_only_by_its_holder(uow: Factory) -> None:
    add(uow, requested())
    (mine,) = claim(uow, "a")
    with uow() as u:
        assert u.outbox.renew(mine.event_seq, NOTIFY, "a", T0 + timedelta(minutes=10))
        assert not u.outbox.renew(mine.event_seq, NOTIFY, "b", T0 + timedelta(minutes=10))
        u.commit()
    assert claim(uow, "b", T0 + LEASE + timedelta(seconds=1)) == []  # renewed: still a's
    with uow() as u:
        u.outbox.done(mine.event_seq, NOTIFY, "a", T0)
        assert not u.outbox.renew(mine.event_seq, NOTIFY, "a", T0 + timedelta(minutes=20))
        u.commit()


def test_a_dead_delivery_stays_visible_until_retried(uow: Factory) -> None:
    add(uow, requested())
    (d,) = claim(uow)
    with uow() as u:
        u.outbox.failed(d.event_seq, NOTIFY, "a", "channel_not_found", None, T0)
        u.commit()
    with uow() as u:
        (dead,) = u.outbox.list()
        assert dead.state == "dead" and dead.last_error == "channel_not_found"
        assert u.outbox.list(states=("pending",)) == []
        assert u.outbox.counts() == {(NOTIFY, "dead"): 1}
    assert claim(uow, "a", T0 + timedelta(days=1)) == []
    later = T0 + timedelta(hours=3)
    with uow() as u:
        assert u.outbox.retry(d.event_seq + 1000, later) == 0
        assert u.outbox.retry(None, later) == 1
        u.commit()
    (back,) = claim(uow, "a", later)
    assert back.attempts == 1 and back.state == "pending"


def test_skipping_closes_the_deliveries_of_a_handler_nobody_runs(uow: Factory) -> None:
    add(uow, requested("risky", 1))
    with uow() as u:
        first = u.outbox.last_seq()
    add(uow, requested("chat", 2))
    with uow() as u:
        assert u.outbox.skip([NOTIFY], T0, subjects=["approval:apr-9"]) == 0
        assert u.outbox.skip([NOTIFY], T0, after_seq=first) == 1  # only the later one
        assert u.outbox.skip([NOTIFY], T0, subjects=["approval:apr-1"]) == 1
        u.commit()
    with uow() as u:
        assert u.outbox.list() == []
        assert {d.state for d in u.outbox.list(states=("skipped",))} == {"skipped"}
    assert claim(uow) == []


def test_an_event_keeps_the_request_that_wrote_it_and_its_delivery_runs_under_it(
        uow: Factory) -> None:
    marked = REQUEST_ID.set("req-7")
    try:
        add(uow, requested(n=1))
    finally:
        REQUEST_ID.reset(marked)
    add(uow, requested(n=2))  # written outside any request
    with uow() as u:
        assert [d.request_id for d in u.outbox.list()] == ["req-7", None]

    seen: list[str | None] = []
    dispatcher = Dispatcher(uow, {NOTIFY: lambda event: seen.append(REQUEST_ID.get())},
                            FixedClock(), "a", lease=LEASE)
    dispatcher.deliver()
    assert seen == ["req-7", None] and REQUEST_ID.get() is None
