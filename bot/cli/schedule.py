"""CLI for the scheduler: `jobs` (what runs when), `digest --now`, `rehearse MODEL`.

Posting needs only SLACK_BOT_TOKEN (and SLACK_API_URL for a stand-in); `digest --print` and a
rehearsal without a token work with no Slack at all.
"""

from __future__ import annotations

import argparse
import re
from datetime import UTC
from typing import Any

from bot import consequences
from bot.bootstrap import App
from bot.deploy import fingerprint_for
from bot.shared.jobs import job_triggers
from bot.shared.render import Out, block, table, when
from core import scheduled, serialize
from core.commands import Rehearse
from core.errors import ConfigError, PlaybookError
from core.events import DigestDue
from core.handlers import HANDLER_NAMES
from core.plays.rehearse import RehearsalResult, rehearse


def cmd_jobs(args: argparse.Namespace, app: App) -> Out:
    now = app.ctx.clock.now()
    rows, data = [], []
    with app.ctx.uow(read_only=True) as uow:
        last_done = {job.id: uow.claims.last_done(job.id)
                     for job in job_triggers(app.config.schedule) if job.daily}
    for job in job_triggers(app.config.schedule):
        nxt = job.trigger.get_next_fire_time(None, now)
        last = last_done.get(job.id)
        data.append({"job": job.id, "what": job.description,
                     "next": nxt.astimezone(UTC).isoformat() if nxt else None,
                     "last": last.scheduled_at.isoformat() if last else None,
                     "last_outcome": last.outcome if last else None,
                     "last_by": last.claimed_by if last else None})
        rows.append([job.id, when(nxt) if nxt else "-",
                     when(last.scheduled_at) if last else "-", job.description])
    return Out(data, table(["job", "next", "last done", "what"], rows))


SLACK_TOKENS = re.compile(r"<!date\^[^|>]*\|([^>]*)>|<[@#]([A-Z0-9]+)(?:\|([^>]*))?>")


def _untoken(m: re.Match[str]) -> str:
    if m[1] is not None:
        return m[1]
    return f"#{m[3]}" if m[3] else ("@" if m[0][1] == "@" else "#") + m[2]


def plain(msg: dict[str, Any]) -> str:
    """A Block Kit message as terminal text: headers, sections, fields and context lines, with
    Slack's dates, mentions and channel links in their readable form."""
    lines: list[str] = []
    for b in msg["blocks"]:
        if b["type"] in ("header", "section") and "text" in b:
            lines.append(str(b["text"]["text"]))
        for f in b.get("fields", []):
            lines.append(str(f["text"]).replace("\n", ": ", 1))
        if b["type"] == "context":
            lines += [str(e["text"]) for e in b["elements"]]
    return SLACK_TOKENS.sub(_untoken, "\n".join(lines))


def cmd_digest(args: argparse.Namespace, app: App) -> Out:
    channels = [args.channel] if args.channel else [d.channel for d in
                                                    app.config.schedule.digest]
    if not channels:
        raise ConfigError("no digest channel: playbook.toml has no [[schedule.digest]]",
                          hint="pass --channel '#name', or add a [[schedule.digest]] table")
    if args.print:
        texts, data = [], []
        for ch in channels:
            parts = consequences.digest_messages(app, ch)
            texts.append(f"# {ch}\n" + "\n\n".join(plain(part) for part in parts))
            data.append({"channel": ch, "text": parts[0]["text"], "blocks": parts[0]["blocks"],
                         "parts": [{"text": p["text"], "blocks": p["blocks"]} for p in parts]})
        return Out(data, "\n\n".join(texts))
    with app.ctx.uow(read_only=True) as uow:
        before = uow.outbox.last_seq()
    now = app.ctx.clock.now()
    for ch in channels:
        scheduled.digest_due(app.ctx.uow, app.ctx.clock, ch, now)
    if not app.settings.env.slack_bot_token:
        return Out({"posted": [], "due": channels}, "\n".join(
            f"digest for {ch} is due: a running `playbook serve` with Slack posts it" for ch
            in channels) + "\n(no SLACK_BOT_TOKEN here; with no server running, set it and "
            "run `playbook outbox deliver`)")
    with consequences.for_this_process(app) as dispatcher:
        while dispatcher.deliver().handled:
            pass
    with app.ctx.uow(read_only=True) as uow:
        failed = {d.event.channel: d.last_error for d in uow.outbox.list(limit=10_000)
                  if d.event_seq > before and isinstance(d.event, DigestDue)}
    if failed:
        raise PlaybookError("; ".join(f"the digest for {ch} was not posted: {error}"
                                      for ch, error in failed.items()),
                            hint="it is retried by `playbook serve`, or by `playbook outbox "
                                 "deliver`; `playbook outbox` shows it")
    return Out({"posted": channels, "due": []},
               "\n".join(f"digest posted to {ch}" for ch in channels))


def cmd_rehearse(args: argparse.Namespace, app: App) -> Out:
    """Its record, confirmation and verdict go where any rehearsal's go: posted now when
    SLACK_BOT_TOKEN is set, else by a running `playbook serve`; `--no-post` keeps it off
    Slack altogether."""
    policy = app.config.model(args.model)
    channel = policy.incident_channel or policy.release_channel
    with app.ctx.uow(read_only=True) as uow:
        before = uow.outbox.last_seq()
    result = rehearse(Rehearse.parse(model=args.model, actor=app.settings.actor,
                                     deploy_fingerprint=fingerprint_for(app, args.model)),
                      app.ctx)
    posted = False
    if args.no_post:  # this drill's posts only, whatever else was written meanwhile
        with app.ctx.uow() as uow:
            uow.outbox.skip(HANDLER_NAMES, app.ctx.clock.now(), after_seq=before,
                            subjects=[f"incident:{result.incident.id}"])
            uow.commit()
    elif channel and app.settings.env.slack_bot_token:
        with consequences.for_this_process(app) as dispatcher:
            while dispatcher.deliver().handled:
                pass
        posted = True
    return _rehearsal_out(result, channel if posted else None)


def _rehearsal_out(result: RehearsalResult, posted_to: str | None) -> Out:
    i = result.incident
    verdict = "OVER budget" if result.over_budget else "within budget"
    data: dict[str, Any] = serialize.incident(i) | {
        "run": result.run_id, "production": result.production.short,
        "target": result.target.short, "budget_s": result.budget_s,
        "over_budget": result.over_budget, "posted_to": posted_to}
    return Out(data, block([
        ("rehearsal", f"{result.production.short} -> {result.target.short} on the rehearsal "
                      "tag (production untouched)"),
        ("incident", i.id),
        ("time to rollback", f"{i.time_to_rollback_s:.3f} s ({verdict}: "
                             f"{result.budget_s:g} s)"),
        ("confirmation", i.confirmation or "-"),
        ("posted to", posted_to or "- (no SLACK_BOT_TOKEN, or --no-post)"),
    ]))
