"""Answers to `/registry ...`, `/audit` and `/experiment`: short tables in code blocks, the
long form (an audit bundle) left to a file."""

from __future__ import annotations

from typing import Any

from bot.shared.render import diff_text, scores, table, when
from bot.slack.blocks.common import Message, code, context, fields, message, section, user
from bot.slack.parse import REGISTRY_USAGE, USAGE
from core.domain import TagMoved, Version
from core.plays.audit import AuditBundle
from core.plays.experiment import ExperimentStarted
from core.plays.gc import GcReport
from core.queries import VersionView


def versions_list(model: str, versions: list[VersionView]) -> Message:
    rows = [[f.version.short, when(f.version.created_at), f.version.owner,
             scores(f.version.scores), ",".join(f.tags) or "-", f.version.reason[:30]]
            for f in versions]
    text = f"{model}: {len(versions)} newest version(s)"
    return message(text, [section(f"*{text}*"), section(code(table(
        ["version", "created", "owner", "scores", "tags", "reason"], rows)))])


def version_detail(v: Version, tags: list[str]) -> Message:
    parent = v.parent_id[:12] if v.parent_id else "(root)"
    components = v.components.to_json()
    changed = [k for k in ("weights", "prompt", "config", "index") if components.get(k)]
    return message(f"{v.short}: {scores(v.scores)}", [
        section(f"*{v.short}*  {', '.join(f'`{t}`' for t in tags) or ''}"),
        fields([("Owner", user(v.owner)), ("Parent", f"`{parent}`"),
                ("Scores", scores(v.scores)), ("Eval", v.eval_source),
                ("Kind", v.kind + (f" ({v.experiment})" if v.experiment else "")),
                ("Created", when(v.created_at)), ("Reason", v.reason or "-"),
                ("Components", ", ".join(changed))]),
        context(f"id `{v.id}`" + (" · artifacts collected" if v.artifacts_collected_at
                                  else "")),
    ])


def history_list(model: str, events: list[TagMoved]) -> Message:
    rows = [[e.seq, when(e.at), e.tag, (e.from_version or "")[:12] or "-", e.to_version[:12],
             e.play, e.actor, ",".join(e.approvers) or "-"] for e in events]
    text = f"{model}: {len(events)} newest tag event(s)"
    return message(text, [section(f"*{text}*"), section(code(table(
        ["seq", "at", "tag", "from", "to", "play", "actor", "approvers"], rows)))])


def diff_message(d: dict[str, Any]) -> Message:
    changed = ", ".join(d["changed_components"]) or "nothing"
    return message(f"diff {d['from']} -> {d['to']}: changed {changed}",
                   [section(code(diff_text(d)))])


def gc_message(report: GcReport, actor: str) -> Message:
    verb = "would free" if report.dry_run else "freed"
    names = ", ".join(f"`{v.short}`" for v in report.collected) or "nothing"
    kept = ", ".join(f"{n} {why}" for why, n in sorted(report.kept.items())) or "-"
    text = f"Garbage collection{' (dry run)' if report.dry_run else ''} by {user(actor)}: " \
           f"{verb} {report.bytes_freed} bytes"
    return message(text, [section(f":wastebasket: {text}"),
                          fields([("Collected", names), ("Kept", kept)]),
                          context("Metadata, scores and lineage are kept forever.")])


def audit_summary(found: AuditBundle) -> Message:
    data = found.to_json()
    v = data["version"]
    lineage = " ← ".join(f"`{x['version']}`" for x in data["lineage"][:6])
    if len(data["lineage"]) > 6:
        lineage += f" ← … ({len(data['lineage']) - 6} more)"
    approvals = [a for a in data["approvals"] if a["status"] == "approved"]
    text = f"Audit of request {found.request_id}: served by {v['short']}"
    return message(text, [
        section(f":mag: *{text}*"),
        fields([("Served at", when(data["attribution"]["served_at"])),
                ("Owner", user(v["owner"])), ("Scores", scores(v["scores"])),
                ("Reason", v["reason"] or "-"),
                ("Tag events", str(len(data["tag_events"]))),
                ("Approved by", ", ".join(user(x) for a in approvals
                                          for x in (y["approver"] for y in a["approvals"]))
                 or "-"),
                ("Incidents", ", ".join(f"`{i['id']}`" for i in data["incidents"]) or "none"),
                ("Lineage", lineage)]),
        context("The full bundle (components, lineage, eval, approvals, incidents) is the "
                "file in this thread."),
    ])


def experiment_started(found: ExperimentStarted, actor: str) -> Message:
    v = found.version
    state = "registered" if found.created else "already registered (same content)"
    text = f"Experiment {found.tag} -> {v.short} ({state}) by {user(actor)}"
    return message(text, [
        section(f":test_tube: *{text}*"),
        fields([("Scores", scores(v.scores)), ("Eval", v.eval_source),
                ("Parent", f"`{(v.parent_id or '')[:12]}`"),
                ("Expires", when(v.expires_at))]),
        context(f"Winners go to production with `/promote {v.model} {v.short}`."),
    ])


def help_message() -> Message:
    lines = [f"• `{line}`\n    e.g. `{example}`" for command, (line, example) in USAGE.items()
             if command != "/registry"]
    lines += [f"• `{line}`\n    e.g. `{example}`" for line, example in REGISTRY_USAGE.values()]
    return message("Playbook commands", [
        section("*Playbook commands* (a version is `model@<hex>`, at least 8 hex; a time is "
                "ISO 8601, `now` or `2h ago`)"),
        section("\n".join(lines)),
        context("`/rollback` runs only in the model's incident channel; high-stakes "
                "promotions post an approval card in its release channel."),
    ])
