"""CLI for plays 5 and 6 and the run log: audit, attribute, gc, runs."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from bot.bootstrap import App
from bot.shared.render import (
    Out,
    block,
    incident_roles,
    lineage_limit,
    lineage_line,
    scores,
    table,
    when,
)
from bot.shared.timeparse import parse_time
from core import queries, serialize
from core.commands import Audit, CollectGarbage, ProductionAt
from core.errors import InvalidInput
from core.plays import audit, collect_garbage, production_at
from core.plays.attribute import attribute

BATCH = 5_000


def cmd_audit(args: argparse.Namespace, app: App) -> Out:
    if args.at:
        if not args.model:
            raise InvalidInput("model", "--at needs --model MODEL")
        at = parse_time(args.at, "at", app.ctx.clock.now())
        then = production_at(ProductionAt.parse(model=args.model, at=at,
                                                actor=app.settings.actor), app.ctx)
        then_data = {"model": then.model, "at": then.at.isoformat(),
                "version": serialize.version(then.version) if then.version else None,
                "event": serialize.event(then.event) if then.event else None}
        text = (f"{then.model} production at {when(then.at)} UTC: "
                + (f"{then.version.short} (since {when(then.event.at if then.event else None)})"
                   if then.version else "nothing (no production yet)"))
        return Out(then_data, text)
    if not args.request_id:
        raise InvalidInput("request_id", "give a request id, or --model M --at TIME")
    found = audit(Audit.parse(request_id=args.request_id, actor=app.settings.actor,
                              lineage=lineage_limit(args.lineage)), app.ctx)
    data: dict[str, Any] = found.to_json()
    v = data["version"]
    events = table(["at", "tag", "from", "to", "play", "actor", "approvers"],
                   [[when(e["at"]), e["tag"], (e["from"] or "-")[:12], e["to"][:12], e["play"],
                     e["actor"], ",".join(e["approvers"]) or "-"] for e in data["tag_events"]])
    text = block([
        ("request", found.request_id), ("served at", when(data["attribution"]["served_at"])),
        ("version", f"{v['short']} (owner {v['owner']})"), ("reason", v["reason"]),
        ("components", v["components"]), ("scores", scores(v["scores"])),
        ("lineage", lineage_line(data)),
        ("incidents", incident_roles(data["incidents"], v["id"]))]) \
        + f"\ntag events:\n{events}"
    return Out(data, text)


def _records(stream: TextIO) -> Iterator[dict[str, Any]]:
    for n, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:
            raise InvalidInput(f"line {n}", f"not JSON: {exc}") from exc
        if not isinstance(value, dict):
            raise InvalidInput(f"line {n}", "each line must be a JSON object")
        yield value


def read_records(file: str | None) -> list[dict[str, Any]]:
    """Every record of a JSON lines file (or stdin), read before anything is sent or stored."""
    if file in (None, "-"):
        return list(_records(sys.stdin))
    path = Path(file)
    if not path.is_file():
        raise InvalidInput("file", f"{file} is not a readable file")
    with path.open(encoding="utf-8") as fh:
        return list(_records(fh))


def cmd_attribute(args: argparse.Namespace, app: App) -> Out:
    """Reads the whole input first: one bad line stores nothing."""
    records = read_records(args.file)
    result = attribute(records, app.ctx)
    data = {"received": result.received, "stored": result.stored,
            "duplicates": result.duplicates}
    return Out(data, f"stored {result.stored} attribution(s), {result.duplicates} already known")


def cmd_gc(args: argparse.Namespace, app: App) -> Out:
    report = collect_garbage(CollectGarbage.parse(actor=app.settings.actor, model=args.model,
                                                  dry_run=args.dry_run), app.ctx)
    data = {"dry_run": report.dry_run, "bytes": report.bytes_freed, "kept": report.kept,
            "collected": [{"version": v.short, "bytes": v.artifact_bytes}
                          for v in report.collected], "run": report.run_id}
    verb = "would free" if report.dry_run else "freed"
    rows = [[v.short, v.kind, when(v.created_at), v.artifact_bytes] for v in report.collected]
    kept = ", ".join(f"{n} {why}" for why, n in sorted(report.kept.items())) or "none"
    text = f"{table(['version', 'kind', 'created', 'bytes'], rows)}\n" \
           f"{verb} {report.bytes_freed} bytes from {len(report.collected)} version(s); " \
           f"kept: {kept}; metadata, scores, lineage and events are kept"
    return Out(data, text)


def cmd_runs(args: argparse.Namespace, app: App) -> Out:
    if args.run_id:
        run = queries.run(app.ctx, args.run_id)
        data = serialize.run(run)
        steps = table(["step", "status", "error"],
                      [[s.name, s.status, s.error or ""] for s in run.steps])
        return Out(data, block([("run", run.id), ("play", run.play), ("actor", run.actor),
                                ("status", run.status), ("error", run.error),
                                ("started", when(run.started_at)),
                                ("result", run.result)]) + "\n" + steps)
    runs = queries.runs(app.ctx, play=args.play, limit=args.limit)
    rows = [[r.id, r.play, r.actor, r.status, when(r.started_at), (r.error or "")[:50]]
            for r in runs]
    return Out([serialize.run(r) for r in runs],
               table(["run", "play", "actor", "status", "started", "error"], rows))
