"""What the daily digest says about each model, read from the registry (rendering is the edge's).

A quiet day still gets a digest: its absence would look like the bot had died. Attribution
coverage is measured against the model's own recent volume, because Playbook sees only what
serving code reports: a day with far fewer attributed requests than the week before, while
production kept serving, is the usual sign that some replica stopped attributing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from core.domain import EXPERIMENT_PREFIX, PRODUCTION, ApprovalRequest, Incident, TagMoved, Version
from core.engine import PlayContext
from core.identity import short
from core.plays.rehearse import RehearsalStatus, rehearsal_status
from core.ports import UnitOfWork

DAY = timedelta(days=1)
EXPIRY_WARNING = timedelta(days=3)
BASELINE_DAYS = 7
COVERAGE_FLOOR = 0.8  # under 80% of the usual daily volume is flagged


@dataclass(frozen=True)
class Coverage:
    attributed: int  # requests attributed in the last 24 h
    baseline: float | None  # daily mean over the 7 days before; None without history

    @property
    def ratio(self) -> float | None:
        return None if not self.baseline else self.attributed / self.baseline

    @property
    def falling(self) -> bool:
        return self.ratio is not None and self.ratio < COVERAGE_FLOOR


@dataclass
class ModelDigest:
    model: str
    production: Version | None
    production_since: datetime | None
    moves: list[TagMoved]  # production moves in the last 24 h
    incidents: list[Incident]  # real incidents opened in the last 24 h
    rehearsals: list[Incident]  # rehearsals in the last 24 h
    pending: list[ApprovalRequest]
    expiring: list[tuple[str, Version]]  # (experiment tag, version) expiring within 3 days
    rehearsal: RehearsalStatus
    coverage: Coverage
    budget_s: float
    # (version short id, requests) served outside the registry since yesterday (UTC days)
    outside: list[tuple[str, int]] = field(default_factory=list)

    @property
    def quiet(self) -> bool:
        return not (self.moves or self.incidents or self.rehearsals or self.pending
                    or self.expiring or self.rehearsal.due or self.coverage.falling
                    or self.outside)


@dataclass
class Digest:
    at: datetime
    models: list[ModelDigest] = field(default_factory=list)
    last_gc: dict[str, Any] | None = None  # result of the last GC run, with "at"

    @property
    def quiet(self) -> bool:
        return all(m.quiet for m in self.models)


def coverage(uow: UnitOfWork, model: str, now: datetime) -> Coverage:
    attributed = uow.attributions.count(model, now - DAY, now)
    before = uow.attributions.count(model, now - DAY * (1 + BASELINE_DAYS), now - DAY)
    return Coverage(attributed, before / BASELINE_DAYS if before else None)


def expiring_experiments(uow: UnitOfWork, model: str, now: datetime,
                         within: timedelta = EXPIRY_WARNING) -> list[tuple[str, Version]]:
    found: list[tuple[str, Version]] = []
    for tag in uow.tags.list(model):
        if not tag.name.startswith(EXPERIMENT_PREFIX):
            continue
        v = uow.versions.get(model, tag.version_id)
        if v is not None and v.expires_at is not None and now <= v.expires_at <= now + within:
            found.append((tag.name, v))
    return sorted(found, key=lambda tv: tv[1].expires_at or now)


def model_digest(uow: UnitOfWork, ctx: PlayContext, model: str, now: datetime,
                 fingerprint: str | None) -> ModelDigest:
    policy = ctx.config.model(model)
    tag = uow.tags.get(model, PRODUCTION)
    production = uow.versions.get(model, tag.version_id) if tag else None
    last_move = uow.events.history(model, PRODUCTION, limit=1, newest_first=True)
    since = now - DAY
    incidents = uow.incidents.list(model, since=since, limit=100)
    served: dict[str, int] = {}
    for _m, version_id, _day, n in uow.attributions.outside(since.date(), model):
        served[version_id] = served.get(version_id, 0) + n
    return ModelDigest(
        model=model, production=production,
        production_since=last_move[0].at if last_move else None,
        moves=uow.events.history(model, PRODUCTION, since=since),
        incidents=[i for i in incidents if not i.rehearsal],
        rehearsals=[i for i in incidents if i.rehearsal],
        pending=uow.approvals.pending(model),
        expiring=expiring_experiments(uow, model, now),
        rehearsal=rehearsal_status(uow, policy, now, fingerprint),
        coverage=coverage(uow, model, now), budget_s=policy.max_time_to_rollback_s,
        outside=sorted(((short(model, v), n) for v, n in served.items()), key=lambda x: -x[1]))


def build_digest(ctx: PlayContext, models: Sequence[str],
                 fingerprint: Callable[[str], str | None]) -> Digest:
    """The digest of `models` as of now; `fingerprint(model)` reads its deploy path."""
    now = ctx.clock.now()
    digest = Digest(at=now)
    with ctx.uow(read_only=True) as uow:
        for model in models:
            digest.models.append(model_digest(uow, ctx, model, now, fingerprint(model)))
        for run in uow.runs.list(play="gc", limit=20):
            result = run.result or {}
            if run.status == "succeeded" and not result.get("dry_run"):
                digest.last_gc = {**result, "at": run.ended_at or run.started_at}
                break
    return digest
