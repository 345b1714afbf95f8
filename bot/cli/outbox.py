"""`playbook outbox`: the consequences of plays on their way (Slack cards, records), and what
could not be delivered.

A running `playbook serve` delivers events by itself, those of CLI commands included.
`outbox deliver` is for when none runs: it delivers what is due with what this process has
(Slack needs SLACK_BOT_TOKEN), and leaves the rest for a server.
"""

from __future__ import annotations

import argparse
from typing import Any

from bot import consequences
from bot.bootstrap import App
from bot.shared.render import Out, table, when
from core.outbox import Delivery, DeliveryState


def _row(d: Delivery) -> dict[str, Any]:
    return {"event": d.event_seq, "name": d.name, "model": d.model, "handler": d.handler,
            "state": d.state, "attempts": d.attempts, "created_at": d.created_at.isoformat(),
            "next_attempt_at": d.next_attempt_at.isoformat() if d.state == "pending" else None,
            "last_error": d.last_error}


def cmd_list(args: argparse.Namespace, app: App) -> Out:
    states: tuple[DeliveryState, ...] = ("pending", "dead", "done", "skipped") if args.all \
        else ("pending", "dead")
    with app.ctx.uow() as uow:
        found = uow.outbox.list(states=states, limit=args.limit)
        counts = uow.outbox.counts()
    data = {"deliveries": [_row(d) for d in found],
            "counts": [{"handler": h, "state": s, "n": n} for (h, s), n in sorted(counts.items())]}
    if not found:
        summary = ", ".join(f"{n} {s}" for (_, s), n in sorted(counts.items())) or "empty"
        return Out(data, f"nothing pending or dead ({summary})")
    rows = [[d.event_seq, d.name, d.model, d.handler, d.state, d.attempts,
             when(d.next_attempt_at) if d.state == "pending" else "-",
             (d.last_error or "-")[:60]] for d in found]
    return Out(data, table(["event", "name", "model", "handler", "state", "tries", "next try",
                            "last error"], rows))


def cmd_deliver(args: argparse.Namespace, app: App) -> Out:
    with consequences.for_this_process(app) as dispatcher:
        done = retrying = dead = 0
        while True:
            report = dispatcher.deliver()
            done, retrying, dead = (done + report.done, retrying + report.retrying,
                                    dead + report.dead)
            if report.handled == 0:
                break
    pending: tuple[DeliveryState, ...] = ("pending",)
    with app.ctx.uow() as uow:
        left = [d for d in uow.outbox.list(states=pending, limit=10_000)
                if d.handler not in dispatcher.handlers]
    data = {"delivered": done, "retrying": retrying, "dead": dead,
            "waiting_for_a_handler": len(left)}
    text = f"delivered {done}, {retrying} to retry later, {dead} dead"
    if left:
        text += (f"; {len(left)} wait for a handler this process does not have "
                 "(Slack: set SLACK_BOT_TOKEN, or let `playbook serve` deliver them)")
    return Out(data, text)


def cmd_retry(args: argparse.Namespace, app: App) -> Out:
    with app.ctx.uow() as uow:
        n = uow.outbox.retry(args.event, app.ctx.clock.now())
        uow.commit()
    what = f"event {args.event}" if args.event is not None else "every event"
    return Out({"requeued": n}, f"{n} dead deliveries of {what} are pending again")


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("outbox", help="events on their way to Slack, and failed deliveries")
    p.add_argument("--all", action="store_true", help="done and skipped ones too")
    p.add_argument("--limit", type=int, default=100, metavar="N")
    p.set_defaults(handler=cmd_list)
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    d = actions.add_parser("deliver", help="deliver what is due now (when no server runs)")
    d.set_defaults(handler=cmd_deliver)
    r = actions.add_parser("retry", help="make dead deliveries pending again")
    r.add_argument("event", nargs="?", type=int, help="one event's seq (default: all)")
    r.set_defaults(handler=cmd_retry)
