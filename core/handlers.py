"""The consequences of plays: which handler each event goes to, and what the handlers do.

`SUBSCRIPTIONS` is read when an event is written (one delivery per handler named), so it is
the same in every process: the CLI, every server replica. A handler is one small function
over an event and a port; the composition root binds the ports and hands the bound handlers
to the dispatcher (core.outbox). A new integration (a webhook, a registry mirror) is a new
name here and one more function.
"""

from __future__ import annotations

from collections.abc import Callable

from core.config import PlaybookConfig
from core.events import (
    ApprovalGiven,
    CanaryJudgedWorse,
    DetectionChanged,
    DigestDue,
    Event,
    ExperimentExpiring,
    GcCycleCompleted,
    IncidentConfirmed,
    IncidentDetected,
    IncidentOpened,
    IncidentStageReached,
    MirrorReported,
    Promoted,
    PromotionRequested,
    RehearsalDue,
    RehearsalFinished,
    RequestDecided,
    RequestExpired,
    RequestSuperseded,
    ServedOutsideRegistry,
)
from core.ports import Notifier

NOTIFY = "notify"  # the people: Slack cards, incident records, announcements
MIRROR = "mirror"  # where serving already looks (core/mirror.py): MLflow aliases

SUBSCRIPTIONS: dict[str, tuple[str, ...]] = {
    "PromotionRequested": (NOTIFY,),
    "ApprovalGiven": (NOTIFY,),
    "RequestDecided": (NOTIFY,),
    "RequestSuperseded": (NOTIFY,),
    "RequestExpired": (NOTIFY,),
    "IncidentOpened": (NOTIFY,),
    "IncidentConfirmed": (NOTIFY,),
    "RehearsalFinished": (NOTIFY,),
    "Promoted": (NOTIFY,),
    "CanaryJudgedWorse": (NOTIFY,),
    "DigestDue": (NOTIFY,),
    "RehearsalDue": (NOTIFY,),
    "ExperimentExpiring": (NOTIFY,),
    "GcCycleCompleted": (NOTIFY,),
    "MirrorReported": (NOTIFY,),
    "ServedOutsideRegistry": (NOTIFY,),
    "IncidentDetected": (NOTIFY,),
    "DetectionChanged": (NOTIFY,),
    "IncidentStageReached": (NOTIFY,),
}

HANDLER_NAMES: frozenset[str] = frozenset(n for names in SUBSCRIPTIONS.values() for n in names)


def subscribers(event_name: str, model: str | None = None) -> tuple[str, ...]:
    return SUBSCRIPTIONS.get(event_name, ())


Subscribers = Callable[[str, str | None], tuple[str, ...]]


def subscribers_for(config: PlaybookConfig) -> Subscribers:
    """The built-in subscriptions, and each [[webhooks]] table that wants the event (each
    webhook is its own handler, `webhook:NAME`)."""

    def subscribed(event_name: str, model: str | None = None) -> tuple[str, ...]:
        policy = config.models.get(model) if model else None
        mirrored = (MIRROR,) if event_name == "TagMoved" and policy is not None \
            and policy.mirror is not None else ()
        return subscribers(event_name) + mirrored + tuple(
            hook.handler for hook in config.webhooks if hook.wants(event_name, model))

    return subscribed


def notify(event: Event, notifier: Notifier) -> None:
    """Tell the people: every surface's play reaches Slack through here, and only here."""
    match event:
        case PromotionRequested():
            notifier.approval_requested(event.request_id, event.channel)
        case ApprovalGiven() if event.approvals >= event.required:
            pass  # the last approval: its RequestDecided (next) shows it, once
        case ApprovalGiven() | RequestDecided() | RequestSuperseded() | RequestExpired():
            notifier.approval_changed(event.request_id)
        case IncidentOpened():
            notifier.incident_opened(event.incident_id, event.channel)
        case IncidentConfirmed():
            notifier.incident_confirmed(event.incident_id)
        case RehearsalFinished():
            notifier.rehearsal_finished(event.incident_id, event.production_version,
                                        event.target_version, event.budget_s)
        case Promoted():
            notifier.promoted(event)
        case CanaryJudgedWorse():
            notifier.canary_judged(event.model, event.version_id)
        case DigestDue():
            notifier.digest_due(event.channel, event.slot)
        case RehearsalDue():
            notifier.rehearsal_due(event.model, event.slot)
        case MirrorReported():
            notifier.mirror_reported(event)
        case ExperimentExpiring():
            notifier.experiment_expiring(event.model, event.tag, event.version_id,
                                         event.expires_at)
        case GcCycleCompleted():
            notifier.gc_reported(event.collected, event.bytes_freed, event.slot)
        case ServedOutsideRegistry():
            notifier.served_outside_registry(event)
        case IncidentDetected():
            notifier.incident_detected(event.detection_id)
        case DetectionChanged():
            notifier.detection_changed(event.detection_id)
        case IncidentStageReached():
            notifier.incident_changed(event.incident_id)
        case _:
            pass  # nothing to tell people (yet): registrations, collections, raw tag moves
