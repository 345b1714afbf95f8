"""Domain events: what a play says happened, in the past tense.

A play records its events through the unit of work (`uow.outbox.add(event)`), so they are
written to the outbox in the same transaction as the state change: there is never an event
without its change, nor a change without its event. A dispatcher in every running server then
hands each event to the handlers subscribed to it (core.handlers), which turn it into
consequences: Slack cards and records today, mirrors and webhooks tomorrow.

Events carry ids and the few facts a handler needs to decide; a handler that needs the whole
record reads it, so an event written by an older Playbook still means the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import TypeAdapter

from core.domain import TagMoved


@dataclass(frozen=True)
class VersionRegistered:
    model: str
    version_id: str
    owner: str
    kind: str  # release | experiment
    parent_id: str | None
    at: datetime


@dataclass(frozen=True)
class PromotionRequested:
    """A promotion waits for approvers (high stakes): its card goes to the release channel."""

    model: str
    request_id: str
    version_id: str
    requester: str
    required: int
    channel: str | None  # where it was asked for: the card goes there without release_channel
    at: datetime


@dataclass(frozen=True)
class Promoted:
    """Production moved at once (no approvers needed): announced in the release channel."""

    model: str
    version_id: str
    from_version: str | None
    revision: int
    actor: str
    reason: str
    channel: str | None  # where it was asked for: announced there without release_channel
    at: datetime


@dataclass(frozen=True)
class ApprovalGiven:
    """One approver said yes; the request may still need more."""

    model: str
    request_id: str
    approver: str
    approvals: int
    required: int
    at: datetime


@dataclass(frozen=True)
class RequestDecided:
    """A promotion request was approved (the tag moved with it) or rejected."""

    model: str
    request_id: str
    status: str  # approved | rejected
    decided_by: str
    at: datetime


@dataclass(frozen=True)
class RequestSuperseded:
    model: str
    request_id: str
    by_request: str
    at: datetime


@dataclass(frozen=True)
class RequestExpired:
    model: str
    request_id: str
    at: datetime


@dataclass(frozen=True)
class IncidentOpened:
    """A rollback moved the tag back; the record is due in the incident channel at once."""

    model: str
    incident_id: str
    tag: str
    bad_version: str
    restored_version: str
    opened_by: str
    rehearsal: bool
    channel: str | None  # where it was ordered: the record goes there without incident_channel
    at: datetime


@dataclass(frozen=True)
class IncidentConfirmed:
    """The confirming eval of a rollback finished (passed, failed, or could not run)."""

    model: str
    incident_id: str
    confirmation: str
    rehearsal: bool
    at: datetime


@dataclass(frozen=True)
class CanaryJudgedWorse:
    """A promotion of a running canary was refused because it is clearly worse than
    production: the request's card shows the comparison."""

    model: str
    version_id: str
    reasons: tuple[str, ...]
    at: datetime


@dataclass(frozen=True)
class CanaryOverridden:
    """Production moved to (or an approver said yes to) a canary found clearly worse, because
    someone gave a reason; written with the move or the approval."""

    model: str
    version_id: str
    actor: str
    reason: str
    reasons: tuple[str, ...]  # what the comparison found worse
    at: datetime


@dataclass(frozen=True)
class RehearsalFinished:
    """A drill's rollback and confirmation are recorded: its verdict against the budget."""

    model: str
    incident_id: str
    production_version: str
    target_version: str
    budget_s: float
    over_budget: bool
    at: datetime


@dataclass(frozen=True)
class DigestDue:
    """The scheduler's daily slot for a channel's digest came (once across replicas); the
    digest is composed when it is delivered. `model` is "" (a channel, not one model)."""

    model: str
    channel: str
    slot: datetime
    at: datetime


@dataclass(frozen=True)
class RehearsalDue:
    """A model is due a rollback rehearsal (never rehearsed, too long ago, a deploy path that
    changed, or the last one failed or ran over its budget)."""

    model: str
    why: str
    slot: datetime
    at: datetime


@dataclass(frozen=True)
class ExperimentExpiring:
    model: str
    tag: str
    version_id: str
    expires_at: datetime
    at: datetime


@dataclass(frozen=True)
class GcCycleCompleted:
    """The scheduled GC cycle removed artifacts; `model` is "" (it spans models)."""

    model: str
    collected: tuple[str, ...]  # short ids, model@hex
    bytes_freed: int
    slot: datetime
    at: datetime


@dataclass(frozen=True)
class MirrorReported:
    """Whether serving's registry (an MLflow alias) followed a rollback's move: told in the
    incident's thread, once it did, and once when it first could not."""

    model: str
    incident_id: str
    tag: str
    version_id: str
    registry: str  # e.g. "MLflow support-bot"
    followed: bool
    detail: str
    at: datetime


@dataclass(frozen=True)
class ArtifactsCollected:
    model: str
    version_id: str
    at: datetime


@dataclass(frozen=True)
class ServedOutsideRegistry:
    """A version no tag pointed at served more requests in a day than the model's
    `outside_registry_alert`: told once per version and day, in the incident channel."""

    model: str
    version_id: str
    day: date
    requests: int  # that day's count when it crossed the threshold
    threshold: int
    at: datetime


