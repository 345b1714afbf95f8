"""Rules shared by several plays: resolving versions, moving tags, running the eval suite."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from core.config import ModelPolicy
from core.domain import PRODUCTION, ApprovalRequest, Incident, TagMoved, Version
from core.engine import PlayContext, RunRecorder
from core.errors import EvaluatorError, InvalidState, NotFound, Refused, TagMovedMeanwhile
from core.identity import parse_version_ref, pick_unique, short
from core.ports import UnitOfWork
from core.timetext import stamp


def resolve(uow: UnitOfWork, model: str, ref: str) -> Version:
    """`MODEL@prefix` or a bare prefix (>= 8 hex) -> the one registered version it names."""
    model, prefix = parse_version_ref(ref, model)
    ids = uow.versions.ids_with_prefix(model, prefix)
    vid = pick_unique(model, prefix, ids)
    version = uow.versions.get(model, vid)
    if version is None:  # pragma: no cover - the id came from the same table
        raise NotFound(f"no version {short(model, vid)}")
    return version


def request_of(uow: UnitOfWork, request_id: str) -> ApprovalRequest:
    """The approval request, or NotFound saying where to list them."""
    request = uow.approvals.get(request_id)
    if request is None:
        raise NotFound(f"no approval request {request_id!r}",
                       hint="list pending requests with `playbook approvals`")
    return request


def current(uow: UnitOfWork, model: str, tag: str = PRODUCTION) -> tuple[Version | None, int]:
    """What a tag points at now, and its revision (0 when the tag was never set)."""
    t = uow.tags.get(model, tag)
    if t is None:
        return None, 0
    return uow.versions.get(model, t.version_id), t.revision


def check_expected(model: str, tag: str, expected: int | None, actual: int) -> None:
    """A caller that read the tag earlier (a script, a card) can insist it has not moved."""
    if expected is not None and expected != actual:
        raise TagMovedMeanwhile(model, tag, expected)


def move_tag(uow: UnitOfWork, *, model: str, tag: str, to: Version, expected_revision: int,
             from_version: str | None, actor: str, play: str, reason: str, at: datetime,
             approvers: tuple[str, ...] = ()) -> TagMoved:
    """Compare-and-set the tag and append its event (history and outbox), in the caller's
    transaction."""
    moved = uow.tags.compare_and_set(model, tag, expected_revision, to.id, at)
    event = uow.events.append(TagMoved(
        model=model, tag=tag, from_version=from_version, to_version=to.id,
        revision=moved.revision, actor=actor, approvers=approvers, play=play, reason=reason,
        at=at))
    uow.outbox.add(event)
    return event


def rolled_back_from(uow: UnitOfWork, model: str, version_id: str) -> list[Incident]:
    """The real (not rehearsed) incidents that rolled production back from this version,
    oldest first."""
    return [i for i in uow.incidents.for_version(model, version_id)
            if i.bad_version == version_id and i.tag == PRODUCTION and not i.rehearsal]


def check_past_rollbacks(run: RunRecorder, candidate: Version, incidents: Sequence[Incident],
                         why: str, *, since: str = "", doing: str = "promoting it again"
                         ) -> str:
    """The step that lets a version production was rolled back from go out again only with a
    reason; answers what the move records (the incidents and the reason)."""
    with run.step("check past rollbacks") as out:
        out.update(incidents=[i.id for i in incidents], override_reason=why or None)
        if not why:
            last = incidents[-1]
            raise Refused(
                f"{candidate.short} was rolled back from in production{since}: incident "
                f"{last.id} at {stamp(last.opened_at)} by {last.opened_by}"
                + (f" ({last.symptom})" if last.symptom else "") + f"; {doing} needs a reason",
                hint="give one as the override reason (--override REASON, `override <why>` "
                     "in Slack, override_reason in the API); it is recorded with the move",
                people=(last.opened_by,))
    return f"({', '.join(i.id for i in incidents)}): {why}"


def primary(policy: ModelPolicy, version: Version) -> float | None:
    return version.scores.get(policy.metric)


def gate(policy: ModelPolicy, candidate: Version, production: Version | None) -> dict[str, Any]:
    """Play 2's bar: the candidate passes its eval and meets or beats production."""
    score = primary(policy, candidate)
    if score is None:
        raise Refused(f"{candidate.short} has no {policy.metric!r} score",
                      hint=f"register it with --score {policy.metric}=<value> or an evaluator")
    if production is not None and production.id == candidate.id:
        raise InvalidState(f"{candidate.short} is already production")
    if candidate.artifacts_collected_at is not None:
        raise Refused(f"{candidate.short} lost its artifacts to garbage collection and cannot "
                      "serve", hint="promote a version whose artifacts are kept")
    if policy.min_score is not None and not policy.passes(candidate.scores):
        word = "below" if policy.higher_is_better else "above"
        raise Refused(f"{candidate.short} {policy.metric}={score:g} is {word} min_score "
                      f"{policy.min_score:g}")
    out: dict[str, Any] = {"candidate": candidate.short, "metric": policy.metric,
                           "candidate_score": score}
    if production is not None:
        base = primary(policy, production)
        out.update(production=production.short, production_score=base)
        if base is not None:
            out["delta"] = score - base
            if not policy.at_least_as_good(score, base):
                word = "below" if policy.higher_is_better else "above"
                raise Refused(
                    f"{candidate.short} {policy.metric}={score:g} is {word} production "
                    f"{production.short} {policy.metric}={base:g}",
                    hint="a promotion must meet or beat production; fix the candidate or "
                         "roll back production first")
    return out


def run_eval(ctx: PlayContext, policy: ModelPolicy, version: Version) -> dict[str, float]:
    """Run the model's eval suite; the primary metric must be in the answer."""
    evaluator = ctx.evaluator(policy)
    if evaluator is None:
        raise EvaluatorError(
            f"model {policy.name!r} has no evaluator and no scores were supplied",
            hint=f"add evaluator = {{ command = \"...\" }} or {{ http = \"URL\" }} to "
                 f"[models.{policy.name}], or pass --score {policy.metric}=<value>")
    scores = evaluator.evaluate(version)
    if policy.metric not in scores:
        raise EvaluatorError(
            f"evaluator {evaluator.describe()} returned no {policy.metric!r} score "
            f"(got: {', '.join(sorted(scores)) or 'nothing'})",
            hint="make the eval suite report the model's primary metric")
    return scores
