"""What the scheduler runs and when: one trigger per job of the schedule in playbook.toml.
Shared by the scheduler (bot/scheduler) and `playbook jobs`, which lists them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from core.schedule import ScheduleConfig, parse_clock


@dataclass(frozen=True)
class JobTrigger:
    id: str
    description: str
    trigger: CronTrigger
    daily: bool  # daily jobs are caught up after downtime


def job_triggers(s: ScheduleConfig) -> list[JobTrigger]:
    """Every job the schedule in playbook.toml asks for, with its trigger."""
    jobs = [JobTrigger(d.job_id, f"daily digest in {d.channel} at {d.at} {s.zone_of(d)}",
                       daily_at(d.at, s.zone_of(d)), daily=True) for d in s.digest]
    return [*jobs,
            JobTrigger("gc", f"GC cycle at {s.gc_at} {s.timezone}",
                       daily_at(s.gc_at, s.timezone), daily=True),
            JobTrigger("rehearsal-check",
                       f"rehearsal reminders at {s.rehearsal_check_at} {s.timezone}",
                       daily_at(s.rehearsal_check_at, s.timezone), daily=True),
            JobTrigger("sweep", f"approval expiry and experiment warnings every "
                                f"{s.sweep_every_minutes} min",
                       CronTrigger(minute="0" if s.sweep_every_minutes == 60
                                   else f"*/{s.sweep_every_minutes}", timezone=UTC),
                       daily=False)]


def daily_at(clock: str, zone: str) -> CronTrigger:
    t = parse_clock(clock)
    return CronTrigger(hour=t.hour, minute=t.minute, second=t.second, timezone=ZoneInfo(zone))
