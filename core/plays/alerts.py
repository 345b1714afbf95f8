"""Monitoring starts the play: an alert opens an incident in state `detected` (a Detection)
for the on-call to roll back, investigate further or dismiss.

- A firing alert with no open detection opens one: production at that moment is the suspect.
- The same alert again (by fingerprint) while it fires only updates that detection.
- A resolved alert marks it resolved; the on-call's decision stands apart from that.
- An alert that fires again within `[alerts] flap_minutes` of resolving reopens the same
  detection (counted as a flap), so a flapping alert updates one card and never floods the
  channel; after that window it opens a new one.

A payload is all or nothing: an alert naming an undeclared model, or a malformed one, is
refused (InvalidInput) before anything is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from core import alerts
from core.alerts import AlertSignal
from core.commands import Investigate, Rollback
from core.diff import diff_versions
from core.domain import PRODUCTION, Detection, Version
from core.engine import PlayContext
from core.errors import ConfigError, InvalidInput, InvalidState, NotFound, PlaybookError
from core.events import DetectionChanged, IncidentDetected
from core.identity import short
from core.plays.common import current
from core.plays.investigate import investigate
from core.plays.rollback import RollbackResult, last_known_good, rollback
from core.ports import UnitOfWork

DETECTED = "detected"
ROLLING_BACK = "rolling_back"  # a click claimed it; its rollback runs
ROLLED_BACK = "rolled_back"
DISMISSED = "dismissed"


@dataclass
class AlertsReceived:
    opened: list[str] = field(default_factory=list)  # detection ids
    updated: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    ignored: int = 0  # resolved alerts Playbook never saw firing

    def to_json(self) -> dict[str, Any]:
        return {"opened": self.opened, "updated": self.updated, "resolved": self.resolved,
                "ignored": self.ignored}


def receive(payload: Any, ctx: PlayContext) -> AlertsReceived:
    return receive_signals(alerts.signals(payload, ctx.config.alerts.model_label), ctx)


def receive_signals(found: list[AlertSignal], ctx: PlayContext) -> AlertsReceived:
    """`receive`, for a payload already read (the HTTP route reads it to check the token)."""
    label = ctx.config.alerts.model_label
    for i, s in enumerate(found):
        try:
            ctx.config.model(s.model)
        except ConfigError as exc:
            where = f"alerts[{i}].labels.{label}" if s.source != "generic" else "model"
            raise InvalidInput(where, str(exc), hint="alert only on declared models; nothing "
                               "of this payload was stored") from exc
    result = AlertsReceived()
    with ctx.uow() as uow:
        for s in found:
            _one(uow, ctx, s, result)
        uow.commit()
    return result


def _one(uow: UnitOfWork, ctx: PlayContext, s: AlertSignal, result: AlertsReceived) -> None:
    now = ctx.clock.now()
    uow.detections.lock(s.model, s.fingerprint)  # one delivery of this alert at a time
    d = uow.detections.latest(s.model, s.fingerprint)
    if s.status == "resolved":
        if d is None or d.status != "firing":
            result.ignored += 1
            return
        d.status, d.resolved_at, d.updated_at = "resolved", now, now
        _changed(uow, d, "resolved", result.resolved)
        return
    flap = timedelta(minutes=ctx.config.alerts.flap_minutes)
    if d is not None and d.status == "firing":
        d.fired += 1
        d.updated_at = now
        if s.summary:
            d.summary = s.summary
        _changed(uow, d, "fired", result.updated)
        return
    if d is not None and d.resolved_at is not None and now - d.resolved_at <= flap:
        d.status, d.resolved_at, d.updated_at = "firing", None, now
        d.fired += 1
        d.flaps += 1
        _changed(uow, d, "reopened", result.updated)
        return
    suspect, _ = current(uow, s.model, PRODUCTION)
    opened = Detection(
        id=ctx.make_id("det"), model=s.model, fingerprint=s.fingerprint, source=s.source,
        name=s.name, summary=s.summary, url=s.url, status="firing", state=DETECTED,
        started_at=s.started_at or now, received_at=now, updated_at=now,
        suspect_version=suspect.id if suspect else None)
    uow.detections.add(opened)
    uow.outbox.add(IncidentDetected(model=s.model, detection_id=opened.id, at=now))
    result.opened.append(opened.id)


def _changed(uow: UnitOfWork, d: Detection, what: str, into: list[str]) -> None:
    uow.detections.save_alert(d)  # what the alert says; never the on-call's decision
    uow.outbox.add(DetectionChanged(model=d.model, detection_id=d.id, what=what,
                                    at=d.updated_at))
    into.append(d.id)


def _decided_already(d: Detection) -> InvalidState:
    how = {ROLLED_BACK: "rolled back", ROLLING_BACK: "being rolled back"}.get(d.state,
                                                                            "dismissed")
    return InvalidState(f"incident {d.id} ({d.name}) was already {how} by {d.decided_by}",
                        hint="see its card; /rollback in the incident channel still rolls "
                             "back by hand", people=(d.decided_by or "",))


def _detection(uow: UnitOfWork, detection_id: str) -> Detection:
    d = uow.detections.get(detection_id)
    if d is None:
        raise NotFound(f"no detected incident {detection_id}")
    return d


def _decide(ctx: PlayContext, d: Detection, *, expected: str, state: str, by: str | None,
            incident_id: str | None = None) -> None:
    """The decision, if nobody made another first (a conditional update): else refused."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        if not uow.detections.decide(d.id, expected=expected, state=state, by=by, at=now,
                                     incident_id=incident_id):
            raise _decided_already(_detection(uow, d.id))
        uow.outbox.add(DetectionChanged(model=d.model, detection_id=d.id, what=state, at=now))
        uow.commit()


