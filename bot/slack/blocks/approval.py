"""The approval card: candidate vs production, who asked and why, and the buttons.

The card is re-rendered from the stored request every time anything happens to it, so what
Slack shows is always what the registry holds: pending (with the approvals so far), or decided
(who, when, result) without buttons.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.slack.blocks.common import (
    Block,
    Message,
    actions,
    at,
    button,
    confirm_dialog,
    context,
    delta,
    esc,
    fields,
    header,
    message,
    score,
    section,
    user,
)
from bot.slack.names import command
from core.domain import ApprovalRequest, ApprovalStatus, Incident, Version

APPROVE = "approval_approve"
REJECT = "approval_reject"


@dataclass(frozen=True)
class CardView:
    request: ApprovalRequest
    candidate: Version
    production: Version | None  # production when the request was made
    metric: str
    higher_is_better: bool
    changed: tuple[str, ...]
    now: datetime
    canary: dict[str, Any] | None = None  # its canary's comparison (running or ended)
    rolled_back: tuple[Incident, ...] = ()  # incidents that rolled production back from it


def rolled_back_text(incidents: Sequence[Incident]) -> str:
    """The latest incidents (three at most) that rolled production back from a version."""
    more = len(incidents) - 3
    return "; ".join(
        f"incident `{i.id}` at {at(i.opened_at)} by {user(i.opened_by)}"
        + (f": {esc(i.symptom)}" if i.symptom else "") for i in incidents[-3:]) \
        + (f"; and {more} earlier" if more > 0 else "")


def canary_line(c: dict[str, Any]) -> str:
    """One line of the canary comparison for the card (playbook canary MODEL has the table)."""
    def arm(a: dict[str, Any]) -> str:
        rate = "-" if a["error_rate"] is None else f"{a['error_rate']:.2%}"
        return f"n={a['n']}, errors {rate}, p95 {a['latency_p95'] or '-'} ms"

    verdict = {"insufficient": ":grey_question: not enough traffic yet to compare",
               "ok": ":white_check_mark: no worse than production",
               "worse": ":warning: clearly worse than production; approval is refused "
                        "unless overridden with a reason (CLI or API)"}[c["verdict"]]
    reasons = "; ".join(c["reasons"])
    return (f"*Canary:* {verdict}{' (' + reasons + ')' if reasons else ''}\n"
            f"canary {arm(c['canary'])} · production {arm(c['production'])}")


def _who(approvers: tuple[str, ...]) -> str:
    return " and ".join(user(a) for a in approvers) or "none yet"


def status_line(view: CardView) -> tuple[str, bool]:
    """(what the card says about its state, whether its buttons still work)."""
    r = view.request
    note = f" ({esc(r.decision_note)})" if r.decision_note else ""
    if r.status == ApprovalStatus.PENDING and view.now < r.expires_at:
        if r.approvals:
            first = r.approvals[0]
            return (f":hourglass_flowing_sand: Approved by {user(first.approver)} at "
                    f"{at(first.at)}; waiting for {r.required - len(r.approvals)} more "
                    "approver(s).", True)
        return f":eyes: Waiting for {r.required} approver(s).", True
    if r.status in (ApprovalStatus.PENDING, ApprovalStatus.EXPIRED):
        return (f":hourglass: Expired at {at(r.expires_at)}; nothing changed. Ask again with "
                f"`{command('promote')} {r.model} {view.candidate.short}`.", False)
    if r.status == ApprovalStatus.APPROVED:
        return (f":white_check_mark: Approved by {_who(r.approvers)}, decided at "
                f"{at(r.decided_at)}: production is now `{view.candidate.short}`.", False)
    if r.status == ApprovalStatus.REJECTED:
        return (f":x: Rejected by {user(r.decided_by)} at {at(r.decided_at)}{note}; "
                "production unchanged.", False)
    return f":fast_forward: Superseded at {at(r.decided_at)}{note}; production unchanged.", \
        False


def approval_card(view: CardView) -> Message:
    r, c, p = view.request, view.candidate, view.production
    c_score = c.scores.get(view.metric)
    p_score = p.scores.get(view.metric) if p else None
    diff = None if c_score is None or p_score is None else c_score - p_score
    state, live = status_line(view)
    blocks: list[Block] = [
        header(f"Promotion to production: {c.short}"),
        fields([
            ("Candidate", f"`{c.short}`\n{view.metric} {score(c_score)}"),
            ("Production", f"`{p.short}`\n{view.metric} {score(p_score)}" if p
             else "none yet"),
            ("Delta", delta(diff, view.higher_is_better)),
            ("Changed", ", ".join(view.changed) or ("everything (first production)"
                                                    if p is None else "nothing")),
            ("Requested by", user(r.requester)),
            ("Reason", esc(r.reason) or "-"),
            ("Expires", at(r.expires_at)),
            ("Approvals", f"{len(r.approvals)}/{r.required}: {_who(r.approvers)}"),
        ]),
        section(state),
    ]
    if view.canary is not None:
        blocks.insert(2, section(canary_line(view.canary)))
    if view.rolled_back:
        blocks.insert(2, section(
            f":rewind: *Rolled back from in production before:* "
            f"{rolled_back_text(view.rolled_back)}."
            + (" Promoting it again needed a reason; it is in the Reason above."
               if "promoted again after rollback" in r.reason else "")))
    if live:
        blocks.append(actions(  # a new block id with each approval: a client shows it afresh
            f"approval:{r.id}:{len(r.approvals)}",
            button("Approve", APPROVE, r.id, style="primary"),
            button("Reject", REJECT, r.id, style="danger", confirm=confirm_dialog(
                "Reject this promotion?",
                f"`{c.short}` will not go to production; the request is closed.",
                "Reject"))))
    blocks.append(context(
        f"Request `{r.id}` · {r.required} approver(s) needed, each a member of this channel "
        f"who approves {r.model}; the requester cannot approve."))
    text = f"Promotion request {r.id}: {c.short} to production. {state}"
    return message(text, blocks)
