"""The notifier port (core.ports.Notifier) for Slack: every consequence a person sees.

The outbox dispatcher calls it for the events of any play from any surface (Slack, the CLI,
the HTTP API, the scheduler), so an approval card is posted and refreshed, an incident record
and its confirmation land in the incident channel, and a promotion is announced, whoever
started the play. Each method is idempotent: what was posted is remembered in the Slack store
(kind, key) before the delivery is recorded as done, so a delivery that runs twice finds it
and posts nothing new. A failed Slack call raises, and the outbox retries it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from bot.deploy import fingerprint_for
from bot.slack.blocks.detection import detection_card
from bot.slack.blocks.digest import (
    experiment_warning,
    gc_report,
    rehearsal_done,
    rehearsal_reminder,
)
from bot.slack.blocks.incident import confirmation, incident_record, mirror_report, promoted
from bot.slack.blocks.outside import outside_registry
from bot.slack.digest import compose_digest
from bot.slack.runtime import SlackRuntime
from core import queries
from core.domain import Incident
from core.errors import NotFound
from core.events import MirrorReported, Promoted, ServedOutsideRegistry
from core.plays import alerts
from core.plays.rehearse import RehearsalResult

INCIDENT = "incident"  # the record; the confirmation is its own kind, replied in its thread
CONFIRMATION = "incident-confirmation"
MIRROR = "incident-mirror"  # whether serving's registry followed, replied in the thread
VERDICT = "rehearsal-verdict"
PROMOTION = "promotion"
DIGEST = "digest"
REMINDER = "rehearsal-reminder"
EXPERIMENT = "experiment-warning"
GC_REPORT = "gc-report"
OUTSIDE = "served-outside-registry"
DETECTION = "detected-incident"
log = logging.getLogger("playbook.slack")


class RecordNotPostedYet(Exception):
    """The confirmation of an incident whose record is not in Slack yet: retried later."""


class SlackNotifier:
    def __init__(self, rt: SlackRuntime) -> None:
        self._rt = rt

    def approval_requested(self, request_id: str, channel: str | None) -> None:
        rt = self._rt
        if rt.cards.where(request_id) is not None:
            rt.cards.refresh(request_id)  # posted by an earlier try of this delivery
            return
        request = queries.approval(rt.ctx, request_id)
        where = rt.config.model(request.model).release_channel or channel
        if where is None:
            log.warning("approval request %s: %s names no release_channel and was not asked "
                        "for in Slack; no card posted", request_id, request.model)
            return
        rt.cards.post(request_id, where)

    def approval_changed(self, request_id: str) -> None:
        self._rt.cards.refresh(request_id)

    def incident_opened(self, incident_id: str, channel: str | None) -> None:
        rt = self._rt
        if rt.store.message(INCIDENT, incident_id) is not None:
            return
        incident = queries.incident(rt.ctx, incident_id)
        policy = rt.config.model(incident.model)
        if incident.rehearsal:  # a drill reports where it was asked for
            where = channel or policy.incident_channel or policy.release_channel
        else:
            where = policy.incident_channel or channel or policy.release_channel
        if where is None:
            log.warning("incident %s: %s names no incident or release channel; not posted",
                        incident_id, incident.model)
            return
        posted = rt.poster.post(where, incident_record(incident,
                                                       policy.max_time_to_rollback_s))
        rt.store.remember(INCIDENT, incident_id, *posted, rt.now())

    def _posted(self, kind: str, key: str, model: str) -> tuple[str, str] | None:
        """Where the message a follow-up refers to was posted: None when it went nowhere
        (the model names no channel), RecordNotPostedYet (retried later) when it is due."""
        found = self._rt.store.message(kind, key)
        if found is None:
            policy = self._rt.config.model(model)
            if policy.incident_channel or policy.release_channel:
                raise RecordNotPostedYet(f"the {kind} message of {key} is not posted yet")
        return found

    def _refresh_record(self, incident: Incident, where: str, ts: str) -> None:
        budget = self._rt.config.model(incident.model).max_time_to_rollback_s
        self._rt.poster.update(where, ts, incident_record(incident, budget))

    def incident_changed(self, incident_id: str) -> None:
        """A later stage: the record shows it, in place."""
        incident = queries.incident(self._rt.ctx, incident_id)
        record = self._posted(INCIDENT, incident_id, incident.model)
        if record is not None:
            self._refresh_record(incident, *record)

    def incident_confirmed(self, incident_id: str) -> None:
        rt = self._rt
        if rt.store.message(CONFIRMATION, incident_id) is not None:
            return
        incident = queries.incident(rt.ctx, incident_id)
        record = self._posted(INCIDENT, incident_id, incident.model)
        if record is None:
            return  # nowhere it was posted (no channel known): nothing to reply to
        where, ts = record
        posted = rt.poster.post(where, confirmation(incident), thread_ts=ts)
        rt.store.remember(CONFIRMATION, incident_id, *posted, rt.now())
        self._refresh_record(incident, where, ts)  # the record shows the stage too

    def mirror_reported(self, event: MirrorReported) -> None:
        rt = self._rt
        key = f"{event.incident_id}:{'followed' if event.followed else 'lagging'}"
        if rt.store.message(MIRROR, key) is not None:
            return
        record = self._posted(INCIDENT, event.incident_id, event.model)
        if record is None:
            return
        where, ts = record
        posted = rt.poster.post(where, mirror_report(event), thread_ts=ts)
        rt.store.remember(MIRROR, key, *posted, rt.now())

    def canary_judged(self, model: str, version_id: str) -> None:
        for r in queries.approvals(self._rt.ctx, model):
            if r.version_id == version_id:
                self._rt.cards.refresh(r.id)

    def rehearsal_finished(self, incident_id: str, production_version: str,
                           target_version: str, budget_s: float) -> None:
        rt = self._rt
        if rt.store.message(VERDICT, incident_id) is not None:
            return
        record = rt.store.message(INCIDENT, incident_id)
        incident = queries.incident(rt.ctx, incident_id)
        production, target = queries.by_ids(rt.ctx, incident.model,
                                            [production_version, target_version])
        if record is None:
            return  # nowhere its record went (no channel known): nothing to reply to
        if production is None or target is None:
            raise NotFound(f"the versions of rehearsal {incident_id} are gone")
        follower = rt.config.model(incident.model).rehearsal_follower
        verdict = rehearsal_done(RehearsalResult(incident, production, target, budget_s, "",
                                                 follower))
        posted = rt.poster.post(record[0], verdict, thread_ts=record[1])
        rt.store.remember(VERDICT, incident_id, *posted, rt.now())

    # -- the scheduler's posts: each remembered under its slot, so a retry posts nothing new

    def digest_due(self, channel: str, slot: datetime) -> None:
        rt = self._rt
        key = f"{channel}:{slot.isoformat()}"
        _, parts = compose_digest(rt.playbook, channel)
        first = rt.store.message(DIGEST, key)
        if first is None:
            first = rt.poster.post(channel, parts[0])
            rt.store.remember(DIGEST, key, *first, rt.now())
        for n, part in enumerate(parts[1:], start=2):  # each remembered: a retry posts the rest
            if rt.store.message(DIGEST, f"{key}:part{n}") is None:
                posted = rt.poster.post(first[0], part, thread_ts=first[1])
                rt.store.remember(DIGEST, f"{key}:part{n}", *posted, rt.now())

    def rehearsal_due(self, model: str, slot: datetime) -> None:
        rt = self._rt
        key = f"{model}:{slot.isoformat()}"
        policy = rt.config.model(model)
        channel = policy.incident_channel or policy.release_channel
        if channel is None or rt.store.message(REMINDER, key) is not None:
            return
        status = queries.rehearsal(rt.ctx, model, fingerprint_for(rt.playbook, model))
        if not status.due:
            return  # rehearsed since the slot was claimed: nothing to remind of
        posted = rt.poster.post(channel, rehearsal_reminder(status,
                                                            policy.max_time_to_rollback_s))
        rt.store.remember(REMINDER, key, *posted, rt.now())

    def experiment_expiring(self, model: str, tag: str, version_id: str,
                            expires_at: datetime) -> None:
        rt = self._rt
        key = f"{model}:{tag}:{expires_at.isoformat()}"
        channel = rt.config.model(model).release_channel
        if channel is None or rt.store.message(EXPERIMENT, key) is not None:
            return
        (version,) = queries.by_ids(rt.ctx, model, [version_id])
        if version is None:
            raise NotFound(f"no version {model}@{version_id[:12]}")
        posted = rt.poster.post(channel, experiment_warning(tag, version, rt.now()))
        rt.store.remember(EXPERIMENT, key, *posted, rt.now())

    def served_outside_registry(self, event: ServedOutsideRegistry) -> None:
        """In the model's incident channel (its release channel when it names none), once
        per version and day."""
        rt = self._rt
        key = f"{event.model}:{event.version_id}:{event.day.isoformat()}"
        policy = rt.config.model(event.model)
        channel = policy.incident_channel or policy.release_channel
        if channel is None or rt.store.message(OUTSIDE, key) is not None:
            return
        (version,) = queries.by_ids(rt.ctx, event.model, [event.version_id])
        if version is None:
            raise NotFound(f"no version {event.model}@{event.version_id[:12]}")
        tags = queries.version(rt.ctx, version.short).tags
        posted = rt.poster.post(channel, outside_registry(event, version, tags))
        rt.store.remember(OUTSIDE, key, *posted, rt.now())

    def incident_detected(self, detection_id: str) -> None:
        """The card in the model's incident channel (its release channel when it names
        none), then the investigation's verdict on it."""
        rt = self._rt
        if rt.store.message(DETECTION, detection_id) is not None:
            return  # posted by an earlier try of this delivery
        view = alerts.view(rt.ctx, detection_id)
        d = view.detection
        policy = rt.config.model(d.model)
        where = policy.incident_channel or policy.release_channel
        if where is None:
            log.warning("detected incident %s: %s names no incident or release channel; not "
                        "posted", detection_id, d.model)
            return
        posted = rt.poster.post(where, detection_card(view))
        rt.store.remember(DETECTION, detection_id, *posted, rt.now())
        if not d.verdict:  # evals run for minutes: not in the outbox's delivery, whose lease
            # would lapse; its DetectionChanged brings the verdict to the card
            rt.work.submit(lambda: alerts.investigate_detected(detection_id, rt.ctx), None)

    def detection_changed(self, detection_id: str) -> None:
        view = alerts.view(self._rt.ctx, detection_id)
        found = self._posted(DETECTION, detection_id, view.detection.model)
        if found is not None:
            self._rt.poster.update(*found, detection_card(view))

    def gc_reported(self, collected: tuple[str, ...], bytes_freed: int,
                    slot: datetime) -> None:
        """In the release channel of every model it touched and every digest channel; each
        channel remembered on its own, so a retry after a partial failure posts the rest."""
        rt = self._rt
        models = {ref.split("@", 1)[0] for ref in collected}
        channels = {rt.config.models[m].release_channel for m in models
                    if m in rt.config.models}
        channels |= {d.channel for d in rt.config.schedule.digest}
        message = gc_report(list(collected), bytes_freed)
        for channel in sorted(c for c in channels if c):
            key = f"{slot.isoformat()}:{channel}"
            if rt.store.message(GC_REPORT, key) is None:
                posted = rt.poster.post(channel, message)
                rt.store.remember(GC_REPORT, key, *posted, rt.now())

    def promoted(self, event: Promoted) -> None:
        rt = self._rt
        key = f"{event.model}:{event.revision}"
        if rt.store.message(PROMOTION, key) is not None:
            return
        policy = rt.config.model(event.model)
        where = policy.release_channel or event.channel
        if where is None:
            return  # a low-stakes promotion from the CLI or HTTP, and no release channel
        target, before = queries.by_ids(rt.ctx, event.model,
                                        [event.version_id, event.from_version])
        numbers: dict[str, Any] = {"metric": policy.metric}
        if target is not None and policy.metric in target.scores:
            numbers["candidate_score"] = target.scores[policy.metric]
            if before is not None and policy.metric in before.scores:
                numbers["production_score"] = before.scores[policy.metric]
                numbers["delta"] = target.scores[policy.metric] - before.scores[policy.metric]
        posted = rt.poster.post(where, promoted(event, numbers))
        rt.store.remember(PROMOTION, key, *posted, rt.now())
