"""Play 3 from Slack: the incident-channel rule, and the posting flow of rehearsals.

A real rollback's record and confirmation are the notifier's (bot/slack/notifier.py), from the
play's events. A rehearsal still posts its own record here, before its confirming eval: the
core rollback play gets an evaluator that first posts the record (the tag move has committed by
then) and then runs the real one. Moving rehearsals onto events too is left for later.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from bot.slack.blocks.common import channel as channel_text
from bot.slack.blocks.incident import confirmation, incident_record, rolled_back
from bot.slack.channels import is_channel
from bot.slack.errors import SlackCallFailed
from bot.slack.runtime import SlackRuntime
from core.commands import Rollback
from core.config import ModelPolicy
from core.domain import Incident, Version
from core.errors import Refused
from core.plays import rollback
from core.plays.rollback import RollbackResult
from core.ports import Evaluator

KIND = "incident"
log = logging.getLogger("playbook.slack")


def require_incident_channel(policy: ModelPolicy, channel_id: str | None,
                             channel_name: str | None) -> None:
    """Rollbacks happen where the incident is handled (when the model names that channel)."""
    if policy.incident_channel and not is_channel(policy.incident_channel, channel_id,
                                                  channel_name):
        where = channel_text(policy.incident_channel)
        raise Refused(f"rollbacks of {policy.name} run only in {where}, its incident channel",
                      hint=f"run `/rollback {policy.name}` in {where}, so the incident record "
                           "lands where the incident is handled")


class _Announcer:
    def __init__(self, rt: SlackRuntime, order: Rollback, channel: str) -> None:
        self.rt = rt
        self.order = order
        self.channel = channel
        self.done = False
        self.posted: tuple[str, str] | None = None
        self.failure: SlackCallFailed | None = None

    def evaluator_for(self, policy: ModelPolicy) -> Evaluator | None:
        inner = self.rt.ctx.evaluator_for(policy)
        return None if inner is None else _AnnounceFirst(inner, self)

    def before_eval(self, restored: Version) -> None:
        if self.done:
            return
        with self.rt.ctx.uow() as uow:  # the play holds no unit of work while it evaluates
            found = [i for i in uow.incidents.list(self.order.model, limit=5)
                     if i.restored_version == restored.id and i.opened_by == self.order.actor
                     and i.tag == self.order.tag and i.confirmed_at is None]
        if found:
            self.announce(found[0])

    def announce(self, incident: Incident) -> None:
        self.done = True
        budget = self.rt.config.model(incident.model).max_time_to_rollback_s
        try:
            self.posted = self.rt.poster.post(self.channel, incident_record(incident, budget))
            self.rt.store.remember(KIND, incident.id, *self.posted, self.rt.now())
        except SlackCallFailed as exc:
            self.failure = exc


class _AnnounceFirst:
    def __init__(self, inner: Evaluator, announcer: _Announcer) -> None:
        self._inner = inner
        self._announcer = announcer

    def evaluate(self, version: Version) -> dict[str, float]:
        self._announcer.before_eval(version)
        return self._inner.evaluate(version)

    def describe(self) -> str:
        return self._inner.describe()


def roll_back_and_report(rt: SlackRuntime, order: Rollback, channel: str) -> RollbackResult:
    """Run play 3 and post its record and confirmation in `channel` (slow: run it after ack)."""
    announcer = _Announcer(rt, order, channel)
    result = rollback(order, replace(rt.ctx, evaluator_for=announcer.evaluator_for))
    if not announcer.done:  # no evaluator ran: the record goes out now
        announcer.announce(result.incident)
    done = rolled_back(result.incident)
    if announcer.failure is not None:
        announcer.failure.done = done
        raise announcer.failure
    assert announcer.posted is not None
    where, ts = announcer.posted
    rt.poster.post(where, confirmation(result.incident), thread_ts=ts,
                   done=f"{done}; its record is posted")
    return result
