"""The scheduler inside `playbook serve`: APScheduler 3 runs the clock, the database decides
who posts.

Every replica runs the same jobs on the same wall-clock triggers; each post is claimed in the
database under (job, scheduled time) before it goes out (`Once`), so exactly one replica posts
it. APScheduler keeps its jobs in memory: a shared APScheduler job store is not meant for
several schedulers at once, and the claims already carry what must be shared.

After downtime, each daily job looks back once on start: if its last fire time is within
`catch_up_minutes` and nobody posted it, it goes out now, once (not once per missed day).
A minute-by-minute reclaim job retries claims left open by a replica that died or failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import partial

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.bootstrap import App
from bot.dispatcher import owner_id
from bot.scheduler import tasks
from bot.shared.jobs import JobTrigger, job_triggers
from core.plays import leftovers
from core.scheduled import Once
from storage import partitions
from storage.database import refresh_statistics

log = logging.getLogger("playbook.scheduler")
LOOKBACK = timedelta(days=1, hours=2)  # a daily trigger's previous fire is within this
RECLAIM = "reclaim"
ATTRIBUTIONS = "attributions"  # partitions and retention, at start and every hour
STATISTICS = "statistics"  # the query planner's, at start and every hour
MISSED_AFTER = timedelta(minutes=1)  # a fire not claimed a minute on never ran


@dataclass(frozen=True)
class JobSpec:
    job: JobTrigger
    run: Callable[[datetime], str | None]  # given the scheduled time

    @property
    def id(self) -> str:
        return self.job.id

    @property
    def trigger(self) -> CronTrigger:
        return self.job.trigger


def last_fire(trigger: CronTrigger, now: datetime, lookback: timedelta) -> datetime | None:
    """The latest fire time of `trigger` at or before `now`, within `lookback`."""
    t = trigger.get_next_fire_time(None, now - lookback)
    last = None
    while t is not None and t <= now:
        last = t  # step in UTC: local wall-clock arithmetic repeats the hour DST gives back
        t = trigger.get_next_fire_time(t, t.astimezone(UTC) + timedelta(seconds=1))
    return last


def first_occurrence(at: datetime, zone: tzinfo) -> datetime:
    """A daily time in the hour DST gives back occurs twice, and the trigger fires at both;
    both map to the first, so they share one claim and the post goes out once."""
    return at.astimezone(zone).replace(fold=0).astimezone(UTC)


class Scheduler:
    """The same in every serve mode: what is due to be posted becomes an event, and the
    notifier of any server with Slack posts it."""

    def __init__(self, app: App, owner: str | None = None) -> None:
        self.app = app
        schedule = app.config.schedule
        self.once = Once(app.ctx.uow, app.ctx.clock,
                         timedelta(minutes=schedule.claim_timeout_minutes),
                         owner or owner_id())
        self.specs = {s.id: s for s in self._specs()}
        self._aps: BackgroundScheduler | None = None
        self._started_at = self.now()

    def now(self) -> datetime:
        return self.app.ctx.clock.now()

    def _specs(self) -> list[JobSpec]:
        app = self.app
        runs: dict[str, Callable[[datetime], str | None]] = {
            "gc": lambda at: self.once.run("gc", at, partial(tasks.gc_cycle, app, at)),
            "rehearsal-check": lambda at: self.once.run(
                "rehearsal-check", at, partial(tasks.rehearsal_check, app, self.once, at)),
            "sweep": lambda at: tasks.sweep(app, self.once),
        }
        return [JobSpec(t, runs.get(t.id) or partial(self._digest, t.id.split(":", 1)[1]))
                for t in job_triggers(app.config.schedule)]

    def _digest(self, channel: str, at: datetime) -> str | None:
        return self.once.run(f"digest:{channel}", at,
                             partial(tasks.digest_due, self.app, channel, at))

    # -- running jobs (what APScheduler calls; tests call these with a controlled clock) ----

    def fire(self, job_id: str, scheduled_at: datetime) -> str | None:
        spec = self.specs[job_id]
        if spec.job.daily:
            scheduled_at = first_occurrence(scheduled_at, spec.trigger.timezone)
        return spec.run(scheduled_at)

    def tick(self, job_id: str) -> str | None:
        """APScheduler's entry: run the fire time that is due now."""
        spec = self.specs[job_id]
        now = self.now()
        at = last_fire(spec.trigger, now, LOOKBACK) if spec.job.daily else None
        return self.fire(job_id, at or now)  # the sweep keys nothing on its fire time

    def catch_up(self) -> list[str]:
        """On start: the most recent missed fire of each daily job, if recent enough."""
        grace = timedelta(minutes=self.app.config.schedule.catch_up_minutes)
        return self._unposted(grace, since=None) if grace else []

    def retry_missed(self) -> list[str]:
        """A fire of this process that never got to claim its slot (the database was down at
        that moment): run it now. Claims keep it to once."""
        return self._unposted(LOOKBACK, since=self._started_at)

    def _unposted(self, lookback: timedelta, since: datetime | None) -> list[str]:
        now = self.now()
        done = []
        for spec in self.specs.values():
            at = last_fire(spec.trigger, now, lookback) if spec.job.daily else None
            if at is None or (since is not None and (at < since or now - at < MISSED_AFTER)):
                continue
            at = first_occurrence(at, spec.trigger.timezone)
            claim = self.once.get(spec.id, at)
            if claim is not None:
                if since is None:
                    log.info("%s at %s: claimed by %s, not caught up by %s", spec.id,
                             at.isoformat(), claim.claimed_by, self.once.owner)
            elif self.fire(spec.id, at) is not None:
                done.append(spec.id)
        return done

    def reclaim(self) -> list[str]:
        """Retry what a replica claimed and never finished (it died, or Slack failed); close
        claims nothing can retry any more (a model or channel taken out of the config)."""
        retried = []
        now = self.now()
        for claim in self.once.stale():
            job, at = claim.job, claim.scheduled_at
            kind, _, subject = job.partition(":")
            retry: Callable[[], str | None] | None = None
            if job in self.specs:
                retry = partial(self.specs[job].run, at)
            elif kind == "rehearsal-reminder" and subject in self.app.config.models:
                retry = partial(self.once.run, job, at,
                                partial(tasks.remind, self.app, subject, at))
            elif kind == "confirm":
                retry = partial(self.once.run, job, at,
                                partial(leftovers.confirm_leftover, self.app.ctx, subject))
            elif kind == "card-expired":
                retry = partial(self.once.run, job, at,
                                partial(tasks.expire_card, self.app, subject))
            elif kind == "experiment-warning" and at > now:
                continue  # the sweep takes it over while the experiment still runs
            if retry is None:
                self.once.close(job, at, "abandoned: nothing to retry it with "
                                                "(taken out of the config, or expired)")
                continue
            retry()
            retried.append(job)
        return retried

    def refresh_statistics(self, _job: str = STATISTICS) -> None:
        refresh_statistics(self.app.engine)

    def keep_attributions(self, _job: str = ATTRIBUTIONS) -> partitions.Retired:
        """PostgreSQL: partitions made weeks ahead; both databases: retention applied."""
        now = self.now()
        partitions.ensure(self.app.engine, now + partitions.AHEAD)
        days = self.app.config.schedule.attribution_retention_days
        return partitions.retire(self.app.engine, now - timedelta(days=days)) if days \
            else partitions.Retired()

    def _minutely(self) -> None:
        self.reclaim()
        self.retry_missed()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        grace = max(60, self.app.config.schedule.catch_up_minutes * 60)
        aps = BackgroundScheduler(timezone=UTC, job_defaults={
            "coalesce": True, "max_instances": 1, "misfire_grace_time": grace})
        for spec in self.specs.values():
            aps.add_job(self._safely, spec.trigger, args=[self.tick, spec.id], id=spec.id,
                        name=spec.job.description)
        aps.add_job(self._safely, CronTrigger(second=30, timezone=UTC),
                    args=[lambda _: self._minutely(), RECLAIM], id=RECLAIM,
                    name="retry posts left unfinished or never claimed")
        # Catching up posts to Slack: in the scheduler's threads, never in the server's start-up
        # (which would hold the event loop, and every request, until Slack answered).
        aps.add_job(self._safely, "date", run_date=datetime.now(UTC),
                    args=[lambda _: self.catch_up(), "catch-up"], id="catch-up",
                    name="post what was missed while down")
        # SQLite gathers no statistics of its own; without them its planner may scan the
        # history where an index answers (storage.database.refresh_statistics).
        for trigger in (CronTrigger(minute=7, timezone=UTC), "date"):
            aps.add_job(self._safely, trigger, args=[self.refresh_statistics, STATISTICS],
                        id=f"{STATISTICS}-{'hourly' if trigger != 'date' else 'at-start'}",
                        name="refresh the query planner's statistics")
        for trigger in (CronTrigger(minute=17, timezone=UTC), "date"):
            aps.add_job(self._safely, trigger, args=[self.keep_attributions, ATTRIBUTIONS],
                        id=f"{ATTRIBUTIONS}-{'hourly' if trigger != 'date' else 'at-start'}",
                        name="attribution partitions ahead, and retention")
        aps.start()
        self._aps = aps

    @staticmethod
    def _safely(fn: Callable[[str], object], job_id: str) -> None:
        try:
            fn(job_id)
        except Exception:  # one failed run must not stop the scheduler's other jobs
            log.exception("scheduled job %s failed", job_id)

    def shutdown(self) -> None:
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None
