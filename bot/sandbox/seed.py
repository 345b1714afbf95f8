"""Something to try at once: three versions of every model, two of them production in turn.

Everything goes through the normal plays with the model's real evaluator: register (play 1)
three versions, a small prompt change apart, then promote (play 2) the first and the second,
so production has a history and `/rollback` a known-good version to return to, and the third
is left for the newcomer to `/promote`; two requests are recorded as served by production
(attributions `MODEL-req-1` and `-2`), so `/audit` has something to trace. A model that needs
approvers gets them through the
normal request + approve by other people the config names (its owner requests). The prompts
suit examples/eval_suite.py: each covers more of its rubric, so each scores higher.

Run again (a restart), it changes nothing: the same content registers as the same version,
and a model that already has a production version keeps it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from bot.sandbox.directory import REQUESTER
from bot.sandbox.workspace import Workspace
from core import queries
from core.commands import Approve, Promote, Register
from core.config import ModelPolicy
from core.domain import PRODUCTION, Version
from core.engine import PlayContext
from core.errors import PlaybookError
from core.handlers import HANDLER_NAMES
from core.plays import approve, promote, register
from core.plays.attribute import attribute

PROMPTS = (
    ("first prompt", "Be polite. Escalate to a human when unsure."),
    ("cite sources", "Be polite. Cite sources. Escalate to a human when unsure."),
    ("short answers", "Be polite and concise. Cite sources. Escalate to a human when unsure."),
)
CONFIG = {"temperature": 0.2}


@dataclass
class Seeded:
    versions: dict[str, list[Version]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # a play that refused, said as it was


class WorkspaceApprovers:
    """Approvers as the sandbox workspace knows them: listed ones and approver-group members."""

    def __init__(self, ws: Workspace) -> None:
        self._ws = ws

    def may_approve(self, policy: ModelPolicy, user: str) -> tuple[bool, str]:
        if user in policy.approvers or user in self.group_members(policy):
            return True, ""
        return False, f"{user} is not an approver of {policy.name}"

    def group_members(self, policy: ModelPolicy) -> list[str]:
        group = policy.approver_group
        if not group:
            return []
        group_id = self._ws.handles.get(group.lstrip("@"), group)
        return self._ws.groups.get(group_id, [])


def seed(ctx: PlayContext, ws: Workspace) -> Seeded:
    """Register and promote the example versions of every model; report what refused."""
    ctx = replace(ctx, approvers=WorkspaceApprovers(ws))
    done = Seeded()
    with ctx.uow(read_only=True) as uow:
        before = uow.outbox.last_seq()
    for name, policy in sorted(ctx.config.models.items()):
        try:
            done.versions[name] = _versions(ctx, policy)
            if queries.tag(ctx, name, PRODUCTION) is None:
                for version in done.versions[name][:2]:
                    _promote(ctx, ws, policy, version)
                served = done.versions[name][1].short
                attribute([{"request_id": f"{name}-req-{n}", "model": name, "version": served,
                            "latency_ms": 120 * n} for n in (1, 2)], ctx)
        except PlaybookError as exc:
            done.problems.append(f"{name}: {exc.one_line()}")
    with ctx.uow() as uow:  # seeded history is not news: its cards are not posted
        uow.outbox.skip(HANDLER_NAMES, ctx.clock.now(), after_seq=before)
        uow.commit()
    return done


def _versions(ctx: PlayContext, policy: ModelPolicy) -> list[Version]:
    owner = policy.owner or REQUESTER.id
    found: list[Version] = []
    for reason, prompt in PROMPTS:
        parent = found[-1] if found else None
        found.append(register(Register.parse(
            model=policy.name, components={"prompt": prompt, "config": CONFIG}, owner=owner,
            reason=reason, parent=parent.short if parent else None, root=parent is None,
            actor=owner), ctx).version)
    return found


def _promote(ctx: PlayContext, ws: Workspace, policy: ModelPolicy, version: Version) -> None:
    requester = policy.owner or REQUESTER.id
    result = promote(Promote.parse(model=policy.name, version=version.short, actor=requester,
                                   reason="seeded by the sandbox"), ctx)
    if result.request is None:
        return
    group = WorkspaceApprovers(ws).group_members(policy)
    others = [u for u in dict.fromkeys([*policy.approvers, *group]) if u != requester]
    for approver in others[:result.request.required]:
        approve(Approve.parse(request_id=result.request.id, approver=approver), ctx)
