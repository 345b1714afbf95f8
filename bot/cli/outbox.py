"""`playbook outbox`: the consequences of plays on their way (Slack cards, records), and what
could not be delivered.

A running `playbook serve` delivers events by itself, those of CLI commands included.
`outbox deliver` is for when none runs: it delivers what is due with what this process has
(Slack needs SLACK_BOT_TOKEN), and leaves the rest for a server. A deployment that never runs
Slack closes what waits for it with `outbox skip notify`.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from bot import consequences
from bot.bootstrap import App
from bot.shared.render import Out, table, when
from core.errors import InvalidInput
from core.events import to_json
from core.handlers import HANDLER_NAMES
from core.outbox import Delivery, DeliveryState


def _row(d: Delivery) -> dict[str, Any]:
    return {"event": d.event_seq, "name": d.name, "model": d.model, "handler": d.handler,
            "state": d.state, "attempts": d.attempts, "created_at": d.created_at.isoformat(),
            "next_attempt_at": d.next_attempt_at.isoformat() if d.state == "pending" else None,
            "last_error": d.last_error}


def cmd_list(args: argparse.Namespace, app: App) -> Out:
    states: tuple[DeliveryState, ...] = ("pending", "dead", "done", "skipped") if args.all \
        else ("pending", "dead")
    with app.ctx.uow(read_only=True) as uow:
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
    with app.ctx.uow(read_only=True) as uow:
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


def cmd_events(args: argparse.Namespace, app: App) -> Out:
    """What the plays said happened (overrides of a worse canary, approvals, moves, ...),
    delivered or not, newest last."""
    with app.ctx.uow(read_only=True) as uow:
        found = uow.outbox.events(model=args.model, name=args.name, limit=100_000)
    found = found[-args.limit:]
    data = [{"seq": seq, "name": type(e).__name__, **to_json(e)} for seq, e in found]
    if not found:
        return Out(data, "no events")
    rows = [[seq, type(e).__name__, e.model or "-", when(e.at),
             json.dumps({k: v for k, v in to_json(e).items() if k not in ("model", "at")})[:70]]
            for seq, e in found]
    return Out(data, table(["seq", "event", "model", "at", "details"], rows))


def cmd_skip(args: argparse.Namespace, app: App) -> Out:
    known = HANDLER_NAMES | {h.handler for h in app.config.webhooks} | {"mirror"}
    if args.target not in known and not args.target.startswith("webhook:"):
        raise InvalidInput("handler", f"{args.target!r} is not a handler",
                           hint=f"handlers: {', '.join(sorted(known))} (a webhook removed "
                                "from playbook.toml: webhook:NAME)")
    with app.ctx.uow() as uow:
        n = uow.outbox.skip([args.target], app.ctx.clock.now())
        uow.commit()
    return Out({"skipped": n}, f"{n} pending deliveries to {args.target} closed as skipped "
                               "(`playbook outbox --all` still lists them)")
