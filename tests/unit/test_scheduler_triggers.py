"""The scheduler's triggers: when each job fires, and which fire a (re)start looks back to.
No clock is waited for: triggers are asked about chosen instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger

from bot.scheduler.service import LOOKBACK, first_occurrence, last_fire
from bot.shared.jobs import daily_at, job_triggers
from core.schedule import ScheduleConfig

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
        microsecond: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, microsecond, tzinfo=UTC)


class Bounded(CronTrigger):  # type: ignore[misc]  # APScheduler 3 has no type hints
    """A CronTrigger that refuses to be asked more than `limit` times: a loop over a daily
    trigger within a day or so needs a handful of calls, not thousands."""

    def __init__(self, limit: int = 50, **fields: Any) -> None:
        super().__init__(**fields)
        self.calls = 0
        self.limit = limit

    def get_next_fire_time(self, previous_fire_time: datetime | None,
                           now: datetime) -> datetime | None:
        self.calls += 1
        if self.calls > self.limit:
            raise RuntimeError(f"asked {self.calls} times: the caller is looping")
        answer: datetime | None = super().get_next_fire_time(previous_fire_time, now)
        return answer


def test_before_the_daily_time_the_last_fire_is_yesterdays() -> None:
    trigger = daily_at("09:00", "UTC")

    assert last_fire(trigger, utc(2026, 3, 2, 8, 59, 59), LOOKBACK) == utc(2026, 3, 1, 9)


def test_at_exactly_the_time_the_last_fire_is_todays() -> None:
    trigger = daily_at("09:00", "UTC")

    assert last_fire(trigger, utc(2026, 3, 2, 9), LOOKBACK) == utc(2026, 3, 2, 9)
    assert last_fire(trigger, utc(2026, 3, 2, 9, 0, 0) + timedelta(microseconds=1),
                     LOOKBACK) == utc(2026, 3, 2, 9)
    assert last_fire(trigger, utc(2026, 3, 2, 23, 59), LOOKBACK) == utc(2026, 3, 2, 9)


def test_seconds_in_the_time_are_kept() -> None:
    trigger = daily_at("09:00:30", "UTC")

    assert last_fire(trigger, utc(2026, 3, 2, 9, 0, 29), LOOKBACK) == utc(2026, 3, 1, 9, 0, 30)
    assert last_fire(trigger, utc(2026, 3, 2, 9, 0, 30), LOOKBACK) == utc(2026, 3, 2, 9, 0, 30)


def test_a_lookback_shorter_than_the_gap_finds_nothing() -> None:
    trigger = daily_at("09:00", "UTC")
    now = utc(2026, 3, 2, 12)

    assert last_fire(trigger, now, timedelta(hours=2)) is None
    assert last_fire(trigger, now, timedelta(hours=3)) == utc(2026, 3, 2, 9)  # boundary: in
    assert last_fire(trigger, now, timedelta(hours=2, minutes=59, seconds=59)) is None
    assert last_fire(trigger, now, timedelta(0)) is None


def test_last_fire_is_the_latest_of_several_within_the_lookback() -> None:
    trigger = daily_at("09:00", "UTC")
    assert last_fire(trigger, utc(2026, 3, 5, 10), timedelta(days=4)) == utc(2026, 3, 5, 9)
    every_5 = CronTrigger(minute="*/5", timezone=UTC)
    assert last_fire(every_5, utc(2026, 3, 2, 9, 7, 59), timedelta(hours=1)) == utc(
        2026, 3, 2, 9, 5)


@pytest.mark.parametrize(("now", "expected"), [
    # spring forward, 2026-03-29: 09:00 is 08:00 UTC before and 07:00 UTC after
    (utc(2026, 3, 29, 6, 59, 59), datetime(2026, 3, 28, 9, tzinfo=BERLIN)),
    (utc(2026, 3, 29, 7), datetime(2026, 3, 29, 9, tzinfo=BERLIN)),
    (utc(2026, 3, 30, 6, 59), datetime(2026, 3, 29, 9, tzinfo=BERLIN)),
    # fall back, 2026-10-25: 07:00 UTC before, 08:00 UTC after
    (utc(2026, 10, 25, 7, 59), datetime(2026, 10, 24, 9, tzinfo=BERLIN)),
    (utc(2026, 10, 25, 8), datetime(2026, 10, 25, 9, tzinfo=BERLIN)),
    (utc(2026, 10, 26, 7, 59), datetime(2026, 10, 25, 9, tzinfo=BERLIN)),
])
def test_a_zoned_daily_time_is_the_local_wall_clock_across_dst(
        now: datetime, expected: datetime) -> None:
    fire = last_fire(daily_at("09:00", "Europe/Berlin"), now, LOOKBACK)

    assert fire == expected
    assert fire is not None and fire.astimezone(BERLIN).hour == 9
    assert fire.astimezone(BERLIN).minute == 0


def test_the_utc_times_of_a_berlin_nine_oclock_around_the_changes() -> None:
    trigger = daily_at("09:00", "Europe/Berlin")
    fires = [last_fire(trigger, utc(2026, 3, day, 12), LOOKBACK) for day in (28, 29, 30)]
    fires += [last_fire(trigger, utc(2026, 10, day, 12), LOOKBACK) for day in (24, 25, 26)]

    assert [f.astimezone(UTC) if f else None for f in fires] == [
        utc(2026, 3, 28, 8), utc(2026, 3, 29, 7), utc(2026, 3, 30, 7),
        utc(2026, 10, 24, 7), utc(2026, 10, 25, 8), utc(2026, 10, 26, 8)]


def test_the_next_fire_of_a_zoned_digest_across_dst() -> None:
    trigger = daily_at("09:00", "America/New_York")  # DST starts there on 2026-03-08

    nxt = trigger.get_next_fire_time(None, utc(2026, 3, 8, 0))

    assert nxt == datetime(2026, 3, 8, 9, tzinfo=NEW_YORK)
    assert nxt is not None and nxt.astimezone(UTC) == utc(2026, 3, 8, 13)


def test_the_lookback_covers_a_25_hour_day() -> None:
    """On the fall-back day a daily fire is 25 h after the previous one; the tick's lookback
    (a day and two hours) still finds it at the very end of the day."""
    trigger = daily_at("09:00", "Europe/Berlin")
    assert last_fire(trigger, utc(2026, 10, 26, 7, 59, 59), LOOKBACK) == datetime(
        2026, 10, 25, 9, tzinfo=BERLIN)
    assert timedelta(hours=25) <= LOOKBACK


def test_last_fire_terminates_for_a_time_that_occurs_twice_at_the_dst_end() -> None:
    trigger = Bounded(hour=2, minute=30, second=0, timezone=BERLIN)

    fire = last_fire(trigger, utc(2026, 10, 25, 2), LOOKBACK)

    assert fire is not None and fire.astimezone(UTC) == utc(2026, 10, 25, 1, 30)


def test_both_fires_of_a_time_that_occurs_twice_share_one_claim_slot() -> None:
    first, second = utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)  # 02:30 Berlin, twice
    assert first_occurrence(first, BERLIN) == first_occurrence(second, BERLIN) == first
    summer = utc(2026, 6, 1, 7)
    assert first_occurrence(summer, BERLIN) == summer


def test_a_time_skipped_by_the_spring_change_still_fires_once() -> None:
    trigger = Bounded(hour=2, minute=30, second=0, timezone=BERLIN)

    fire = last_fire(trigger, utc(2026, 3, 29, 12), LOOKBACK)

    assert fire is not None and fire.date() == datetime(2026, 3, 29).date()
    assert last_fire(trigger, utc(2026, 3, 29, 0), LOOKBACK) == datetime(
        2026, 3, 28, 2, 30, tzinfo=BERLIN)
    assert trigger.calls < 10


# --- the jobs -----------------------------------------------------------------------------


def schedule(**fields: Any) -> ScheduleConfig:
    return ScheduleConfig.model_validate(fields)


def test_job_triggers_ids_and_descriptions() -> None:
    s = schedule(timezone="Europe/Berlin", gc_at="02:15", rehearsal_check_at="10:30",
                 sweep_every_minutes=10,
                 digest=[{"channel": "#ml", "at": "09:00", "timezone": "America/New_York"},
                         {"channel": "ops", "at": "08:30:15"}])

    jobs = job_triggers(s)

    assert [(j.id, j.daily) for j in jobs] == [
        ("digest:#ml", True), ("digest:ops", True), ("gc", True), ("rehearsal-check", True),
        ("sweep", False)]
    assert [j.description for j in jobs] == [
        "daily digest in #ml at 09:00 America/New_York",
        "daily digest in ops at 08:30:15 Europe/Berlin",
        "GC cycle at 02:15 Europe/Berlin",
        "rehearsal reminders at 10:30 Europe/Berlin",
        "approval expiry and experiment warnings every 10 min"]
    now = utc(2026, 6, 1, 12)  # summer: Berlin is UTC+2, New York UTC-4
    nxt = {j.id: j.trigger.get_next_fire_time(None, now) for j in jobs}
    assert {k: v.astimezone(UTC) for k, v in nxt.items() if v} == {
        "digest:#ml": utc(2026, 6, 1, 13), "digest:ops": utc(2026, 6, 2, 6, 30, 15),
        "gc": utc(2026, 6, 2, 0, 15), "rehearsal-check": utc(2026, 6, 2, 8, 30),
        "sweep": utc(2026, 6, 1, 12)}


def test_the_default_schedule_has_no_digest_and_three_jobs() -> None:
    jobs = job_triggers(ScheduleConfig())
    assert [j.id for j in jobs] == ["gc", "rehearsal-check", "sweep"]
    now = utc(2026, 3, 2, 9, 1)
    assert [j.trigger.get_next_fire_time(None, now) for j in jobs] == [
        utc(2026, 3, 3, 3), utc(2026, 3, 2, 10), utc(2026, 3, 2, 9, 5)]


@pytest.mark.parametrize("every", [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60])
def test_the_sweep_fires_on_a_minute_grid_shared_by_every_replica(every: int) -> None:
    s = schedule(sweep_every_minutes=every)
    now = utc(2026, 3, 2, 9, 7, 27, 123456)

    first = job_triggers(s)[-1].trigger  # one replica
    second = job_triggers(s)[-1].trigger  # another, built separately
    a = first.get_next_fire_time(None, now)
    b = second.get_next_fire_time(None, now)

    assert a == b
    assert a is not None and a > now and a - now <= timedelta(minutes=every)
    assert (a.second, a.microsecond) == (0, 0)
    assert (a.hour * 60 + a.minute) % every == 0
    later = first.get_next_fire_time(a, a + timedelta(seconds=1))
    assert later is not None and later - a == timedelta(minutes=every)


def test_sweep_every_five_minutes_lands_on_multiples_of_five() -> None:
    sweep = job_triggers(schedule(sweep_every_minutes=5))[-1].trigger
    nxt = sweep.get_next_fire_time(None, utc(2026, 3, 2, 9, 3, 27))

    assert nxt == utc(2026, 3, 2, 9, 5)
    assert sweep.get_next_fire_time(None, utc(2026, 3, 2, 9, 5)) == utc(2026, 3, 2, 9, 5)
    assert sweep.get_next_fire_time(None, utc(2026, 3, 2, 9, 58)) == utc(2026, 3, 2, 10)
