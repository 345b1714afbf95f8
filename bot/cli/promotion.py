"""CLI for play 2: promote, and the second approver's approve / reject."""

from __future__ import annotations

import argparse
from typing import Any

from bot.bootstrap import App
from bot.shared.render import Out, block, table, when
from core import queries, serialize
from core.commands import Approve, Promote, Reject
from core.plays import approve, promote, reject


def cmd_promote(args: argparse.Namespace, app: App) -> Out:
    result = promote(Promote.parse(model=args.model, version=args.version,
                                   actor=app.settings.actor, reason=args.reason or "",
                                   expected_revision=args.expect_revision,
                                   override_reason=getattr(args, "override", None)), app.ctx)
    gate = result.gate
    delta = gate.get("delta")
    gate_line = f"{gate['metric']}={gate['candidate_score']:g}" + (
        f" vs production {gate.get('production_score'):g} ({delta:+g})"
        if delta is not None else " (no production yet)")
    data: dict[str, Any] = {"version": result.version.short, "gate": gate, "run": result.run_id,
                            "overridden": result.canary_override is not None,
                            "rolled_back": [i.id for i in result.rolled_back]}
    if result.event is not None:
        data["event"] = serialize.event(result.event)
        text = f"promoted {result.version.short} to production (revision " \
               f"{result.event.revision})\ngate: {gate_line}"
    else:
        assert result.request is not None
        data["request"] = serialize.approval(result.request)
        text = (f"approval requested: {result.request.id} needs {result.request.required} "
                f"approver(s) other than {result.request.requester}, by "
                f"{when(result.request.expires_at)} UTC\ngate: {gate_line}\n"
                f"approve with: playbook approve {result.request.id}")
    if result.canary_override is not None:
        text += "\nthe canary was clearly worse; the override and its reason are recorded"
    if result.rolled_back:
        ids = ", ".join(i.id for i in result.rolled_back)
        text += f"\nit was rolled back from before ({ids}); your reason is recorded with the move"
    return Out(data, text)


def cmd_approve(args: argparse.Namespace, app: App) -> Out:
    decision = approve(Approve.parse(request_id=args.request, approver=app.settings.actor,
                                     override_reason=getattr(args, "override", None)), app.ctx)
    r = decision.request
    data = serialize.approval(r) | {"run": decision.run_id,
                                    "overridden": decision.canary_override is not None}
    if decision.event is not None:
        data["event"] = serialize.event(decision.event)
        text = f"approved: production -> {r.model}@{r.version_id[:12]} " \
               f"(approvers: {', '.join(r.approvers)})"
    else:
        text = f"approval recorded ({len(r.approvals)}/{r.required}); waiting for " \
               f"{r.required - len(r.approvals)} more approver(s)"
    return Out(data, text)


def cmd_reject(args: argparse.Namespace, app: App) -> Out:
    decision = reject(Reject.parse(request_id=args.request, actor=app.settings.actor,
                                   reason=args.reason or ""), app.ctx)
    return Out(serialize.approval(decision.request) | {"run": decision.run_id},
               f"rejected {decision.request.id}; production unchanged")


def cmd_approvals(args: argparse.Namespace, app: App) -> Out:
    pending = queries.approvals(app.ctx, args.model)
    rows = [[r.id, f"{r.model}@{r.version_id[:12]}", r.requester, f"{len(r.approvals)}/"
             f"{r.required}", when(r.expires_at), r.reason[:40]] for r in pending]
    return Out([serialize.approval(r) for r in pending],
               table(["request", "version", "requester", "approvals", "expires", "reason"],
                     rows))


def cmd_request(args: argparse.Namespace, app: App) -> Out:
    r = queries.approval(app.ctx, args.request)
    data = serialize.approval(r)
    return Out(data, block([(k, v) for k, v in data.items()]))
