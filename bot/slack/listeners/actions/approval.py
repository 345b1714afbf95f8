"""Approve / Reject on an approval card: play 2's second approver.

Who may approve is judged by Slack at the moment of the click (SlackApprovers). Whatever the
outcome, even a refusal of an expired request, the card is then re-rendered from the stored
request, so it shows who decided and loses its buttons once the request is closed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.api import canary_play
from bot.api.context import ApiSettings
from bot.slack.blocks.approval import APPROVE, REJECT
from bot.slack.errors import SlackCallFailed, reports_errors
from bot.slack.runtime import SlackRuntime
from core.commands import Approve, Reject
from core.errors import PlaybookError
from core.plays import approve, reject
from storage.api_uow import api_uow_factory

log = logging.getLogger("playbook.slack")


def decide_then_refresh(rt: SlackRuntime, request_id: str, decide: Callable[[], str]) -> None:
    try:
        done = decide()
    except PlaybookError:
        try:
            rt.cards.refresh(request_id)  # e.g. an expired request now shows as expired
        except SlackCallFailed:
            log.exception("could not refresh the card of %s", request_id)
        raise
    try:
        rt.cards.refresh(request_id)
    except SlackCallFailed as exc:
        exc.done = done
        raise


def register(app: App, rt: SlackRuntime) -> None:
    @app.action(APPROVE)
    @reports_errors
    def approve_clicked(ack: Ack, body: dict[str, Any], action: dict[str, Any],
                        respond: Respond) -> None:
        ack()
        request_id, user = action["value"], body["user"]["id"]
        ctx = rt.ctx_in(body["container"]["channel_id"])

        def decide() -> str:
            # A canary found clearly worse refuses the click; an override needs the CLI or API,
            # where a reason can be given.
            canary_play.guard_approval(ctx, api_uow_factory(rt.playbook.engine),
                                       request_id=request_id, actor=user, override_reason=None,
                                       thresholds=ApiSettings.from_env().canary)
            decision = approve(Approve.parse(request_id=request_id, approver=user), ctx)
            return f"Approval of {request_id} recorded ({decision.request.status})"

        decide_then_refresh(rt, request_id, decide)

    @app.action(REJECT)
    @reports_errors
    def reject_clicked(ack: Ack, body: dict[str, Any], action: dict[str, Any],
                       respond: Respond) -> None:
        ack()
        request_id, user = action["value"], body["user"]["id"]
        ctx = rt.ctx_in(body["container"]["channel_id"])

        def decide() -> str:
            reject(Reject.parse(request_id=request_id, actor=user), ctx)
            return f"Request {request_id} rejected"

        decide_then_refresh(rt, request_id, decide)
