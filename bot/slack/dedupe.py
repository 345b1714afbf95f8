"""Exactly one effect per Slack delivery.

Slack re-sends a request it believes was lost (with X-Slack-Retry-Num); a flaky network or a
proxy may replay one. Each command and click carries a unique trigger_id and each event an
event_id: the first delivery claims it in the database (shared by every replica), later ones
are acknowledged and dropped. Double clicks are two deliveries with two trigger_ids; those the
plays refuse themselves (a decided request, the same approver twice).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_bolt import BoltResponse
from slack_bolt.request import BoltRequest

from bot.slack.memory import SlackMemory

log = logging.getLogger("playbook.slack")


def delivery_key(body: dict[str, Any]) -> tuple[str, str] | None:
    """(key, kind) naming this delivery, or None for requests that carry no id."""
    if body.get("type") == "event_callback" and body.get("event_id"):
        return f"event:{body['event_id']}", "event"
    trigger = body.get("trigger_id")
    if not trigger:
        return None
    if body.get("command"):
        return f"command:{trigger}", "command"
    return f"{body.get('type', 'interaction')}:{trigger}", "action"


def once_per_delivery(store: SlackMemory,
                      now: Callable[[], datetime]) -> Callable[..., BoltResponse | None]:
    def middleware(body: dict[str, Any], request: BoltRequest,
                   next: Callable[[], BoltResponse]) -> BoltResponse | None:
        found = delivery_key(body)
        if found is not None and not store.claim(found[0], found[1], now()):
            retry = request.headers.get("x-slack-retry-num", ["-"])[0]
            log.info("dropped a repeated Slack delivery %s (retry %s)", found[0], retry)
            return BoltResponse(status=200, body="")
        return next()

    return middleware
