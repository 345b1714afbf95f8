"""What /metrics reads from the registry: tag moves, the time-to-rollback histogram and the
outbox's deliveries, counted exactly, only once committed; the same from the fakes (which
count the history at each read) and from SQL (running totals kept as it writes) on SQLite
and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from integration.builders import T0, incident, moved, version
from test_outbox_contract import add, claim, requested

from core.domain import TIME_TO_ROLLBACK_BUCKETS, Attribution, RollbackSeconds
from core.handlers import NOTIFY
from core.ports import UnitOfWorkFactory

ABOVE_ALL = len(TIME_TO_ROLLBACK_BUCKETS)


def test_tag_moves_are_counted_by_model_tag_and_play_once_committed(
        uow: UnitOfWorkFactory) -> None:
    a, b, c = version(1), version(2), version(3)
    other = version(4, "other")
    with uow() as u:
        for v in (a, b, c, other):
            u.versions.add(v)
        u.events.append(moved(None, a, 1))
        u.events.append(moved(a, b, 2))
        u.events.append(moved(b, a, 3, play="rollback"))
        u.events.append(moved(None, c, 1, tag="canary", play="canary"))
        u.events.append(moved(None, other, 1))
        u.commit()
    with uow() as u:  # never committed: never counted
        u.events.append(moved(a, b, 4))
    with uow(read_only=True) as u:
        assert u.stats.tag_moves() == [("chat", "canary", "canary", 1),
                                       ("chat", "production", "promote", 2),
                                       ("chat", "production", "rollback", 1),
                                       ("other", "production", "promote", 1)]


def test_real_incidents_make_the_time_to_rollback_histogram(uow: UnitOfWorkFactory) -> None:
    bad, good = version(1), version(2)
    real = replace(incident(bad, good), rehearsal=False)
    with uow() as u:
        u.versions.add(bad)
        u.versions.add(good)
        for n, seconds in enumerate((0.5, 1.0, 4.0, 7200.0)):
            u.incidents.add(replace(real, id=f"inc-{n}", time_to_rollback_s=seconds))
        u.incidents.add(replace(real, id="drill", rehearsal=True, time_to_rollback_s=3.0))
        u.commit()
    with uow() as u:
        u.incidents.add(replace(real, id="inc-never", time_to_rollback_s=9.0))  # rolled back
    with uow(read_only=True) as u:
        found = u.stats.rollback_seconds()
    expected = [0] * (ABOVE_ALL + 1)
    expected[0], expected[1], expected[ABOVE_ALL] = 2, 1, 1  # <= 1 s, <= 5 s, above all
    assert found == {"chat": RollbackSeconds(tuple(expected), 7205.5)}
    assert found["chat"].count == 4


def test_done_and_skipped_deliveries_are_counted_beside_the_backlog(
        uow: UnitOfWorkFactory) -> None:
    add(uow, requested("risky", 1), requested("risky", 2), requested("chat", 3),
        requested("chat", 4))
    first, second, *_ = claim(uow, "a", limit=2)
    with uow() as u:
        u.outbox.done(first.event_seq, NOTIFY, "a", T0)
        u.outbox.done(first.event_seq, NOTIFY, "a", T0)  # done already: not counted again
        u.outbox.done(second.event_seq, NOTIFY, "b", T0)  # not b's lease: nothing happens
        u.outbox.failed(second.event_seq, NOTIFY, "a", "gone", None, T0)
        assert u.outbox.skip([NOTIFY], T0, subjects=["approval:apr-3"]) == 1
        u.commit()
    with uow(read_only=True) as u:
        assert u.outbox.counts() == {(NOTIFY, "done"): 1, (NOTIFY, "dead"): 1,
                                     (NOTIFY, "skipped"): 1, (NOTIFY, "pending"): 1}
    with uow() as u:
        assert u.outbox.retry(None, T0 + timedelta(hours=1)) == 1  # dead: pending again
        u.commit()
    with uow(read_only=True) as u:
        assert u.outbox.counts() == {(NOTIFY, "done"): 1, (NOTIFY, "skipped"): 1,
                                     (NOTIFY, "pending"): 2}


def test_traffic_outside_the_registry_is_counted_per_version_and_day(
        uow: UnitOfWorkFactory) -> None:
    v = version(1)
    day, next_day = T0.date(), (T0 + timedelta(days=1)).date()
    with uow() as u:
        u.versions.add(v)
        assert u.attributions.add_new([Attribution("r1", "chat", v.id, T0),
                                       Attribution("r2", "chat", v.id, T0)]) == ["r1", "r2"]
        assert u.attributions.add_new([Attribution("r2", "chat", v.id, T0),
                                       Attribution("r3", "chat", v.id, T0)]) == ["r3"]
        assert u.attributions.count_outside("chat", v.id, day, 2) == 2
        assert u.attributions.count_outside("chat", v.id, day, 3) == 5
        assert u.attributions.count_outside("chat", v.id, next_day, 1) == 1
        u.commit()
    with uow() as u:  # never committed: never counted
        u.attributions.count_outside("chat", v.id, day, 100)
    with uow(read_only=True) as u:
        assert u.attributions.outside(day) == [("chat", v.id, day, 5),
                                               ("chat", v.id, next_day, 1)]
        assert u.attributions.outside(next_day) == [("chat", v.id, next_day, 1)]
        assert u.attributions.outside(day, "chat") == u.attributions.outside(day)
        assert u.attributions.outside(day, "cha") == []  # a model, not a prefix of one
