"""The dispatcher's rules, on the fakes: every delivery ends done, retried after a backoff, or
dead and visible; a failing handler never raises out of the dispatcher nor loses the event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fake_store import FakeStore, FakeUnitOfWorkFactory
from fakes import FakeClock

from core import events
from core.handlers import NOTIFY
from core.outbox import BACKOFF, Dispatcher, retry_at

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def world() -> tuple[FakeUnitOfWorkFactory, FakeClock]:
    """Two events about one approval request: its card, then its expiry."""
    uow = FakeUnitOfWorkFactory(FakeStore())
    with uow() as u:
        u.outbox.add(events.PromotionRequested(model="risky", request_id="apr-1",
                                               version_id="a" * 64, requester="UANA",
                                               required=1, channel=None, at=T0))
        u.outbox.add(events.RequestExpired(model="risky", request_id="apr-1", at=T0))
        u.commit()
    return uow, FakeClock(T0)


def name(event: events.Event) -> str:
    return type(event).__name__


def test_delivered_events_are_done_in_order() -> None:
    uow, clock = world()
    seen: list[str] = []
    dispatcher = Dispatcher(uow, {NOTIFY: lambda e: seen.append(name(e))}, clock, "me")
    first = dispatcher.deliver()
    assert first.done == 1 and seen == ["PromotionRequested"]  # the expiry waits behind it
    assert dispatcher.deliver().done == 1 and seen == ["PromotionRequested", "RequestExpired"]
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


def test_what_a_dispatcher_has_no_handler_for_waits_for_one_that_has() -> None:
    """A replica without Slack never closes Slack's deliveries: another replica may have
    Slack. Only an operator skips them (`playbook outbox skip notify`)."""
    uow, clock = world()
    without = Dispatcher(uow, {}, clock, "api-only")
    assert without.deliver().handled == 0
    with uow() as u:
        assert [d.state for d in u.outbox.list()] == ["pending", "pending"]
    seen: list[str] = []
    with_slack = Dispatcher(uow, {NOTIFY: lambda e: seen.append(name(e))}, clock, "s")
    with_slack.deliver()
    with_slack.deliver()
    assert seen == ["PromotionRequested", "RequestExpired"]


def test_a_delivery_taken_over_while_it_waited_in_a_batch_is_not_run_again() -> None:
    uow, clock = world()
    with uow() as u:  # two more requests: three subjects, all due at once
        for n in (2, 3):
            u.outbox.add(events.RequestExpired(model="risky", request_id=f"apr-{n}", at=T0))
        u.commit()
    ran: list[str] = []
    slow = Dispatcher(uow, {NOTIFY: lambda e: ran.append(f"slow:{e.request_id}")}, clock,
                      "slow", lease=timedelta(seconds=30))

    def first_takes_long(event: events.Event) -> None:
        ran.append(f"slow:{event.request_id}")  # type: ignore[union-attr]
        clock.advance(timedelta(minutes=1))  # the batch's other leases run out meanwhile
        fast.deliver()  # and another replica takes them over

    fast = Dispatcher(uow, {NOTIFY: lambda e: ran.append(f"fast:{e.request_id}")}, clock,
                      "fast", lease=timedelta(seconds=30))
    slow._handlers[NOTIFY] = first_takes_long
    slow.deliver()
    # What waited in the slow batch was the other replica's by then: run once, by it. The
    # one that was running past its lease ran twice: the at-least-once the docs describe.
    assert sorted(ran) == ["fast:apr-1", "fast:apr-2", "fast:apr-3", "slow:apr-1"]