@dataclass(frozen=True)
class IncidentStageReached:
    """A later stage of an incident arrived (serving switched): its record changes in place."""

    model: str
    incident_id: str
    stage: str
    at: datetime


@dataclass(frozen=True)
class IncidentDetected:
    """Monitoring's alert opened an incident (a Detection): its card goes to the model's
    incident channel, with the suspect, the investigation's verdict and the buttons."""

    model: str
    detection_id: str
    at: datetime


@dataclass(frozen=True)
class DetectionChanged:
    """The alert fired again, resolved or flapped, or the on-call decided: the card changes
    in place (never a new post)."""

    model: str
    detection_id: str
    what: str  # fired | resolved | reopened | rolled_back | dismissed
    at: datetime


Event = (VersionRegistered | PromotionRequested | Promoted | ApprovalGiven | RequestDecided
         | RequestSuperseded | RequestExpired | TagMoved | IncidentOpened | IncidentConfirmed
         | CanaryJudgedWorse | CanaryOverridden | ArtifactsCollected | DigestDue | RehearsalDue
         | ExperimentExpiring | GcCycleCompleted | RehearsalFinished | MirrorReported
         | ServedOutsideRegistry | IncidentDetected | DetectionChanged | IncidentStageReached)

EVENT_TYPES: dict[str, type[Any]] = {cls.__name__: cls for cls in (
    VersionRegistered, PromotionRequested, Promoted, ApprovalGiven, RequestDecided,
    RequestSuperseded, RequestExpired, TagMoved, IncidentOpened, IncidentConfirmed,
    CanaryJudgedWorse, CanaryOverridden, ArtifactsCollected, DigestDue, RehearsalDue,
    ExperimentExpiring, GcCycleCompleted, RehearsalFinished, MirrorReported,
    ServedOutsideRegistry, IncidentDetected, DetectionChanged, IncidentStageReached)}

_ADAPTERS: dict[str, TypeAdapter[Any]] = {name: TypeAdapter(cls)
                                          for name, cls in EVENT_TYPES.items()}


def subject_of(event: Event) -> str:
    """What an event is about. Deliveries of one handler about one subject run in the order
    their events were written (a card is posted before it is refreshed, an incident's record
    before its confirmation); different subjects never wait for each other, so one failing
    post holds up nothing else."""
    match event:
        case PromotionRequested() | ApprovalGiven() | RequestDecided() | RequestSuperseded() \
                | RequestExpired():
            return f"approval:{event.request_id}"
        case IncidentOpened() | IncidentConfirmed() | RehearsalFinished() | MirrorReported() \
                | IncidentStageReached():
            return f"incident:{event.incident_id}"
        case Promoted():
            return f"promoted:{event.model}:{event.revision}"
        case TagMoved():
            return f"tag:{event.model}:{event.tag}"
        case CanaryJudgedWorse() | CanaryOverridden():
            return f"canary:{event.model}:{event.version_id}"
        case VersionRegistered() | ArtifactsCollected():
            return f"version:{event.model}:{event.version_id}"
        case ServedOutsideRegistry():
            return f"outside:{event.model}:{event.version_id}:{event.day.isoformat()}"
        case DigestDue():
            return f"digest:{event.channel}:{event.slot.isoformat()}"
        case RehearsalDue():
            return f"rehearsal:{event.model}:{event.slot.isoformat()}"
        case ExperimentExpiring():
            return f"experiment:{event.model}:{event.tag}"
        case GcCycleCompleted():
            return f"gc:{event.slot.isoformat()}"
        case IncidentDetected() | DetectionChanged():  # its card posted before any update
            return f"detection:{event.detection_id}"
    raise TypeError(f"{type(event).__name__} is not a domain event")


def name_of(event: Event) -> str:
    name = type(event).__name__
    if name not in EVENT_TYPES:
        raise TypeError(f"{name} is not a domain event (see core.events.EVENT_TYPES)")
    return name


def to_json(event: Event) -> dict[str, Any]:
    """A plain-JSON form, the way the outbox stores it."""
    return dict(_ADAPTERS[name_of(event)].dump_python(event, mode="json"))


def from_json(name: str, payload: dict[str, Any]) -> Event:
    """The event back from its stored form; an unknown name is an error, never skipped."""
    adapter = _ADAPTERS.get(name)
    if adapter is None:
        raise ValueError(f"unknown event {name!r}; was it written by a newer Playbook?")
    event: Event = adapter.validate_python(payload)
    return event


def describe(event: Event) -> str:
    """One line saying what happened, for people (an idempotency key's remembered effect)."""
    match event:
        case TagMoved():
            before = f"{event.from_version[:12]} -> " if event.from_version else ""
            return (f"{event.play} moved {event.model} {event.tag} {before}"
                    f"{event.to_version[:12]} (revision {event.revision})")
        case IncidentOpened():
            return f"incident {event.incident_id} opened"
        case VersionRegistered():
            return f"registered {event.model}@{event.version_id[:12]}"
        case PromotionRequested():
            return f"approval request {event.request_id} opened"
    return f"{name_of(event)} ({subject_of(event)})"
