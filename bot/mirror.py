"""The `mirror` outbox handler: a move of `production` or `canary` set as the same alias on
the model's MLflow registered model, through MLflow's REST API (httpx; no mlflow package in
Playbook). A failure raises: the outbox retries it with its backoff, `playbook outbox` shows
it pending with the error, and the move itself stands (core/mirror.py)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import httpx

from bot.bootstrap import App
from core import events, queries
from core.domain import TagMoved
from core.errors import PlaybookError
from core.events import MirrorReported
from core.mirror import MIRRORED_TAGS, mlflow_version

TIMEOUT_S = 10.0


class MirrorFailed(PlaybookError):
    code = "MIRROR_FAILED"


def set_alias(base: str, name: str, alias: str, version: str) -> None:
    url = f"{base}/api/2.0/mlflow/registered-models/alias"
    try:
        answer = httpx.post(url, json={"name": name, "alias": alias, "version": version},
                            timeout=TIMEOUT_S)
    except httpx.HTTPError as exc:
        raise MirrorFailed(f"MLflow at {base} did not answer: {exc or type(exc).__name__}; "
                           f"its alias {alias!r} of {name!r} still points where it did") from exc
    if not answer.is_success:
        raise MirrorFailed(f"MLflow refused alias {alias!r} -> {name} version {version}: "
                           f"{answer.status_code} {answer.text[:300]}")


def mirror_move(event: events.Event, app: App) -> None:
    if not isinstance(event, TagMoved) or event.tag not in MIRRORED_TAGS:
        return
    policy = app.config.models.get(event.model)
    if policy is None or policy.mirror is None:
        return  # the mirror was removed from playbook.toml since the move
    spec = policy.mirror
    incident = _incident_of(app, event)
    registry = f"MLflow {spec.name}"
    try:
        found = queries.version(app.ctx, f"{event.model}@{event.to_version}", event.model)
        number = mlflow_version(found.version.components, spec.name)
        if number is None:
            raise MirrorFailed(
                f"{found.version.short} has no MLflow version of {spec.name!r}, so MLflow's "
                f"alias {event.tag!r} cannot follow this move and still points where it did",
                hint=f"register versions with --mlflow-version N (weights "
                     f"models:/{spec.name}/N); `playbook outbox skip mirror` closes this "
                     "delivery")
        set_alias(spec.mlflow, spec.name, event.tag, number)
    except MirrorFailed as exc:
        # This move, and every later rollback of the tag (their moves wait behind this one),
        # left serving's registry behind: each incident's thread is told, once.
        for later in _incidents_since(app, event):
            _report(app, event, later, registry, False, exc.message)
        raise
    if incident is not None:
        _report(app, event, incident, registry, True, f"version {number}")


def _incident_of(app: App, event: TagMoved) -> str | None:
    """The incident a rollback's move belongs to (None for any other move)."""
    if event.play != "rollback":
        return None
    for incident in queries.incidents(app.ctx, event.model, limit=20):
        if (incident.tag, incident.restored_version, incident.bad_version) == (
                event.tag, event.to_version, event.from_version) and not incident.rehearsal:
            return incident.id
    return None


def _incidents_since(app: App, event: TagMoved) -> list[str]:
    return [i.id for i in queries.incidents(app.ctx, event.model, limit=20)
            if i.tag == event.tag and not i.rehearsal and i.rolled_back_at >= event.at]


def _report(app: App, event: TagMoved, incident: str, registry: str, followed: bool,
            detail: str) -> None:
    """Tell the incident's thread (through the outbox): once when the registry followed, and
    once, the first time, when it could not."""
    with app.ctx.uow() as uow:
        told = [e for _, e in uow.outbox.events(model=event.model, name="MirrorReported",
                                                limit=1000)
                if isinstance(e, MirrorReported) and e.incident_id == incident
                and e.followed == followed]
        if told:
            return
        uow.outbox.add(MirrorReported(
            model=event.model, incident_id=incident, tag=event.tag,
            version_id=event.to_version, registry=registry, followed=followed,
            detail=detail, at=app.ctx.clock.now()))
        uow.commit()


def handlers(app: App) -> dict[str, Callable[[events.Event], None]]:
    """The mirror handler, when a model has a mirror."""
    if not any(p.mirror for p in app.config.models.values()):
        return {}
    return {"mirror": partial(mirror_move, app=app)}
