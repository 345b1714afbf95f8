"""CLI for plays 3 and 7: rollback, incidents, investigate."""

from __future__ import annotations

import argparse

from bot.bootstrap import App
from bot.shared.render import Out, block, diff_text, scores, table, when
from bot.shared.timeparse import parse_time
from core import queries, serialize
from core.commands import Investigate, Rollback
from core.plays import investigate, rollback


def cmd_rollback(args: argparse.Namespace, app: App) -> Out:
    now = app.ctx.clock.now()
    detected = parse_time(args.detected_at, "detected_at", now) if args.detected_at else None
    result = rollback(Rollback.parse(model=args.model, actor=app.settings.actor, to=args.to,
                                     symptom=args.symptom or "",
                                     expected_revision=args.expect_revision,
                                     detected_at=detected), app.ctx)
    i = result.incident
    data = serialize.incident(i) | {"run": result.run_id, "event": serialize.event(result.event)}
    text = block([
        ("rolled back", f"{result.bad.short} -> {result.restored.short}"),
        ("incident", i.id), ("symptom", i.symptom or "-"), ("by", i.opened_by),
        ("time to rollback", f"{i.time_to_rollback_s:.3f} s"),
        ("confirmation", f"{i.confirmation} {scores(i.confirm_scores)}".strip()),
    ])
    return Out(data, text)


def cmd_incidents(args: argparse.Namespace, app: App) -> Out:
    incidents = queries.incidents(app.ctx, args.model, limit=args.limit)
    rows = [[i.id, i.model, i.bad_version[:12], i.restored_version[:12], when(i.opened_at),
             f"{i.time_to_rollback_s:.3f}", i.confirmation, i.symptom[:30]] for i in incidents]
    return Out([serialize.incident(i) for i in incidents],
               table(["incident", "model", "bad", "restored", "opened", "ttr_s", "confirmed",
                      "symptom"], rows))


def cmd_investigate(args: argparse.Namespace, app: App) -> Out:
    onset = parse_time(args.since, "since", app.ctx.clock.now()) if args.since else None
    result = investigate(Investigate.parse(model=args.model, actor=app.settings.actor,
                                           onset=onset, window_hours=args.window_hours,
                                           suspect=args.suspect), app.ctx)
    data = {"model": result.model, "suspect": serialize.version(result.suspect),
            "previous": serialize.version(result.previous), "history": result.history,
            "diff": result.diff, "scores": result.scores, "regression": result.regression,
            "verdict": result.verdict, "run": result.run_id,
            "suspect_serving": result.suspect_serving,
            "serving": serialize.version(result.serving) if result.serving else None,
            "moved_on": serialize.event(result.moved_on) if result.moved_on else None}
    hist = table(["at", "from", "to", "play", "actor"],
                 [[when(e["at"]), (e["from"] or "-")[:12], e["to"][:12], e["play"], e["actor"]]
                  for e in result.history])
    text = "\n".join([
        f"production history around the onset:\n{hist}", "",
        f"suspect {result.suspect.short}, previous {result.previous.short}",
        diff_text(result.diff), "",
        f"eval ({result.scores['source']}): suspect {scores(result.scores['suspect'])}; "
        f"previous {scores(result.scores['previous'])}",
        f"verdict: {result.verdict}" + (
            f" (`playbook rollback {result.model}`)"
            if result.regression and result.suspect_serving else "")])
    return Out(data, text)
