"""Typed reads of the registry that the surfaces render: the CLI, the HTTP API, Slack and the
notifier ask these, never the repositories. Each is one short read-only transaction; each that
names a model checks it is configured (an unknown model is one clear error everywhere).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from core.canary import CanaryState
from core.diff import diff_versions
from core.digest import expiring_experiments
from core.domain import (
    CANARY,
    PRODUCTION,
    ApprovalRequest,
    Incident,
    PlayRun,
    Tag,
    TagMoved,
    Version,
)
from core.engine import PlayContext
from core.errors import NotFound
from core.identity import parse_version_ref
from core.plays.canary_watch import canary_active
from core.plays.common import request_of, resolve, rolled_back_from
from core.plays.rehearse import RehearsalStatus, rehearsal_status
from core.plays.rollback import last_known_good

RECENT = timedelta(days=7)  # what the overview counts as a recent incident


@dataclass(frozen=True)
class VersionView:
    version: Version
    tags: tuple[str, ...]  # the tags pointing at it now


@dataclass(frozen=True)
class Pointed:
    """A tag and the version it points at."""

    tag: Tag
    version: Version


@dataclass(frozen=True)
class Route:
    """Where serving sends a model's traffic: production, and the canary's slice if one is
    running."""

    model: str
    production: Pointed | None
    canary: Pointed | None
    fraction: float | None
    started_at: datetime | None


@dataclass(frozen=True)
class ApprovalView:
    request: ApprovalRequest
    candidate: Version
    production: Version | None  # production when it was asked for
    rolled_back: tuple[Incident, ...] = ()  # incidents that rolled production back from it


@dataclass(frozen=True)
class ModelOverview:
    model: str
    stakes: str
    production: Tag | None
    last_known_good: str | None  # short id
    pending: list[ApprovalRequest] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)  # recent, not rehearsals
    last_rehearsal: Incident | None = None
    rehearsal_budget_s: float = 300.0


def _tags_by_version(tags: Sequence[Tag]) -> dict[str, tuple[str, ...]]:
    by: dict[str, list[str]] = {}
    for t in tags:
        by.setdefault(t.version_id, []).append(t.name)
    return {k: tuple(v) for k, v in by.items()}


# -- versions and tags -----------------------------------------------------------------------


def versions(ctx: PlayContext, model: str, *, limit: int = 50,
             kind: str | None = None) -> list[VersionView]:
    """Newest first, each with the tags on it."""
    ctx.config.model(model)
    with ctx.uow(read_only=True) as uow:
        found = uow.versions.list(model, limit=limit, kind=kind)
        tags = _tags_by_version(uow.tags.list(model))
    return [VersionView(v, tags.get(v.id, ())) for v in found]


def version(ctx: PlayContext, ref: str, model: str | None = None) -> VersionView:
    """`MODEL@HEX` (or a unique hex prefix of `model`'s) with the tags on it."""
    model, _ = parse_version_ref(ref, model)
    ctx.config.model(model)
    with ctx.uow(read_only=True) as uow:
        found = resolve(uow, model, ref)
        tags = _tags_by_version(uow.tags.list(model))
    return VersionView(found, tags.get(found.id, ()))


def by_ids(ctx: PlayContext, model: str, ids: Sequence[str | None]) -> list[Version | None]:
    """The versions of full ids (None for an id that is None or gone), in one read."""
    with ctx.uow(read_only=True) as uow:
        return [uow.versions.get(model, i) if i else None for i in ids]


def diff(ctx: PlayContext, old: str, new: str) -> dict[str, Any]:
    model, _ = parse_version_ref(old)
    ctx.config.model(model)
    with ctx.uow(read_only=True) as uow:
        a, b = resolve(uow, model, old), resolve(uow, model, new)
    return diff_versions(a, b)


def tags(ctx: PlayContext, model: str) -> list[Tag]:
    ctx.config.model(model)
    with ctx.uow(read_only=True) as uow:
        return uow.tags.list(model)


def tag(ctx: PlayContext, model: str, name: str = PRODUCTION) -> Tag | None:
    ctx.config.model(model)
    with ctx.uow(read_only=True) as uow:
        return uow.tags.get(model, name)


def pointed(ctx: PlayContext, model: str, name: str) -> Pointed:
    """What tag `name` points at; NotFound when it was never set."""
    ctx.config.model(model)
    with ctx.uow(read_only=True) as uow:
        found = uow.tags.get(model, name)
        target = uow.versions.get(model, found.version_id) if found else None
    if found is None or target is None:
        raise NotFound(f"{model} has no tag {name!r}",
                       hint="production exists once a version was promoted; "
                            f"see `playbook tags {model}`")
    return Pointed(found, target)


def route(ctx: PlayContext, model: str) -> Route:
    ctx.config.model(model)
    with ctx.uow(read_only=True) as uow:
        production = uow.tags.get(model, PRODUCTION)
        canary = uow.tags.get(model, CANARY)
        state: CanaryState | None = uow.canaries.get(model)
        active = canary_active(state, canary, production)

        def point(t: Tag | None) -> Pointed | None:
            v = uow.versions.get(model, t.version_id) if t else None
            return Pointed(t, v) if t and v else None

        return Route(model=model, production=point(production),
                     canary=point(canary) if active else None,
                     fraction=state.fraction if state and active else None,
                     started_at=state.started_at if state and active else None)


def history(ctx: PlayContext, model: str, tag: str | None = None, *,
            limit: int = 50) -> list[TagMoved]:
    """Tag moves, newest first."""
    ctx.config.model(model)
    with ctx.uow(read_only=True) as uow:
        return uow.events.history(model, tag, limit=limit, newest_first=True)


# -- approvals, incidents, runs ----------------------------------------------------------------


def approvals(ctx: PlayContext, model: str | None = None) -> list[ApprovalRequest]:
    """Pending requests (of one model, or all)."""
    if model:
        ctx.config.model(model)
    with ctx.uow(read_only=True) as uow:
        return uow.approvals.pending(model)


def approval(ctx: PlayContext, request_id: str) -> ApprovalRequest:
    with ctx.uow(read_only=True) as uow:
        return request_of(uow, request_id)


def outbox_counts(ctx: PlayContext) -> dict[tuple[str, str], int]:
    """(handler, state) -> deliveries: the webhooks' delivery log in figures."""
    with ctx.uow(read_only=True) as uow:
        return uow.outbox.counts()


def route_watermark(ctx: PlayContext) -> str:
    """Changes whenever any model's route may have (StatsQueries.route_watermark)."""
    with ctx.uow(read_only=True) as uow:
        return uow.stats.route_watermark()


def served_by(ctx: PlayContext, request_id: str) -> str | None:
    """The model that answered a request (None: no attribution of it)."""
    with ctx.uow(read_only=True) as uow:
        record = uow.attributions.get(request_id)
    return record.model if record is not None else None


def approval_view(ctx: PlayContext, request_id: str) -> ApprovalView:
    """A request with the candidate and what production was when it was asked for."""
    with ctx.uow(read_only=True) as uow:
        request = request_of(uow, request_id)
        candidate = uow.versions.get(request.model, request.version_id)
        production = uow.versions.get(request.model, request.production_at_request) \
            if request.production_at_request else None
        rolled_back = tuple(rolled_back_from(uow, request.model, request.version_id))
    if candidate is None:
        raise NotFound(f"approval request {request_id} names a version that is gone")
    return ApprovalView(request, candidate, production, rolled_back)


def incidents(ctx: PlayContext, model: str | None = None, *, limit: int = 50) -> list[Incident]:
    """Newest first."""
    if model:
        ctx.config.model(model)
    with ctx.uow(read_only=True) as uow:
        return uow.incidents.list(model, limit=limit)


def incident(ctx: PlayContext, incident_id: str) -> Incident:
    with ctx.uow(read_only=True) as uow:
        found = uow.incidents.get(incident_id)
    if found is None:
        raise NotFound(f"no incident {incident_id!r}",
                       hint="list them with `playbook incidents`")
    return found


def runs(ctx: PlayContext, *, play: str | None = None, limit: int = 20) -> list[PlayRun]:
    with ctx.uow(read_only=True) as uow:
        return uow.runs.list(play=play, limit=limit)


def run(ctx: PlayContext, run_id: str) -> PlayRun:
    with ctx.uow(read_only=True) as uow:
        found = uow.runs.get(run_id)
    if found is None:
        raise NotFound(f"no run {run_id!r}", hint="list runs with `playbook runs`")
    return found


# -- overviews -------------------------------------------------------------------------------


def overviews(ctx: PlayContext) -> list[ModelOverview]:
    """Every configured model at a glance (Slack's App Home), in one read."""
    now = ctx.clock.now()
    found = []
    with ctx.uow(read_only=True) as uow:
        for name, policy in sorted(ctx.config.models.items()):
            production = uow.tags.get(name, PRODUCTION)
            good = None
            if production is not None:
                bad = uow.versions.get(name, production.version_id)
                known = last_known_good(uow, policy, PRODUCTION, bad) if bad else None
                good = known.short if known else None
            recent = uow.incidents.list(name, limit=50)
            found.append(ModelOverview(
                model=name, stakes=policy.stakes, production=production, last_known_good=good,
                pending=uow.approvals.pending(name),
                incidents=[i for i in recent if not i.rehearsal and now - i.opened_at < RECENT],
                last_rehearsal=next((i for i in recent if i.rehearsal), None),
                rehearsal_budget_s=policy.max_time_to_rollback_s))
    return found


def rehearsal(ctx: PlayContext, model: str, fingerprint: str | None) -> RehearsalStatus:
    """Whether the model is due a rehearsal, and why (`fingerprint`: its deploy path now)."""
    policy = ctx.config.model(model)
    with ctx.uow(read_only=True) as uow:
        return rehearsal_status(uow, policy, ctx.clock.now(), fingerprint)


def expiring(ctx: PlayContext, model: str) -> list[tuple[str, Version]]:
    """Experiment tags of `model` whose version expires soon: (tag, version)."""
    ctx.config.model(model)
    with ctx.uow(read_only=True) as uow:
        return expiring_experiments(uow, model, ctx.clock.now())
