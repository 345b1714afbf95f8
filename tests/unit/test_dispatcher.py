"""The dispatcher's rules, on the fakes: every delivery ends done, retried after a backoff, or
dead and visible; a failing handler never raises out of the dispatcher nor loses the event."""

from __future__ import annotations

from datetime import UTC, datetime

from fake_store import FakeStore, FakeUnitOfWorkFactory
from fakes import FakeClock

from core import events
from core.handlers import NOTIFY
from core.outbox import BACKOFF, Dispatcher, retry_at

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def world() -> tuple[FakeUnitOfWorkFactory, FakeClock]:
    uow = FakeUnitOfWorkFactory(FakeStore())
    with uow() as u:
        for n in (1, 2):
            u.outbox.add(events.RequestExpired(model="risky", request_id=f"apr-{n}", at=T0))
        u.commit()
    return uow, FakeClock(T0)


def test_delivered_events_are_done_in_order() -> None:
    uow, clock = world()
    seen: list[str] = []
    dispatcher = Dispatcher(uow, {NOTIFY: lambda e: seen.append(e.request_id)}, clock, "me")
    first = dispatcher.deliver()
    assert first.done == 1 and seen == ["apr-1"]  # apr-2 waits behind apr-1 (same model)
    assert dispatcher.deliver().done == 1 and seen == ["apr-1", "apr-2"]
    assert dispatcher.deliver().handled == 0
    with uow() as u:
        assert u.outbox.list() == [] and u.outbox.counts() == {(NOTIFY, "done"): 2}


def test_a_failing_handler_is_retried_after_each_backoff_then_dead() -> None:
    uow, clock = world()
    calls: list[datetime] = []

    def broken(event: events.Event) -> None:
        calls.append(clock.now())
        raise RuntimeError("slack is down")

    dispatcher = Dispatcher(uow, {NOTIFY: broken}, clock, "me")
    for wait in BACKOFF:
        report = dispatcher.deliver()
        assert report.retrying == 1 and report.errors == ["RuntimeError: slack is down"]
        assert dispatcher.deliver().handled == 0  # not due yet
        clock.advance(wait)
    last = dispatcher.deliver()
    assert last.dead == 1 and len(calls) == len(BACKOFF) + 1
    with uow() as u:
        dead, waiting = u.outbox.list()
    assert dead.state == "dead" and dead.last_error == "RuntimeError: slack is down"
    assert waiting.state == "pending" and waiting.attempts == 0  # behind it until now
    assert dispatcher.deliver().retrying == 1  # a dead one no longer holds the next back


def test_retry_at_follows_the_backoff() -> None:
    assert retry_at(T0, 1) == T0 + BACKOFF[0]
    assert retry_at(T0, len(BACKOFF)) == T0 + BACKOFF[-1]
    assert retry_at(T0, len(BACKOFF) + 1) is None


def test_a_server_without_a_handler_skips_its_deliveries_and_the_cli_leaves_them() -> None:
    uow, clock = world()
    cli = Dispatcher(uow, {}, clock, "cli")
    assert cli.deliver().skipped == 0
    with uow() as u:
        assert len(u.outbox.list()) == 2
    server = Dispatcher(uow, {}, clock, "server", skip=[NOTIFY])
    assert server.deliver().skipped == 2
    with uow() as u:
        assert u.outbox.list() == []
