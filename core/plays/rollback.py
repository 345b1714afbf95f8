"""Play 3, emergency rollback: move the tag back to the last known-good version, at once.

No approval: on-call speed matters more than ceremony. The tag move and the incident record
commit together; the confirming eval run comes after and is recorded on the incident, so a
slow or broken eval suite never delays or undoes the rollback.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from core.commands import Rollback
from core.config import ModelPolicy
from core.domain import Incident, TagMoved, Version
from core.engine import PlayContext
from core.errors import InvalidInput, InvalidState, PlaybookError, Refused
from core.events import IncidentConfirmed, IncidentOpened
from core.plays.common import check_expected, current, move_tag, resolve, run_eval
from core.ports import UnitOfWork

FIRST_PAGE = 20
PAGE = 200


@dataclass(frozen=True)
class RollbackResult:
    incident: Incident
    event: TagMoved
    bad: Version
    restored: Version
    run_id: str


def confirm(ctx: PlayContext, policy: ModelPolicy, incident: Incident,
            restored: Version) -> Incident | None:
    """Run the confirming eval on the restored version and record its verdict on the
    incident, with its IncidentConfirmed event. None (and nothing written) when someone else
    confirmed it meanwhile (the sweep confirms incidents whose play died first)."""
    confirmed = replace(incident, confirm_scores={})
    try:
        scores = run_eval(ctx, policy, restored)
        confirmed.confirmation = "passed" if policy.passes(scores) else "failed"
        confirmed.confirm_scores = scores
    except PlaybookError as exc:
        confirmed.confirmation = f"error: {exc}"
    confirmed.confirmed_at = ctx.clock.now()
    with ctx.uow() as uow:
        now = uow.incidents.get(incident.id)
        if now is None or now.confirmation is not None:
            return None
        uow.incidents.save(confirmed)
        uow.outbox.add(IncidentConfirmed(
            model=incident.model, incident_id=incident.id, confirmation=confirmed.confirmation,
            rehearsal=incident.rehearsal, at=confirmed.confirmed_at))
        uow.commit()
    return confirmed


def last_known_good(uow: UnitOfWork, policy: ModelPolicy, tag: str,
                    bad: Version) -> Version | None:
    """The most recent earlier version of this tag whose eval passed and that was never
    rolled back from."""
    seen = {bad.id}
    before: int | None = None
    size = FIRST_PAGE  # the answer is nearly always among the last few moves
    while True:
        page = uow.events.history(policy.name, tag, before_seq=before, limit=size,
                                  newest_first=True)
        fresh = [e.to_version for e in page if e.to_version not in seen]
        tainted = uow.events.rolled_back_from(policy.name, tag, set(fresh))
        for vid in fresh:
            if vid in seen:
                continue
            seen.add(vid)
            if vid in tainted:
                continue
            version = uow.versions.get(policy.name, vid)
            if version is not None and version.artifacts_collected_at is None \
                    and policy.passes(version.scores):
                return version
        if len(page) < size:
            return None
        before = page[-1].seq
        size = PAGE


def rollback(cmd: Rollback, ctx: PlayContext) -> RollbackResult:
    opened_at = ctx.clock.now()
    if cmd.detected_at is not None and cmd.detected_at > opened_at:
        raise InvalidInput("detected_at", f"{cmd.detected_at.isoformat()} is after the rollback "
                           f"was ordered ({opened_at.isoformat()})",
                           hint="give when the trouble was noticed, or leave it out (now)")
    with ctx.run("rollback", cmd.actor, cmd.inputs()) as run:
        policy = ctx.config.model(cmd.model)
        with run.step("find current") as out, ctx.uow(read_only=True) as uow:
            bad, revision = current(uow, cmd.model, cmd.tag)
            if bad is None:
                raise InvalidState(f"{cmd.model} has no {cmd.tag} version to roll back from")
            check_expected(cmd.model, cmd.tag, cmd.expected_revision, revision)
            out.update(current=bad.short, revision=revision)
        with run.step("find target") as out, ctx.uow(read_only=True) as uow:
            if cmd.to:
                target = resolve(uow, cmd.model, cmd.to)
                if target.id == bad.id:
                    raise InvalidState(f"{target.short} is already {cmd.tag}")
                if target.artifacts_collected_at is not None:
                    raise Refused(f"{target.short} lost its artifacts to garbage collection "
                                  "and cannot serve", hint="pick another target")
                out.update(explicit=True)
            else:
                found = last_known_good(uow, policy, cmd.tag, bad)
                if found is None:
                    raise Refused(
                        f"{cmd.model} has no earlier known-good {cmd.tag} version to roll back "
                        "to (none passed its eval without being rolled back from)",
                        hint=f"name a target: `playbook rollback {cmd.model} --to MODEL@<hex>`")
                target = found
            out.update(target=target.short, passed=policy.passes(target.scores))

        with run.step("move tag and open incident") as out, ctx.uow() as uow:
            rolled_back_at = ctx.clock.now()
            event = move_tag(uow, model=cmd.model, tag=cmd.tag, to=target,
                             expected_revision=revision, from_version=bad.id, actor=cmd.actor,
                             play="rollback", reason=cmd.symptom, at=rolled_back_at)
            incident = Incident(
                id=ctx.make_id("inc"), model=cmd.model, tag=cmd.tag, bad_version=bad.id,
                restored_version=target.id, symptom=cmd.symptom, opened_by=cmd.actor,
                opened_at=opened_at, rolled_back_at=rolled_back_at,
                time_to_rollback_s=(rolled_back_at - (cmd.detected_at or opened_at))
                .total_seconds(), rehearsal=cmd.tag != "production",
                detected_at=cmd.detected_at)
            uow.incidents.add(incident)
            uow.outbox.add(IncidentOpened(
                model=cmd.model, incident_id=incident.id, tag=cmd.tag, bad_version=bad.id,
                restored_version=target.id, opened_by=cmd.actor, rehearsal=incident.rehearsal,
                channel=cmd.channel, at=rolled_back_at))
            uow.commit()
            out.update(incident=incident.id, revision=event.revision,
                       time_to_rollback_s=incident.time_to_rollback_s)

        confirm_started = ctx.clock.now()
        incident = confirm(ctx, policy, incident, target) or incident
        run.record("confirm with eval suite", confirm_started,
                   {"confirmation": incident.confirmation, "scores": incident.confirm_scores},
                   None if incident.confirmation == "passed" else incident.confirmation)
        run.run.result = {"incident": incident.id, "from": bad.short, "to": target.short,
                          "time_to_rollback_s": incident.time_to_rollback_s,
                          "confirmation": incident.confirmation}
        return RollbackResult(incident, event, bad, target, run.id)