def dismiss(detection_id: str, actor: str, ctx: PlayContext) -> Detection:
    _decide(ctx, detection(ctx, detection_id), expected=DETECTED, state=DISMISSED, by=actor)
    return detection(ctx, detection_id)


def roll_back(detection_id: str, actor: str, ctx: PlayContext,
              channel: str | None = None) -> RollbackResult:
    """Play 3 from the card's button: the same rollback as /rollback (to the last
    known-good), its symptom the alert. The click first claims the detection (one click
    wins, however many arrive while the first one's eval runs), and the rollback runs only
    while production is still the suspect: moved by hand since, or promoted over, the
    card's button would roll back something else."""
    with ctx.uow(read_only=True) as uow:
        d = _detection(uow, detection_id)
        if d.state != DETECTED:
            raise _decided_already(d)
        serving, revision = current(uow, d.model, PRODUCTION)
    if serving is None or serving.id != d.suspect_version:
        raise InvalidState(
            f"production of {d.model} is no longer the suspect "
            f"{short(d.model, d.suspect_version) if d.suspect_version else '(none)'}: "
            f"it is {serving.short if serving else 'nothing'} now",
            hint="nothing rolled back; /investigate or /rollback by hand if it is still bad")
    _decide(ctx, d, expected=DETECTED, state=ROLLING_BACK, by=actor)
    symptom = f"alert {d.name}" + (f": {d.summary}" if d.summary else "")
    try:
        done = rollback(Rollback.parse(model=d.model, actor=actor, symptom=symptom[:500],
                                       channel=channel, expected_revision=revision,
                                       detected_at=min(d.started_at, ctx.clock.now())), ctx)
    except BaseException:
        _decide(ctx, d, expected=ROLLING_BACK, state=DETECTED, by=None)  # free it again
        raise
    _decide(ctx, d, expected=ROLLING_BACK, state=ROLLED_BACK, by=actor,
            incident_id=done.incident.id)
    return done


def investigate_detected(detection_id: str, ctx: PlayContext) -> str:
    """Play 7 from the alert's start (its onset), its verdict kept on the detection for the
    card (a DetectionChanged shows it); an investigation that cannot run says why instead."""
    d = detection(ctx, detection_id)
    try:
        found = investigate(Investigate.parse(model=d.model, actor="playbook",
                                              onset=d.started_at), ctx)
        verdict = f"Investigation (run `{found.run_id}`): {found.verdict}"
    except PlaybookError as exc:
        verdict = f"Investigation could not run: {exc}"
    with ctx.uow() as uow:
        uow.detections.set_verdict(detection_id, verdict)
        uow.outbox.add(DetectionChanged(model=d.model, detection_id=d.id, what="verdict",
                                        at=ctx.clock.now()))
        uow.commit()
    return verdict


@dataclass(frozen=True)
class DetectionView:
    """What the card shows: the detection, the suspect and what changed in it against its
    predecessor, what serves now, and where a rollback would go."""

    detection: Detection
    suspect: Version | None
    suspect_since: datetime | None  # when the suspect became production
    previous: Version | None  # what production was before the suspect
    changed: tuple[str, ...]  # the suspect's components that differ from `previous`
    serving: Version | None  # production now
    rollback_to: Version | None  # the last known-good, while the suspect still serves


def detection(ctx: PlayContext, detection_id: str) -> Detection:
    with ctx.uow(read_only=True) as uow:
        return _detection(uow, detection_id)


def view(ctx: PlayContext, detection_id: str) -> DetectionView:
    with ctx.uow(read_only=True) as uow:
        d = _detection(uow, detection_id)
        serving, _ = current(uow, d.model, PRODUCTION)
        suspect = serving if serving is not None and serving.id == d.suspect_version \
            else uow.versions.get(d.model, d.suspect_version) if d.suspect_version else None
        since = previous = None
        if suspect is not None:
            moves = uow.events.history(d.model, PRODUCTION, limit=50, newest_first=True)
            made = next((e for e in moves if e.to_version == suspect.id), None)
            if made is not None:
                since = made.at
                if made.from_version:
                    previous = uow.versions.get(d.model, made.from_version)
        target = None
        if suspect is not None and serving is not None and serving.id == suspect.id:
            target = last_known_good(uow, ctx.config.model(d.model), PRODUCTION, suspect)
    changed: tuple[str, ...] = ()
    if suspect is not None and previous is not None:
        diff = diff_versions(previous, suspect)
        changed = tuple(part for part in ("weights", "prompt", "config", "index")
                        if diff[part].get("changed"))
    return DetectionView(d, suspect, since, previous, changed, serving, target)
